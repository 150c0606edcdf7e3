//! English Indices of Deprivation 2019: Files 5 (scores), 2 (ranks and deciles, gzipped as
//! users often keep it) and 6 (population denominators), in MHCLG's CSV layout.
//!
//! Each LSOA gets a national position per domain (0 = most deprived end, 1 = least): its
//! underlying deprivation plus domain-specific noise. The score is read off a table of national
//! percentiles, and the rank is the position among the 32,844 LSOAs, so scores, ranks and
//! deciles agree with each other and are plausible against the real national distribution.

use crate::place::Place;
use crate::rng::{Rng, logistic};
use crate::text::{Layout, Table, count_2dp, fixed};
use crate::{NATIONAL_LSOAS, Output};

pub(crate) const FILE_5: &str = "File_5_-_IoD2019_Scores.csv";
pub(crate) const FILE_2: &str = "File_2_-_IoD2019_Domains_of_Deprivation.csv.gz";
pub(crate) const FILE_6: &str = "File_6_-_IoD2019_Population_Denominators.csv";

/// The first four columns of every IoD2019 LSOA file.
pub(crate) const KEY_HEADERS: [&str; 4] = [
    "LSOA code (2011)",
    "LSOA name (2011)",
    "Local Authority District code (2019)",
    "Local Authority District name (2019)",
];

/// File 6's population columns, verbatim (no trailing space, unlike File 7's last header).
pub(crate) const POPULATION_HEADERS: [&str; 5] = [
    "Total population: mid 2015 (excluding prisoners)",
    "Dependent Children aged 0-15: mid 2015 (excluding prisoners)",
    "Population aged 16-59: mid 2015 (excluding prisoners)",
    "Older population aged 60 and over: mid 2015 (excluding prisoners)",
    "Working age population 18-59/64: for use with Employment Deprivation Domain (excluding prisoners)",
];

/// National positions at which [`Domain::scores`] are given.
const AT: [f64; 12] = [
    0.0, 0.001, 0.01, 0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 0.9, 0.99, 1.0,
];

pub(crate) struct Domain {
    /// File 5 header.
    pub(crate) score_header: &'static str,
    /// File 2 headers are this followed by ` Rank (where …)` and ` Decile (where …)`.
    pub(crate) stem: &'static str,
    /// Score at each national position in [`AT`], most deprived first. For the IMD, income and
    /// employment these are the published 2019 percentiles (rounded); for the other domains an
    /// approximation of their shape.
    scores: [f64; 12],
    /// How closely the domain follows the LSOA's underlying deprivation, and its own noise.
    loading: f64,
    noise: f64,
    /// Shift for rural wards on the logit scale (negative = more deprived).
    rural: f64,
    /// Weight in the IMD (the official domain weights).
    weight: f64,
}

const fn domain(
    score_header: &'static str,
    stem: &'static str,
    scores: [f64; 12],
    (loading, noise, rural, weight): (f64, f64, f64, f64),
) -> Domain {
    Domain {
        score_header,
        stem,
        scores,
        loading,
        noise,
        rural,
        weight,
    }
}

