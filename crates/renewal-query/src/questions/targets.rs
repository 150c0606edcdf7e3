//! Question 5: gap targets ("halve the gap by year Y") and whether each is on track.

use renewal_stats::TargetLine;
use serde::Serialize;

use crate::answer::{Answer, Kind, to_batches};
use crate::engine::{Engine, Scope};
use crate::store::Target;
use crate::{QueryError, Result};

use super::gap::Benchmark;
use super::periods::{financial_years, period_position};
use super::selection::{Selection, resolve_selection};
use super::versus::{authority_code, england_coverage, versus};
use super::{Gap, gap, withheld_name};

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
    /// What the gap is measured against: `authority` or `england`.
    benchmark: &'static str,
}

const TARGET_COLUMNS: [(&str, Kind); 19] = [
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
    ("benchmark", Kind::Text),
];

/// Question 5: each target's baseline gap, target gap, trajectory value now, latest gap with
/// its interval and whether it is on track. The gap is the selection against its whole
/// authority, as targets are written ("between ward set S and the authority"); a national
/// target (authority `E92000001`) is against England as a whole, where the data cover it.
/// One target's row, the basis it was computed on and its notes.
async fn evaluate(
    engine: &Engine,
    t: &Target,
    scope: &Scope,
) -> Result<(TargetRow, crate::Basis, Vec<String>)> {
    let mut notes = Vec::new();
    let mut scope = scope.clone();
    if let Some(v) = &t.ward_vintage {
        scope.ward_vintage = Some(
            v.parse()
                .map_err(|e: renewal_geo::GeoError| QueryError::InvalidArgument(e.to_string()))?,
        );
    }
    let agg = engine.aggregate(&t.indicator, &scope).await?;
    let def = &agg.indicator;
    let selection: Selection = t.selection.parse().map_err(QueryError::InvalidArgument)?;
    let authority = authority_code(&t.authority);
    let against_england = t.measured_against_england();
    let chosen = resolve_selection(engine, &agg, &selection, &authority, &scope).await?;
    // A national target, or one against England, is against England as a whole: only where
    // the data cover England.
    let covered = |period: &str| -> bool {
        !against_england || england_coverage(engine.catalog(), &agg, period).covered()
    };
    let benchmark = if against_england {
        Benchmark::England
    } else {
        Benchmark::Authority
    };
    for p in [
        t.baseline_period.as_str(),
        agg.latest_period().unwrap_or_default(),
    ] {
        if against_england && agg.periods.iter().any(|q| q == p) {
            let c = england_coverage(engine.catalog(), &agg, p);
            if !c.covered() {
                notes.push(format!("target {}: {}", t.id, c.note(&agg, p)));
            }
        }
    }
    // The gap needs both the selection and what it is measured against released.
    let gap_at = |period: &str| -> (Gap, Option<&'static str>) {
        let v = versus(
            &agg,
            &chosen,
            &authority,
            &benchmark,
            period,
            covered(period),
        );
        // Against England as a whole (a national target, or one against England), else
        // against the selection's authority.
        let whole = if against_england {
            &v.england
        } else {
            &v.authority
        };
        match withheld_name(&v.selected.0).or(withheld_name(whole)) {
            Some(why) => (Gap::default(), Some(why)),
            None => (gap(def, &v.selected.0, whole), None),
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
    let row = TargetRow {
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
        benchmark: if against_england {
            "england"
        } else {
            "authority"
        },
    };
    Ok((row, agg.basis.clone(), notes))
}

/// The basis of several targets' rows: every dataset any of them drew on (so the server's
/// dataset scope is checked against all of them), every bridge, best-fit if any was.
fn merge_basis(into: &mut crate::Basis, other: crate::Basis) {
    into.datasets.extend(other.datasets);
    if !into.method.split("; ").any(|m| m == other.method) {
        into.method = format!("{}; {}", into.method, other.method);
    }
    if other.fit != renewal_geo::Fit::Exact {
        into.fit = other.fit;
    }
    into.bridges.extend(other.bridges);
}

pub async fn target_status(engine: &Engine, targets: &[Target], scope: &Scope) -> Result<Answer> {
    let mut rows = Vec::new();
    let mut basis: Option<crate::Basis> = None;
    let mut notes = Vec::new();
    for t in targets {
        match evaluate(engine, t, scope).await {
            Ok((row, b, n)) => {
                rows.push(row);
                notes.extend(n);
                match &mut basis {
                    None => basis = Some(b),
                    Some(into) => merge_basis(into, b),
                }
            }
            // One target asked for by name: its error is the answer.
            Err(e) if targets.len() == 1 => return Err(e),
            // Listing every target: one that cannot be evaluated (a selection its indicator
            // cannot take, data since removed) must not hide the others; it is named.
            Err(e) => notes.push(format!("target {}: not evaluated: {e}", t.id)),
        }
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
