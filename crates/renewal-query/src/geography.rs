//! Which native areas make up each reportable area: LSOA → ward (one ward vintage) → local
//! authority → England, plus partners' custom neighbourhoods. Built from an ONS lookup in the
//! warehouse; every ward figure is therefore as good as the lookup's fit (best-fit or exact).
//!
//! Parent areas beyond the district (police force areas, ICBs, regions, a partner's own …,
//! datasets of kind `parents`) are reportable areas of one level, [`AreaLevel::Parent`], their
//! type kept beside them ([`Membership::parent_type`]): one concept rather than a level per
//! type, since the types are data (`data-schemas/datasets/parents/`), not code. A native area
//! counts towards a parent only when every district (or LSOA) it is made of lies in that one
//! parent; a parent with a member the native geography cannot place gets no figure.

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
    /// A parent area beyond the district (PFA, ICB, region, user-defined …); which type is in
    /// [`Membership::parent_type`] / `Aggregate::parent_type`.
    Parent,
    England,
}

impl AreaLevel {
    pub fn as_str(self) -> &'static str {
        match self {
            AreaLevel::Lsoa => "lsoa",
            AreaLevel::Ward => "ward",
            AreaLevel::Neighbourhood => "neighbourhood",
            AreaLevel::Lad => "lad",
            AreaLevel::Parent => "parent",
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
            "parent" => AreaLevel::Parent,
            "england" => AreaLevel::England,
            other => {
                return Err(format!(
                    "unknown level {other:?} (lsoa, ward, neighbourhood, lad, parent, england)"
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
    /// Parent area code → its type (`pfa`, `icb` …).
    pub parent_type: HashMap<String, String>,
    /// Per parent type, what could not be placed (districts in no parent, parents with
    /// members the data's geography lacks): said when that type is asked for.
    pub parent_notes: BTreeMap<String, Vec<String>>,
    /// Per parent type, the dataset and version its areas come from.
    pub parent_datasets: BTreeMap<String, (String, u64)>,
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
            parent_type: HashMap::new(),
            parent_notes: BTreeMap::new(),
            parent_datasets: BTreeMap::new(),
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

    /// Adds the parent areas of `sets` (one per type). Each native area of the lookup is made
    /// of districts (or LSOAs, for LSOA-based sets such as ICBs); it counts towards parent P
    /// when all of them lie in P and in no other parent of the type. Parents touched by a
    /// native area that does not fit wholly, or with a member the lookup lacks, can never be
    /// complete: their expected count is raised past what the data can fill, so they get no
    /// figure, as any area missing members' data.
    pub fn add_parents(&mut self, native: NativeGeography, lookup: &Lookup, sets: &[ParentSet]) {
        // native code → the districts and LSOAs it is made of.
        let mut natives: BTreeMap<&str, (BTreeSet<&str>, BTreeSet<&str>)> = BTreeMap::new();
        for r in &lookup.rows {
            let code = match native {
                NativeGeography::Ward => r.ward_code.as_str(),
                NativeGeography::Lad => r.lad_code.as_str(),
                _ => r.lsoa_code.as_str(),
            };
            let e = natives.entry(code).or_default();
            e.0.insert(r.lad_code.as_str());
            e.1.insert(r.lsoa_code.as_str());
        }
        for set in sets {
            let kind = set.kind.as_str();
            let mut notes = Vec::new();
            let mut parents_of: HashMap<&str, Vec<(&str, &str)>> = HashMap::new();
            for (member, code, name) in &set.rows {
                parents_of
                    .entry(member.as_str())
                    .or_default()
                    .push((code.as_str(), name.as_str()));
            }
            let clash: BTreeSet<&str> = set
                .rows
                .iter()
                .map(|r| r.1.as_str())
                .filter(|c| self.parent_type.get(*c).is_some_and(|t| t != kind))
                .collect();
            if !clash.is_empty() {
                notes.push(format!(
                    "{} {kind} codes are also codes of another parent type and are left out (e.g. {})",
                    clash.len(),
                    clash.iter().take(3).copied().collect::<Vec<_>>().join(", ")
                ));
            }
            let lsoa_based = set.member_level == renewal_geo::Level::Lsoa;
            if lsoa_based
                && !set.member_vintage.is_empty()
                && !lookup.lsoa_vintage.is_empty()
                && set.member_vintage != lookup.lsoa_vintage
            {
                notes.push(format!(
                    "{} is defined on {} LSOAs and the data on {}: only LSOAs whose code is the same in both are placed, so a {kind} with a changed LSOA gets no figure",
                    set.dataset, set.member_vintage, lookup.lsoa_vintage
                ));
            }
            let mut blocked: BTreeSet<&str> = BTreeSet::new();
            let mut outside: BTreeSet<&str> = BTreeSet::new();
            let mut straddling = 0usize;
            let mut covered: BTreeSet<&str> = BTreeSet::new();
            for (code, (lads, lsoas)) in &natives {
                let members = if lsoa_based { lsoas } else { lads };
                covered.extend(members.iter().copied());
                let mut touched: BTreeSet<(&str, &str)> = BTreeSet::new();
                let mut whole = true;
                let mut any = false;
                for m in members {
                    match parents_of.get(m) {
                        Some(ps) => {
                            any = true;
                            if ps.len() > 1 {
                                whole = false;
                            }
                            touched.extend(ps.iter().copied());
                        }
                        None => whole = false,
                    }
                }
                touched.retain(|(p, _)| !clash.contains(p));
                if !any {
                    outside.extend(members.iter().copied());
                    continue;
                }
                match (whole, touched.len()) {
                    (true, 1) => {
                        let (p, name) = touched.first().copied().unwrap_or_default();
                        self.parent_type.insert(p.to_owned(), kind.to_owned());
                        let area = Area {
                            level: AreaLevel::Parent,
                            code: p.to_owned(),
                            name: name.to_owned(),
                            parent: p.starts_with('E').then(|| ENGLAND_CODE.to_owned()),
                        };
                        let key = (AreaLevel::Parent, area.code.clone());
                        self.of_member
                            .entry((*code).to_owned())
                            .or_default()
                            .push(key.clone());
                        *self.expected.entry(key.clone()).or_default() += 1;
                        self.areas.entry(key).or_insert(area);
                    }
                    _ => {
                        straddling += 1;
                        blocked.extend(touched.iter().map(|t| t.0));
                        outside.extend(
                            members
                                .iter()
                                .copied()
                                .filter(|m| !parents_of.contains_key(m)),
                        );
                    }
                }
            }
            // Members of a parent that the data's geography does not have (a district of a
            // newer vintage): the parent cannot be summed whole.
            let mut absent: Vec<(&str, &str)> = Vec::new();
            for (member, code, _) in &set.rows {
                if !covered.contains(member.as_str()) && !clash.contains(code.as_str()) {
                    blocked.insert(code.as_str());
                    absent.push((member.as_str(), code.as_str()));
                }
            }
            for p in &blocked {
                self.parent_type.insert((*p).to_owned(), kind.to_owned());
                *self
                    .expected
                    .entry((AreaLevel::Parent, (*p).to_owned()))
                    .or_default() += 1;
            }
            let what = if lsoa_based { "LSOAs" } else { "districts" };
            // Only members of the countries the parent lookup covers are reported as missing
            // from it (an England-only region lookup says nothing of Welsh districts).
            let countries: BTreeSet<char> =
                set.rows.iter().filter_map(|r| r.0.chars().next()).collect();
            let outside: Vec<&str> = outside
                .into_iter()
                .filter(|m| m.chars().next().is_some_and(|c| countries.contains(&c)))
                .collect();
            if !outside.is_empty() {
                notes.push(format!(
                    "{} {what} of the data ({} v{}) are in no {kind} of {} v{}: {}",
                    outside.len(),
                    lookup.manifest.dataset,
                    lookup.manifest.version,
                    set.dataset,
                    set.version,
                    list(&outside)
                ));
            }
            if straddling > 0 {
                notes.push(format!(
                    "{straddling} {} areas do not lie wholly in one {kind} and count towards none",
                    native.as_str()
                ));
            }
            if !blocked.is_empty() {
                let missing: BTreeSet<&str> = absent.iter().map(|a| a.0).collect();
                let missing: Vec<&str> = missing.into_iter().collect();
                notes.push(format!(
                    "{} {kind} areas get no figure because the data's geography cannot place all of their members{}",
                    blocked.len(),
                    if missing.is_empty() {
                        String::new()
                    } else {
                        format!(
                            " ({what} of {} absent from {}: {})",
                            set.dataset,
                            lookup.manifest.dataset,
                            list(&missing)
                        )
                    }
                ));
            }
            self.parent_notes.insert(kind.to_owned(), notes);
            self.parent_datasets
                .insert(kind.to_owned(), (set.dataset.clone(), set.version));
        }
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

/// Codes for a note: all of them up to a hundred, else the first hundred and how many more.
fn list(codes: &[&str]) -> String {
    const SHOWN: usize = 100;
    if codes.len() <= SHOWN {
        codes.join(", ")
    } else {
        format!(
            "{} and {} more",
            codes[..SHOWN].join(", "),
            codes.len() - SHOWN
        )
    }
}

/// One parent-area dataset as loaded: (member code, parent code, parent name) rows.
#[derive(Debug, Clone)]
pub struct ParentSet {
    /// The parent type (`pfa`, `icb`, a user-defined name).
    pub kind: String,
    pub dataset: String,
    pub version: u64,
    /// Districts or LSOAs.
    pub member_level: renewal_geo::Level,
    /// `LAD24`, `LSOA21`; empty when the file did not say (user-defined).
    pub member_vintage: String,
    pub rows: Vec<(String, String, String)>,
}

/// The current parent-area datasets, one per type: the newest parent vintage of each (ids
/// `parents-<type>-<vintage>`, kind `parents`).
pub(crate) async fn candidate_parents(
    warehouse: &Warehouse,
    datasets: &[String],
    pins: &DatasetPins,
) -> Result<Vec<Manifest>> {
    let mut best: BTreeMap<String, Manifest> = BTreeMap::new();
    for id in datasets {
        if !id.starts_with(renewal_schema::parents::PARENTS_PREFIX) {
            continue;
        }
        let m = resolve(warehouse, id, pins).await?;
        if m.kind != "parents" {
            continue;
        }
        let Some(kind) = m.attributes.get("parent_type").cloned() else {
            continue;
        };
        let newer = best.get(&kind).is_none_or(|b| {
            m.vintage.get("parent") > b.vintage.get("parent")
                || (m.vintage.get("parent") == b.vintage.get("parent") && m.dataset > b.dataset)
        });
        if newer {
            best.insert(kind, m);
        }
    }
    Ok(best.into_values().collect())
}

/// Reads one parent-area dataset.
pub(crate) async fn load_parents(warehouse: &Warehouse, manifest: &Manifest) -> Result<ParentSet> {
    let ctx = session();
    register(&ctx, warehouse, manifest, "parents", "parents").await?;
    let batches = ctx
        .sql("SELECT member_code, parent_code, parent_name FROM parents ORDER BY parent_code, member_code")
        .await?
        .collect()
        .await?;
    let mut rows = Vec::new();
    for b in &batches {
        let (members, codes, names) = (
            string_column(b, 0)?,
            string_column(b, 1)?,
            string_column(b, 2)?,
        );
        for ((m, c), n) in members.into_iter().zip(codes).zip(names) {
            rows.push((
                m.unwrap_or_default(),
                c.unwrap_or_default(),
                n.unwrap_or_default(),
            ));
        }
    }
    let member_level = match manifest.vintage.get("member_level").map(String::as_str) {
        Some("lsoa") => renewal_geo::Level::Lsoa,
        _ => renewal_geo::Level::Lad,
    };
    Ok(ParentSet {
        kind: manifest
            .attributes
            .get("parent_type")
            .cloned()
            .unwrap_or_default(),
        dataset: manifest.dataset.clone(),
        version: manifest.version,
        member_level,
        member_vintage: manifest.vintage.get("member").cloned().unwrap_or_default(),
        rows,
    })
}

/// Every parent area of the current parents datasets → the districts wholly inside it: for a
/// district-based type (PFA, region …) its member districts; for an LSOA-based type (ICB) the
/// districts all of whose LSOAs (in a lookup of the same LSOA vintage) are members, so a
/// district an ICB covers only in part is not among them. What API keys scoped to parent areas
/// (`areas = [...]`) may read.
pub async fn parent_districts(warehouse: &Warehouse) -> Result<HashMap<String, Vec<String>>> {
    let datasets = warehouse.datasets().await?;
    let pins = DatasetPins::default();
    let mut out: HashMap<String, BTreeSet<String>> = HashMap::new();
    for m in candidate_parents(warehouse, &datasets, &pins).await? {
        let set = load_parents(warehouse, &m).await?;
        if set.member_level == renewal_geo::Level::Lad {
            for (member, parent, _) in set.rows {
                out.entry(parent).or_default().insert(member);
            }
            continue;
        }
        // LSOA-based: whole districts only, from a lookup on the members' LSOA vintage.
        let prefix = renewal_warehouse::ids::lookup_prefix(&set.member_vintage);
        let Some(id) = datasets
            .iter()
            .find(|d| !set.member_vintage.is_empty() && d.starts_with(&prefix))
        else {
            continue;
        };
        let lookup = load_lookup(warehouse, resolve(warehouse, id, &pins).await?).await?;
        let mut lsoas_of: HashMap<&str, Vec<&str>> = HashMap::new();
        for r in &lookup.rows {
            lsoas_of
                .entry(r.lad_code.as_str())
                .or_default()
                .push(r.lsoa_code.as_str());
        }
        let parent_of: HashMap<&str, Vec<&str>> =
            set.rows.iter().fold(HashMap::new(), |mut acc, (m, p, _)| {
                acc.entry(m.as_str()).or_default().push(p.as_str());
                acc
            });
        for (lad, lsoas) in &lsoas_of {
            let parents: BTreeSet<Option<&Vec<&str>>> =
                lsoas.iter().map(|l| parent_of.get(l)).collect();
            if let [Some(ps)] = parents.into_iter().collect::<Vec<_>>().as_slice()
                && let [p] = ps.as_slice()
            {
                out.entry((*p).to_owned())
                    .or_default()
                    .insert((*lad).to_owned());
            }
        }
    }
    Ok(out
        .into_iter()
        .map(|(p, d)| (p, d.into_iter().collect()))
        .collect())
}
