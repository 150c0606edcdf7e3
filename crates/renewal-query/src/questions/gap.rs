//! Questions 1 and 2: every area of a level against its authority, England, or the parent
//! area of a type (police force area, ICB, region …) containing it.

use std::collections::BTreeSet;

use renewal_schema::{IndicatorDef, PolarityName};
use renewal_stats::Withheld;
use serde::Serialize;

use crate::answer::{Answer, Kind, to_batches};
use crate::engine::{Engine, Scope};
use crate::geography::{AreaLevel, ENGLAND_CODE};
use crate::{QueryError, Result};

use super::{Gap, disclosure_note, gap, pick_period, withheld_name};

/// What an area is compared with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Benchmark {
    /// The authority the area lies in.
    Authority,
    England,
    /// The parent area of this type (`pfa`, `icb`, a user-defined type) wholly containing the
    /// area.
    Parent(String),
}

impl Benchmark {
    /// The word a request uses for it: `authority`, `england` or the parent type.
    pub fn as_str(&self) -> &str {
        match self {
            Benchmark::Authority => "authority",
            Benchmark::England => "england",
            Benchmark::Parent(kind) => kind,
        }
    }
}

impl std::str::FromStr for Benchmark {
    type Err = String;
    /// `authority` (or `lad`), `england`, or a parent type, which must be a type name
    /// (lowercase letters, digits, `-`); whether the warehouse has it is checked by the query.
    fn from_str(s: &str) -> Result<Benchmark, String> {
        let lower = s.trim().to_ascii_lowercase();
        Ok(match lower.as_str() {
            "authority" | "lad" => Benchmark::Authority,
            "england" => Benchmark::England,
            kind if renewal_schema::parents::valid_type_name(kind)
                && !renewal_schema::parents::RESERVED_TYPES.contains(&kind) =>
            {
                Benchmark::Parent(kind.to_owned())
            }
            _ => {
                return Err(format!(
                    "unknown benchmark {s:?} (authority, england, or a parent type such as pfa, icb, region)"
                ));
            }
        })
    }
}

#[derive(Debug, Clone)]
pub struct GapRequest {
    pub indicator: String,
    /// `None`: the latest period.
    pub period: Option<String>,
    /// Areas of this authority; `None`: every authority.
    pub authority: Option<String>,
    pub level: AreaLevel,
    pub benchmark: Benchmark,
}

/// One area against its benchmark. Column order is the CSV contract ([`GAP_COLUMNS`]).
#[derive(Debug, Clone, Serialize)]
pub struct GapRow {
    pub indicator: String,
    pub area_code: String,
    pub area_name: String,
    pub level: &'static str,
    pub parent_code: Option<String>,
    pub period: String,
    pub numerator: Option<f64>,
    pub denominator: Option<f64>,
    pub value: Option<f64>,
    pub lower_95: Option<f64>,
    pub upper_95: Option<f64>,
    pub lower_998: Option<f64>,
    pub upper_998: Option<f64>,
    pub unit: String,
    pub benchmark_code: String,
    pub benchmark_value: Option<f64>,
    pub gap: Option<f64>,
    pub gap_lower_95: Option<f64>,
    pub gap_upper_95: Option<f64>,
    pub ratio: Option<f64>,
    pub comparison_95: Option<&'static str>,
    pub comparison_998: Option<&'static str>,
    pub rank_in_parent: Option<i64>,
    pub suppressed: bool,
    /// Why the figure is withheld: `below-threshold` or `complementary`.
    pub withheld: Option<&'static str>,
    pub fit: String,
}

pub const GAP_COLUMNS: [(&str, Kind); 26] = [
    ("indicator", Kind::Text),
    ("area_code", Kind::Text),
    ("area_name", Kind::Text),
    ("level", Kind::Text),
    ("parent_code", Kind::Text),
    ("period", Kind::Text),
    ("numerator", Kind::Number),
    ("denominator", Kind::Number),
    ("value", Kind::Number),
    ("lower_95", Kind::Number),
    ("upper_95", Kind::Number),
    ("lower_998", Kind::Number),
    ("upper_998", Kind::Number),
    ("unit", Kind::Text),
    ("benchmark_code", Kind::Text),
    ("benchmark_value", Kind::Number),
    ("gap", Kind::Number),
    ("gap_lower_95", Kind::Number),
    ("gap_upper_95", Kind::Number),
    ("ratio", Kind::Number),
    ("comparison_95", Kind::Text),
    ("comparison_998", Kind::Text),
    ("rank_in_parent", Kind::Integer),
    ("suppressed", Kind::Flag),
    ("withheld", Kind::Text),
    ("fit", Kind::Text),
];

