//! The other dataset families, in the layouts of the real files in `../shared/data`: a census
//! table (Nomis long layout), DWP claimant counts and rates, local Best Value indicators
//! (Renewal's template) and police.uk street crime. Each is derived from the same fictional
//! place, so deprived wards have worse health, more claimants and more crime.
//!
//! Two families are time series, so trends and targets can be asked of the sample: the Best
//! Value indicator runs over six financial years in which most of Renewal Vale's deprived wards
//! close their gap to the authority and one does not ([`GAP_TRENDS`]), and crime comes as
//! twelve monthly police.uk files with a seasonal rhythm ([`SEASON`]).

use crate::Output;
use crate::place::{AUTHORITIES, Place};
use crate::rng::{Rng, logistic};
use crate::text::{Layout, Table};

pub(crate) const CENSUS: &str = "2021_general_health_lsoa_sample.csv";
pub(crate) const CLAIMANTS: &str = "claimant_count_lsoa_sample.csv";
pub(crate) const CLAIMANT_RATE: &str = "claimant_rate_la_sample.csv";
pub(crate) const BEST_VALUE: &str = "best_value_indicators_sample.csv";
/// police.uk publishes one street file per force and month.
pub(crate) const CRIME: [&str; 12] = [
    "2021-01-renewal-vale-street.csv",
    "2021-02-renewal-vale-street.csv",
    "2021-03-renewal-vale-street.csv",
    "2021-04-renewal-vale-street.csv",
    "2021-05-renewal-vale-street.csv",
    "2021-06-renewal-vale-street.csv",
    "2021-07-renewal-vale-street.csv",
    "2021-08-renewal-vale-street.csv",
    "2021-09-renewal-vale-street.csv",
    "2021-10-renewal-vale-street.csv",
    "2021-11-renewal-vale-street.csv",
    "2021-12-renewal-vale-street.csv",
];

/// The financial years of the Best Value indicators, oldest first.
pub(crate) const BEST_VALUE_YEARS: [&str; 6] = [
    "2014-15", "2015-16", "2016-17", "2017-18", "2018-19", "2019-20",
];

/// Renewal Vale's deprived wards on BV-HOMES-01: each year the ward's excess over the
/// affluent baseline shrinks by this share of its 2014-15 size (negative: grows). Canal Side
/// more than halves its gap to the authority by 2019-20, Foundry Park closes it more slowly,
/// and Millgate, deprived as well, drifts the other way, so a trend test has one ward to flag.
/// Every other ward holds its level, up to binomial noise.
pub(crate) const GAP_TRENDS: [(&str, f64); 3] = [
    ("Canal Side", 0.08),
    ("Foundry Park", 0.06),
    ("Millgate", -0.02),
];

/// Crime in each month of the year relative to the average month: a summer peak and a
/// late-winter low, as street crime has.
pub(crate) const SEASON: [f64; 12] = [
    0.90, 0.84, 0.93, 0.98, 1.04, 1.10, 1.16, 1.12, 1.03, 1.00, 0.96, 0.94,
];

/// How deprived an LSOA is, 0 (least) to 1 (most). Uses the crate's arithmetic logistic, not
/// `f64::exp`, so the files stay byte-identical across platforms.
fn deprivation(latent: f64) -> f64 {
    1.0 - logistic(latent)
}

fn output(name: &'static str, description: &str, table: Table) -> Output {
    let (text, rows) = table.finish();
    Output {
        name,
        description: description.into(),
        rows,
        text,
        gzip: false,
    }
}

/// Census 2021 general health by LSOA: five categories summing to the population.
pub(crate) fn census(place: &Place, seed: u64) -> Output {
    let mut rng = Rng::stream(seed, "census");
    let header = [
        "area_code",
        "area_name",
        "geography",
        "period",
        "indicator",
        "general_health",
        "measure",
        "unit",
        "value",
    ];
    let mut t = Table::plain(&header, Layout::LfAfterEach);
    let indicator = "General health of usual residents (sample)";
    for l in &place.lsoas {
        let d = deprivation(l.latent);
        let total = f64::from(l.population.total);
        let bad = 0.02 + 0.05 * d + 0.01 * rng.unit();
        let very_bad = 0.005 + 0.02 * d;
        let fair = 0.10 + 0.08 * d;
        let good = 0.33;
        let shares = [
            1.0 - bad - very_bad - fair - good,
            good,
            fair,
            bad,
            very_bad,
        ];
        let mut counts: Vec<u32> = shares.iter().map(|s| (s * total).round() as u32).collect();
        // Rounding must not change the total: put the difference on "Very good health".
        let sum: u32 = counts[1..].iter().sum();
        counts[0] = l.population.total.saturating_sub(sum);
        let labels = [
            "Very good health",
            "Good health",
            "Fair health",
            "Bad health",
            "Very bad health",
        ];
        for (label, n) in labels.iter().zip(counts) {
            t.row(&[
                l.code.as_str(),
                l.name.as_str(),
                "Lower-layer Super Output Area",
                "2021-03-21",
                indicator,
                label,
                "Count",
                "Persons",
                &n.to_string(),
            ]);
        }
    }
    output(
        CENSUS,
        "census table, Nomis long layout (general health by LSOA)",
        t,
    )
}

