//! The live files of the index as one serving process knows them: the hours,
//! and per table and hour the outputs of the latest manifest plus the raw
//! segments it does not cover (`tracelake_index::manifest`'s rule).
//!
//! Every listing is kept for [`EngineOptions::live_files_ttl`] and then listed
//! again, as Tempo's queriers keep a polled block list: a lookup on a large
//! index would otherwise list every hour's manifests and raw segments several
//! times (about 300 listings per trace lookup on 26 hours, each a `LIST`
//! request on S3). With a TTL of zero every scan lists, so a query sees the
//! generation that was latest when it started. With a TTL, a query sees a
//! generation at most that old: new deliveries appear that much later, and the
//! files it reads still exist because GC waits a grace period (one hour by
//! default, `tracelake gc --grace`) after a file stops being live before
//! deleting it. A manifest never changes once written (put-if-absent, one
//! file per generation), so the latest manifest read of each hour is kept
//! whatever the TTL.
//!
//! [`EngineOptions::live_files_ttl`]: super::EngineOptions::live_files_ttl

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use futures::{StreamExt as _, TryStreamExt as _};
use tracelake_index::manifest::{self, LiveFile, Manifest, ManifestError};
use tracelake_index::schema::{self, HourPartition};
use tracelake_index::store::StoreError;
use tracelake_index::{IndexStore, compact};

/// How many hours are listed at once (each hour is a few `LIST` requests).
const LISTING_CONCURRENCY: usize = 16;

/// A value and when it was listed.
#[derive(Debug, Clone)]
struct Listed<T> {
    at: Instant,
    value: T,
}

