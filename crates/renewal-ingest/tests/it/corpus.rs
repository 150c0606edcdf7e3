//! The hostile-input corpus: every file under `tests/corpus/` is a case in
//! `tests/corpus/cases.toml`, which names how the file is ingested and the error it must give
//! (or, for formula-like text, that it is kept verbatim). The biggest inputs — multi-gigabyte
//! gzip and zip bombs, a ten-million-column header — are generated here instead of committed.
//!
//! Each case runs as the CLI does (read, then publish what was read) against one warehouse
//! that already holds a version of every dataset the readers write; the warehouse's files must
//! be byte-for-byte the same afterwards.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use renewal_ingest::{
    CrimeOptions, IngestError, NoProgress, ObservationOptions, PopulationOptions, read_crime,
    read_iod, read_lookups, read_observations, read_population,
};
use renewal_test_support::{temp_dir, workspace_root, write_file};
use renewal_warehouse::{Draft, PublishOptions, Warehouse};
use serde::Deserialize;

use crate::catalog;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Cases {
    case: Vec<Case>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    /// Path under `tests/corpus/`; for a generated case, the name it is written under.
    file: String,
    /// `iod-2019`, `lookup`, `benefits`, `crime`, `population` or `manifest`.
    ingest: String,
    /// What the error message must contain; absent when the input must ingest.
    error: Option<String>,
    /// Texts that must come out of the warehouse exactly as they went in.
    #[serde(default)]
    keeps: Vec<String>,
    /// Built by [`generate`] rather than committed.
    generate: Option<String>,
    /// What the case is about, for a reader of cases.toml.
    #[allow(dead_code)]
    why: String,
}

fn corpus_dir() -> PathBuf {
    workspace_root().join("tests/corpus")
}

fn cases() -> Vec<Case> {
    let text = std::fs::read_to_string(corpus_dir().join("cases.toml")).unwrap();
    toml::from_str::<Cases>(&text).unwrap().case
}

/// Files that are the corpus's own machinery, not inputs.
const NOT_CASES: &[&str] = &["cases.toml", "make.py", "README.md"];

fn corpus_files(dir: &Path, root: &Path, out: &mut Vec<String>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            corpus_files(&path, root, out);
        } else {
            let rel = path
                .strip_prefix(root)
                .unwrap()
                .to_string_lossy()
                .into_owned();
            if !NOT_CASES.contains(&rel.as_str()) {
                out.push(rel);
            }
        }
    }
}

#[test]
fn every_corpus_file_is_exactly_one_case() {
    let root = corpus_dir();
    let mut files = Vec::new();
    corpus_files(&root, &root, &mut files);
    let cases = cases();
    let mut named: BTreeMap<&str, usize> = BTreeMap::new();
    for case in &cases {
        *named.entry(case.file.as_str()).or_default() += 1;
        assert!(
            case.error.is_some() == case.keeps.is_empty(),
            "{}: a case expects an error or keeps texts, not both or neither",
            case.file
        );
    }
    for file in &files {
        assert_eq!(
            named.get(file.as_str()),
            Some(&1),
            "{file} must be one case"
        );
    }
    for case in cases.iter().filter(|c| c.generate.is_none()) {
        assert!(
            files.contains(&case.file),
            "{} is not in tests/corpus",
            case.file
        );
    }
    assert!(cases.len() >= 50, "only {} cases", cases.len());
}

/// The small change lookup the vintage cases are read against: E01000002 split in 2021 into
/// E01040001 and E01040002; E01000001 unchanged.
fn bridge() -> std::sync::Arc<renewal_geo::bridge::Bridge> {
    std::sync::Arc::new(renewal_geo::bridge::Bridge::new(
        "LSOA11".parse().unwrap(),
        "LSOA21".parse().unwrap(),
        [
            ("E01000001", "E01000001"),
            ("E01000002", "E01040001"),
            ("E01000002", "E01040002"),
        ],
    ))
}

fn ingest(kind: &str, path: &Path) -> Result<Vec<Draft>, IngestError> {
    let files = [path.to_owned()];
    let cat = catalog();
    match kind {
        "iod-2019" => read_iod(&cat, "2019", &files, &NoProgress).map(|d| vec![d]),
        "lookup" => read_lookups(&cat, &files, &NoProgress),
        "benefits" => read_observations(
            &cat,
            "benefits",
            &files,
            &ObservationOptions {
                dataset: None,
                period: Some("2024-01".into()),
                bridge: Some(bridge()),
            },
            &NoProgress,
        ),
        "crime" => read_crime(
            &cat,
            &files,
            &CrimeOptions {
                bridge: Some(bridge()),
                ..Default::default()
            },
            &NoProgress,
        )
        .map(|d| vec![d]),
        "population" => read_population(&cat, &files, &PopulationOptions::default(), &NoProgress)
            .map(|d| vec![d]),
        other => panic!("unknown ingest {other:?} in cases.toml"),
    }
}

/// Every file under the warehouse root with its bytes: what "unchanged" compares.
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                out.insert(path.clone(), std::fs::read(&path).unwrap());
            }
        }
    }
    out
}

