//! The aligned table for people (`--format table`): figures rounded to what their unit can
//! honestly carry, so a screen shows `12.3` rather than `12.345678901234`. CSV, JSON and XLSX
//! keep full precision; this is only for reading.
//!
//! Rounding, per row (the row's `unit` column, when the answer has one, says what its
//! figures measure):
//! - counts and money (`numerator`, `denominator`, `payments`, `…_pence`, … columns): whole
//!   numbers as integers, others (apportioned counts, mean pence) to 1 dp;
//! - a percentage (`%`) or a rate per N (`per 1,000 residents`): 1 dp, confidence limits and
//!   gaps alike;
//! - a score, and figures without a unit: 2 dp;
//! - shares, ratios and rates (`share`, `ratio`, `response_rate_by_count`): 3 dp; percentages
//!   named as such (`change_pct`): 1 dp; p-values: 4 dp.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, Float64Array, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Schema};

use super::RenderError;

/// The rows as an aligned text table, figures rounded as the module describes.
pub fn table(batches: &[RecordBatch]) -> Result<String, RenderError> {
    let rounded: Vec<RecordBatch> = batches.iter().map(round).collect::<Result<_, _>>()?;
    Ok(arrow::util::pretty::pretty_format_batches(&rounded)?.to_string())
}

/// Decimal places for column `name` in a row whose unit is `unit`; `None`: a count.
fn places(name: &str, unit: Option<&str>) -> Option<usize> {
    const COUNTS: [&str; 7] = [
        "numerator",
        "denominator",
        "population",
        "payments",
        "pence",
        "count",
        "areas",
    ];
    if name.contains("p_value") {
        return Some(4);
    }
    // Proportions first: `response_rate_by_count` is a rate, not a count.
    if name.contains("share")
        || name.contains("ratio")
        || name.contains("rate")
        || name == "distance"
    {
        return Some(3);
    }
    if name.contains("pct") || name.contains("percent") {
        return Some(1);
    }
    if COUNTS.iter().any(|c| name.contains(c)) {
        return None;
    }
    match unit.map(str::trim) {
        Some("%") => Some(1),
        Some(u) if u.starts_with("per ") => Some(1),
        _ => Some(2),
    }
}

fn show(v: f64, places: Option<usize>) -> String {
    let text = match places {
        None if v.fract() == 0.0 && v.abs() < 1e15 => format!("{v:.0}"),
        None => format!("{v:.1}"),
        Some(p) => format!("{v:.p$}"),
    };
    // Rounding a tiny negative figure must not print "-0.0".
    match text.strip_prefix('-') {
        Some(rest) if rest.chars().all(|c| c == '0' || c == '.') => rest.to_owned(),
        _ => text,
    }
}

fn round(batch: &RecordBatch) -> Result<RecordBatch, RenderError> {
    let units: Option<&StringArray> = batch
        .column_by_name("unit")
        .and_then(|c| c.as_any().downcast_ref::<StringArray>());
    let schema = batch.schema();
    let mut fields = Vec::with_capacity(schema.fields().len());
    let mut columns: Vec<ArrayRef> = Vec::with_capacity(schema.fields().len());
    for (field, column) in schema.fields().iter().zip(batch.columns()) {
        match column.as_any().downcast_ref::<Float64Array>() {
            Some(values) => {
                let text: StringArray = (0..values.len())
                    .map(|r| {
                        (values.is_valid(r) && values.value(r).is_finite()).then(|| {
                            let unit = units.filter(|u| u.is_valid(r)).map(|u| u.value(r));
                            show(values.value(r), places(field.name(), unit))
                        })
                    })
                    .collect();
                fields.push(Field::new(field.name(), DataType::Utf8, true));
                columns.push(Arc::new(text));
            }
            None => {
                fields.push(field.as_ref().clone());
                columns.push(column.clone());
            }
        }
    }
    Ok(RecordBatch::try_new(
        Arc::new(Schema::new(fields)),
        columns,
    )?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn batch() -> RecordBatch {
        let schema = Arc::new(Schema::new(vec![
            Field::new("unit", DataType::Utf8, true),
            Field::new("value", DataType::Float64, true),
            Field::new("lower_95", DataType::Float64, true),
            Field::new("numerator", DataType::Float64, true),
            Field::new("ratio", DataType::Float64, true),
            Field::new("response_rate_by_count", DataType::Float64, true),
            Field::new("baseline_pence", DataType::Float64, true),
        ]));
        RecordBatch::try_new(
            schema,
            vec![
                Arc::new(StringArray::from(vec![
                    Some("%"),
                    Some("per 1,000 residents"),
                    Some("score"),
                    None,
                ])),
                Arc::new(Float64Array::from(vec![
                    Some(12.3456),
                    Some(81.26),
                    Some(27.456),
                    Some(-0.0004),
                ])),
                Arc::new(Float64Array::from(vec![
                    Some(10.05),
                    None,
                    Some(1.0),
                    Some(2.0),
                ])),
                Arc::new(Float64Array::from(vec![
                    Some(410.0),
                    Some(12.26),
                    None,
                    Some(3.0),
                ])),
                Arc::new(Float64Array::from(vec![Some(1.23456), None, None, None])),
                Arc::new(Float64Array::from(vec![Some(0.8), None, None, None])),
                Arc::new(Float64Array::from(vec![
                    Some(43766029.0),
                    Some(127521709.5),
                    None,
                    None,
                ])),
            ],
        )
        .unwrap()
    }

    /// Percentages and rates per N to 1 dp, scores to 2, whole counts and pence as integers,
    /// an apportioned count or a mean of pence to 1 dp, ratios and response rates to 3; an
    /// empty cell stays empty; no "-0.00".
    #[test]
    fn figures_are_rounded_by_unit() {
        let text = table(&[batch()]).unwrap();
        let rows: Vec<Vec<String>> = text
            .lines()
            .filter(|l| l.starts_with('|'))
            .skip(1)
            .map(|l| {
                l.trim_matches('|')
                    .split('|')
                    .map(|c| c.trim().to_owned())
                    .collect()
            })
            .collect();
        assert_eq!(
            rows,
            vec![
                vec!["%", "12.3", "10.1", "410", "1.235", "0.800", "43766029"],
                vec![
                    "per 1,000 residents",
                    "81.3",
                    "",
                    "12.3",
                    "",
                    "",
                    "127521709.5"
                ],
                vec!["score", "27.46", "1.00", "", "", "", ""],
                vec!["", "0.00", "2.00", "3", "", "", ""],
            ]
        );
    }
}
