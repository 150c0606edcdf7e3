//! Integration tests of the warehouse: publishing under injected storage faults, and the
//! object-store semantics the version switch relies on.

#![allow(clippy::unwrap_used)] // tests: a panic is the failure report

mod faults;
mod stores;

use std::collections::BTreeMap;
use std::sync::Arc;

use arrow::array::{Int64Array, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Schema};
use bytes::Bytes;
use parquet::arrow::ArrowWriter;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use renewal_warehouse::{Draft, DraftTable, Manifest, SourceFile, Warehouse};

/// The dataset every test publishes.
pub const DATASET: &str = "census-test";

/// A Parquet file of `(code, value)` rows: codes `E01{tag}{i}`, values `i`.
fn parquet(tag: &str, rows: usize) -> Bytes {
    let schema = Arc::new(Schema::new(vec![
        Field::new("code", DataType::Utf8, false),
        Field::new("value", DataType::Int64, false),
    ]));
    let codes: Vec<String> = (0..rows).map(|i| format!("E01{tag}{i:04}")).collect();
    let values: Vec<i64> = (0..rows as i64).collect();
    let batch = RecordBatch::try_new(
        schema.clone(),
        vec![
            Arc::new(StringArray::from(codes)),
            Arc::new(Int64Array::from(values)),
        ],
    )
    .unwrap();
    let mut buf = Vec::new();
    let mut writer = ArrowWriter::try_new(&mut buf, schema, None).unwrap();
    writer.write(&batch).unwrap();
    writer.close().unwrap();
    Bytes::from(buf)
}

/// A draft of two tables whose codes all carry `tag`, so whoever reads a version can tell
/// which draft its files came from.
pub fn draft(tag: &str) -> Draft {
    Draft {
        dataset: DATASET.into(),
        kind: "census".into(),
        vintage: BTreeMap::new(),
        attributes: BTreeMap::new(),
        sources: vec![SourceFile {
            name: format!("{tag}.csv"),
            size: 1,
            sha256: renewal_warehouse::sha256_hex(tag.as_bytes()),
            format: "test".into(),
            rows: 3,
        }],
        schemas: vec![],
        tables: vec![
            DraftTable {
                name: "observations".into(),
                parquet: parquet(tag, 3),
            },
            DraftTable {
                name: "areas".into(),
                parquet: parquet(tag, 2),
            },
        ],
        notes: vec![],
    }
}

/// Reads every table of a version straight from the files its manifest names and returns the
/// distinct tags of the codes found (a simple reader, independent of any query engine).
pub async fn tags_read(warehouse: &Warehouse, manifest: &Manifest) -> Vec<String> {
    use object_store::ObjectStoreExt;
    let mut tags = std::collections::BTreeSet::new();
    for file in manifest.tables.iter().flat_map(|t| &t.files) {
        let bytes = warehouse
            .store()
            .get(&object_store::path::Path::from(file.path.as_str()))
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap();
        for batch in ParquetRecordBatchReaderBuilder::try_new(bytes)
            .unwrap()
            .build()
            .unwrap()
        {
            let batch = batch.unwrap();
            let codes = batch
                .column(0)
                .as_any()
                .downcast_ref::<StringArray>()
                .unwrap();
            for code in codes.iter().flatten() {
                tags.insert(code[3..code.len() - 4].to_owned());
            }
        }
    }
    tags.into_iter().collect()
}
