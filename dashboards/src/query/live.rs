//! A table of the index as DataFusion reads it: exactly the live files of each
//! hour (`tracelake_index::manifest::live_files`: outputs of the latest manifest
//! plus uncovered raw segments), never a glob over the directories. A glob
//! would read covered segments twice (once raw, once compacted) and lose them
//! once GC deletes them.
//!
//! The file lists come from the engine's [`LiveFiles`], which lists them again
//! once they are older than its TTL (at every scan with a TTL of zero, so that
//! a query sees the generation that was latest when it started); the Parquet
//! footers and page indexes read are kept in DataFusion's file metadata cache
//! (`datafusion.runtime.metadata_cache_limit`), keyed by path, size and
//! modification time. `dt` and `hour` come from each file's hour, as Hive
//! partition columns would, and a scan lists the live files only of the hours
//! that pass its filters on `dt` and `hour` (`dt || hour BETWEEN …` in the
//! dashboards' SQL): a trace lookup reads one hour's manifest and files, not
//! every hour's.

use std::sync::Arc;

use arrow::array::{Array as _, AsArray as _, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, FieldRef, Schema, SchemaRef};
use datafusion::catalog::Session;
use datafusion::common::{DFSchema, ScalarValue};
use datafusion::datasource::TableProvider;
use datafusion::datasource::listing::PartitionedFile;
use datafusion::datasource::listing::helpers::expr_applicable_for_cols;
use datafusion::datasource::physical_plan::parquet::CachedParquetFileReaderFactory;
use datafusion::datasource::physical_plan::{FileGroup, FileScanConfigBuilder, ParquetSource};
use datafusion::datasource::source::DataSourceExec;
use datafusion::datasource::table_schema::TableSchema;
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::object_store::ObjectStoreUrl;
use datafusion::logical_expr::utils::conjunction;
use datafusion::logical_expr::{Expr, TableProviderFilterPushDown, TableType};
use datafusion::physical_plan::ExecutionPlan;
use datafusion::physical_plan::empty::EmptyExec;
use object_store::ObjectMeta;
use tracelake_index::schema::HourPartition;

use super::live_files::LiveFiles;
use super::tables::{PARTITION_COLUMNS, Table};

/// One table over the live files of every hour of an index.
#[derive(Debug)]
pub struct LiveTable {
    table: Table,
    live: Arc<LiveFiles>,
    object_store_url: ObjectStoreUrl,
    /// The path of the index root inside the object store (`prefix/`), with a
    /// trailing slash, or empty.
    root_path: String,
    schema: SchemaRef,
}

fn partition_fields() -> Vec<FieldRef> {
    PARTITION_COLUMNS
        .iter()
        .map(|name| Arc::new(Field::new(*name, DataType::Utf8, false)))
        .collect()
}

impl LiveTable {
    /// The table `table` of the index whose live files `live` lists, whose
    /// root is `root_path` inside the object store registered for
    /// `object_store_url`.
    pub fn new(
        table: Table,
        live: Arc<LiveFiles>,
        object_store_url: ObjectStoreUrl,
        root_path: &str,
    ) -> LiveTable {
        let file_schema = table.schema();
        let mut fields: Vec<FieldRef> = file_schema.fields().iter().cloned().collect();
        fields.extend(partition_fields());
        let root_path = root_path.trim_matches('/');
        LiveTable {
            table,
            live,
            object_store_url,
            root_path: if root_path.is_empty() {
                String::new()
            } else {
                format!("{root_path}/")
            },
            schema: Arc::new(Schema::new(fields)),
        }
    }

    /// The live files of the hours that pass `filters` (see [`hours_passing`]).
    async fn live_files(
        &self,
        state: &dyn Session,
        filters: &[Expr],
    ) -> Result<Vec<PartitionedFile>> {
        let external =
            |error: &dyn std::fmt::Display| DataFusionError::External(error.to_string().into());
        let hours = self.live.hours().await.map_err(|e| external(&e))?;
        let hours = hours_passing(state, hours.to_vec(), filters);
        let mut files = Vec::new();
        for (hour, live) in self
            .live
            .files_of_hours(self.table.name(), &hours)
            .await
            .map_err(|e| external(&e))?
        {
            for file in live.iter() {
                let mut partitioned =
                    PartitionedFile::new(format!("{}{}", self.root_path, file.path), file.bytes)
                        .with_partition_values(vec![
                            ScalarValue::Utf8(Some(hour.date.clone())),
                            ScalarValue::Utf8(Some(format!("{:02}", hour.hour))),
                        ]);
                if let Some(modified) = file.last_modified {
                    // Part of the metadata cache's key: a rewritten raw segment
                    // gets its footer read again.
                    partitioned.object_meta = ObjectMeta {
                        last_modified: modified.into(),
                        ..partitioned.object_meta
                    };
                }
                files.push(partitioned);
            }
        }
        Ok(files)
    }
}

