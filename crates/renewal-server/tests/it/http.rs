//! The HTTP feed (`http_addr`) against the real server: every endpoint in JSON and CSV beside
//! the gRPC answer to the same request, keys in the header and the URL, scopes, ETags and 304,
//! disclosure control, unknown parameters, overload, metrics and the OpenAPI document checked
//! by an independent validator (Python openapi-spec-validator).

use std::collections::BTreeMap;
use std::time::Duration;

use renewal_server::{QueryGate, pb};
use serde_json::Value;

use crate::*;

/// One HTTP exchange, as a dashboard tool sees it.
pub struct Reply {
    pub status: u16,
    pub headers: ::http::HeaderMap,
    pub body: String,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.body))
    }
}

/// GET `path_and_query` from the feed with `headers` (ureq, off the runtime's threads).
pub async fn get(running: &Running, path_and_query: &str, headers: &[(&str, &str)]) -> Reply {
    let url = format!("http://{}{path_and_query}", running.http_addr.unwrap());
    let headers: Vec<(String, String)> = headers
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    tokio::task::spawn_blocking(move || {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .build()
            .into();
        let mut request = agent.get(&url);
        for (k, v) in &headers {
            request = request.header(k, v);
        }
        let mut response = request.call().unwrap();
        Reply {
            status: response.status().as_u16(),
            headers: response.headers().clone(),
            body: response.body_mut().read_to_string().unwrap(),
        }
    })
    .await
    .unwrap()
}

pub fn bearer(key: &str) -> String {
    format!("Bearer {key}")
}

/// GET with the full key in the header.
async fn full(running: &Running, path_and_query: &str) -> Reply {
    get(
        running,
        path_and_query,
        &[("authorization", &bearer(FULL_KEY))],
    )
    .await
}

async fn with_feed(f: &Fixture, tweak: impl FnOnce(&mut ServerConfig)) -> Running {
    start(f, |c| {
        c.http_addr = Some("127.0.0.1:0".parse().unwrap());
        tweak(c);
    })
    .await
}

/// A gRPC cell as the JSON document writes it.
fn cell(v: &Option<pb::cell::Value>) -> Value {
    match v {
        None => Value::Null,
        Some(pb::cell::Value::Number(n)) => serde_json::json!(n),
        Some(pb::cell::Value::Integer(i)) => serde_json::json!(i),
        Some(pb::cell::Value::Text(s)) => Value::String(s.clone()),
        Some(pb::cell::Value::Flag(b)) => Value::Bool(*b),
    }
}

/// The JSON document's rows equal the gRPC table's, cell by cell (numbers compared as the
/// doubles both carry), and its basis names the same dataset versions.
pub fn assert_same_rows(what: &str, doc: &Value, table: &Table) {
    let rows = doc["rows"]
        .as_array()
        .unwrap_or_else(|| panic!("{what}: no rows"));
    assert_eq!(rows.len(), table.rows.len(), "{what}: row count");
    for (i, (json, grpc)) in rows.iter().zip(&table.rows).enumerate() {
        let json = json.as_object().unwrap();
        assert_eq!(json.len(), table.columns.len(), "{what} row {i}: columns");
        for column in &table.columns {
            let want = cell(&grpc[column]);
            let got = &json[column];
            let same = match (got.as_f64(), want.as_f64()) {
                (Some(a), Some(b)) => a == b,
                _ => got == &want,
            };
            assert!(same, "{what} row {i} {column}: HTTP {got} vs gRPC {want}");
        }
    }
    let datasets: BTreeMap<String, u64> =
        serde_json::from_value(doc["basis"]["datasets"].clone()).unwrap();
    let grpc: BTreeMap<String, u64> = table.basis.dataset_versions.clone().into_iter().collect();
    assert_eq!(datasets, grpc, "{what}: basis");
    assert_eq!(doc["basis"]["method"], table.basis.method, "{what}: method");
    assert_eq!(doc["basis"]["fit"], table.basis.fit, "{what}: fit");
    let notes: Vec<String> = serde_json::from_value(doc["notes"].clone()).unwrap();
    assert_eq!(notes, table.notes, "{what}: notes");
}

/// The CSV's header is exactly the answer's columns (the CLI's), with one line per row.
pub fn assert_csv(what: &str, reply: &Reply, table: &Table) {
    assert_eq!(reply.status, 200, "{what}: {}", reply.body);
    assert_eq!(
        reply.header("content-type"),
        Some("text/csv; charset=utf-8; header=present"),
        "{what}"
    );
    assert!(
        reply
            .header("content-disposition")
            .is_some_and(|d| d.starts_with("inline; filename=") && d.ends_with(".csv\"")),
        "{what}: {:?}",
        reply.header("content-disposition")
    );
    let mut lines = reply.body.lines();
    assert_eq!(
        lines.next(),
        Some(table.columns.join(",").as_str()),
        "{what}"
    );
    assert_eq!(lines.count(), table.rows.len(), "{what}: CSV rows");
}

