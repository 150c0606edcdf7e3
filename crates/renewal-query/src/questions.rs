//! The questions LSP analysts ask (issue 4), answered from cached aggregates with the
//! statistics of METHODS.md: gaps against the authority or England, deprived areas against the
//! rest, narrowing-the-gap series, targets, and area profiles.

use std::collections::{BTreeSet, HashSet};

use renewal_schema::{IndicatorDef, PolarityName, ValueType};
use renewal_stats::{Comparison, Interval, Polarity, TargetLine};
use serde::Serialize;

use renewal_stats::Withheld;

use crate::aggregate::{Aggregate, Assessed, Evaluated};
use crate::answer::{Answer, Kind, to_batches};
use crate::engine::{Engine, Scope};
use crate::geography::{AreaLevel, ENGLAND_CODE};
use crate::store::Target;
use crate::{QueryError, Result};

/// What an area is compared with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Benchmark {
    /// The authority the area lies in.
    Authority,
    England,
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

pub(crate) fn polarity(def: &IndicatorDef) -> Polarity {
    match def.polarity {
        PolarityName::HigherIsBetter => Polarity::HigherIsBetter,
        PolarityName::LowerIsBetter => Polarity::LowerIsBetter,
        PolarityName::NoJudgement => Polarity::NoJudgement,
    }
}

fn comparison_name(c: Comparison) -> &'static str {
    match c {
        Comparison::Better => "better",
        Comparison::Similar => "similar",
        Comparison::Worse => "worse",
        Comparison::Higher => "higher",
        Comparison::Lower => "lower",
    }
}

/// A value against a benchmark value: gap (area − benchmark, in the indicator's unit, so
/// percentage points for percentages), MOVER interval for the gap, ratio, Fingertips
/// comparisons at 95% and 99.8%.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Gap {
    pub gap: Option<f64>,
    pub interval: Option<Interval>,
    pub ratio: Option<f64>,
    pub comparison_95: Option<&'static str>,
    pub comparison_998: Option<&'static str>,
}

pub(crate) fn gap(def: &IndicatorDef, area: &Evaluated, benchmark: &Evaluated) -> Gap {
    let (Some(v), Some(b)) = (area.value, benchmark.value) else {
        return Gap::default();
    };
    let p = polarity(def);
    let interval = match (area.ci95, benchmark.ci95) {
        (Some(i1), Some(i2)) => Some(renewal_stats::mover_difference(v, i1, b, i2)),
        _ => None,
    };
    Gap {
        gap: Some(v - b),
        interval,
        ratio: (b != 0.0).then(|| v / b),
        comparison_95: area
            .ci95
            .map(|i| comparison_name(renewal_stats::compare(v, i, b, p))),
        comparison_998: area
            .ci998
            .map(|i| comparison_name(renewal_stats::compare(v, i, b, p))),
    }
}

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

fn pick_period(agg: &Aggregate, period: Option<&str>) -> Result<String> {
    match period {
        Some(p) if agg.periods.iter().any(|q| q == p) => Ok(p.to_owned()),
        Some(p) => Err(QueryError::NotFound(format!(
            "indicator {} has no period {p:?}; it has {}",
            agg.indicator.id,
            agg.periods.join(", ")
        ))),
        None => agg
            .latest_period()
            .map(String::from)
            .ok_or_else(|| QueryError::Precondition("no periods".into())),
    }
}

fn withheld_name(e: &Evaluated) -> Option<&'static str> {
    e.withheld.map(|w| w.as_str())
}

