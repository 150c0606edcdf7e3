//! Answers as Arrow record batches with a declared schema, so CSV column names and order are a
//! contract and every output (CSV, table, JSON, gRPC) renders the same rows.

use std::sync::Arc;

use arrow::array::RecordBatch;
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use serde::Serialize;

use crate::{Basis, Result};

/// Rows plus how they were built.
#[derive(Debug, Clone)]
pub struct Answer {
    pub schema: SchemaRef,
    pub batches: Vec<RecordBatch>,
    pub basis: Basis,
    pub notes: Vec<String>,
}

impl Answer {
    pub fn num_rows(&self) -> usize {
        self.batches.iter().map(RecordBatch::num_rows).sum()
    }
}

/// Column kinds used by answers.
#[derive(Debug, Clone, Copy)]
pub enum Kind {
    Text,
    Number,
    Integer,
    Flag,
}

/// Serialises `rows` into one batch whose columns are exactly `columns`, in order. Every
/// column is nullable: an empty cell is "not available", never zero.
pub(crate) fn to_batches<T: Serialize>(
    columns: &[(&str, Kind)],
    rows: &[T],
) -> Result<(SchemaRef, Vec<RecordBatch>)> {
    let schema: SchemaRef = Arc::new(Schema::new(
        columns
            .iter()
            .map(|(name, kind)| {
                let t = match kind {
                    Kind::Text => DataType::Utf8,
                    Kind::Number => DataType::Float64,
                    Kind::Integer => DataType::Int64,
                    Kind::Flag => DataType::Boolean,
                };
                Field::new(*name, t, true)
            })
            .collect::<Vec<_>>(),
    ));
    let mut decoder = arrow::json::ReaderBuilder::new(schema.clone())
        .with_batch_size(rows.len().max(1))
        .build_decoder()?;
    decoder.serialize(rows)?;
    let batch = decoder
        .flush()?
        .unwrap_or_else(|| RecordBatch::new_empty(schema.clone()));
    Ok((schema, vec![batch]))
}

/// An answer from serialisable rows with declared columns (for callers outside this crate,
/// such as the server's area listing).
pub fn answer_from_rows<T: Serialize>(
    columns: &[(&str, Kind)],
    rows: &[T],
    basis: Basis,
    notes: Vec<String>,
) -> Result<Answer> {
    let (schema, batches) = to_batches(columns, rows)?;
    Ok(Answer {
        schema,
        batches,
        basis,
        notes,
    })
}
