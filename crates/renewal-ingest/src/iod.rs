//! English Indices of Deprivation: any mix of official and community files of one edition,
//! recognised by header through `data-schemas/datasets/iod/`, merged by LSOA into one long table.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::PathBuf;

use polars::prelude::*;
use renewal_geo::{Level, validate_code};
use renewal_schema::{Catalog, IodFormat, IodSummaryFormat, Measure, SchemaFile};
use renewal_warehouse::{Draft, DraftTable, SchemaRef};

use crate::error::{IngestError, Location, Result};
use crate::frame::{text_column, to_parquet};
use crate::number::{parse_number, parse_whole, round_to};
use crate::progress::Progress;
use crate::source::{SourceBytes, TextTable, ambiguous_formats, read_tables};

/// Long table of values, one row per (LSOA, domain, measure), built up file by file.
#[derive(Default)]
struct Values {
    lsoa: Vec<String>,
    domain: Vec<String>,
    measure: Vec<String>,
    value: Vec<f64>,
    source: Vec<String>,
    line: Vec<u64>,
}

/// What the files say about an LSOA besides its values; every file must agree.
#[derive(Default)]
struct LsoaInfo {
    name: Option<(String, Location)>,
    lad: Option<(String, Location)>,
    lad_name: Option<String>,
}

/// Reads IoD files of one edition into a draft of dataset `iod-<vintage>`.
pub fn read_iod(
    catalog: &Catalog,
    vintage: &str,
    files: &[PathBuf],
    progress: &dyn Progress,
) -> Result<Draft> {
    let formats: Vec<&(SchemaFile, IodFormat)> = catalog.iod_formats(vintage).collect();
    if formats.is_empty() {
        let known: Vec<_> = catalog.iod_vintages().into_iter().collect();
        return Err(IngestError::Usage(format!(
            "no Indices of Deprivation formats for vintage {vintage:?} (known: {})",
            known.join(", ")
        )));
    }
    if files.is_empty() {
        return Err(IngestError::Usage("no input files given".into()));
    }
    let national = formats[0].1.national_lsoa_count;
    let mut values = Values::default();
    let mut summaries = Summaries::default();
    let mut lsoas: BTreeMap<String, LsoaInfo> = BTreeMap::new();
    let mut sources = Vec::new();
    let mut schemas = BTreeMap::new();
    let mut lad_vintages = BTreeSet::new();
    let mut notes = Vec::new();
    let mut seen_hashes = HashMap::new();

    for path in files {
        let source = SourceBytes::read(path)?;
        progress.start_file(&source.name, source.bytes.len() as u64);
        if let Some(first) = seen_hashes.insert(source.sha256.clone(), source.name.clone()) {
            notes.push(format!(
                "{} is byte-identical to {first}; read once",
                source.name
            ));
            progress.finish_file(&source.name, 0);
            continue;
        }
        let tables = read_tables(&source, progress)?;
        let (rows, schema_file, format_id) =
            match recognise(&source.name, &tables, &formats, catalog, vintage) {
                Ok((table, (schema_file, format))) => {
                    let rows = read_table(
                        table,
                        format,
                        &source.name,
                        &mut values,
                        &mut lsoas,
                        &mut notes,
                    )?;
                    if let Some(v) = format.lad_vintage {
                        lad_vintages.insert(v.to_string());
                    }
                    (rows, schema_file, format.id.clone())
                }
                // Not LSOA-level: perhaps published area summaries (File 10), one sheet per domain.
                Err(not_lsoa) => {
                    let sheets = summary_sheets(&tables, catalog, vintage);
                    let Some((_, (schema_file, format))) = sheets.first() else {
                        return Err(not_lsoa);
                    };
                    let mut rows = 0;
                    for (table, (_, format)) in &sheets {
                        rows += read_summary_table(
                            table,
                            format,
                            &source.name,
                            &mut summaries,
                            &mut notes,
                        )?;
                    }
                    (rows, schema_file, format.id.clone())
                }
            };
        tracing::info!(file = %source.name, format = %format_id, rows, "read IoD file");
        progress.finish_file(&source.name, rows);
        schemas.insert(schema_file.path.clone(), schema_file.sha256.clone());
        sources.push(source.provenance(&format_id, rows));
    }
    if values.value.is_empty() && summaries.values.value.is_empty() {
        return Err(IngestError::invalid(
            Location::file(sources.first().map_or("input", |s| s.name.as_str())),
            "no values were read",
        ));
    }

    progress.stage("merging files by LSOA");
    let mut iod = lsoa_values_frame(values, &lsoas, vintage)?;
    let mut lsoa_frame = lsoa_frame(&lsoas)?;
    if lsoas.len() as u32 != national {
        notes.push(format!(
            "covers {} of the {national} LSOAs ranked nationally",
            lsoas.len()
        ));
    }

    progress.stage("writing Parquet");
    let mut tables = vec![
        DraftTable {
            name: "iod".into(),
            parquet: to_parquet(&mut iod)?,
        },
        DraftTable {
            name: "lsoa".into(),
            parquet: to_parquet(&mut lsoa_frame)?,
        },
    ];
    if !summaries.values.value.is_empty() {
        tables.push(DraftTable {
            name: "lad_summary".into(),
            parquet: to_parquet(&mut summary_frame(summaries, vintage)?)?,
        });
    }
    let lsoa_vintage = formats[0].1.lsoa_vintage.to_string();
    let mut vintage_map = BTreeMap::from([
        ("edition".to_owned(), vintage.to_owned()),
        ("lsoa".to_owned(), lsoa_vintage),
    ]);
    if !lad_vintages.is_empty() {
        vintage_map.insert(
            "lad".to_owned(),
            lad_vintages.into_iter().collect::<Vec<_>>().join(","),
        );
    }
    Ok(Draft {
        dataset: renewal_warehouse::ids::iod(vintage),
        kind: "iod".into(),
        vintage: vintage_map,
        attributes: BTreeMap::from([("national_lsoa_count".to_owned(), national.to_string())]),
        sources,
        schemas: schemas
            .into_iter()
            .map(|(path, sha256)| SchemaRef { path, sha256 })
            .collect(),
        tables,
        notes,
    })
}

