//! `renewal sample --scale england` at a hundredth of England's size: the same generator, the
//! files read back with the csv crate, flate2 and serde_json as a user's tools would.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read as _;
use std::path::Path;

use renewal_sample::england::{EnglandSize, crime_file_name, names, write_england};

/// A hundredth of England: 328 LSOAs, 70 wards, 3 districts, 1 force.
fn small() -> EnglandSize {
    EnglandSize::divided(100)
}

fn records(path: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    let mut text = String::new();
    std::fs::File::open(path)
        .unwrap()
        .read_to_string(&mut text)
        .unwrap();
    records_of(&text)
}

fn records_of(text: &str) -> (Vec<String>, Vec<Vec<String>>) {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let header = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_owned)
        .collect();
    let rows = reader
        .records()
        .map(|r| r.unwrap().iter().map(str::to_owned).collect())
        .collect();
    (header, rows)
}

#[test]
fn divided_size_is_a_hundredth() {
    let s = small();
    assert_eq!((s.lsoas, s.wards, s.districts, s.forces), (328, 70, 3, 1));
    let full = EnglandSize::FULL;
    assert_eq!(
        (full.lsoas, full.wards, full.districts, full.forces),
        (32_844, 7_000, 317, 43)
    );
}

#[test]
fn same_seed_same_bytes_other_seed_other_figures() {
    let (a, b, c) = (
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
    );
    let ra = write_england(a.path(), 7, small()).unwrap();
    let rb = write_england(b.path(), 7, small()).unwrap();
    write_england(c.path(), 8, small()).unwrap();
    assert_eq!(ra.files.len(), rb.files.len());
    // lookup, Files 5, 2, 6, claimants, wards, one force
    assert_eq!(ra.files.len(), 7);
    for f in &ra.files {
        let rel = f.path.strip_prefix(a.path()).unwrap();
        let bytes = std::fs::read(&f.path).unwrap();
        assert_eq!(bytes, std::fs::read(b.path().join(rel)).unwrap(), "{rel:?}");
        let other = std::fs::read(c.path().join(rel)).unwrap();
        let geography_only = [names::LOOKUP, names::WARDS];
        if geography_only.iter().any(|n| rel == Path::new(n)) {
            assert_eq!(bytes, other, "{rel:?} must not depend on the seed");
        } else {
            assert_ne!(bytes, other, "{rel:?} must depend on the seed");
        }
    }
}

#[test]
fn counts_ranks_and_deciles_are_consistent() {
    let dir = tempfile::tempdir().unwrap();
    let size = small();
    let report = write_england(dir.path(), 2019, size).unwrap();
    let n = size.lsoas as usize;

    let (header, lookup) = records(&dir.path().join(names::LOOKUP));
    assert_eq!(header[0], "FID");
    assert_eq!(header[1], "LSOA11CD");
    assert_eq!(lookup.len(), n);
    let lsoas: BTreeSet<&str> = lookup.iter().map(|r| r[1].as_str()).collect();
    let wards: BTreeSet<&str> = lookup.iter().map(|r| r[3].as_str()).collect();
    let lads: BTreeSet<&str> = lookup.iter().map(|r| r[5].as_str()).collect();
    assert_eq!((lsoas.len(), wards.len(), lads.len()), (328, 70, 3));
    // Every ward in exactly one district.
    let mut ward_lad = BTreeMap::new();
    for r in &lookup {
        assert_eq!(ward_lad.entry(r[3].clone()).or_insert(r[5].clone()), &r[5]);
    }

    // File 2: every rank column a permutation of 1..=N, deciles ceil(10 r / N).
    let mut text = String::new();
    flate2::read::GzDecoder::new(std::fs::File::open(dir.path().join(names::IOD_FILE_2)).unwrap())
        .read_to_string(&mut text)
        .unwrap();
    assert!(!text.ends_with('\n'), "MHCLG's CSVs end without a line end");
    let (header, rows) = records_of(&text);
    assert_eq!(rows.len(), n);
    assert_eq!(header.len(), 4 + 16);
    for col in (4..20).step_by(2) {
        assert!(header[col].ends_with("Rank (where 1 is most deprived)"));
        let mut ranks: Vec<u32> = rows.iter().map(|r| r[col].parse().unwrap()).collect();
        for (r, row) in ranks.iter().zip(&rows) {
            let decile: u32 = row[col + 1].parse().unwrap();
            assert_eq!(decile, (10 * r).div_ceil(n as u32), "{}", header[col]);
        }
        ranks.sort_unstable();
        assert_eq!(ranks, (1..=n as u32).collect::<Vec<_>>(), "{}", header[col]);
    }
    // File 5: higher score, smaller rank on the IMD (column 4 of both files).
    let (_, scores) = records(&dir.path().join(names::IOD_FILE_5));
    let rank: BTreeMap<&str, u32> = rows
        .iter()
        .map(|r| (r[0].as_str(), r[4].parse().unwrap()))
        .collect();
    let mut by_rank: Vec<(u32, f64)> = scores
        .iter()
        .map(|r| (rank[r[0].as_str()], r[4].parse().unwrap()))
        .collect();
    by_rank.sort_by_key(|p| p.0);
    assert!(by_rank.windows(2).all(|w| w[0].1 >= w[1].1));

    // File 6: five populations per LSOA, the parts summing to the total.
    let (_, pops) = records(&dir.path().join(names::IOD_FILE_6));
    assert_eq!(pops.len(), n);
    for r in &pops {
        let v: Vec<f64> = r[4..9].iter().map(|c| c.parse().unwrap()).collect();
        assert!(r[4].ends_with(".00"));
        assert_eq!(v[1] + v[2] + v[3], v[0], "{}", r[0]);
    }

    // Claimants: 120 months × N LSOAs, every month once per LSOA.
    let (header, claims) = records(&dir.path().join(names::CLAIMANTS));
    assert_eq!(header, ["date", "lsoa11cd", "lsoa11nm", "measure", "value"]);
    assert_eq!(claims.len(), 120 * n);
    let months: BTreeSet<&str> = claims.iter().map(|r| r[0].as_str()).collect();
    assert_eq!(months.len(), 120);
    assert_eq!(months.first(), Some(&"2010-01-01"));
    assert_eq!(months.last(), Some(&"2019-12-01"));

    // The reported rows are the rows in the files.
    let reported: BTreeMap<String, usize> = report
        .files
        .iter()
        .map(|f| {
            (
                f.path.file_name().unwrap().to_string_lossy().into_owned(),
                f.rows,
            )
        })
        .collect();
    assert_eq!(reported[names::CLAIMANTS], claims.len());
    assert_eq!(reported[names::LOOKUP], n);
}

