//! Series across the 2021 break coded to 2021 LSOAs: police.uk street crime for every month of
//! 2024 (the layout of the 2021 files, `LSOA code` and `LSOA name` now 2021 codes and names),
//! and DWP claimant counts per LSOA for January of each year, 2015–2020 on 2011 LSOAs and
//! 2021–2025 on 2021 LSOAs, in the Nomis monthly LSOA layout (`date,lsoa11cd,lsoa11nm,measure,
//! value`) that `dwp-benefits-lsoa-monthly` reads.
//!
//! Crime follows the same model as 2021's (module `families`) on each LSOA21's IoD2025
//! deprivation and mid-2024 population, so [`crate::iod2025::IMPROVING_WARD`]'s gap to the
//! authority narrows between 2021 and 2024 while [`WIDENING_WARD`]'s does not (it widens).

use crate::Output;
use crate::families::{POLICE_UK_HEADER, SEASON, street_crimes};
use crate::geography2021::{Geography21, break_file};
use crate::iod2025::Iod2025;
use crate::place::Place;
use crate::population::{FIRST_YEAR, LAST_YEAR, Populations, persons};
use crate::rng::{Rng, logistic};
use crate::text::{Layout, Table};

/// police.uk publishes one street file per force and month.
pub(crate) const CRIME: [&str; 12] = [
    break_file!("2024-01-renewal-vale-street.csv"),
    break_file!("2024-02-renewal-vale-street.csv"),
    break_file!("2024-03-renewal-vale-street.csv"),
    break_file!("2024-04-renewal-vale-street.csv"),
    break_file!("2024-05-renewal-vale-street.csv"),
    break_file!("2024-06-renewal-vale-street.csv"),
    break_file!("2024-07-renewal-vale-street.csv"),
    break_file!("2024-08-renewal-vale-street.csv"),
    break_file!("2024-09-renewal-vale-street.csv"),
    break_file!("2024-10-renewal-vale-street.csv"),
    break_file!("2024-11-renewal-vale-street.csv"),
    break_file!("2024-12-renewal-vale-street.csv"),
];

/// The year of the crime files, and the mid-year population their rates follow.
pub(crate) const CRIME_YEAR: u32 = 2024;

/// The deprived Renewal Vale ward whose crime gap does not narrow: deprivation's excess crime
/// there is a tenth higher in 2024 than the 2021 model gives.
pub(crate) const WIDENING_WARD: &str = "Canal Side";
const WIDENING: f64 = 1.1;

pub(crate) const CLAIMANTS_LSOA11: &str = break_file!("claimant_count_lsoa_2015-2020_lsoa11.csv");
pub(crate) const CLAIMANTS_LSOA21: &str = break_file!("claimant_count_lsoa_2021-2025_lsoa21.csv");

/// January claimant levels relative to January 2015, 2015 to 2025: a fall to 2017, Universal
/// Credit's rise, the pandemic's doubling in 2021, and a partial return.
pub(crate) const CLAIMANT_YEARS: [(u32, f64); 11] = [
    (2015, 1.00),
    (2016, 0.85),
    (2017, 0.80),
    (2018, 0.85),
    (2019, 0.95),
    (2020, 1.05),
    (2021, 2.10),
    (2022, 1.55),
    (2023, 1.35),
    (2024, 1.45),
    (2025, 1.55),
];

fn output(name: &'static str, description: String, table: Table) -> Output {
    let (text, rows) = table.finish();
    Output {
        name,
        description,
        rows,
        text,
        gzip: false,
    }
}

/// Twelve monthly files; each LSOA21's crimes a Poisson count with the 2021 files' mean (per
/// resident, steeply rising with deprivation, seasonal), on 2024's figures.
pub(crate) fn crime(
    place: &Place,
    geo: &Geography21,
    iod: &Iod2025,
    pop: &Populations,
    seed: u64,
) -> Vec<Output> {
    let people: Vec<f64> = (0..geo.lsoas.len())
        .map(|j| f64::from(persons(&pop.lsoa21(geo, CRIME_YEAR, j), 0, 90)))
        .collect();
    CRIME
        .iter()
        .zip(SEASON)
        .enumerate()
        .map(|(m, (&name, season))| {
            let month = m + 1;
            let label = format!("{CRIME_YEAR}-{month:02}");
            let mut rng = Rng::stream(seed, &format!("crime {label}"));
            let mut t = Table::plain(&POLICE_UK_HEADER, Layout::CrlfAfterEach);
            for (i, l) in geo.lsoas.iter().enumerate() {
                let ward19 = &place.wards[geo.wards[l.ward].from];
                let excess = if ward19.name == WIDENING_WARD && ward19.authority == 0 {
                    WIDENING
                } else {
                    1.0
                };
                let d = 1.0 - logistic(iod.latent[i]);
                let mean = people[i] / 1000.0 * (1.0 + 12.0 * d * excess) * season;
                let n = rng.poisson(mean) as usize;
                street_crimes(&mut t, &mut rng, n, i, month, &label, (&l.code, &l.name));
            }
            output(
                name,
                format!("police.uk street crime on 2021 LSOAs, {label}"),
                t,
            )
        })
        .collect()
}

/// Claimants in January of each year: a share of the residents aged 16–64 at the previous
/// mid-year (the nearest estimate in the series) that rises with deprivation, times the year's
/// level in [`CLAIMANT_YEARS`], with a few per cent of noise.
pub(crate) fn claimants(
    place: &Place,
    geo: &Geography21,
    iod: &Iod2025,
    pop: &Populations,
    seed: u64,
) -> [Output; 2] {
    let mut rng = Rng::stream(seed, "claimants across the break");
    let header = ["date", "lsoa11cd", "lsoa11nm", "measure", "value"];
    let measure = "Residents claiming JSA or Universal Credit";
    let (mut before, mut after) = (
        Table::plain(&header, Layout::LfAfterEach),
        Table::plain(&header, Layout::LfAfterEach),
    );
    for (year, level) in CLAIMANT_YEARS {
        let mid = (year - 1).clamp(FIRST_YEAR, LAST_YEAR);
        let date = format!("{year}-01-01");
        let mut count = |latent: f64, working: u32| {
            let d = 1.0 - logistic(latent);
            let rate = (0.005 + 0.07 * d) * level * rng.between(0.95, 1.05);
            (rate * f64::from(working)).round() as u32
        };
        if year < crate::population::FIRST_LSOA21_YEAR {
            for (i, l) in place.lsoas.iter().enumerate() {
                let n = count(l.latent, persons(&pop.lsoa11(geo, mid, i), 16, 64));
                before.row(&[date.as_str(), &l.code, &l.name, measure, &n.to_string()]);
            }
        } else {
            for (j, l) in geo.lsoas.iter().enumerate() {
                let n = count(iod.latent[j], persons(&pop.lsoa21(geo, mid, j), 16, 64));
                after.row(&[date.as_str(), &l.code, &l.name, measure, &n.to_string()]);
            }
        }
    }
    [
        output(
            CLAIMANTS_LSOA11,
            "DWP claimant count on 2011 LSOAs, January 2015 to 2020, Nomis monthly layout".into(),
            before,
        ),
        output(
            CLAIMANTS_LSOA21,
            "DWP claimant count on 2021 LSOAs (in the lsoa11cd column the layout names), \
             January 2021 to 2025, Nomis monthly layout"
                .into(),
            after,
        ),
    ]
}
