//! ONS LSOA → ward → local authority lookups. The vintages come from the headers (`WD19CD` →
//! WD19), and each (LSOA vintage, ward vintage) pair is its own dataset, so every vintage
//! lives side by side in the warehouse. Change lookups between LSOA vintages given to the same
//! command become bridges (module `bridge`).

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;

use polars::prelude::*;
use renewal_geo::{HeaderRole, Level, Vintage, validate_code};
use renewal_schema::{Catalog, LookupFormat, SchemaFile};
use renewal_warehouse::{Draft, DraftTable, SchemaRef, SourceFile};

use crate::error::{IngestError, Location, Result};
use crate::frame::to_parquet;
use crate::progress::Progress;
use crate::source::{SourceBytes, TextTable, read_tables};

#[derive(Default)]
struct Rows {
    lsoa_code: Vec<String>,
    lsoa_name: Vec<Option<String>>,
    ward_code: Vec<String>,
    ward_name: Vec<Option<String>>,
    lad_code: Vec<String>,
    lad_name: Vec<Option<String>>,
}

struct Pending {
    vintages: [Vintage; 3],
    rows: Rows,
    seen: HashMap<String, Location>,
    sources: Vec<SourceFile>,
    notes: Vec<String>,
}

/// The columns of a lookup file, found by their ONS header names.
struct Columns {
    vintages: [Vintage; 3],
    code: [usize; 3],
    name: [Option<usize>; 3],
}

const LEVELS: [Level; 3] = [Level::Lsoa, Level::Ward, Level::Lad];

/// Reads lookup files into one draft per (LSOA vintage, ward vintage) found.
pub fn read_lookups(
    catalog: &Catalog,
    files: &[PathBuf],
    progress: &dyn Progress,
) -> Result<Vec<Draft>> {
    let (schema_file, format) = catalog
        .lookup
        .first()
        .ok_or_else(|| IngestError::Usage("data-schemas defines no lookup format".into()))?;
    let mut pending: BTreeMap<String, Pending> = BTreeMap::new();
    let mut bridges: Vec<Draft> = Vec::new();
    for path in files {
        let source = SourceBytes::read(path)?;
        progress.start_file(&source.name, source.bytes.len() as u64);
        let tables = read_tables(&source, progress)?;
        // A change lookup between two LSOA vintages (LSOA11 → LSOA21) is a bridge, not a ward
        // lookup: it has two LSOA code columns and a change indicator.
        if let Some((table, (bridge_file, bridge_format))) = tables.iter().find_map(|t| {
            catalog
                .bridge
                .iter()
                .find(|(_, f)| f.matches(&t.headers))
                .map(|f| (t, f))
        }) {
            let rows = table.rows.len() as u64;
            progress.finish_file(&source.name, rows);
            let provenance = source.provenance(&bridge_format.id, rows);
            let draft = crate::bridge::read_bridge(table, bridge_format, bridge_file, provenance)?;
            if bridges.iter().any(|d: &Draft| d.dataset == draft.dataset) {
                return Err(IngestError::Usage(format!(
                    "two change lookups for {} in one call; ingest one at a time",
                    draft.dataset
                )));
            }
            bridges.push(draft);
            continue;
        }
        let (table, columns) = tables
            .iter()
            .find_map(|t| {
                find_columns(t, format)
                    .transpose()
                    .map(|c| c.map(|c| (t, c)))
            })
            .transpose()?
            .ok_or_else(|| crate::bridge::not_a_lookup(&Location::file(&source.name)))?;
        let [lsoa_v, ward_v, _] = columns.vintages;
        let id = renewal_warehouse::ids::lookup(lsoa_v, ward_v);
        let entry = pending.entry(id).or_insert_with(|| Pending {
            vintages: columns.vintages,
            rows: Rows::default(),
            seen: HashMap::new(),
            sources: Vec::new(),
            notes: Vec::new(),
        });
        if entry.vintages != columns.vintages {
            return Err(IngestError::invalid(
                table.location.at_line(1),
                format!(
                    "local authority vintage {} differs from {} in another file for the same wards",
                    columns.vintages[2], entry.vintages[2]
                ),
            ));
        }
        let rows = read_rows(table, &columns, entry)?;
        progress.finish_file(&source.name, rows);
        entry.sources.push(source.provenance(&format.id, rows));
    }
    progress.stage("writing Parquet");
    let mut drafts = pending
        .into_iter()
        .map(|(id, p)| draft(id, p, schema_file, format))
        .collect::<Result<Vec<_>>>()?;
    drafts.extend(bridges);
    Ok(drafts)
}

