//! The Local Performance Plan view: for one authority and financial year, every indicator the
//! plan file (`data-schemas/plans/lpp.toml`) declares, as the table an LPP prints: the
//! authority-wide value, each ward (or neighbourhood, or LSOA), the deprived neighbourhoods and
//! the rest of the authority, the trend up to the year, and each registered target's status.
//!
//! Nothing here computes a statistic: every figure is read from the answers of the existing
//! questions ([`gap_table`], [`deprived_vs_rest`], `narrowing` up to the year,
//! [`target_status`]), so disclosure control, intervals and comparisons are theirs. What this
//! module adds is the choice of each indicator's period within the year, and, for indicators
//! published as values only, the authority's median ward value as the benchmark (values set
//! side by side, never pooled). An indicator that cannot be answered gets a note, not an error
//! for the whole plan.

use std::collections::BTreeSet;

use renewal_schema::{IndicatorDef, PeriodType, ValueType};
use serde::Serialize;
use serde_json::{Map, Value};

use crate::answer::{Answer, Kind, to_batches};
use crate::engine::{Engine, Scope};
use crate::geography::AreaLevel;
use crate::{Basis, QueryError, Result};

use super::selection::Selection;
use super::trend::narrowing_until;
use super::{Benchmark, GapRequest, SelectionRequest, TrendRequest};
use super::{deprived_vs_rest, gap_table, target_status};

/// The plan the view prints unless a request names another.
pub const DEFAULT_PLAN: &str = "lpp";

/// One Local Performance Plan: an authority and a financial year.
#[derive(Debug, Clone)]
pub struct LppRequest {
    /// The authority (LAD code).
    pub authority: String,
    /// The financial year, `2023-24` or `2023/24`.
    pub year: String,
    /// The level of the per-area rows: ward, neighbourhood or LSOA; `None`: the plan's.
    pub level: Option<AreaLevel>,
    /// The deprived areas set against the rest; `None`: the plan's (`imd-decile<=2`).
    pub selection: Option<Selection>,
    /// The plan file's id; `None`: [`DEFAULT_PLAN`].
    pub plan: Option<String>,
}

/// One row: (indicator, row kind, area). Column order is the CSV contract ([`LPP_COLUMNS`]).
#[derive(Debug, Clone, Default, Serialize)]
struct LppRow {
    section: String,
    indicator: String,
    title: String,
    row_kind: &'static str,
    area_code: Option<String>,
    area_name: Option<String>,
    period: String,
    value: Option<f64>,
    lower_95: Option<f64>,
    upper_95: Option<f64>,
    unit: String,
    benchmark: Option<String>,
    benchmark_value: Option<f64>,
    gap: Option<f64>,
    gap_lower_95: Option<f64>,
    gap_upper_95: Option<f64>,
    comparison_95: Option<String>,
    trend: Option<String>,
    gap_trend: Option<String>,
    target: Option<String>,
    target_status: Option<String>,
    suppressed: bool,
    withheld: Option<String>,
}

/// The columns of the Local Performance Plan view, in order.
pub const LPP_COLUMNS: [(&str, Kind); 23] = [
    ("section", Kind::Text),
    ("indicator", Kind::Text),
    ("title", Kind::Text),
    ("row_kind", Kind::Text),
    ("area_code", Kind::Text),
    ("area_name", Kind::Text),
    ("period", Kind::Text),
    ("value", Kind::Number),
    ("lower_95", Kind::Number),
    ("upper_95", Kind::Number),
    ("unit", Kind::Text),
    ("benchmark", Kind::Text),
    ("benchmark_value", Kind::Number),
    ("gap", Kind::Number),
    ("gap_lower_95", Kind::Number),
    ("gap_upper_95", Kind::Number),
    ("comparison_95", Kind::Text),
    ("trend", Kind::Text),
    ("gap_trend", Kind::Text),
    ("target", Kind::Text),
    ("target_status", Kind::Text),
    ("suppressed", Kind::Flag),
    ("withheld", Kind::Text),
];

