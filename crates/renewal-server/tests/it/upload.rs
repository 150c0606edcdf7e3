//! Partners' uploads through the `Ingest` service, end to end over gRPC: publish, unchanged
//! retry, new bytes, bad input with its location, scopes, limits, file names, several files
//! with boundaries, and the Analysis service answering from the uploaded version.

use std::path::{Path, PathBuf};

use renewal_query::Engine;
use renewal_schema::Catalog;
use renewal_server::pb::ingest_client::IngestClient;
use renewal_server::pb::upload_chunk::Part;
use renewal_server::{Running, ServerConfig, hash_key, pb};
use sha2::Digest as _;
use tonic::Code;
use tonic::transport::Channel;

use crate::{Fixture, VALE, authed, channel, clients, collect, fixture};

const GMP_KEY: &str = "gmp-etl-key";
const SALFORD_KEY: &str = "salford-etl-key";
const READER_KEY: &str = "reader-key";
const WRITER_KEY: &str = "writer-no-ingest-key";

/// Keys: GMP owns namespace `gmp`, Salford `salford`; a reader and a writer own none.
fn upload_keys(dir: &Path) -> PathBuf {
    let path = dir.join("upload-keys.toml");
    std::fs::write(
        &path,
        format!(
            "[[key]]\npartner = \"GMP\"\nsha256 = \"{}\"\ningest = [\"gmp\"]\n\n\
             [[key]]\npartner = \"Salford\"\nsha256 = \"{}\"\ningest = [\"salford\"]\n\n\
             [[key]]\npartner = \"Reader\"\nsha256 = \"{}\"\n\n\
             [[key]]\npartner = \"Writer\"\nsha256 = \"{}\"\nwrite = true\n",
            hash_key(GMP_KEY),
            hash_key(SALFORD_KEY),
            hash_key(READER_KEY),
            hash_key(WRITER_KEY)
        ),
    )
    .unwrap();
    path
}

/// The built-in schemas plus one indicator over GMP's uploads (`partner-gmp-*`), as a partner
/// deployment would add it.
fn catalog_with_gmp_indicator(dir: &Path) -> Catalog {
    fn copy(from: &Path, to: &Path) {
        std::fs::create_dir_all(to).unwrap();
        for e in std::fs::read_dir(from).unwrap() {
            let e = e.unwrap();
            let target = to.join(e.file_name());
            if e.file_type().unwrap().is_dir() {
                copy(&e.path(), &target);
            } else {
                std::fs::copy(e.path(), target).unwrap();
            }
        }
    }
    let schemas = dir.join("schemas");
    copy(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data-schemas"),
        &schemas,
    );
    std::fs::write(
        schemas.join("indicators/gmp-homes.toml"),
        r#"id = "gmp-homes"
title = "GMP homes (uploaded)"
description = "A partner's uploaded Best Value template indicator."
theme = "services"
value_type = "proportion"
multiplier = 100
unit = "%"
polarity = "lower-is-better"
source = "GMP upload"
native_geography = "ward"
periods = "financial years"

[numerator]
dataset = "partner-gmp-*"
where = "indicator = 'GMP-HOMES' AND measure = 'numerator'"
period = "period"

[denominator]
dataset = "partner-gmp-*"
where = "indicator = 'GMP-HOMES' AND measure = 'denominator'"
period = "period"
"#,
    )
    .unwrap();
    Catalog::load_dir(&schemas).unwrap()
}

async fn serve(f: &Fixture, tweak: impl FnOnce(&mut ServerConfig)) -> Running {
    let mut config = ServerConfig {
        addr: "127.0.0.1:0".parse().unwrap(),
        keys: Some(upload_keys(f.dir.path())),
        ..ServerConfig::default()
    };
    tweak(&mut config);
    let engine = Engine::new(
        f.warehouse.clone(),
        catalog_with_gmp_indicator(f.dir.path()),
    );
    renewal_server::start(engine, &config).await.unwrap()
}

