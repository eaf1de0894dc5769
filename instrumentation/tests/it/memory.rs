//! Flat memory over thousands of invocations through the real runtime path.

use super::functions::MEMORY_SAMPLE_EVERY;
use super::runtime_api::{Scripted, ScriptedRuntimeApi, run_child};
use super::support::{attributes, read};

const INVOCATIONS: usize = 3_000;

fn script() -> Vec<Scripted> {
    (0..INVOCATIONS)
        .map(|index| {
            Scripted::new(
                format!("9f1c0a4e-0000-4000-8000-{index:012}"),
                format!(r#"{{"order":{index}}}"#),
            )
            .with_xray(&format!(
                "Root=1-6745aaaa-{index:024x};Parent=53995c3f42cd8ad8;Sampled=1"
            ))
        })
        .collect()
}

/// `(invocations, heap, rss)` from the child's `MEMORY` lines.
fn memory_samples(stderr: &str) -> Vec<(usize, usize, usize)> {
    stderr
        .lines()
        .filter_map(|line| line.strip_prefix("MEMORY "))
        .map(|rest| {
            let mut values = rest
                .split_whitespace()
                .map(|pair| pair.split_once('=').expect("key=value").1.parse().unwrap());
            (
                values.next().unwrap(),
                values.next().unwrap(),
                values.next().unwrap(),
            )
        })
        .collect()
}

fn long_run(format: &str) -> (Vec<(usize, usize, usize)>, f64) {
    let api = ScriptedRuntimeApi::start(script());
    let run = run_child("six_spans", &api, &[("TRACELAKE_SPAN_FORMAT", format)]);
    let answers = api.answers();
    assert_eq!(answers.len(), INVOCATIONS, "stderr: {}", run.stderr);
    for answer in &answers {
        assert_eq!(answer.kind, "response");
        assert_eq!(answer.error_type, None);
        // The function answers with its request id: each response went to its own.
        assert!(answer.body.contains(&answer.request_id), "{answer:?}");
    }

    let written = read(&run.stdout);
    assert_eq!(
        written.spans.len(),
        INVOCATIONS * 6,
        "every span is written"
    );
    let invocation_ids: std::collections::HashSet<String> = written
        .spans
        .iter()
        .filter_map(|span| attributes(span).get("faas.invocation_id").cloned())
        .collect();
    assert_eq!(invocation_ids.len(), INVOCATIONS);
    for line in &written.span_lines {
        assert_eq!(
            line.contains("__otel_otlp_stdout"),
            format == "compact",
            "{format} line: {line}"
        );
    }
    let span_bytes: usize = written.span_lines.iter().map(|line| line.len() + 1).sum();
    let per_span = span_bytes as f64 / written.spans.len() as f64;
    eprintln!("{format}: {per_span:.1} bytes per span at 6 spans per invocation");

    let samples = memory_samples(&run.stderr);
    assert_eq!(
        samples.len(),
        INVOCATIONS / MEMORY_SAMPLE_EVERY,
        "{}",
        run.stderr
    );
    eprintln!("{format}: memory samples (invocations, heap, rss): {samples:?}");
    (samples, per_span)
}

/// Memory after warm-up versus at the end. The bug this guards against grew
/// the heap by about 312 KB per invocation.
fn assert_flat(samples: &[(usize, usize, usize)]) {
    let (_, warm_heap, warm_rss) = samples[1];
    let (_, end_heap, end_rss) = *samples.last().unwrap();
    assert!(
        end_heap <= warm_heap + 64 * 1024,
        "heap grew from {warm_heap} to {end_heap} bytes: {samples:?}"
    );
    assert!(
        end_rss <= warm_rss + 4 * 1024 * 1024,
        "RSS grew from {warm_rss} to {end_rss} bytes: {samples:?}"
    );
    // The whole function, runtime and telemetry included, fits a small budget.
    assert!(end_heap < 8 * 1024 * 1024, "heap of {end_heap} bytes");
}

/// Both formats, one after the other: memory flat in each, and the compact
/// format's lines the shorter. Bytes per span are printed for
/// docs/BENCHMARKS.md (run with `--nocapture`).
#[test]
fn memory_stays_flat_over_thousands_of_invocations_in_both_formats() {
    let (compact_samples, compact_per_span) = long_run("compact");
    assert_flat(&compact_samples);
    let (json_samples, json_per_span) = long_run("json");
    assert_flat(&json_samples);
    assert!(
        compact_per_span * 2.0 < json_per_span,
        "compact {compact_per_span:.1} B/span, json {json_per_span:.1} B/span"
    );
}