/// Questions 1 and 2: every area of a level (in one authority or all) against its authority
/// or England.
pub async fn gap_table(engine: &Engine, request: &GapRequest, scope: &Scope) -> Result<Answer> {
    let agg = engine.aggregate(&request.indicator, scope).await?;
    let def = &agg.indicator;
    let period = pick_period(&agg, request.period.as_deref())?;
    if let Some(a) = &request.authority
        && !agg.areas.contains_key(&(AreaLevel::Lad, a.clone()))
    {
        return Err(QueryError::NotFound(format!(
            "authority {a} has no data for indicator {}",
            def.id
        )));
    }
    let mut notes = agg.notes.clone();
    let mut rows = Vec::new();
    for area in agg.areas_of(request.level, None) {
        let authority = match request.level {
            AreaLevel::Lad => Some(area.code.as_str()),
            _ => area.parent.as_deref(),
        };
        if request.authority.is_some() && authority != request.authority.as_deref() {
            continue;
        }
        let benchmark_code = match request.benchmark {
            Benchmark::England => ENGLAND_CODE.to_owned(),
            Benchmark::Authority => match authority {
                Some(a) if request.level != AreaLevel::Lad => a.to_owned(),
                _ => ENGLAND_CODE.to_owned(),
            },
        };
        let benchmark_level = if benchmark_code == ENGLAND_CODE {
            AreaLevel::England
        } else {
            AreaLevel::Lad
        };
        let (e, counts) = agg.assess(request.level, &area.code, &period);
        let (b, _) = agg.assess(benchmark_level, &benchmark_code, &period);
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
    if rows.iter().all(|r| r.benchmark_value.is_none()) {
        notes.push(format!(
            "no benchmark value: the {} figure needs data for all of its areas",
            match request.benchmark {
                Benchmark::England => "England",
                Benchmark::Authority => "authority",
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
        basis: agg.basis.clone(),
        notes,
    })
}

/// Which areas a question pools.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selection {
    /// LSOAs in IMD deciles 1..=N of an IoD edition within the authority. `None` is the
    /// default edition (`data-schemas/editions.toml`: 2019), so `imd-decile<=2` keeps its
    /// meaning when a newer edition is ingested; `imd2025-decile<=2` names one.
    ImdDecile { max: u8, edition: Option<String> },
    /// LSOA or ward codes (a ward means all its LSOAs).
    Areas(Vec<String>),
    /// A registered custom neighbourhood.
    Neighbourhood(String),
}

impl Selection {
    /// The same selection with its edition made explicit, as stored with a target: ingesting
    /// a newer edition never changes what a registered selection means.
    pub fn pinned(&self, catalog: &renewal_schema::Catalog) -> Result<Selection> {
        Ok(match self {
            Selection::ImdDecile { max, edition } => Selection::ImdDecile {
                max: *max,
                edition: Some(
                    catalog
                        .resolve_edition(edition.as_deref())
                        .map_err(|e| QueryError::InvalidArgument(e.to_string()))?,
                ),
            },
            other => other.clone(),
        })
    }
}

impl std::str::FromStr for Selection {
    type Err = String;
    /// `imd-decile<=2`, `imd2025-decile<=2`, `imdnewest-decile<=2`,
    /// `areas:E05000001,E05000002`, `neighbourhood:ID`.
    fn from_str(s: &str) -> Result<Self, String> {
        if let Some(rest) = s.strip_prefix("imd")
            && let Some((edition, n)) = rest.split_once("-decile<=")
        {
            let max: u8 = n
                .parse()
                .ok()
                .filter(|d| (1..=10).contains(d))
                .ok_or_else(|| format!("{s:?}: decile must be 1 to 10"))?;
            if !edition.bytes().all(|b| b.is_ascii_alphanumeric()) {
                return Err(format!(
                    "{s:?}: the edition goes between imd and -decile, e.g. imd2025-decile<=2"
                ));
            }
            return Ok(Selection::ImdDecile {
                max,
                edition: (!edition.is_empty()).then(|| edition.to_owned()),
            });
        }
        if let Some(list) = s.strip_prefix("areas:") {
            let codes: Vec<String> = list
                .split(',')
                .map(|c| c.trim().to_owned())
                .filter(|c| !c.is_empty())
                .collect();
            if codes.is_empty() {
                return Err(format!("{s:?}: no area codes"));
            }
            return Ok(Selection::Areas(codes));
        }
        if let Some(id) = s.strip_prefix("neighbourhood:") {
            return Ok(Selection::Neighbourhood(id.to_owned()));
        }
        Err(format!(
            "selection {s:?}: use imd-decile<=N (or imdEDITION-decile<=N), areas:CODE,CODE… or neighbourhood:ID"
        ))
    }
}

impl std::fmt::Display for Selection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Selection::ImdDecile { max, edition } => {
                write!(f, "imd{}-decile<={max}", edition.as_deref().unwrap_or(""))
            }
            Selection::Areas(codes) => write!(f, "areas:{}", codes.join(",")),
            Selection::Neighbourhood(id) => write!(f, "neighbourhood:{id}"),
        }
    }
}

