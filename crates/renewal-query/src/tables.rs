//! Registering warehouse tables (at a chosen version) with a DataFusion session.

use std::collections::BTreeMap;
use std::sync::Arc;

use datafusion::datasource::file_format::parquet::ParquetFormat;
use datafusion::datasource::listing::{
    ListingOptions, ListingTable, ListingTableConfig, ListingTableUrl,
};
use datafusion::prelude::{SessionConfig, SessionContext};
use renewal_warehouse::{Manifest, Warehouse};

use crate::{QueryError, Result};

/// Versions to use instead of the current ones, by dataset id (`--at iod-2019=3`).
pub type DatasetPins = BTreeMap<String, u64>;

/// Bytes every DataFusion session may use for sorts, joins and aggregates (0: unbounded).
static MEMORY_LIMIT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// Bounds the memory of every later query (a server sets it once at start); a query that
/// needs more fails with a resources error instead of taking the machine down.
pub fn set_memory_limit(bytes: usize) {
    MEMORY_LIMIT.store(bytes, std::sync::atomic::Ordering::Relaxed);
}

/// A session with a fixed number of partitions, so plans (and row order before sorting) do
/// not depend on the machine.
pub(crate) fn session() -> SessionContext {
    let config = SessionConfig::new()
        .with_target_partitions(2)
        .with_information_schema(false);
    let limit = MEMORY_LIMIT.load(std::sync::atomic::Ordering::Relaxed);
    if limit > 0
        && let Ok(runtime) = datafusion::execution::runtime_env::RuntimeEnvBuilder::new()
            .with_memory_limit(limit, 1.0)
            .build_arc()
    {
        return SessionContext::new_with_config_rt(config, runtime);
    }
    SessionContext::new_with_config(config)
}

/// The manifest of `dataset` at its pinned version, or the current one.
pub(crate) async fn resolve(
    warehouse: &Warehouse,
    dataset: &str,
    pins: &DatasetPins,
) -> Result<Manifest> {
    match warehouse
        .manifest(dataset, pins.get(dataset).copied())
        .await
    {
        Ok(m) => Ok(m),
        Err(renewal_warehouse::WarehouseError::NoDataset(d)) => Err(QueryError::Precondition(
            format!("dataset {d} is not in the warehouse; ingest it first"),
        )),
        Err(e) => Err(e.into()),
    }
}

/// `table` of a dataset version as a DataFusion table over its Parquet files (not registered,
/// so callers can wrap it in a view).
pub async fn table_provider(
    ctx: &SessionContext,
    warehouse: &Warehouse,
    manifest: &Manifest,
    table: &str,
) -> Result<Arc<ListingTable>> {
    let entry = manifest.table(table).ok_or_else(|| {
        QueryError::Precondition(format!(
            "dataset {} version {} has no table {table:?}",
            manifest.dataset, manifest.version
        ))
    })?;
    let urls = entry
        .files
        .iter()
        .map(|f| ListingTableUrl::parse(warehouse.file_url(f)))
        .collect::<datafusion::error::Result<Vec<_>>>()?;
    let options =
        ListingOptions::new(Arc::new(ParquetFormat::default())).with_file_extension(".parquet");
    let config = ListingTableConfig::new_with_multi_paths(urls)
        .with_listing_options(options)
        .infer_schema(&ctx.state())
        .await?;
    Ok(Arc::new(ListingTable::try_new(config)?))
}

/// Registers one table of a dataset version under `name`.
pub(crate) async fn register(
    ctx: &SessionContext,
    warehouse: &Warehouse,
    manifest: &Manifest,
    table: &str,
    name: &str,
) -> Result<()> {
    let provider = table_provider(ctx, warehouse, manifest, table).await?;
    ctx.register_table(name, provider)?;
    Ok(())
}

/// Column `i` of `batch` as text, whatever string layout the reader chose (`None` for nulls).
pub fn string_column(batch: &arrow::array::RecordBatch, i: usize) -> Result<Vec<Option<String>>> {
    use arrow::array::{Array, AsArray};
    let col = arrow::compute::cast(batch.column(i), &arrow::datatypes::DataType::Utf8)?;
    let col = col.as_string::<i32>();
    Ok((0..col.len())
        .map(|r| col.is_valid(r).then(|| col.value(r).to_owned()))
        .collect())
}

/// Column `i` of `batch` as numbers (`None` for nulls).
pub(crate) fn float_column(
    batch: &arrow::array::RecordBatch,
    i: usize,
) -> Result<Vec<Option<f64>>> {
    use arrow::array::{Array, AsArray};
    let col = arrow::compute::cast(batch.column(i), &arrow::datatypes::DataType::Float64)?;
    let col = col.as_primitive::<arrow::datatypes::Float64Type>();
    Ok((0..col.len())
        .map(|r| col.is_valid(r).then(|| col.value(r)))
        .collect())
}

/// Casts DataFusion's string views back to plain `Utf8`, so answers have one stable schema
/// whatever the reader chose internally (CSV/JSON writers and clients see ordinary strings).
pub(crate) fn plain_strings(
    schema: &arrow::datatypes::SchemaRef,
    batches: Vec<arrow::array::RecordBatch>,
) -> Result<(arrow::datatypes::SchemaRef, Vec<arrow::array::RecordBatch>)> {
    use arrow::datatypes::{DataType, Field, Schema};
    let fields: Vec<Field> = schema
        .fields()
        .iter()
        .map(|f| match f.data_type() {
            DataType::Utf8View | DataType::LargeUtf8 => {
                f.as_ref().clone().with_data_type(DataType::Utf8)
            }
            _ => f.as_ref().clone(),
        })
        .collect();
    let plain = Arc::new(Schema::new(fields));
    let batches = batches
        .into_iter()
        .map(|b| {
            let columns = b
                .columns()
                .iter()
                .zip(plain.fields())
                .map(|(c, f)| arrow::compute::cast(c, f.data_type()))
                .collect::<Result<Vec<_>, _>>()?;
            Ok(arrow::array::RecordBatch::try_new(plain.clone(), columns)?)
        })
        .collect::<Result<Vec<_>>>()?;
    Ok((plain, batches))
}
