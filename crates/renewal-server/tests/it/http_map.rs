//! The map, the vintages catalogue and the dashboard's assets on the HTTP feed: the map's
//! features are exactly the gap endpoint's rows (so it withholds what the table withholds),
//! under the same keys, scopes and ETags; without boundaries of the answer's vintage it says
//! which to ingest.

use std::collections::BTreeMap;

use renewal_ingest::{BoundaryOptions, NoProgress, read_boundaries};
use serde_json::Value;

use crate::http::get;
use crate::*;

const WARDS_2019: &str = "Wards_(December_2019)_Boundaries_EW_BGC.geojson";
const GAP: &str = "indicator=crime-all&authority=E08999001&ward_vintage=WD19";

async fn ingest_ward_boundaries(f: &Fixture) {
    let catalog = Catalog::embedded().unwrap();
    let drafts = read_boundaries(
        &catalog,
        &[f.sample.join(WARDS_2019)],
        &BoundaryOptions::default(),
        &NoProgress,
    )
    .unwrap();
    for d in drafts {
        f.warehouse
            .publish(d, PublishOptions::default())
            .await
            .unwrap();
    }
}

async fn feed(f: &Fixture, threshold: f64) -> Running {
    start(f, |c| {
        c.http_addr = Some("127.0.0.1:0".parse().unwrap());
        c.disclosure_threshold = threshold;
    })
    .await
}

fn bearer(key: &str) -> String {
    format!("Bearer {key}")
}