/// Picks the table (CSV, or the sheet of a workbook) and the format that reads it.
fn recognise<'t, 'f>(
    name: &str,
    tables: &'t [TextTable],
    formats: &[&'f (SchemaFile, IodFormat)],
    catalog: &Catalog,
    vintage: &str,
) -> Result<(&'t TextTable, &'f (SchemaFile, IodFormat))> {
    for table in tables {
        let matching: Vec<_> = formats
            .iter()
            .filter(|(_, f)| f.matches(&table.headers))
            .collect();
        match matching.as_slice() {
            [] => continue,
            [one] => return Ok((table, **one)),
            many => {
                return Err(ambiguous_formats(
                    table,
                    many.iter().map(|(_, f)| f.id.as_str()),
                ));
            }
        }
    }
    // Say what it looks like instead, if anything: the usual mistake is the wrong edition.
    let elsewhere: Vec<_> = catalog
        .iod
        .iter()
        .filter(|(_, f)| f.vintage != vintage)
        .filter(|(_, f)| tables.iter().any(|t| f.matches(&t.headers)))
        .map(|(_, f)| format!("{} (vintage {})", f.id, f.vintage))
        .collect();
    let hint = if elsewhere.is_empty() {
        let known: Vec<_> = formats.iter().map(|(_, f)| f.id.as_str()).collect();
        format!(
            "its header matches no Indices of Deprivation {vintage} format (known: {}); first columns: {}",
            known.join(", "),
            tables
                .first()
                .map(|t| t
                    .headers
                    .iter()
                    .take(4)
                    .map(|h| format!("{h:?}"))
                    .collect::<Vec<_>>()
                    .join(", "))
                .unwrap_or_default()
        )
    } else {
        format!(
            "it looks like {}, not vintage {vintage}; check --vintage",
            elsewhere.join(" or ")
        )
    };
    Err(IngestError::invalid(Location::file(name), hint))
}

struct ColumnPlan<'f> {
    index: usize,
    column: &'f renewal_schema::ValueColumn,
}

