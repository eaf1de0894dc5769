//! The events a run writes: one CloudWatch log event before delivery
//! ([`RawEvent`]), what it can be linked by ([`Carries`]), and the spans the
//! instrumented services wrote ([`TruthSpan`]).
//!
//! Rendering produces these; delivery batches them and the truth classifies
//! them. This module depends on nothing else in the crate, so every stage can
//! use it without importing another stage.

/// What kind of line an event is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum EventKind {
    /// `INIT_START` or `platform.initStart`: the environment's init, in no trace.
    PlatformInit,
    /// `START` or `platform.start`.
    PlatformStart,
    /// `END` or `platform.runtimeDone`.
    PlatformEnd,
    /// `REPORT` or `platform.report`.
    PlatformReport,
    /// `Task timed out after …` or the runtime exit line.
    PlatformFailure,
    /// An application log line written during an invocation.
    AppLog,
    /// An application line written during init, outside any invocation.
    InitLog,
    /// A span line (OTLP JSON) from tracelake-instrumentation.
    SpanLine,
}

impl EventKind {
    /// A stable lowercase name, used in `truth/linkability.csv`.
    pub fn label(self) -> &'static str {
        match self {
            EventKind::PlatformInit => "platform_init",
            EventKind::PlatformStart => "platform_start",
            EventKind::PlatformEnd => "platform_end",
            EventKind::PlatformReport => "platform_report",
            EventKind::PlatformFailure => "platform_failure",
            EventKind::AppLog => "app_log",
            EventKind::InitLog => "init_log",
            EventKind::SpanLine => "span_line",
        }
    }
}

/// What an event carries that a reader can link it by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Carries {
    /// The line names its own trace (`trace_id`, Powertools `xray_trace_id`).
    pub own_trace: bool,
    /// The line names its invocation's request id.
    pub request_id: bool,
    /// The line ties the invocation's request id to its trace (our invocation
    /// span, `REPORT … XRAY TraceId`, the `tracing` of a JSON platform record).
    pub trace_evidence: bool,
}

/// One CloudWatch log event before delivery.
#[derive(Debug, Clone, PartialEq)]
pub struct RawEvent {
    /// When the line was written (CloudWatch keeps milliseconds).
    pub timestamp_ns: u64,
    /// Order of writing, to break timestamp ties.
    pub seq: u64,
    /// Index of the log stream.
    pub stream: usize,
    /// The invocation that wrote it; `None` for init lines.
    pub invocation: Option<usize>,
    /// What kind of line it is.
    pub kind: EventKind,
    /// What it can be linked by.
    pub carries: Carries,
    /// The event text as CloudWatch delivers it.
    pub message: String,
}

/// A span written by an instrumented service: one row of `truth/spans.csv`.
#[derive(Debug, Clone, PartialEq)]
pub struct TruthSpan {
    /// 128-bit trace id.
    pub trace_id: u128,
    /// 64-bit span id.
    pub span_id: u64,
    /// Parent span id; `None` at a root. A parent may be the X-Ray segment of an
    /// uninstrumented caller, which writes no span line.
    pub parent_span_id: Option<u64>,
    /// The service that wrote it.
    pub service: String,
    /// Span name.
    pub name: String,
    /// Whether its status is error.
    pub error: bool,
}

/// Writes events into the run's event list, numbering them.
pub struct EventSink {
    events: Vec<RawEvent>,
    next_seq: u64,
}

impl EventSink {
    /// An empty sink.
    pub fn new() -> EventSink {
        EventSink {
            events: Vec::new(),
            next_seq: 0,
        }
    }

    /// Adds one event.
    pub fn push(
        &mut self,
        timestamp_ns: u64,
        stream: usize,
        invocation: Option<usize>,
        kind: EventKind,
        carries: Carries,
        message: String,
    ) {
        self.events.push(RawEvent {
            timestamp_ns,
            seq: self.next_seq,
            stream,
            invocation,
            kind,
            carries,
            message,
        });
        self.next_seq += 1;
    }

    /// Reserves room for `additional` more events.
    pub fn reserve(&mut self, additional: usize) {
        self.events.reserve(additional);
    }

    /// The events pushed so far, in writing order.
    pub fn into_events(self) -> Vec<RawEvent> {
        self.events
    }
}

impl Default for EventSink {
    fn default() -> Self {
        EventSink::new()
    }
}
