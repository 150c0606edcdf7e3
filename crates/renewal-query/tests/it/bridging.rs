//! Data on 2011 LSOAs answered on 2021 wards through the ONS change lookup, with each period's
//! own population: a hand-made warehouse whose expected figures are worked out in the comments.
//!
//! 2011 → 2021: E01000001 unchanged; E01000002 split into E01040001 + E01040002; E01000003 and
//! E01000004 merged into E01040003. WD24 wards of authority E08000001: W1 (E05000101) =
//! {E01000001, E01040001}, W2 (E05000102) = {E01040002, E01040003}.

use std::collections::BTreeMap;
use std::sync::Arc;

use arrow::array::{Float64Array, Int32Array, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Schema};
use renewal_query::{AreaLevel, Benchmark, Engine, GapRequest, QueryError, Scope};
use renewal_schema::Catalog;
use renewal_test_support::{temp_dir, write_file};
use renewal_warehouse::{Draft, DraftTable, PublishOptions, Warehouse};

use crate::indicators::{column_f64, column_str};
use crate::{parquet, strings};

const EVENTS: &str = r#"
id = "events"
title = "Events per 1,000 residents"
theme = "crime"
value_type = "rate"
multiplier = 1000
unit = "per 1,000 residents"
polarity = "lower-is-better"
source = "fixture"
native_geography = "lsoa"

[numerator]
dataset = "counts-*"
where = "measure = 'Count'"
period = "period"

[denominator]
dataset = "base-2015"
where = "measure = 'Count'"

[population]
age_band = "all_ages"
describe = "residents of all ages"
"#;

/// A minimal IoD format for an edition, so the catalog knows the edition.
fn edition_format(year: &str, lsoa: &str) -> String {
    format!(
        "id = \"iod{year}\"\nvintage = \"{year}\"\ndescription = \"fixture\"\n\
         lsoa_vintage = \"{lsoa}\"\nnational_lsoa_count = 10\n\
         columns = [{{ header = \"S\", domain = \"imd\", measure = \"score\" }}]\n\
         [keys]\nlsoa_code = \"L\"\n"
    )
}

fn catalog() -> Catalog {
    let dir = temp_dir();
    std::fs::create_dir_all(dir.path().join("indicators")).unwrap();
    std::fs::create_dir_all(dir.path().join("datasets/iod")).unwrap();
    write_file(&dir.path().join("indicators"), "events.toml", EVENTS);
    let iod = dir.path().join("datasets/iod");
    write_file(&iod, "2019.toml", edition_format("2019", "LSOA11"));
    write_file(&iod, "2025.toml", edition_format("2025", "LSOA21"));
    write_file(dir.path(), "editions.toml", "default = \"2019\"\n");
    Catalog::load_dir(dir.path()).unwrap()
}

fn engine(wh: Warehouse) -> Engine {
    Engine::new(wh, catalog())
}

async fn publish(
    wh: &Warehouse,
    dataset: &str,
    kind: &str,
    vintage: &[(&str, &str)],
    table: &str,
    batch: RecordBatch,
) {
    crate::indicators::publish(wh, dataset, kind, vintage, table, batch, dataset).await;
}

/// Observations: (area, period, count); no LSOA vintage recorded, as crime and observation
/// datasets published before vintages were recorded.
fn counts(rows: &[(&str, &str, f64)]) -> RecordBatch {
    RecordBatch::try_new(
        Arc::new(Schema::new(vec![
            Field::new("area_code", DataType::Utf8, false),
            Field::new("period", DataType::Utf8, false),
            Field::new("measure", DataType::Utf8, false),
            Field::new("value", DataType::Float64, true),
        ])),
        vec![
            Arc::new(StringArray::from_iter_values(rows.iter().map(|r| r.0))),
            Arc::new(StringArray::from_iter_values(rows.iter().map(|r| r.1))),
            Arc::new(StringArray::from_iter_values(rows.iter().map(|_| "Count"))),
            Arc::new(rows.iter().map(|r| Some(r.2)).collect::<Float64Array>()),
        ],
    )
    .unwrap()
}