fn find_columns(table: &TextTable, format: &LookupFormat) -> Result<Option<Columns>> {
    let mut code: [Option<(Vintage, usize)>; 3] = [None; 3];
    let mut name: [Option<usize>; 3] = [None; 3];
    for (i, header) in table.headers.iter().enumerate() {
        let Some((vintage, role)) = Vintage::from_ons_header(header) else {
            continue;
        };
        let level = LEVELS.iter().position(|l| *l == vintage.level).unwrap_or(0);
        match role {
            HeaderRole::Code => {
                if let Some((other, j)) = code[level] {
                    return Err(IngestError::invalid(
                        table.location.at_line(1).at_column(i + 1, header),
                        format!(
                            "a second {} code column (column {} is {other}); split the file by vintage",
                            vintage.level.describe(),
                            j + 1
                        ),
                    ));
                }
                code[level] = Some((vintage, i));
            }
            HeaderRole::Name => name[level] = Some(i),
        }
    }
    let _ = &format.ignore; // other columns are simply not read
    match code {
        [Some(l), Some(w), Some(a)] => Ok(Some(Columns {
            vintages: [l.0, w.0, a.0],
            code: [l.1, w.1, a.1],
            name,
        })),
        _ => Ok(None),
    }
}

fn read_rows(table: &TextTable, columns: &Columns, into: &mut Pending) -> Result<u64> {
    let mut n = 0;
    for row in &table.rows {
        for (k, level) in LEVELS.iter().enumerate() {
            let i = columns.code[k];
            validate_code(*level, &row.fields[i])
                .map_err(|e| IngestError::invalid(table.cell(row.line, i), e.to_string()))?;
        }
        let lsoa = &row.fields[columns.code[0]];
        let here = table.cell(row.line, columns.code[0]);
        if let Some(there) = into.seen.get(lsoa) {
            return Err(IngestError::invalid(
                here,
                format!(
                    "LSOA {lsoa} is assigned twice (also at {there}); a best-fit lookup gives each LSOA one ward"
                ),
            ));
        }
        into.seen.insert(lsoa.clone(), here);
        let name = |k: usize| columns.name[k].map(|i| row.fields[i].clone());
        into.rows.lsoa_code.push(lsoa.clone());
        into.rows.lsoa_name.push(name(0));
        into.rows
            .ward_code
            .push(row.fields[columns.code[1]].clone());
        into.rows.ward_name.push(name(1));
        into.rows.lad_code.push(row.fields[columns.code[2]].clone());
        into.rows.lad_name.push(name(2));
        n += 1;
    }
    if n == 0 {
        return Err(IngestError::invalid(
            table.location.clone(),
            "the lookup has no rows",
        ));
    }
    Ok(n)
}

fn draft(id: String, p: Pending, schema_file: &SchemaFile, format: &LookupFormat) -> Result<Draft> {
    let rows = p.rows;
    let height = rows.lsoa_code.len();
    let mut df = DataFrame::new(
        height,
        vec![
            Column::new("lsoa_code".into(), rows.lsoa_code),
            Column::new("lsoa_name".into(), rows.lsoa_name),
            Column::new("ward_code".into(), rows.ward_code),
            Column::new("ward_name".into(), rows.ward_name),
            Column::new("lad_code".into(), rows.lad_code),
            Column::new("lad_name".into(), rows.lad_name),
        ],
    )?
    .sort(["lsoa_code"], SortMultipleOptions::default())?;
    let [lsoa, ward, lad] = p.vintages;
    Ok(Draft {
        dataset: id,
        kind: "lookup".into(),
        vintage: BTreeMap::from([
            ("lsoa".to_owned(), lsoa.to_string()),
            ("ward".to_owned(), ward.to_string()),
            ("lad".to_owned(), lad.to_string()),
        ]),
        attributes: BTreeMap::from([("fit".to_owned(), format.fit.0.to_string())]),
        sources: p.sources,
        schemas: vec![SchemaRef {
            path: schema_file.path.clone(),
            sha256: schema_file.sha256.clone(),
        }],
        tables: vec![DraftTable {
            name: "lookup".into(),
            parquet: to_parquet(&mut df)?,
        }],
        notes: p.notes,
    })
}
