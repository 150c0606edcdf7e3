//! Which native areas make up each reportable area: LSOA → ward (one ward vintage) → local
//! authority → England, plus partners' custom neighbourhoods. Built from an ONS lookup in the
//! warehouse; every ward figure is therefore as good as the lookup's fit (best-fit or exact).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use renewal_geo::{Fit, Vintage};
use renewal_schema::NativeGeography;
use renewal_warehouse::{Manifest, Warehouse};
use serde::Serialize;

use crate::tables::{DatasetPins, register, resolve, session, string_column};
use crate::{QueryError, Result};

pub const ENGLAND_CODE: &str = "E92000001";

/// The levels an indicator can be reported at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum AreaLevel {
    Lsoa,
    Ward,
    Neighbourhood,
    Lad,
    England,
}

impl AreaLevel {
    pub fn as_str(self) -> &'static str {
        match self {
            AreaLevel::Lsoa => "lsoa",
            AreaLevel::Ward => "ward",
            AreaLevel::Neighbourhood => "neighbourhood",
            AreaLevel::Lad => "lad",
            AreaLevel::England => "england",
        }
    }
}

impl std::str::FromStr for AreaLevel {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Ok(match s.to_ascii_lowercase().as_str() {
            "lsoa" => AreaLevel::Lsoa,
            "ward" => AreaLevel::Ward,
            "neighbourhood" => AreaLevel::Neighbourhood,
            "lad" | "authority" => AreaLevel::Lad,
            "england" => AreaLevel::England,
            other => {
                return Err(format!(
                    "unknown level {other:?} (lsoa, ward, neighbourhood, lad, england)"
                ));
            }
        })
    }
}

/// A reportable area.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Area {
    pub level: AreaLevel,
    pub code: String,
    pub name: String,
    /// The authority for LSOAs, wards and single-authority neighbourhoods; England for
    /// authorities.
    pub parent: Option<String>,
}

/// One row of an ONS LSOA → ward → LAD lookup.
#[derive(Debug, Clone)]
pub(crate) struct LookupRow {
    pub lsoa_code: String,
    pub lsoa_name: String,
    pub ward_code: String,
    pub ward_name: String,
    pub lad_code: String,
    pub lad_name: String,
}

/// A lookup as loaded, with what it says about itself.
pub(crate) struct Lookup {
    pub manifest: Manifest,
    pub ward_vintage: String,
    pub lsoa_vintage: String,
    pub fit: Fit,
    pub rows: Vec<LookupRow>,
}

/// The lookups in the warehouse a native geography can use, optionally one ward vintage only.
pub(crate) async fn candidate_lookups(
    warehouse: &Warehouse,
    datasets: &[String],
    native: NativeGeography,
    ward_vintage: Option<Vintage>,
    pins: &DatasetPins,
) -> Result<Vec<Manifest>> {
    let mut out = Vec::new();
    for id in datasets {
        if !id.starts_with("lookup-") {
            continue;
        }
        let m = resolve(warehouse, id, pins).await?;
        if m.kind != "lookup" {
            continue;
        }
        let lsoa = m.vintage.get("lsoa").map(String::as_str).unwrap_or("");
        let ward = m.vintage.get("ward").map(String::as_str).unwrap_or("");
        if let Some(v) = native.lsoa_vintage()
            && v.to_string() != lsoa
        {
            continue;
        }
        if let Some(w) = ward_vintage
            && w.to_string() != ward
        {
            continue;
        }
        out.push(m);
    }
    if out.is_empty() {
        return Err(QueryError::Precondition(match ward_vintage {
            Some(w) => format!(
                "no LSOA → {w} ward lookup for {} data in the warehouse; ingest one with `renewal ingest lookup`",
                native.as_str()
            ),
            None => format!(
                "no LSOA → ward lookup for {} data in the warehouse; ingest one with `renewal ingest lookup`",
                native.as_str()
            ),
        }));
    }
    Ok(out)
}

pub(crate) async fn load_lookup(warehouse: &Warehouse, manifest: Manifest) -> Result<Lookup> {
    let ctx = session();
    register(&ctx, warehouse, &manifest, "lookup", "lookup").await?;
    let batches = ctx
        .sql(
            "SELECT lsoa_code, lsoa_name, ward_code, ward_name, lad_code, lad_name FROM lookup \
             ORDER BY lsoa_code",
        )
        .await?
        .collect()
        .await?;
    let mut rows = Vec::new();
    for b in &batches {
        let cols = (0..6)
            .map(|i| string_column(b, i))
            .collect::<Result<Vec<_>>>()?;
        let s = |c: usize, r: usize| cols[c][r].clone().unwrap_or_default();
        for r in 0..b.num_rows() {
            rows.push(LookupRow {
                lsoa_code: s(0, r),
                lsoa_name: s(1, r),
                ward_code: s(2, r),
                ward_name: s(3, r),
                lad_code: s(4, r),
                lad_name: s(5, r),
            });
        }
    }
    Ok(Lookup {
        ward_vintage: manifest.vintage.get("ward").cloned().unwrap_or_default(),
        lsoa_vintage: manifest.vintage.get("lsoa").cloned().unwrap_or_default(),
        fit: manifest
            .attributes
            .get("fit")
            .and_then(|f| f.parse().ok())
            .unwrap_or(Fit::BestFit),
        manifest,
        rows,
    })
}