/// The native member codes a selection covers within `authority`.
pub(crate) async fn resolve_selection(
    engine: &Engine,
    agg: &Aggregate,
    selection: &Selection,
    authority: &str,
    scope: &Scope,
) -> Result<BTreeSet<String>> {
    let in_authority: HashSet<&String> = agg
        .members
        .get(&(AreaLevel::Lad, authority.to_owned()))
        .map(|m| m.iter().collect())
        .unwrap_or_default();
    let members_of = |level: AreaLevel, code: &str| -> Vec<String> {
        agg.members
            .get(&(level, code.to_owned()))
            .cloned()
            .unwrap_or_default()
    };
    let chosen: BTreeSet<String> = match selection {
        Selection::Neighbourhood(id) => {
            let m = members_of(AreaLevel::Neighbourhood, id);
            if m.is_empty() {
                return Err(QueryError::NotFound(format!(
                    "no neighbourhood {id:?} with areas in this indicator's geography"
                )));
            }
            m.into_iter().collect()
        }
        Selection::Areas(codes) => {
            let mut out = BTreeSet::new();
            for c in codes {
                let found = [AreaLevel::Lsoa, AreaLevel::Ward]
                    .into_iter()
                    .map(|l| members_of(l, c))
                    .find(|m| !m.is_empty())
                    .ok_or_else(|| {
                        QueryError::NotFound(format!(
                            "area {c} is not an LSOA or ward of indicator {}'s geography",
                            agg.indicator.id
                        ))
                    })?;
                out.extend(found);
            }
            out
        }
        Selection::ImdDecile { max, edition } => {
            if agg.native_level != AreaLevel::Lsoa {
                return Err(QueryError::InvalidArgument(format!(
                    "indicator {} is not LSOA-based: select its areas by list instead of IMD decile",
                    agg.indicator.id
                )));
            }
            let edition = engine
                .catalog()
                .resolve_edition(edition.as_deref())
                .map_err(|e| QueryError::InvalidArgument(e.to_string()))?;
            let (codes, vintage) =
                crate::priority::lsoas_in_deciles(engine.warehouse(), &edition, *max, &scope.pins)
                    .await?;
            crate::bridging::select_on(engine, agg, codes, vintage, scope).await?
        }
    };
    Ok(chosen
        .into_iter()
        .filter(|c| in_authority.contains(c))
        .collect())
}

#[derive(Debug, Clone)]
pub struct SelectionRequest {
    pub indicator: String,
    pub period: Option<String>,
    pub authority: String,
    pub selection: Selection,
}

#[derive(Debug, Clone, Serialize)]
struct VersusRow {
    indicator: String,
    authority: String,
    selection: String,
    period: String,
    selected_areas: i64,
    rest_areas: i64,
    selected_numerator: Option<f64>,
    selected_denominator: Option<f64>,
    selected_value: Option<f64>,
    selected_lower_95: Option<f64>,
    selected_upper_95: Option<f64>,
    rest_numerator: Option<f64>,
    rest_denominator: Option<f64>,
    rest_value: Option<f64>,
    rest_lower_95: Option<f64>,
    rest_upper_95: Option<f64>,
    authority_value: Option<f64>,
    gap: Option<f64>,
    gap_lower_95: Option<f64>,
    gap_upper_95: Option<f64>,
    ratio: Option<f64>,
    comparison_95: Option<&'static str>,
    comparison_998: Option<&'static str>,
    suppressed: bool,
    selected_withheld: Option<&'static str>,
    rest_withheld: Option<&'static str>,
    authority_withheld: Option<&'static str>,
    unit: String,
}