/// The note every answer with a value-only indicator carries (the wording).
pub const VALUES_NOT_POOLED: &str = "values compared, not pooled: the file gives no numerators";

/// The Local Performance Plan for an authority and a financial year.
pub async fn local_performance_plan(
    engine: &Engine,
    request: &LppRequest,
    scope: &Scope,
) -> Result<Answer> {
    let year = PeriodType::FinancialYear
        .parse(&request.year)
        .map_err(|e| QueryError::InvalidArgument(format!("year: {e}")))?;
    let plan_id = request.plan.as_deref().unwrap_or(DEFAULT_PLAN);
    let plan = engine.catalog().plan(plan_id).ok_or_else(|| {
        QueryError::NotFound(format!("no plan {plan_id:?} in data-schemas/plans/"))
    })?;
    let level = match request.level {
        Some(l) => l,
        None => plan
            .level
            .parse()
            .map_err(|e: String| QueryError::InvalidArgument(format!("plan {plan_id}: {e}")))?,
    };
    if !matches!(
        level,
        AreaLevel::Ward | AreaLevel::Neighbourhood | AreaLevel::Lsoa
    ) {
        return Err(QueryError::InvalidArgument(format!(
            "level {}: the plan's area rows are wards, neighbourhoods or LSOAs",
            level.as_str()
        )));
    }
    let selection = match &request.selection {
        Some(s) => s.clone(),
        None => plan
            .selection
            .parse()
            .map_err(|e: String| QueryError::InvalidArgument(format!("plan {plan_id}: {e}")))?,
    };
    let targets: Vec<crate::Target> = crate::targets(engine.warehouse())
        .await?
        .into_iter()
        .filter(|t| t.authority == request.authority)
        .collect();
    let context = Context {
        engine,
        scope,
        authority: &request.authority,
        year: &year,
        level,
        selection: &selection,
        targets: &targets,
    };
    let mut rows = Vec::new();
    let mut notes = vec![format!(
        "{}: {} for {} in {}; area rows are {}s; deprived = {selection}, against the rest of \
         the authority (its complement); trends use the periods up to the year",
        plan.id,
        plan.title,
        request.authority,
        year.label,
        level.as_str()
    )];
    let mut basis: Option<Basis> = None;
    for (section, def) in plan.indicators(engine.indicators()) {
        match context.indicator(&section, def).await {
            Ok(part) => {
                rows.extend(part.rows);
                for n in part.notes {
                    if !notes.contains(&n) {
                        notes.push(n);
                    }
                }
                for b in part.bases {
                    match &mut basis {
                        None => basis = Some(b),
                        Some(into) => merge_basis(into, b),
                    }
                }
            }
            Err(e) => notes.push(format!("{}: no rows: {e}", def.id)),
        }
    }
    if rows.is_empty() {
        return Err(QueryError::NotFound(format!(
            "no indicator of plan {plan_id} has figures for {} in {}: {}",
            request.authority,
            year.label,
            notes[1..].join("; ")
        )));
    }
    let (schema, batches) = to_batches(&LPP_COLUMNS, &rows)?;
    Ok(Answer {
        schema,
        batches,
        basis: basis.unwrap_or_else(|| Basis {
            datasets: Default::default(),
            method: "no figures".into(),
            fit: renewal_geo::Fit::Exact,
            bridges: Vec::new(),
        }),
        notes,
    })
}

struct Context<'a> {
    engine: &'a Engine,
    scope: &'a Scope,
    authority: &'a str,
    year: &'a renewal_schema::Period,
    level: AreaLevel,
    selection: &'a Selection,
    targets: &'a [crate::Target],
}

/// One indicator's rows, notes and the bases of the answers they came from.
struct Part {
    rows: Vec<LppRow>,
    notes: Vec<String>,
    bases: Vec<Basis>,
}