/// Claimants per LSOA for one month (the file does not say which: ingest with --period).
pub(crate) fn claimants(place: &Place, seed: u64) -> Output {
    let mut rng = Rng::stream(seed, "claimants");
    let mut t = Table::plain(
        &["lsoa11cd", "lsoa11nm", "measure", "value"],
        Layout::LfAfterEach,
    );
    for l in &place.lsoas {
        let rate = 0.005 + 0.07 * deprivation(l.latent) + 0.005 * rng.unit();
        let n = (rate * f64::from(l.population.aged_16_59)).round() as u32;
        t.row(&[
            l.code.as_str(),
            l.name.as_str(),
            "Residents claiming JSA or Universal Credit",
            &n.to_string(),
        ]);
    }
    output(
        CLAIMANTS,
        "claimant count by LSOA, one month (give --period)",
        t,
    )
}

/// Claimants as a percentage of residents aged 16-64, per authority, monthly through 2021.
pub(crate) fn claimant_rate(place: &Place, seed: u64) -> Output {
    let mut rng = Rng::stream(seed, "claimant-rate");
    let header = ["date", "area_code", "area_name", "measure", "value"];
    let mut t = Table::plain(&header, Layout::LfAfterEach);
    for month in 1..=12 {
        for (a, la) in AUTHORITIES.iter().enumerate() {
            let members: Vec<f64> = place
                .lsoas
                .iter()
                .filter(|l| l.authority == a)
                .map(|l| deprivation(l.latent))
                .collect();
            let mean = members.iter().sum::<f64>() / members.len().max(1) as f64;
            let rate = 1.5 + 6.0 * mean - 0.05 * f64::from(month) + 0.2 * rng.unit();
            t.row(&[
                format!("2021-{month:02}-01").as_str(),
                la.code,
                la.name,
                "Claimants as a proportion of residents aged 16-64",
                &format!("{rate:.1}"),
            ]);
        }
    }
    output(CLAIMANT_RATE, "claimant rate by authority and month", t)
}

/// A council's own ward indicators in Renewal's Best Value template: BV-HOMES-01, a
/// proportion of households (lower is better), for every ward over six financial years.
///
/// A ward's households are half its residents, growing by up to 1% a year. Its expected share
/// is a baseline plus an excess that rises steeply with deprivation; the excess of the wards in
/// [`GAP_TRENDS`] moves year by year and every other ward's holds. The households counted are
/// drawn one by one from that share, so the figures carry honest binomial noise.
pub(crate) fn best_value(place: &Place, seed: u64) -> Output {
    let mut rng = Rng::stream(seed, "best-value");
    let header = [
        "indicator_id",
        "area_code",
        "period",
        "numerator",
        "denominator",
        "value",
        "unit",
        "polarity",
    ];
    let mut t = Table::plain(&header, Layout::LfAfterEach);
    // Households per ward, year by year.
    let mut homes: Vec<u32> = place
        .wards
        .iter()
        .enumerate()
        .map(|(w, _)| {
            place
                .lsoas
                .iter()
                .filter(|l| l.ward == w)
                .map(|l| l.population.total / 2)
                .sum()
        })
        .collect();
    let excess: Vec<f64> = place
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
            0.14 * d * d
        })
        .collect();
    for (year, period) in BEST_VALUE_YEARS.iter().enumerate() {
        for (w, ward) in place.wards.iter().enumerate() {
            if year > 0 {
                let growth = f64::from(homes[w]) * rng.between(0.0, 0.01);
                homes[w] += growth.round() as u32;
            }
            let change = GAP_TRENDS
                .iter()
                .find(|(name, _)| *name == ward.name && ward.authority == 0)
                .map_or(0.0, |(_, per_year)| *per_year);
            let share = 0.03 + excess[w] * (1.0 - change * year as f64);
            let households = homes[w];
            let counted = rng.binomial(households, share);
            t.row(&[
                "BV-HOMES-01",
                ward.code.as_str(),
                period,
                &counted.to_string(),
                &households.to_string(),
                &format!(
                    "{:.2}",
                    100.0 * f64::from(counted) / f64::from(households.max(1))
                ),
                "percent",
                "lower-is-better",
            ]);
        }
    }
    output(
        BEST_VALUE,
        "local Best Value indicators, Renewal template, 2014-15 to 2019-20",
        t,
    )
}

