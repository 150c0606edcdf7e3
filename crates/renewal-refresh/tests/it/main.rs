//! The refresh job end to end on a temporary warehouse: local files, a local HTTP server on
//! 127.0.0.1, failures that stay contained, and the lock.

#![allow(clippy::unwrap_used)] // tests: a panic is the failure report

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use renewal_refresh::{RefreshError, RefreshOptions, SourcesFile, Status, refresh};
use renewal_schema::Catalog;
use renewal_test_support::{shared_data, temp_dir, write_file};
use renewal_warehouse::Warehouse;

struct Setup {
    _dir: tempfile::TempDir,
    root: PathBuf,
    warehouse: Warehouse,
}

fn setup() -> Setup {
    let dir = temp_dir();
    let root = dir.path().to_owned();
    renewal_sample::write_sample(&root.join("sample"), &renewal_sample::SampleSpec::default())
        .unwrap();
    let warehouse = Warehouse::open_local(&root.join("warehouse")).unwrap();
    Setup {
        _dir: dir,
        root,
        warehouse,
    }
}

const SAMPLE_SOURCES: &str = r#"
[[dataset]]
id = "iod-2019"
kind = "imd"
vintage = "2019"
location = "sample/File_*"

[[dataset]]
id = "lookup-lsoa11-wd19"
kind = "lookup"
location = ["sample/Lower_Layer_Super_Output_Area_*.csv"]
"#;

fn sources(root: &Path, text: &str) -> SourcesFile {
    SourcesFile::load(&write_file(root, "sources.toml", text)).unwrap()
}

async fn run(s: &Setup, file: &SourcesFile, options: RefreshOptions) -> Vec<(String, Status)> {
    refresh(&s.warehouse, &Catalog::embedded().unwrap(), file, &options)
        .await
        .unwrap()
        .into_iter()
        .map(|o| (o.dataset, o.status))
        .collect()
}

#[tokio::test]
async fn refreshes_changed_sources_only() {
    let s = setup();
    let file = sources(&s.root, SAMPLE_SOURCES);
    let first = run(&s, &file, RefreshOptions::default()).await;
    assert!(
        matches!(&first[..], [(a, Status::Refreshed { version: 1, .. }), (b, Status::Refreshed { version: 1, .. })] if a == "iod-2019" && b == "lookup-lsoa11-wd19"),
        "{first:?}"
    );
    let second = run(&s, &file, RefreshOptions::default()).await;
    assert_eq!(
        second,
        [
            ("iod-2019".into(), Status::Unchanged { version: 1 }),
            (
                "lookup-lsoa11-wd19".into(),
                Status::Unchanged { version: 1 }
            ),
        ]
    );

    // A new edition of one file: a dry run says so and changes nothing; a real run publishes.
    renewal_sample::write_sample(
        &s.root.join("sample"),
        &renewal_sample::SampleSpec { seed: 7 },
    )
    .unwrap();
    let only = |dry_run| RefreshOptions {
        only: Some("iod-2019".into()),
        dry_run,
    };
    assert_eq!(
        run(&s, &file, only(true)).await,
        [("iod-2019".into(), Status::WouldRefresh)]
    );
    assert_eq!(
        s.warehouse
            .current("iod-2019")
            .await
            .unwrap()
            .unwrap()
            .version,
        1
    );
    let third = run(&s, &file, only(false)).await;
    assert!(
        matches!(&third[..], [(_, Status::Refreshed { version: 2, .. })]),
        "{third:?}"
    );
}

