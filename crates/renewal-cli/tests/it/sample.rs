//! The README's demo path on the generated sample: sample → ingest → summary → list.

use std::path::{Path, PathBuf};

use renewal_test_support::temp_dir;

use crate::{Renewal, SUMMARY_HEADER, parse_csv};

fn sample_files(dir: &Path) -> (Vec<PathBuf>, PathBuf) {
    let mut iod = Vec::new();
    let mut lookup = None;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if name.starts_with("File_") {
            iod.push(path);
        } else if name.starts_with("Lower_Layer_Super_Output_Area") {
            lookup = Some(path);
        }
    }
    iod.sort();
    assert!(iod.len() >= 3, "sample should have IoD files: {iod:?}");
    (iod, lookup.expect("sample has a lookup"))
}

/// Generates the sample and ingests it; returns the temp dir, the binary and the IoD files.
fn ingested() -> (tempfile::TempDir, Renewal, Vec<PathBuf>) {
    let dir = temp_dir();
    let r = Renewal::new(&dir.path().join("warehouse"));
    let sample = dir.path().join("sample");
    r.ok(["sample", "--out"]
        .map(String::from)
        .into_iter()
        .chain([sample.display().to_string()]));
    let (iod, lookup) = sample_files(&sample);
    let out = r.ok([Path::new("ingest"), Path::new("lookup"), &lookup]);
    assert!(
        out.starts_with("published lookup-lsoa11-wd19 version 1:"),
        "{out}"
    );
    let mut args: Vec<PathBuf> = ["ingest", "imd", "--vintage", "2019"]
        .map(PathBuf::from)
        .into();
    args.extend(iod.iter().cloned());
    let out = r.ok(&args);
    assert!(out.starts_with("published iod-2019 version 1:"), "{out}");
    (dir, r, iod)
}