fn header(dataset: &str, kind: &str) -> pb::UploadHeader {
    pb::UploadHeader {
        dataset_id: dataset.into(),
        kind: kind.into(),
        ..Default::default()
    }
}

/// One file of an upload: name, boundaries flag, bytes.
struct File<'a> {
    name: &'a str,
    boundaries: bool,
    bytes: Vec<u8>,
}

fn file<'a>(name: &'a str, bytes: impl Into<Vec<u8>>) -> File<'a> {
    File {
        name,
        boundaries: false,
        bytes: bytes.into(),
    }
}

/// The stream: the header, then each file's start and its bytes in 4 KiB chunks (so files
/// span several messages).
fn chunks(h: pb::UploadHeader, files: &[File<'_>]) -> Vec<pb::UploadChunk> {
    let mut out = vec![pb::UploadChunk {
        part: Some(Part::Header(h)),
    }];
    for f in files {
        out.push(pb::UploadChunk {
            part: Some(Part::File(pb::UploadFile {
                file_name: f.name.into(),
                boundaries: f.boundaries,
            })),
        });
        for c in f.bytes.chunks(4096) {
            out.push(pb::UploadChunk {
                part: Some(Part::Data(c.to_vec())),
            });
        }
    }
    out
}

async fn upload(
    ch: &Channel,
    key: &str,
    h: pb::UploadHeader,
    files: &[File<'_>],
) -> Result<pb::UploadResponse, tonic::Status> {
    let stream = tokio_stream::iter(chunks(h, files));
    IngestClient::new(ch.clone())
        .upload(authed(stream, key))
        .await
        .map(|r| r.into_inner())
}

fn sha(bytes: &[u8]) -> String {
    hex::encode(sha2::Sha256::digest(bytes))
}

/// The sample's Best Value rows of 2019-20 for BV-HOMES-01, renamed GMP-HOMES: a partner's own
/// file in the template layout. `bump` adds to every numerator (new bytes, new figures).
fn gmp_best_value(f: &Fixture, bump: u64) -> String {
    let text = std::fs::read_to_string(f.sample.join("best_value_indicators_sample.csv")).unwrap();
    let mut lines = text.lines();
    let mut out = format!("{}\n", lines.next().unwrap());
    for line in lines.filter(|l| l.starts_with("BV-HOMES-01,") && l.contains(",2019-20,")) {
        let mut cells: Vec<String> = line.split(',').map(str::to_owned).collect();
        cells[0] = "GMP-HOMES".into();
        cells[3] = (cells[3].parse::<u64>().unwrap() + bump).to_string();
        out.push_str(&cells.join(","));
        out.push('\n');
    }
    out
}

/// (area_code, numerator, denominator) of the data rows, read straight from the CSV.
fn rows_of(csv: &str) -> Vec<(String, f64, f64)> {
    csv.lines()
        .skip(1)
        .map(|l| {
            let c: Vec<&str> = l.split(',').collect();
            (
                c[1].to_owned(),
                c[3].parse().unwrap(),
                c[4].parse().unwrap(),
            )
        })
        .collect()
}

fn staging_leftovers(f: &Fixture) -> Vec<PathBuf> {
    match std::fs::read_dir(f.dir.path().join("warehouse/_uploads")) {
        Err(_) => Vec::new(),
        Ok(d) => d.map(|e| e.unwrap().path()).collect(),
    }
}

async fn current_version(f: &Fixture, id: &str) -> Option<u64> {
    f.warehouse.current(id).await.unwrap().map(|m| m.version)
}

const ID: &str = "partner-gmp-best-value";

/// The ward values the Analysis service gives for GMP's indicator, by ward code.
/// The answer must name the upload's `version` in its basis.
async fn gmp_values(ch: &Channel, version: u64) -> std::collections::BTreeMap<String, f64> {
    let (_, mut ana) = clients(ch);
    let t = collect(
        ana.area_gap(authed(
            pb::GapRequest {
                indicator: "gmp-homes".into(),
                // Every authority: the file covers both of the sample's.
                ..Default::default()
            },
            GMP_KEY,
        ))
        .await,
    )
    .await
    .unwrap();
    assert_eq!(
        t.basis.dataset_versions.get(ID),
        Some(&version),
        "the answer draws on the upload: {:?}",
        t.basis.dataset_versions
    );
    (0..t.rows.len())
        .map(|i| {
            (
                t.text(i, "area_code").unwrap(),
                t.number(i, "value").unwrap(),
            )
        })
        .collect()
}

#[tokio::test]
async fn an_upload_publishes_is_unchanged_on_retry_and_answers_at_once() {
    let f = fixture().await;
    let running = serve(&f, |_| {}).await;
    let ch = channel(&running).await;
    let v1_csv = gmp_best_value(&f, 0);
    let v1_rows = rows_of(&v1_csv);
    assert!(v1_rows.len() >= 4, "the sample has Vale's wards");

    let r = upload(
        &ch,
        GMP_KEY,
        header(ID, "services"),
        &[file("gmp.csv", v1_csv.clone())],
    )
    .await
    .unwrap();
    assert_eq!(
        (r.status.as_str(), r.dataset.as_str(), r.version),
        ("published", ID, 1)
    );
    // Every row gives three measures (numerator, denominator, value), all present.
    assert_eq!(r.rows, 3 * v1_rows.len() as u64);
    assert_eq!(r.files.len(), 1);
    assert_eq!(r.files[0].file_name, "gmp.csv");
    assert_eq!(r.files[0].size, v1_csv.len() as u64);
    assert_eq!(r.files[0].sha256, sha(v1_csv.as_bytes()));
    // The manifest's provenance names the file as uploaded.
    let m = f.warehouse.current(ID).await.unwrap().unwrap();
    assert_eq!(m.sources.len(), 1);
    assert_eq!(m.sources[0].name, "gmp.csv");
    assert_eq!(m.sources[0].sha256, sha(v1_csv.as_bytes()));
    assert_eq!(m.sources[0].format, "best-value-template");

    // The next question answers from the upload: value = numerator / denominator × 100.
    let values = gmp_values(&ch, 1).await;
    for (ward, n, d) in &v1_rows {
        let got = values
            .get(ward)
            .unwrap_or_else(|| panic!("no row for {ward}"));
        assert!((got - n / d * 100.0).abs() < 1e-9, "{ward}: {got}");
    }

    // The ETL job's retry: the same bytes are unchanged, same version, nothing published.
    let again = upload(
        &ch,
        GMP_KEY,
        header(ID, "services"),
        &[file("gmp.csv", v1_csv.clone())],
    )
    .await
    .unwrap();
    assert_eq!(
        (again.status.as_str(), again.version, again.rows),
        ("unchanged", 1, r.rows)
    );
    assert_eq!(current_version(&f, ID).await, Some(1));

    // New bytes are version 2, and the very next question sees them.
    let v2_csv = gmp_best_value(&f, 7);
    let v2 = upload(
        &ch,
        GMP_KEY,
        header(ID, "services"),
        &[file("gmp.csv", v2_csv.clone())],
    )
    .await
    .unwrap();
    assert_eq!((v2.status.as_str(), v2.version), ("published", 2));
    let values = gmp_values(&ch, 2).await;
    for (ward, n, d) in rows_of(&v2_csv) {
        assert!((values[&ward] - n / d * 100.0).abs() < 1e-9, "{ward}");
    }
    // ListDatasets shows both versions with the upload's provenance.
    let (mut cat, _) = clients(&ch);
    let listed = cat
        .list_datasets(authed(pb::ListDatasetsRequest {}, GMP_KEY))
        .await
        .unwrap()
        .into_inner();
    let mine: Vec<_> = listed.datasets.iter().filter(|d| d.dataset == ID).collect();
    assert_eq!(mine.len(), 2);
    let current = mine.iter().find(|d| d.current).unwrap();
    assert_eq!(current.version, 2);
    assert_eq!(current.sources[0].sha256, sha(v2_csv.as_bytes()));
    assert!(
        staging_leftovers(&f).is_empty(),
        "{:?}",
        staging_leftovers(&f)
    );
    running.stop().await.unwrap();
}

#[tokio::test]
async fn bad_input_is_refused_with_the_uploaded_file_line_and_column() {
    let f = fixture().await;
    let running = serve(&f, |_| {}).await;
    let ch = channel(&running).await;
    let good = gmp_best_value(&f, 0);
    upload(
        &ch,
        GMP_KEY,
        header(ID, "services"),
        &[file("gmp.csv", good)],
    )
    .await
    .unwrap();
    let bad = "indicator_id,area_code,period,numerator,denominator,value,unit,polarity\n\
               GMP-HOMES,E05999001,2019-20,12,100,12.00,percent,lower-is-better\n\
               GMP-HOMES,E05999002,2019-20,twelve,100,12.00,percent,lower-is-better\n";
    let e = upload(
        &ch,
        GMP_KEY,
        header(ID, "services"),
        &[file("bad.csv", bad)],
    )
    .await
    .unwrap_err();
    assert_eq!(e.code(), Code::InvalidArgument);
    // Exactly the CLI's words (`renewal ingest services bad.csv`), with no staging path.
    assert_eq!(
        e.message(),
        "bad.csv, line 3, column 4 (\"numerator\"): \"twelve\" is not a number"
    );
    assert_eq!(current_version(&f, ID).await, Some(1), "nothing published");
    assert!(
        staging_leftovers(&f).is_empty(),
        "{:?}",
        staging_leftovers(&f)
    );

    // A bad file among good ones refuses the whole upload; a new dataset is not created.
    let other = "partner-gmp-other";
    let e = upload(
        &ch,
        GMP_KEY,
        header(other, "services"),
        &[
            file("good.csv", gmp_best_value(&f, 1)),
            file("bad.csv", bad.replace("2019-20", "2018-19")),
        ],
    )
    .await
    .unwrap_err();
    assert_eq!(e.code(), Code::InvalidArgument);
    assert!(
        e.message().starts_with("bad.csv, line 3, column 4"),
        "{}",
        e.message()
    );
    assert_eq!(current_version(&f, other).await, None);
    assert!(staging_leftovers(&f).is_empty());
    running.stop().await.unwrap();
}

#[tokio::test]
async fn keys_upload_only_into_their_own_namespaces() {
    let f = fixture().await;
    let running = serve(&f, |c| {
        c.metrics_addr = Some("127.0.0.1:0".parse().unwrap())
    })
    .await;
    let ch = channel(&running).await;
    let csv = gmp_best_value(&f, 0);
    let refused = |key: &'static str, id: &'static str| {
        let ch = ch.clone();
        let csv = csv.clone();
        async move {
            upload(&ch, key, header(id, "services"), &[file("gmp.csv", csv)])
                .await
                .unwrap_err()
        }
    };
    // Salford may not write GMP's dataset: the message names the id and Salford's namespace.
    let e = refused(SALFORD_KEY, ID).await;
    assert_eq!(e.code(), Code::PermissionDenied);
    assert!(
        e.message().contains(ID) && e.message().contains("partner-salford-*"),
        "{}",
        e.message()
    );
    for key in [READER_KEY, WRITER_KEY] {
        let e = refused(key, ID).await;
        assert_eq!(e.code(), Code::PermissionDenied, "{key}");
        assert!(e.message().contains("no ingest scope"), "{}", e.message());
    }
    // Not an upload id at all: a built-in dataset is never an upload's target.
    let e = refused(GMP_KEY, "services-best-value").await;
    assert_eq!(e.code(), Code::InvalidArgument);
    assert!(e.message().starts_with("dataset_id:"), "{}", e.message());
    // No key at all.
    let e = IngestClient::new(ch.clone())
        .upload(tonic::Request::new(tokio_stream::iter(chunks(
            header(ID, "services"),
            &[file("gmp.csv", csv.clone())],
        ))))
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::Unauthenticated);
    assert_eq!(current_version(&f, ID).await, None);
    // Salford's own namespace works for Salford.
    let r = upload(
        &ch,
        SALFORD_KEY,
        header("partner-salford-best-value", "services"),
        &[file("s.csv", csv.clone())],
    )
    .await
    .unwrap();
    assert_eq!((r.status.as_str(), r.version), ("published", 1));
    // Uploads are counted by outcome (the unauthenticated one never reached the service).
    let text = metrics(&running).await;
    for line in [
        "renewal_requests_total{rpc=\"Upload\",code=\"PermissionDenied\"} 3",
        "renewal_requests_total{rpc=\"Upload\",code=\"InvalidArgument\"} 1",
        "renewal_requests_total{rpc=\"Upload\",code=\"Ok\"} 1",
    ] {
        assert!(text.lines().any(|l| l == line), "{line} in\n{text}");
    }
    running.stop().await.unwrap();
}

async fn metrics(running: &Running) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::TcpStream::connect(running.metrics_addr.unwrap())
        .await
        .unwrap();
    s.write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut text = String::new();
    s.read_to_string(&mut text).await.unwrap();
    text
}

