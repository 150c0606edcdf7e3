//! Populations across the 2021 break: ONS mid-year estimates on 2011 LSOAs for mid-2015 to
//! mid-2020 (Trafford Data Lab's open-data layout: three rows per LSOA, single years of age as
//! columns), on 2021 LSOAs for mid-2021 to mid-2024 (the ONS `sapelsoasyoa` release layout:
//! `Total`, `F0`…`F90`, `M0`…`M90`), and Census 2021 usual residents by six age groups (the
//! ONS custom-dataset layout).
//!
//! Every figure is made per piece of the geography (module `geography2021`), by sex and single
//! year of age, so the 2011 and 2021 files are sums of the same pieces: a split LSOA's parts add
//! up to the LSOA11 it came from, year by year. Mid-2015 on 2011 LSOAs is IoD2019 File 6's
//! population (no prisoners here), age group by age group. Each LSOA then grows by its own
//! rate of under 2% a year, older people faster than children, and the new estate in
//! Renewal Vale 009C (→ 009F) grows by building, from a few hundred people to over two thousand.

use crate::Output;
use crate::geography2021::{Geography21, break_file};
use crate::place::{AUTHORITIES, Place};
use crate::rng::Rng;
use crate::text::{Layout, Table};

/// The first and last mid-year of the series; 2011 LSOAs up to the year before
/// [`FIRST_LSOA21_YEAR`], 2021 LSOAs from it.
pub(crate) const FIRST_YEAR: u32 = 2015;
pub(crate) const LAST_YEAR: u32 = 2024;
pub(crate) const FIRST_LSOA21_YEAR: u32 = 2021;

/// Single years 0 to 89, then 90 and over.
pub(crate) const AGES: usize = 91;

/// People by sex (females, males) and single year of age.
pub(crate) type Counts = [[u32; AGES]; 2];

pub(crate) const LSOA11_FILES: [&str; 6] = [
    break_file!("population_mid-2015_lsoa11.csv"),
    break_file!("population_mid-2016_lsoa11.csv"),
    break_file!("population_mid-2017_lsoa11.csv"),
    break_file!("population_mid-2018_lsoa11.csv"),
    break_file!("population_mid-2019_lsoa11.csv"),
    break_file!("population_mid-2020_lsoa11.csv"),
];
pub(crate) const LSOA21_FILES: [&str; 4] = [
    break_file!("sapelsoasyoa_mid-2021.csv"),
    break_file!("sapelsoasyoa_mid-2022.csv"),
    break_file!("sapelsoasyoa_mid-2023.csv"),
    break_file!("sapelsoasyoa_mid-2024.csv"),
];
pub(crate) const CENSUS: &str = break_file!("census2021_usual_residents_age6_lsoa21.csv");

/// The census's six age groups, verbatim, with the single years each covers.
pub(crate) const CENSUS_AGE6: [(&str, usize, usize); 6] = [
    ("Aged 15 years and under", 0, 15),
    ("Aged 16 to 24 years", 16, 24),
    ("Aged 25 to 34 years", 25, 34),
    ("Aged 35 to 49 years", 35, 49),
    ("Aged 50 to 64 years", 50, 64),
    ("Aged 65 years and over", 65, 90),
];

/// File 6's three age groups (0–15, 16–59, 60+), as single years.
const GROUPS: [(usize, usize); 3] = [(0, 15), (16, 59), (60, 90)];

/// People added to the estate each year while it is built (children, 16–59, 60+), and for how
/// many years after mid-2015 building goes on.
const ESTATE_BUILD: [u32; 3] = [55, 150, 10];
const ESTATE_YEARS: u32 = 8;

pub(crate) struct Populations {
    /// `[year - FIRST_YEAR][piece]`.
    by_piece: Vec<Vec<Counts>>,
}

impl Populations {
    pub(crate) fn build(place: &Place, geo: &Geography21, seed: u64) -> Populations {
        let mut rng = Rng::stream(seed, "population");
        let years = (LAST_YEAR - FIRST_YEAR + 1) as usize;
        let mut by_piece = vec![vec![[[0u32; AGES]; 2]; geo.pieces.len()]; years];
        for (i, l) in place.lsoas.iter().enumerate() {
            let rate = rng.between(0.003, 0.015);
            // Children grow a little slower than the LSOA, older people faster: an ageing
            // population.
            let rates = [rate - 0.002, rate, rate + 0.012];
            let p = l.population;
            let groups_2015 = [p.children_0_15, p.aged_16_59, p.aged_60_plus];
            let pieces: Vec<usize> = geo.pieces_of_11(i).collect();
            let shares: Vec<f64> = pieces.iter().map(|&k| geo.pieces[k].share).collect();
            // Each age group split between the pieces, exactly.
            let split: Vec<Vec<u32>> = groups_2015.iter().map(|&g| allocate(g, &shares)).collect();
            for (n, &k) in pieces.iter().enumerate() {
                for (y, year) in by_piece.iter_mut().enumerate() {
                    let mut counts = [[0u32; AGES]; 2];
                    for (g, &(lo, hi)) in GROUPS.iter().enumerate() {
                        let mut total =
                            (f64::from(split[g][n]) * power(1.0 + rates[g], y)).round() as u32;
                        if geo.pieces[k].estate {
                            total += ESTATE_BUILD[g] * (y as u32).min(ESTATE_YEARS);
                        }
                        fill(&mut counts, total, lo, hi);
                    }
                    year[k] = counts;
                }
            }
        }
        Populations { by_piece }
    }

