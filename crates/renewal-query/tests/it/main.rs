//! Query tests over small warehouses built here from Arrow (no ingest code), with expected
//! figures worked out by hand from METHODS.md.

#![allow(clippy::unwrap_used)] // tests: a panic is the failure report

mod attacker;
mod bridging;
mod cache;
mod indicators;
mod lm3;
mod registry;
mod spend;
mod summary;

use std::collections::BTreeMap;
use std::sync::Arc;

use arrow::array::{Float64Array, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Schema};
use bytes::Bytes;
use parquet::arrow::ArrowWriter;
use renewal_warehouse::{Draft, DraftTable, PublishOptions, SourceFile, Warehouse};

fn parquet(batch: RecordBatch) -> Bytes {
    let mut buf = Vec::new();
    let mut w = ArrowWriter::try_new(&mut buf, batch.schema(), None).unwrap();
    w.write(&batch).unwrap();
    w.close().unwrap();
    buf.into()
}

fn strings(rows: &[&[Option<&str>]], names: &[&str]) -> RecordBatch {
    let fields: Vec<Field> = names
        .iter()
        .map(|n| Field::new(*n, DataType::Utf8, true))
        .collect();
    let columns = (0..names.len())
        .map(|c| {
            Arc::new(rows.iter().map(|r| r[c]).collect::<StringArray>()) as arrow::array::ArrayRef
        })
        .collect();
    RecordBatch::try_new(Arc::new(Schema::new(fields)), columns).unwrap()
}

/// An LSOA of a fixture: code, LAD, IMD rank, IMD score, population (None = not supplied).
#[derive(Clone)]
pub struct Lsoa {
    pub code: &'static str,
    pub lad: &'static str,
    pub rank: f64,
    pub score: f64,
    pub pop: Option<f64>,
}

pub async fn publish_iod(wh: &Warehouse, edition: &str, national: u32, lsoas: &[Lsoa], tag: &str) {
    let mut cells = Vec::new();
    for x in lsoas {
        cells.push((x.code, "imd", "rank", x.rank));
        cells.push((x.code, "imd", "score", x.score));
        if let Some(p) = x.pop {
            cells.push((x.code, "population_total", "denominator", p));
        }
    }
    let lads: Vec<(&str, &str)> = lsoas.iter().map(|x| (x.code, x.lad)).collect();
    publish_iod_cells(wh, edition, national, &lads, &cells, tag).await;
}

/// The rest of England for a fixture: enough LSOAs in district E08999999 (ward E05999999) to
/// make `national` in all, holding national ranks the fixture does not use, with no population
/// (so that district has no population-weighted figure and takes no place in their ranks).
/// With it the fixture is a complete edition, whose areas are ranked; without it, they are not.
pub fn rest_of_england(lsoas: &[Lsoa], national: u32) -> Vec<Lsoa> {
    let used: std::collections::BTreeSet<u64> = lsoas.iter().map(|l| l.rank as u64).collect();
    (1..=u64::from(national))
        .filter(|r| !used.contains(r))
        .take(national as usize - lsoas.len())
        .enumerate()
        .map(|(i, r)| Lsoa {
            code: Box::leak(format!("E01{:06}", 900_000 + i).into_boxed_str()),
            lad: REST_OF_ENGLAND,
            rank: r as f64,
            score: 0.0,
            pop: None,
        })
        .collect()
}

/// The district of [`rest_of_england`].
pub const REST_OF_ENGLAND: &str = "E08999999";

/// Publishes dataset `iod-<edition>` with LSOA → district pairs and (LSOA, domain, measure,
/// value) cells, as the ingest would lay them out.
pub async fn publish_iod_cells(
    wh: &Warehouse,
    edition: &str,
    national: u32,
    lads: &[(&str, &str)],
    cells: &[(&str, &str, &str, f64)],
    tag: &str,
) {
    let iod = RecordBatch::try_new(
        Arc::new(Schema::new(vec![
            Field::new("lsoa_code", DataType::Utf8, false),
            Field::new("domain", DataType::Utf8, false),
            Field::new("measure", DataType::Utf8, false),
            Field::new("value", DataType::Float64, false),
        ])),
        vec![
            Arc::new(StringArray::from_iter_values(cells.iter().map(|c| c.0))),
            Arc::new(StringArray::from_iter_values(cells.iter().map(|c| c.1))),
            Arc::new(StringArray::from_iter_values(cells.iter().map(|c| c.2))),
            Arc::new(Float64Array::from_iter_values(cells.iter().map(|c| c.3))),
        ],
    )
    .unwrap();
    let lsoa_rows: Vec<Vec<Option<&str>>> = lads
        .iter()
        .map(|(l, d)| vec![Some(*l), Some(*l), Some(*d), Some(*d)])
        .collect();
    let lsoa_rows: Vec<&[Option<&str>]> = lsoa_rows.iter().map(Vec::as_slice).collect();
    let lsoa = strings(
        &lsoa_rows,
        &["lsoa_code", "lsoa_name", "lad_code", "lad_name"],
    );
    let draft = Draft {
        dataset: format!("iod-{edition}"),
        kind: "iod".into(),
        vintage: BTreeMap::from([
            ("edition".into(), edition.into()),
            ("lsoa".into(), "LSOA11".into()),
            ("lad".into(), "LAD19".into()),
        ]),
        attributes: BTreeMap::from([("national_lsoa_count".into(), national.to_string())]),
        sources: vec![source(tag)],
        schemas: vec![],
        tables: vec![
            DraftTable {
                name: "iod".into(),
                parquet: parquet(iod),
            },
            DraftTable {
                name: "lsoa".into(),
                parquet: parquet(lsoa),
            },
        ],
        notes: vec![],
    };
    wh.publish(draft, PublishOptions::default()).await.unwrap();
}

pub async fn publish_lookup(wh: &Warehouse, ward_vintage: &str, rows: &[(&str, &str, &str)]) {
    let rows: Vec<Vec<Option<&str>>> = rows
        .iter()
        .map(|(l, w, a)| vec![Some(*l), Some(*w), Some(*w), Some(*a)])
        .collect();
    let rows: Vec<&[Option<&str>]> = rows.iter().map(Vec::as_slice).collect();
    let batch = strings(&rows, &["lsoa_code", "ward_code", "ward_name", "lad_code"]);
    let draft = Draft {
        dataset: format!("lookup-lsoa11-{}", ward_vintage.to_lowercase()),
        kind: "lookup".into(),
        vintage: BTreeMap::from([
            ("lsoa".into(), "LSOA11".into()),
            ("ward".into(), ward_vintage.into()),
        ]),
        attributes: BTreeMap::from([("fit".into(), "best-fit".into())]),
        sources: vec![source(ward_vintage)],
        schemas: vec![],
        tables: vec![DraftTable {
            name: "lookup".into(),
            parquet: parquet(batch),
        }],
        notes: vec![],
    };
    wh.publish(draft, PublishOptions::default()).await.unwrap();
}

fn source(tag: &str) -> SourceFile {
    SourceFile {
        name: format!("{tag}.csv"),
        size: 1,
        sha256: renewal_warehouse::sha256_hex(tag.as_bytes()),
        format: "fixture".into(),
        rows: 1,
    }
}