/// Every question endpoint: JSON rows equal gRPC's for the same request, CSV has the CLI's
/// columns, and the dataset versions header names the basis.
#[tokio::test]
async fn every_question_matches_grpc_in_json_and_csv() {
    let f = fixture().await;
    let running = with_feed(&f, |_| {}).await;
    let ch = channel(&running).await;
    let (mut cat, mut ana) = clients(&ch);
    // A target, so target-status has a row.
    ana.register_target(authed(
        pb::RegisterTargetRequest {
            id: "halve-canal-side".into(),
            indicator: "bv-homes-01".into(),
            selection: "areas:E05999001".into(),
            authority: VALE.into(),
            baseline_period: "2014-15".into(),
            target_period: "2024-25".into(),
            fraction_remaining: 0.5,
            ward_vintage: String::new(),
            benchmark: String::new(),
        },
        FULL_KEY,
    ))
    .await
    .unwrap();

    let gap = |indicator: &str, level: pb::Level, benchmark: pb::Benchmark| pb::GapRequest {
        indicator: indicator.into(),
        authority: VALE.into(),
        level: level as i32,
        benchmark: benchmark as i32,
        ..Default::default()
    };
    let cases: Vec<(&str, Table)> = vec![
        (
            "/api/v1/areas?indicator=crime-all&level=ward",
            collect(
                cat.list_areas(authed(
                    pb::ListAreasRequest {
                        indicator: "crime-all".into(),
                        level: pb::Level::Ward as i32,
                        scope: None,
                    },
                    FULL_KEY,
                ))
                .await,
            )
            .await
            .unwrap(),
        ),
        (
            "/api/v1/gap?indicator=crime-all&authority=E08999001",
            collect(
                ana.area_gap(authed(
                    gap(
                        "crime-all",
                        pb::Level::Unspecified,
                        pb::Benchmark::Unspecified,
                    ),
                    FULL_KEY,
                ))
                .await,
            )
            .await
            .unwrap(),
        ),
        (
            "/api/v1/gap?indicator=crime-all&authority=E08999001&level=lsoa&benchmark=england",
            collect(
                ana.area_gap(authed(
                    gap("crime-all", pb::Level::Lsoa, pb::Benchmark::England),
                    FULL_KEY,
                ))
                .await,
            )
            .await
            .unwrap(),
        ),
        (
            "/api/v1/gap-vs-england?indicator=bv-homes-01&authority=E08999001",
            collect(
                ana.gap_vs_england(authed(
                    gap(
                        "bv-homes-01",
                        pb::Level::Unspecified,
                        pb::Benchmark::Unspecified,
                    ),
                    FULL_KEY,
                ))
                .await,
            )
            .await
            .unwrap(),
        ),
        (
            "/api/v1/versus?indicator=crime-all&authority=E08999001&select=imd-decile%3C%3D2",
            collect(
                ana.deprived_vs_rest(authed(
                    pb::SelectionRequest {
                        indicator: "crime-all".into(),
                        authority: VALE.into(),
                        selection: "imd-decile<=2".into(),
                        ..Default::default()
                    },
                    FULL_KEY,
                ))
                .await,
            )
            .await
            .unwrap(),
        ),
        (
            "/api/v1/trend?indicator=bv-homes-01&authority=E08999001&select=areas:E05999001",
            collect(
                ana.narrowing_the_gap(authed(
                    pb::TrendRequest {
                        indicator: "bv-homes-01".into(),
                        authority: VALE.into(),
                        selection: "areas:E05999001".into(),
                        scope: None,
                    },
                    FULL_KEY,
                ))
                .await,
            )
            .await
            .unwrap(),
        ),
        (
            "/api/v1/target-status?id=halve-canal-side",
            collect(
                ana.target_status(authed(
                    pb::TargetStatusRequest {
                        id: "halve-canal-side".into(),
                        scope: None,
                    },
                    FULL_KEY,
                ))
                .await,
            )
            .await
            .unwrap(),
        ),
        (
            "/api/v1/priority?authority=E08999001&percent=10",
            collect(
                ana.priority_neighbourhoods(authed(
                    pb::PriorityRequest {
                        authority: VALE.into(),
                        percent: 10.0,
                        ..Default::default()
                    },
                    FULL_KEY,
                ))
                .await,
            )
            .await
            .unwrap(),
        ),
        (
            "/api/v1/profile?area=E05999001",
            collect(
                ana.area_profile(authed(
                    pb::ProfileRequest {
                        area: "E05999001".into(),
                        scope: None,
                    },
                    FULL_KEY,
                ))
                .await,
            )
            .await
            .unwrap(),
        ),
        (
            "/api/v1/similar?area=E05999001&indicators=crime-all,iod-imd-score&k=3&level=ward",
            collect(
                ana.most_similar(authed(
                    pb::SimilarRequest {
                        area: "E05999001".into(),
                        level: pb::Level::Ward as i32,
                        indicators: vec!["crime-all".into(), "iod-imd-score".into()],
                        k: 3,
                        scope: None,
                    },
                    FULL_KEY,
                ))
                .await,
            )
            .await
            .unwrap(),
        ),
    ];
    for (path, table) in &cases {
        assert!(!table.rows.is_empty(), "{path}: the sample answers it");
        let json = full(&running, path).await;
        assert_eq!(json.status, 200, "{path}: {}", json.body);
        assert_eq!(
            json.header("content-type"),
            Some("application/json; charset=utf-8")
        );
        assert_same_rows(path, &json.json(), table);
        let versions: Vec<String> = table
            .basis
            .dataset_versions
            .iter()
            .collect::<BTreeMap<_, _>>()
            .into_iter()
            .map(|(d, v)| format!("{d}={v}"))
            .collect();
        assert_eq!(
            json.header("x-renewal-datasets"),
            Some(versions.join(", ").as_str()),
            "{path}"
        );
        assert_eq!(json.header("cache-control"), Some("private, max-age=60"));
        // CSV by ?format=csv and by Accept: the same bytes.
        let sep = if path.contains('?') { '&' } else { '?' };
        let csv = full(&running, &format!("{path}{sep}format=csv")).await;
        assert_csv(path, &csv, table);
        let accepted = get(
            &running,
            path,
            &[("authorization", &bearer(FULL_KEY)), ("accept", "text/csv")],
        )
        .await;
        assert_eq!(accepted.body, csv.body, "{path}");
        assert_ne!(
            accepted.header("etag"),
            json.header("etag"),
            "format is in the ETag"
        );
    }

    // The catalogue: datasets and indicators as gRPC lists them.
    let datasets = full(&running, "/api/v1/datasets").await.json();
    let listed = cat
        .list_datasets(authed(pb::ListDatasetsRequest {}, FULL_KEY))
        .await
        .unwrap()
        .into_inner()
        .datasets;
    let http_pairs: Vec<(String, u64)> = datasets["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["dataset"].as_str().unwrap().to_owned(),
                r["version"].as_u64().unwrap(),
            )
        })
        .collect();
    let grpc_pairs: Vec<(String, u64)> = listed
        .iter()
        .map(|d| (d.dataset.clone(), d.version))
        .collect();
    assert_eq!(http_pairs, grpc_pairs);
    let csv = full(&running, "/api/v1/indicators?format=csv").await;
    assert_eq!(
        csv.body.lines().next(),
        Some("id,theme,value_type,unit,polarity,native_geography,title"),
        "the columns of `renewal indicators`"
    );
    let n = cat
        .list_indicators(authed(pb::ListIndicatorsRequest {}, FULL_KEY))
        .await
        .unwrap()
        .into_inner()
        .indicators
        .len();
    assert_eq!(
        full(&running, "/api/v1/indicators").await.json()["rows"]
            .as_array()
            .unwrap()
            .len(),
        n
    );
    running.stop().await.unwrap();
}