const VERSUS_COLUMNS: [(&str, Kind); 28] = [
    ("indicator", Kind::Text),
    ("authority", Kind::Text),
    ("selection", Kind::Text),
    ("period", Kind::Text),
    ("selected_areas", Kind::Integer),
    ("rest_areas", Kind::Integer),
    ("selected_numerator", Kind::Number),
    ("selected_denominator", Kind::Number),
    ("selected_value", Kind::Number),
    ("selected_lower_95", Kind::Number),
    ("selected_upper_95", Kind::Number),
    ("rest_numerator", Kind::Number),
    ("rest_denominator", Kind::Number),
    ("rest_value", Kind::Number),
    ("rest_lower_95", Kind::Number),
    ("rest_upper_95", Kind::Number),
    ("authority_value", Kind::Number),
    ("gap", Kind::Number),
    ("gap_lower_95", Kind::Number),
    ("gap_upper_95", Kind::Number),
    ("ratio", Kind::Number),
    ("comparison_95", Kind::Text),
    ("comparison_998", Kind::Text),
    ("suppressed", Kind::Flag),
    ("selected_withheld", Kind::Text),
    ("rest_withheld", Kind::Text),
    ("authority_withheld", Kind::Text),
    ("unit", Kind::Text),
];

/// Selected areas and the rest of their authority, pooled, in one period, after disclosure
/// control (each part released only if it splits no protection group).
pub(crate) struct Versus {
    pub selected: Assessed,
    pub rest: Assessed,
    pub authority: Evaluated,
    pub counts: (usize, usize),
}

pub(crate) fn versus(
    agg: &Aggregate,
    chosen: &BTreeSet<String>,
    authority: &str,
    period: &str,
) -> Versus {
    let all: Vec<String> = agg
        .members
        .get(&(AreaLevel::Lad, authority.to_owned()))
        .cloned()
        .unwrap_or_default();
    let rest: Vec<&String> = all.iter().filter(|c| !chosen.contains(*c)).collect();
    let chosen: Vec<&String> = chosen.iter().collect();
    let (selected, _) = agg.assess_set(&chosen, period);
    let (rest_p, _) = agg.assess_set(&rest, period);
    let (authority_e, _) = agg.assess(AreaLevel::Lad, authority, period);
    Versus {
        selected,
        rest: rest_p,
        authority: authority_e,
        counts: (chosen.len(), rest.len()),
    }
}

/// The note an answer with withheld figures carries.
fn disclosure_note(below: usize, complementary: usize, threshold: f64) -> String {
    format!(
        "disclosure control: {below} figures withheld as counts below {threshold}, {complementary} \
         more withheld because with the figures released they would reveal one (complementary \
         suppression; ARCHITECTURE.md, \"Disclosure control\")"
    )
}

