//! IoD2025 on the shared Greater Manchester files, and IoD2019 domain summaries, against the
//! independent implementation (tests/reference/iod_summaries.py) every cell; plus a figure read
//! straight from the raw file, and bad 2025 input refused with nothing published.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use renewal_test_support::{shared_data, shared_file, temp_dir, write_file};

use crate::{Renewal, SUMMARY_HEADER, parse_csv, python_reference};

const DOMAIN_HEADER_TAIL: &str = "rank_of_proportion_most_deprived_10pct,rank_of_extent,rank_of_local_concentration,scale,rank_of_scale";

/// Header and rows by area code.
struct Table {
    header: Vec<String>,
    rows: BTreeMap<String, Vec<String>>,
}

fn table(csv: &str, header: &str) -> Table {
    let (h, rows) = parse_csv(csv);
    assert_eq!(h.join(","), header);
    Table {
        header: h,
        rows: rows.into_iter().map(|r| (r[0].clone(), r)).collect(),
    }
}

fn domain_header() -> String {
    format!("{SUMMARY_HEADER},{DOMAIN_HEADER_TAIL}")
}

fn reference(args: &[&str], data: &Path, header: &str) -> Table {
    let mut all: Vec<&std::ffi::OsStr> = args.iter().map(std::ffi::OsStr::new).collect();
    all.extend([std::ffi::OsStr::new("--data-dir"), data.as_os_str()]);
    table(&python_reference("iod_summaries.py", &all), header)
}

fn number(s: &str) -> Option<f64> {
    (!s.is_empty()).then(|| s.parse().unwrap_or_else(|_| panic!("not a number: {s:?}")))
}

/// Every area in both, every cell equal (numbers within a relative 1e-9, empties empty).
/// Returns how many cells held a number.
fn assert_same(ours: &Table, theirs: &Table, what: &str) -> usize {
    assert_eq!(ours.header, theirs.header, "{what}: header");
    let a: Vec<_> = ours.rows.keys().collect();
    let b: Vec<_> = theirs.rows.keys().collect();
    assert_eq!(a, b, "{what}: different areas");
    let mut checked = 0;
    for (code, row) in &ours.rows {
        let other = &theirs.rows[code];
        assert_eq!(row[1], other[1], "{what} {code}: area_name");
        for c in 2..ours.header.len() {
            match (number(&row[c]), number(&other[c])) {
                (None, None) => {}
                (Some(x), Some(y)) => {
                    assert!(
                        (x - y).abs() <= 1e-9 * y.abs().max(1.0),
                        "{what} {code} {}: ours {x}, reference {y}",
                        ours.header[c]
                    );
                    checked += 1;
                }
                (x, y) => panic!(
                    "{what} {code} {}: ours {x:?}, reference {y:?}",
                    ours.header[c]
                ),
            }
        }
    }
    assert!(checked > 0, "{what}: nothing compared");
    checked
}

fn column(t: &Table, name: &str) -> usize {
    t.header.iter().position(|h| h == name).unwrap()
}

const GM_FILE_2: &str = "imd/2025/File_2_-_IoD2025_Domains_of_Deprivation_Greater_Manchester.csv";
const GM_FILE_5: &str = "imd/2025/File_5_-_IoD2025_Scores_Greater_Manchester.csv";
const WD24_LOOKUP: &str =
    "geography/LSOA_(2021)_to_Electoral_Ward_(2024)_to_LAD_(2024)_Best_Fit_Lookup_in_EW.csv";

/// The 2025 files the reference reads: File 2 and File 5, and a File 6 if one is shared.
fn files_2025(root: &Path) -> Vec<PathBuf> {
    let mut files = vec![shared_file(root, GM_FILE_2), shared_file(root, GM_FILE_5)];
    let folder = root.join("imd/2025");
    let mut file6: Vec<PathBuf> = std::fs::read_dir(&folder)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            let name = p.file_name().unwrap().to_string_lossy();
            name.starts_with("File_6_") && name.ends_with(".csv")
        })
        .collect();
    file6.sort();
    files.extend(file6);
    files
}

