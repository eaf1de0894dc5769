//! One Lambda invocation, as the invocation span sees it.

use crate::propagation::TraceContext;
use crate::trigger::{InvocationKind, Trigger};

/// The value of a span attribute set from the event: typed as the semantic
/// conventions type it (`messaging.batch.message_count` is an int).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttributeValue {
    /// A string.
    Text(String),
    /// An integer.
    Int(i64),
    /// A boolean.
    Bool(bool),
}

impl From<String> for AttributeValue {
    fn from(text: String) -> AttributeValue {
        AttributeValue::Text(text)
    }
}

impl From<&str> for AttributeValue {
    fn from(text: &str) -> AttributeValue {
        AttributeValue::Text(text.to_owned())
    }
}

impl From<&String> for AttributeValue {
    fn from(text: &String) -> AttributeValue {
        AttributeValue::Text(text.clone())
    }
}

impl From<i64> for AttributeValue {
    fn from(number: i64) -> AttributeValue {
        AttributeValue::Int(number)
    }
}

impl From<bool> for AttributeValue {
    fn from(flag: bool) -> AttributeValue {
        AttributeValue::Bool(flag)
    }
}

impl From<AttributeValue> for opentelemetry::Value {
    fn from(value: AttributeValue) -> opentelemetry::Value {
        match value {
            AttributeValue::Text(text) => text.into(),
            AttributeValue::Int(number) => number.into(),
            AttributeValue::Bool(flag) => flag.into(),
        }
    }
}

/// What the invocation span is built from: the Lambda context of the request
/// and what was extracted from its event.
///
/// ```
/// use tracelake_instrumentation::{Invocation, Trigger};
///
/// let invocation = Invocation::new("8476a536-e9f4-11e8-9739-2dfe598c3fcd")
///     .with_xray_header("Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1")
///     .with_trigger(Trigger::Http)
///     .with_span_name("GET /orders/{id}");
/// assert_eq!(invocation.trigger, Trigger::Http);
/// ```
#[derive(Debug, Clone, Default)]
pub struct Invocation {
    /// The Lambda request id (`faas.invocation_id`).
    pub request_id: String,
    /// The invocation's X-Ray header (`Context.xray_trace_id`, the
    /// `Lambda-Runtime-Trace-Id` of the Runtime API).
    pub xray_header: Option<String>,
    /// The ARN the function was invoked by (`aws.lambda.invoked_arn`).
    pub invoked_arn: Option<String>,
    /// `faas.trigger`.
    pub trigger: Trigger,
    /// The span kind; by default from the trigger.
    pub kind: Option<InvocationKind>,
    /// The span name; by default the function name, else the service name.
    pub span_name: Option<String>,
    /// The caller's context found in the event, which becomes the parent.
    pub parent: Option<TraceContext>,
    /// Contexts the invocation is linked to (one per message of a batch).
    pub links: Vec<TraceContext>,
    /// More span attributes (`http.request.method`, `messaging.system`, …).
    pub attributes: Vec<(String, AttributeValue)>,
    /// Forces `faas.coldstart`; by default the first on-demand invocation of the
    /// telemetry is the cold start.
    pub cold_start: Option<bool>,
}

impl Invocation {
    /// An invocation with this request id and nothing else known.
    pub fn new(request_id: impl Into<String>) -> Invocation {
        Invocation {
            request_id: request_id.into(),
            ..Invocation::default()
        }
    }

    /// Sets the invocation's X-Ray header.
    pub fn with_xray_header(mut self, header: impl Into<String>) -> Self {
        self.xray_header = Some(header.into());
        self
    }

    /// Sets the invoked ARN.
    pub fn with_invoked_arn(mut self, arn: impl Into<String>) -> Self {
        self.invoked_arn = Some(arn.into());
        self
    }

    /// Sets the trigger.
    pub fn with_trigger(mut self, trigger: Trigger) -> Self {
        self.trigger = trigger;
        self
    }

    /// Sets the span name.
    pub fn with_span_name(mut self, name: impl Into<String>) -> Self {
        self.span_name = Some(name.into());
        self
    }

    /// Sets the parent context.
    pub fn with_parent(mut self, parent: TraceContext) -> Self {
        self.parent = Some(parent);
        self
    }

    /// Adds a link.
    pub fn with_link(mut self, link: TraceContext) -> Self {
        self.links.push(link);
        self
    }

    /// Adds a span attribute.
    pub fn with_attribute(
        mut self,
        key: impl Into<String>,
        value: impl Into<AttributeValue>,
    ) -> Self {
        self.attributes.push((key.into(), value.into()));
        self
    }

    /// Forces `faas.coldstart`.
    pub fn with_cold_start(mut self, cold_start: bool) -> Self {
        self.cold_start = Some(cold_start);
        self
    }

    /// The account id in the invoked ARN (`arn:aws:lambda:region:ACCOUNT:function:name`).
    pub fn account_id_from_arn(&self) -> Option<&str> {
        let arn = self.invoked_arn.as_deref()?;
        let account = arn.split(':').nth(4)?;
        (account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit())).then_some(account)
    }

    /// The invocation's own X-Ray context, when its header is readable.
    pub fn xray_context(&self) -> Option<TraceContext> {
        self.xray_header
            .as_deref()
            .and_then(TraceContext::from_xray)
    }

    /// Decides the parent and links of the invocation span.
    ///
    /// - A context found in the event is the parent. The Lambda's X-Ray context,
    ///   when it names another caller, becomes a link (OpenTelemetry's guidance
    ///   for Lambda).
    /// - With no context in the event, the X-Ray context is the parent, so the
    ///   invocation joins the trace that the platform's REPORT line names.
    /// - With neither, the invocation starts a new trace.
    pub fn resolve_parent(&self) -> (Option<TraceContext>, Vec<TraceContext>) {
        let xray = self.xray_context();
        let mut links = self.links.clone();
        let parent = match (self.parent.clone(), xray) {
            (Some(parent), Some(xray)) => {
                if !parent.same_caller(&xray) && xray.span_id.is_some() {
                    links.push(xray);
                }
                Some(parent)
            }
            (Some(parent), None) => Some(parent),
            (None, xray) => xray,
        };
        (parent, links)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const XRAY: &str = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1";

    #[test]
    fn an_event_parent_wins_and_xray_becomes_a_link() {
        let parent = TraceContext::from_traceparent(
            "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
            None,
        )
        .unwrap();
        let invocation = Invocation::new("r")
            .with_xray_header(XRAY)
            .with_parent(parent.clone());
        let (resolved, links) = invocation.resolve_parent();
        assert_eq!(resolved, Some(parent));
        assert_eq!(links.len(), 1);
        assert_eq!(
            links[0].trace_id.to_string(),
            "5759e988bd862e3fe1be46a994272793"
        );

        let (resolved, links) = Invocation::new("r").with_xray_header(XRAY).resolve_parent();
        assert_eq!(
            resolved.unwrap().trace_id.to_string(),
            "5759e988bd862e3fe1be46a994272793"
        );
        assert!(links.is_empty());

        let (resolved, links) = Invocation::new("r")
            .with_xray_header("garbage")
            .resolve_parent();
        assert!(resolved.is_none() && links.is_empty());
    }

    #[test]
    fn the_account_comes_from_the_arn() {
        let invocation = Invocation::new("r")
            .with_invoked_arn("arn:aws:lambda:eu-west-1:123456789012:function:orders:prod");
        assert_eq!(invocation.account_id_from_arn(), Some("123456789012"));
        assert_eq!(
            Invocation::new("r")
                .with_invoked_arn("nonsense")
                .account_id_from_arn(),
            None
        );
    }
}