#[test]
fn sample_ingests_and_summarises() {
    let (_dir, r, iod) = ingested();
    let out = r.run(["summary", "--vintage", "2019", "--level", "lad"]);
    assert!(out.status.success());
    let csv = String::from_utf8(out.stdout).unwrap();
    let (header, rows) = parse_csv(&csv);
    assert_eq!(header.join(","), SUMMARY_HEADER);
    assert_eq!(rows.len(), 2, "{csv}");
    for row in &rows {
        assert_eq!(row.len(), 11);
        // Every figure is present on the sample: it ships scores, ranks and populations. But
        // its LSOAs are a few of the 32,844 its ranks are out of, so ranking its two districts
        // against each other would not be a national rank: those two columns stay empty.
        for (i, cell) in row.iter().enumerate() {
            assert_eq!(
                cell.is_empty(),
                header[i].starts_with("rank_of_"),
                "{}: {row:?}",
                header[i]
            );
        }
    }
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("note: ranks need all 32,844 LSOAs of IoD2019;"),
        "{stderr}"
    );

    let json = r.ok([
        "summary",
        "--vintage",
        "2019",
        "--level",
        "ward",
        "--format",
        "json",
    ]);
    let value: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(value["basis"]["fit"], "best-fit");
    assert_eq!(value["basis"]["datasets"]["iod-2019"], 1);
    assert_eq!(value["basis"]["datasets"]["lookup-lsoa11-wd19"], 1);
    let wards = value["rows"].as_array().unwrap();
    assert!(wards.len() >= 8, "{json}");
    let lsoas: i64 = wards
        .iter()
        .map(|w| w["lsoa_count"].as_i64().unwrap())
        .sum();
    let lad_lsoas: i64 = rows.iter().map(|r| r[2].parse::<i64>().unwrap()).sum();
    assert_eq!(lsoas, lad_lsoas, "every sample LSOA has a ward");

    let table = r.ok([
        "summary",
        "--vintage",
        "2019",
        "--level",
        "lad",
        "--format",
        "table",
    ]);
    assert!(table.contains("| area_code"), "{table}");

    // The same answer as a workbook, read back with openpyxl: the CSV's columns in order, one
    // line per row, every figure the CSV's number (CSV keeps full precision, and so does XLSX).
    let book_path = r.warehouse.with_file_name("summary.xlsx");
    r.ok([
        Path::new("summary"),
        Path::new("--vintage"),
        Path::new("2019"),
        Path::new("--level"),
        Path::new("lad"),
        Path::new("--format"),
        Path::new("xlsx"),
        Path::new("--out"),
        &book_path,
    ]);
    if let Some(book) = crate::openpyxl_cells(&book_path) {
        let sheet = book["sheets"]["Answer"].as_array().unwrap();
        let got: Vec<&str> = sheet[0]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c.as_str().unwrap())
            .collect();
        assert_eq!(got.join(","), SUMMARY_HEADER);
        assert_eq!(sheet.len(), rows.len() + 1);
        for (row, cells) in rows.iter().zip(&sheet[1..]) {
            for (i, cell) in row.iter().enumerate() {
                let x = &cells[i];
                match cell.parse::<f64>() {
                    _ if cell.is_empty() => assert!(x.is_null(), "{}: {x}", header[i]),
                    Ok(v) => assert_eq!(x.as_f64(), Some(v), "{}", header[i]),
                    Err(_) => assert_eq!(x.as_str(), Some(cell.as_str()), "{}", header[i]),
                }
            }
        }
        let notes = book["sheets"]["Notes"].as_array().unwrap();
        assert!(
            notes
                .iter()
                .any(|r| r[0] == "dataset" && r[1] == "iod-2019 version 1"),
            "{notes:?}"
        );
    }

    // Byte-identical sources again: a no-op that says so.
    let mut args: Vec<PathBuf> = ["ingest", "imd", "--vintage", "2019"]
        .map(PathBuf::from)
        .into();
    args.extend(iod.iter().rev().cloned());
    let out = r.ok(&args);
    assert_eq!(
        out.trim(),
        "iod-2019 unchanged: version 1 already holds these exact sources; nothing written"
    );

    let list = r.ok(["warehouse", "list"]);
    assert!(list.contains("iod-2019 v1 (current)"), "{list}");
    assert!(list.contains("lookup-lsoa11-wd19 v1 (current)"), "{list}");
    assert!(list.contains("sha256"), "{list}");
    let manifests: serde_json::Value =
        serde_json::from_str(&r.ok(["warehouse", "list", "--json"])).unwrap();
    assert_eq!(manifests.as_array().unwrap().len(), 2);
}