impl Context<'_> {
    async fn indicator(&self, section: &str, def: &IndicatorDef) -> Result<Part> {
        let id = def.id.as_str();
        let agg = self.engine.aggregate(id, self.scope).await?;
        let (period, rule) = pick_in_year(&agg.periods, self.year).ok_or_else(|| {
            QueryError::NotFound(format!(
                "no period in {} (it has {})",
                self.year.label,
                span(&agg.periods)
            ))
        })?;
        let mut notes = vec![format!("{id}: {rule}")];
        let mut bases = Vec::new();
        let base = LppRow {
            section: section.to_owned(),
            indicator: id.to_owned(),
            title: def.title.clone(),
            period: period.clone(),
            unit: def.unit.clone(),
            ..LppRow::default()
        };
        let value_only = def.value_type == ValueType::Value;
        let mut rows = Vec::new();

        // The authority-wide figure against England.
        let authority = self
            .gap(id, &period, AreaLevel::Lad, Benchmark::England)
            .await;
        let mut authority_row = match authority {
            Ok(answer) => {
                let row = table(&answer)
                    .into_iter()
                    .find(|r| text(r, "area_code").as_deref() == Some(self.authority));
                bases.push(answer.basis);
                row.map(|r| gap_row(&base, "authority", &r))
            }
            Err(e) if !value_only => {
                return Err(match e {
                    QueryError::NotFound(_) => QueryError::NotFound(format!(
                        "no figure for {} in {period}",
                        self.authority
                    )),
                    other => other,
                });
            }
            Err(_) => None,
        };

        // Each area of the chosen level against the authority.
        let mut area_rows = Vec::new();
        match self
            .gap(id, &period, self.level, Benchmark::Authority)
            .await
        {
            Ok(answer) => {
                for r in table(&answer) {
                    area_rows.push(gap_row(&base, self.level.as_str(), &r));
                }
                // A value-only indicator has no authority figure by design; its benchmark is
                // set below, so gap_table's "no benchmark value" would mislead.
                notes.extend(
                    answer
                        .notes
                        .iter()
                        .filter(|n| !(value_only && n.starts_with("no benchmark value")))
                        .map(|n| prefixed(id, n)),
                );
                bases.push(answer.basis);
            }
            Err(e) => notes.push(format!("{id}: no {} rows: {e}", self.level.as_str())),
        }

        if value_only {
            // Published values: the benchmark is the median of the authority's own area
            // values, and every comparison is of values, never of pooled counts.
            let values: Vec<f64> = area_rows.iter().filter_map(|r| r.value).collect();
            let median = median(&values);
            notes.push(format!(
                "{id}: {VALUES_NOT_POOLED}; each {} is set against the median of the \
                 authority's {} {} values, and no deprived or rest figure is pooled",
                self.level.as_str(),
                values.len(),
                self.level.as_str()
            ));
            for r in &mut area_rows {
                r.benchmark = Some(format!("median of {}", self.authority));
                r.benchmark_value = median;
                r.gap = r.value.zip(median).map(|(v, m)| v - m);
                r.comparison_95 = r.gap.map(|g| {
                    if g > 0.0 {
                        "higher".to_owned()
                    } else if g < 0.0 {
                        "lower".to_owned()
                    } else {
                        "same".to_owned()
                    }
                });
            }
            if authority_row.is_none() && !area_rows.is_empty() {
                authority_row = Some(LppRow {
                    row_kind: "authority",
                    area_code: Some(self.authority.to_owned()),
                    area_name: Some(format!(
                        "median of the {} {} values",
                        values.len(),
                        self.level.as_str()
                    )),
                    value: median,
                    ..base.clone()
                });
                notes.push(format!(
                    "{id}: the file gives no authority value; the authority row is the median \
                     of its {} values",
                    self.level.as_str()
                ));
            }
        }

        // The deprived areas against the rest, and the trend up to the year.
        let mut deprived_rows = Vec::new();
        if !value_only {
            let request = SelectionRequest {
                indicator: id.to_owned(),
                period: Some(period.clone()),
                authority: self.authority.to_owned(),
                selection: self.selection.clone(),
            };
            match deprived_vs_rest(self.engine, &request, self.scope).await {
                Ok(answer) => {
                    if let Some(r) = table(&answer).first() {
                        deprived_rows = versus_rows(&base, r);
                    }
                    bases.push(answer.basis);
                }
                Err(e) => notes.push(format!("{id}: no deprived/rest rows: {e}")),
            }
            let trend = TrendRequest {
                indicator: id.to_owned(),
                authority: self.authority.to_owned(),
                selection: self.selection.clone(),
            };
            if !deprived_rows.is_empty() {
                match narrowing_until(self.engine, &trend, Some(&period), self.scope).await {
                    Ok(answer) => {
                        let t = table(&answer);
                        if let Some(last) = t.iter().rev().find(|r| text(r, "trend").is_some()) {
                            deprived_rows[0].trend = text(last, "trend");
                            deprived_rows[0].gap_trend = text(last, "gap_trend");
                        }
                        notes.push(format!(
                            "{id}: trend and gap trend over {} periods up to {period}",
                            t.len()
                        ));
                    }
                    Err(e) => notes.push(format!("{id}: no trend: {e}")),
                }
            }
        }

        // Registered targets for this indicator and authority.
        if let Some(row) = authority_row.as_mut() {
            let mine: Vec<crate::Target> = self
                .targets
                .iter()
                .filter(|t| t.indicator == id)
                .cloned()
                .collect();
            if mine.is_empty() {
                row.target_status = Some("no-target".into());
            } else {
                match target_status(self.engine, &mine, self.scope).await {
                    Ok(answer) => {
                        let t = table(&answer);
                        row.target = Some(join(&t, "target"));
                        row.target_status = Some(
                            t.iter()
                                .map(|r| {
                                    match text(r, "status").as_deref() {
                                        Some("achieved") => "met",
                                        Some(s) => {
                                            if s == "on-track" {
                                                "on-track"
                                            } else {
                                                "off-track"
                                            }
                                        }
                                        None => "not-assessed",
                                    }
                                    .to_owned()
                                })
                                .collect::<Vec<_>>()
                                .join("; "),
                        );
                        if let Some(latest) = t.iter().find_map(|r| text(r, "latest_period"))
                            && latest != period
                        {
                            notes.push(format!(
                                "{id}: target status is as of {latest}, the indicator's latest period"
                            ));
                        }
                        notes.extend(answer.notes.iter().map(|n| prefixed(id, n)));
                        bases.push(answer.basis);
                    }
                    Err(e) => {
                        row.target_status = Some("not-assessed".into());
                        notes.push(format!("{id}: target not assessed: {e}"));
                    }
                }
            }
        }

        rows.extend(authority_row);
        rows.extend(area_rows);
        rows.extend(deprived_rows);
        if rows.is_empty() {
            return Err(QueryError::NotFound(format!(
                "no figures for {} in {period}",
                self.authority
            )));
        }
        Ok(Part { rows, notes, bases })
    }

    async fn gap(
        &self,
        id: &str,
        period: &str,
        level: AreaLevel,
        benchmark: Benchmark,
    ) -> Result<Answer> {
        let request = GapRequest {
            indicator: id.to_owned(),
            period: Some(period.to_owned()),
            authority: Some(self.authority.to_owned()),
            level,
            benchmark,
        };
        gap_table(self.engine, &request, self.scope).await
    }
}