#[tokio::test]
async fn headers_and_file_names_are_checked() {
    let f = fixture().await;
    let running = serve(&f, |_| {}).await;
    let ch = channel(&running).await;
    let csv = gmp_best_value(&f, 0);
    let invalid = |h: pb::UploadHeader, name: &'static str| {
        let ch = ch.clone();
        let csv = csv.clone();
        async move {
            let e = upload(&ch, GMP_KEY, h, &[file(name, csv)])
                .await
                .unwrap_err();
            assert_eq!(e.code(), Code::InvalidArgument, "{}", e.message());
            e.message().to_owned()
        }
    };
    for name in ["../escape.csv", "dir/x.csv", ".hidden.csv", ""] {
        let m = invalid(header(ID, "services"), name).await;
        assert!(m.starts_with("file_name:"), "{name}: {m}");
    }
    let m = invalid(header(ID, "imd"), "x.csv").await;
    assert!(
        m.starts_with("kind: imd files make dataset ids of their own"),
        "{m}"
    );
    let m = invalid(header(ID, "spreadsheet"), "x.csv").await;
    assert!(
        m.contains("census, benefits, services, crime, population"),
        "{m}"
    );
    let m = invalid(
        pb::UploadHeader {
            assign_all: true,
            ..header(ID, "services")
        },
        "x.csv",
    )
    .await;
    assert!(m.contains("kind crime only"), "{m}");
    // A stream that starts with a file, not a header.
    let stream = tokio_stream::iter(
        chunks(header(ID, "services"), &[file("x.csv", "a")])
            .into_iter()
            .skip(1),
    );
    let e = IngestClient::new(ch.clone())
        .upload(authed(stream, GMP_KEY))
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::InvalidArgument);
    assert!(e.message().starts_with("header:"), "{}", e.message());
    // The same name twice.
    let e = upload(
        &ch,
        GMP_KEY,
        header(ID, "services"),
        &[file("a.csv", csv.clone()), file("a.csv", csv.clone())],
    )
    .await
    .unwrap_err();
    assert_eq!(e.code(), Code::InvalidArgument);
    assert!(e.message().contains("sent twice"), "{}", e.message());
    assert_eq!(current_version(&f, ID).await, None);
    assert!(staging_leftovers(&f).is_empty());
    running.stop().await.unwrap();
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write as _;
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    enc.write_all(bytes).unwrap();
    enc.finish().unwrap()
}