/// The live files of each table and hour, by table name and hour.
type FilesByTableHour = HashMap<(&'static str, HourPartition), Listed<Arc<[LiveFile]>>>;

/// The live-file lists of one index, shared by the engine's tables.
#[derive(Debug)]
pub struct LiveFiles {
    store: IndexStore,
    ttl: Duration,
    hours: Mutex<Option<Listed<Arc<[HourPartition]>>>>,
    /// Per hour: the generations of its manifests that exist, the latest last.
    generations: Mutex<HashMap<HourPartition, Listed<Option<u64>>>>,
    /// The latest manifest read of each hour, by hour and generation
    /// (immutable once written).
    manifests: Mutex<HashMap<(HourPartition, u64), Arc<Manifest>>>,
    /// Per table and hour: its live files.
    files: Mutex<FilesByTableHour>,
}

/// Locks a cache map; a panic elsewhere while it was held leaves a map that is
/// still consistent (every insert is one call), so poisoning is ignored.
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl LiveFiles {
    /// The live files of `store`, each listing kept for `ttl`.
    pub fn new(store: IndexStore, ttl: Duration) -> LiveFiles {
        LiveFiles {
            store,
            ttl,
            hours: Mutex::default(),
            generations: Mutex::default(),
            manifests: Mutex::default(),
            files: Mutex::default(),
        }
    }

    fn fresh<T: Clone>(&self, listed: Option<&Listed<T>>) -> Option<T> {
        listed
            .filter(|listed| !self.ttl.is_zero() && listed.at.elapsed() < self.ttl)
            .map(|listed| listed.value.clone())
    }

    /// Drops every kept listing (hours, manifest generations, live files), so
    /// that the next call lists the store again. Manifests read stay kept: a
    /// generation never changes.
    pub fn forget_listings(&self) {
        *lock(&self.hours) = None;
        lock(&self.generations).clear();
        lock(&self.files).clear();
    }

    /// Every hour that has raw segments or manifests, ascending.
    ///
    /// # Errors
    /// [`StoreError`] when a listing fails.
    pub async fn hours(&self) -> Result<Arc<[HourPartition]>, StoreError> {
        if let Some(hours) = self.fresh(lock(&self.hours).as_ref()) {
            return Ok(hours);
        }
        let at = Instant::now();
        let hours: Arc<[HourPartition]> = manifest::hours(&self.store).await?.into();
        *lock(&self.hours) = Some(Listed {
            at,
            value: hours.clone(),
        });
        Ok(hours)
    }

    /// The latest manifest of an hour, `None` for an hour never compacted.
    async fn latest_manifest(
        &self,
        hour: &HourPartition,
    ) -> Result<Option<Arc<Manifest>>, ManifestError> {
        let cached = self.fresh(lock(&self.generations).get(hour));
        let latest = match cached {
            Some(latest) => latest,
            None => {
                let at = Instant::now();
                let latest = manifest::manifest_generations(&self.store, hour)
                    .await?
                    .last()
                    .copied();
                lock(&self.generations).insert(hour.clone(), Listed { at, value: latest });
                latest
            }
        };
        let Some(generation) = latest else {
            return Ok(None);
        };
        let key = (hour.clone(), generation);
        if let Some(manifest) = lock(&self.manifests).get(&key) {
            return Ok(Some(manifest.clone()));
        }
        let manifest = Arc::new(manifest::read_manifest(&self.store, hour, generation).await?);
        let mut manifests = lock(&self.manifests);
        // Only the latest generation of an hour is ever read again: a long-running
        // server keeps one manifest per hour, not every generation it saw.
        manifests.retain(|(other, _), _| other != hour);
        manifests.insert(key, manifest.clone());
        Ok(Some(manifest))
    }

    /// The live files of one table and hour: compacted outputs first, then
    /// uncovered raw segments.
    ///
    /// # Errors
    /// [`ManifestError`] when the store fails or the latest manifest is unreadable.
    pub async fn files(
        &self,
        table: &'static str,
        hour: &HourPartition,
    ) -> Result<Arc<[LiveFile]>, ManifestError> {
        let key = (table, hour.clone());
        if let Some(files) = self.fresh(lock(&self.files).get(&key)) {
            return Ok(files);
        }
        let at = Instant::now();
        // The manifest before the listing, as `manifest::live_set` reads them.
        let manifest = self.latest_manifest(hour).await?;
        let files: Arc<[LiveFile]> =
            manifest::live_files_with(&self.store, table, hour, manifest.as_deref())
                .await?
                .into();
        lock(&self.files).insert(
            key,
            Listed {
                at,
                value: files.clone(),
            },
        );
        Ok(files)
    }

    /// The live files of one table in each of `hours`, listed
    /// 16 hours at a time (`LISTING_CONCURRENCY`), in the order of `hours`.
    ///
    /// # Errors
    /// [`ManifestError`] when a listing or a manifest read fails.
    pub async fn files_of_hours(
        &self,
        table: &'static str,
        hours: &[HourPartition],
    ) -> Result<Vec<(HourPartition, Arc<[LiveFile]>)>, ManifestError> {
        futures::stream::iter(hours.iter().cloned())
            .map(|hour| async move {
                let files = self.files(table, &hour).await?;
                Ok::<_, ManifestError>((hour, files))
            })
            .buffered(LISTING_CONCURRENCY)
            .try_collect()
            .await
    }

    /// The hours whose live files include a raw segment in any table: hours no
    /// compaction has covered yet. The rule is the index's
    /// (`tracelake_index::compact::needs_compaction`, as
    /// `hours_needing_compaction` applies it), on the listings kept here.
    ///
    /// # Errors
    /// [`ManifestError`] when a listing or a manifest read fails.
    pub async fn uncompacted_hours(&self) -> Result<BTreeSet<HourPartition>, ManifestError> {
        let hours = self.hours().await?;
        let mut uncompacted = BTreeSet::new();
        for table in schema::TABLES {
            let remaining: Vec<HourPartition> = hours
                .iter()
                .filter(|hour| !uncompacted.contains(*hour))
                .cloned()
                .collect();
            for (hour, files) in self.files_of_hours(table, &remaining).await? {
                if compact::needs_compaction(&files) {
                    uncompacted.insert(hour);
                }
            }
        }
        Ok(uncompacted)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use object_store::memory::InMemory;
    use object_store::path::Path;
    use object_store::{ObjectStoreExt as _, PutPayload};
    use tracelake_index::manifest::{LiveSource, MANIFEST_FORMAT, OutputFile, TableManifest};

    use super::*;

    fn hour() -> HourPartition {
        HourPartition::parse("2026-11-29T05").expect("hour")
    }

    async fn put_segment(store: &IndexStore, table: &str, name: &str) {
        let path = format!("{}/{name}.parquet", schema::partition_dir(table, &hour()));
        store
            .object_store()
            .put(&store.path(&path), PutPayload::from_static(b"segment"))
            .await
            .expect("put");
    }

    fn paths(files: &[LiveFile]) -> Vec<(&str, LiveSource)> {
        files
            .iter()
            .map(|file| (file.path.as_str(), file.source))
            .collect()
    }

    /// A manifest of `hour()` covering the spans segment `a`, with one output.
    fn manifest_covering_a() -> Manifest {
        let spans = TableManifest {
            outputs: vec![OutputFile {
                path: "v1/compacted/spans/dt=2026-11-29/hour=05/g000001-x-000.parquet".to_owned(),
                rows: 3,
                bytes: 7,
                min_trace_id: None,
                max_trace_id: None,
            }],
            covered: ["a".to_owned()].into(),
        };
        Manifest {
            format: MANIFEST_FORMAT.to_owned(),
            generation: 1,
            hour: "2026-11-29T05".to_owned(),
            run: "x".to_owned(),
            created_at: "2026-11-29T06:00:00Z".to_owned(),
            tables: BTreeMap::from([(schema::SPANS.to_owned(), spans)]),
            figures: Default::default(),
        }
    }

    #[tokio::test]
    async fn a_zero_ttl_lists_at_every_call_and_a_ttl_reuses_the_listing_until_it_expires() {
        let store = IndexStore::from_object_store(Arc::new(InMemory::new()), Path::from("idx"));
        put_segment(&store, schema::SPANS, "a").await;
        let exact = LiveFiles::new(store.clone(), Duration::ZERO);
        let kept = LiveFiles::new(store.clone(), Duration::from_secs(3600));
        let expiring = LiveFiles::new(store.clone(), Duration::from_millis(50));
        let a = "v1/spans/dt=2026-11-29/hour=05/a.parquet";
        for live in [&exact, &kept, &expiring] {
            let files = live.files(schema::SPANS, &hour()).await.expect("files");
            assert_eq!(paths(&files), [(a, LiveSource::Raw)]);
            assert!(
                files[0].last_modified.is_some(),
                "raw segments carry their mtime"
            );
            assert_eq!(live.hours().await.expect("hours").to_vec(), [hour()]);
            assert_eq!(
                live.uncompacted_hours().await.expect("uncompacted"),
                BTreeSet::from([hour()])
            );
        }

        // A compaction commits generation 1 covering `a`, and a new delivery lands.
        assert!(
            manifest::commit_manifest(&store, &hour(), &manifest_covering_a())
                .await
                .expect("commit")
        );
        put_segment(&store, schema::SPANS, "b").await;
        let b = "v1/spans/dt=2026-11-29/hour=05/b.parquet";
        let output = "v1/compacted/spans/dt=2026-11-29/hour=05/g000001-x-000.parquet";
        let now = [(output, LiveSource::Compacted), (b, LiveSource::Raw)];
        let exact_files = exact.files(schema::SPANS, &hour()).await.expect("files");
        assert_eq!(paths(&exact_files), now);
        // Within its TTL, the listing is the one taken before the commit.
        let kept_files = kept.files(schema::SPANS, &hour()).await.expect("files");
        assert_eq!(paths(&kept_files), [(a, LiveSource::Raw)]);
        tokio::time::sleep(Duration::from_millis(60)).await;
        let expired_files = expiring.files(schema::SPANS, &hour()).await.expect("files");
        assert_eq!(paths(&expired_files), now);
    }

    #[tokio::test]
    async fn an_hour_is_uncompacted_while_any_table_has_an_uncovered_segment() {
        let store = IndexStore::from_object_store(Arc::new(InMemory::new()), Path::from("idx"));
        put_segment(&store, schema::SPANS, "a").await;
        put_segment(&store, schema::LOGS, "a").await;
        assert!(
            manifest::commit_manifest(&store, &hour(), &manifest_covering_a())
                .await
                .expect("commit")
        );
        let live = LiveFiles::new(store.clone(), Duration::ZERO);
        // The logs segment `a` is not covered (the manifest names spans only).
        assert_eq!(
            live.uncompacted_hours().await.expect("uncompacted"),
            BTreeSet::from([hour()])
        );
        let mut covered = manifest_covering_a();
        covered.generation = 2;
        covered.tables.insert(
            schema::LOGS.to_owned(),
            TableManifest {
                outputs: Vec::new(),
                covered: ["a".to_owned()].into(),
            },
        );
        assert!(
            manifest::commit_manifest(&store, &hour(), &covered)
                .await
                .expect("commit")
        );
        assert_eq!(
            live.uncompacted_hours().await.expect("uncompacted"),
            BTreeSet::new()
        );
        // Generation 1 is no longer kept once generation 2 was read.
        let kept: Vec<(HourPartition, u64)> = lock(&live.manifests).keys().cloned().collect();
        assert_eq!(kept, [(hour(), 2)]);
        // And the index's own rule agrees.
        assert_eq!(
            tracelake_index::compact::hours_needing_compaction(&store)
                .await
                .expect("plan"),
            Vec::<HourPartition>::new()
        );
    }
}