/// Question 3: the pooled value of selected areas against the remainder of the authority
/// (the complement, not the total that contains them: METHODS.md).
pub async fn deprived_vs_rest(
    engine: &Engine,
    request: &SelectionRequest,
    scope: &Scope,
) -> Result<Answer> {
    let agg = engine.aggregate(&request.indicator, scope).await?;
    let def = &agg.indicator;
    let period = pick_period(&agg, request.period.as_deref())?;
    let chosen =
        resolve_selection(engine, &agg, &request.selection, &request.authority, scope).await?;
    if chosen.is_empty() {
        return Err(QueryError::NotFound(format!(
            "selection {} has no areas in authority {}",
            request.selection, request.authority
        )));
    }
    let v = versus(&agg, &chosen, &request.authority, &period);
    let (s, sp) = v.selected;
    let (r, rp) = v.rest;
    let suppressed = s.suppressed || r.suppressed;
    let g = if suppressed {
        Gap::default()
    } else {
        gap(def, &s, &r)
    };
    let row = VersusRow {
        indicator: def.id.clone(),
        authority: request.authority.clone(),
        selection: request.selection.to_string(),
        period,
        selected_areas: v.counts.0 as i64,
        rest_areas: v.counts.1 as i64,
        selected_numerator: sp.map(|p| p.0),
        selected_denominator: sp.map(|p| p.1),
        selected_value: s.value,
        selected_lower_95: s.ci95.map(|i| i.lower),
        selected_upper_95: s.ci95.map(|i| i.upper),
        rest_numerator: rp.map(|p| p.0),
        rest_denominator: rp.map(|p| p.1),
        rest_value: r.value,
        rest_lower_95: r.ci95.map(|i| i.lower),
        rest_upper_95: r.ci95.map(|i| i.upper),
        authority_value: v.authority.value,
        gap: g.gap,
        gap_lower_95: g.interval.map(|i| i.lower),
        gap_upper_95: g.interval.map(|i| i.upper),
        ratio: g.ratio,
        comparison_95: g.comparison_95,
        comparison_998: g.comparison_998,
        suppressed,
        selected_withheld: withheld_name(&s),
        rest_withheld: withheld_name(&r),
        authority_withheld: withheld_name(&v.authority),
        unit: def.unit.clone(),
    };
    let mut notes = agg.notes.clone();
    if suppressed {
        notes.push(
            "disclosure control: a part withheld as below-threshold has a count below the \
             threshold; complementary means it would reveal such a count with the figures \
             released (ARCHITECTURE.md, \"Disclosure control\")"
                .into(),
        );
    }
    let (schema, batches) = to_batches(&VERSUS_COLUMNS, &[row])?;
    Ok(Answer {
        schema,
        batches,
        basis: agg.basis.clone(),
        notes,
    })
}

/// Whether labels are financial years (`2016-17`): every one `YYYY-YY` with YY following
/// YYYY. Decided per series, since `2011-12` alone could be a month.
pub fn financial_years(labels: &[&str]) -> bool {
    !labels.is_empty()
        && labels.iter().all(|l| {
            l.len() == 7
                && l.as_bytes()[4] == b'-'
                && match (l[0..4].parse::<u32>(), l[5..7].parse::<u32>()) {
                    (Ok(y), Ok(t)) => (y + 1) % 100 == t,
                    _ => false,
                }
        })
}

/// A period label as a position in years, for trajectories and trend lines: financial years
/// from their start (`2016-17` → 2016), months (`2021-01` → 2021.0), census days and calendar
/// years likewise.
pub fn period_position(label: &str, financial: bool) -> Option<f64> {
    let year: f64 = label.get(0..4)?.parse::<u32>().ok()?.into();
    if financial {
        return Some(year);
    }
    match label.len() {
        4 => Some(year),
        7 => {
            let month: f64 = label.get(5..7)?.parse::<u32>().ok()?.into();
            Some(year + (month - 1.0) / 12.0)
        }
        10 => {
            let month: f64 = label.get(5..7)?.parse::<u32>().ok()?.into();
            let day: f64 = label.get(8..10)?.parse::<u32>().ok()?.into();
            Some(year + (month - 1.0) / 12.0 + (day - 1.0) / 365.0)
        }
        _ => None,
    }
}

#[derive(Debug, Clone)]
pub struct TrendRequest {
    pub indicator: String,
    pub authority: String,
    /// An area of the indicator's geography (ward, LSOA or neighbourhood) or a selection.
    pub selection: Selection,
}

