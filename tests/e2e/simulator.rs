//! The simulator's fleet through the collector, scored against its ground truth.

use std::collections::BTreeSet;

use tracelake_collector::index::read::read_log_links;
use tracelake_collector::{Collector, IndexStore, IngestCounters};
use tracelake_simulator::delivery::{DeliveryKind, decode_payload};
use tracelake_simulator::{Simulation, SimulationConfig, simulate};

fn fleet(seed: u64) -> SimulationConfig {
    SimulationConfig {
        seed,
        services: 60,
        minutes: 2.0,
        rate: 8.0,
        ..SimulationConfig::default()
    }
}

fn run(config: &SimulationConfig) -> Simulation {
    simulate(config, &mut |_, _, _| {}).expect("the simulation runs")
}

#[test]
fn a_fleet_of_60_services_correlates_with_full_precision() -> anyhow::Result<()> {
    let simulation = run(&fleet(7));
    assert!(simulation.summary.services >= 50);
    assert!(simulation.summary.services_invoked >= 50);
    let dir = tempfile::tempdir()?;
    let store = IndexStore::open(&dir.path().to_string_lossy())?;
    let collector = Collector::new(store.clone());
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let mut total = IngestCounters::default();
    for (number, delivery) in simulation.delivered.deliveries.iter().enumerate() {
        total +=
            runtime.block_on(collector.ingest(&delivery.payload, &format!("delivery-{number}")))?;
    }
    assert_eq!(total.events_quarantined, 0, "{total:?}");
    assert_eq!(
        total.control_messages as usize,
        simulation.summary.control_messages
    );

    let links = runtime.block_on(read_log_links(&store))?;
    let score = simulation.truth.score(
        links
            .iter()
            .map(|link| (link.event_id.as_str(), link.trace_id.as_deref())),
    );
    println!(
        "precision {:.5} ({} linked, {} wrong); recall in own batch {:.5} (line {}/{}, batch {}/{}); \
         recall needing another batch {:.5} ({}/{}); unlinkable lines {} ({} linked)",
        score.precision(),
        score.linked,
        score.linked_wrongly,
        score.in_batch_recall(),
        score.line.linked,
        score.line.expected,
        score.batch.linked,
        score.batch.expected,
        score.cross_batch.recall(),
        score.cross_batch.linked,
        score.cross_batch.expected,
        score.unlinkable.expected,
        score.unlinkable.linked,
    );
    assert_eq!(score.unknown_rows, 0, "rows the simulator never wrote");
    assert_eq!(
        score.duplicate_rows, 0,
        "a duplicate delivery was indexed twice"
    );
    assert_eq!(
        score.missing_app_lines, 0,
        "application lines missing from logs"
    );
    assert!(
        score.line.expected > 1000 && score.batch.expected > 1000,
        "{score:?}"
    );
    assert_eq!(
        score.linked_wrongly, 0,
        "lines linked to a wrong trace: {:?}",
        score.wrong_examples
    );
    assert!(
        score.in_batch_recall() >= 0.999,
        "recall over lines linkable in their own batch is {:.5}",
        score.in_batch_recall()
    );
    Ok(())
}

#[test]
fn payloads_decode_with_aws_lambda_events_types() {
    let simulation = run(&SimulationConfig {
        minutes: 1.0,
        ..fleet(11)
    });
    let mut groups = BTreeSet::new();
    let mut events = 0;
    for delivery in &simulation.delivered.deliveries {
        let event = decode_payload(&delivery.payload).expect("a CloudWatch Logs Lambda event");
        let data = &event.aws_logs.data;
        match delivery.kind {
            DeliveryKind::Control => assert_eq!(data.message_type, "CONTROL_MESSAGE"),
            DeliveryKind::Data => {
                assert_eq!(data.message_type, "DATA_MESSAGE");
                groups.insert(data.log_group.clone());
                events += data.log_events.len();
            }
            DeliveryKind::Duplicate => assert_eq!(data.message_type, "DATA_MESSAGE"),
        }
    }
    assert_eq!(events, simulation.truth.events.len());
    assert!(groups.len() >= 50, "{} log groups", groups.len());
}

#[test]
fn the_same_seed_gives_the_same_payloads_byte_for_byte() {
    let config = SimulationConfig {
        minutes: 1.0,
        ..fleet(21)
    };
    let first = run(&config);
    let second = run(&config);
    let bytes = |s: &Simulation| -> Vec<Vec<u8>> {
        s.delivered
            .deliveries
            .iter()
            .map(|d| d.payload.clone())
            .collect()
    };
    assert_eq!(bytes(&first), bytes(&second));
    assert_eq!(first.truth.log_events_csv(), second.truth.log_events_csv());
    assert_eq!(first.truth.spans_csv(), second.truth.spans_csv());
    let other = run(&SimulationConfig { seed: 22, ..config });
    assert_ne!(bytes(&first), bytes(&other));
}