#[tokio::test]
async fn a_failing_dataset_does_not_stop_the_others() {
    let s = setup();
    write_file(&s.root, "broken.csv", "");
    let text = format!(
        "{SAMPLE_SOURCES}\n[[dataset]]\nid = \"census-broken\"\nkind = \"census\"\nlocation = \"broken.csv\"\n\
         \n[[dataset]]\nid = \"census-missing\"\nkind = \"census\"\nlocation = \"nowhere/*.csv\"\n"
    );
    let file = sources(&s.root, &text);
    let got = run(&s, &file, RefreshOptions::default()).await;
    assert!(matches!(got[0].1, Status::Refreshed { .. }));
    assert!(matches!(got[1].1, Status::Refreshed { .. }));
    assert_eq!(
        got[2].1,
        Status::Failed {
            reason: "broken.csv: the file is empty".into()
        }
    );
    assert!(
        matches!(&got[3].1, Status::Failed { reason } if reason.contains("nowhere")),
        "{got:?}"
    );
    assert!(
        s.warehouse
            .current("census-broken")
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn expected_hashes_are_enforced() {
    let s = setup();
    let text = SAMPLE_SOURCES.replace(
        "location = [\"sample/Lower_Layer_Super_Output_Area_*.csv\"]",
        "location = [\"sample/Lower_Layer_Super_Output_Area_*.csv\"]\nsha256 = { \"Lower_Layer_Super_Output_Area_(2011)_to_Ward_(2019)_Lookup_in_England_and_Wales.csv\" = \"00\" }",
    );
    let got = run(&s, &sources(&s.root, &text), RefreshOptions::default()).await;
    assert!(
        matches!(&got[1].1, Status::Failed { reason } if reason.contains("but sources.toml expects 00")),
        "{got:?}"
    );
}

/// A lock file left by a refresh that was killed (here: a pid that holds no lock) blocks
/// nothing: the lock is the OS's, not the file's existence.
#[tokio::test]
async fn a_stale_lock_file_blocks_nothing() {
    let s = setup();
    std::fs::create_dir_all(s.root.join("warehouse/_refresh")).unwrap();
    std::fs::write(s.root.join("warehouse/_refresh/lock"), "4242").unwrap();
    let got = run(
        &s,
        &sources(&s.root, SAMPLE_SOURCES),
        RefreshOptions::default(),
    )
    .await;
    assert!(
        got.iter()
            .all(|(_, st)| matches!(st, Status::Refreshed { .. })),
        "{got:?}"
    );
    // The file stays (deleting a locked file would race) and names the last holder.
    assert_eq!(
        std::fs::read_to_string(s.root.join("warehouse/_refresh/lock")).unwrap(),
        std::process::id().to_string()
    );
}

/// While one refresh runs (blocked fetching from a server that accepts and never answers),
/// another is refused with the holder's pid; once the first ends, the next one runs.
#[test]
fn one_refresh_at_a_time() {
    let s = setup();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/File_2.csv", listener.local_addr().unwrap());
    let slow = format!(
        "[[dataset]]\nid = \"iod-2019\"\nkind = \"imd\"\nvintage = \"2019\"\nlocation = \"{url}\"\n"
    );
    let slow = sources(&s.root, &slow);
    let runtime = || {
        tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .unwrap()
    };
    let warehouse = s.warehouse.clone();
    let first = std::thread::spawn(move || {
        runtime().block_on(refresh(
            &warehouse,
            &Catalog::embedded().unwrap(),
            &slow,
            &RefreshOptions::default(),
        ))
    });
    // The first refresh has connected, so it holds the lock (taken before any fetch).
    let (connection, _) = listener.accept().unwrap();
    let file = SourcesFile::load(&write_file(&s.root, "local.toml", SAMPLE_SOURCES)).unwrap();
    let err = runtime()
        .block_on(refresh(
            &s.warehouse,
            &Catalog::embedded().unwrap(),
            &file,
            &RefreshOptions::default(),
        ))
        .unwrap_err();
    assert!(
        matches!(&err, RefreshError::Locked { pid, .. } if *pid == std::process::id().to_string()),
        "{err}"
    );
    assert!(
        err.to_string().contains("released when that process exits"),
        "{err}"
    );
    // Hang up on the first: its fetch fails, it ends, and its lock goes with it.
    drop(connection);
    let outcomes = first.join().unwrap().unwrap();
    assert!(outcomes[0].failed(), "{outcomes:?}");
    let got = runtime()
        .block_on(refresh(
            &s.warehouse,
            &Catalog::embedded().unwrap(),
            &file,
            &RefreshOptions::default(),
        ))
        .unwrap();
    assert!(got.iter().all(|o| !o.failed()), "{got:?}");
}

/// A minimal HTTP/1.1 file server on 127.0.0.1 that honours If-None-Match and records the
/// status of every response.
fn serve(dir: PathBuf) -> (String, Arc<Mutex<Vec<u16>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let log = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&log);
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut request_line = String::new();
            reader.read_line(&mut request_line).unwrap();
            let mut if_none_match = None;
            loop {
                let mut line = String::new();
                reader.read_line(&mut line).unwrap();
                if line.trim().is_empty() {
                    break;
                }
                if let Some((k, v)) = line.split_once(':')
                    && k.eq_ignore_ascii_case("if-none-match")
                {
                    if_none_match = Some(v.trim().to_owned());
                }
            }
            let path = request_line.split_whitespace().nth(1).unwrap_or("/");
            let file = dir.join(path.trim_start_matches('/'));
            let (status, body, etag) = match std::fs::File::open(&file) {
                Ok(mut f) => {
                    let mut body = Vec::new();
                    f.read_to_end(&mut body).unwrap();
                    let etag = format!("\"{}\"", body.len());
                    if if_none_match.as_deref() == Some(etag.as_str()) {
                        (304, Vec::new(), etag)
                    } else {
                        (200, body, etag)
                    }
                }
                Err(_) => (404, Vec::new(), String::new()),
            };
            seen.lock().unwrap().push(status);
            let head = format!(
                "HTTP/1.1 {status} X\r\nContent-Length: {}\r\nETag: {etag}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let _ = stream.write_all(head.as_bytes());
            let _ = stream.write_all(&body);
        }
    });
    (base, log)
}