/// The demo's other families: every sample file ingests with the command the README gives.
#[test]
fn sample_covers_every_dataset_family() {
    let dir = temp_dir();
    let r = Renewal::new(&dir.path().join("warehouse"));
    let sample = dir.path().join("sample");
    r.ok([Path::new("sample"), Path::new("--out"), &sample]);
    let f = |name: &str| sample.join(name).display().to_string();
    let runs = [
        vec![
            "ingest".into(),
            "census".into(),
            f("2021_general_health_lsoa_sample.csv"),
        ],
        vec![
            "ingest".into(),
            "benefits".into(),
            "--period".into(),
            "2021-01".into(),
            f("claimant_count_lsoa_sample.csv"),
        ],
        vec![
            "ingest".into(),
            "benefits".into(),
            f("claimant_rate_la_sample.csv"),
        ],
        vec![
            "ingest".into(),
            "services".into(),
            f("best_value_indicators_sample.csv"),
        ],
    ];
    let mut outputs = String::new();
    for args in runs {
        outputs.push_str(&r.ok(&args));
    }
    // police.uk publishes a file per month: all twelve go in one ingest, as the demo's
    // `2021-*-renewal-vale-street.csv` does.
    let mut months: Vec<PathBuf> = std::fs::read_dir(&sample)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            let name = p.file_name().unwrap().to_string_lossy();
            name.starts_with("2021-") && name.ends_with("-renewal-vale-street.csv")
        })
        .collect();
    months.sort();
    let names: Vec<String> = months
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    let expected: Vec<String> = (1..=12)
        .map(|m| format!("2021-{m:02}-renewal-vale-street.csv"))
        .collect();
    assert_eq!(names, expected);
    let mut args = vec![PathBuf::from("ingest"), PathBuf::from("crime")];
    args.extend(months.iter().cloned());
    outputs.push_str(&r.ok(&args));
    // The crime dataset holds every incident plus one count per month, LSOA and crime type
    // that has any: recount both from the files.
    let (mut incidents, mut cells) = (0, std::collections::BTreeSet::new());
    for path in &months {
        let text = std::fs::read_to_string(path).unwrap();
        for line in text.split("\r\n").skip(1).filter(|l| !l.is_empty()) {
            let fields: Vec<&str> = line.split(',').collect();
            assert_eq!(fields.len(), 12, "{line}");
            incidents += 1;
            if !fields[7].is_empty() {
                cells.insert((
                    fields[1].to_owned(),
                    fields[7].to_owned(),
                    fields[9].to_owned(),
                ));
            }
        }
    }
    let crime = format!(
        "published crime-street version 1: {} rows in 2 tables from 12 files",
        incidents + cells.len()
    );
    for published in [
        "published census-2021-general-health-lsoa-sample version 1: 400 rows",
        "published benefits-claimant-count-lsoa-sample version 1: 80 rows",
        "published benefits-claimant-rate-la-sample version 1: 24 rows",
        // Numerator, denominator and value for 11 wards in 6 financial years, 2014-15 to 2019-20.
        "published services-best-value-indicators-sample version 1: 198 rows",
        &crime,
        "note: 1 crimes have neither an LSOA nor coordinates",
    ] {
        assert!(outputs.contains(published), "{published}\n{outputs}");
    }
    let manifests: serde_json::Value =
        serde_json::from_str(&r.ok(["warehouse", "list", "--json"])).unwrap();
    let crime = manifests
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["dataset"] == "crime-street")
        .expect("crime-street in the warehouse");
    assert_eq!(crime["vintage"]["periods"], "2021-01..2021-12", "{crime}");
}

#[test]
fn failed_ingest_leaves_the_previous_version_current() {
    let (dir, r, iod) = ingested();
    let before = r.ok(["summary", "--vintage", "2019", "--level", "lad"]);

    // Corrupt one population halfway down the sample's File 6.
    let file6 = iod
        .iter()
        .find(|p| p.to_string_lossy().contains("File_6"))
        .expect("sample has File 6");
    let text = std::fs::read_to_string(file6).unwrap();
    let lines: Vec<&str> = text.split("\r\n").collect();
    let half = lines.len() / 2;
    let mut fields: Vec<String> = lines[half].split(',').map(String::from).collect();
    fields[4] = "12x4.00".into();
    let mut broken: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
    broken[half] = fields.join(",");
    let bad = dir
        .path()
        .join("File_6_-_IoD2019_Population_Denominators.csv");
    std::fs::write(&bad, broken.join("\r\n")).unwrap();

    let mut args: Vec<PathBuf> = ["ingest", "imd", "--vintage", "2019"]
        .map(PathBuf::from)
        .into();
    args.extend(iod.iter().filter(|p| *p != file6).cloned());
    args.push(bad);
    let out = r.run(&args);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    let expected = format!(
        "error: File_6_-_IoD2019_Population_Denominators.csv, line {}, column 5 (\"Total population: mid 2015 (excluding prisoners)\"): \"12x4.00\" is not a number",
        half + 1
    );
    assert!(stderr.contains(&expected), "{stderr}");

    let list = r.ok(["warehouse", "list"]);
    assert!(list.contains("iod-2019 v1 (current)"), "{list}");
    assert!(!list.contains("iod-2019 v2"), "{list}");
    assert_eq!(
        r.ok(["summary", "--vintage", "2019", "--level", "lad"]),
        before
    );
}

