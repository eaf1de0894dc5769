//! DynamoDB Streams batches: the context in a `traceparent` attribute of the item images.

use aws_lambda_events::event::dynamodb;
use opentelemetry_semantic_conventions::attribute as semconv;

use super::extracted::{ExtractContext, Extracted};
use crate::propagation::{TRACEPARENT, TRACESTATE, TraceContext, context_from};
use crate::trigger::EventSource;

/// The context in a DynamoDB stream record: a `traceparent` string attribute
/// (with `tracestate`) of the new image, else of the old image.
pub fn dynamodb_record_context(record: &dynamodb::EventRecord) -> Option<TraceContext> {
    let from_image = |image: &serde_dynamo::Item| -> Option<TraceContext> {
        let string = |name: &str| match image.inner().get(name) {
            Some(serde_dynamo::AttributeValue::S(text)) => Some(text.as_str()),
            _ => None,
        };
        context_from(string(TRACEPARENT), string(TRACESTATE), None)
    };
    from_image(&record.change.new_image).or_else(|| from_image(&record.change.old_image))
}

impl ExtractContext for dynamodb::Event {
    fn extract_context(&self) -> Extracted {
        // arn:aws:dynamodb:region:account:table/Name/stream/2015-06-27T00:48:05.899
        let table = self
            .records
            .first()
            .and_then(|record| record.event_source_arn.as_deref())
            .and_then(|arn| arn.splitn(6, ':').nth(5))
            .and_then(|resource| resource.split('/').nth(1))
            .map(str::to_owned);
        let contexts = self.records.iter().map(dynamodb_record_context).collect();
        let mut extracted = Extracted::batch(
            EventSource::DynamoDbStreams.trigger(),
            Some(format!(
                "process {}",
                table.as_deref().unwrap_or("dynamodb")
            )),
            self.records.len(),
            contexts,
        )
        .with_attribute(
            semconv::FAAS_DOCUMENT_COLLECTION,
            table.clone().unwrap_or_default(),
        );
        if table.is_none() {
            extracted.attributes.pop();
        }
        extracted
    }
}
