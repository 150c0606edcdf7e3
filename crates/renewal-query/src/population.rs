//! Each period's population base for per-resident rates (an indicator's `[population]`).
//!
//! Population estimates come from datasets of kind `population` (table `population`: one row
//! per LSOA, year, sex and age band; `renewal ingest population`). For a period in year *y* an
//! LSOA's base is its estimate for *y*; failing that its nearest earlier estimate; then its
//! nearest later one; and an LSOA with no estimate at all takes the indicator's declared
//! fallback (`[denominator]`, e.g. the IoD2019 mid-2015 base). Mid-year estimates are preferred
//! to a census count of the same year, and estimates on the answer's own LSOA vintage to
//! bridged ones. The notes say which was used for which areas and periods.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use datafusion::scalar::ScalarValue;
use renewal_geo::Vintage;
use renewal_schema::PopulationDef;
use renewal_warehouse::{Manifest, Warehouse};

use crate::Result;
use crate::bridging::{BridgeUse, Bridges};
use crate::native::Sums;
use crate::tables::{float_column, register, session, string_column};

/// The year a period label falls in: the first four digits (`2021-01`, `2019-20`, `2021`,
/// `2021-03-21`); `None` for labels without one.
pub(crate) fn period_year(label: &str) -> Option<i32> {
    let y = label.get(..4)?;
    (y.bytes().all(|b| b.is_ascii_digit()) && label.len() >= 4)
        .then(|| y.parse().ok())
        .flatten()
}

/// One estimate: (lsoa, year) → (people, rank of preference, reference label).
type Estimates = HashMap<(String, i32), (f64, u8, String)>;

/// Per-period population denominators, keyed (area, Some(period)), for every area with an
/// estimate; with notes and the bridging that was needed.
pub(crate) struct PeriodBases {
    pub sums: Sums,
    pub notes: Vec<String>,
    pub bridged: Vec<BridgeUse>,
}

/// Reads the population datasets and chooses, for every period, each area's estimate.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn period_bases(
    warehouse: &Warehouse,
    indicator: &str,
    def: &PopulationDef,
    datasets: &[Manifest],
    bridges: &Bridges,
    target: Option<Vintage>,
    periods: &[String],
    fallback_areas: &BTreeSet<String>,
) -> Result<PeriodBases> {
    let mut estimates: Estimates = HashMap::new();
    let mut bridged = Vec::new();
    for m in datasets {
        if m.kind != "population" || m.table("population").is_none() {
            continue;
        }
        let ctx = session();
        register(&ctx, warehouse, m, "population", "p").await?;
        let batches = ctx
            .sql(
                "SELECT lsoa_code, CAST(year AS VARCHAR), MIN(reference), CAST(SUM(value) AS DOUBLE) \
                 FROM p WHERE sex = $1 AND age_band = $2 GROUP BY lsoa_code, year",
            )
            .await?
            .with_param_values(vec![
                ScalarValue::Utf8(Some(def.sex.clone())),
                ScalarValue::Utf8(Some(def.age_band.clone())),
            ])?
            .collect()
            .await?;
        let mut values: HashMap<(String, String), Option<f64>> = HashMap::new();
        let mut reference: HashMap<String, String> = HashMap::new();
        for b in &batches {
            let (code, year, refs, value) = (
                string_column(b, 0)?,
                string_column(b, 1)?,
                string_column(b, 2)?,
                float_column(b, 3)?,
            );
            for i in 0..b.num_rows() {
                let (Some(c), Some(y)) = (code[i].clone(), year[i].clone()) else {
                    continue;
                };
                if let Some(r) = &refs[i] {
                    reference.insert(y.clone(), r.clone());
                }
                values.insert((c, y), value[i]);
            }
        }
        let (values, used) = match target {
            Some(t) => bridges.to_target(m, values, t, false)?,
            None => (values, None),
        };
        let native = used.is_none();
        let rank = |r: &str| -> u8 {
            let mid = r.starts_with("mid-");
            match (native, mid) {
                (true, true) => 0,
                (false, true) => 1,
                (true, false) => 2,
                (false, false) => 3,
            }
        };
        bridged.extend(used);
        for ((code, year), v) in values {
            let (Some(v), Ok(y)) = (v, year.parse::<i32>()) else {
                continue;
            };
            let r = reference
                .get(&year)
                .cloned()
                .unwrap_or_else(|| format!("{y}"));
            let label = format!("{r} ({} v{})", m.dataset, m.version);
            let candidate = (v, rank(&r), label);
            estimates
                .entry((code, y))
                .and_modify(|e| {
                    if candidate.1 < e.1 {
                        *e = candidate.clone();
                    }
                })
                .or_insert(candidate);
        }
    }

    let mut years_of: HashMap<&str, Vec<i32>> = HashMap::new();
    for (code, y) in estimates.keys() {
        years_of.entry(code.as_str()).or_default().push(*y);
    }
    for v in years_of.values_mut() {
        v.sort_unstable();
    }
    // description of what a period used → the periods that used it.
    let mut usage: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut sums: Sums = HashMap::new();
    for period in periods {
        let Some(y) = period_year(period) else {
            continue;
        };
        let mut counts: BTreeMap<(u8, String), usize> = BTreeMap::new();
        for (code, years) in &years_of {
            let (kind, chosen) = if years.contains(&y) {
                (0, y)
            } else if let Some(e) = years.iter().rev().find(|&&e| e < y) {
                (1, *e)
            } else {
                (2, years[0])
            };
            let Some((v, _, label)) = estimates.get(&((*code).to_owned(), chosen)) else {
                continue;
            };
            sums.insert(((*code).to_owned(), Some(period.clone())), Some(*v));
            let how = match kind {
                0 => format!("its own year's estimate, {label}"),
                1 => format!("the nearest earlier estimate, {label}"),
                _ => format!("the nearest later estimate, {label}"),
            };
            *counts.entry((kind, how)).or_default() += 1;
        }
        let fallback = fallback_areas
            .iter()
            .filter(|a| !years_of.contains_key(a.as_str()))
            .count();
        let mut parts: Vec<String> = counts
            .into_iter()
            .map(|((_, how), n)| format!("{n} areas {how}"))
            .collect();
        if fallback > 0 {
            parts.push(format!(
                "{fallback} areas without an estimate the declared fallback denominator"
            ));
        }
        if !parts.is_empty() {
            usage
                .entry(parts.join("; "))
                .or_default()
                .push(period.clone());
        }
    }
    let notes = usage
        .into_iter()
        .map(|(how, periods)| {
            let when = match periods.as_slice() {
                [one] => one.clone(),
                [first, .., last] => format!("{first} to {last} ({} periods)", periods.len()),
                [] => String::new(),
            };
            format!(
                "{indicator} population base ({}): {when}: {how}",
                def.describe
            )
        })
        .collect();
    Ok(PeriodBases {
        sums,
        notes,
        bridged,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn years_of_periods() {
        assert_eq!(period_year("2021-01"), Some(2021));
        assert_eq!(period_year("2019-20"), Some(2019));
        assert_eq!(period_year("2021-03-21"), Some(2021));
        assert_eq!(period_year("2024"), Some(2024));
        assert_eq!(period_year("IoD2019"), None);
        assert_eq!(period_year("20"), None);
    }
}