#[test]
fn warehouse_option_before_or_after_the_subcommand() {
    let dir = temp_dir();
    let r = Renewal::new(&dir.path().join("unused"));
    let wh = dir.path().join("wh");
    for args in [
        vec!["--warehouse", wh.to_str().unwrap(), "warehouse", "list"],
        vec!["warehouse", "list", "--warehouse", wh.to_str().unwrap()],
    ] {
        let out = r.ok(&args);
        assert!(out.starts_with("the warehouse at file://"), "{out}");
        assert!(out.contains("/wh/ is empty"), "{out}");
    }
    let out = r.run(["summary", "--vintage", "2019", "--level", "lad"]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("no warehouse at"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn help_everywhere() {
    let r = Renewal::new(Path::new("unused"));
    for args in [
        vec!["--help"],
        vec!["ingest", "--help"],
        vec!["ingest", "imd", "--help"],
        vec!["ingest", "lookup", "--help"],
        vec!["summary", "--help"],
        vec!["warehouse", "list", "--help"],
        vec!["sample", "--help"],
    ] {
        let out = r.ok(&args);
        assert!(out.contains("Usage: renewal"), "{args:?}: {out}");
    }
}

#[test]
fn sample_is_deterministic() {
    let dir = temp_dir();
    let r = Renewal::new(&dir.path().join("wh"));
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    for out in [&a, &b] {
        r.ok([Path::new("sample"), Path::new("--out"), out]);
    }
    let mut names: Vec<PathBuf> = std::fs::read_dir(&a)
        .unwrap()
        .map(|e| PathBuf::from(e.unwrap().file_name()))
        .collect();
    // Files in the sample's folders (spend/) are compared too.
    for folder in names.clone() {
        if a.join(&folder).is_dir() {
            names.retain(|n| n != &folder);
            for e in std::fs::read_dir(a.join(&folder)).unwrap() {
                names.push(folder.join(e.unwrap().file_name()));
            }
        }
    }
    names.sort();
    assert!(!names.is_empty());
    for n in names {
        assert_eq!(
            std::fs::read(a.join(&n)).unwrap(),
            std::fs::read(b.join(&n)).unwrap(),
            "{n:?}"
        );
    }
}

#[test]
fn refresh_reports_each_dataset_and_exits_with_documented_codes() {
    let dir = temp_dir();
    let r = Renewal::new(&dir.path().join("warehouse"));
    let sample = dir.path().join("sample");
    r.ok([Path::new("sample"), Path::new("--out"), &sample]);
    std::fs::write(dir.path().join("empty.csv"), "").unwrap();
    let sources = dir.path().join("sources.toml");
    std::fs::write(
        &sources,
        "[[dataset]]\nid = \"iod-2019\"\nkind = \"imd\"\nvintage = \"2019\"\nlocation = \"sample/File_*\"\n\n\
         [[dataset]]\nid = \"census-empty\"\nkind = \"census\"\nlocation = \"empty.csv\"\n",
    )
    .unwrap();
    let args = |extra: &[&str]| {
        let mut a = vec![
            "refresh".to_owned(),
            "--sources".into(),
            sources.display().to_string(),
        ];
        a.extend(extra.iter().map(|s| s.to_string()));
        a
    };
    let out = r.run(args(&[]));
    assert_eq!(
        out.status.code(),
        Some(1),
        "a failed dataset makes the run fail"
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert!(lines[0].starts_with("iod-2019: refreshed "), "{stdout}");
    assert_eq!(
        lines[1],
        "census-empty: failed: empty.csv: the file is empty"
    );

    let out = r.run(args(&["--only", "iod-2019", "--json"]));
    assert_eq!(out.status.code(), Some(0));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["failed"], 0);
    assert_eq!(json["datasets"][0]["dataset"], "iod-2019");
    assert_eq!(json["datasets"][0]["status"], "unchanged");
    assert_eq!(json["datasets"][0]["version"], 1);

    // A lock file left by a dead refresh blocks nothing: the lock is an OS advisory lock held
    // by a live process (exit 3 while one holds it is tested in crash.rs with a real holder).
    std::fs::write(dir.path().join("warehouse/_refresh/lock"), "99").unwrap();
    let out = r.run(args(&[]));
    assert_eq!(
        out.status.code(),
        Some(1),
        "a stale lock file must not stop the run: {}",
        String::from_utf8_lossy(&out.stderr)
    );

    let out = r.run(["refresh", "--sources", "/nonexistent/sources.toml"]);
    assert_ne!(out.status.code(), Some(0));
}