#[derive(Debug, Clone, Serialize)]
struct TrendRow {
    indicator: String,
    selection: String,
    authority: String,
    period: String,
    value: Option<f64>,
    lower_95: Option<f64>,
    upper_95: Option<f64>,
    benchmark_value: Option<f64>,
    gap: Option<f64>,
    gap_lower_95: Option<f64>,
    gap_upper_95: Option<f64>,
    comparison_95: Option<&'static str>,
    suppressed: bool,
    withheld: Option<&'static str>,
    benchmark_withheld: Option<&'static str>,
    trend: Option<&'static str>,
    gap_trend: Option<&'static str>,
}

const TREND_COLUMNS: [(&str, Kind); 17] = [
    ("indicator", Kind::Text),
    ("selection", Kind::Text),
    ("authority", Kind::Text),
    ("period", Kind::Text),
    ("value", Kind::Number),
    ("lower_95", Kind::Number),
    ("upper_95", Kind::Number),
    ("benchmark_value", Kind::Number),
    ("gap", Kind::Number),
    ("gap_lower_95", Kind::Number),
    ("gap_upper_95", Kind::Number),
    ("comparison_95", Kind::Text),
    ("suppressed", Kind::Flag),
    ("withheld", Kind::Text),
    ("benchmark_withheld", Kind::Text),
    ("trend", Kind::Text),
    ("gap_trend", Kind::Text),
];

/// The 99.8% two-sided normal quantile: the level Fingertips uses for trends.
const Z_998: f64 = 3.090_232_306_167_813;

/// Whether a gap series moves significantly toward zero: weighted least squares of the gap on
/// time (weights 1/se², se from each gap's 95% interval), slope tested at 99.8%.
pub fn gap_direction(points: &[(f64, f64, Interval)]) -> &'static str {
    let usable: Vec<(f64, f64, f64)> = points
        .iter()
        .filter_map(|(t, g, i)| {
            let se = (i.upper - i.lower) / (2.0 * 1.959_963_984_540_054);
            (se > 0.0 && se.is_finite()).then_some((*t, *g, 1.0 / (se * se)))
        })
        .collect();
    if usable.len() < 3 {
        return "too-few-points";
    }
    let sw: f64 = usable.iter().map(|p| p.2).sum();
    let tbar = usable.iter().map(|p| p.2 * p.0).sum::<f64>() / sw;
    let gbar = usable.iter().map(|p| p.2 * p.1).sum::<f64>() / sw;
    let sxx: f64 = usable.iter().map(|p| p.2 * (p.0 - tbar).powi(2)).sum();
    if sxx <= 0.0 {
        return "no-significant-change";
    }
    let slope = usable
        .iter()
        .map(|p| p.2 * (p.0 - tbar) * (p.1 - gbar))
        .sum::<f64>()
        / sxx;
    let z = slope * sxx.sqrt();
    if z.abs() <= Z_998 {
        return "no-significant-change";
    }
    if slope * gbar < 0.0 {
        "narrowing"
    } else {
        "widening"
    }
}