/// Population rows (lsoa, year, reference, persons all ages).
fn population(rows: &[(&str, i32, &str, f64)]) -> RecordBatch {
    RecordBatch::try_new(
        Arc::new(Schema::new(vec![
            Field::new("lsoa_code", DataType::Utf8, false),
            Field::new("year", DataType::Int32, false),
            Field::new("reference", DataType::Utf8, false),
            Field::new("sex", DataType::Utf8, false),
            Field::new("age_band", DataType::Utf8, false),
            Field::new("value", DataType::Float64, false),
        ])),
        vec![
            Arc::new(StringArray::from_iter_values(rows.iter().map(|r| r.0))),
            Arc::new(Int32Array::from_iter_values(rows.iter().map(|r| r.1))),
            Arc::new(StringArray::from_iter_values(rows.iter().map(|r| r.2))),
            Arc::new(StringArray::from_iter_values(
                rows.iter().map(|_| "persons"),
            )),
            Arc::new(StringArray::from_iter_values(
                rows.iter().map(|_| "all_ages"),
            )),
            Arc::new(Float64Array::from_iter_values(rows.iter().map(|r| r.3))),
        ],
    )
    .unwrap()
}

async fn warehouse(wh: &Warehouse) {
    let lookup = [
        ("E01000001", "E05000101"),
        ("E01040001", "E05000101"),
        ("E01040002", "E05000102"),
        ("E01040003", "E05000102"),
    ]
    .map(|(l, w)| {
        [
            Some(l),
            Some(l),
            Some(w),
            Some(w),
            Some("E08000001"),
            Some("A"),
        ]
    });
    let rows: Vec<&[Option<&str>]> = lookup.iter().map(|r| r.as_slice()).collect();
    let batch = strings(
        &rows,
        &[
            "lsoa_code",
            "lsoa_name",
            "ward_code",
            "ward_name",
            "lad_code",
            "lad_name",
        ],
    );
    publish(
        wh,
        "lookup-lsoa21-wd24",
        "lookup",
        &[("lsoa", "LSOA21"), ("ward", "WD24")],
        "lookup",
        batch,
    )
    .await;

    let pairs = [
        ("E01000001", "E01000001"),
        ("E01000002", "E01040001"),
        ("E01000002", "E01040002"),
        ("E01000003", "E01040003"),
        ("E01000004", "E01040003"),
    ]
    .map(|(f, t)| [Some(f), Some(t)]);
    let rows: Vec<&[Option<&str>]> = pairs.iter().map(|r| r.as_slice()).collect();
    publish(
        wh,
        "bridge-lsoa11-lsoa21",
        "bridge",
        &[("from", "LSOA11"), ("to", "LSOA21")],
        "bridge",
        strings(&rows, &["from_code", "to_code"]),
    )
    .await;

    // 2011-coded counts for January 2019 and 2021 (the same numbers), 2021-coded for 2024.
    let mut old = Vec::new();
    for p in ["2019-01", "2021-01"] {
        old.extend([
            ("E01000001", p, 10.0),
            ("E01000002", p, 20.0),
            ("E01000003", p, 6.0),
            ("E01000004", p, 4.0),
        ]);
    }
    publish(
        wh,
        "counts-2011-coded",
        "census",
        &[],
        "observations",
        counts(&old),
    )
    .await;
    let new = [
        ("E01000001", "2024-01", 12.0),
        ("E01040001", "2024-01", 5.0),
        ("E01040002", "2024-01", 9.0),
        ("E01040003", "2024-01", 7.0),
    ];
    publish(
        wh,
        "counts-2021-coded",
        "census",
        &[],
        "observations",
        counts(&new),
    )
    .await;

    // The declared fallback, on 2011 LSOAs (never needed here: every LSOA has an estimate).
    let base = [
        ("E01000001", "-", 1000.0),
        ("E01000002", "-", 2000.0),
        ("E01000003", "-", 900.0),
        ("E01000004", "-", 1100.0),
    ];
    publish(
        wh,
        "base-2015",
        "census",
        &[],
        "observations",
        counts(&base),
    )
    .await;

    publish(
        wh,
        "population-census2021-lsoa21",
        "population",
        &[("lsoa", "LSOA21")],
        "population",
        population(&[
            ("E01000001", 2021, "census-2021", 1000.0),
            ("E01040001", 2021, "census-2021", 1500.0),
            ("E01040002", 2021, "census-2021", 500.0),
            ("E01040003", 2021, "census-2021", 2000.0),
        ]),
    )
    .await;
    publish(
        wh,
        "population-lsoa21",
        "population",
        &[("lsoa", "LSOA21")],
        "population",
        population(&[
            ("E01000001", 2023, "mid-2023", 1100.0),
            ("E01040001", 2023, "mid-2023", 1600.0),
            ("E01040002", 2023, "mid-2023", 600.0),
            ("E01040003", 2023, "mid-2023", 2100.0),
        ]),
    )
    .await;
}