/// The JSON body is byte for byte what `renewal gap --format json` prints: the CLI and the feed
/// share `renewal_query::render`, checked here against an answer the engine gives directly.
#[tokio::test]
async fn the_json_is_the_clis_document() {
    let f = fixture().await;
    let running = with_feed(&f, |_| {}).await;
    let reply = full(
        &running,
        "/api/v1/gap?indicator=crime-all&authority=E08999001",
    )
    .await;
    let doc = reply.json();
    // The shape the CLI documents: basis {method, fit, datasets, bridges}, notes, rows.
    let keys: Vec<&String> = doc.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["basis", "notes", "rows"]);
    let basis: Vec<&String> = doc["basis"].as_object().unwrap().keys().collect();
    assert_eq!(basis, ["bridges", "datasets", "fit", "method"]);
    assert!(
        reply.body.ends_with("}\n"),
        "pretty-printed with a final newline, as the CLI"
    );
    running.stop().await.unwrap();
}

/// Keys: none or unknown is 401 with `WWW-Authenticate: Bearer`; the header and `?key=` both
/// work; out-of-scope authorities and datasets are 403, exactly where gRPC refuses.
#[tokio::test]
async fn keys_and_scopes() {
    let f = fixture().await;
    let running = with_feed(&f, |_| {}).await;
    let path = "/api/v1/gap?indicator=crime-all&authority=E08999001";
    let none = get(&running, path, &[]).await;
    assert_eq!(none.status, 401, "{}", none.body);
    assert!(
        none.header("www-authenticate")
            .unwrap()
            .starts_with("Bearer")
    );
    assert_eq!(none.json()["error"]["code"], "UNAUTHENTICATED");
    let bad = get(&running, path, &[("authorization", "Bearer not-a-key")]).await;
    assert_eq!(bad.status, 401);
    assert!(bad.header("www-authenticate").is_some());
    let bad = get(&running, &format!("{path}&key=not-a-key"), &[]).await;
    assert_eq!(bad.status, 401);

    let header = get(&running, path, &[("authorization", &bearer(VALE_KEY))]).await;
    assert_eq!(header.status, 200, "{}", header.body);
    let in_url = get(&running, &format!("{path}&key={VALE_KEY}"), &[]).await;
    assert_eq!(in_url.status, 200, "{}", in_url.body);
    assert_eq!(in_url.body, header.body);
    // The key is not part of the ETag: the same partner by either route is one cache entry.
    assert_eq!(in_url.header("etag"), header.header("etag"));

    // Another authority: 403, as gRPC's PERMISSION_DENIED.
    let other = get(
        &running,
        &format!("/api/v1/gap?indicator=crime-all&authority={BROOKMERE}"),
        &[("authorization", &bearer(VALE_KEY))],
    )
    .await;
    assert_eq!(other.status, 403, "{}", other.body);
    assert_eq!(other.json()["error"]["code"], "PERMISSION_DENIED");
    // No authority at all, for a key limited to one: 403 too.
    let all = get(
        &running,
        "/api/v1/gap?indicator=crime-all",
        &[("authorization", &bearer(VALE_KEY))],
    )
    .await;
    assert_eq!(all.status, 403, "{}", all.body);
    // A dataset outside the key's patterns (crime for an IoD-only key): 403 naming it.
    let dataset = get(&running, path, &[("authorization", &bearer(IOD_ONLY_KEY))]).await;
    assert_eq!(dataset.status, 403, "{}", dataset.body);
    assert!(
        dataset.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("crime-street")
    );
    let ch = channel(&running).await;
    let (_, mut ana) = clients(&ch);
    let (c, m) = code(
        collect(
            ana.area_gap(authed(
                pb::GapRequest {
                    indicator: "crime-all".into(),
                    authority: VALE.into(),
                    ..Default::default()
                },
                IOD_ONLY_KEY,
            ))
            .await,
        )
        .await,
    );
    assert_eq!(c, Code::PermissionDenied);
    assert_eq!(
        dataset.json()["error"]["message"],
        m,
        "the same refusal as gRPC"
    );
    // The catalogue lists only the datasets the key may read.
    let listed = get(
        &running,
        "/api/v1/datasets",
        &[("authorization", &bearer(IOD_ONLY_KEY))],
    )
    .await;
    assert!(listed.json()["rows"].as_array().unwrap().iter().all(|r| {
        let d = r["dataset"].as_str().unwrap();
        d.starts_with("iod-") || d.starts_with("lookup-")
    }));
    running.stop().await.unwrap();
}