/// The period of a financial year an indicator is shown for, and the rule that chose it, in
/// words for the notes: a financial-year period is that year; monthly data give the latest
/// month inside it; a census day inside it is that census; a calendar year is the one the
/// financial year starts in (it ends inside the financial year).
fn pick_in_year(periods: &[String], year: &renewal_schema::Period) -> Option<(String, String)> {
    let start = year.start.as_str();
    let start_year = &start[..4];
    let end = format!(
        "{:04}-04-01",
        start_year.parse::<u32>().ok()? + 1 // the next financial year's first day
    );
    let inside = |iso: &str| iso >= start && iso < end.as_str();
    if periods.contains(&year.label) {
        return Some((
            year.label.clone(),
            format!("financial-year periods: {}", year.label),
        ));
    }
    let months: Vec<&String> = periods
        .iter()
        .filter(|p| {
            PeriodType::Month
                .parse(p)
                .is_ok_and(|m| m.label == **p && inside(&m.start))
        })
        .collect();
    if let Some(latest) = months.iter().max() {
        return Some((
            (*latest).clone(),
            format!(
                "monthly periods: {latest}, the latest month in {} ({} months in the year)",
                year.label,
                months.len()
            ),
        ));
    }
    if let Some(day) = periods.iter().find(|p| {
        p.len() == 10
            && PeriodType::CensusDay
                .parse(p)
                .is_ok_and(|d| inside(&d.start))
    }) {
        return Some((
            day.clone(),
            format!("census: {day}, the census day inside {}", year.label),
        ));
    }
    if let Some(y) = periods.iter().find(|p| p.as_str() == start_year) {
        return Some((
            y.clone(),
            format!(
                "calendar-year periods: {y}, the calendar year ending inside {}",
                year.label
            ),
        ));
    }
    None
}