#[tokio::test]
async fn size_file_and_decompression_limits_refuse_while_streaming() {
    let f = fixture().await;
    let csv = gmp_best_value(&f, 0);
    let running = serve(&f, |c| {
        c.max_upload_bytes = 64 * 1024;
        c.max_upload_decompressed_bytes = 256 * 1024;
        c.max_upload_files = 2;
    })
    .await;
    let ch = channel(&running).await;
    // Sent bytes: 100 KiB of one file against 64 KiB.
    let big = vec![b'x'; 100 * 1024];
    let e = upload(
        &ch,
        GMP_KEY,
        header(ID, "services"),
        &[file("big.csv", big)],
    )
    .await
    .unwrap_err();
    assert_eq!(e.code(), Code::FailedPrecondition);
    assert_eq!(
        e.message(),
        "big.csv: the upload is larger than 65536 bytes, the server's max_upload_bytes"
    );
    // A bomb: 8 MiB of one repeated line gzips to a few KiB, under the sent-bytes limit.
    let line = "GMP-HOMES,E05999001,2019-20,1,2,50.00,percent,lower-is-better\n";
    let bomb = gzip(line.repeat(8 * 1024 * 1024 / line.len()).as_bytes());
    assert!(bomb.len() < 64 * 1024, "{}", bomb.len());
    let e = upload(
        &ch,
        GMP_KEY,
        header(ID, "services"),
        &[file("bomb.csv.gz", bomb)],
    )
    .await
    .unwrap_err();
    assert_eq!(e.code(), Code::FailedPrecondition);
    assert_eq!(
        e.message(),
        "bomb.csv.gz: the upload decompresses to more than 262144 bytes, the server's \
         max_upload_decompressed_bytes"
    );
    // Files: a third file is refused.
    let e = upload(
        &ch,
        GMP_KEY,
        header(ID, "services"),
        &[
            file("a.csv", csv.clone()),
            file("b.csv", csv.clone()),
            file("c.csv", csv.clone()),
        ],
    )
    .await
    .unwrap_err();
    assert_eq!(e.code(), Code::FailedPrecondition);
    assert!(
        e.message()
            .starts_with("c.csv: an upload may have at most 2 files"),
        "{}",
        e.message()
    );
    assert_eq!(current_version(&f, ID).await, None, "nothing published");
    assert!(staging_leftovers(&f).is_empty());
    // Within the limits, a gzipped file is stored as sent and read as the CLI reads it.
    let gz = gzip(csv.as_bytes());
    let r = upload(
        &ch,
        GMP_KEY,
        header(ID, "services"),
        &[file("gmp.csv.gz", gz.clone())],
    )
    .await
    .unwrap();
    assert_eq!(
        (r.status.as_str(), r.rows),
        ("published", 3 * rows_of(&csv).len() as u64)
    );
    let m = f.warehouse.current(ID).await.unwrap().unwrap();
    assert_eq!(
        (m.sources[0].size, m.sources[0].sha256.clone()),
        (gz.len() as u64, sha(&gz))
    );
    running.stop().await.unwrap();
}

