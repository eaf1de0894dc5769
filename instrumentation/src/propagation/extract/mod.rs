//! Reading trace context from trigger events.
//!
//! Every event type of `aws_lambda_events` that can start an invocation
//! implements [`ExtractContext`]; so does `serde_json::Value`, which detects the
//! event's type by its shape. The result, [`Extracted`], feeds
//! [`Invocation::with_extracted`](crate::Invocation::with_extracted).
//!
//! | trigger | where the context is read |
//! |---|---|
//! | API Gateway REST and HTTP, ALB, Function URL | `traceparent`/`tracestate` headers, then `X-Amzn-Trace-Id` |
//! | SQS | the `traceparent` message attribute, then the `AWSTraceHeader` system attribute, per message |
//! | SNS | the `traceparent` message attribute, then `X-Amzn-Trace-Id`, per record |
//! | EventBridge | `detail.traceparent` |
//! | Kinesis | `traceparent` in a record's data, when the data is a JSON object |
//! | DynamoDB Streams | a `traceparent` string attribute of the new (else old) image |
//! | Step Functions, direct invoke | `traceparent` at the top of the input; `ClientContext.custom` |
//!
//! A batch (SQS, SNS, Kinesis, DynamoDB) gets one CONSUMER span with a link per
//! message that carried a context. When every message names the same caller
//! (a batch of one, most often), that caller is also the parent.

mod detect;
mod dynamodb;
mod eventbridge;
mod extracted;
mod http_request;
mod invoke;
mod kinesis;
mod sns;
mod sqs;

pub use dynamodb::dynamodb_record_context;
pub use extracted::{ExtractContext, Extracted, json_context};
pub use http_request::context_from_headers;
#[cfg(feature = "lambda-http")]
pub(crate) use http_request::http_extracted;
pub use invoke::{client_context_context, invoke_input_context};
pub use kinesis::kinesis_record_context;
pub use sns::sns_message_context;
pub use sqs::sqs_message_context;
