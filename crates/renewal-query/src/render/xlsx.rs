//! Answers as an Excel workbook, since councils work in Excel: sheet `Answer` holds the rows
//! with typed cells (numbers as numbers, flags as TRUE/FALSE, text as text, an empty cell where
//! a figure is missing or withheld — never zero), and sheet `Notes` says how they were built:
//! method, fit, every dataset and version, bridges, the answer's notes and which rows were
//! suppressed.
//!
//! Text is always written as a text cell, never as a formula, so a value such as `=HYPERLINK(…)`
//! arriving from a published file shows as the characters it is and runs nothing.

use arrow::array::{
    Array, AsArray, BooleanArray, Float64Array, Int64Array, RecordBatch, StringArray, UInt64Array,
};
use arrow::datatypes::DataType;
use rust_xlsxwriter::{Format, Workbook, Worksheet, XlsxError};

use super::RenderError;
use crate::Basis;

/// Excel's limit on the characters in one cell.
const MAX_CELL_CHARS: usize = 32_767;
/// Excel's last row (1,048,576 rows, the header included).
const MAX_ROWS: usize = 1_048_575;

impl From<XlsxError> for RenderError {
    fn from(e: XlsxError) -> RenderError {
        RenderError::Xlsx(e.to_string())
    }
}

/// The workbook's bytes for an answer (`title` names it on the notes sheet, e.g. the
/// question: `renewal gap`).
pub fn xlsx(
    batches: &[RecordBatch],
    basis: &Basis,
    notes: &[String],
    title: &str,
) -> Result<Vec<u8>, RenderError> {
    let rows: usize = batches.iter().map(RecordBatch::num_rows).sum();
    if rows > MAX_ROWS {
        return Err(RenderError::Xlsx(format!(
            "{rows} rows do not fit in one worksheet (Excel's limit is {MAX_ROWS}); use --format csv"
        )));
    }
    let mut workbook = Workbook::new();
    let bold = Format::new().set_bold();

    let sheet = workbook.add_worksheet();
    sheet.set_name("Answer")?;
    let mut suppressed = 0usize;
    let mut withheld_cells = 0usize;
    if let Some(first) = batches.first() {
        let schema = first.schema();
        for (c, field) in schema.fields().iter().enumerate() {
            let col = col_index(c)?;
            sheet.write_string_with_format(0, col, field.name(), &bold)?;
            let width = field.name().chars().count().clamp(8, 40) as f64 + 2.0;
            sheet.set_column_width(col, width)?;
        }
        let mut row: u32 = 1;
        for batch in batches {
            for r in 0..batch.num_rows() {
                for (c, column) in batch.columns().iter().enumerate() {
                    write_cell(sheet, row, col_index(c)?, column.as_ref(), r)?;
                }
                if flag(batch, "suppressed", r) {
                    suppressed += 1;
                }
                row += 1;
            }
            if let Some(w) = batch.column_by_name("withheld") {
                withheld_cells += (0..batch.num_rows())
                    .filter(|&r| {
                        w.is_valid(r) && text_at(w.as_ref(), r).is_some_and(|t| !t.is_empty())
                    })
                    .count();
            }
        }
        sheet.set_freeze_panes(1, 0)?;
        if let Some(last) = schema.fields().len().checked_sub(1) {
            sheet.autofilter(0, 0, row.saturating_sub(1).max(1), col_index(last)?)?;
        }
    }

    let about = workbook.add_worksheet();
    about.set_name("Notes")?;
    about.set_column_width(0, 22)?;
    about.set_column_width(1, 100)?;
    let mut line: u32 = 0;
    let mut put = |sheet: &mut Worksheet, key: &str, value: &str| -> Result<(), RenderError> {
        sheet.write_string_with_format(line, 0, key, &bold)?;
        sheet.write_string(line, 1, clip(value))?;
        line += 1;
        Ok(())
    };
    put(about, "answer", title)?;
    put(about, "rows", &rows.to_string())?;
    put(about, "method", &basis.method)?;
    put(about, "fit", &basis.fit.to_string())?;
    for (dataset, version) in &basis.datasets {
        put(about, "dataset", &format!("{dataset} version {version}"))?;
    }
    for bridge in &basis.bridges {
        put(about, "bridge", &bridge.to_string())?;
    }
    put(
        about,
        "suppressed rows",
        &format!(
            "{suppressed} (disclosure control: their withheld figures are empty cells, as are figures that are not available; an empty cell is never zero)"
        ),
    )?;
    if withheld_cells > 0 {
        put(
            about,
            "withheld",
            &format!("{withheld_cells} rows name the figures withheld in their `withheld` column"),
        )?;
    }
    for note in notes {
        put(about, "note", note)?;
    }
    Ok(workbook.save_to_buffer()?)
}

fn col_index(c: usize) -> Result<u16, RenderError> {
    u16::try_from(c)
        .ok()
        .filter(|&c| c < 16_384)
        .ok_or_else(|| RenderError::Xlsx(format!("column {c} is beyond Excel's 16,384")))
}

/// Excel refuses longer cells; a longer text is cut with a marker rather than the workbook
/// failing (no answer column comes near it; a long note might).
fn clip(text: &str) -> &str {
    match text.char_indices().nth(MAX_CELL_CHARS - 1) {
        None => text,
        Some((i, _)) => &text[..i],
    }
}

fn text_at(column: &dyn Array, r: usize) -> Option<&str> {
    match column.data_type() {
        DataType::Utf8 => column
            .as_any()
            .downcast_ref::<StringArray>()
            .map(|a| a.value(r)),
        DataType::Utf8View => Some(column.as_string_view().value(r)),
        DataType::LargeUtf8 => Some(column.as_string::<i64>().value(r)),
        _ => None,
    }
}

fn flag(batch: &RecordBatch, name: &str, r: usize) -> bool {
    batch
        .column_by_name(name)
        .and_then(|c| c.as_any().downcast_ref::<BooleanArray>())
        .is_some_and(|a| a.is_valid(r) && a.value(r))
}

fn write_cell(
    sheet: &mut Worksheet,
    row: u32,
    col: u16,
    column: &dyn Array,
    r: usize,
) -> Result<(), RenderError> {
    if column.is_null(r) {
        return Ok(());
    }
    let any = column.as_any();
    if let Some(a) = any.downcast_ref::<Float64Array>() {
        let v = a.value(r);
        // Excel has no NaN or infinity: such a figure is not available, so the cell is empty.
        if v.is_finite() {
            sheet.write_number(row, col, v)?;
        }
    } else if let Some(a) = any.downcast_ref::<Int64Array>() {
        // Excel's numbers are doubles: exact to 2^53, far beyond any count or pence total here.
        sheet.write_number(row, col, a.value(r) as f64)?;
    } else if let Some(a) = any.downcast_ref::<UInt64Array>() {
        sheet.write_number(row, col, a.value(r) as f64)?;
    } else if let Some(a) = any.downcast_ref::<BooleanArray>() {
        sheet.write_boolean(row, col, a.value(r))?;
    } else if let Some(t) = text_at(column, r) {
        sheet.write_string(row, col, clip(t))?;
    } else {
        // Any other type (none is declared by answers today) is written as its display text.
        let text = arrow::util::display::array_value_to_string(column, r)?;
        sheet.write_string(row, col, clip(&text))?;
    }
    Ok(())
}