/// Reads one recognised table, returning how many data rows it kept.
fn read_table(
    table: &TextTable,
    format: &IodFormat,
    file: &str,
    values: &mut Values,
    lsoas: &mut BTreeMap<String, LsoaInfo>,
    notes: &mut Vec<String>,
) -> Result<u64> {
    let col = |header: &str| table.column_index(header);
    let missing_key = |header: &str| {
        IngestError::invalid(
            table.location.at_line(1),
            format!("missing column {header:?}"),
        )
    };
    let lsoa_col =
        col(&format.keys.lsoa_code).ok_or_else(|| missing_key(&format.keys.lsoa_code))?;
    let name_col = format.keys.lsoa_name.as_deref().and_then(col);
    let lad_col = format.keys.lad_code.as_deref().and_then(col);
    let lad_name_col = format.keys.lad_name.as_deref().and_then(col);
    let filter = format
        .filter
        .as_ref()
        .map(|f| (col(&f.column), f))
        .map(|(i, f)| {
            i.map(|i| (i, f.equals.as_str()))
                .ok_or_else(|| missing_key(&f.column))
        })
        .transpose()?;

    let mut plans = Vec::new();
    let mut ignored = Vec::new();
    for (index, header) in table.headers.iter().enumerate() {
        if let Some(column) = format.column(header) {
            plans.push(ColumnPlan { index, column });
        } else {
            let is_key = [
                Some(lsoa_col),
                name_col,
                lad_col,
                lad_name_col,
                filter.map(|f| f.0),
            ]
            .contains(&Some(index));
            if !is_key && !format.ignore.iter().any(|i| i == header) {
                ignored.push(format!("{header:?}"));
            }
        }
    }
    if !ignored.is_empty() {
        notes.push(format!(
            "{file}: columns not in format {} were not stored: {}",
            format.id,
            ignored.join(", ")
        ));
    }

    let national = i64::from(format.national_lsoa_count);
    let mut seen: HashMap<&str, u64> = HashMap::new();
    let mut kept = 0u64;
    let mut filtered = 0u64;
    let mut empty_cells = 0u64;
    for row in &table.rows {
        if let Some((i, wanted)) = filter
            && row.fields[i] != wanted
        {
            filtered += 1;
            continue;
        }
        let lsoa = row.fields[lsoa_col].as_str();
        validate_code(Level::Lsoa, lsoa)
            .map_err(|e| IngestError::invalid(table.cell(row.line, lsoa_col), e.to_string()))?;
        if !lsoa.starts_with('E') {
            return Err(IngestError::invalid(
                table.cell(row.line, lsoa_col),
                format!(
                    "{lsoa} is not an English LSOA; the Indices of Deprivation cover England only"
                ),
            ));
        }
        if let Some(first) = seen.insert(lsoa, row.line) {
            return Err(IngestError::invalid(
                table.cell(row.line, lsoa_col),
                format!("LSOA {lsoa} appears twice in this file (also line {first})"),
            ));
        }
        let info = lsoas.entry(lsoa.to_owned()).or_default();
        if let Some(i) = name_col {
            agree(
                &mut info.name,
                &row.fields[i],
                table.cell(row.line, i),
                "LSOA name",
            )?;
        }
        if let Some(i) = lad_col {
            let lad = &row.fields[i];
            validate_code(Level::Lad, lad)
                .map_err(|e| IngestError::invalid(table.cell(row.line, i), e.to_string()))?;
            agree(
                &mut info.lad,
                lad,
                table.cell(row.line, i),
                "local authority",
            )?;
            if let Some(n) = lad_name_col {
                info.lad_name.get_or_insert_with(|| row.fields[n].clone());
            }
        }
        for plan in &plans {
            let text = &row.fields[plan.index];
            if text.is_empty() {
                empty_cells += 1;
                continue;
            }
            let cell = || table.cell(row.line, plan.index);
            let value = parse_value(text, plan.column, national)
                .map_err(|message| IngestError::invalid(cell(), message))?;
            values.lsoa.push(lsoa.to_owned());
            values.domain.push(plan.column.domain.clone());
            values.measure.push(plan.column.measure.as_str().to_owned());
            values.value.push(value);
            values.source.push(file.to_owned());
            values.line.push(row.line);
        }
        kept += 1;
    }
    if filtered > 0 {
        let f = format.filter.as_ref().map_or("", |f| f.column.as_str());
        notes.push(format!(
            "{file}: {filtered} rows skipped by the format's filter on {f:?}"
        ));
    }
    if empty_cells > 0 {
        notes.push(format!(
            "{file}: {empty_cells} empty cells stored as missing"
        ));
    }
    Ok(kept)
}