/// The IMD and its seven domains, in the order of the published files.
pub(crate) const DOMAINS: [Domain; 8] = [
    domain(
        "Index of Multiple Deprivation (IMD) Score",
        "Index of Multiple Deprivation (IMD)",
        [
            92.7, 79.1, 68.4, 53.7, 43.9, 33.3, 26.6, 17.6, 11.3, 5.9, 2.4, 0.5,
        ],
        (0.0, 0.0, 0.0, 0.0),
    ),
    domain(
        "Income Score (rate)",
        "Income",
        [
            0.609, 0.504, 0.409, 0.321, 0.268, 0.202, 0.157, 0.099, 0.063, 0.036, 0.016, 0.003,
        ],
        (1.0, 0.3, 0.0, 0.225),
    ),
    domain(
        "Employment Score (rate)",
        "Employment",
        [
            0.534, 0.402, 0.315, 0.239, 0.197, 0.150, 0.119, 0.080, 0.055, 0.034, 0.016, 0.002,
        ],
        (0.95, 0.4, 0.0, 0.225),
    ),
    domain(
        "Education, Skills and Training Score",
        "Education, Skills and Training",
        [
            99.0, 84.0, 70.0, 55.0, 46.0, 36.0, 28.5, 17.0, 10.0, 4.2, 1.0, 0.02,
        ],
        (0.9, 0.55, 0.0, 0.135),
    ),
    domain(
        "Health Deprivation and Disability Score",
        "Health Deprivation and Disability",
        [
            3.9, 3.0, 2.4, 1.6, 1.2, 0.75, 0.45, 0.0, -0.45, -1.1, -1.9, -3.3,
        ],
        (0.85, 0.55, 0.0, 0.135),
    ),
    domain(
        "Crime Score",
        "Crime",
        [
            3.4, 2.6, 2.0, 1.35, 1.05, 0.7, 0.45, 0.02, -0.4, -1.0, -1.8, -3.2,
        ],
        (0.7, 0.75, 0.0, 0.093),
    ),
    domain(
        "Barriers to Housing and Services Score",
        "Barriers to Housing and Services",
        [
            72.0, 60.0, 50.0, 40.0, 35.0, 30.0, 26.0, 20.5, 15.5, 10.0, 5.0, 0.5,
        ],
        (0.1, 0.9, -1.5, 0.093),
    ),
    domain(
        "Living Environment Score",
        "Living Environment",
        [
            90.0, 78.0, 65.0, 50.0, 42.0, 33.0, 27.0, 18.0, 12.0, 7.0, 3.0, 0.3,
        ],
        (0.6, 0.8, -0.4, 0.093),
    ),
];

impl Domain {
    pub(crate) fn rank_header(&self) -> String {
        format!("{} Rank (where 1 is most deprived)", self.stem)
    }

    pub(crate) fn decile_header(&self) -> String {
        format!(
            "{} Decile (where 1 is most deprived 10% of LSOAs)",
            self.stem
        )
    }

    /// The score at a national position, interpolated in the table, to 3 decimals.
    pub(crate) fn score_at(&self, position: f64) -> f64 {
        let q = position.clamp(0.0, 1.0);
        let k = AT
            .windows(2)
            .position(|w| q <= w[1])
            .unwrap_or(AT.len() - 2);
        let t = (q - AT[k]) / (AT[k + 1] - AT[k]);
        let s = self.scores[k] + (self.scores[k + 1] - self.scores[k]) * t;
        (s * 1000.0).round() / 1000.0
    }
}

/// Every LSOA's scores and national ranks, in [`DOMAINS`] order and the place's LSOA order.
pub(crate) struct Iod {
    pub(crate) scores: Vec<[f64; 8]>,
    pub(crate) ranks: Vec<[u32; 8]>,
}

impl Iod {
    pub(crate) fn generate(place: &Place, seed: u64) -> Iod {
        let mut rng = Rng::stream(seed, "iod");
        let mut positions = Vec::with_capacity(place.lsoas.len());
        for l in &place.lsoas {
            positions.push(domain_positions(&mut rng, l.latent, place.ward(l).rural));
        }
        Iod::from_positions(&positions, NATIONAL_LSOAS)
    }

    /// Scores read off the national tables and ranks among `national` LSOAs, from each
    /// LSOA's national position on the IMD and every domain.
    pub(crate) fn from_positions(positions: &[[f64; 8]], national: u32) -> Iod {
        let scores: Vec<[f64; 8]> = positions
            .iter()
            .map(|p| std::array::from_fn(|d| DOMAINS[d].score_at(p[d])))
            .collect();
        let mut ranks = vec![[0u32; 8]; positions.len()];
        for d in 0..DOMAINS.len() {
            let s: Vec<f64> = scores.iter().map(|s| s[d]).collect();
            let p: Vec<f64> = positions.iter().map(|p| p[d]).collect();
            for (row, r) in ranks.iter_mut().zip(national_ranks_among(national, &s, &p)) {
                row[d] = r;
            }
        }
        Iod { scores, ranks }
    }
}