#[tokio::test]
async fn http_sources_are_revalidated_with_etags() {
    let Some(shared) = shared_data() else { return };
    let s = setup();
    let (base, log) = serve(shared);
    let text = format!(
        "[[dataset]]\nid = \"iod-2019\"\nkind = \"imd\"\nvintage = \"2019\"\n\
         location = \"{base}/imd/2019/File_6_-_IoD2019_Population_Denominators.csv\"\n\
         \n[[dataset]]\nid = \"services-asc\"\nkind = \"services\"\n\
         location = \"{base}/service-performance/oflog_ASC_data.csv\"\n\
         \n[[dataset]]\nid = \"census-missing\"\nkind = \"census\"\nlocation = \"{base}/nope.csv\"\n"
    );
    let file = sources(&s.root, &text);
    let first = run(&s, &file, RefreshOptions::default()).await;
    assert!(
        matches!(first[0].1, Status::Refreshed { version: 1, rows } if rows == 32844 * 5 + 32844),
        "{first:?}"
    );
    assert!(
        matches!(first[1].1, Status::Refreshed { version: 1, .. }),
        "{first:?}"
    );
    assert!(
        matches!(&first[2].1, Status::Failed { reason } if reason.ends_with("HTTP 404")),
        "{first:?}"
    );
    assert_eq!(*log.lock().unwrap(), [200, 200, 404]);
    let manifest = s.warehouse.current("iod-2019").await.unwrap().unwrap();
    assert_eq!(
        manifest.sources[0].name,
        "File_6_-_IoD2019_Population_Denominators.csv"
    );

    let second = run(&s, &file, RefreshOptions::default()).await;
    assert_eq!(second[0].1, Status::Unchanged { version: 1 });
    assert_eq!(second[1].1, Status::Unchanged { version: 1 });
    assert_eq!(*log.lock().unwrap(), [200, 200, 404, 304, 304, 404]);
}