    fn sum(&self, year: u32, pieces: impl Iterator<Item = usize>) -> Counts {
        let mut out = [[0u32; AGES]; 2];
        for k in pieces {
            let c = &self.by_piece[(year - FIRST_YEAR) as usize][k];
            for s in 0..2 {
                for a in 0..AGES {
                    out[s][a] += c[s][a];
                }
            }
        }
        out
    }

    /// LSOA11 `i` at mid-`year`.
    pub(crate) fn lsoa11(&self, geo: &Geography21, year: u32, i: usize) -> Counts {
        self.sum(year, geo.pieces_of_11(i))
    }

    /// LSOA21 `j` at mid-`year`.
    pub(crate) fn lsoa21(&self, geo: &Geography21, year: u32, j: usize) -> Counts {
        self.sum(year, geo.pieces_of_21(j))
    }
}

/// Persons (both sexes) aged `lo` to `hi` inclusive (90 = 90 and over).
pub(crate) fn persons(c: &Counts, lo: usize, hi: usize) -> u32 {
    (lo..=hi).map(|a| c[0][a] + c[1][a]).sum()
}

/// `x^n` by repeated multiplication (no `powf`: see module `rng`).
fn power(x: f64, n: usize) -> f64 {
    (0..n).fold(1.0, |p, _| p * x)
}

/// `total` shared in proportion to `weights` in whole numbers that sum to it exactly: floors
/// first, then one more each to the largest remainders (ties to the first).
pub(crate) fn allocate(total: u32, weights: &[f64]) -> Vec<u32> {
    let sum: f64 = weights.iter().sum();
    let exact: Vec<f64> = weights.iter().map(|w| f64::from(total) * w / sum).collect();
    let mut out: Vec<u32> = exact.iter().map(|x| x.floor() as u32).collect();
    let given: u32 = out.iter().sum();
    let mut order: Vec<usize> = (0..weights.len()).collect();
    order.sort_by(|&a, &b| {
        let (ra, rb) = (exact[a] - exact[a].floor(), exact[b] - exact[b].floor());
        rb.total_cmp(&ra).then(a.cmp(&b))
    });
    for &k in order.iter().take(total.saturating_sub(given) as usize) {
        out[k] += 1;
    }
    out
}

/// Spreads an age group's `total` over its single years and the two sexes: fewer at each
/// older age among children, a peak around 30 among adults, thinning out from 60 with a
/// sizeable 90-and-over; slightly more boys than girls, more women than men from 50.
fn fill(counts: &mut Counts, total: u32, lo: usize, hi: usize) {
    let age_weight = |a: usize| {
        let a = a as f64;
        if a <= 15.0 {
            1.0 - 0.01 * a
        } else if a < 60.0 {
            1.5 - (a - 30.0).abs() / 40.0
        } else if a < 90.0 {
            (95.0 - a) / 35.0
        } else {
            0.6
        }
    };
    let female = |a: usize| {
        if a < 50 {
            0.49
        } else {
            0.49 + 0.004 * (a - 50) as f64
        }
    };
    let mut weights = Vec::with_capacity(2 * (hi - lo + 1));
    for a in lo..=hi {
        weights.push(age_weight(a) * female(a));
        weights.push(age_weight(a) * (1.0 - female(a)));
    }
    for (n, people) in allocate(total, &weights).into_iter().enumerate() {
        counts[n % 2][lo + n / 2] = people;
    }
}

