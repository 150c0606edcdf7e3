//! The other dataset families, in the layouts of the real files in `../shared/data`: a census
//! table (Nomis long layout), DWP claimant counts and rates, local Best Value indicators
//! (Renewal's template) and police.uk street crime. Each is derived from the same fictional
//! place, so deprived wards have worse health, more claimants and more crime.

use crate::Output;
use crate::place::{AUTHORITIES, Place};
use crate::rng::Rng;
use crate::text::{Layout, Table};

pub(crate) const CENSUS: &str = "2021_general_health_lsoa_sample.csv";
pub(crate) const CLAIMANTS: &str = "claimant_count_lsoa_sample.csv";
pub(crate) const CLAIMANT_RATE: &str = "claimant_rate_la_sample.csv";
pub(crate) const BEST_VALUE: &str = "best_value_indicators_sample.csv";
pub(crate) const CRIME: &str = "2021-01-renewal-vale-street.csv";

/// How deprived an LSOA is, 0 (least) to 1 (most).
fn deprivation(latent: f64) -> f64 {
    1.0 - 1.0 / (1.0 + (-latent).exp())
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

/// A council's own ward indicators in Renewal's Best Value template, two financial years.
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
    for period in ["2018-19", "2019-20"] {
        for (w, ward) in place.wards.iter().enumerate() {
            let members: Vec<_> = place.lsoas.iter().filter(|l| l.ward == w).collect();
            let homes: u32 = members.iter().map(|l| l.population.total / 2).sum();
            let d = members.iter().map(|l| deprivation(l.latent)).sum::<f64>()
                / members.len().max(1) as f64;
            let failing = ((0.02 + 0.12 * d + 0.01 * rng.unit()) * f64::from(homes)).round();
            t.row(&[
                "BV-HOMES-01",
                ward.code.as_str(),
                period,
                &format!("{failing}"),
                &homes.to_string(),
                &format!("{:.2}", 100.0 * failing / f64::from(homes.max(1))),
                "percent",
                "lower-is-better",
            ]);
        }
    }
    output(
        BEST_VALUE,
        "local Best Value indicators, Renewal template",
        t,
    )
}

/// police.uk street crime for January 2021: most crimes carry an LSOA and coordinates, a few
/// coordinates only, one neither, as in real force files.
pub(crate) fn crime(place: &Place, seed: u64) -> Output {
    let mut rng = Rng::stream(seed, "crime");
    let header = [
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
    let types = [
        "Anti-social behaviour",
        "Violence and sexual offences",
        "Burglary",
        "Criminal damage and arson",
    ];
    let force = "Renewal Vale Police";
    let mut t = Table::plain(&header, Layout::CrlfAfterEach);
    for (i, l) in place.lsoas.iter().enumerate() {
        let expected =
            f64::from(l.population.total) / 1000.0 * (1.0 + 12.0 * deprivation(l.latent));
        let n = (expected + rng.unit()).floor() as usize;
        for k in 0..n {
            let lon = -1.5 + 0.01 * (i % 10) as f64 + 0.001 * rng.unit();
            let lat = 53.4 + 0.01 * (i / 10) as f64 + 0.001 * rng.unit();
            let kind = types[(k + i) % types.len()];
            // Every 25th crime has coordinates but no LSOA.
            let (code, name) = if (i * 7 + k) % 25 == 0 {
                ("", "")
            } else {
                (l.code.as_str(), l.name.as_str())
            };
            t.row(&[
                "",
                "2021-01",
                force,
                force,
                &format!("{lon:.6}"),
                &format!("{lat:.6}"),
                "On or near Sample Street",
                code,
                name,
                kind,
                "",
                "",
            ]);
        }
    }
    t.row(&[
        "",
        "2021-01",
        force,
        force,
        "",
        "",
        "No location",
        "",
        "",
        "Burglary",
        "",
        "",
    ]);
    output(CRIME, "police.uk street crime, one month", t)
}
