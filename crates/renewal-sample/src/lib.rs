//! A small fictional place, written in the formats the real publishers use, so Renewal's demo
//! and end-to-end tests run anywhere without the real data.
//!
//! Two authorities: "Renewal Vale" (E08999001, a metropolitan district of 8 wards and 60 LSOAs)
//! and "Brookmere" (E07999002, 3 wards, 20 LSOAs). Deprivation is deliberately uneven: a few
//! Vale wards are among the most deprived 10% nationally, Brookmere is mostly affluent.
//! The codes are valid in form but belong to no real area (the 999 series).
//!
//! Each dataset family is one function writing one file; [`write_sample`] calls them all.
//! The same seed gives byte-identical files.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};

/// Number of LSOAs that IoD2019 ranks are out of.
pub const NATIONAL_LSOAS: u32 = 32_844;

#[derive(Debug, Clone)]
pub struct SampleSpec {
    pub seed: u64,
}

impl Default for SampleSpec {
    fn default() -> Self {
        SampleSpec { seed: 2019 }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SampleError {
    #[error("writing {}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

#[derive(Debug, Clone)]
pub struct SampleFile {
    pub path: PathBuf,
    pub description: String,
    pub rows: usize,
}

#[derive(Debug, Clone, Default)]
pub struct SampleReport {
    pub files: Vec<SampleFile>,
}

/// splitmix64: tiny, well-mixed and stable across platforms and releases.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    fn between(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.unit()
    }
}

struct Authority {
    code: &'static str,
    name: &'static str,
    /// (ward name, deprivation level 0 = affluent … 1 = most deprived, LSOAs)
    wards: &'static [(&'static str, f64, usize)],
    ward_base: u32,
    lsoa_base: u32,
}

const AUTHORITIES: [Authority; 2] = [
    Authority {
        code: "E08999001",
        name: "Renewal Vale",
        wards: &[
            ("Canal Side", 0.95, 9),
            ("Foundry Park", 0.85, 8),
            ("Millgate", 0.7, 8),
            ("St Anne's", 0.5, 7),
            ("Orchard Hill", 0.35, 7),
            ("Northfield", 0.25, 7),
            ("Greenbank", 0.15, 7),
            ("Highcliffe", 0.05, 7),
        ],
        ward_base: 5_999_001,
        lsoa_base: 1_999_001,
    },
    Authority {
        code: "E07999002",
        name: "Brookmere",
        wards: &[
            ("Brookmere Town", 0.45, 8),
            ("Elm Green", 0.15, 6),
            ("Wyndham", 0.08, 6),
        ],
        ward_base: 5_999_101,
        lsoa_base: 1_999_101,
    },
];

struct Lsoa {
    code: String,
    name: String,
    ward_code: String,
    ward_name: &'static str,
    lad_code: &'static str,
    lad_name: &'static str,
    population: [u32; 5],
    /// Scores of the IMD and the seven domains, in [`DOMAINS`] order.
    scores: [f64; 8],
}

/// IoD2019 domains as File 2 and File 5 name them: (File 5 score header, File 2 stem,
/// typical score range from least to most deprived, decimals).
const DOMAINS: [(&str, &str, f64, f64); 8] = [
    (
        "Index of Multiple Deprivation (IMD) Score",
        "Index of Multiple Deprivation (IMD)",
        2.0,
        75.0,
    ),
    ("Income Score (rate)", "Income", 0.01, 0.50),
    ("Employment Score (rate)", "Employment", 0.01, 0.40),
    (
        "Education, Skills and Training Score",
        "Education, Skills and Training",
        1.0,
        80.0,
    ),
    (
        "Health Deprivation and Disability Score",
        "Health Deprivation and Disability",
        -2.5,
        3.0,
    ),
    ("Crime Score", "Crime", -2.5, 2.5),
    (
        "Barriers to Housing and Services Score",
        "Barriers to Housing and Services",
        5.0,
        55.0,
    ),
    ("Living Environment Score", "Living Environment", 3.0, 70.0),
];