/// Question 4: the gap between the selection and the rest of its authority in every period,
/// with the Fingertips trend marker for the selection's own values (last five points) and
/// whether the gap is narrowing.
pub async fn narrowing(engine: &Engine, request: &TrendRequest, scope: &Scope) -> Result<Answer> {
    let agg = engine.aggregate(&request.indicator, scope).await?;
    let def = &agg.indicator;
    let chosen =
        resolve_selection(engine, &agg, &request.selection, &request.authority, scope).await?;
    if chosen.is_empty() {
        return Err(QueryError::NotFound(format!(
            "selection {} has no areas in authority {}",
            request.selection, request.authority
        )));
    }
    let mut rows = Vec::new();
    let mut series = Vec::new();
    let mut gaps = Vec::new();
    let labels: Vec<&str> = agg.periods.iter().map(String::as_str).collect();
    let fy = financial_years(&labels);
    for period in &agg.periods {
        let v = versus(&agg, &chosen, &request.authority, period);
        let (s, sp) = v.selected;
        let (r, _) = v.rest;
        let suppressed = s.suppressed || r.suppressed;
        let g = if suppressed {
            Gap::default()
        } else {
            gap(def, &s, &r)
        };
        // Only released periods enter the trend: a statistic over a withheld figure would
        // let it be solved for.
        if let Some((x, n)) = sp {
            series.push((x, n));
        }
        if let (Some(t), Some(gv), Some(i)) = (period_position(period, fy), g.gap, g.interval) {
            gaps.push((t, gv, i));
        }
        rows.push(TrendRow {
            indicator: def.id.clone(),
            selection: request.selection.to_string(),
            authority: request.authority.clone(),
            period: period.clone(),
            value: s.value,
            lower_95: s.ci95.map(|i| i.lower),
            upper_95: s.ci95.map(|i| i.upper),
            benchmark_value: r.value,
            gap: g.gap,
            gap_lower_95: g.interval.map(|i| i.lower),
            gap_upper_95: g.interval.map(|i| i.upper),
            comparison_95: g.comparison_95,
            suppressed,
            withheld: withheld_name(&s),
            benchmark_withheld: withheld_name(&r),
            trend: None,
            gap_trend: None,
        });
    }
    let last5 = &series[series.len().saturating_sub(5)..];
    let trend = match def.value_type {
        ValueType::Proportion => renewal_stats::proportion_trend(last5),
        ValueType::Rate => renewal_stats::rate_trend(last5),
        _ => None,
    };
    let marker = trend.map(|t| match t.marker {
        renewal_stats::TrendMarker::Increasing => "increasing",
        renewal_stats::TrendMarker::Decreasing => "decreasing",
        renewal_stats::TrendMarker::NoSignificantChange => "no-significant-change",
    });
    let direction = gap_direction(&gaps);
    if let Some(last) = rows.last_mut() {
        last.trend = marker.or(Some("too-few-points"));
        last.gap_trend = Some(direction);
    }
    let mut notes = agg.notes.clone();
    notes.push(format!(
        "benchmark: the rest of {} (the authority without the selection); trend: chi-squared test for trend over the last {} points at 99.8%; gap trend: weighted regression of the gap on time at 99.8%",
        request.authority,
        last5.len()
    ));
    let (schema, batches) = to_batches(&TREND_COLUMNS, &rows)?;
    Ok(Answer {
        schema,
        batches,
        basis: agg.basis.clone(),
        notes,
    })
}

#[derive(Debug, Clone, Serialize)]
struct TargetRow {
    target: String,
    indicator: String,
    selection: String,
    authority: String,
    baseline_period: String,
    baseline_gap: Option<f64>,
    target_period: String,
    target_gap: Option<f64>,
    latest_period: String,
    expected_gap: Option<f64>,
    latest_gap: Option<f64>,
    latest_gap_lower_95: Option<f64>,
    latest_gap_upper_95: Option<f64>,
    status: Option<&'static str>,
    significantly_off_track: Option<bool>,
    baseline_withheld: Option<&'static str>,
    latest_withheld: Option<&'static str>,
    unit: String,
}

const TARGET_COLUMNS: [(&str, Kind); 18] = [
    ("target", Kind::Text),
    ("indicator", Kind::Text),
    ("selection", Kind::Text),
    ("authority", Kind::Text),
    ("baseline_period", Kind::Text),
    ("baseline_gap", Kind::Number),
    ("target_period", Kind::Text),
    ("target_gap", Kind::Number),
    ("latest_period", Kind::Text),
    ("expected_gap", Kind::Number),
    ("latest_gap", Kind::Number),
    ("latest_gap_lower_95", Kind::Number),
    ("latest_gap_upper_95", Kind::Number),
    ("status", Kind::Text),
    ("significantly_off_track", Kind::Flag),
    ("baseline_withheld", Kind::Text),
    ("latest_withheld", Kind::Text),
    ("unit", Kind::Text),
];