fn request(period: &str) -> GapRequest {
    GapRequest {
        indicator: "events".into(),
        period: Some(period.into()),
        authority: Some("E08000001".into()),
        level: AreaLevel::Ward,
        benchmark: Benchmark::Authority,
    }
}

fn weighted() -> Scope {
    Scope {
        bridge_weights: Some("population-census2021-lsoa21".into()),
        ..Scope::default()
    }
}

fn figures(answer: &renewal_query::Answer) -> Vec<(String, f64, f64, f64)> {
    let b = &answer.batches[0];
    let s = column_str(b, "area_code");
    let (n, d, v) = (
        column_f64(b, "numerator"),
        column_f64(b, "denominator"),
        column_f64(b, "value"),
    );
    (0..b.num_rows())
        .map(|i| {
            (
                s[i].clone().unwrap(),
                n[i].unwrap(),
                d[i].unwrap(),
                v[i].unwrap(),
            )
        })
        .collect()
}

fn close(got: f64, want: f64) -> bool {
    (got - want).abs() <= 1e-9 * want.abs().max(1.0)
}

#[tokio::test]
async fn a_series_across_the_2021_boundary_change_on_2024_wards() {
    let dir = temp_dir();
    let wh = Warehouse::open_local(dir.path()).unwrap();
    warehouse(&wh).await;
    let e = engine(wh);

    // January 2021, 2011-coded: E01000002's 20 are split 1500 : 500 → 15 to E01040001 and 5 to
    // E01040002; E01000003 + E01000004 = 10 move whole to E01040003. Populations: Census 2021
    // (the only 2021 estimate). W1 = (10 + 15) / (1000 + 1500) = 10 per 1,000;
    // W2 = (5 + 10) / (500 + 2000) = 6; the authority 40 / 5000 = 8.
    let a = renewal_query::gap_table(&e, &request("2021-01"), &weighted())
        .await
        .unwrap();
    let f = figures(&a);
    assert_eq!(f.len(), 2);
    assert_eq!(f[0].0, "E05000101");
    assert!(
        close(f[0].1, 25.0) && close(f[0].2, 2500.0) && close(f[0].3, 10.0),
        "{f:?}"
    );
    assert!(
        close(f[1].1, 15.0) && close(f[1].2, 2500.0) && close(f[1].3, 6.0),
        "{f:?}"
    );
    let bench = column_f64(&a.batches[0], "benchmark_value");
    assert!(close(bench[0].unwrap(), 8.0), "{bench:?}");

    // January 2024, 2021-coded: no bridging; the base is the nearest earlier estimate, mid-2023
    // (nearer than the 2021 census). W1 = 17 / 2700, W2 = 16 / 2700 (per 1,000).
    let a = renewal_query::gap_table(&e, &request("2024-01"), &weighted())
        .await
        .unwrap();
    let f = figures(&a);
    assert!(
        close(f[0].1, 17.0) && close(f[0].2, 2700.0) && close(f[0].3, 17000.0 / 2700.0),
        "{f:?}"
    );
    assert!(
        close(f[1].1, 16.0) && close(f[1].2, 2700.0) && close(f[1].3, 16000.0 / 2700.0),
        "{f:?}"
    );

    // January 2019: nothing is estimated for 2019 or before, so the nearest later estimate
    // (Census 2021) is the base: the same figures as 2021.
    let a = renewal_query::gap_table(&e, &request("2019-01"), &weighted())
        .await
        .unwrap();
    let f = figures(&a);
    assert!(close(f[0].3, 10.0) && close(f[1].3, 6.0), "{f:?}");

    // The basis names the bridge, the weights and the share apportioned: half the 2011-coded
    // counts (E01000002's 20 of 40, in each of two periods) and 2,000 of the fallback's 5,000.
    let bridged: BTreeMap<&str, (f64, Option<&str>)> = a
        .basis
        .bridges
        .iter()
        .map(|b| {
            (
                b.dataset.as_str(),
                (b.apportioned_share, b.weights.as_deref()),
            )
        })
        .collect();
    assert_eq!(bridged.len(), 2, "{:?}", a.basis.bridges);
    assert!(close(bridged["counts-2011-coded"].0, 0.5));
    assert!(close(bridged["base-2015"].0, 0.4));
    assert_eq!(
        bridged["counts-2011-coded"].1,
        Some("population-census2021-lsoa21 v1")
    );
    assert!(
        a.basis
            .bridges
            .iter()
            .all(|b| b.from == "LSOA11" && b.to == "LSOA21")
    );
    assert_eq!(a.basis.datasets.get("bridge-lsoa11-lsoa21"), Some(&1));
    let notes = a.notes.join("\n");
    for expected in [
        "its own year's estimate, census-2021",
        "the nearest earlier estimate, mid-2023",
        "the nearest later estimate, census-2021",
    ] {
        assert!(notes.contains(expected), "missing {expected:?} in\n{notes}");
    }
}