#[tokio::test]
async fn crime_months_and_boundaries_make_one_version() {
    let f = fixture().await;
    let running = serve(&f, |_| {}).await;
    let ch = channel(&running).await;
    let read = |name: &str| std::fs::read(f.sample.join(name)).unwrap();
    let jan = read("2021-01-renewal-vale-street.csv");
    let feb = read("2021-02-renewal-vale-street.csv");
    let shapes_name = "LSOA_(December_2011)_Boundaries_EW_BGC.geojson";
    let shapes = read(shapes_name);
    // Crimes per file, by a plain line count (police.uk files have no quoted newlines).
    let crimes = |b: &[u8]| {
        String::from_utf8_lossy(b)
            .lines()
            .skip(1)
            .filter(|l| !l.is_empty())
            .count() as u64
    };
    let id = "partner-gmp-street-crime";
    let r = upload(
        &ch,
        GMP_KEY,
        header(id, "crime"),
        &[
            file("2021-01-renewal-vale-street.csv", jan.clone()),
            File {
                name: shapes_name,
                boundaries: true,
                bytes: shapes.clone(),
            },
            file("2021-02-renewal-vale-street.csv", feb.clone()),
        ],
    )
    .await
    .unwrap();
    assert_eq!((r.status.as_str(), r.version), ("published", 1));
    assert_eq!(r.files.iter().filter(|f| f.boundaries).count(), 1);
    let m = f.warehouse.current(id).await.unwrap().unwrap();
    let mut sources: Vec<(String, String, String)> = m
        .sources
        .iter()
        .map(|s| (s.name.clone(), s.sha256.clone(), s.format.clone()))
        .collect();
    sources.sort();
    assert_eq!(
        sources,
        [
            (
                "2021-01-renewal-vale-street.csv".into(),
                sha(&jan),
                "police-uk-street".into()
            ),
            (
                "2021-02-renewal-vale-street.csv".into(),
                sha(&feb),
                "police-uk-street".into()
            ),
            (
                shapes_name.into(),
                sha(&shapes),
                "boundaries-geojson".into()
            ),
        ]
    );
    let table = m.tables.iter().find(|t| t.name == "crimes").unwrap();
    assert_eq!(table.rows, crimes(&jan) + crimes(&feb));
    // A boundary file is part of the inputs: the same crimes with it again are unchanged.
    let again = upload(
        &ch,
        GMP_KEY,
        header(id, "crime"),
        &[
            File {
                name: shapes_name,
                boundaries: true,
                bytes: shapes.clone(),
            },
            file("2021-02-renewal-vale-street.csv", feb.clone()),
            file("2021-01-renewal-vale-street.csv", jan.clone()),
        ],
    )
    .await
    .unwrap();
    assert_eq!((again.status.as_str(), again.version), ("unchanged", 1));
    // Boundaries are for crime only.
    let e = upload(
        &ch,
        GMP_KEY,
        header(ID, "services"),
        &[File {
            name: shapes_name,
            boundaries: true,
            bytes: shapes,
        }],
    )
    .await
    .unwrap_err();
    assert_eq!(e.code(), Code::InvalidArgument);
    assert!(e.message().contains("kind crime only"), "{}", e.message());
    running.stop().await.unwrap();
}