/// The mid-year estimates on 2011 LSOAs, one file a year in Trafford's layout: no BOM, LF;
/// per LSOA a Females, a Males and a Persons row; bands are sums of single years.
pub(crate) fn lsoa11_files(place: &Place, geo: &Geography21, pop: &Populations) -> Vec<Output> {
    let mut header: Vec<String> = [
        "period",
        "area_code",
        "area_name",
        "geography",
        "sex",
        "all_ages",
        "aged_0_to_15",
        "aged_16_to_64",
        "aged_65_and_over",
    ]
    .map(String::from)
    .into();
    header.extend((0..90).map(|a| a.to_string()));
    header.push("90+".into());
    (FIRST_YEAR..FIRST_LSOA21_YEAR)
        .zip(LSOA11_FILES)
        .map(|(year, name)| {
            let mut t = Table::plain(&header, Layout::LfAfterEach);
            for (i, l) in place.lsoas.iter().enumerate() {
                let c = pop.lsoa11(geo, year, i);
                let persons: [u32; AGES] = std::array::from_fn(|a| c[0][a] + c[1][a]);
                for (sex, ages) in [("Females", &c[0]), ("Males", &c[1]), ("Persons", &persons)] {
                    let band = |lo: usize, hi: usize| ages[lo..=hi].iter().sum::<u32>();
                    let mut row = vec![
                        format!("{year}-06-30"),
                        l.code.clone(),
                        l.name.clone(),
                        "LSOA".into(),
                        sex.into(),
                    ];
                    row.extend(
                        [band(0, 90), band(0, 15), band(16, 64), band(65, 90)]
                            .map(|n| n.to_string()),
                    );
                    row.extend(ages.iter().map(|n| n.to_string()));
                    t.row(&row);
                }
            }
            let (text, rows) = t.finish();
            Output {
                name,
                description: format!(
                    "ONS mid-{year} population estimates on 2011 LSOAs, Trafford open-data \
                     layout (Persons, Females, Males; single years)"
                ),
                rows,
                text,
                gzip: false,
            }
        })
        .collect()
}

/// The mid-year estimates on 2021 LSOAs, one file a year in the ONS release layout: no BOM,
/// LF; `Total` is the sum of every `F` and `M` column.
pub(crate) fn lsoa21_files(geo: &Geography21, pop: &Populations) -> Vec<Output> {
    let mut header: Vec<String> = [
        "LAD 2021 Code",
        "LAD 2021 Name",
        "LSOA 2021 Code",
        "LSOA 2021 Name",
        "Total",
    ]
    .map(String::from)
    .into();
    header.extend((0..AGES).map(|a| format!("F{a}")));
    header.extend((0..AGES).map(|a| format!("M{a}")));
    (FIRST_LSOA21_YEAR..=LAST_YEAR)
        .zip(LSOA21_FILES)
        .map(|(year, name)| {
            let mut t = Table::plain(&header, Layout::LfAfterEach);
            for (j, l) in geo.lsoas.iter().enumerate() {
                let c = pop.lsoa21(geo, year, j);
                let la = &AUTHORITIES[l.authority];
                let mut row = vec![
                    la.code.to_owned(),
                    la.name.to_owned(),
                    l.code.clone(),
                    l.name.clone(),
                    persons(&c, 0, 90).to_string(),
                ];
                row.extend(c[0].iter().chain(&c[1]).map(|n| n.to_string()));
                t.row(&row);
            }
            let (text, rows) = t.finish();
            Output {
                name,
                description: format!(
                    "ONS mid-{year} population estimates on 2021 LSOAs, sapelsoasyoa release \
                     layout (Total, F0-F90, M0-M90)"
                ),
                rows,
                text,
                gzip: false,
            }
        })
        .collect()
}

/// Census 2021 usual residents by six age groups per LSOA21, in the ONS custom-dataset layout
/// (no BOM, CRLF): the mid-2021 figures each moved by up to 1.5%, as a census count in March
/// differs a little from the June estimate.
pub(crate) fn census(geo: &Geography21, pop: &Populations, seed: u64) -> Output {
    let mut rng = Rng::stream(seed, "census2021-age6");
    let header = [
        "Lower layer Super Output Areas Code",
        "Lower layer Super Output Areas",
        "Age (6 categories) Code",
        "Age (6 categories)",
        "Observation",
    ];
    let mut t = Table::plain(&header, Layout::CrlfAfterEach);
    for (j, l) in geo.lsoas.iter().enumerate() {
        let c = pop.lsoa21(geo, FIRST_LSOA21_YEAR, j);
        for (code, (label, lo, hi)) in (1..).zip(CENSUS_AGE6) {
            let n = f64::from(persons(&c, lo, hi)) * rng.between(0.985, 1.015);
            t.row(&[
                l.code.as_str(),
                l.name.as_str(),
                &code.to_string(),
                label,
                &(n.round() as u32).to_string(),
            ]);
        }
    }
    let (text, rows) = t.finish();
    Output {
        name: CENSUS,
        description: "Census 2021 usual residents by six age groups on 2021 LSOAs, ONS \
                      custom-dataset layout (CRLF)"
            .into(),
        rows,
        text,
        gzip: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allocation_is_exact_and_proportional() {
        assert_eq!(allocate(10, &[1.0, 1.0, 1.0]), vec![4, 3, 3]);
        assert_eq!(allocate(7, &[0.5, 0.5]), vec![4, 3]);
        assert_eq!(allocate(100, &[0.6, 0.4]), vec![60, 40]);
        assert_eq!(allocate(0, &[0.2, 0.8]), vec![0, 0]);
        assert_eq!(allocate(5, &[1.0]), vec![5]);
        assert_eq!(power(1.1, 0), 1.0);
        assert!((power(1.1, 3) - 1.331).abs() < 1e-12);
    }
}
