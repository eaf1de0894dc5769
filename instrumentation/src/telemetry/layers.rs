//! The pieces of the telemetry's layers: the log filter (a level or `RUST_LOG`
//! directives) and, under a manual clock, the timing layer.

use tracing::level_filters::LevelFilter;
use tracing_subscriber::filter::EnvFilter;
use tracing_subscriber::layer::{Filter, Layer};
use tracing_subscriber::registry::{LookupSpan, Registry};

use super::error::TelemetryError;
use crate::clock::Clock;
use crate::export::set_ending_span_times;

/// The filter of the log layer: a plain level, or `RUST_LOG` directives.
///
/// It filters events only: every span the OpenTelemetry layer records must
/// also reach the log layer, which reads its ids and request id from it.
pub(crate) enum LogFilter {
    Level(LevelFilter),
    Directives(Box<EnvFilter>),
}

impl<S> Filter<S> for LogFilter
where
    S: tracing::Subscriber + for<'a> LookupSpan<'a>,
{
    fn enabled(
        &self,
        meta: &tracing::Metadata<'_>,
        cx: &tracing_subscriber::layer::Context<'_, S>,
    ) -> bool {
        if meta.is_span() {
            return true;
        }
        match self {
            LogFilter::Level(level) => <LevelFilter as Filter<S>>::enabled(level, meta, cx),
            LogFilter::Directives(filter) => <EnvFilter as Filter<S>>::enabled(filter, meta, cx),
        }
    }

    fn callsite_enabled(
        &self,
        meta: &'static tracing::Metadata<'static>,
    ) -> tracing::subscriber::Interest {
        if meta.is_span() {
            return tracing::subscriber::Interest::always();
        }
        match self {
            LogFilter::Level(level) => <LevelFilter as Filter<S>>::callsite_enabled(level, meta),
            LogFilter::Directives(filter) => {
                <EnvFilter as Filter<S>>::callsite_enabled(filter, meta)
            }
        }
    }

    fn max_level_hint(&self) -> Option<LevelFilter> {
        // Spans pass at every level; the OpenTelemetry layer's hint bounds them.
        None
    }

    fn on_new_span(
        &self,
        attrs: &tracing::span::Attributes<'_>,
        id: &tracing::span::Id,
        ctx: tracing_subscriber::layer::Context<'_, S>,
    ) {
        if let LogFilter::Directives(filter) = self {
            <EnvFilter as Filter<S>>::on_new_span(filter, attrs, id, ctx);
        }
    }

    fn on_record(
        &self,
        id: &tracing::span::Id,
        values: &tracing::span::Record<'_>,
        ctx: tracing_subscriber::layer::Context<'_, S>,
    ) {
        if let LogFilter::Directives(filter) = self {
            <EnvFilter as Filter<S>>::on_record(filter, id, values, ctx);
        }
    }

    fn on_enter(&self, id: &tracing::span::Id, ctx: tracing_subscriber::layer::Context<'_, S>) {
        if let LogFilter::Directives(filter) = self {
            <EnvFilter as Filter<S>>::on_enter(filter, id, ctx);
        }
    }

    fn on_exit(&self, id: &tracing::span::Id, ctx: tracing_subscriber::layer::Context<'_, S>) {
        if let LogFilter::Directives(filter) = self {
            <EnvFilter as Filter<S>>::on_exit(filter, id, ctx);
        }
    }

    fn on_close(&self, id: tracing::span::Id, ctx: tracing_subscriber::layer::Context<'_, S>) {
        if let LogFilter::Directives(filter) = self {
            <EnvFilter as Filter<S>>::on_close(filter, id, ctx);
        }
    }
}

/// The log filter, and the most verbose level at which spans are exported
/// (INFO, or more verbose when the log level is).
pub(crate) fn log_filter(level: &str) -> Result<(LogFilter, LevelFilter), TelemetryError> {
    let text = level.trim();
    let simple = match text.to_ascii_lowercase().as_str() {
        "fatal" | "critical" => Some(LevelFilter::ERROR),
        "warning" => Some(LevelFilter::WARN),
        "" => Some(LevelFilter::INFO),
        other => other.parse::<LevelFilter>().ok(),
    };
    if let Some(level) = simple {
        let span_level = level.max(LevelFilter::INFO);
        return Ok((LogFilter::Level(level), span_level));
    }
    let filter =
        EnvFilter::builder()
            .parse(text)
            .map_err(|error| TelemetryError::InvalidLevel {
                level: text.to_owned(),
                reason: error.to_string(),
            })?;
    let span_level = <EnvFilter as Filter<Registry>>::max_level_hint(&filter)
        .unwrap_or(LevelFilter::INFO)
        .max(LevelFilter::INFO);
    Ok((LogFilter::Directives(Box::new(filter)), span_level))
}

/// Under a manual clock, records each span's start and end on that clock, and
/// hands them to the exporter as the span ends.
pub(crate) struct TimingLayer {
    pub(crate) clock: Clock,
}

struct ManualTimes {
    start: u64,
}

impl<S> Layer<S> for TimingLayer
where
    S: tracing::Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_new_span(
        &self,
        _attrs: &tracing::span::Attributes<'_>,
        id: &tracing::span::Id,
        ctx: tracing_subscriber::layer::Context<'_, S>,
    ) {
        if let Some(span) = ctx.span(id) {
            span.extensions_mut().insert(ManualTimes {
                start: self.clock.now_unix_nanos(),
            });
        }
    }

    fn on_close(&self, id: tracing::span::Id, ctx: tracing_subscriber::layer::Context<'_, S>) {
        if let Some(span) = ctx.span(&id)
            && let Some(times) = span.extensions().get::<ManualTimes>()
        {
            set_ending_span_times(times.start, self.clock.now_unix_nanos());
        }
    }
}