/// Question 5: each target's baseline gap, target gap, trajectory value now, latest gap with
/// its interval and whether it is on track. The gap is the selection against its whole
/// authority, as targets are written ("between ward set S and the authority").
pub async fn target_status(engine: &Engine, targets: &[Target], scope: &Scope) -> Result<Answer> {
    let mut rows = Vec::new();
    let mut basis = None;
    let mut notes = Vec::new();
    for t in targets {
        let mut scope = scope.clone();
        if let Some(v) = &t.ward_vintage {
            scope.ward_vintage =
                Some(v.parse().map_err(|e: renewal_geo::GeoError| {
                    QueryError::InvalidArgument(e.to_string())
                })?);
        }
        let agg = engine.aggregate(&t.indicator, &scope).await?;
        let def = &agg.indicator;
        let selection: Selection = t.selection.parse().map_err(QueryError::InvalidArgument)?;
        let chosen = resolve_selection(engine, &agg, &selection, &t.authority, &scope).await?;
        // The gap needs both the selection and its authority released.
        let gap_at = |period: &str| -> (Gap, Option<&'static str>) {
            let v = versus(&agg, &chosen, &t.authority, period);
            match withheld_name(&v.selected.0).or(withheld_name(&v.authority)) {
                Some(why) => (Gap::default(), Some(why)),
                None => (gap(def, &v.selected.0, &v.authority), None),
            }
        };
        let baseline_at = agg
            .periods
            .iter()
            .find(|p| **p == t.baseline_period)
            .map(|p| gap_at(p));
        let baseline_withheld = baseline_at.and_then(|b| b.1);
        let baseline = baseline_at.map(|b| b.0);
        let latest = agg.latest_period().unwrap_or_default().to_owned();
        let labels: Vec<&str> = agg.periods.iter().map(String::as_str).collect();
        let fy = financial_years(&labels);
        let (now, latest_withheld) = gap_at(&latest);
        let line = match (
            baseline.and_then(|b| b.gap),
            period_position(&t.baseline_period, fy),
            period_position(&t.target_period, fy),
        ) {
            (Some(g), Some(b), Some(tp)) => Some(TargetLine::new(b, g, tp, t.fraction_remaining)),
            _ => None,
        };
        if baseline.is_none() {
            notes.push(format!(
                "target {}: indicator {} has no period {} for the baseline",
                t.id, t.indicator, t.baseline_period
            ));
        }
        let latest_pos = period_position(&latest, fy);
        let assessed = match (line, now.gap, latest_pos) {
            (Some(line), Some(g), Some(p)) => Some(line.assess(p, g, now.interval)),
            _ => None,
        };
        rows.push(TargetRow {
            target: t.id.clone(),
            indicator: t.indicator.clone(),
            selection: t.selection.clone(),
            authority: t.authority.clone(),
            baseline_period: t.baseline_period.clone(),
            baseline_gap: line.map(|l| l.baseline_gap),
            target_period: t.target_period.clone(),
            target_gap: line.map(|l| l.target_gap),
            latest_period: latest,
            expected_gap: assessed.map(|a| a.expected_gap),
            latest_gap: now.gap,
            latest_gap_lower_95: now.interval.map(|i| i.lower),
            latest_gap_upper_95: now.interval.map(|i| i.upper),
            status: assessed.map(|a| match a.status {
                renewal_stats::TargetStatus::Achieved => "achieved",
                renewal_stats::TargetStatus::OnTrack => "on-track",
                renewal_stats::TargetStatus::OffTrack => "off-track",
            }),
            significantly_off_track: assessed.and_then(|a| a.significantly_off_track),
            baseline_withheld,
            latest_withheld,
            unit: def.unit.clone(),
        });
        basis.get_or_insert_with(|| agg.basis.clone());
    }
    let (schema, batches) = to_batches(&TARGET_COLUMNS, &rows)?;
    Ok(Answer {
        schema,
        batches,
        basis: basis.unwrap_or_else(|| crate::Basis {
            datasets: Default::default(),
            method: "no targets".into(),
            fit: renewal_geo::Fit::Exact,
            bridges: Vec::new(),
        }),
        notes,
    })
}
