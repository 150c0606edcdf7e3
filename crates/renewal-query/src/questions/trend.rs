//! Question 4: narrowing the gap, the selection against the rest in every period (the rest
//! of its authority, or of England: nationally with `authority` England, or for an
//! authority's selection with [`narrowing_vs_england`]).

use renewal_schema::ValueType;
use serde::Serialize;

use crate::answer::{Answer, Kind, to_batches};
use crate::engine::{Engine, Scope};
use crate::{QueryError, Result};

use super::gap::Benchmark;
use super::periods::{financial_years, period_position};
use super::selection::{Selection, resolve_selection};
use super::versus::{authority_code, england_coverage, needs_england, versus};
use super::{Gap, gap, withheld_name};

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
    england_value: Option<f64>,
}

const TREND_COLUMNS: [(&str, Kind); 18] = [
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
    ("england_value", Kind::Number),
];

/// Question 4: the gap between the selection and the rest of its authority in every period,
/// with the Fingertips trend marker for the selection's own values (last five points) and
/// whether the gap is narrowing. With `authority` England (`E92000001` or `england`) the
/// selection is national and the benchmark the rest of England.
pub async fn narrowing(engine: &Engine, request: &TrendRequest, scope: &Scope) -> Result<Answer> {
    narrowing_against(engine, request, Benchmark::Authority, None, scope).await
}

/// [`narrowing`] over the periods up to and including `until` only (all when `None` or when
/// the indicator has no such period), so a view of one year (the Local Performance Plan)
/// reports the trend as it stood then.
pub(crate) async fn narrowing_until(
    engine: &Engine,
    request: &TrendRequest,
    until: Option<&str>,
    scope: &Scope,
) -> Result<Answer> {
    narrowing_against(engine, request, Benchmark::Authority, until, scope).await
}

/// Question 4 against England: an authority's selection against England without it, every
/// period.
pub async fn narrowing_vs_england(
    engine: &Engine,
    request: &TrendRequest,
    scope: &Scope,
) -> Result<Answer> {
    narrowing_against(engine, request, Benchmark::England, None, scope).await
}

async fn narrowing_against(
    engine: &Engine,
    request: &TrendRequest,
    benchmark: Benchmark,
    until: Option<&str>,
    scope: &Scope,
) -> Result<Answer> {
    let authority = authority_code(&request.authority);
    let agg = engine.aggregate(&request.indicator, scope).await?;
    let def = &agg.indicator;
    let chosen = resolve_selection(engine, &agg, &request.selection, &authority, scope).await?;
    if chosen.is_empty() {
        return Err(QueryError::NotFound(format!(
            "selection {} has no areas in {}",
            request.selection,
            if authority == crate::ENGLAND_CODE {
                "England".to_owned()
            } else {
                format!("authority {authority}")
            }
        )));
    }
    let england_involved = needs_england(&authority, &benchmark);
    let mut uncovered = Vec::new();
    let mut rows = Vec::new();
    let mut series = Vec::new();
    let mut gaps = Vec::new();
    let upto = until
        .and_then(|u| agg.periods.iter().position(|p| p == u))
        .map_or(agg.periods.len(), |i| i + 1);
    let periods = &agg.periods[..upto];
    let labels: Vec<&str> = periods.iter().map(String::as_str).collect();
    let fy = financial_years(&labels);
    for period in periods {
        // Always checked: england_value is in every row, and a partial England is never given.
        let c = england_coverage(engine.catalog(), &agg, period);
        if england_involved && !c.covered() {
            uncovered.push(c.note(&agg, period));
        }
        let covered = c.covered();
        let v = versus(&agg, &chosen, &authority, &benchmark, period, covered);
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
            authority: authority.clone(),
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
            england_value: v.england.value,
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
    let direction = renewal_stats::gap_direction(&gaps).as_str();
    if let Some(last) = rows.last_mut() {
        last.trend = marker.or(Some("too-few-points"));
        last.gap_trend = Some(direction);
    }
    let mut notes = agg.notes.clone();
    if let Some(first) = uncovered.first() {
        notes.push(match uncovered.len() {
            1 => first.clone(),
            n => format!("{first}; the same in {} other periods", n - 1),
        });
    }
    let whole = if england_involved {
        "England (England without the selection)".to_owned()
    } else {
        format!("{authority} (the authority without the selection)")
    };
    notes.push(format!(
        "benchmark: the rest of {whole}; trend: chi-squared test for trend over the last {} points at 99.8%; gap trend: weighted regression of the gap on time at 99.8%",
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