/// Revoking a key in the keys file (the same store as gRPC) refuses it over HTTP at the next
/// request, without a restart.
#[tokio::test]
async fn a_revoked_key_is_refused_at_once() {
    let f = fixture().await;
    let running = with_feed(&f, |_| {}).await;
    let path = "/api/v1/indicators";
    assert_eq!(
        get(&running, path, &[("authorization", &bearer(VALE_KEY))])
            .await
            .status,
        200
    );
    let keys = f.dir.path().join("keys.toml");
    let text = std::fs::read_to_string(&keys).unwrap();
    let kept: String = text
        .split("[[key]]")
        .filter(|k| !k.contains(&hash_key(VALE_KEY)))
        .collect::<Vec<_>>()
        .join("[[key]]");
    let tmp = f.dir.path().join("keys.toml.new");
    std::fs::write(&tmp, kept).unwrap();
    std::fs::rename(&tmp, &keys).unwrap();
    assert_eq!(
        get(&running, path, &[("authorization", &bearer(VALE_KEY))])
            .await
            .status,
        401
    );
    assert_eq!(
        get(&running, path, &[("authorization", &bearer(FULL_KEY))])
            .await
            .status,
        200
    );
    running.stop().await.unwrap();
}

fn metric(text: &str, line_start: &str) -> u64 {
    text.lines()
        .find_map(|l| l.strip_prefix(line_start))
        .map_or(0, |n| n.trim().parse().unwrap())
}

async fn scrape(running: &Running) -> String {
    let url = format!("http://{}/metrics", running.metrics_addr.unwrap());
    tokio::task::spawn_blocking(move || {
        ureq::get(&url)
            .call()
            .unwrap()
            .body_mut()
            .read_to_string()
            .unwrap()
    })
    .await
    .unwrap()
}