/// The gap endpoint's rows by area code.
fn rows_by_code(doc: &Value) -> BTreeMap<String, Value> {
    doc["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["area_code"].as_str().unwrap().to_owned(), r.clone()))
        .collect()
}

#[tokio::test]
async fn map_features_are_the_gap_rows_withheld_figures_included() {
    let f = fixture().await;
    ingest_ward_boundaries(&f).await;
    // A threshold high enough that some wards' counts are withheld: the map must withhold
    // exactly what the table does.
    let running = feed(&f, 150.0).await;
    let auth = bearer(FULL_KEY);
    let gap = get(
        &running,
        &format!("/api/v1/gap?{GAP}"),
        &[("authorization", &auth)],
    )
    .await;
    assert_eq!(gap.status, 200, "{}", gap.body);
    let rows = rows_by_code(&gap.json());
    let map = get(
        &running,
        &format!("/api/v1/map?{GAP}"),
        &[("authorization", &auth)],
    )
    .await;
    assert_eq!(map.status, 200, "{}", map.body);
    assert_eq!(
        map.header("content-type"),
        Some("application/geo+json; charset=utf-8")
    );
    let doc = map.json();
    assert_eq!(doc["type"], "FeatureCollection");
    let features = doc["features"].as_array().unwrap();
    assert_eq!(features.len(), rows.len(), "one feature per gap row");
    let mut withheld = 0;
    for feature in features {
        let code = feature["properties"]["area_code"].as_str().unwrap();
        assert_eq!(
            &feature["properties"], &rows[code],
            "{code}: properties = gap row"
        );
        let kind = feature["geometry"]["type"].as_str().unwrap_or_default();
        assert!(
            kind == "Polygon" || kind == "MultiPolygon",
            "{code}: {kind}"
        );
        if !feature["properties"]["withheld"].is_null() {
            withheld += 1;
            assert!(
                feature["properties"]["value"].is_null(),
                "{code}: withheld value shown"
            );
            assert!(feature["properties"]["numerator"].is_null(), "{code}");
        }
    }
    assert!(
        withheld > 0,
        "the fixture must withhold some ward at threshold 150"
    );
    let datasets = map.header("x-renewal-datasets").unwrap();
    assert!(datasets.contains("boundaries-wd19=1"), "{datasets}");
    // Conditional requests: unchanged data → 304 without a body.
    let tag = map.header("etag").unwrap().to_owned();
    let again = get(
        &running,
        &format!("/api/v1/map?{GAP}"),
        &[("authorization", &auth), ("if-none-match", &tag)],
    )
    .await;
    assert_eq!(again.status, 304);
    assert!(again.body.is_empty());
    running.stop().await.unwrap();
}

#[tokio::test]
async fn map_refusals_name_what_is_missing_or_not_allowed() {
    let f = fixture().await;
    let running = feed(&f, 5.0).await;
    let auth = bearer(FULL_KEY);
    // No boundaries yet: 400, naming the vintage and the command.
    let r = get(
        &running,
        &format!("/api/v1/map?{GAP}"),
        &[("authorization", &auth)],
    )
    .await;
    assert_eq!(r.status, 400, "{}", r.body);
    let message = r.json()["error"]["message"].as_str().unwrap().to_owned();
    assert!(
        message.contains("WD19") && message.contains("renewal ingest boundaries"),
        "{message}"
    );
    // CSV is the gap endpoint's business.
    let r = get(
        &running,
        &format!("/api/v1/map?{GAP}&format=csv"),
        &[("authorization", &auth)],
    )
    .await;
    assert_eq!(r.status, 400, "{}", r.body);
    // Scopes as for the gap: another authority for a Vale key, crime for an IoD-only key.
    let vale = bearer(VALE_KEY);
    let r = get(
        &running,
        "/api/v1/map?indicator=crime-all&authority=E08999002&ward_vintage=WD19",
        &[("authorization", &vale)],
    )
    .await;
    assert_eq!(r.status, 403, "{}", r.body);
    let iod_only = bearer(IOD_ONLY_KEY);
    ingest_ward_boundaries(&f).await;
    let r = get(
        &running,
        &format!("/api/v1/map?{GAP}"),
        &[("authorization", &iod_only)],
    )
    .await;
    assert_eq!(r.status, 403, "{}", r.body);
    // No key at all.
    let r = get(&running, &format!("/api/v1/map?{GAP}"), &[]).await;
    assert_eq!(r.status, 401, "{}", r.body);
    running.stop().await.unwrap();
}

#[tokio::test]
async fn vintages_list_lookups_boundaries_and_editions() {
    let f = fixture().await;
    ingest_ward_boundaries(&f).await;
    let running = feed(&f, 5.0).await;
    let r = get(
        &running,
        "/api/v1/vintages",
        &[("authorization", &bearer(FULL_KEY))],
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let doc = r.json();
    let rows: BTreeMap<String, Value> = doc["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["dataset"].as_str().unwrap().to_owned(), r.clone()))
        .collect();
    // The fixture: the sample's 2011 LSOA → 2019 ward lookup, IoD2019, the WD19 wards.
    let lookup = &rows["lookup-lsoa11-wd19"];
    assert_eq!(lookup["kind"], "lookup");
    assert_eq!(lookup["ward_vintage"], "WD19");
    assert_eq!(lookup["lsoa_vintage"], "LSOA11");
    let iod = &rows["iod-2019"];
    assert_eq!(iod["edition"], "2019");
    assert_eq!(iod["default_edition"], true, "editions.toml's default");
    let wards = &rows["boundaries-wd19"];
    assert_eq!(wards["kind"], "boundaries");
    assert_eq!(wards["ward_vintage"], "WD19");
    assert_eq!(
        rows.len(),
        3,
        "nothing but geography and editions: {rows:?}"
    );
    running.stop().await.unwrap();
}

#[tokio::test]
async fn the_dashboard_is_served_from_the_binary() {
    let f = fixture().await;
    let running = feed(&f, 5.0).await;
    // No key: the assets hold no data (the page asks the feed with the user's key).
    let page = get(&running, "/dashboard/", &[]).await;
    assert_eq!(page.status, 200);
    assert_eq!(
        page.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    let csp = page.header("content-security-policy").unwrap();
    assert!(csp.contains("default-src 'self'") && csp.contains("frame-ancestors 'none'"));
    assert!(page.body.contains("app.js") && page.body.contains("style.css"));
    let js = get(&running, "/dashboard/app.js", &[]).await;
    assert_eq!(js.status, 200);
    assert_eq!(
        js.header("content-type"),
        Some("text/javascript; charset=utf-8")
    );
    assert!(js.body.contains("/api/v1/map"));
    let css = get(&running, "/dashboard/style.css", &[]).await;
    assert_eq!(css.header("content-type"), Some("text/css; charset=utf-8"));
    // The data still needs a key.
    let data = get(&running, "/api/v1/indicators", &[]).await;
    assert_eq!(data.status, 401);
    running.stop().await.unwrap();
}
