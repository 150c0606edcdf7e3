//! English Indices of Deprivation 2025 on 2021 LSOAs and 2024 districts: Files 2 (ranks and
//! deciles), 5 (scores) and 6 (mid-2022 population denominators), in the layouts of the
//! published files (`LSOA code (2021)`, `Local Authority District code (2024)`; File 2 with a
//! BOM and thousands separators in its ranks, `"6,907"`; File 5 without a BOM; File 6 like
//! IoD2019's, `1296.00`).
//!
//! Deprivation broadly persists from 2019: each LSOA21 starts from its LSOA11s' underlying
//! deprivation (weighted by population) plus a little noise, and goes through the IoD2019
//! machinery (module `iod`) with its own random stream, ranked out of the 33,755 LSOAs of 2021.
//! Two places change, so `imd-decile<=2` selects a different set in 2025 than in 2019:
//! [`IMPROVING_WARD`]'s LSOAs all leave deciles 1–2, and one Brookmere Town LSOA (the most
//! deprived of those outside deciles 1–2 in 2019) enters decile 2. Every other unchanged LSOA
//! stays on its side of the decile 2/3 boundary, so those are the only differences apart from
//! the redrawn LSOAs, which take their parents' deprivation.

use crate::geography2021::{Geography21, break_file};
use crate::iod::{DOMAINS, Iod, decile_among, domain_positions};
use crate::place::{AUTHORITIES, Place};
use crate::population::{Populations, persons};
use crate::rng::{Rng, logit};
use crate::text::{Layout, Table, count_2dp, fixed};
use crate::{NATIONAL_LSOAS_2021, Output};

pub(crate) const FILE_2: &str = break_file!("File_2_-_IoD2025_Domains_of_Deprivation.csv");
pub(crate) const FILE_5: &str = break_file!("File_5_-_IoD2025_Scores.csv");
pub(crate) const FILE_6: &str = break_file!("File_6_-_IoD2025_Population_Denominators.csv");

/// The first four columns of every IoD2025 LSOA file.
pub(crate) const KEY_HEADERS: [&str; 4] = [
    "LSOA code (2021)",
    "LSOA name (2021)",
    "Local Authority District code (2024)",
    "Local Authority District name (2024)",
];

/// File 6's population columns (mid-2022; working age now 18–66).
pub(crate) const POPULATION_HEADERS: [&str; 5] = [
    "Total population: mid 2022 (excluding prisoners)",
    "Dependent Children aged 0-15: mid 2022 (excluding prisoners)",
    "Population aged 16-59: mid 2022 (excluding prisoners)",
    "Older population aged 60 and over: mid 2022 (excluding prisoners)",
    "Working age population 18-66: for use with Employment Deprivation Domain (excluding prisoners)",
];

/// The mid-year of File 6's denominators.
pub(crate) const POPULATION_YEAR: u32 = 2022;

/// The Renewal Vale ward whose LSOAs all leave IMD deciles 1–2 by 2025.
pub(crate) const IMPROVING_WARD: &str = "Millgate";

/// Its shift on the logit scale of national position: from about the 12th percentile to the
/// 35th.
const IMPROVEMENT: f64 = 1.37;

/// No LSOA of the improving ward sits below this national IMD position (decile 3 starts at
/// 0.2).
const IMPROVED_FLOOR: f64 = 0.23;

/// The national position where decile 3 begins, and how far from it the LSOAs that keep their
/// side are held: enough that making ranks distinct (at most one step per sample LSOA) cannot
/// carry one across.
const BOUNDARY: f64 = 0.2;
const MARGIN: f64 = 0.01;

/// The Brookmere ward in which one LSOA enters decile 2.
const DECLINING_WARD: &str = "Brookmere Town";

/// The IoD2025 figures of each LSOA21, and the underlying deprivation behind them (which
/// 2021-coded crime and claimant counts follow).
pub(crate) struct Iod2025 {
    /// Underlying deprivation on the logit scale, per LSOA21 (see `place::Lsoa::latent`).
    pub(crate) latent: Vec<f64>,
    pub(crate) iod: Iod,
}

impl Iod2025 {
    pub(crate) fn generate(place: &Place, geo: &Geography21, seed: u64) -> Iod2025 {
        let mut drift = Rng::stream(seed, "iod2025-latent");
        let mut rng = Rng::stream(seed, "iod2025");
        let iod19 = Iod::generate(place, seed);
        let entering = entering_lsoa(place, geo, &iod19);
        // 2019 IMD decile of each LSOA21 whose code is a 2011 one (unchanged).
        let decile19 = |code: &str| {
            place
                .lsoas
                .iter()
                .position(|l| l.code == code)
                .map(|i| crate::iod::decile(iod19.ranks[i][0]))
        };
        let mut latent = Vec::with_capacity(geo.lsoas.len());
        let mut positions = Vec::with_capacity(geo.lsoas.len());
        for (j, l) in geo.lsoas.iter().enumerate() {
            let ward19 = &place.wards[geo.wards[l.ward].from];
            // Parents' deprivation, weighted by the people each contributes.
            let (mut sum, mut weight) = (0.0, 0.0);
            for k in geo.pieces_of_21(j) {
                let piece = &geo.pieces[k];
                let parent = &place.lsoas[piece.lsoa11];
                let w = piece.share * f64::from(parent.population.total);
                sum += w * parent.latent;
                weight += w;
            }
            let improving = ward19.name == IMPROVING_WARD && ward19.authority == 0;
            let mut x = sum / weight + 0.15 * drift.normal();
            let entry = drift.between(0.13, 0.17);
            if improving {
                x += IMPROVEMENT;
            }
            if entering == Some(j) {
                x = logit(entry);
            }
            let mut p = domain_positions(&mut rng, x, ward19.rural);
            if improving {
                p[0] = p[0].max(IMPROVED_FLOOR);
            } else if entering == Some(j) {
                p[0] = entry;
            } else if let Some(d) = decile19(&l.code) {
                // Elsewhere an unchanged LSOA stays on its side of the decile 2/3 boundary, so
                // the deciles 1–2 set changes only where the story says.
                p[0] = if d <= 2 {
                    p[0].min(BOUNDARY - MARGIN)
                } else {
                    p[0].max(BOUNDARY + MARGIN)
                };
            }
            latent.push(x);
            positions.push(p);
        }
        Iod2025 {
            latent,
            iod: Iod::from_positions(&positions, NATIONAL_LSOAS_2021),
        }
    }
}

