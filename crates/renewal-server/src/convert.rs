//! Engine answers (Arrow batches) to protobuf table chunks.

use arrow::array::{Array, AsArray};
use arrow::datatypes::{DataType, Float64Type, Int64Type};
use renewal_query::Answer;

use crate::pb;

/// Rows per streamed message: keeps messages far below the size cap.
pub const ROWS_PER_CHUNK: usize = 1000;

pub fn chunks(answer: &Answer) -> Result<Vec<pb::TableChunk>, arrow::error::ArrowError> {
    let columns: Vec<pb::Column> = answer
        .schema
        .fields()
        .iter()
        .map(|f| pb::Column {
            name: f.name().clone(),
            kind: kind(f.data_type()).into(),
        })
        .collect();
    let mut rows = Vec::new();
    for batch in &answer.batches {
        let cols = batch
            .columns()
            .iter()
            .map(|c| normalise(c.as_ref()))
            .collect::<Result<Vec<_>, _>>()?;
        for r in 0..batch.num_rows() {
            let cells = cols.iter().map(|c| cell(c.as_ref(), r)).collect();
            rows.push(pb::Row { cells });
        }
    }
    let mut out = vec![pb::TableChunk {
        columns,
        basis: Some(pb::Basis {
            dataset_versions: answer.basis.datasets.clone().into_iter().collect(),
            method: answer.basis.method.clone(),
            fit: answer.basis.fit.to_string(),
            bridges: answer
                .basis
                .bridges
                .iter()
                .map(|b| pb::BridgeUse {
                    bridge: b.bridge.clone(),
                    version: b.version,
                    dataset: b.dataset.clone(),
                    from_vintage: b.from.clone(),
                    to_vintage: b.to.clone(),
                    weights: b.weights.clone().unwrap_or_default(),
                    apportioned_share: b.apportioned_share,
                    apportioned_areas: b.apportioned_areas as u64,
                    unknown_areas: b.unknown_areas as u64,
                })
                .collect(),
        }),
        notes: answer.notes.clone(),
        rows: Vec::new(),
    }];
    let mut rest = rows.into_iter().peekable();
    let first: Vec<_> = rest.by_ref().take(ROWS_PER_CHUNK).collect();
    out[0].rows = first;
    while rest.peek().is_some() {
        out.push(pb::TableChunk {
            rows: rest.by_ref().take(ROWS_PER_CHUNK).collect(),
            ..Default::default()
        });
    }
    Ok(out)
}

fn kind(t: &DataType) -> &'static str {
    match t {
        DataType::Boolean => "flag",
        DataType::Float16 | DataType::Float32 | DataType::Float64 => "number",
        t if t.is_integer() => "integer",
        _ => "text",
    }
}

/// Casts every column to one of the four cell types.
fn normalise(c: &dyn Array) -> Result<arrow::array::ArrayRef, arrow::error::ArrowError> {
    let target = match kind(c.data_type()) {
        "flag" => DataType::Boolean,
        "number" => DataType::Float64,
        "integer" => DataType::Int64,
        _ => DataType::Utf8,
    };
    arrow::compute::cast(&arrow::array::make_array(c.to_data()), &target)
}

fn cell(c: &dyn Array, r: usize) -> pb::Cell {
    use pb::cell::Value;
    if c.is_null(r) {
        return pb::Cell { value: None };
    }
    let value = match c.data_type() {
        DataType::Boolean => Value::Flag(c.as_boolean().value(r)),
        DataType::Float64 => Value::Number(c.as_primitive::<Float64Type>().value(r)),
        DataType::Int64 => Value::Integer(c.as_primitive::<Int64Type>().value(r)),
        _ => Value::Text(c.as_string::<i32>().value(r).to_owned()),
    };
    pb::Cell { value: Some(value) }
}