/// Good inputs of every kind, published first so each case has a prior version to damage.
fn prior_warehouse(dir: &Path, rt: &tokio::runtime::Runtime) -> Warehouse {
    let warehouse = Warehouse::open_local(dir).unwrap();
    let inputs = temp_dir();
    let good = [
        ("iod-2019", "good-iod.csv", GOOD_IOD),
        ("lookup", "good-lookup.csv", GOOD_LOOKUP),
        ("benefits", "good-benefits.csv", GOOD_BENEFITS),
        ("crime", "good-crime.csv", GOOD_CRIME),
    ];
    for (kind, name, text) in good {
        let path = write_file(inputs.path(), name, text);
        for draft in ingest(kind, &path).unwrap() {
            rt.block_on(warehouse.publish(draft, PublishOptions::default()))
                .unwrap();
        }
    }
    // A dataset of its own for the planted manifests.
    let mut df = polars::df!("a" => ["x"]).unwrap();
    let draft = Draft {
        dataset: "corpus-prior".into(),
        kind: "corpus".into(),
        vintage: Default::default(),
        attributes: Default::default(),
        sources: vec![],
        schemas: vec![],
        tables: vec![renewal_warehouse::DraftTable {
            name: "t".into(),
            parquet: renewal_ingest::frame::to_parquet(&mut df).unwrap(),
        }],
        notes: vec![],
    };
    rt.block_on(warehouse.publish(draft, PublishOptions::default()))
        .unwrap();
    warehouse
}

const GOOD_IOD: &str = "LSOA code (2011),LSOA name (2011),Local Authority District code (2019),Local Authority District name (2019),Index of Multiple Deprivation (IMD) Rank (where 1 is most deprived),Total population: mid 2015 (excluding prisoners)\nE01000001,Vale 001A,E08999001,Renewal Vale,101,1501\n";
const GOOD_LOOKUP: &str = "FID,LSOA11CD,LSOA11NM,WD19CD,WD19NM,LAD19CD,LAD19NM\n1,E01000001,Vale 001A,E05999001,Ward One,E08999001,Renewal Vale\n";
const GOOD_BENEFITS: &str = "lsoa11cd,lsoa11nm,measure,value\nE01000001,Vale 001A,Residents claiming JSA or Universal Credit,5\n";
const GOOD_CRIME: &str = "Crime ID,Month,Reported by,Falls within,Longitude,Latitude,Location,LSOA code,LSOA name,Crime type,Last outcome category,Context\n,2024-01,Force,Force,,,On or near X,E01000001,Name,Burglary,,\n";

/// Runs one case against the warehouse: its error message, or the drafts it published.
fn run(
    case: &Case,
    path: &Path,
    warehouse: &Warehouse,
    rt: &tokio::runtime::Runtime,
) -> Result<Vec<Draft>, String> {
    if case.ingest == "manifest" {
        // Planted as the next version of corpus-prior; readers must refuse to use it.
        let root = warehouse.local_root().unwrap();
        let target = root.join("corpus-prior/_versions/00000000000000000002.json");
        std::fs::copy(path, &target).unwrap();
        let read = rt.block_on(async {
            let current = warehouse.current("corpus-prior").await.map(|_| ());
            let listed = warehouse.versions("corpus-prior").await.map(|_| ());
            current.and(listed)
        });
        std::fs::remove_file(&target).unwrap();
        return match read {
            Ok(()) => Ok(vec![]),
            Err(e) => Err(e.to_string()),
        };
    }
    let drafts = ingest(&case.ingest, path).map_err(|e| e.to_string())?;
    for draft in &drafts {
        rt.block_on(warehouse.publish(draft.clone(), PublishOptions::default()))
            .map_err(|e| e.to_string())?;
    }
    Ok(drafts)
}

/// Every text cell of every table of the drafts.
fn texts(drafts: &[Draft]) -> Vec<String> {
    let mut out = Vec::new();
    for draft in drafts {
        for table in &draft.tables {
            let df = crate::table(draft, &table.name);
            for column in df.columns() {
                if let Ok(s) = column.str() {
                    out.extend((0..s.len()).filter_map(|i| s.get(i)).map(str::to_owned));
                }
            }
        }
    }
    out
}

