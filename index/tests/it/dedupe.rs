//! Dedupe: any order and any split of the same events into deliveries,
//! with any of them delivered twice, compacts to the same files.

use proptest::prelude::*;
use tracelake_index::compact::{CompactOptions, compact_hour};
use tracelake_index::manifest::live_files;
use tracelake_index::schema;

use super::support::*;

/// The compacted files' contents, table by table.
async fn compacted_contents(
    store: &tracelake_index::IndexStore,
) -> Vec<Vec<arrow::array::RecordBatch>> {
    let mut contents = Vec::new();
    for table in schema::TABLES {
        let mut batches = Vec::new();
        for file in live_files(store, table, &hour()).await.expect("live") {
            batches.extend(
                tracelake_index::read::read_file(store, &file.path)
                    .await
                    .expect("read"),
            );
        }
        contents.push(batches);
    }
    contents
}

/// Regroups the rows of `requests` into deliveries: shuffled by `order`, cut at
/// `cuts`, with the deliveries listed in `repeat` written a second time.
fn regroup(
    requests: &[Delivery],
    order: &[usize],
    cuts: &[usize],
    repeat: &[usize],
) -> Vec<Delivery> {
    let mut spans = Vec::new();
    let mut logs = Vec::new();
    let mut invocations = Vec::new();
    for d in requests {
        spans.extend(d.spans.iter().cloned());
        logs.extend(d.logs.iter().cloned());
        invocations.extend(d.invocations.iter().cloned());
    }
    let permute = |len: usize| {
        let mut index: Vec<usize> = (0..len).collect();
        for (i, o) in order.iter().enumerate() {
            if len > 1 {
                index.swap(i % len, o % len);
            }
        }
        index
    };
    let (ps, pl, pi) = (
        permute(spans.len()),
        permute(logs.len()),
        permute(invocations.len()),
    );
    let parts = cuts.len() + 1;
    let mut out: Vec<Delivery> = (0..parts)
        .map(|i| Delivery {
            name: format!("split-{i}"),
            ..Delivery::default()
        })
        .collect();
    let part_of = |i: usize, len: usize| {
        (i * parts / len.max(1) + cuts.get(i % cuts.len().max(1)).copied().unwrap_or(0)) % parts
    };
    for (n, i) in ps.iter().enumerate() {
        out[part_of(n, ps.len())].spans.push(spans[*i].clone());
    }
    for (n, i) in pl.iter().enumerate() {
        out[part_of(n, pl.len())].logs.push(logs[*i].clone());
    }
    for (n, i) in pi.iter().enumerate() {
        out[part_of(n, pi.len())]
            .invocations
            .push(invocations[*i].clone());
    }
    for r in repeat {
        let mut again = out[r % parts].clone();
        again.name.push_str("-again");
        out.push(again);
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]

    #[test]
    fn any_order_and_split_compacts_to_the_same_index(
        order in proptest::collection::vec(0usize..1000, 0..40),
        cuts in proptest::collection::vec(0usize..8, 0..6),
        repeat in proptest::collection::vec(0usize..8, 0..4),
        compact_between in any::<bool>(),
    ) {
        let requests = deliveries(0..12);
        let rt = runtime();
        let reference = rt.block_on(async {
            let store = memory_store();
            ingest(&store, &requests).await;
            compact_hour(&store, &hour(), &CompactOptions::default()).await.expect("compacts");
            compacted_contents(&store).await
        });
        let regrouped = regroup(&requests, &order, &cuts, &repeat);
        let contents = rt.block_on(async {
            let store = memory_store();
            let half = regrouped.len() / 2;
            ingest(&store, &regrouped[..half]).await;
            if compact_between {
                compact_hour(&store, &hour(), &CompactOptions::default()).await.expect("compacts");
            }
            ingest(&store, &regrouped[half..]).await;
            compact_hour(&store, &hour(), &CompactOptions::default()).await.expect("compacts");
            assert_reads_exactly(&store, &Expected::of(&requests), "regrouped").await;
            compacted_contents(&store).await
        });
        prop_assert_eq!(contents, reference);
    }
}