#[tokio::test]
async fn splits_without_weights_are_refused_naming_them() {
    let dir = temp_dir();
    let wh = Warehouse::open_local(dir.path()).unwrap();
    warehouse(&wh).await;
    let e = engine(wh);
    let err = renewal_query::gap_table(&e, &request("2021-01"), &Scope::default())
        .await
        .unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, QueryError::Precondition(_)), "{err:?}");
    assert!(
        text.contains("E01040001, E01040002") && text.contains("--bridge-weights"),
        "{text}"
    );
}

#[tokio::test]
async fn a_dataset_mixing_vintages_is_refused() {
    let dir = temp_dir();
    let wh = Warehouse::open_local(dir.path()).unwrap();
    warehouse(&wh).await;
    // E01000002 exists only in 2011 and E01040003 only in 2021.
    publish(
        &wh,
        "counts-mixed",
        "census",
        &[],
        "observations",
        counts(&[("E01000002", "2022-01", 1.0), ("E01040003", "2022-01", 2.0)]),
    )
    .await;
    let e = engine(wh);
    let err = renewal_query::gap_table(&e, &request("2022-01"), &weighted())
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("counts-mixed")
            && err.contains("mixes LSOA vintages")
            && err.contains("E01000002")
            && err.contains("E01040003"),
        "{err}"
    );
}