/// A composed answer's note under the indicator's id (once: aggregate notes often carry it).
fn prefixed(id: &str, note: &str) -> String {
    if note.starts_with(&format!("{id}:")) {
        note.to_owned()
    } else {
        format!("{id}: {note}")
    }
}

fn span(periods: &[String]) -> String {
    match (periods.first(), periods.last()) {
        (Some(a), Some(b)) if a == b => a.clone(),
        (Some(a), Some(b)) => format!("{a} to {b}"),
        _ => "no periods".into(),
    }
}

fn median(values: &[f64]) -> Option<f64> {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => None,
        n if n % 2 == 1 => Some(v[n / 2]),
        n => Some((v[n / 2 - 1] + v[n / 2]) / 2.0),
    }
}

/// A gap-table row as an LPP row of `kind`.
fn gap_row(base: &LppRow, kind: &'static str, r: &Map<String, Value>) -> LppRow {
    LppRow {
        row_kind: kind,
        area_code: text(r, "area_code"),
        area_name: text(r, "area_name"),
        value: number(r, "value"),
        lower_95: number(r, "lower_95"),
        upper_95: number(r, "upper_95"),
        benchmark: text(r, "benchmark_code"),
        benchmark_value: number(r, "benchmark_value"),
        gap: number(r, "gap"),
        gap_lower_95: number(r, "gap_lower_95"),
        gap_upper_95: number(r, "gap_upper_95"),
        comparison_95: text(r, "comparison_95"),
        suppressed: flag(r, "suppressed"),
        withheld: text(r, "withheld"),
        ..base.clone()
    }
}

/// The deprived-vs-rest row as two LPP rows: the selection against the rest, and the rest
/// against the authority as a whole.
fn versus_rows(base: &LppRow, r: &Map<String, Value>) -> Vec<LppRow> {
    let selection = text(r, "selection");
    let deprived = LppRow {
        row_kind: "deprived",
        area_code: selection.clone(),
        area_name: number(r, "selected_areas").map(|n| format!("{n} areas")),
        value: number(r, "selected_value"),
        lower_95: number(r, "selected_lower_95"),
        upper_95: number(r, "selected_upper_95"),
        benchmark: Some("rest".into()),
        benchmark_value: number(r, "rest_value"),
        gap: number(r, "gap"),
        gap_lower_95: number(r, "gap_lower_95"),
        gap_upper_95: number(r, "gap_upper_95"),
        comparison_95: text(r, "comparison_95"),
        suppressed: text(r, "selected_withheld").is_some() || flag(r, "suppressed"),
        withheld: text(r, "selected_withheld"),
        ..base.clone()
    };
    let rest = LppRow {
        row_kind: "rest",
        area_code: selection.map(|s| format!("not {s}")),
        area_name: number(r, "rest_areas").map(|n| format!("{n} areas")),
        value: number(r, "rest_value"),
        lower_95: number(r, "rest_lower_95"),
        upper_95: number(r, "rest_upper_95"),
        benchmark: text(r, "authority"),
        benchmark_value: number(r, "authority_value"),
        suppressed: text(r, "rest_withheld").is_some(),
        withheld: text(r, "rest_withheld"),
        ..base.clone()
    };
    vec![deprived, rest]
}

