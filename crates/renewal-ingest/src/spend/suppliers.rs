//! Contract registers and supplier lists into `suppliers-<slug>`: one row per supplier
//! identity (its company number when one is given, else its supplier key), with the postcode
//! most of its rows give.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;

use polars::prelude::*;
use renewal_schema::Catalog;
use renewal_schema::spend::{SupplierFormat, find_header};
use renewal_warehouse::{Draft, DraftTable, SchemaRef};

use super::normal::{self, Number};
use super::{dataset_id, first_known, payee_rules, read_sources};
use crate::error::{IngestError, Location, Result};
use crate::frame::{text_column, to_parquet};
use crate::progress::Progress;
use crate::source::{Shape, read_tables_with_shape};

/// What `renewal ingest suppliers` was asked for besides its files.
#[derive(Debug, Clone, Default)]
pub struct SupplierOptions {
    /// Dataset id (`suppliers-…`; a bare slug gets the prefix). Default: from the body the
    /// register's format names; a supplier list names none, so needs it.
    pub dataset: Option<String>,
}

/// The prefix of supplier dataset ids.
pub const SUPPLIERS_PREFIX: &str = "suppliers-";

/// A supplier identity as it is being gathered.
struct Identity {
    name: String,
    key: String,
    company_number: Option<String>,
    charity_number: Option<String>,
    /// Postcode → (rows giving it, order first seen).
    postcodes: HashMap<String, (u64, usize)>,
    sme: Option<bool>,
    source: usize,
    line: u64,
}

impl Identity {
    /// The most frequent postcode; ties go to the one seen first.
    fn postcode(&self) -> Option<&str> {
        self.postcodes
            .iter()
            .max_by(|a, b| a.1.0.cmp(&b.1.0).then(b.1.1.cmp(&a.1.1)))
            .map(|(p, _)| p.as_str())
    }
}