/// Uploads take a query slot: with every slot held, a commit is refused at once with
/// RESOURCE_EXHAUSTED (and retry pushback), and nothing is published.
#[tokio::test]
async fn an_upload_needs_a_free_query_slot() {
    let f = fixture().await;
    let gate = renewal_server::QueryGate::new();
    let running = serve(&f, |c| {
        c.max_concurrent_queries = 1;
        c.gate = Some(gate.clone());
    })
    .await;
    let ch = channel(&running).await;
    // A question holds the only slot at the gate.
    let held = {
        let ch = ch.clone();
        tokio::spawn(async move {
            let (_, mut ana) = clients(&ch);
            collect(
                ana.area_gap(authed(
                    pb::GapRequest {
                        indicator: "crime-all".into(),
                        authority: VALE.into(),
                        ..Default::default()
                    },
                    GMP_KEY,
                ))
                .await,
            )
            .await
        })
    };
    gate.held(1).await;
    let e = upload(
        &ch,
        GMP_KEY,
        header(ID, "services"),
        &[file("gmp.csv", gmp_best_value(&f, 0))],
    )
    .await
    .unwrap_err();
    assert_eq!(e.code(), Code::ResourceExhausted);
    assert!(e.metadata().get("grpc-retry-pushback-ms").is_some());
    assert_eq!(current_version(&f, ID).await, None);
    gate.release(1);
    held.await.unwrap().unwrap();
    assert!(staging_leftovers(&f).is_empty());
    running.stop().await.unwrap();
}