/// An LSOA's national position (0 = most deprived end) on the IMD and each domain, from its
/// underlying deprivation: seven domain draws from `rng`, in [`DOMAINS`] order, then the IMD
/// as their weighted combination.
pub(crate) fn domain_positions(rng: &mut Rng, latent: f64, rural: bool) -> [f64; 8] {
    let mut x = [0.0; 8];
    let (mut sum, mut loadings) = (0.0, 0.0);
    for (d, dom) in DOMAINS.iter().enumerate().skip(1) {
        x[d] =
            dom.loading * latent + dom.noise * rng.normal() + if rural { dom.rural } else { 0.0 };
        sum += dom.weight * x[d];
        loadings += dom.weight * dom.loading;
    }
    // The IMD combines the domains with the official weights, rescaled so that it
    // keeps the spread of the underlying deprivation.
    x[0] = sum / loadings;
    x.map(logistic)
}

/// Distinct national ranks, 1 = most deprived, for a handful of LSOAs: each near
/// `1 + position × (N − 1)`, but always ordered by score (higher score, smaller rank; equal
/// scores split by position), so they never contradict the published scores.
/// `n` is the edition's national LSOA count.
pub(crate) fn national_ranks_among(n: u32, scores: &[f64], positions: &[f64]) -> Vec<u32> {
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| {
        scores[b]
            .total_cmp(&scores[a])
            .then(positions[a].total_cmp(&positions[b]))
            .then(a.cmp(&b))
    });
    let mut ranks = vec![0u32; scores.len()];
    let mut last = 0;
    for &i in &order {
        let wanted = 1.0 + positions[i].clamp(0.0, 1.0) * f64::from(n - 1);
        last = (wanted.round() as u32).max(last + 1);
        ranks[i] = last;
    }
    // Pull back any that ran past N, keeping them distinct.
    let mut next = n + 1;
    for &i in order.iter().rev() {
        next = ranks[i].min(next.saturating_sub(1));
        ranks[i] = next;
    }
    ranks
}

/// Decile as published: ceil(10 r / N), so decile 1 is ranks 1–3,284.
pub(crate) fn decile(rank: u32) -> u32 {
    decile_among(NATIONAL_LSOAS, rank)
}

/// Decile of a rank out of `n` LSOAs nationally: ceil(10 r / n).
pub(crate) fn decile_among(n: u32, rank: u32) -> u32 {
    (10 * rank).div_ceil(n)
}

fn keys(place: &Place, i: usize) -> Vec<String> {
    let l = &place.lsoas[i];
    let la = place.authority(l);
    vec![
        l.code.clone(),
        l.name.clone(),
        la.code.to_owned(),
        la.name.to_owned(),
    ]
}

/// File 5: the IMD and domain scores; rates as proportions, everything to 3 decimals.
fn file_5(place: &Place, iod: &Iod) -> Output {
    let mut header: Vec<&str> = KEY_HEADERS.to_vec();
    header.extend(DOMAINS.iter().map(|d| d.score_header));
    let mut table = Table::new(&header, Layout::CrlfBetween);
    for (i, scores) in iod.scores.iter().enumerate() {
        let mut row = keys(place, i);
        row.extend(scores.iter().map(|&s| fixed(s, 3)));
        table.row(&row);
    }
    let (text, rows) = table.finish();
    Output {
        name: FILE_5,
        description: "IoD2019 File 5 layout: IMD and domain scores (BOM, CRLF)".into(),
        rows,
        text,
        gzip: false,
    }
}