/// Ranks values within groups, 1 = worst by polarity (highest without one); ties share the
/// lower rank. Values are compared rounded to 9 decimals so sums in different orders tie.
fn rank_within(rows: &mut [GapRow], def: &IndicatorDef) {
    let worst_first_desc = !matches!(def.polarity, PolarityName::HigherIsBetter);
    let key = |v: f64| (v * 1e9).round() as i64;
    let groups: BTreeSet<Option<String>> = rows.iter().map(|r| r.parent_code.clone()).collect();
    for g in groups {
        let values: Vec<i64> = rows
            .iter()
            .filter(|r| r.parent_code == g && !r.suppressed)
            .filter_map(|r| r.value.map(key))
            .collect();
        for r in rows.iter_mut().filter(|r| r.parent_code == g) {
            let Some(v) = r.value.filter(|_| !r.suppressed).map(key) else {
                continue;
            };
            let ahead = values
                .iter()
                .filter(|&&o| if worst_first_desc { o > v } else { o < v })
                .count();
            r.rank_in_parent = Some(ahead as i64 + 1);
        }
    }
}

/// Questions 1 and 2: every area of a level (in one authority or all) against its authority
/// or England.
pub async fn gap_table(engine: &Engine, request: &GapRequest, scope: &Scope) -> Result<Answer> {
    let agg = engine.aggregate(&request.indicator, scope).await?;
    let def = &agg.indicator;
    let period = pick_period(&agg, request.period.as_deref())?;
    if let Some(a) = &request.authority
        && !agg.areas.contains_key(&(AreaLevel::Lad, a.clone()))
        // Values published for wards only have no authority figure, yet are the authority's.
        && !agg.areas.values().any(|x| x.parent.as_deref() == Some(a.as_str()))
    {
        return Err(QueryError::NotFound(format!(
            "authority {a} has no data for indicator {}",
            def.id
        )));
    }
    let mut notes = agg.notes.clone();
    let mut basis = agg.basis.clone();
    if let Benchmark::Parent(kind) = &request.benchmark {
        if !agg.parent_notes.contains_key(kind) {
            let known = agg.parent_notes.keys().cloned().collect::<Vec<_>>();
            return Err(QueryError::Precondition(format!(
                "no parent areas of type {kind:?} in the warehouse ({}); ingest a lookup with `renewal ingest parents`",
                if known.is_empty() {
                    "it has none".to_owned()
                } else {
                    format!("it has {}", known.join(", "))
                }
            )));
        }
        notes.extend(agg.parent_notes[kind].iter().cloned());
        if let Some((dataset, version)) = agg.parent_datasets.get(kind) {
            basis.datasets.insert(dataset.clone(), *version);
        }
    }
    let mut without_parent = 0usize;
    // England is given only where the data cover it: a sum over the authorities a partnership
    // loaded is not England.
    let coverage = super::england_coverage(engine.catalog(), &agg, &period);
    let england_covered = coverage.covered();
    let mut england_missing = false;
    let mut rows = Vec::new();
    for area in agg.areas_of(request.level, None) {
        let authority = match request.level {
            AreaLevel::Lad => Some(area.code.as_str()),
            _ => area.parent.as_deref(),
        };
        if request.authority.is_some() && authority != request.authority.as_deref() {
            continue;
        }
        let (benchmark_code, benchmark_level) = match &request.benchmark {
            Benchmark::England => (ENGLAND_CODE.to_owned(), AreaLevel::England),
            Benchmark::Authority => match authority {
                Some(a) if request.level != AreaLevel::Lad => (a.to_owned(), AreaLevel::Lad),
                _ => (ENGLAND_CODE.to_owned(), AreaLevel::England),
            },
            // An area in no single parent of the type has no benchmark: an empty code.
            Benchmark::Parent(kind) => {
                match agg.containing_parent(kind, request.level, &area.code) {
                    Some(p) => (p, AreaLevel::Parent),
                    None => {
                        without_parent += 1;
                        (String::new(), AreaLevel::Parent)
                    }
                }
            }
        };
        let (e, counts) = agg.assess(request.level, &area.code, &period);
        let (b, _) = if benchmark_level == AreaLevel::England && !england_covered {
            england_missing = true;
            super::absent()
        } else {
            agg.assess(benchmark_level, &benchmark_code, &period)
        };
        let g = if e.suppressed {
            Gap::default()
        } else {
            gap(def, &e, &b)
        };
        rows.push(GapRow {
            indicator: def.id.clone(),
            area_code: area.code.clone(),
            area_name: area.name.clone(),
            level: request.level.as_str(),
            parent_code: area.parent.clone(),
            period: period.clone(),
            numerator: counts.map(|c| c.0),
            denominator: counts.map(|c| c.1),
            value: e.value,
            lower_95: e.ci95.map(|i| i.lower),
            upper_95: e.ci95.map(|i| i.upper),
            lower_998: e.ci998.map(|i| i.lower),
            upper_998: e.ci998.map(|i| i.upper),
            unit: def.unit.clone(),
            benchmark_code,
            benchmark_value: b.value,
            gap: g.gap,
            gap_lower_95: g.interval.map(|i| i.lower),
            gap_upper_95: g.interval.map(|i| i.upper),
            ratio: g.ratio,
            comparison_95: g.comparison_95,
            comparison_998: g.comparison_998,
            rank_in_parent: None,
            suppressed: e.suppressed,
            withheld: withheld_name(&e),
            fit: agg.basis.fit.to_string(),
        });
    }
    if rows.is_empty() {
        return Err(QueryError::NotFound(format!(
            "indicator {} has no {} figures{} in {period}",
            def.id,
            request.level.as_str(),
            request
                .authority
                .as_deref()
                .map(|a| format!(" in {a}"))
                .unwrap_or_default()
        )));
    }
    rank_within(&mut rows, def);
    if without_parent > 0 {
        notes.push(format!(
            "{without_parent} {} areas lie in no single {}: they have no benchmark",
            request.level.as_str(),
            request.benchmark.as_str()
        ));
    }
    if let Benchmark::Parent(kind) = &request.benchmark {
        let empty: BTreeSet<&str> = rows
            .iter()
            .filter(|r| !r.benchmark_code.is_empty() && r.benchmark_value.is_none())
            .map(|r| r.benchmark_code.as_str())
            .collect();
        if !empty.is_empty() && rows.iter().any(|r| r.benchmark_value.is_some()) {
            notes.push(format!(
                "{} {kind} areas have no figure, so their areas have no benchmark value: {}",
                empty.len(),
                empty.into_iter().collect::<Vec<_>>().join(", ")
            ));
        }
    }
    if england_missing {
        notes.push(coverage.note(&agg, &period));
    } else if rows.iter().all(|r| r.benchmark_value.is_none()) {
        notes.push(format!(
            "no benchmark value: the {} figure needs data for all of its areas",
            match &request.benchmark {
                Benchmark::England => "England",
                Benchmark::Authority => "authority",
                Benchmark::Parent(kind) => kind,
            }
        ));
    }
    let below = rows
        .iter()
        .filter(|r| r.withheld == Some(Withheld::BelowThreshold.as_str()))
        .count();
    let complementary = rows
        .iter()
        .filter(|r| r.withheld == Some(Withheld::Complementary.as_str()))
        .count();
    if below + complementary > 0 {
        notes.push(disclosure_note(below, complementary, engine.threshold()));
    }
    rows.sort_by(|a, b| (&a.parent_code, &a.area_code).cmp(&(&b.parent_code, &b.area_code)));
    let (schema, batches) = to_batches(&GAP_COLUMNS, &rows)?;
    Ok(Answer {
        schema,
        batches,
        basis,
        notes,
    })
}
