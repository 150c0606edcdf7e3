//! Question 3: selected areas pooled against the rest of their authority, or of England.
//!
//! England is a whole like an authority: `authority` = `E92000001` (or `england`) takes the
//! selection nationally and pools it against the rest of England, and
//! [`deprived_vs_england`] compares an authority's selection with England without it. England
//! exists only where the data cover it: [`england_coverage`] counts the English areas with
//! data against the national count, and a partial England gives no figures and a note.

use std::collections::BTreeSet;

use serde::Serialize;

use crate::aggregate::{Aggregate, Assessed, Evaluated};
use crate::answer::{Answer, Kind, to_batches};
use crate::engine::{Engine, Scope};
use crate::geography::{AreaLevel, ENGLAND_CODE};
use crate::{QueryError, Result};

use super::gap::Benchmark;
use super::selection::{Selection, resolve_selection};
use super::{Gap, gap, pick_period, withheld_name};

/// The authority code a request names: `england` (any case) means England, `E92000001`;
/// anything else is kept as given.
pub fn authority_code(authority: &str) -> String {
    if authority.trim().eq_ignore_ascii_case("england") {
        ENGLAND_CODE.to_owned()
    } else {
        authority.trim().to_owned()
    }
}

/// How much of England an indicator's data cover in one period.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Coverage {
    /// English native areas with a figure in the period.
    pub with_data: usize,
    /// English native areas there are: the national LSOA count of the data's LSOA vintage
    /// (from the IoD edition schemas) for LSOA data, else the lookup's English areas.
    pub expected: usize,
    /// The lookup's English LSOAs against the national count of its LSOA vintage, when that
    /// is known: for ward or authority data the lookup must itself cover England.
    pub lookup: Option<(usize, usize)>,
}

impl Coverage {
    pub fn covered(&self) -> bool {
        self.expected > 0
            && self.with_data >= self.expected
            && self.lookup.is_none_or(|(have, national)| have >= national)
    }

    /// The note a partial England carries.
    pub fn note(&self, agg: &Aggregate, period: &str) -> String {
        let datasets: Vec<&str> = agg.basis.datasets.keys().map(String::as_str).collect();
        let lookup = match self.lookup {
            Some((have, national)) if have < national => {
                format!(" (the lookup holds {have} of {national} English LSOAs)")
            }
            _ => String::new(),
        };
        format!(
            "England is not covered by {}: {} of {} English {}s have data in {period}{lookup}; \
             no England figures are given, since a sum over part of England would be a false \
             England",
            datasets.join(", "),
            self.with_data,
            self.expected,
            match agg.native_level {
                AreaLevel::Lsoa => "LSOA",
                AreaLevel::Ward => "ward",
                _ => "area",
            }
        )
    }
}

/// The national LSOA count the IoD edition schemas declare for an LSOA vintage.
fn national_lsoas(catalog: &renewal_schema::Catalog, v: renewal_geo::Vintage) -> Option<usize> {
    catalog
        .iod_vintages()
        .into_iter()
        .flat_map(|e| catalog.iod_formats(e))
        .filter(|(_, f)| f.lsoa_vintage == v)
        .map(|(_, f)| f.national_lsoa_count as usize)
        .max()
}

/// The coverage of England by `agg`'s data in `period`. The lookup alone cannot say: a
/// partnership's lookup (or the sample's) holds only its own LSOAs, so England built from it
/// would look complete. LSOA data are therefore checked against the national LSOA count the
/// IoD edition schemas declare for their LSOA vintage, and ward or authority data need a
/// lookup holding that many English LSOAs.
pub(crate) fn england_coverage(
    catalog: &renewal_schema::Catalog,
    agg: &Aggregate,
    period: &str,
) -> Coverage {
    let english = agg
        .members
        .get(&(AreaLevel::England, ENGLAND_CODE.to_owned()))
        .map(Vec::as_slice)
        .unwrap_or_default();
    let with_data = english
        .iter()
        .filter(|c| {
            agg.figure(agg.native_level, c, period)
                .is_some_and(|f| f.numerator.is_some())
        })
        .count();
    let vintage = agg
        .lsoa_vintage
        .or(agg.indicator.native_geography.lsoa_vintage());
    let national = match (agg.native_level, vintage) {
        (AreaLevel::Lsoa, Some(v)) => national_lsoas(catalog, v),
        _ => None,
    };
    let (have, lookup_vintage) = agg.lookup_english_lsoas;
    Coverage {
        with_data,
        expected: national.unwrap_or(0).max(english.len()),
        lookup: lookup_vintage
            .and_then(|v| national_lsoas(catalog, v))
            .map(|n| (have, n)),
    }
}

/// A figure that is not given (not withheld: it does not exist).
pub(crate) fn absent() -> Assessed {
    (
        Evaluated {
            value: None,
            ci95: None,
            ci998: None,
            suppressed: false,
            withheld: None,
        },
        None,
    )
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
    /// What the rest is the rest of: `authority` or `england`.
    benchmark: &'static str,
    england_value: Option<f64>,
    england_withheld: Option<&'static str>,
}

const VERSUS_COLUMNS: [(&str, Kind); 31] = [
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
    ("benchmark", Kind::Text),
    ("england_value", Kind::Number),
    ("england_withheld", Kind::Text),
];

