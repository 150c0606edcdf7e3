//! Answers as text and workbooks: CSV with exactly the answer's declared columns, the JSON
//! document (`{"basis": …, "notes": […], "rows": […]}`), an aligned table for people (rounded
//! per unit: [`table`]) and an Excel workbook ([`xlsx`]). One renderer serves the CLI
//! (`--format csv|json|table|xlsx`) and the server's HTTP feed, so a dashboard reads the very
//! bytes an analyst gets from `renewal`. CSV and JSON keep every figure's full precision.

mod table;
mod xlsx;

use std::io::Write;

use arrow::array::RecordBatch;

pub use table::table;
pub use xlsx::xlsx;

use crate::Basis;

/// Why an answer could not be written.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    /// Writing to the output failed.
    #[error("writing the answer: {0}")]
    Io(#[from] std::io::Error),
    /// Arrow could not format a column.
    #[error("formatting the answer: {0}")]
    Arrow(#[from] arrow::error::ArrowError),
    /// The rows could not be turned into JSON.
    #[error("formatting the answer as JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// The workbook could not be written (or the answer does not fit in one).
    #[error("writing the answer as a workbook: {0}")]
    Xlsx(String),
}

/// CSV: a header of the declared column names, then one line per row; an empty cell where a
/// figure is missing or withheld.
pub fn csv(out: &mut dyn Write, batches: &[RecordBatch]) -> Result<(), RenderError> {
    let mut writer = arrow::csv::WriterBuilder::new()
        .with_header(true)
        .build(out);
    for batch in batches {
        writer.write(batch)?;
    }
    Ok(())
}

/// The rows as JSON objects, every column present (`null` where a cell is empty).
pub fn json_rows(batches: &[RecordBatch]) -> Result<serde_json::Value, RenderError> {
    let mut buf = Vec::new();
    {
        let mut writer = arrow::json::WriterBuilder::new()
            .with_explicit_nulls(true)
            .build::<_, arrow::json::writer::JsonArray>(&mut buf);
        for batch in batches {
            writer.write(batch)?;
        }
        writer.finish()?;
    }
    if buf.is_empty() {
        return Ok(serde_json::Value::Array(vec![]));
    }
    Ok(serde_json::from_slice(&buf)?)
}

/// The JSON document: the rows plus how they were built (method, fit, dataset versions,
/// bridges) and the notes.
pub fn json_document(
    batches: &[RecordBatch],
    basis: &Basis,
    notes: &[String],
) -> Result<serde_json::Value, RenderError> {
    Ok(serde_json::json!({
        "basis": {
            "method": basis.method,
            "fit": basis.fit.to_string(),
            "datasets": basis.datasets,
            "bridges": basis.bridges,
        },
        "notes": notes,
        "rows": json_rows(batches)?,
    }))
}

/// [`json_document`] written pretty-printed, with a final newline.
pub fn json_answer(
    out: &mut dyn Write,
    batches: &[RecordBatch],
    basis: &Basis,
    notes: &[String],
) -> Result<(), RenderError> {
    let value = json_document(batches, basis, notes)?;
    serde_json::to_writer_pretty(&mut *out, &value)?;
    writeln!(out)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::array::{Float64Array, StringArray};
    use arrow::datatypes::{DataType, Field, Schema};

    use super::*;

    fn batch() -> RecordBatch {
        let schema = Arc::new(Schema::new(vec![
            Field::new("area_code", DataType::Utf8, true),
            Field::new("value", DataType::Float64, true),
        ]));
        RecordBatch::try_new(
            schema,
            vec![
                Arc::new(StringArray::from(vec![
                    Some("E05999001"),
                    Some("E05999002"),
                ])),
                Arc::new(Float64Array::from(vec![Some(2.5), None])),
            ],
        )
        .unwrap()
    }

    /// A withheld cell is empty in CSV and null in JSON; never zero.
    #[test]
    fn empty_cells_stay_empty() {
        let mut out = Vec::new();
        csv(&mut out, &[batch()]).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "area_code,value\nE05999001,2.5\nE05999002,\n"
        );
        let rows = json_rows(&[batch()]).unwrap();
        assert_eq!(
            rows,
            serde_json::json!([
                {"area_code": "E05999001", "value": 2.5},
                {"area_code": "E05999002", "value": null}
            ])
        );
    }
}
