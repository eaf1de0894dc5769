//! EventBridge events: the context in `detail`; schedules are timers.

use aws_lambda_events::event::eventbridge::EventBridgeEvent;
use opentelemetry_semantic_conventions::attribute as semconv;
use serde_json::Value;

use super::extracted::{ExtractContext, Extracted, json_context};
use crate::attribute;
use crate::trigger::{EventSource, messaging_system};

impl ExtractContext for EventBridgeEvent<Value> {
    fn extract_context(&self) -> Extracted {
        let source = EventSource::of_eventbridge(&self.source, &self.detail_type);
        if source == EventSource::Schedule {
            let mut extracted = Extracted::none();
            extracted.trigger = source.trigger();
            return extracted;
        }
        let mut extracted = Extracted::batch(
            source.trigger(),
            Some(format!("process {}", self.detail_type)),
            1,
            vec![json_context(&self.detail)],
        )
        .with_attribute(semconv::MESSAGING_SYSTEM, messaging_system::AWS_EVENTBRIDGE)
        .with_attribute(semconv::MESSAGING_OPERATION_NAME, "process")
        .with_attribute(
            semconv::MESSAGING_DESTINATION_NAME,
            self.detail_type.clone(),
        );
        extracted.links.clear();
        extracted = extracted.with_attribute(attribute::EVENTBRIDGE_SOURCE, self.source.clone());
        extracted
    }
}
