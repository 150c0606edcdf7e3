//! Rendering answers: CSV (the default, exact column names), aligned tables, JSON. CSV and
//! JSON are `renewal_query::render`, which the server's HTTP feed uses too.

use std::io::Write;

use anyhow::Result;
use arrow::array::RecordBatch;
use renewal_query::{Basis, Summary};
use renewal_warehouse::Warehouse;

/// CSV with exactly the answer's columns (renewal_query's renderer, shared with the HTTP feed).
pub fn csv(out: &mut dyn Write, batches: &[RecordBatch]) -> Result<()> {
    Ok(renewal_query::render::csv(out, batches)?)
}

pub fn table(out: &mut dyn Write, batches: &[RecordBatch]) -> Result<()> {
    writeln!(
        out,
        "{}",
        arrow::util::pretty::pretty_format_batches(batches)?
    )?;
    Ok(())
}

/// The rows plus how they were built: datasets and versions, fit, notes.
pub fn json_summary(out: &mut dyn Write, summary: &Summary) -> Result<()> {
    json_answer(out, &summary.batches, &summary.basis, &summary.notes)
}

/// The JSON document (renewal_query's renderer, shared with the HTTP feed).
pub fn json_answer(
    out: &mut dyn Write,
    batches: &[RecordBatch],
    basis: &Basis,
    notes: &[String],
) -> Result<()> {
    Ok(renewal_query::render::json_answer(
        out, batches, basis, notes,
    )?)
}

/// The basis goes to stderr so CSV on stdout stays exactly the documented columns.
pub fn basis_to_stderr(basis: &Basis, notes: &[String]) {
    let datasets: Vec<String> = basis
        .datasets
        .iter()
        .map(|(d, v)| format!("{d} v{v}"))
        .collect();
    eprintln!("basis: {}; datasets: {}", basis.method, datasets.join(", "));
    for b in &basis.bridges {
        eprintln!("bridge: {b}");
    }
    for note in notes {
        eprintln!("note: {note}");
    }
}

pub async fn list(warehouse: &Warehouse, only: Option<&str>, json: bool) -> Result<()> {
    let datasets = match only {
        Some(d) => vec![d.to_owned()],
        None => warehouse.datasets().await?,
    };
    // Datasets alphabetically, each newest version first.
    let mut manifests = Vec::new();
    for d in &datasets {
        manifests.extend(warehouse.versions(d).await?.into_iter().rev());
    }
    let mut out = std::io::stdout().lock();
    if json {
        serde_json::to_writer_pretty(&mut out, &manifests)?;
        writeln!(out)?;
        return Ok(());
    }
    if manifests.is_empty() {
        writeln!(out, "the warehouse at {} is empty", warehouse.root_url())?;
        return Ok(());
    }
    let mut previous: Option<&str> = None;
    for m in &manifests {
        let is_current = previous != Some(m.dataset.as_str());
        previous = Some(m.dataset.as_str());
        let vintage: Vec<String> = m.vintage.iter().map(|(k, v)| format!("{k}={v}")).collect();
        writeln!(
            out,
            "{} v{}{}  {}  kind={} {}  rows: {}",
            m.dataset,
            m.version,
            if is_current { " (current)" } else { "" },
            m.created_at.format("%Y-%m-%d %H:%M:%SZ"),
            m.kind,
            vintage.join(" "),
            m.tables
                .iter()
                .map(|t| format!("{}={}", t.name, t.rows))
                .collect::<Vec<_>>()
                .join(" ")
        )?;
        for s in &m.sources {
            writeln!(
                out,
                "    source {} ({} bytes, {} rows, format {}) sha256 {}",
                s.name, s.size, s.rows, s.format, s.sha256
            )?;
        }
        writeln!(out, "    written by {}", m.program)?;
    }
    Ok(())
}