/// An unchanged question is 304 without being run (the metrics count no new AreaGap); a new
/// version of a dataset gives a new ETag and a 200; the scope and the format are in the ETag.
#[tokio::test]
async fn etags_and_304() {
    let f = fixture().await;
    let running = with_feed(&f, |c| {
        c.metrics_addr = Some("127.0.0.1:0".parse().unwrap())
    })
    .await;
    let path = "/api/v1/gap?indicator=crime-all&authority=E08999001";
    let first = full(&running, path).await;
    let tag = first.header("etag").unwrap().to_owned();
    assert!(tag.starts_with('"') && tag.ends_with('"'), "{tag}");
    let ok = "renewal_requests_total{rpc=\"AreaGap\",code=\"Ok\"} ";
    assert_eq!(metric(&scrape(&running).await, ok), 1);

    let again = get(
        &running,
        path,
        &[
            ("authorization", &bearer(FULL_KEY)),
            ("if-none-match", &tag),
        ],
    )
    .await;
    assert_eq!(again.status, 304);
    assert!(again.body.is_empty());
    assert_eq!(again.header("etag"), Some(tag.as_str()));
    // The 304 repeats what the cached copy rests on, and how long it may be kept.
    assert_eq!(
        again.header("x-renewal-datasets"),
        first.header("x-renewal-datasets")
    );
    assert!(
        again
            .header("x-renewal-datasets")
            .unwrap()
            .contains("crime-street=1")
    );
    assert_eq!(again.header("cache-control"), first.header("cache-control"));
    assert_eq!(
        metric(&scrape(&running).await, ok),
        1,
        "a 304 runs no question"
    );
    // Parameters in another order are the same request.
    let reordered = get(
        &running,
        "/api/v1/gap?authority=E08999001&indicator=crime-all",
        &[
            ("authorization", &bearer(FULL_KEY)),
            ("if-none-match", &tag),
        ],
    )
    .await;
    assert_eq!(reordered.status, 304);
    // Another key's scope is another ETag, even for the same rows.
    let vale = get(&running, path, &[("authorization", &bearer(VALE_KEY))]).await;
    assert_eq!(vale.status, 200);
    assert_ne!(vale.header("etag"), Some(tag.as_str()));

    // A new version of the crime dataset: the ETag changes and the answer is sent.
    let catalog = renewal_schema::Catalog::embedded().unwrap();
    let mut files: Vec<_> = std::fs::read_dir(&f.sample)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with("-street.csv"))
        .collect();
    files.sort();
    let mut text = std::fs::read_to_string(&files[0]).unwrap();
    let cut = text.trim_end().rfind('\n').unwrap();
    text.truncate(cut + 1);
    let changed = f.dir.path().join("changed-street.csv");
    std::fs::write(&changed, text).unwrap();
    files[0] = changed;
    let draft = renewal_ingest::read_crime(
        &catalog,
        &files,
        &renewal_ingest::CrimeOptions::default(),
        &renewal_ingest::NoProgress,
    )
    .unwrap();
    f.warehouse
        .publish(draft, renewal_warehouse::PublishOptions::default())
        .await
        .unwrap();
    let fresh = get(
        &running,
        path,
        &[
            ("authorization", &bearer(FULL_KEY)),
            ("if-none-match", &tag),
        ],
    )
    .await;
    assert_eq!(fresh.status, 200);
    let new_tag = fresh.header("etag").unwrap();
    assert_ne!(new_tag, tag);
    assert!(
        fresh
            .header("x-renewal-datasets")
            .unwrap()
            .contains("crime-street=2")
    );
    // Pinned to the old version, the old rows come back under their own ETag.
    let pinned = full(&running, &format!("{path}&at=crime-street%3D1")).await;
    assert_eq!(pinned.status, 200, "{}", pinned.body);
    assert!(
        pinned
            .header("x-renewal-datasets")
            .unwrap()
            .contains("crime-street=1")
    );
    assert_eq!(pinned.json()["rows"], first.json()["rows"]);
    running.stop().await.unwrap();
}