/// Every located crime lies inside the rectangle of its LSOA's ward; the police.uk header and
/// the share without an LSOA are as documented.
#[test]
fn crimes_lie_inside_their_wards() {
    let dir = tempfile::tempdir().unwrap();
    let report = write_england(dir.path(), 2019, small()).unwrap();
    let (_, lookup) = records(&dir.path().join(names::LOOKUP));
    let ward_of: BTreeMap<String, String> = lookup
        .into_iter()
        .map(|r| (r[1].clone(), r[3].clone()))
        .collect();
    let geojson: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join(names::WARDS)).unwrap()).unwrap();
    let mut rect = BTreeMap::new();
    for f in geojson["features"].as_array().unwrap() {
        let ring = f["geometry"]["coordinates"][0].as_array().unwrap();
        let xs: Vec<f64> = ring.iter().map(|p| p[0].as_f64().unwrap()).collect();
        let ys: Vec<f64> = ring.iter().map(|p| p[1].as_f64().unwrap()).collect();
        let min = |v: &[f64]| v.iter().copied().fold(f64::INFINITY, f64::min);
        let max = |v: &[f64]| v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        rect.insert(
            f["properties"]["WD19CD"].as_str().unwrap().to_owned(),
            [min(&xs), min(&ys), max(&xs), max(&ys)],
        );
    }
    assert_eq!(rect.len(), 70);

    let path = dir.path().join(names::CRIME_DIR).join(crime_file_name(0));
    let bytes = std::fs::read(&path).unwrap();
    assert!(bytes.ends_with(b"\r\n"));
    let (header, rows) = records(&path);
    assert_eq!(header.len(), 12);
    assert_eq!(header[7], "LSOA code");
    let reported = report.files.iter().find(|f| f.path == path).unwrap().rows;
    assert_eq!(rows.len(), reported);
    // About 12 × 1.25 crimes per LSOA and month on average (328 LSOAs, 12 months).
    assert!((40_000..90_000).contains(&rows.len()), "{}", rows.len());
    let (mut no_lsoa, mut no_place) = (0, 0);
    for r in &rows {
        if r[4].is_empty() {
            no_place += 1;
            assert!(r[7].is_empty());
            continue;
        }
        if r[7].is_empty() {
            no_lsoa += 1;
            continue;
        }
        let (x, y): (f64, f64) = (r[4].parse().unwrap(), r[5].parse().unwrap());
        let [w, s, e, n] = rect[&ward_of[&r[7]]];
        assert!(w < x && x < e && s < y && y < n, "{r:?}");
    }
    let share = f64::from(no_lsoa) / rows.len() as f64;
    assert!((0.015..0.025).contains(&share), "{share}");
    assert!(no_place > 0);
    let months: BTreeSet<&str> = rows.iter().map(|r| r[1].as_str()).collect();
    assert_eq!(months.len(), 12);
}