/// File 2: rank and decile of the IMD and each domain. Ranks are plain integers, as in the
/// published CSV (`29199`, not `29,199`).
fn file_2(place: &Place, iod: &Iod) -> Output {
    let mut header: Vec<String> = KEY_HEADERS.iter().map(|&h| h.to_owned()).collect();
    for d in &DOMAINS {
        header.push(d.rank_header());
        header.push(d.decile_header());
    }
    let mut table = Table::new(&header, Layout::CrlfBetween);
    for (i, ranks) in iod.ranks.iter().enumerate() {
        let mut row = keys(place, i);
        for &r in ranks {
            row.push(r.to_string());
            row.push(decile(r).to_string());
        }
        table.row(&row);
    }
    let (text, rows) = table.finish();
    Output {
        name: FILE_2,
        description: "IoD2019 File 2 layout, gzipped: IMD and domain ranks and deciles (BOM, CRLF)"
            .into(),
        rows,
        text,
        gzip: true,
    }
}

/// File 6: mid-2015 population denominators written `1296.00`.
fn file_6(place: &Place) -> Output {
    let mut header: Vec<&str> = KEY_HEADERS.to_vec();
    header.extend(POPULATION_HEADERS);
    let mut table = Table::new(&header, Layout::CrlfBetween);
    for (i, l) in place.lsoas.iter().enumerate() {
        let p = l.population;
        let mut row = keys(place, i);
        row.extend(
            [
                p.total,
                p.children_0_15,
                p.aged_16_59,
                p.aged_60_plus,
                p.working_age,
            ]
            .map(count_2dp),
        );
        table.row(&row);
    }
    let (text, rows) = table.finish();
    Output {
        name: FILE_6,
        description: "IoD2019 File 6 layout: mid-2015 population denominators (BOM, CRLF)".into(),
        rows,
        text,
        gzip: false,
    }
}

/// The IoD family's files, in the order the README lists them.
pub(crate) fn files(place: &Place, seed: u64) -> Vec<Output> {
    let iod = Iod::generate(place, seed);
    vec![file_5(place, &iod), file_2(place, &iod), file_6(place)]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn score_tables_decrease_and_interpolate() {
        for d in &DOMAINS {
            assert!(d.scores.windows(2).all(|w| w[0] > w[1]), "{}", d.stem);
            assert_eq!(d.score_at(0.0), d.scores[0]);
            assert_eq!(d.score_at(1.0), d.scores[11]);
            assert_eq!(d.score_at(0.5), d.scores[7]);
            let mut last = f64::INFINITY;
            for k in 0..=1000 {
                let s = d.score_at(f64::from(k) / 1000.0);
                assert!(s <= last, "{} not monotone at {k}", d.stem);
                last = s;
            }
        }
        let weights: f64 = DOMAINS.iter().map(|d| d.weight).sum();
        assert!((weights - 1.0).abs() < 0.002);
    }

    #[test]
    fn ranks_are_distinct_ordered_and_in_range_even_with_ties() {
        // Equal scores, and positions crowding both ends of the scale.
        let scores = [5.0, 5.0, 5.0, 90.0, 0.5, 0.5, 0.5];
        let positions = [0.5, 0.5, 0.5, 0.0, 1.0, 1.0, 1.0];
        let r = national_ranks_among(NATIONAL_LSOAS, &scores, &positions);
        assert_eq!(r, vec![16423, 16424, 16425, 1, 32842, 32843, 32844]);
    }

    #[test]
    fn deciles_as_published() {
        // The real File 2's decile boundaries: the last rank of each decile.
        let last = [
            3284, 6568, 9853, 13137, 16422, 19706, 22990, 26275, 29559, 32844,
        ];
        for (d, &r) in (1..=10).zip(&last) {
            assert_eq!(decile(r), d);
            if d < 10 {
                assert_eq!(decile(r + 1), d + 1);
            }
        }
        assert_eq!(decile(1), 1);
    }
}