/// police.uk street crime, one file per month of 2021 (see [`CRIME`]). Each LSOA's crimes are
/// a Poisson count whose mean grows with its population and, steeply, with its deprivation,
/// scaled by the month's [`SEASON`]. Most crimes carry an LSOA and coordinates; some carry
/// coordinates only, every month; January also has one with neither, as real force files do.
pub(crate) fn crime(place: &Place, seed: u64) -> Vec<Output> {
    CRIME
        .iter()
        .zip(SEASON)
        .enumerate()
        .map(|(m, (&name, season))| crime_month(place, seed, m + 1, name, season))
        .collect()
}

/// The police.uk street file header, as published (2021 and 2024 files alike).
pub(crate) const POLICE_UK_HEADER: [&str; 12] = [
    "Crime ID",
    "Month",
    "Reported by",
    "Falls within",
    "Longitude",
    "Latitude",
    "Location",
    "LSOA code",
    "LSOA name",
    "Crime type",
    "Last outcome category",
    "Context",
];

/// The crime types the sample's police.uk files use, in the order rows cycle through them.
pub(crate) const CRIME_TYPES: [&str; 4] = [
    "Anti-social behaviour",
    "Violence and sexual offences",
    "Burglary",
    "Criminal damage and arson",
];

/// The force that "publishes" the sample's police.uk files.
pub(crate) const FORCE: &str = "Renewal Vale Police";

/// Writes `n` police.uk rows for the `i`th LSOA of a month (`lsoa` = code, name): jittered
/// coordinates around a grid point, types in rotation, and about one crime in 25 with
/// coordinates but no LSOA, as in the real 2021 files.
pub(crate) fn street_crimes(
    t: &mut Table,
    rng: &mut Rng,
    n: usize,
    i: usize,
    month: usize,
    label: &str,
    lsoa: (&str, &str),
) {
    for k in 0..n {
        let lon = -1.5 + 0.01 * (i % 10) as f64 + 0.001 * rng.unit();
        let lat = 53.4 + 0.01 * (i / 10) as f64 + 0.001 * rng.unit();
        let kind = CRIME_TYPES[(k + i + month) % CRIME_TYPES.len()];
        let (code, lsoa_name) = if (i * 7 + k + month).is_multiple_of(25) {
            ("", "")
        } else {
            lsoa
        };
        t.row(&[
            "",
            label,
            FORCE,
            FORCE,
            &format!("{lon:.6}"),
            &format!("{lat:.6}"),
            "On or near Sample Street",
            code,
            lsoa_name,
            kind,
            "",
            "",
        ]);
    }
}

fn crime_month(place: &Place, seed: u64, month: usize, name: &'static str, season: f64) -> Output {
    let label = format!("2021-{month:02}");
    // Each month its own stream: a month's file does not depend on how the others drew.
    let mut rng = Rng::stream(seed, &format!("crime {label}"));
    let mut t = Table::plain(&POLICE_UK_HEADER, Layout::CrlfAfterEach);
    for (i, l) in place.lsoas.iter().enumerate() {
        let mean =
            f64::from(l.population.total) / 1000.0 * (1.0 + 12.0 * deprivation(l.latent)) * season;
        let n = rng.poisson(mean) as usize;
        street_crimes(&mut t, &mut rng, n, i, month, &label, (&l.code, &l.name));
    }
    if month == 1 {
        t.row(&[
            "",
            label.as_str(),
            FORCE,
            FORCE,
            "",
            "",
            "No location",
            "",
            "",
            "Burglary",
            "",
            "",
        ]);
    }
    output(name, &format!("police.uk street crime, {label}"), t)
}