/// A custom neighbourhood: a partner's named set of LSOAs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Neighbourhood {
    pub id: String,
    pub name: String,
    pub owner: String,
    pub lsoas: Vec<String>,
}

/// Which reportable areas each native area belongs to, and how many members each reportable
/// area should have (an area missing some members' data gets no figure).
pub(crate) struct Membership {
    pub areas: BTreeMap<(AreaLevel, String), Area>,
    /// native code → the reportable areas it counts towards.
    pub of_member: HashMap<String, Vec<(AreaLevel, String)>>,
    /// (level, code) → number of native members.
    pub expected: HashMap<(AreaLevel, String), u32>,
    /// LSOA → authority, for zero-filling within covered authorities.
    pub lad_of_lsoa: HashMap<String, String>,
}

impl Membership {
    pub fn build(
        native: NativeGeography,
        lookup: &Lookup,
        neighbourhoods: &[Neighbourhood],
    ) -> Membership {
        let mut m = Membership {
            areas: BTreeMap::new(),
            of_member: HashMap::new(),
            expected: HashMap::new(),
            lad_of_lsoa: HashMap::new(),
        };
        let england = Area {
            level: AreaLevel::England,
            code: ENGLAND_CODE.into(),
            name: "England".into(),
            parent: None,
        };
        // Only English areas count towards England (the ONS lookups cover Wales too).
        let english = |code: &str| code.starts_with('E');
        let add = |m: &mut Membership, member: &str, area: Area| {
            let key = (area.level, area.code.clone());
            m.of_member
                .entry(member.to_owned())
                .or_default()
                .push(key.clone());
            *m.expected.entry(key.clone()).or_default() += 1;
            m.areas.entry(key).or_insert(area);
        };
        let ward_area = |r: &LookupRow| Area {
            level: AreaLevel::Ward,
            code: r.ward_code.clone(),
            name: r.ward_name.clone(),
            parent: Some(r.lad_code.clone()),
        };
        let lad_area = |r: &LookupRow| Area {
            level: AreaLevel::Lad,
            code: r.lad_code.clone(),
            name: r.lad_name.clone(),
            parent: Some(ENGLAND_CODE.into()),
        };
        match native {
            NativeGeography::Lsoa | NativeGeography::Lsoa11 | NativeGeography::Lsoa21 => {
                for r in &lookup.rows {
                    m.lad_of_lsoa
                        .insert(r.lsoa_code.clone(), r.lad_code.clone());
                    let lsoa = Area {
                        level: AreaLevel::Lsoa,
                        code: r.lsoa_code.clone(),
                        name: r.lsoa_name.clone(),
                        parent: Some(r.lad_code.clone()),
                    };
                    add(&mut m, &r.lsoa_code, lsoa);
                    add(&mut m, &r.lsoa_code, ward_area(r));
                    add(&mut m, &r.lsoa_code, lad_area(r));
                    if english(&r.lsoa_code) {
                        add(&mut m, &r.lsoa_code, england.clone());
                    }
                }
                let lad_of: HashMap<&str, &str> = lookup
                    .rows
                    .iter()
                    .map(|r| (r.lsoa_code.as_str(), r.lad_code.as_str()))
                    .collect();
                for n in neighbourhoods {
                    let lads: BTreeSet<&str> = n
                        .lsoas
                        .iter()
                        .filter_map(|l| lad_of.get(l.as_str()).copied())
                        .collect();
                    let parent = match lads.len() {
                        1 => lads.first().map(|l| l.to_string()),
                        _ => None,
                    };
                    let area = Area {
                        level: AreaLevel::Neighbourhood,
                        code: n.id.clone(),
                        name: n.name.clone(),
                        parent,
                    };
                    for l in &n.lsoas {
                        add(&mut m, l, area.clone());
                    }
                }
            }
            NativeGeography::Ward => {
                let mut seen = BTreeSet::new();
                for r in &lookup.rows {
                    if !seen.insert(r.ward_code.clone()) {
                        continue;
                    }
                    add(&mut m, &r.ward_code, ward_area(r));
                    add(&mut m, &r.ward_code, lad_area(r));
                    if english(&r.ward_code) {
                        add(&mut m, &r.ward_code, england.clone());
                    }
                }
            }
            NativeGeography::Lad => {
                let mut seen = BTreeSet::new();
                for r in &lookup.rows {
                    if seen.insert(r.lad_code.clone()) {
                        add(&mut m, &r.lad_code, lad_area(r));
                    }
                }
            }
        }
        m
    }

    pub fn area(&self, level: AreaLevel, code: &str) -> Option<&Area> {
        self.areas.get(&(level, code.to_owned()))
    }

    /// LSOAs in authorities where at least half the LSOAs appear in `present`: the authorities
    /// a partial file (one police force) covers. Zero-filling beyond them would invent zeros.
    pub fn covered_lsoas(&self, present: &BTreeSet<String>) -> BTreeSet<String> {
        let mut total: HashMap<&str, (u32, u32)> = HashMap::new();
        for (lsoa, lad) in &self.lad_of_lsoa {
            let e = total.entry(lad.as_str()).or_default();
            e.0 += 1;
            if present.contains(lsoa) {
                e.1 += 1;
            }
        }
        self.lad_of_lsoa
            .iter()
            .filter(|(_, lad)| {
                total
                    .get(lad.as_str())
                    .is_some_and(|(n, p)| 2 * p >= *n && *p > 0)
            })
            .map(|(lsoa, _)| lsoa.clone())
            .collect()
    }
}