fn parse_value(
    text: &str,
    column: &renewal_schema::ValueColumn,
    national: i64,
) -> Result<f64, String> {
    match column.measure {
        Measure::Rank => {
            let r = parse_whole(text)?;
            if !(1..=national).contains(&r) {
                return Err(format!("rank {r} is outside 1..={national}"));
            }
            Ok(r as f64)
        }
        Measure::Decile => {
            let d = parse_whole(text)?;
            if !(1..=10).contains(&d) {
                return Err(format!("decile {d} is outside 1..=10"));
            }
            Ok(d as f64)
        }
        Measure::Denominator => {
            let v = parse_number(text)?;
            if v < 0.0 {
                return Err(format!("population {v} is negative"));
            }
            Ok(v)
        }
        Measure::Score | Measure::Transformed => {
            let mut v = parse_number(text)?;
            if let Some(scale) = column.scale {
                v *= scale;
            }
            if let Some(d) = column.decimals {
                v = round_to(v, d);
            }
            Ok(v)
        }
    }
}

/// Records a fact about an LSOA, or fails if another file said something else.
fn agree(
    slot: &mut Option<(String, Location)>,
    value: &str,
    here: Location,
    what: &str,
) -> Result<()> {
    match slot {
        None => {
            *slot = Some((value.to_owned(), here));
            Ok(())
        }
        Some((existing, _)) if existing == value => Ok(()),
        Some((existing, there)) => Err(IngestError::invalid(
            here,
            format!("{what} {value:?} conflicts with {existing:?} at {there}"),
        )),
    }
}

/// Concatenates every file's values, drops exact repeats (the same figure in File 1 and File 7)
/// and fails on any cell given two different values. `key` names the area column.
fn merge_values(values: Values, key: &str) -> Result<DataFrame> {
    let height = values.value.len();
    let df = DataFrame::new(
        height,
        vec![
            Column::new(key.into(), values.lsoa),
            Column::new("domain".into(), values.domain),
            Column::new("measure".into(), values.measure),
            Column::new("value".into(), values.value),
            Column::new("source".into(), values.source),
            Column::new("line".into(), values.line),
        ],
    )?;
    let cell = [key, "domain", "measure"].map(String::from);
    let with_value: Vec<String> = cell.iter().cloned().chain(["value".to_owned()]).collect();
    let distinct = df.unique_stable(Some(&with_value), UniqueKeepStrategy::First, None)?;
    let duplicated = distinct.select(cell.clone())?.is_duplicated()?;
    if duplicated.any() {
        return Err(conflict(&distinct.filter(&duplicated)?, key)?);
    }
    Ok(distinct
        .sort(cell.to_vec(), SortMultipleOptions::default())?
        .drop("line")?)
}

/// The long LSOA table: merged values with the edition and each LSOA's district.
fn lsoa_values_frame(
    values: Values,
    lsoas: &BTreeMap<String, LsoaInfo>,
    vintage: &str,
) -> Result<DataFrame> {
    let mut merged = merge_values(values, "lsoa_code")?;
    let lad: Vec<Option<String>> = merged
        .column("lsoa_code")?
        .str()?
        .iter()
        .map(|l| {
            l.and_then(|l| lsoas.get(l))
                .and_then(|i| i.lad.as_ref())
                .map(|(code, _)| code.clone())
        })
        .collect();
    let height = merged.height();
    merged.insert_column(0, Column::new("vintage".into(), vec![vintage; height]))?;
    merged.insert_column(2, text_column("lad_code", lad))?;
    Ok(merged)
}

fn conflict(rows: &DataFrame, key: &str) -> Result<IngestError> {
    let lsoa = rows.column(key)?.str()?;
    let domain = rows.column("domain")?.str()?;
    let measure = rows.column("measure")?.str()?;
    let value = rows.column("value")?.f64()?;
    let source = rows.column("source")?.str()?;
    let line = rows.column("line")?.u64()?;
    let first = |i: usize| {
        (
            lsoa.get(i).unwrap_or_default(),
            domain.get(i).unwrap_or_default(),
            measure.get(i).unwrap_or_default(),
        )
    };
    let target = first(0);
    let mut places = Vec::new();
    for i in 0..rows.height() {
        if first(i) == target {
            places.push(format!(
                "{} in {}, line {}",
                value.get(i).unwrap_or(f64::NAN),
                source.get(i).unwrap_or_default(),
                line.get(i).unwrap_or_default()
            ));
        }
    }
    let (l, d, m) = target;
    let cells: std::collections::HashSet<_> = (0..rows.height()).map(first).collect();
    let more = match cells.len() {
        1 => String::new(),
        n => format!("; {n} cells conflict in all"),
    };
    Ok(IngestError::invalid(
        Location::file(source.get(0).unwrap_or_default()).at_line(line.get(0).unwrap_or_default()),
        format!(
            "conflicting values for {} {l} {d} {m}: {}{more}",
            if key == "lsoa_code" { "LSOA" } else { "area" },
            places.join(" vs ")
        ),
    ))
}