#[test]
fn every_case_fails_cleanly_or_keeps_its_text_and_a_failure_changes_nothing() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let generated = temp_dir();
    let mut failures = Vec::new();
    for case in cases() {
        // A fresh prior warehouse per ok case (it changes); failing cases share one.
        let wdir = temp_dir();
        let warehouse = prior_warehouse(wdir.path(), &rt);
        let path = match &case.generate {
            Some(kind) => generate(kind, &generated.path().join(&case.file)),
            None => corpus_dir().join(&case.file),
        };
        let before = snapshot(wdir.path());
        let outcome = run(&case, &path, &warehouse, &rt);
        let after = snapshot(wdir.path());
        let name = Path::new(&case.file)
            .file_name()
            .unwrap()
            .to_string_lossy()
            .into_owned();
        match (&case.error, outcome) {
            (Some(expected), Err(message)) => {
                let names_file = case.ingest == "manifest" || message.contains(&name);
                if !message.contains(expected.as_str()) || !names_file {
                    failures.push(format!("{}: got {message:?}", case.file));
                }
                if before != after {
                    failures.push(format!("{}: the warehouse changed", case.file));
                }
            }
            (Some(_), Ok(_)) => {
                failures.push(format!("{}: ingested, expected an error", case.file))
            }
            (None, Err(message)) => failures.push(format!("{}: {message}", case.file)),
            (None, Ok(drafts)) => {
                let got = texts(&drafts);
                for keep in &case.keeps {
                    if !got.contains(keep) {
                        failures.push(format!("{}: {keep:?} did not come out verbatim", case.file));
                    }
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} failing cases:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// Writes a generated hostile input to `path` and returns it.
fn generate(kind: &str, path: &Path) -> PathBuf {
    let bytes = match kind {
        // 4 GiB of newlines in about 4 MB: one deflate stream whose byte-aligned chunk (1 MiB
        // of newlines) is repeated, valid because each chunk only refers back into newlines.
        "gzip-bomb" => {
            let mut out = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff];
            out.extend(deflate_bomb(b'\n', 4096));
            out.extend([0; 8]); // CRC and size: never reached, the reader stops long before
            out
        }
        // An XLSX whose sheet inflates to 4 GiB of spaces, its zip headers honest about it.
        "xlsx-bomb" => zip(&[
            ("[Content_Types].xml", b"<Types/>".to_vec(), 8),
            (
                "xl/worksheets/sheet1.xml",
                deflate_bomb(b' ', 4095),
                4095 << 20,
            ),
        ]),
        // The same bomb with zip headers claiming a 100-byte sheet: only bytes produced count.
        "xlsx-lying-bomb" => zip(&[("xl/worksheets/sheet1.xml", deflate_bomb(b' ', 4095), 100)]),
        "header-10m-columns" => {
            let mut s = "x,".repeat(10_000_000);
            s.push('\n');
            s.into_bytes()
        }
        "row-17k-columns" => format!(
            "LSOA code (2011),LSOA name (2011)\nE01000001{}\n",
            ",1".repeat(17_000)
        )
        .into_bytes(),
        other => panic!("unknown generator {other:?}"),
    };
    std::fs::File::create(path)
        .and_then(|mut f| f.write_all(&bytes))
        .unwrap();
    path.to_owned()
}

/// A raw deflate stream of `mib` MiB of `byte`, built from one compressed MiB repeated.
fn deflate_bomb(byte: u8, mib: usize) -> Vec<u8> {
    let mut compress = flate2::Compress::new(flate2::Compression::best(), false);
    let input = vec![byte; 1 << 20];
    let mut chunk = Vec::with_capacity(4 << 10);
    compress
        .compress_vec(&input, &mut chunk, flate2::FlushCompress::Sync)
        .unwrap();
    assert!(compress.total_in() == 1 << 20, "chunk not consumed");
    let mut out = Vec::with_capacity(chunk.len() * mib + 2);
    for _ in 0..mib {
        out.extend_from_slice(&chunk);
    }
    out.extend([0x03, 0x00]); // an empty final block
    out
}

/// A minimal zip archive of deflated entries: (name, deflate data, claimed size).
fn zip(entries: &[(&str, Vec<u8>, u64)]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut central = Vec::new();
    for (name, data, size) in entries {
        // The one stored entry ([Content_Types].xml) is short and written plain.
        let (method, data): (u16, Vec<u8>) = if name.ends_with("Types].xml") {
            (0, data.clone())
        } else {
            (8, data.clone())
        };
        let offset = out.len() as u32;
        let header = |sig: u32, central: bool| {
            let mut h = Vec::new();
            h.extend(sig.to_le_bytes());
            if central {
                h.extend(20u16.to_le_bytes());
            }
            h.extend(20u16.to_le_bytes());
            h.extend(0u16.to_le_bytes());
            h.extend(method.to_le_bytes());
            h.extend([0u8; 4]); // time, date
            let crc = if method == 0 { crc32(&data) } else { 0 };
            h.extend(crc.to_le_bytes());
            h.extend((data.len() as u32).to_le_bytes());
            h.extend((*size as u32).to_le_bytes());
            h.extend((name.len() as u16).to_le_bytes());
            h.extend(0u16.to_le_bytes());
            if central {
                h.extend([0u8; 6]); // comment length, disk, internal attributes
                h.extend([0u8; 4]); // external attrs
                h.extend(offset.to_le_bytes());
            }
            h.extend(name.as_bytes());
            h
        };
        out.extend(header(0x0403_4b50, false));
        out.extend(&data);
        central.extend(header(0x0201_4b50, true));
    }
    let central_offset = out.len() as u32;
    out.extend(&central);
    out.extend(0x0605_4b50u32.to_le_bytes());
    out.extend([0u8; 4]);
    out.extend((entries.len() as u16).to_le_bytes());
    out.extend((entries.len() as u16).to_le_bytes());
    out.extend((central.len() as u32).to_le_bytes());
    out.extend(central_offset.to_le_bytes());
    out.extend(0u16.to_le_bytes());
    out
}

fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}