/// An answer's rows as JSON objects (absent keys are empty cells), so composed answers are
/// read by column name.
fn table(answer: &Answer) -> Vec<Map<String, Value>> {
    let mut writer = arrow::json::ArrayWriter::new(Vec::new());
    for b in &answer.batches {
        if writer.write(b).is_err() {
            return Vec::new();
        }
    }
    if writer.finish().is_err() {
        return Vec::new();
    }
    let bytes = writer.into_inner();
    if bytes.is_empty() {
        return Vec::new();
    }
    serde_json::from_slice::<Vec<Map<String, Value>>>(&bytes).unwrap_or_default()
}

fn text(r: &Map<String, Value>, key: &str) -> Option<String> {
    match r.get(key)? {
        Value::String(s) => Some(s.clone()),
        Value::Null => None,
        other => Some(other.to_string()),
    }
}

fn number(r: &Map<String, Value>, key: &str) -> Option<f64> {
    r.get(key)?.as_f64()
}

fn flag(r: &Map<String, Value>, key: &str) -> bool {
    r.get(key).and_then(Value::as_bool).unwrap_or(false)
}

fn join(rows: &[Map<String, Value>], key: &str) -> String {
    let set: BTreeSet<String> = rows.iter().filter_map(|r| text(r, key)).collect();
    set.into_iter().collect::<Vec<_>>().join("; ")
}

fn merge_basis(into: &mut Basis, other: Basis) {
    into.datasets.extend(other.datasets);
    // Methods contain "; " themselves: compare whole methods, not pieces.
    if !into.method.contains(&other.method) {
        into.method = format!("{}; {}", into.method, other.method);
    }
    if other.fit != renewal_geo::Fit::Exact {
        into.fit = other.fit;
    }
    into.bridges.extend(other.bridges);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fy(label: &str) -> renewal_schema::Period {
        PeriodType::FinancialYear.parse(label).unwrap()
    }

    fn labels(l: &[&str]) -> Vec<String> {
        l.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn a_financial_year_picks_each_kind_of_period() {
        let y = fy("2021/22");
        assert_eq!(y.label, "2021-22");
        let pick = |p: &[&str]| pick_in_year(&labels(p), &y).map(|(p, _)| p);
        assert_eq!(
            pick(&["2020-21", "2021-22", "2022-23"]).as_deref(),
            Some("2021-22")
        );
        // April 2021 to March 2022: the latest month inside, not the latest overall.
        assert_eq!(
            pick(&["2021-03", "2021-04", "2021-12", "2022-03", "2022-04"]).as_deref(),
            Some("2022-03")
        );
        assert_eq!(pick(&["2021-01", "2021-03"]), None);
        // Census day 21 March 2021 is in 2020-21, not 2021-22.
        assert_eq!(pick(&["2021-03-21"]), None);
        assert_eq!(
            pick_in_year(&labels(&["2021-03-21"]), &fy("2020-21")).map(|p| p.0),
            Some("2021-03-21".to_owned())
        );
        assert_eq!(pick(&["2020", "2021", "2022"]).as_deref(), Some("2021"));
    }

    #[test]
    fn median_of_odd_and_even_counts() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), Some(2.5));
        assert_eq!(median(&[]), None);
    }
}