/// Disclosure control is the engine's, whatever the transport: withheld LSOAs are null in JSON
/// and blank in CSV, flagged as over gRPC, and the single-LSOA "versus" of issue 11 (an LSOA
/// against the rest of its authority) reveals nothing over HTTP either.
#[tokio::test]
async fn withheld_cells_and_the_single_lsoa_versus() {
    let f = fixture().await;
    let running = with_feed(&f, |_| {}).await;
    let ch = channel(&running).await;
    let (_, mut ana) = clients(&ch);
    let lsoas = collect(
        ana.area_gap(authed(
            pb::GapRequest {
                indicator: "crime-all".into(),
                authority: VALE.into(),
                level: pb::Level::Lsoa as i32,
                ..Default::default()
            },
            FULL_KEY,
        ))
        .await,
    )
    .await
    .unwrap();
    let path = "/api/v1/gap?indicator=crime-all&authority=E08999001&level=lsoa";
    let doc = full(&running, path).await.json();
    assert_same_rows(path, &doc, &lsoas);
    let rows = doc["rows"].as_array().unwrap();
    let small: Vec<&str> = rows
        .iter()
        .filter(|r| r["withheld"] == "below-threshold")
        .map(|r| r["area_code"].as_str().unwrap())
        .collect();
    assert!(!small.is_empty(), "the sample has small crime counts");
    for r in rows.iter().filter(|r| r["suppressed"] == true) {
        assert_eq!(r["numerator"], Value::Null);
        assert_eq!(r["denominator"], Value::Null);
        assert_eq!(r["value"], Value::Null);
    }
    // CSV: the same rows with the withheld cells blank.
    let csv = full(&running, &format!("{path}&format=csv")).await;
    let mut reader = csv::Reader::from_reader(csv.body.as_bytes());
    let header: Vec<String> = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_owned)
        .collect();
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    let (code_i, num_i, withheld_i) = (col("area_code"), col("numerator"), col("withheld"));
    let mut seen = 0;
    for record in reader.records() {
        let record = record.unwrap();
        if small.contains(&&record[code_i]) {
            assert_eq!(&record[num_i], "", "{record:?}");
            assert_eq!(&record[withheld_i], "below-threshold", "{record:?}");
            seen += 1;
        }
    }
    assert_eq!(seen, small.len());

    for lsoa in &small {
        let doc = full(
            &running,
            &format!("/api/v1/versus?indicator=crime-all&authority=E08999001&select=areas:{lsoa}"),
        )
        .await
        .json();
        let row = &doc["rows"][0];
        assert_eq!(row["selected_withheld"], "below-threshold", "{lsoa}");
        assert_eq!(row["rest_withheld"], "complementary", "{lsoa}");
        for column in [
            "selected_numerator",
            "selected_denominator",
            "selected_value",
            "rest_numerator",
            "rest_denominator",
            "rest_value",
            "rest_lower_95",
            "gap",
        ] {
            assert_eq!(row[column], Value::Null, "{lsoa} {column}");
        }
        assert!(row["authority_value"].is_number());
    }
    running.stop().await.unwrap();
}

/// Bad requests are 400 naming the parameter: unknown names (a typo must not change the
/// answer silently), repeats, bad values; the server's disclosure threshold cannot be asked
/// for; gRPC's own argument checks come through with its words.
#[tokio::test]
async fn bad_parameters_are_400_naming_them() {
    let f = fixture().await;
    let running = with_feed(&f, |_| {}).await;
    for (path, names) in [
        (
            "/api/v1/gap?indicator=crime-all&autority=E08999001",
            "autority",
        ),
        (
            "/api/v1/gap?indicator=crime-all&disclosure_threshold=1",
            "disclosure_threshold",
        ),
        ("/api/v1/indicators?ward_vintage=WD19", "ward_vintage"),
        (
            "/api/v1/gap?indicator=crime-all&indicator=claimant-rate",
            "indicator",
        ),
        ("/api/v1/gap?indicator=crime-all&level=county", "level"),
        ("/api/v1/gap?indicator=crime-all&format=xml", "format"),
        (
            "/api/v1/similar?area=E05999001&indicators=crime-all&k=many",
            "k",
        ),
        ("/api/v1/gap?indicator=crime-all&at=crime-street", "at"),
        ("/api/v1/gap?authority=E08999001", "indicator: required"),
        (
            "/api/v1/gap?indicator=crime-all&ward_vintage=XX99",
            "scope.ward_vintage",
        ),
    ] {
        let r = full(&running, path).await;
        assert_eq!(r.status, 400, "{path}: {}", r.body);
        let doc = r.json();
        assert_eq!(doc["error"]["code"], "INVALID_ARGUMENT", "{path}");
        let message = doc["error"]["message"].as_str().unwrap();
        assert!(message.contains(names), "{path}: {message}");
    }
    let unknown = full(&running, "/api/v1/gap?indicator=no-such-indicator").await;
    assert_eq!(unknown.status, 404, "{}", unknown.body);
    assert_eq!(full(&running, "/api/v1/nothing-here").await.status, 404);
    running.stop().await.unwrap();
}