/// Boundary files are inputs: crimes placed by them refresh when they change, not otherwise.
#[tokio::test]
async fn crime_placed_in_boundaries_refreshes_when_boundaries_change() {
    let Some(shared) = shared_data() else { return };
    let s = setup();
    let crime = shared.join("crime/2021-01-south-yorkshire-street.csv");
    let wards = |districts: &[&str]| {
        districts
            .iter()
            .map(|d| {
                let p = shared.join(format!("geography/wards2013_E080000{d}.json"));
                format!("{:?}", p.display().to_string())
            })
            .collect::<Vec<_>>()
            .join(", ")
    };
    let entry = |districts: &[&str]| {
        format!(
            "[[dataset]]\nid = \"crime-sy\"\nkind = \"crime\"\nlocation = {:?}\n\
             boundaries = [{}]\nassign_all = true\n",
            crime.display().to_string(),
            wards(districts)
        )
    };
    let all = sources(&s.root, &entry(&["16", "17", "18", "19"]));
    let first = run(&s, &all, RefreshOptions::default()).await;
    assert!(
        matches!(first[0].1, Status::Refreshed { version: 1, .. }),
        "{first:?}"
    );
    let manifest = s.warehouse.current("crime-sy").await.unwrap().unwrap();
    assert_eq!(manifest.attributes["assigned_to"], "WD13");
    assert!(
        manifest
            .notes
            .iter()
            .any(|n| n.starts_with("12034 crimes placed in WD13 areas")),
        "{:?}",
        manifest.notes
    );
    assert_eq!(
        run(&s, &all, RefreshOptions::default()).await[0].1,
        Status::Unchanged { version: 1 }
    );

    // Without Sheffield's wards, fewer crimes find a ward: a new version.
    let three = sources(&s.root, &entry(&["16", "17", "18"]));
    let second = run(&s, &three, RefreshOptions::default()).await;
    assert!(
        matches!(second[0].1, Status::Refreshed { version: 2, .. }),
        "{second:?}"
    );
    let manifest = s.warehouse.current("crime-sy").await.unwrap().unwrap();
    assert!(
        !manifest
            .notes
            .iter()
            .any(|n| n.starts_with("12034 crimes placed")),
        "{:?}",
        manifest.notes
    );

    let bad = write_file(
        &s.root,
        "bad.toml",
        "[[dataset]]\nid = \"x\"\nkind = \"census\"\nlocation = \"a.csv\"\nboundaries = \"w.json\"\n",
    );
    let err = SourcesFile::load(&bad).unwrap_err().to_string();
    assert!(err.contains("apply to kind crime only"), "{err}");
}

#[tokio::test]
async fn population_files_refresh_as_one_dataset() {
    let Some(data) = shared_data() else { return };
    let dir = temp_dir();
    let root = dir.path().to_owned();
    let s = Setup {
        warehouse: Warehouse::open_local(&root.join("warehouse")).unwrap(),
        root,
        _dir: dir,
    };
    let glob = data.join("population/trafford_mid-202?_population_lsoa21.csv");
    let file = sources(
        &s.root,
        &format!(
            "[[dataset]]\nid = \"population-trafford\"\nkind = \"population\"\nlocation = {:?}\n",
            glob.display().to_string()
        ),
    );
    let first = run(&s, &file, RefreshOptions::default()).await;
    // 139 LSOAs x 2 years (mid-2022, mid-2024) x 3 sexes x 7 bands.
    assert_eq!(
        first,
        [(
            "population-trafford".into(),
            Status::Refreshed {
                version: 1,
                rows: 139 * 2 * 3 * 7
            }
        )]
    );
    let manifest = s
        .warehouse
        .current("population-trafford")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(manifest.kind, "population");
    assert_eq!(manifest.attributes["years"], "2022,2024");
    assert_eq!(manifest.sources.len(), 2);
    let second = run(&s, &file, RefreshOptions::default()).await;
    assert_eq!(
        second,
        [(
            "population-trafford".into(),
            Status::Unchanged { version: 1 }
        )]
    );
}