fn build(seed: u64) -> Vec<Lsoa> {
    let mut rng = Rng(seed);
    let mut out = Vec::new();
    for la in &AUTHORITIES {
        let mut lsoa_number = 0u32;
        for (w, (ward_name, level, n)) in la.wards.iter().enumerate() {
            let ward_code = format!("E0{}", la.ward_base + w as u32);
            for _ in 0..*n {
                let code = format!("E0{}", la.lsoa_base + lsoa_number);
                let msoa = lsoa_number / 5 + 1;
                let letter = (b'A' + (lsoa_number % 5) as u8) as char;
                lsoa_number += 1;
                let d = (level + rng.between(-0.12, 0.12)).clamp(0.0, 1.0);
                let mut scores = [0.0; 8];
                for (k, (_, _, lo, hi)) in DOMAINS.iter().enumerate().skip(1) {
                    // Barriers to housing barely follow income deprivation; other domains do.
                    let weight = if k == 6 { 0.3 } else { 0.85 };
                    let x = (weight * d + (1.0 - weight) * rng.unit()).clamp(0.0, 1.0);
                    scores[k] = round3(lo + (hi - lo) * x);
                }
                scores[0] = round3(2.0 + 73.0 * (0.9 * d + 0.1 * rng.unit()));
                let total = rng.between(1000.0, 2500.0).round() as u32;
                let children = (f64::from(total) * rng.between(0.12, 0.26)).round() as u32;
                let older = (f64::from(total) * rng.between(0.12, 0.32)).round() as u32;
                let middle = total - children - older;
                let working = (f64::from(middle) * rng.between(1.02, 1.1)).round() as u32;
                out.push(Lsoa {
                    code,
                    name: format!("{} {msoa:03}{letter}", la.name),
                    ward_code: ward_code.clone(),
                    ward_name,
                    lad_code: la.code,
                    lad_name: la.name,
                    population: [total, children, middle, older, working],
                    scores,
                });
            }
        }
    }
    out
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// National ranks for one domain consistent with the scores: the higher the score, the smaller
/// the rank, spread over 1..=N by where the score sits in the domain's range, kept distinct.
fn ranks(lsoas: &[Lsoa], domain: usize) -> Vec<u32> {
    let (_, _, lo, hi) = DOMAINS[domain];
    let mut order: Vec<usize> = (0..lsoas.len()).collect();
    order.sort_by(|&a, &b| {
        lsoas[b].scores[domain]
            .total_cmp(&lsoas[a].scores[domain])
            .then(a.cmp(&b))
    });
    let n = f64::from(NATIONAL_LSOAS);
    let mut out = vec![0; lsoas.len()];
    let mut last = 0;
    for i in order {
        let position = ((hi - lsoas[i].scores[domain]) / (hi - lo)).clamp(0.0, 1.0);
        // A power above 1 crowds high scores towards rank 1, as the long deprived tail of real
        // score distributions does.
        let rank = (1.0 + position.powf(1.5) * (n - 200.0)).round() as u32;
        let rank = rank.max(last + 1);
        out[i] = rank;
        last = rank;
    }
    out
}

fn decile(rank: u32) -> u32 {
    (10 * rank).div_ceil(NATIONAL_LSOAS)
}

/// `29199` → `"29,199"`: the quoted, thousands-separated style of some published CSVs.
fn grouped(n: u32) -> String {
    if n < 1000 {
        n.to_string()
    } else {
        format!("\"{},{:03}\"", n / 1000, n % 1000)
    }
}

fn quote(field: &str) -> String {
    if field.contains(',') || field.contains('"') {
        format!("\"{}\"", field.replace('"', "\"\""))
    } else {
        field.to_owned()
    }
}

const BOM: &str = "\u{feff}";
const KEYS: [&str; 4] = [
    "LSOA code (2011)",
    "LSOA name (2011)",
    "Local Authority District code (2019)",
    "Local Authority District name (2019)",
];

fn key_fields(l: &Lsoa) -> String {
    format!(
        "{},{},{},{}",
        l.code,
        quote(&l.name),
        l.lad_code,
        quote(l.lad_name)
    )
}

/// File 5 layout: IMD and domain scores; BOM, CRLF.
fn file5(lsoas: &[Lsoa]) -> String {
    let mut s = String::from(BOM);
    let header: Vec<String> = KEYS
        .iter()
        .chain(DOMAINS.iter().map(|d| &d.0))
        .map(|h| quote(h))
        .collect();
    s.push_str(&header.join(","));
    for l in lsoas {
        s.push_str("\r\n");
        s.push_str(&key_fields(l));
        for v in l.scores {
            let _ = write!(s, ",{v:.3}");
        }
    }
    s.push_str("\r\n");
    s
}

/// File 2 layout: rank and decile of the IMD and each domain; BOM, CRLF, quoted thousands.
fn file2(lsoas: &[Lsoa]) -> String {
    let mut s = String::from(BOM);
    let mut header: Vec<String> = KEYS.iter().map(|h| quote(h)).collect();
    for (_, stem, _, _) in DOMAINS {
        header.push(quote(&format!("{stem} Rank (where 1 is most deprived)")));
        header.push(quote(&format!(
            "{stem} Decile (where 1 is most deprived 10% of LSOAs)"
        )));
    }
    s.push_str(&header.join(","));
    let all: Vec<Vec<u32>> = (0..DOMAINS.len()).map(|d| ranks(lsoas, d)).collect();
    for (i, l) in lsoas.iter().enumerate() {
        s.push_str("\r\n");
        s.push_str(&key_fields(l));
        for ranks in &all {
            let _ = write!(s, ",{},{}", grouped(ranks[i]), decile(ranks[i]));
        }
    }
    s.push_str("\r\n");
    s
}

/// File 6 layout: population denominators as `1296.00`; BOM, CRLF, no final newline.
fn file6(lsoas: &[Lsoa]) -> String {
    let mut s = String::from(BOM);
    s.push_str(&KEYS.join(","));
    s.push_str(",Total population: mid 2015 (excluding prisoners),Dependent Children aged 0-15: mid 2015 (excluding prisoners),Population aged 16-59: mid 2015 (excluding prisoners),Older population aged 60 and over: mid 2015 (excluding prisoners),Working age population 18-59/64: for use with Employment Deprivation Domain (excluding prisoners)");
    for l in lsoas {
        s.push_str("\r\n");
        s.push_str(&key_fields(l));
        for p in l.population {
            let _ = write!(s, ",{p}.00");
        }
    }
    s
}

/// ONS LSOA11 → WD19 → LAD19 lookup: BOM, LF, FID first.
fn lookup(lsoas: &[Lsoa]) -> String {
    let mut s = String::from(BOM);
    s.push_str("FID,LSOA11CD,LSOA11NM,WD19CD,WD19NM,LAD19CD,LAD19NM\n");
    for (i, l) in lsoas.iter().enumerate() {
        let _ = writeln!(
            s,
            "{},{},{},{},{},{},{}",
            i + 1,
            l.code,
            quote(&l.name),
            l.ward_code,
            quote(l.ward_name),
            l.lad_code,
            quote(l.lad_name)
        );
    }
    s
}

fn gzip(bytes: &[u8]) -> std::io::Result<Vec<u8>> {
    // mtime 0 and no file name keep the archive byte-identical across runs.
    let mut enc = flate2::GzBuilder::new()
        .mtime(0)
        .write(Vec::new(), flate2::Compression::default());
    enc.write_all(bytes)?;
    enc.finish()
}

/// Writes the sample files into `out` (created if needed).
pub fn write_sample(out: &Path, spec: &SampleSpec) -> Result<SampleReport, SampleError> {
    let io = |path: &Path| {
        let path = path.to_owned();
        move |source| SampleError::Io { path, source }
    };
    std::fs::create_dir_all(out).map_err(io(out))?;
    let lsoas = build(spec.seed);
    let n = lsoas.len();
    let file2_gz = gzip(file2(&lsoas).as_bytes()).map_err(io(out))?;
    let files: Vec<(&str, Vec<u8>, &str, usize)> = vec![
        (
            "File_5_-_IoD2019_Scores.csv",
            file5(&lsoas).into_bytes(),
            "IoD2019 File 5 layout: IMD and domain scores",
            n,
        ),
        (
            "File_2_-_IoD2019_Domains_of_Deprivation.csv.gz",
            file2_gz,
            "IoD2019 File 2 layout, gzipped: ranks and deciles",
            n,
        ),
        (
            "File_6_-_IoD2019_Population_Denominators.csv",
            file6(&lsoas).into_bytes(),
            "IoD2019 File 6 layout: mid-2015 population denominators",
            n,
        ),
        (
            "Lower_Layer_Super_Output_Area_(2011)_to_Ward_(2019)_Lookup_in_England_and_Wales.csv",
            lookup(&lsoas).into_bytes(),
            "ONS LSOA11 to WD19 to LAD19 best-fit lookup layout",
            n,
        ),
        (
            "README.txt",
            format!(
                "Fictional sample files in the real published formats, generated by `renewal sample` \
                 (seed {}).\nThe areas (codes E01999…, E05999…, E08999001, E07999002) do not exist; \
                 the figures are invented.\n",
                spec.seed
            )
            .into_bytes(),
            "what these files are",
            0,
        ),
    ];
    let mut report = SampleReport::default();
    for (name, bytes, description, rows) in files {
        let path = out.join(name);
        std::fs::write(&path, bytes).map_err(io(&path))?;
        report.files.push(SampleFile {
            path,
            description: description.to_owned(),
            rows,
        });
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_bytes_other_seed_other_bytes() {
        let (a, b, c) = (
            tempfile::tempdir().unwrap(),
            tempfile::tempdir().unwrap(),
            tempfile::tempdir().unwrap(),
        );
        let ra = write_sample(a.path(), &SampleSpec { seed: 7 }).unwrap();
        write_sample(b.path(), &SampleSpec { seed: 7 }).unwrap();
        write_sample(c.path(), &SampleSpec { seed: 8 }).unwrap();
        for f in &ra.files {
            let name = f.path.file_name().unwrap();
            let bytes = std::fs::read(&f.path).unwrap();
            assert!(
                bytes == std::fs::read(b.path().join(name)).unwrap(),
                "{name:?} differs"
            );
            // Geography is fixed; the figures depend on the seed.
            if name.to_string_lossy().starts_with("File_") {
                assert!(
                    bytes != std::fs::read(c.path().join(name)).unwrap(),
                    "{name:?} same"
                );
            }
        }
    }

    #[test]
    fn ranks_follow_scores_and_deciles_follow_ranks() {
        let lsoas = build(2019);
        assert_eq!(lsoas.len(), 80);
        for d in 0..DOMAINS.len() {
            let r = ranks(&lsoas, d);
            let mut seen = r.clone();
            seen.sort();
            seen.dedup();
            assert_eq!(seen.len(), r.len(), "ranks distinct in domain {d}");
            for i in 0..lsoas.len() {
                assert!((1..=NATIONAL_LSOAS).contains(&r[i]));
                for j in 0..lsoas.len() {
                    if lsoas[i].scores[d] > lsoas[j].scores[d] {
                        assert!(r[i] < r[j], "domain {d}: higher score must rank nearer 1");
                    }
                }
            }
        }
        assert_eq!(decile(1), 1);
        assert_eq!(decile(3284), 1);
        assert_eq!(decile(3285), 2);
        assert_eq!(decile(NATIONAL_LSOAS), 10);
        // The demo needs a real gap: some LSOAs in the most deprived decile, some in the least.
        let imd = ranks(&lsoas, 0);
        assert!(imd.iter().any(|&r| decile(r) == 1));
        assert!(imd.iter().any(|&r| decile(r) >= 9));
    }

    #[test]
    fn files_keep_the_published_quirks() {
        let lsoas = build(2019);
        let f2 = file2(&lsoas);
        assert!(f2.starts_with(BOM));
        assert!(f2.contains("\r\n"));
        assert!(
            f2.contains(",\"Education, Skills and Training Rank (where 1 is most deprived)\",")
        );
        assert!(f2.contains(",\""), "thousands separators are quoted");
        let f6 = file6(&lsoas);
        assert!(!f6.ends_with('\n'));
        assert!(f6.contains(".00,"));
        for l in &lsoas {
            let [total, children, middle, older, _] = l.population;
            assert_eq!(children + middle + older, total);
            assert!(l.code.len() == 9 && l.code.starts_with("E01"));
            assert!(l.ward_code.len() == 9 && l.ward_code.starts_with("E05"));
        }
        let lk = lookup(&lsoas);
        assert_eq!(lk.lines().count(), lsoas.len() + 1);
        assert!(lk.starts_with("\u{feff}FID,LSOA11CD"));
    }
}