/// At the concurrency limit a feed request is refused at once with 429 and Retry-After, as
/// gRPC's RESOURCE_EXHAUSTED; the slot is held with the QueryGate, never a sleep.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn overload_is_429_with_retry_after() {
    let f = fixture().await;
    let gate = QueryGate::new();
    let running = with_feed(&f, |c| {
        c.max_concurrent_queries = 1;
        c.gate = Some(gate.clone());
        c.metrics_addr = Some("127.0.0.1:0".parse().unwrap());
    })
    .await;
    let addr = running.http_addr.unwrap();
    let path = "/api/v1/gap?indicator=crime-all&authority=E08999001";
    let held = tokio::task::spawn_blocking(move || {
        let mut r = ureq::get(&format!("http://{addr}{path}"))
            .header("authorization", &bearer(FULL_KEY))
            .call()
            .unwrap();
        r.body_mut().read_to_string().unwrap()
    });
    tokio::time::timeout(Duration::from_secs(60), gate.held(1))
        .await
        .expect("the first request reaches the gate");
    let refused = tokio::time::timeout(
        Duration::from_secs(60),
        get(
            &running,
            "/api/v1/profile?area=E05999001",
            &[("authorization", &bearer(FULL_KEY))],
        ),
    )
    .await
    .expect("a refusal at once, not a queue");
    assert_eq!(refused.status, 429, "{}", refused.body);
    assert_eq!(refused.header("retry-after"), Some("1"));
    assert_eq!(refused.json()["error"]["code"], "RESOURCE_EXHAUSTED");
    gate.release(1_000);
    let body = held.await.unwrap();
    assert!(body.contains("\"rows\""));
    // Metrics: the HTTP requests counted under the gRPC method names.
    let text = scrape(&running).await;
    for line in [
        "renewal_requests_total{rpc=\"AreaGap\",code=\"Ok\"} 1",
        "renewal_requests_total{rpc=\"AreaProfile\",code=\"ResourceExhausted\"} 1",
        "renewal_request_seconds_count{rpc=\"AreaGap\"} 1",
        "renewal_dataset_version_served{dataset=\"crime-street\"} 1",
    ] {
        assert!(text.lines().any(|l| l == line), "missing {line}\n{text}");
    }
    running.stop().await.unwrap();
}

/// The feed's listener has the gRPC port's connection cap: beyond `max_connections` a new
/// connection is closed before a byte of answer, while the open one keeps being served.
#[tokio::test]
async fn http_connections_beyond_the_cap_are_closed() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let f = fixture().await;
    let running = with_feed(&f, |c| c.max_connections = 1).await;
    let addr = running.http_addr.unwrap();
    let request = format!(
        "GET /api/v1/indicators HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {FULL_KEY}\r\n\r\n"
    );
    // Reads one HTTP/1.1 answer (headers and a Content-Length body) off a kept-alive socket.
    async fn answer(conn: &mut tokio::net::TcpStream) -> String {
        let mut got = Vec::new();
        let mut buf = [0u8; 8192];
        loop {
            let n = conn.read(&mut buf).await.unwrap();
            assert!(
                n > 0,
                "closed mid-answer: {}",
                String::from_utf8_lossy(&got)
            );
            got.extend_from_slice(&buf[..n]);
            let text = String::from_utf8_lossy(&got).into_owned();
            if let Some(end) = text.find("\r\n\r\n") {
                let length: usize = text[..end]
                    .lines()
                    .find_map(|l| {
                        l.to_ascii_lowercase()
                            .strip_prefix("content-length: ")
                            .map(|v| v.trim().parse().unwrap())
                    })
                    .expect("a content-length");
                if got.len() >= end + 4 + length {
                    return text;
                }
            }
        }
    }
    let within = async {
        let mut first = tokio::net::TcpStream::connect(addr).await.unwrap();
        first.write_all(request.as_bytes()).await.unwrap();
        assert!(answer(&mut first).await.starts_with("HTTP/1.1 200"));

        // A second connection while the first is open: closed with nothing written back.
        // (The write may already fail: the server may have closed first.)
        let mut extra = tokio::net::TcpStream::connect(addr).await.unwrap();
        let _ = extra.write_all(request.as_bytes()).await;
        let mut buf = Vec::new();
        let read = extra.read_to_end(&mut buf).await;
        assert!(
            buf.is_empty(),
            "{read:?}: {}",
            String::from_utf8_lossy(&buf)
        );

        // The first connection is still served.
        first.write_all(request.as_bytes()).await.unwrap();
        assert!(answer(&mut first).await.starts_with("HTTP/1.1 200"));
        drop(first);
    };
    tokio::time::timeout(Duration::from_secs(60), within)
        .await
        .expect("answers or closes, not a hang");
    running.stop().await.unwrap();
}

