//! Polars frames in, Parquet bytes out: the ingest side of the warehouse contract.

use polars::prelude::*;

use crate::error::Result;

/// Writes a frame as one zstd-compressed Parquet file held in memory.
pub fn to_parquet(df: &mut DataFrame) -> Result<bytes::Bytes> {
    let mut buf = Vec::new();
    ParquetWriter::new(&mut buf)
        .with_compression(ParquetCompression::Zstd(None))
        .with_statistics(StatisticsOptions::full())
        .finish(df)?;
    Ok(buf.into())
}

/// A nullable text column.
pub fn text_column(name: &str, values: Vec<Option<String>>) -> Column {
    Column::new(name.into(), values)
}
