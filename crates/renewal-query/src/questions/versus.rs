//! Question 3: selected areas pooled against the rest of their authority.

use std::collections::BTreeSet;

use serde::Serialize;

use crate::aggregate::{Aggregate, Assessed, Evaluated};
use crate::answer::{Answer, Kind, to_batches};
use crate::engine::{Engine, Scope};
use crate::geography::AreaLevel;
use crate::{QueryError, Result};

use super::selection::{Selection, resolve_selection};
use super::{Gap, gap, pick_period, withheld_name};

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

/// Question 3: the pooled value of selected areas against the remainder of the authority
/// (the complement, not the total that contains them: METHODS.md).
pub async fn deprived_vs_rest(
    engine: &Engine,
    request: &SelectionRequest,
    scope: &Scope,
) -> Result<Answer> {
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