/// IoD deciles as a long `iod` table plus its `lsoa` table.
async fn deciles(wh: &Warehouse, edition: &str, lsoa: &str, rows: &[(&str, f64)]) {
    let iod = RecordBatch::try_new(
        Arc::new(Schema::new(vec![
            Field::new("lsoa_code", DataType::Utf8, false),
            Field::new("domain", DataType::Utf8, false),
            Field::new("measure", DataType::Utf8, false),
            Field::new("value", DataType::Float64, false),
        ])),
        vec![
            Arc::new(StringArray::from_iter_values(rows.iter().map(|r| r.0))),
            Arc::new(StringArray::from_iter_values(rows.iter().map(|_| "imd"))),
            Arc::new(StringArray::from_iter_values(rows.iter().map(|_| "decile"))),
            Arc::new(Float64Array::from_iter_values(rows.iter().map(|r| r.1))),
        ],
    )
    .unwrap();
    let draft = Draft {
        dataset: format!("iod-{edition}"),
        kind: "iod".into(),
        vintage: BTreeMap::from([
            ("edition".into(), edition.into()),
            ("lsoa".into(), lsoa.into()),
        ]),
        attributes: BTreeMap::from([("national_lsoa_count".into(), "10".into())]),
        sources: vec![renewal_warehouse::SourceFile {
            name: format!("iod{edition}.csv"),
            size: 1,
            sha256: renewal_warehouse::sha256_hex(edition.as_bytes()),
            format: "fixture".into(),
            rows: 1,
        }],
        schemas: vec![],
        tables: vec![DraftTable {
            name: "iod".into(),
            parquet: parquet(iod),
        }],
        notes: vec![],
    };
    wh.publish(draft, PublishOptions::default()).await.unwrap();
}

#[tokio::test]
async fn selections_name_their_edition_and_cross_the_bridge() {
    use renewal_query::{Selection, SelectionRequest};
    let dir = temp_dir();
    let wh = Warehouse::open_local(dir.path()).unwrap();
    warehouse(&wh).await;
    // IoD2019 on 2011 LSOAs: E01000002 (split into E01040001, E01040002) and E01000003 in
    // deciles 1-2; E01000004, merged with E01000003 into E01040003, is not, so E01040003 is
    // only partly deprived on 2019's measure and is left out.
    deciles(
        &wh,
        "2019",
        "LSOA11",
        &[
            ("E01000001", 9.0),
            ("E01000002", 1.0),
            ("E01000003", 2.0),
            ("E01000004", 6.0),
        ],
    )
    .await;
    // IoD2025 on 2021 LSOAs: E01000001 and E01040003 in deciles 1-2.
    deciles(
        &wh,
        "2025",
        "LSOA21",
        &[
            ("E01000001", 2.0),
            ("E01040001", 7.0),
            ("E01040002", 7.0),
            ("E01040003", 1.0),
        ],
    )
    .await;
    let e = engine(wh);
    let versus = |selection: &str| SelectionRequest {
        indicator: "events".into(),
        period: Some("2024-01".into()),
        authority: "E08000001".into(),
        selection: selection.parse().unwrap(),
    };
    let selected = |a: &renewal_query::Answer| {
        (
            column_f64(&a.batches[0], "selected_numerator")[0],
            column_f64(&a.batches[0], "rest_numerator")[0],
        )
    };
    // January 2024 counts: E01000001 12, E01040001 5, E01040002 9, E01040003 7.
    // Without an edition, 2019's deciles: E01040001 + E01040002 = 14 against 12 + 7 = 19.
    let a = renewal_query::deprived_vs_rest(&e, &versus("imd-decile<=2"), &weighted())
        .await
        .unwrap();
    assert_eq!(selected(&a), (Some(14.0), Some(19.0)));
    let b = renewal_query::deprived_vs_rest(&e, &versus("imd2019-decile<=2"), &weighted())
        .await
        .unwrap();
    assert_eq!(selected(&b), (Some(14.0), Some(19.0)));
    // IoD2025's: E01000001 + E01040003 = 19 against 14.
    let c = renewal_query::deprived_vs_rest(&e, &versus("imd2025-decile<=2"), &weighted())
        .await
        .unwrap();
    assert_eq!(selected(&c), (Some(19.0), Some(14.0)));
    let d = renewal_query::deprived_vs_rest(&e, &versus("imdnewest-decile<=2"), &weighted())
        .await
        .unwrap();
    assert_eq!(selected(&d), (Some(19.0), Some(14.0)));
    let err = renewal_query::deprived_vs_rest(&e, &versus("imd2031-decile<=2"), &weighted())
        .await
        .unwrap_err();
    assert!(matches!(err, QueryError::InvalidArgument(_)), "{err:?}");

    // A registered selection pins its edition.
    let cat = catalog();
    let pin = |s: &str| {
        s.parse::<Selection>()
            .unwrap()
            .pinned(&cat)
            .unwrap()
            .to_string()
    };
    assert_eq!(pin("imd-decile<=2"), "imd2019-decile<=2");
    assert_eq!(pin("imdnewest-decile<=3"), "imd2025-decile<=3");
    assert_eq!(pin("areas:E05000101"), "areas:E05000101");
}

