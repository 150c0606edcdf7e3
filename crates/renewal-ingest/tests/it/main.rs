//! Integration tests of ingestion: the real published files (skipped loudly without them) and
//! hand-made bad inputs.

#![allow(clippy::unwrap_used)] // tests: a panic is the failure report

mod bad_input;
mod boundaries;
mod bridge;
mod corpus;
mod crime;
mod file10;
mod iod2025;
mod lm3;
mod observations;
mod parents;
mod population;
mod postcodes;
mod real_data;
mod spend;

use std::collections::HashMap;
use std::io::Cursor;

use polars::prelude::*;
use renewal_schema::Catalog;
use renewal_warehouse::Draft;

pub fn catalog() -> Catalog {
    Catalog::embedded().expect("embedded schemas load")
}

pub fn table(draft: &Draft, name: &str) -> DataFrame {
    let t = draft
        .tables
        .iter()
        .find(|t| t.name == name)
        .unwrap_or_else(|| panic!("no table {name}"));
    ParquetReader::new(Cursor::new(t.parquet.to_vec()))
        .finish()
        .expect("readable parquet")
}

/// (lsoa, domain, measure) → value of the long IoD table.
pub fn values(draft: &Draft) -> HashMap<(String, String, String), f64> {
    let df = table(draft, "iod");
    let col = |n: &str| df.column(n).unwrap().str().unwrap().clone();
    let (lsoa, domain, measure) = (col("lsoa_code"), col("domain"), col("measure"));
    let value = df.column("value").unwrap().f64().unwrap().clone();
    (0..df.height())
        .map(|i| {
            (
                (
                    lsoa.get(i).unwrap().to_owned(),
                    domain.get(i).unwrap().to_owned(),
                    measure.get(i).unwrap().to_owned(),
                ),
                value.get(i).unwrap(),
            )
        })
        .collect()
}

pub fn key(lsoa: &str, domain: &str, measure: &str) -> (String, String, String) {
    (lsoa.into(), domain.into(), measure.into())
}
