//! Best Value indicators for a Local Performance Plan, in Renewal's template, at two levels:
//! - [`LSOA_FILE`]: BV-HOMES-02, council homes meeting the Decent Homes Standard, per LSOA
//!   with numerator and denominator, so wards, neighbourhoods and `imd-decile<=2` selections
//!   are built by summing counts;
//! - [`WARD_FILE`]: BV-SAT-03, the share of residents satisfied with their area from the
//!   council's residents' survey, per ward as a published value only (no numerator or
//!   denominator) with the template's `ward_vintage` column (`WD19`).
//!
//! Both run over [`PLAN_YEARS`], six financial years up to 2023-24, each from its own random
//! stream, so the other sample files are the same with or without them.

use crate::Output;
use crate::place::Place;
use crate::rng::{Rng, logistic};
use crate::text::{Layout, Table};

/// The LSOA-level file (with counts).
pub(crate) const LSOA_FILE: &str = "neighbourhood_best_value_lsoa_sample.csv";
/// The ward-level file (values only, with `ward_vintage`).
pub(crate) const WARD_FILE: &str = "ward_best_value_values_sample.csv";

/// The financial years of both files, oldest first.
pub(crate) const PLAN_YEARS: [&str; 6] = [
    "2018-19", "2019-20", "2020-21", "2021-22", "2022-23", "2023-24",
];

const HEADER: [&str; 8] = [
    "indicator_id",
    "area_code",
    "period",
    "numerator",
    "denominator",
    "value",
    "unit",
    "polarity",
];

fn deprivation(latent: f64) -> f64 {
    1.0 - logistic(latent)
}

/// Both files.
pub(crate) fn files(place: &Place, seed: u64) -> Vec<Output> {
    vec![decent_homes(place, seed), satisfaction(place, seed)]
}

/// BV-HOMES-02 per LSOA: council homes (a quarter to a half of households, more where
/// deprived) and those meeting the standard. The deprived LSOAs start well below the rest and
/// improve by two points a year, the others by half a point, so the gap narrows.
fn decent_homes(place: &Place, seed: u64) -> Output {
    let mut rng = Rng::stream(seed, "plan-decent-homes");
    let mut t = Table::plain(&HEADER, Layout::LfAfterEach);
    let homes: Vec<u32> = place
        .lsoas
        .iter()
        .map(|l| {
            let d = deprivation(l.latent);
            (f64::from(l.population.total / 2) * (0.25 + 0.25 * d)).round() as u32
        })
        .collect();
    for (year, period) in PLAN_YEARS.iter().enumerate() {
        for (l, lsoa) in place.lsoas.iter().enumerate() {
            let d = deprivation(lsoa.latent);
            let improving = if d > 0.8 { 0.02 } else { 0.005 };
            let share = (0.93 - 0.25 * d + improving * year as f64).min(0.99);
            let decent = rng.binomial(homes[l], share);
            t.row(&[
                "BV-HOMES-02",
                lsoa.code.as_str(),
                period,
                &decent.to_string(),
                &homes[l].to_string(),
                &format!(
                    "{:.2}",
                    100.0 * f64::from(decent) / f64::from(homes[l].max(1))
                ),
                "percent",
                "higher-is-better",
            ]);
        }
    }
    let (text, rows) = t.finish();
    Output {
        name: LSOA_FILE,
        description: "Best Value BV-HOMES-02 by LSOA with counts, Renewal template, 2018-19 to \
                      2023-24"
            .into(),
        rows,
        text,
        gzip: false,
    }
}

/// BV-SAT-03 per ward: a survey percentage, lower where deprived, with sampling noise; the
/// file states its wards' vintage.
fn satisfaction(place: &Place, seed: u64) -> Output {
    let mut rng = Rng::stream(seed, "plan-satisfaction");
    let mut header = HEADER.to_vec();
    header.push("ward_vintage");
    let mut t = Table::plain(&header, Layout::LfAfterEach);
    let level: Vec<f64> = place
        .wards
        .iter()
        .enumerate()
        .map(|(w, _)| {
            let members: Vec<f64> = place
                .lsoas
                .iter()
                .filter(|l| l.ward == w)
                .map(|l| deprivation(l.latent))
                .collect();
            let d = members.iter().sum::<f64>() / members.len().max(1) as f64;
            86.0 - 30.0 * d
        })
        .collect();
    for (year, period) in PLAN_YEARS.iter().enumerate() {
        for (w, ward) in place.wards.iter().enumerate() {
            let value = level[w] + 0.3 * year as f64 + rng.between(-1.5, 1.5);
            t.row(&[
                "BV-SAT-03",
                ward.code.as_str(),
                period,
                "",
                "",
                &format!("{value:.1}"),
                "percent",
                "higher-is-better",
                "WD19",
            ]);
        }
    }
    let (text, rows) = t.finish();
    Output {
        name: WARD_FILE,
        description: "Best Value BV-SAT-03 by ward, values only, ward_vintage WD19, Renewal \
                      template, 2018-19 to 2023-24"
            .into(),
        rows,
        text,
        gzip: false,
    }
}