#[tokio::test]
async fn a_lookup_matching_none_of_the_data_is_refused() {
    let dir = temp_dir();
    let wh = Warehouse::open_local(dir.path()).unwrap();
    warehouse(&wh).await;
    // Counts only for LSOAs no lookup (nor the bridge) knows.
    publish(
        &wh,
        "counts-elsewhere",
        "census",
        &[],
        "observations",
        counts(&[("E01090001", "2025-01", 3.0), ("E01090002", "2025-01", 4.0)]),
    )
    .await;
    let mut cat = catalog();
    for (_, def) in cat.indicators.iter_mut() {
        def.numerator.dataset = "counts-elsewhere".into();
    }
    let e = Engine::new(wh, cat);
    let err = renewal_query::gap_table(&e, &request("2025-01"), &weighted())
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("none of the 2 LSOA codes") && err.contains("lookup-lsoa21-wd24"),
        "{err}"
    );
}

#[tokio::test]
async fn new_weights_are_a_new_aggregate() {
    let dir = temp_dir();
    let wh = Warehouse::open_local(dir.path()).unwrap();
    warehouse(&wh).await;
    // The same indicator without a population base: only the bridge weights name the Census
    // dataset, so only its version in the cache key can tell a re-weighted answer.
    let mut cat = catalog();
    for (_, def) in cat.indicators.iter_mut() {
        def.population = None;
    }
    let e = Engine::new(wh.clone(), cat);
    // January 2021, weights 1500 : 500: W2 = (5 + 10) / (500 + 2000) = 6 per 1,000 (the
    // fallback base is bridged by the same weights: E01000002's 2000 → 1500 + 500).
    let a = renewal_query::gap_table(&e, &request("2021-01"), &weighted())
        .await
        .unwrap();
    assert!(close(figures(&a)[1].3, 6.0), "{:?}", figures(&a));
    // Census re-published (another source file) with 500 : 1500:
    // W2 = (15 + 10) / (1500 + 2000) × 1000.
    crate::indicators::publish(
        &wh,
        "population-census2021-lsoa21",
        "population",
        &[("lsoa", "LSOA21")],
        "population",
        population(&[
            ("E01000001", 2021, "census-2021", 1000.0),
            ("E01040001", 2021, "census-2021", 500.0),
            ("E01040002", 2021, "census-2021", 1500.0),
            ("E01040003", 2021, "census-2021", 2000.0),
        ]),
        "census-revised",
    )
    .await;
    let b = renewal_query::gap_table(&e, &request("2021-01"), &weighted())
        .await
        .unwrap();
    assert!(
        close(figures(&b)[1].3, 25000.0 / 3500.0),
        "{:?}",
        figures(&b)
    );
    assert_eq!(
        b.basis.bridges[0].weights.as_deref(),
        Some("population-census2021-lsoa21 v2")
    );
}
