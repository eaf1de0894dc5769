//! Kinesis batches: the context in a record's data, when it is a JSON object.

use aws_lambda_events::event::kinesis::{KinesisEvent, KinesisEventRecord};
use opentelemetry_semantic_conventions::attribute as semconv;
use serde_json::Value;

use super::extracted::{ExtractContext, Extracted, arn_resource, json_context};
use crate::propagation::TraceContext;
use crate::trigger::{EventSource, messaging_system};

/// The context in a Kinesis record's data, when the data is a JSON object
/// carrying a `traceparent`.
pub fn kinesis_record_context(record: &KinesisEventRecord) -> Option<TraceContext> {
    let data: &[u8] = &record.kinesis.data.0;
    if !data.trim_ascii_start().starts_with(b"{") {
        return None;
    }
    let object: Value = serde_json::from_slice(data).ok()?;
    json_context(&object)
}

impl ExtractContext for KinesisEvent {
    fn extract_context(&self) -> Extracted {
        let stream = self
            .records
            .first()
            .and_then(|record| record.event_source_arn.as_deref())
            .map(|arn| arn_resource(arn).trim_start_matches("stream/").to_owned());
        let contexts = self.records.iter().map(kinesis_record_context).collect();
        let mut extracted = Extracted::batch(
            EventSource::Kinesis.trigger(),
            Some(format!(
                "process {}",
                stream.as_deref().unwrap_or("kinesis")
            )),
            self.records.len(),
            contexts,
        )
        .with_attribute(semconv::MESSAGING_SYSTEM, messaging_system::AWS_KINESIS)
        .with_attribute(semconv::MESSAGING_OPERATION_NAME, "process");
        if let Some(stream) = stream {
            extracted = extracted.with_attribute(semconv::MESSAGING_DESTINATION_NAME, stream);
        }
        extracted
    }
}