/// Development mode needs no key over HTTP either, and only binds the feed to loopback.
#[tokio::test]
async fn development_mode() {
    let f = fixture().await;
    let running = start(&f, |c| {
        c.keys = None;
        c.dev = true;
        c.http_addr = Some("127.0.0.1:0".parse().unwrap());
    })
    .await;
    let r = get(
        &running,
        "/api/v1/gap?indicator=crime-all&authority=E08999001",
        &[],
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    running.stop().await.unwrap();
    let engine = renewal_query::Engine::new(
        f.warehouse.clone(),
        renewal_schema::Catalog::embedded().unwrap(),
    );
    let refused = renewal_server::start(
        engine,
        &ServerConfig {
            addr: "127.0.0.1:0".parse().unwrap(),
            dev: true,
            http_addr: Some("0.0.0.0:0".parse().unwrap()),
            ..ServerConfig::default()
        },
    )
    .await;
    assert!(refused.err().unwrap().to_string().contains("loopback"));
}

/// The OpenAPI document is served without a key, lists every endpoint, and passes an
/// independent validator (openapi-spec-validator, installed by scripts/test.sh).
#[tokio::test]
async fn openapi_is_valid_3_1() {
    let f = fixture().await;
    let running = with_feed(&f, |_| {}).await;
    let r = get(&running, "/api/v1/openapi.json", &[]).await;
    assert_eq!(r.status, 200);
    let doc = r.json();
    assert!(
        doc["openapi"].as_str().unwrap().starts_with("3.1"),
        "{}",
        doc["openapi"]
    );
    let paths: Vec<&String> = doc["paths"].as_object().unwrap().keys().collect();
    for p in [
        "/api/v1/datasets",
        "/api/v1/indicators",
        "/api/v1/areas",
        "/api/v1/gap",
        "/api/v1/gap-vs-england",
        "/api/v1/versus",
        "/api/v1/trend",
        "/api/v1/target-status",
        "/api/v1/priority",
        "/api/v1/profile",
        "/api/v1/similar",
    ] {
        assert!(paths.iter().any(|x| *x == p), "{p} missing from {paths:?}");
    }
    let gap_params: Vec<&str> = doc["paths"]["/api/v1/gap"]["get"]["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    for name in [
        "key",
        "format",
        "ward_vintage",
        "bridge_weights",
        "at",
        "indicator",
        "authority",
        "level",
        "benchmark",
        "period",
    ] {
        assert!(gap_params.contains(&name), "{name} not in {gap_params:?}");
    }
    running.stop().await.unwrap();

    let python = std::env::var("RENEWAL_PYTHON").unwrap_or_else(|_| "python3".into());
    let has = std::process::Command::new(&python)
        .args(["-c", "import openapi_spec_validator"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !has {
        assert!(
            std::env::var_os("RENEWAL_REQUIRE_PYTHON_OPENAPI").is_none()
                && std::env::var("CI").as_deref() != Ok("true"),
            "{python} lacks openapi-spec-validator, which scripts/test.sh installs"
        );
        eprintln!(
            "SKIPPED: {python} has no openapi-spec-validator; run scripts/test.sh (it installs it) to validate the OpenAPI document"
        );
        return;
    }
    let path = f.dir.path().join("openapi.json");
    std::fs::write(&path, &r.body).unwrap();
    let out = std::process::Command::new(&python)
        .args([
            "-c",
            "import json, sys\n\
             from openapi_spec_validator import validate\n\
             from openapi_spec_validator.validation import OpenAPIV31SpecValidator\n\
             validate(json.load(open(sys.argv[1])), cls=OpenAPIV31SpecValidator)\n\
             print('valid')",
        ])
        .arg(&path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "openapi-spec-validator: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "valid");
}

/// `http_cache_control` is what answers carry, and a dashboard page on an allowed origin may
/// read the answer and its ETag and dataset versions (CORS, the grpc-web origins).
#[tokio::test]
async fn cache_control_and_cors_are_configurable() {
    let f = fixture().await;
    let running = with_feed(&f, |c| {
        c.http_cache_control = "public, max-age=5".into();
        c.cors_origins = vec!["https://dash.example.org".into()];
    })
    .await;
    let r = get(
        &running,
        "/api/v1/indicators",
        &[
            ("authorization", &bearer(FULL_KEY)),
            ("origin", "https://dash.example.org"),
        ],
    )
    .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("cache-control"), Some("public, max-age=5"));
    assert_eq!(
        r.header("access-control-allow-origin"),
        Some("https://dash.example.org")
    );
    let exposed = r
        .header("access-control-expose-headers")
        .unwrap()
        .to_ascii_lowercase();
    assert!(
        exposed.contains("etag") && exposed.contains("x-renewal-datasets"),
        "{exposed}"
    );
    let other = get(
        &running,
        "/api/v1/indicators",
        &[
            ("authorization", &bearer(FULL_KEY)),
            ("origin", "https://elsewhere.example.org"),
        ],
    )
    .await;
    assert_eq!(other.header("access-control-allow-origin"), None);
    running.stop().await.unwrap();
}
