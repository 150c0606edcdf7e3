//! ONS change lookups between LSOA vintages (LSOA11 → LSOA21 with `CHGIND`): the bridge that
//! moves figures between the 2011 and 2021 geographies. One dataset per vintage pair,
//! `bridge-lsoa11-lsoa21`, table `bridge` with one row per (old, new) pair.
//!
//! Every row is checked: both codes are LSOA codes, the change indicator is one the format
//! declares, no pair is listed twice, an unchanged row keeps its code, and each connected group
//! of pairs shows the change its rows state (a row marked split whose old LSOA has one new LSOA
//! only is an error naming that row).

use std::collections::{BTreeMap, HashMap};

use polars::prelude::*;
use renewal_geo::bridge::{Bridge, Change};
use renewal_geo::{HeaderRole, Level, Vintage, validate_code};
use renewal_schema::{BridgeFormat, SchemaFile};
use renewal_warehouse::{Draft, DraftTable, SchemaRef, SourceFile};

use crate::error::{IngestError, Location, Result};
use crate::frame::to_parquet;
use crate::source::TextTable;

/// Reads one change lookup table into a draft.
pub(crate) fn read_bridge(
    table: &TextTable,
    format: &BridgeFormat,
    schema_file: &SchemaFile,
    source: SourceFile,
) -> Result<Draft> {
    let mut codes: Vec<(Vintage, usize)> = Vec::new();
    let mut names: HashMap<Vintage, usize> = HashMap::new();
    let mut lad: Option<(usize, Option<usize>, Vintage)> = None;
    for (i, h) in table.headers.iter().enumerate() {
        match Vintage::from_ons_header(h) {
            Some((v, HeaderRole::Code)) if v.level == Level::Lsoa => codes.push((v, i)),
            Some((v, HeaderRole::Name)) if v.level == Level::Lsoa => {
                names.insert(v, i);
            }
            Some((v, HeaderRole::Code)) if v.level == Level::Lad => lad = Some((i, None, v)),
            _ => {}
        }
    }
    if let Some((_, name, v)) = &mut lad {
        *name = table
            .headers
            .iter()
            .position(|h| Vintage::from_ons_header(h) == Some((*v, HeaderRole::Name)));
    }
    codes.sort();
    let [(from, fi), (to, ti)] = codes[..] else {
        return Err(IngestError::invalid(
            table.location.at_line(1),
            "a change lookup needs exactly two LSOA code columns (LSOA11CD, LSOA21CD)",
        ));
    };
    if from == to {
        return Err(IngestError::invalid(
            table
                .location
                .at_line(1)
                .at_column(ti + 1, &table.headers[ti]),
            format!("both LSOA code columns are {from}"),
        ));
    }
    let ci = table.column_index(&format.change_column).ok_or_else(|| {
        IngestError::invalid(
            table.location.at_line(1),
            format!("no change column {:?}", format.change_column),
        )
    })?;

    struct Row {
        line: u64,
        from: String,
        to: String,
        change: Change,
    }
    let mut rows = Vec::with_capacity(table.rows.len());
    let mut seen: HashMap<(String, String), u64> = HashMap::new();
    let (mut from_name, mut to_name, mut lad_code, mut lad_name, mut change_col) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for row in &table.rows {
        for i in [fi, ti] {
            validate_code(Level::Lsoa, &row.fields[i])
                .map_err(|e| IngestError::invalid(table.cell(row.line, i), e.to_string()))?;
        }
        let raw = row.fields[ci].trim();
        let change = *format.changes.get(raw).ok_or_else(|| {
            IngestError::invalid(
                table.cell(row.line, ci),
                format!(
                    "unknown change indicator {raw:?} (expected {})",
                    format
                        .changes
                        .keys()
                        .cloned()
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            )
        })?;
        let (a, b) = (row.fields[fi].clone(), row.fields[ti].clone());
        if change == Change::Unchanged && a != b {
            return Err(IngestError::invalid(
                table.cell(row.line, ci),
                format!("{a} is marked unchanged but its {to} code is {b}"),
            ));
        }
        if let Some(first) = seen.insert((a.clone(), b.clone()), row.line) {
            return Err(IngestError::invalid(
                table.cell(row.line, fi),
                format!("the pair {a} → {b} is listed twice (first at line {first})"),
            ));
        }
        let name = |i: Option<&usize>| i.map(|&i| row.fields[i].clone());
        from_name.push(name(names.get(&from)));
        to_name.push(name(names.get(&to)));
        lad_code.push(lad.map(|(i, _, _)| row.fields[i].clone()));
        lad_name.push(lad.and_then(|(_, n, _)| n.map(|i| row.fields[i].clone())));
        change_col.push(change.as_str().to_owned());
        rows.push(Row {
            line: row.line,
            from: a,
            to: b,
            change,
        });
    }
    if rows.is_empty() {
        return Err(IngestError::invalid(
            table.location.clone(),
            "the change lookup has no rows",
        ));
    }

    // Each connected group must show the change its rows state.
    let bridge = Bridge::new(
        from,
        to,
        rows.iter().map(|r| (r.from.as_str(), r.to.as_str())),
    );
    let mut group_of: HashMap<&str, Change> = HashMap::new();
    let groups = bridge.groups();
    for (olds, _, change) in &groups {
        for o in olds {
            group_of.insert(o.as_str(), *change);
        }
    }
    let mut counts: BTreeMap<Change, usize> = BTreeMap::new();
    for r in &rows {
        let shape = group_of.get(r.from.as_str()).copied().unwrap_or(r.change);
        if shape != r.change {
            return Err(IngestError::invalid(
                table.cell(r.line, ci),
                format!(
                    "{} → {} is marked {} but its group of linked LSOAs is {}",
                    r.from, r.to, r.change, shape
                ),
            ));
        }
    }
    for (_, _, change) in &groups {
        *counts.entry(*change).or_default() += 1;
    }
    let from_count = bridge.from_codes().count();
    let to_count = bridge.to_codes().count();
    let summary = format!(
        "{from_count} {from} and {to_count} {to} LSOAs in {} groups: {}",
        groups.len(),
        counts
            .iter()
            .map(|(c, n)| format!("{n} {c}"))
            .collect::<Vec<_>>()
            .join(", ")
    );

    let height = rows.len();
    let mut df = DataFrame::new(
        height,
        vec![
            Column::new(
                "from_code".into(),
                rows.iter().map(|r| r.from.clone()).collect::<Vec<_>>(),
            ),
            Column::new("from_name".into(), from_name),
            Column::new(
                "to_code".into(),
                rows.iter().map(|r| r.to.clone()).collect::<Vec<_>>(),
            ),
            Column::new("to_name".into(), to_name),
            Column::new("change".into(), change_col),
            Column::new("lad_code".into(), lad_code),
            Column::new("lad_name".into(), lad_name),
        ],
    )?
    .sort(["from_code", "to_code"], SortMultipleOptions::default())?;
    let mut vintage = BTreeMap::from([
        ("from".to_owned(), from.to_string()),
        ("to".to_owned(), to.to_string()),
    ]);
    if let Some((_, _, v)) = lad {
        vintage.insert("lad".to_owned(), v.to_string());
    }
    Ok(Draft {
        dataset: renewal_warehouse::ids::bridge(from, to),
        kind: "bridge".into(),
        vintage,
        attributes: BTreeMap::from([
            ("from_lsoas".to_owned(), from_count.to_string()),
            ("to_lsoas".to_owned(), to_count.to_string()),
        ]),
        sources: vec![source],
        schemas: vec![SchemaRef {
            path: schema_file.path.clone(),
            sha256: schema_file.sha256.clone(),
        }],
        tables: vec![DraftTable {
            name: "bridge".into(),
            parquet: to_parquet(&mut df)?,
        }],
        notes: vec![summary],
    })
}

/// The error for a file that is neither a ward lookup nor a change lookup.
pub(crate) fn not_a_lookup(location: &Location) -> IngestError {
    IngestError::invalid(
        location.at_line(1),
        "not an LSOA to ward lookup (need LSOAyyCD, WDyyCD and LADyyCD columns) nor an LSOA \
         change lookup (need two LSOAyyCD columns and a change indicator column)",
    )
}