/// The hours whose `dt` and `hour` pass every filter that reads only those two
/// columns. A filter that cannot be evaluated on them keeps every hour: the
/// pushdown is inexact, so DataFusion filters the rows again either way and
/// pruning here only saves reading manifests and files.
fn hours_passing(
    state: &dyn Session,
    hours: Vec<HourPartition>,
    filters: &[Expr],
) -> Vec<HourPartition> {
    let partition_filters: Vec<&Expr> = filters
        .iter()
        .filter(|filter| expr_applicable_for_cols(&PARTITION_COLUMNS, filter))
        .collect();
    if partition_filters.is_empty() || hours.is_empty() {
        return hours;
    }
    let schema = Arc::new(Schema::new(partition_fields()));
    let columns: Vec<Arc<dyn arrow::array::Array>> = vec![
        Arc::new(StringArray::from_iter_values(
            hours.iter().map(|hour| hour.date.clone()),
        )),
        Arc::new(StringArray::from_iter_values(
            hours.iter().map(|hour| format!("{:02}", hour.hour)),
        )),
    ];
    let (Ok(batch), Ok(df_schema)) = (
        RecordBatch::try_new(schema.clone(), columns),
        DFSchema::try_from(schema.as_ref().clone()),
    ) else {
        return hours;
    };
    let mut keep = vec![true; hours.len()];
    for filter in partition_filters {
        let values = state
            .create_physical_expr(filter.clone(), &df_schema)
            .and_then(|expr| expr.evaluate(&batch))
            .and_then(|value| value.into_array(batch.num_rows()));
        let Ok(values) = values else { continue };
        let Some(passed) = values.as_boolean_opt() else {
            continue;
        };
        for (row, keep) in keep.iter_mut().enumerate() {
            // NULL is not true: WHERE would drop the rows of this hour too.
            *keep &= passed.is_valid(row) && passed.value(row);
        }
    }
    hours
        .into_iter()
        .zip(keep)
        .filter_map(|(hour, keep)| keep.then_some(hour))
        .collect()
}

#[async_trait::async_trait]
impl TableProvider for LiveTable {
    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    fn table_type(&self) -> TableType {
        TableType::Base
    }

    fn supports_filters_pushdown(
        &self,
        filters: &[&Expr],
    ) -> Result<Vec<TableProviderFilterPushDown>> {
        // Used to prune files, row groups and pages; DataFusion still filters the rows.
        Ok(vec![TableProviderFilterPushDown::Inexact; filters.len()])
    }

    async fn scan(
        &self,
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        limit: Option<usize>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let files = self.live_files(state, filters).await?;
        if files.is_empty() {
            // A scan of no file groups has no partition at all, which operators
            // that need one input partition (a sort) refuse: an empty table is
            // one empty partition.
            let schema = match projection {
                Some(indices) => Arc::new(self.schema.project(indices)?),
                None => self.schema.clone(),
            };
            return Ok(Arc::new(EmptyExec::new(schema)));
        }
        let table_schema = TableSchema::builder(self.table.schema())
            .with_table_partition_cols(partition_fields())
            .build();
        let runtime = state.runtime_env();
        let reader_factory = CachedParquetFileReaderFactory::new(
            runtime.object_store(&self.object_store_url)?,
            runtime.cache_manager.get_file_metadata_cache(),
        );
        let mut source = ParquetSource::new(table_schema)
            .with_table_parquet_options(state.table_options().parquet.clone())
            .with_parquet_file_reader_factory(Arc::new(reader_factory));
        if let Some(predicate) = conjunction(filters.to_vec()) {
            let df_schema = DFSchema::try_from(self.schema.as_ref().clone())?;
            let predicate = state.create_physical_expr(predicate, &df_schema)?;
            source = source.with_predicate(predicate);
        }
        // Spread the files over the target partitions, in order.
        let partitions = state.config_options().execution.target_partitions.max(1);
        let per_group = files.len().div_ceil(partitions).max(1);
        let groups: Vec<FileGroup> = files
            .chunks(per_group)
            .map(|chunk| FileGroup::new(chunk.to_vec()))
            .collect();
        let config = FileScanConfigBuilder::new(self.object_store_url.clone(), Arc::new(source))
            .with_file_groups(groups)
            .with_projection_indices(projection.cloned())?
            .with_limit(limit)
            .build();
        Ok(DataSourceExec::from_data_source(config))
    }
}

#[cfg(test)]
mod tests {
    use datafusion::logical_expr::{Operator, binary_expr};
    use datafusion::prelude::{SessionContext, col, lit};

    use super::*;

    fn hour(date: &str, hour: u32) -> HourPartition {
        HourPartition {
            date: date.to_owned(),
            hour,
        }
    }

    fn partition_between(from: &str, to: &str) -> Expr {
        binary_expr(col("dt"), Operator::StringConcat, col("hour")).between(lit(from), lit(to))
    }

    #[test]
    fn a_scan_lists_only_the_hours_its_partition_filters_pass() {
        let state = SessionContext::new().state();
        let hours = vec![
            hour("2026-11-28", 23),
            hour("2026-11-29", 0),
            hour("2026-11-29", 1),
            hour("2026-11-29", 10),
        ];
        // The trace lookup's filters: a partition range and a trace id.
        let filters = [
            partition_between("2026-11-2900", "2026-11-2901"),
            col("trace_id").eq(lit("6b0b6b52807c759dc6fb164fd21c3f33")),
        ];
        assert_eq!(
            hours_passing(&state, hours.clone(), &filters),
            vec![hour("2026-11-29", 0), hour("2026-11-29", 1)]
        );
        // Every filter must pass; a range outside the index keeps nothing.
        let narrower = [
            partition_between("2026-11-2823", "2026-11-2900"),
            col("hour").eq(lit("00")),
        ];
        assert_eq!(
            hours_passing(&state, hours.clone(), &narrower),
            vec![hour("2026-11-29", 0)]
        );
        let outside = [partition_between("2027-01-0100", "2027-01-0123")];
        assert_eq!(hours_passing(&state, hours.clone(), &outside), vec![]);
        // No filter on the partition columns: every hour.
        let none = [col("trace_id").eq(lit("x"))];
        assert_eq!(hours_passing(&state, hours.clone(), &none), hours);
    }
}
