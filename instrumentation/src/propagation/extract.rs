//! Reading trace context from trigger events.

use crate::invocation::{InvocationKind, Trigger};
use crate::propagation::TraceContext;

/// What an event says about its invocation: trigger, span kind and name, the
/// caller's context, links, and attributes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Extracted {
    /// `faas.trigger`.
    pub trigger: Trigger,
    /// SERVER or CONSUMER.
    pub kind: InvocationKind,
    /// The span name, when the event gives one (`GET /orders/{id}`, `process orders`).
    pub span_name: Option<String>,
    /// The caller's context.
    pub parent: Option<TraceContext>,
    /// One link per message of a batch that carried a context.
    pub links: Vec<TraceContext>,
    /// Span attributes from the event.
    pub attributes: Vec<(String, String)>,
}

impl Extracted {
    /// Nothing known: an `other` trigger with a SERVER span.
    pub fn none() -> Extracted {
        Extracted {
            trigger: Trigger::Other,
            kind: InvocationKind::Server,
            span_name: None,
            parent: None,
            links: Vec::new(),
            attributes: Vec::new(),
        }
    }
}