/// Reads contract registers and supplier lists (`data-schemas/datasets/suppliers/`) into
/// dataset `suppliers-<slug>`, table `suppliers`: one row per identity, named as its first
/// row names it, with the most frequent valid postcode of its rows. Invalid postcodes and
/// company numbers are stored as null and counted in the notes.
pub fn read_suppliers(
    catalog: &Catalog,
    files: &[PathBuf],
    options: &SupplierOptions,
    progress: &dyn Progress,
) -> Result<Draft> {
    let (payee_schema, rules) = payee_rules(catalog)?;
    let sources = read_sources(files)?;
    let mut identities: Vec<Identity> = Vec::new();
    let mut by_identity: HashMap<String, usize> = HashMap::new();
    let mut schemas: BTreeMap<String, SchemaRef> = BTreeMap::new();
    let mut provenance = Vec::new();
    let mut names = Vec::new();
    let mut notes = Vec::new();
    let mut body: Option<String> = None;
    let (mut no_name, mut bad_postcode, mut bad_number, mut seen) = (0u64, 0u64, 0u64, 0usize);
    for (index, source) in sources.into_iter().enumerate() {
        progress.start_file(&source.name, source.bytes.len() as u64);
        let tables = read_tables_with_shape(&source, Shape::TrailingEmpty, progress)?;
        let (table, headers, (schema_file, format)) = first_known(
            &source.name,
            &tables,
            &catalog.spend.suppliers,
            SupplierFormat::score,
            "supplier register or list",
            "suppliers",
        )?;
        schemas.insert(
            schema_file.path.clone(),
            SchemaRef {
                path: schema_file.path.clone(),
                sha256: schema_file.sha256.clone(),
            },
        );
        if body.is_none() {
            body.clone_from(&format.body);
        }
        let c = &format.columns;
        let col = |n: Option<&Vec<String>>| n.and_then(|n| find_header(&headers, n));
        let Some(name_col) = col(Some(&c.supplier_name)) else {
            return Err(IngestError::Usage(format!(
                "{}: format {} matched without its supplier name column",
                source.name, format.id
            )));
        };
        let (cn_col, ch_col, pc_col, sme_col) = (
            col(c.company_number.as_ref()),
            col(c.charity_number.as_ref()),
            col(c.postcode.as_ref()),
            col(c.sme.as_ref()),
        );
        for row in &table.rows {
            let name = row.fields[name_col].clone();
            if name.is_empty() {
                no_name += 1;
                continue;
            }
            let cell = |i: Option<usize>| i.map_or("", |i| row.fields[i].as_str());
            let company = match normal::company_number(cell(cn_col)) {
                Number::Unparseable => {
                    bad_number += 1;
                    None
                }
                n => n.given(),
            };
            let charity = match normal::charity_number(cell(ch_col)) {
                Number::Unparseable => {
                    bad_number += 1;
                    None
                }
                n => n.given(),
            };
            let postcode = match cell(pc_col) {
                "" => None,
                text => {
                    let p = normal::postcode(text);
                    if p.is_none() {
                        bad_postcode += 1;
                    }
                    p
                }
            };
            let sme = sme_col.and_then(|i| format.sme(&row.fields[i]));
            let key = normal::supplier_key(&name, rules);
            let identity = match &company {
                Some(n) => format!("company {n}"),
                None => format!("name {key}"),
            };
            let at = *by_identity.entry(identity).or_insert_with(|| {
                identities.push(Identity {
                    name: name.clone(),
                    key: key.clone(),
                    company_number: company.clone(),
                    charity_number: None,
                    postcodes: HashMap::new(),
                    sme: None,
                    source: index,
                    line: row.line,
                });
                identities.len() - 1
            });
            let entry = &mut identities[at];
            if entry.charity_number.is_none() {
                entry.charity_number = charity;
            }
            if entry.sme.is_none() {
                entry.sme = sme;
            }
            if let Some(p) = postcode {
                seen += 1;
                entry.postcodes.entry(p).or_insert((0, seen)).0 += 1;
            }
        }
        let rows = table.rows.len() as u64;
        notes.push(format!(
            "{}: {rows} rows read with {}",
            source.name, format.id
        ));
        progress.finish_file(&source.name, rows);
        names.push(source.name.clone());
        provenance.push(source.provenance(&format.id, rows));
    }
    let dataset = match (&options.dataset, &body) {
        (Some(d), _) => dataset_id(SUPPLIERS_PREFIX, Some(d), ""),
        (None, Some(b)) => dataset_id(SUPPLIERS_PREFIX, None, b),
        (None, None) => {
            return Err(IngestError::Usage(
                "these files do not say whose suppliers they are: give --dataset".into(),
            ));
        }
    };
    if identities.is_empty() {
        return Err(IngestError::invalid(
            Location::file(names.first().map_or("input", String::as_str)),
            "no suppliers were read",
        ));
    }
    let n = identities.len();
    let located = identities.iter().filter(|i| i.postcode().is_some()).count();
    let numbered = identities
        .iter()
        .filter(|i| i.company_number.is_some())
        .count();
    let several = identities.iter().filter(|i| i.postcodes.len() > 1).count();
    let share = |k: usize| format!("{k} ({:.1}%)", 100.0 * k as f64 / n as f64);
    notes.push(format!(
        "{n} supplier identities (by company number, else by normalised name): {} with a valid postcode, {} with a company number",
        share(located),
        share(numbered)
    ));
    notes.push(format!(
        "{several} identities have more than one postcode: the most frequent is kept (ties: the first seen)"
    ));
    if bad_postcode > 0 {
        notes.push(format!(
            "{bad_postcode} postcodes are not shaped like a UK postcode (\"Various\", …): stored as null"
        ));
    }
    if bad_number > 0 {
        notes.push(format!(
            "{bad_number} company or charity numbers are not numbers (\"Various\", …): stored as null"
        ));
    }
    if no_name > 0 {
        notes.push(format!(
            "{no_name} rows give no supplier name and identify nobody: not stored"
        ));
    }
    let text = |f: fn(&Identity) -> Option<String>| {
        identities.iter().map(f).collect::<Vec<Option<String>>>()
    };
    let columns = vec![
        Column::new(
            "supplier_name".into(),
            identities
                .iter()
                .map(|i| i.name.as_str())
                .collect::<Vec<_>>(),
        ),
        Column::new(
            "supplier_key".into(),
            identities
                .iter()
                .map(|i| i.key.as_str())
                .collect::<Vec<_>>(),
        ),
        text_column("company_number", text(|i| i.company_number.clone())),
        text_column("charity_number", text(|i| i.charity_number.clone())),
        text_column("postcode", text(|i| i.postcode().map(str::to_owned))),
        Column::new(
            "sme".into(),
            identities
                .iter()
                .map(|i| i.sme)
                .collect::<Vec<Option<bool>>>(),
        ),
        Column::new(
            "source".into(),
            identities
                .iter()
                .map(|i| names[i.source].as_str())
                .collect::<Vec<_>>(),
        ),
        Column::new(
            "line".into(),
            identities.iter().map(|i| i.line).collect::<Vec<u64>>(),
        ),
    ];
    let mut df = DataFrame::new(n, columns)?;
    let mut schemas: Vec<SchemaRef> = schemas.into_values().collect();
    schemas.push(payee_schema);
    let mut attributes = BTreeMap::new();
    if let Some(b) = body {
        attributes.insert("body".to_owned(), b);
    }
    Ok(Draft {
        dataset,
        kind: "suppliers".into(),
        vintage: BTreeMap::new(),
        attributes,
        sources: provenance,
        schemas,
        tables: vec![DraftTable {
            name: "suppliers".into(),
            parquet: to_parquet(&mut df)?,
        }],
        notes,
    })
}
