//! Rendering answers: CSV (the default, exact column names), aligned tables rounded per unit,
//! JSON and XLSX workbooks, all `renewal_query::render`, which the server's HTTP feed uses too.

use std::io::{IsTerminal, Write};
use std::path::Path;

use anyhow::{Context, Result, bail};
use arrow::array::RecordBatch;
use renewal_query::Basis;
use renewal_warehouse::Warehouse;

/// CSV with exactly the answer's columns (renewal_query's renderer, shared with the HTTP feed).
pub fn csv(out: &mut dyn Write, batches: &[RecordBatch]) -> Result<()> {
    Ok(renewal_query::render::csv(out, batches)?)
}

/// Writes an answer in `format` to `out_path` (standard output without one), and the basis
/// and notes to standard error unless the format carries them (JSON, XLSX). The one place the
/// question commands render, so every question has every format.
pub fn answer(
    format: crate::Format,
    out_path: Option<&Path>,
    batches: &[RecordBatch],
    basis: &Basis,
    notes: &[String],
    title: &str,
) -> Result<()> {
    use crate::Format;
    if matches!(format, Format::Xlsx) && out_path.is_none() && std::io::stdout().is_terminal() {
        bail!(
            "--format xlsx writes a workbook: give --out FILE.xlsx (or redirect standard output)"
        );
    }
    let mut out: Box<dyn Write> = match out_path {
        Some(path) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))?,
        )),
        None => Box::new(std::io::stdout().lock()),
    };
    match format {
        Format::Csv => csv(&mut out, batches)?,
        Format::Table => writeln!(out, "{}", renewal_query::render::table(batches)?)?,
        Format::Json => json_answer(&mut out, batches, basis, notes)?,
        Format::Xlsx => {
            out.write_all(&renewal_query::render::xlsx(batches, basis, notes, title)?)?
        }
    }
    out.flush()?;
    if matches!(format, Format::Csv | Format::Table) {
        basis_to_stderr(basis, notes);
    }
    Ok(())
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