/// The unchanged Brookmere Town LSOA with the lowest 2019 IMD rank outside deciles 1–2.
fn entering_lsoa(place: &Place, geo: &Geography21, iod19: &Iod) -> Option<usize> {
    let rank19 = |code: &str| {
        place
            .lsoas
            .iter()
            .position(|l| l.code == code)
            .map(|i| iod19.ranks[i][0])
    };
    geo.lsoas
        .iter()
        .enumerate()
        .filter(|(_, l)| {
            let ward19 = &place.wards[geo.wards[l.ward].from];
            ward19.name == DECLINING_WARD && ward19.authority == 1
        })
        .filter_map(|(j, l)| rank19(&l.code).map(|r| (j, r)))
        .filter(|&(_, r)| crate::iod::decile(r) > 2)
        .min_by_key(|&(_, r)| r)
        .map(|(j, _)| j)
}

/// `29199` as File 2 writes it: `29,199`.
pub(crate) fn thousands(n: u32) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (k, c) in digits.chars().enumerate() {
        if k > 0 && (digits.len() - k).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn keys(geo: &Geography21, j: usize) -> Vec<String> {
    let l = &geo.lsoas[j];
    let la = &AUTHORITIES[l.authority];
    vec![
        l.code.clone(),
        l.name.clone(),
        la.code.to_owned(),
        la.name.to_owned(),
    ]
}

/// Files 2, 5 and 6, in LSOA21 code order.
pub(crate) fn files(geo: &Geography21, iod: &Iod2025, pop: &Populations) -> Vec<Output> {
    let mut header: Vec<String> = KEY_HEADERS.iter().map(|&h| h.to_owned()).collect();
    for d in &DOMAINS {
        header.push(d.rank_header());
        header.push(d.decile_header());
    }
    let mut ranks = Table::new(&header, Layout::CrlfAfterEach);
    for (j, r) in iod.iod.ranks.iter().enumerate() {
        let mut row = keys(geo, j);
        for &rank in r {
            row.push(thousands(rank));
            row.push(decile_among(NATIONAL_LSOAS_2021, rank).to_string());
        }
        ranks.row(&row);
    }
    let mut header: Vec<&str> = KEY_HEADERS.to_vec();
    header.extend(DOMAINS.iter().map(|d| d.score_header));
    let mut scores = Table::plain(&header, Layout::CrlfAfterEach);
    for (j, s) in iod.iod.scores.iter().enumerate() {
        let mut row = keys(geo, j);
        row.extend(s.iter().map(|&x| fixed(x, 3)));
        scores.row(&row);
    }
    let mut header: Vec<&str> = KEY_HEADERS.to_vec();
    header.extend(POPULATION_HEADERS);
    let mut denominators = Table::new(&header, Layout::CrlfBetween);
    for j in 0..geo.lsoas.len() {
        let c = pop.lsoa21(geo, POPULATION_YEAR, j);
        let mut row = keys(geo, j);
        row.extend(
            [
                persons(&c, 0, 90),
                persons(&c, 0, 15),
                persons(&c, 16, 59),
                persons(&c, 60, 90),
                persons(&c, 18, 66),
            ]
            .map(count_2dp),
        );
        denominators.row(&row);
    }
    let output = |name, description: &str, table: Table| {
        let (text, rows) = table.finish();
        Output {
            name,
            description: description.into(),
            rows,
            text,
            gzip: false,
        }
    };
    vec![
        output(
            FILE_2,
            "IoD2025 File 2 layout: IMD and domain ranks (thousands separators) and deciles on \
             2021 LSOAs (BOM, CRLF)",
            ranks,
        ),
        output(
            FILE_5,
            "IoD2025 File 5 layout: IMD and domain scores on 2021 LSOAs (CRLF)",
            scores,
        ),
        output(
            FILE_6,
            "IoD2025 File 6 layout: mid-2022 population denominators on 2021 LSOAs (BOM, CRLF)",
            denominators,
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_as_published() {
        assert_eq!(thousands(7), "7");
        assert_eq!(thousands(907), "907");
        assert_eq!(thousands(6907), "6,907");
        assert_eq!(thousands(33755), "33,755");
        assert_eq!(thousands(100000), "100,000");
    }
}
