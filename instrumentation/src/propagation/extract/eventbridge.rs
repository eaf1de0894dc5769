//! EventBridge events: the context in `detail`; schedules are timers.

use aws_lambda_events::event::eventbridge::EventBridgeEvent;
use opentelemetry_semantic_conventions::attribute as semconv;
use serde_json::Value;

use super::extracted::{ExtractContext, Extracted, json_context};
use crate::invocation::Trigger;

impl ExtractContext for EventBridgeEvent<Value> {
    fn extract_context(&self) -> Extracted {
        // A schedule is a timer, not a message.
        if self.source == "aws.events" && self.detail_type == "Scheduled Event"
            || self.source == "aws.scheduler"
        {
            let mut extracted = Extracted::none();
            extracted.trigger = Trigger::Timer;
            return extracted;
        }
        let mut extracted = Extracted::batch(
            Trigger::PubSub,
            Some(format!("process {}", self.detail_type)),
            1,
            vec![json_context(&self.detail)],
        )
        .with_attribute(semconv::MESSAGING_SYSTEM, "aws_eventbridge")
        .with_attribute(semconv::MESSAGING_OPERATION_NAME, "process")
        .with_attribute(
            semconv::MESSAGING_DESTINATION_NAME,
            self.detail_type.clone(),
        );
        extracted.links.clear();
        extracted = extracted.with_attribute("aws.eventbridge.source", self.source.clone());
        extracted
    }
}
