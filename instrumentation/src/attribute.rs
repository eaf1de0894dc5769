//! Span attribute keys that are not in the OpenTelemetry semantic
//! conventions: ours, named here once. Every semantic-convention key comes
//! from `opentelemetry_semantic_conventions::attribute`, never a literal.

/// On the invocation span: the keys of the incoming X-Ray header besides
/// Root, Parent and Sampled (`Lineage=…`), so that outgoing headers and the
/// collector keep them.
pub const XRAY_EXTRA: &str = crate::logs::XRAY_EXTRA_FIELD;

/// On a link of a message span: why the span is linked
/// ([`LINK_MESSAGE_SENDER`]).
pub const LINK: &str = "tracelake.link";

/// The value of [`LINK`] on the link to a message's sender.
pub const LINK_MESSAGE_SENDER: &str = "message sender";

/// On an EventBridge invocation: the event's `source` (the semantic
/// conventions have no EventBridge attribute).
pub const EVENTBRIDGE_SOURCE: &str = "aws.eventbridge.source";

/// On a span whose line would have been too long: set to `true` when its
/// attributes or events were cut (defined with the span-line format).
pub const TRUNCATED: &str = crate::wire::span_line::TRUNCATED_ATTRIBUTE;
