//! A table of the index as DataFusion reads it: exactly the live files of each
//! hour (`tracelake_index::manifest::live_files`: outputs of the latest manifest
//! plus uncovered raw segments), never a glob over the directories. A glob
//! would read covered segments twice (once raw, once compacted) and lose them
//! once GC deletes them.
//!
//! The file list is read at every scan, so a query sees the generation that was
//! latest when it started. `dt` and `hour` come from each file's hour, as Hive
//! partition columns would.

use std::sync::Arc;

use arrow::datatypes::{DataType, Field, FieldRef, Schema, SchemaRef};
use datafusion::catalog::Session;
use datafusion::common::{DFSchema, ScalarValue};
use datafusion::datasource::TableProvider;
use datafusion::datasource::listing::PartitionedFile;
use datafusion::datasource::physical_plan::{FileGroup, FileScanConfigBuilder, ParquetSource};
use datafusion::datasource::source::DataSourceExec;
use datafusion::datasource::table_schema::TableSchema;
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::object_store::ObjectStoreUrl;
use datafusion::logical_expr::utils::conjunction;
use datafusion::logical_expr::{Expr, TableProviderFilterPushDown, TableType};
use datafusion::physical_plan::ExecutionPlan;
use datafusion::physical_plan::empty::EmptyExec;
use tracelake_index::IndexStore;
use tracelake_index::manifest;

use super::tables::{PARTITION_COLUMNS, Table};

/// One table over the live files of every hour of an index.
#[derive(Debug)]
pub struct LiveTable {
    table: Table,
    store: IndexStore,
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
    /// The table `table` of the index `store`, whose root is `root_path` inside
    /// the object store registered for `object_store_url`.
    pub fn new(
        table: Table,
        store: IndexStore,
        object_store_url: ObjectStoreUrl,
        root_path: &str,
    ) -> LiveTable {
        let file_schema = table.schema();
        let mut fields: Vec<FieldRef> = file_schema.fields().iter().cloned().collect();
        fields.extend(partition_fields());
        let root_path = root_path.trim_matches('/');
        LiveTable {
            table,
            store,
            object_store_url,
            root_path: if root_path.is_empty() {
                String::new()
            } else {
                format!("{root_path}/")
            },
            schema: Arc::new(Schema::new(fields)),
        }
    }

    async fn live_files(&self) -> Result<Vec<PartitionedFile>> {
        let external =
            |error: &dyn std::fmt::Display| DataFusionError::External(error.to_string().into());
        let mut files = Vec::new();
        let hours = manifest::hours(&self.store)
            .await
            .map_err(|e| external(&e))?;
        for hour in hours {
            let live = manifest::live_files(&self.store, self.table.name(), &hour)
                .await
                .map_err(|e| external(&e))?;
            for file in live {
                files.push(
                    PartitionedFile::new(format!("{}{}", self.root_path, file.path), file.bytes)
                        .with_partition_values(vec![
                            ScalarValue::Utf8(Some(hour.date.clone())),
                            ScalarValue::Utf8(Some(format!("{:02}", hour.hour))),
                        ]),
                );
            }
        }
        Ok(files)
    }
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
        let files = self.live_files().await?;
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
        let mut source = ParquetSource::new(table_schema)
            .with_table_parquet_options(state.table_options().parquet.clone());
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