/// Selected areas and the rest of their whole (the authority, or England), pooled, in one
/// period, after disclosure control (each part released only if it splits no protection
/// group), with the authority's (England's, when national) and England's own figures.
pub(crate) struct Versus {
    pub selected: Assessed,
    pub rest: Assessed,
    pub authority: Evaluated,
    pub england: Evaluated,
    pub counts: (usize, usize),
}

/// Whether a question about `authority` against `benchmark` needs England.
pub(crate) fn needs_england(authority: &str, benchmark: &Benchmark) -> bool {
    authority == ENGLAND_CODE || *benchmark == Benchmark::England
}

/// The selection against the rest of `authority` (`benchmark` Authority) or of England
/// (`benchmark` England, or `authority` England). `covered`: whether the data cover England
/// in `period` ([`england_coverage`]); without it no figure that needs all of England is
/// given (the national selection itself, the rest of England, England).
pub(crate) fn versus(
    agg: &Aggregate,
    chosen: &BTreeSet<String>,
    authority: &str,
    benchmark: &Benchmark,
    period: &str,
    covered: bool,
) -> Versus {
    let national = authority == ENGLAND_CODE;
    let whole = if needs_england(authority, benchmark) {
        (AreaLevel::England, ENGLAND_CODE.to_owned())
    } else {
        (AreaLevel::Lad, authority.to_owned())
    };
    let all: Vec<String> = agg.members.get(&whole).cloned().unwrap_or_default();
    let rest: Vec<&String> = all.iter().filter(|c| !chosen.contains(*c)).collect();
    let chosen: Vec<&String> = chosen.iter().collect();
    let selected = if national && !covered {
        absent()
    } else {
        agg.assess_set(&chosen, period).0
    };
    let rest_p = if whole.0 == AreaLevel::England && !covered {
        absent()
    } else {
        agg.assess_set(&rest, period).0
    };
    let england = if covered {
        agg.assess(AreaLevel::England, ENGLAND_CODE, period).0
    } else {
        absent().0
    };
    let authority_e = if national {
        england
    } else {
        agg.assess(AreaLevel::Lad, authority, period).0
    };
    Versus {
        selected,
        rest: rest_p,
        authority: authority_e,
        england,
        counts: (chosen.len(), rest.len()),
    }
}

/// Question 3: the pooled value of selected areas against the remainder of the authority
/// (the complement, not the total that contains them: METHODS.md). With `authority` England
/// (`E92000001` or `england`) the selection is taken nationally and compared with the rest of
/// England.
pub async fn deprived_vs_rest(
    engine: &Engine,
    request: &SelectionRequest,
    scope: &Scope,
) -> Result<Answer> {
    selection_vs(engine, request, Benchmark::Authority, scope).await
}

/// Question 3 against England: an authority's selection pooled against England without it,
/// with the authority's and England's own values beside it.
pub async fn deprived_vs_england(
    engine: &Engine,
    request: &SelectionRequest,
    scope: &Scope,
) -> Result<Answer> {
    selection_vs(engine, request, Benchmark::England, scope).await
}

async fn selection_vs(
    engine: &Engine,
    request: &SelectionRequest,
    benchmark: Benchmark,
    scope: &Scope,
) -> Result<Answer> {
    let authority = authority_code(&request.authority);
    let agg = engine.aggregate(&request.indicator, scope).await?;
    let def = &agg.indicator;
    // Published values have no numerators to pool: an empty pooled row would read as "no
    // data", so the question is refused and says why.
    if def.value_type == renewal_schema::ValueType::Value {
        return Err(QueryError::InvalidArgument(format!(
            "indicator {} is published as values only: values compared, not pooled: the file \
             gives no numerators, so a selection and the rest cannot be pooled; the gap table \
             and the Local Performance Plan set the areas' values side by side",
            def.id
        )));
    }
    let period = pick_period(&agg, request.period.as_deref())?;
    let chosen = resolve_selection(engine, &agg, &request.selection, &authority, scope).await?;
    if chosen.is_empty() {
        return Err(QueryError::NotFound(format!(
            "selection {} has no areas in {}",
            request.selection,
            if authority == ENGLAND_CODE {
                "England".to_owned()
            } else {
                format!("authority {authority}")
            }
        )));
    }
    let mut notes = agg.notes.clone();
    let england_involved = needs_england(&authority, &benchmark);
    // Always checked: england_value is in every row, and a partial England is never given.
    let coverage = england_coverage(engine.catalog(), &agg, &period);
    let covered = coverage.covered();
    if england_involved && !covered {
        notes.push(coverage.note(&agg, &period));
    }
    let v = versus(&agg, &chosen, &authority, &benchmark, &period, covered);
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
        authority: authority.clone(),
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
        benchmark: if england_involved {
            "england"
        } else {
            "authority"
        },
        england_value: v.england.value,
        england_withheld: withheld_name(&v.england),
    };
    if england_involved {
        notes.push(format!(
            "rest: {} without the selection (the complement, METHODS.md); england_value: England as a whole",
            if authority == ENGLAND_CODE {
                "England".to_owned()
            } else {
                format!("England (not only {authority})")
            }
        ));
    }
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