#[test]
fn iod2025_greater_manchester_matches_the_independent_implementation() {
    let Some(root) = shared_data() else { return };
    let dir = temp_dir();
    let r = Renewal::new(&dir.path().join("warehouse"));

    // The ONS LSOA21 → WD24 best-fit lookup ingests as it is (BOM, CRLF, trailing ObjectId).
    let out = r.ok([
        Path::new("ingest"),
        Path::new("lookup"),
        &shared_file(&root, WD24_LOOKUP),
    ]);
    assert!(
        out.starts_with("published lookup-lsoa21-wd24 version 1:"),
        "{out}"
    );
    let mut args: Vec<PathBuf> = ["ingest", "imd", "--vintage", "2025"]
        .map(PathBuf::from)
        .into();
    args.extend(files_2025(&root));
    let out = r.ok(&args);
    assert!(out.starts_with("published iod-2025 version 1:"), "{out}");
    assert!(
        out.contains("covers 1702 of the 33755 LSOAs ranked nationally"),
        "{out}"
    );

    let run = r.run(["summary", "--vintage", "2025", "--level", "lad"]);
    assert!(run.status.success());
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(
        stderr.contains("ranks need all 33,755 LSOAs of IoD2025; 1,702 loaded"),
        "{stderr}"
    );
    let lads = table(&String::from_utf8(run.stdout).unwrap(), SUMMARY_HEADER);
    assert_eq!(lads.rows.len(), 10, "the ten Greater Manchester districts");
    assert_same(
        &lads,
        &reference(
            &["--level", "lad", "--vintage", "2025"],
            &root,
            SUMMARY_HEADER,
        ),
        "LAD 2025",
    );
    // No area rank is invented from ten districts out of England's 296.
    for row in lads.rows.values() {
        for c in ["rank_of_average_score", "rank_of_average_rank"] {
            assert_eq!(row[column(&lads, c)], "", "{c}");
        }
        assert_ne!(row[column(&lads, "proportion_most_deprived_10pct")], "");
    }
    // Manchester read straight from the raw File 2 by a separate reader.
    let manchester = &lads.rows["E08000003"];
    let (count, top) = raw_top_decile(&shared_file(&root, GM_FILE_2), "E08000003", 33755);
    assert_eq!(manchester[2], count.to_string());
    let proportion = number(&manchester[column(&lads, "proportion_most_deprived_10pct")]).unwrap();
    assert_eq!(proportion, top as f64 / count as f64);

    for domain in ["income", "imd", "employment", "health"] {
        let ours = table(
            &r.ok([
                "summary",
                "--vintage",
                "2025",
                "--level",
                "lad",
                "--domain",
                domain,
            ]),
            &domain_header(),
        );
        assert_same(
            &ours,
            &reference(
                &["--level", "lad", "--vintage", "2025", "--domain", domain],
                &root,
                &domain_header(),
            ),
            &format!("LAD 2025 {domain}"),
        );
    }

    let wards = table(
        &r.ok([
            "summary",
            "--vintage",
            "2025",
            "--level",
            "ward",
            "--ward-vintage",
            "WD24",
        ]),
        SUMMARY_HEADER,
    );
    assert!(wards.rows.len() > 200, "{} wards", wards.rows.len());
    let lsoas: usize = wards
        .rows
        .values()
        .map(|w| w[2].parse::<usize>().unwrap())
        .sum();
    assert_eq!(lsoas, 1702, "every GM LSOA has a WD24 ward");
    assert_same(
        &wards,
        &reference(
            &["--level", "ward", "--vintage", "2025"],
            &root,
            SUMMARY_HEADER,
        ),
        "ward 2025",
    );
    let wards_income = table(
        &r.ok([
            "summary",
            "--vintage",
            "2025",
            "--level",
            "ward",
            "--ward-vintage",
            "WD24",
            "--domain",
            "income",
        ]),
        &domain_header(),
    );
    assert_same(
        &wards_income,
        &reference(
            &["--level", "ward", "--vintage", "2025", "--domain", "income"],
            &root,
            &domain_header(),
        ),
        "ward 2025 income",
    );

    // `newest` names the 2025 edition; without --vintage the declared default (2019) is meant,
    // which this warehouse does not hold.
    assert_eq!(
        r.ok(["summary", "--vintage", "newest", "--level", "lad"]),
        r.ok(["summary", "--vintage", "2025", "--level", "lad"])
    );
    let out = r.run(["summary", "--level", "lad"]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("iod-2019"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// (LSOAs of `lad`, of which ranked in the most deprived 10%: rank ≤ N / 10) from File 2 by
/// plain string handling: the IMD rank is the 5th field, written "6,907" in quotes.
fn raw_top_decile(path: &Path, lad: &str, national: u64) -> (u64, u64) {
    let text = std::fs::read_to_string(path).unwrap();
    let (mut count, mut top) = (0, 0);
    for line in text.lines().skip(1) {
        let mut fields = Vec::new();
        let mut rest = line.trim_end_matches('\r');
        while !rest.is_empty() {
            let (field, tail) = if let Some(quoted) = rest.strip_prefix('"') {
                let end = quoted.find('"').unwrap();
                (
                    &quoted[..end],
                    quoted[end + 1..].strip_prefix(',').unwrap_or(""),
                )
            } else {
                match rest.split_once(',') {
                    Some((f, t)) => (f, t),
                    None => (rest, ""),
                }
            };
            fields.push(field.replace(',', ""));
            rest = tail;
        }
        if fields[2] == lad {
            count += 1;
            let rank: u64 = fields[4].parse().unwrap();
            if 10 * rank <= national {
                top += 1;
            }
        }
    }
    (count, top)
}

#[test]
fn bad_2025_rank_is_refused_and_nothing_is_published() {
    let dir = temp_dir();
    let r = Renewal::new(&dir.path().join("warehouse"));
    let header = "\u{feff}LSOA code (2021),LSOA name (2021),Local Authority District code (2024),Local Authority District name (2024),Index of Multiple Deprivation (IMD) Rank (where 1 is most deprived),Index of Multiple Deprivation (IMD) Decile (where 1 is most deprived 10% of LSOAs)";
    let text = format!(
        "{header}\r\nE01004766,Bolton 005A,E08000001,Bolton,\"6,907\",3\r\nE01004767,Bolton 005B,E08000001,Bolton,\"33,756\",10\r\n"
    );
    let bad = write_file(dir.path(), "File_2_-_IoD2025_bad.csv", text);
    let out = r.run([
        Path::new("ingest"),
        Path::new("imd"),
        Path::new("--vintage"),
        Path::new("2025"),
        &bad,
    ]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("error: File_2_-_IoD2025_bad.csv, line 3, column 5 (\"Index of Multiple Deprivation (IMD) Rank (where 1 is most deprived)\"): rank 33756 is outside 1..=33755"),
        "{stderr}"
    );
    let list = r.ok(["warehouse", "list"]);
    assert!(!list.contains("iod-2025"), "{list}");
}

/// IoD2019 domains for all 317 districts: income (average score from the official rates, the
/// income scale from File 6's total population) and health (ranks only: no shared file has
/// the 2019 health score, so its average score stays empty).
#[test]
fn iod2019_income_and_health_domains_match_the_independent_implementation() {
    let Some(root) = shared_data() else { return };
    let dir = temp_dir();
    let r = Renewal::new(&dir.path().join("warehouse"));
    let mut args: Vec<PathBuf> = ["ingest", "imd", "--vintage", "2019"]
        .map(PathBuf::from)
        .into();
    for f in [
        "imd/2019/File_2_-_IoD2019_Domains_of_Deprivation.csv.gz",
        "imd/2019/File_6_-_IoD2019_Population_Denominators.csv",
        "imd/2019/UK_IMD_E.csv",
    ] {
        args.push(shared_file(&root, f));
    }
    r.ok(&args);
    for domain in ["income", "health", "employment", "imd"] {
        let ours = table(
            &r.ok([
                "summary",
                "--vintage",
                "2019",
                "--level",
                "lad",
                "--domain",
                domain,
            ]),
            &domain_header(),
        );
        assert_eq!(ours.rows.len(), 317);
        let checked = assert_same(
            &ours,
            &reference(
                &["--level", "lad", "--vintage", "2019", "--domain", domain],
                &root,
                &domain_header(),
            ),
            &format!("LAD 2019 {domain}"),
        );
        assert!(checked >= 317 * 6, "{domain}: {checked} cells");
        let filled = |name: &str| {
            let c = column(&ours, name);
            ours.rows.values().filter(|r| !r[c].is_empty()).count()
        };
        match domain {
            "income" | "employment" => {
                assert_eq!(filled("scale"), 317);
                assert_eq!(filled("rank_of_scale"), 317);
                assert_eq!(filled("extent"), 0);
            }
            "health" => {
                assert_eq!(filled("average_score"), 0);
                assert_eq!(filled("rank_of_average_rank"), 317);
                assert_eq!(filled("scale"), 0);
            }
            _ => {
                assert_eq!(filled("rank_of_local_concentration"), 317);
                assert_eq!(filled("scale"), 0);
            }
        }
    }

    // Without --domain: today's eleven columns, still the reference's IMD summary.
    let plain = r.ok(["summary", "--vintage", "2019", "--level", "lad"]);
    let plain = table(&plain, SUMMARY_HEADER);
    assert_same(
        &plain,
        &reference(
            &["--level", "lad", "--vintage", "2019"],
            &root,
            SUMMARY_HEADER,
        ),
        "LAD 2019 plain",
    );
}