fn lsoa_frame(lsoas: &BTreeMap<String, LsoaInfo>) -> Result<DataFrame> {
    let codes: Vec<&str> = lsoas.keys().map(String::as_str).collect();
    let names = lsoas
        .values()
        .map(|i| i.name.as_ref().map(|n| n.0.clone()))
        .collect();
    let lads = lsoas
        .values()
        .map(|i| i.lad.as_ref().map(|n| n.0.clone()))
        .collect();
    let lad_names = lsoas.values().map(|i| i.lad_name.clone()).collect();
    Ok(DataFrame::new(
        codes.len(),
        vec![
            Column::new("lsoa_code".into(), codes),
            text_column("lsoa_name", names),
            text_column("lad_code", lads),
            text_column("lad_name", lad_names),
        ],
    )?)
}

/// Published area-level summaries (File 10): values by district, plus the districts' names.
#[derive(Default)]
struct Summaries {
    values: Values,
    names: BTreeMap<String, String>,
}

/// Every sheet of a workbook that an area-summary format of this edition reads.
fn summary_sheets<'t, 'c>(
    tables: &'t [TextTable],
    catalog: &'c Catalog,
    vintage: &str,
) -> Vec<(&'t TextTable, &'c (SchemaFile, IodSummaryFormat))> {
    tables
        .iter()
        .filter_map(|t| {
            catalog
                .iod_summary_formats(vintage)
                .find(|(_, f)| f.matches(&t.headers))
                .map(|f| (t, f))
        })
        .collect()
}

fn read_summary_table(
    table: &TextTable,
    format: &IodSummaryFormat,
    file: &str,
    into: &mut Summaries,
    notes: &mut Vec<String>,
) -> Result<u64> {
    let code_col = table
        .headers
        .iter()
        .position(|h| h.trim() == format.keys.area_code)
        .ok_or_else(|| {
            IngestError::invalid(
                table.location.at_line(1),
                format!("missing column {:?}", format.keys.area_code),
            )
        })?;
    let name_col = format
        .keys
        .area_name
        .as_deref()
        .and_then(|n| table.headers.iter().position(|h| h.trim() == n));
    let mut plans = Vec::new();
    let mut ignored = Vec::new();
    for (i, header) in table.headers.iter().enumerate() {
        match format.column(header) {
            Some(c) => plans.push((i, c)),
            None if Some(i) != name_col && i != code_col => ignored.push(format!("{header:?}")),
            None => {}
        }
    }
    if !ignored.is_empty() {
        notes.push(format!(
            "{file}: columns not in format {} were not stored: {}",
            format.id,
            ignored.join(", ")
        ));
    }
    let level = format.area_vintage.level;
    let mut seen: HashMap<&str, u64> = HashMap::new();
    for row in &table.rows {
        let code = row.fields[code_col].as_str();
        validate_code(level, code)
            .map_err(|e| IngestError::invalid(table.cell(row.line, code_col), e.to_string()))?;
        if let Some(first) = seen.insert(code, row.line) {
            return Err(IngestError::invalid(
                table.cell(row.line, code_col),
                format!("{code} appears twice in this sheet (also row {first})"),
            ));
        }
        if let Some(n) = name_col {
            into.names
                .entry(code.to_owned())
                .or_insert_with(|| row.fields[n].clone());
        }
        for &(i, column) in &plans {
            let text = &row.fields[i];
            if text.is_empty() {
                continue;
            }
            let value = parse_number(text)
                .map_err(|message| IngestError::invalid(table.cell(row.line, i), message))?;
            into.values.lsoa.push(code.to_owned());
            into.values.domain.push(column.domain.clone());
            into.values.measure.push(column.measure.clone());
            into.values.value.push(value);
            into.values.source.push(file.to_owned());
            into.values.line.push(row.line);
        }
    }
    Ok(table.rows.len() as u64)
}

fn summary_frame(summaries: Summaries, vintage: &str) -> Result<DataFrame> {
    let mut merged = merge_values(summaries.values, "area_code")?;
    let names: Vec<Option<String>> = merged
        .column("area_code")?
        .str()?
        .iter()
        .map(|c| c.and_then(|c| summaries.names.get(c)).cloned())
        .collect();
    let height = merged.height();
    merged.insert_column(0, Column::new("vintage".into(), vec![vintage; height]))?;
    merged.insert_column(2, text_column("area_name", names))?;
    Ok(merged)
}
