//! The query engine over a small hand-made warehouse: indicator definitions compiled to SQL,
//! aggregation by summing numerators and denominators, empty figures for incomplete areas,
//! disclosure control, gaps, deprived-vs-rest, cache keyed by dataset versions. Expected
//! figures are worked out by hand in the comments.

use std::collections::BTreeMap;
use std::sync::Arc;

use arrow::array::{Array, AsArray, Float64Array, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Schema};
use renewal_query::{
    AreaLevel, Benchmark, Engine, GapRequest, QueryError, Scope, Selection, SelectionRequest,
};
use renewal_schema::Catalog;
use renewal_test_support::{temp_dir, write_file};
use renewal_warehouse::{Draft, DraftTable, PublishOptions, Warehouse};

use crate::{parquet, strings};

pub(crate) async fn publish(
    wh: &Warehouse,
    dataset: &str,
    kind: &str,
    vintage: &[(&str, &str)],
    table: &str,
    batch: RecordBatch,
    tag: &str,
) {
    let draft = Draft {
        dataset: dataset.into(),
        kind: kind.into(),
        vintage: vintage
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        attributes: BTreeMap::from([("fit".into(), "best-fit".into())]),
        sources: vec![renewal_warehouse::SourceFile {
            name: format!("{tag}.csv"),
            size: 1,
            sha256: renewal_warehouse::sha256_hex(tag.as_bytes()),
            format: "fixture".into(),
            rows: batch.num_rows() as u64,
        }],
        schemas: vec![],
        tables: vec![DraftTable {
            name: table.into(),
            parquet: parquet(batch),
        }],
        notes: vec![],
    };
    wh.publish(draft, PublishOptions::default()).await.unwrap();
}

/// Authority A has wards W1 (L1, L2) and W2 (L3, L4); authority B has ward W3 (L5, L6).
pub(crate) async fn lookup(wh: &Warehouse) {
    let rows: Vec<[&str; 6]> = [
        ("E01000001", "E05000001", "E08000001"),
        ("E01000002", "E05000001", "E08000001"),
        ("E01000003", "E05000002", "E08000001"),
        ("E01000004", "E05000002", "E08000001"),
        ("E01000005", "E05000003", "E08000002"),
        ("E01000006", "E05000003", "E08000002"),
    ]
    .map(|(l, w, a)| [l, l, w, w, a, a])
    .to_vec();
    let rows: Vec<Vec<Option<&str>>> = rows
        .iter()
        .map(|r| r.iter().map(|s| Some(*s)).collect())
        .collect();
    let rows: Vec<&[Option<&str>]> = rows.iter().map(Vec::as_slice).collect();
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
        "lookup-lsoa11-wd19",
        "lookup",
        &[("lsoa", "LSOA11"), ("ward", "WD19")],
        "lookup",
        batch,
        "lookup",
    )
    .await;
}

/// Observations rows: (area, period, category, value).
pub(crate) fn observations(rows: &[(&str, &str, &str, Option<f64>)]) -> RecordBatch {
    let schema = Arc::new(Schema::new(vec![
        Field::new("area_code", DataType::Utf8, false),
        Field::new("period", DataType::Utf8, false),
        Field::new("category", DataType::Utf8, false),
        Field::new("measure", DataType::Utf8, false),
        Field::new("value", DataType::Float64, true),
    ]));
    RecordBatch::try_new(
        schema,
        vec![
            Arc::new(StringArray::from_iter_values(rows.iter().map(|r| r.0))),
            Arc::new(StringArray::from_iter_values(rows.iter().map(|r| r.1))),
            Arc::new(StringArray::from_iter_values(rows.iter().map(|r| r.2))),
            Arc::new(StringArray::from_iter_values(rows.iter().map(|_| "Count"))),
            Arc::new(rows.iter().map(|r| r.3).collect::<Float64Array>()),
        ],
    )
    .unwrap()
}

pub(crate) const SICK: &str = r#"
id = "sick"
title = "Sick residents"
theme = "health"
value_type = "proportion"
multiplier = 100
unit = "%"
polarity = "lower-is-better"
source = "fixture"
native_geography = "lsoa"

[numerator]
dataset = "census-*health*"
where = "measure = 'Count' AND category = 'Sick'"
period = "period"

[denominator]
dataset = "census-*health*"
where = "measure = 'Count'"
period = "period"
"#;

pub(crate) fn engine(wh: Warehouse) -> Engine {
    let dir = temp_dir();
    std::fs::create_dir_all(dir.path().join("indicators")).unwrap();
    write_file(&dir.path().join("indicators"), "sick.toml", SICK);
    let catalog = Catalog::load_dir(dir.path()).unwrap();
    Engine::new(wh, catalog)
}

/// Sick / well residents per LSOA for 2011 and 2021.
pub(crate) fn census_rows(
    period: &str,
    counts: &[(&str, f64, f64)],
) -> Vec<(String, String, String, f64)> {
    counts
        .iter()
        .flat_map(|(l, sick, well)| {
            [
                (l.to_string(), period.to_string(), "Sick".to_string(), *sick),
                (l.to_string(), period.to_string(), "Well".to_string(), *well),
            ]
        })
        .collect()
}

pub(crate) async fn census(
    wh: &Warehouse,
    dataset: &str,
    rows: Vec<(String, String, String, f64)>,
    tag: &str,
) {
    let borrowed: Vec<(&str, &str, &str, Option<f64>)> = rows
        .iter()
        .map(|(a, p, c, v)| (a.as_str(), p.as_str(), c.as_str(), Some(*v)))
        .collect();
    publish(
        wh,
        dataset,
        "census",
        &[],
        "observations",
        observations(&borrowed),
        tag,
    )
    .await;
}

pub(crate) fn column_f64(batch: &RecordBatch, name: &str) -> Vec<Option<f64>> {
    let c = batch.column_by_name(name).unwrap();
    let c = c.as_primitive::<arrow::datatypes::Float64Type>();
    (0..c.len())
        .map(|i| c.is_valid(i).then(|| c.value(i)))
        .collect()
}

pub(crate) fn column_str(batch: &RecordBatch, name: &str) -> Vec<Option<String>> {
    let c = batch.column_by_name(name).unwrap();
    let c = c.as_string::<i32>();
    (0..c.len())
        .map(|i| c.is_valid(i).then(|| c.value(i).to_owned()))
        .collect()
}

pub(crate) const LSOA_COUNTS: [(&str, f64, f64); 6] = [
    ("E01000001", 30.0, 70.0),
    ("E01000002", 10.0, 190.0),
    ("E01000003", 2.0, 98.0),
    ("E01000004", 8.0, 92.0),
    ("E01000005", 20.0, 80.0),
    ("E01000006", 20.0, 80.0),
];

#[tokio::test]
async fn wards_sum_numerators_and_denominators() {
    let dir = temp_dir();
    let wh = Warehouse::open_local(dir.path()).unwrap();
    lookup(&wh).await;
    // LSOA_COUNTS with L3 and L4 at 5 sick each (no count below 5, so nothing is withheld and
    // every ward is released; disclosure_incompleteness_and_the_rest covers withholding).
    let mut counts = LSOA_COUNTS.to_vec();
    counts[2] = ("E01000003", 5.0, 95.0);
    counts[3] = ("E01000004", 5.0, 95.0);
    census(
        &wh,
        "census-2021-health",
        census_rows("2021-03-21", &counts),
        "c1",
    )
    .await;
    let e = engine(wh);
    let request = GapRequest {
        indicator: "sick".into(),
        period: None,
        authority: Some("E08000001".into()),
        level: AreaLevel::Ward,
        benchmark: Benchmark::Authority,
    };
    let answer = renewal_query::gap_table(&e, &request, &Scope::default())
        .await
        .unwrap();
    let b = &answer.batches[0];
    assert_eq!(
        column_str(b, "area_code"),
        [Some("E05000001".into()), Some("E05000002".into())]
    );
    // W1: (30 + 10) / (100 + 200) = 13.33%, not the mean of 30% and 5% (17.5%).
    // W2: (5 + 5) / 200 = 5%. Authority A: 50 / 500 = 10%.
    let value = column_f64(b, "value");
    assert!((value[0].unwrap() - 40.0 / 3.0).abs() < 1e-12);
    assert!((value[1].unwrap() - 5.0).abs() < 1e-12);
    assert_eq!(column_f64(b, "benchmark_value"), [Some(10.0), Some(10.0)]);
    let gap = column_f64(b, "gap");
    assert!((gap[0].unwrap() - 10.0 / 3.0).abs() < 1e-12);
    assert!((gap[1].unwrap() + 5.0).abs() < 1e-12);
    // Wilson 95% for 40/300 is 9.95% to 17.65%: the benchmark 10% lies inside → similar.
    // For 10/200 it is 2.74% to 8.97%: outside, and lower is better → better.
    let w = renewal_stats::wilson(40.0, 300.0, renewal_stats::Confidence::P95).unwrap();
    assert!((column_f64(b, "lower_95")[0].unwrap() - 100.0 * w.lower).abs() < 1e-9);
    assert_eq!(
        column_str(b, "comparison_95"),
        [Some("similar".into()), Some("better".into())]
    );
    // Lower is better: the higher value is ranked 1 (worst).
    let ranks = b
        .column_by_name("rank_in_parent")
        .unwrap()
        .as_primitive::<arrow::datatypes::Int64Type>()
        .values()
        .to_vec();
    assert_eq!(ranks, [1, 2]);
    assert!(
        answer.basis.method.starts_with("best-fit"),
        "{}",
        answer.basis.method
    );
    assert_eq!(answer.basis.datasets["census-2021-health"], 1);

    // Against England (all six LSOAs): 90 / 700 = 12.857%.
    let england = GapRequest {
        benchmark: Benchmark::England,
        ..request.clone()
    };
    let answer = renewal_query::gap_table(&e, &england, &Scope::default())
        .await
        .unwrap();
    for b in column_f64(&answer.batches[0], "benchmark_value") {
        assert!((b.unwrap() - 900.0 / 70.0).abs() < 1e-12);
    }
}

#[tokio::test]
async fn disclosure_incompleteness_and_the_rest() {
    let dir = temp_dir();
    let wh = Warehouse::open_local(dir.path()).unwrap();
    lookup(&wh).await;
    // L6 is missing: ward W3 and authority B have no figure (a partial sum would mislead).
    let mut counts = LSOA_COUNTS.to_vec();
    counts.pop();
    census(
        &wh,
        "census-2021-health",
        census_rows("2021-03-21", &counts),
        "c1",
    )
    .await;
    let e = engine(wh);
    let all = GapRequest {
        indicator: "sick".into(),
        period: Some("2021-03-21".into()),
        authority: None,
        level: AreaLevel::Lsoa,
        benchmark: Benchmark::Authority,
    };
    let answer = renewal_query::gap_table(&e, &all, &Scope::default())
        .await
        .unwrap();
    let b = &answer.batches[0];
    let codes = column_str(b, "area_code");
    let suppressed = b
        .column_by_name("suppressed")
        .unwrap()
        .as_boolean()
        .iter()
        .collect::<Vec<_>>();
    // L3 has 2 sick residents: below 5, so value and numerator are withheld, flagged.
    let l3 = codes
        .iter()
        .position(|c| c.as_deref() == Some("E01000003"))
        .unwrap();
    assert_eq!(suppressed[l3], Some(true));
    assert_eq!(column_f64(b, "value")[l3], None);
    assert_eq!(column_f64(b, "numerator")[l3], None);
    assert_eq!(column_f64(b, "denominator")[l3], None);
    let withheld = column_str(b, "withheld");
    assert_eq!(withheld[l3].as_deref(), Some("below-threshold"));
    // Its complement is L4, the other LSOA of its ward W2 (2 + 8 − 5 ≥ 4: L3 can still be any
    // of 0..=4): withheld too, so W2's total (10) minus what is released gives only L3 + L4.
    let at = |code: &str| {
        codes
            .iter()
            .position(|c| c.as_deref() == Some(code))
            .unwrap()
    };
    assert_eq!(withheld[at("E01000004")].as_deref(), Some("complementary"));
    assert_eq!(column_f64(b, "numerator")[at("E01000004")], None);
    assert_eq!(column_f64(b, "numerator")[at("E01000001")], Some(30.0));
    assert_eq!(column_f64(b, "numerator")[at("E01000002")], Some(10.0));
    assert_eq!(column_f64(b, "benchmark_value")[l3], Some(10.0));
    assert_eq!(
        answer
            .notes
            .iter()
            .filter(|n| n.contains("1 figures withheld as counts below 5, 1 more"))
            .count(),
        1,
        "{:?}",
        answer.notes
    );
    // Wards hold the group whole or not at all: both released.
    let wards = renewal_query::gap_table(
        &e,
        &GapRequest {
            level: AreaLevel::Ward,
            authority: Some("E08000001".into()),
            ..all.clone()
        },
        &Scope::default(),
    )
    .await
    .unwrap();
    let wb = &wards.batches[0];
    assert_eq!(column_str(wb, "withheld"), [None, None]);
    assert_eq!(column_f64(wb, "numerator"), [Some(40.0), Some(10.0)]);
    // L5's authority B lacks L6: no benchmark, no gap, but L5's own value stands.
    let l5 = codes
        .iter()
        .position(|c| c.as_deref() == Some("E01000005"))
        .unwrap();
    assert_eq!(column_f64(b, "value")[l5], Some(20.0));
    assert_eq!(column_f64(b, "benchmark_value")[l5], None);
    assert_eq!(column_f64(b, "gap")[l5], None);
    assert!(
        answer.notes.iter().any(|n| n.contains("left empty")),
        "{:?}",
        answer.notes
    );

    // A selection splitting the group {L3, L4}: L3 alone is below the threshold, and its rest
    // (L1, L2, L4) would reveal it from the authority's total; the authority stands.
    let versus = SelectionRequest {
        indicator: "sick".into(),
        period: None,
        authority: "E08000001".into(),
        selection: "areas:E01000003".parse::<Selection>().unwrap(),
    };
    let answer = renewal_query::deprived_vs_rest(&e, &versus, &Scope::default())
        .await
        .unwrap();
    let b = &answer.batches[0];
    assert_eq!(column_f64(b, "selected_numerator"), [None]);
    assert_eq!(column_f64(b, "selected_denominator"), [None]);
    assert_eq!(column_f64(b, "rest_numerator"), [None]);
    assert_eq!(column_f64(b, "rest_denominator"), [None]);
    assert_eq!(column_f64(b, "rest_value"), [None]);
    assert_eq!(column_f64(b, "gap"), [None]);
    assert_eq!(
        column_str(b, "selected_withheld"),
        [Some("below-threshold".into())]
    );
    assert_eq!(
        column_str(b, "rest_withheld"),
        [Some("complementary".into())]
    );
    assert_eq!(column_f64(b, "authority_value"), [Some(10.0)]);
    let split = SelectionRequest {
        selection: "areas:E01000001,E01000003".parse::<Selection>().unwrap(),
        ..versus.clone()
    };
    let answer = renewal_query::deprived_vs_rest(&e, &split, &Scope::default())
        .await
        .unwrap();
    assert_eq!(
        column_str(&answer.batches[0], "selected_withheld"),
        [Some("complementary".into())]
    );
    // Deprived vs rest: W1's LSOAs (40/300) against the rest of A, W2 (10/200, the whole
    // group), not against A (50/500).
    let versus = SelectionRequest {
        selection: "areas:E05000001".parse::<Selection>().unwrap(),
        ..versus
    };
    let answer = renewal_query::deprived_vs_rest(&e, &versus, &Scope::default())
        .await
        .unwrap();
    let b = &answer.batches[0];
    assert_eq!(column_f64(b, "selected_value"), [Some(40.0 / 3.0)]);
    assert_eq!(column_f64(b, "rest_value"), [Some(5.0)]);
    assert_eq!(column_f64(b, "authority_value"), [Some(10.0)]);
    let d = renewal_stats::proportion_difference(
        40.0,
        300.0,
        10.0,
        200.0,
        renewal_stats::Confidence::P95,
    )
    .unwrap();
    assert!((column_f64(b, "gap_lower_95")[0].unwrap() - 100.0 * d.lower).abs() < 1e-9);
    assert!((column_f64(b, "gap_upper_95")[0].unwrap() - 100.0 * d.upper).abs() < 1e-9);
}

#[tokio::test]
async fn overlapping_datasets_are_an_error_and_versions_key_the_cache() {
    let dir = temp_dir();
    let wh = Warehouse::open_local(dir.path()).unwrap();
    lookup(&wh).await;
    census(
        &wh,
        "census-2021-health",
        census_rows("2021-03-21", &LSOA_COUNTS),
        "c1",
    )
    .await;
    let e = engine(wh.clone());
    let scope = Scope::default();
    let first = e.aggregate("sick", &scope).await.unwrap();
    let again = e.aggregate("sick", &scope).await.unwrap();
    assert!(
        Arc::ptr_eq(&first, &again),
        "same versions: the cached aggregate"
    );
    assert_eq!(e.cached(), 1);

    // A new version (a refresh) is a new aggregate, with the new figures.
    let mut counts = LSOA_COUNTS.to_vec();
    counts[0].1 = 60.0;
    census(
        &wh,
        "census-2021-health",
        census_rows("2021-03-21", &counts),
        "c2",
    )
    .await;
    let fresh = e.aggregate("sick", &scope).await.unwrap();
    assert!(!Arc::ptr_eq(&first, &fresh));
    let w1 = fresh
        .figure(AreaLevel::Ward, "E05000001", "2021-03-21")
        .unwrap();
    assert_eq!(w1.numerator, Some(70.0));
    assert_eq!(fresh.basis.datasets["census-2021-health"], 2);

    // A second dataset with the same cells would double count: refused, naming both.
    census(
        &wh,
        "census-2021-health-copy",
        census_rows("2021-03-21", &LSOA_COUNTS),
        "c3",
    )
    .await;
    let err = e.aggregate("sick", &scope).await.err().unwrap();
    assert!(matches!(err, QueryError::Precondition(_)), "{err}");
    let message = err.to_string();
    assert!(
        message.contains("census-2021-health and census-2021-health-copy"),
        "{message}"
    );

    // Unknown indicator: not found.
    let err = e.aggregate("nope", &scope).await.err().unwrap();
    assert!(matches!(err, QueryError::NotFound(_)), "{err}");
}

#[tokio::test]
async fn narrowing_gap_series() {
    let dir = temp_dir();
    let wh = Warehouse::open_local(dir.path()).unwrap();
    lookup(&wh).await;
    // W1's rate falls from 30% to 14% over five years while the rest of A stays at 10%.
    let mut rows = Vec::new();
    for (i, year) in ["2015", "2016", "2017", "2018", "2019"].iter().enumerate() {
        let w1 = 300.0 - 40.0 * i as f64;
        rows.extend(census_rows(
            year,
            &[
                ("E01000001", w1 / 2.0, 500.0 - w1 / 2.0),
                ("E01000002", w1 / 2.0, 500.0 - w1 / 2.0),
                ("E01000003", 50.0, 450.0),
                ("E01000004", 50.0, 450.0),
                ("E01000005", 50.0, 450.0),
                ("E01000006", 50.0, 450.0),
            ],
        ));
    }
    census(&wh, "census-health", rows, "series").await;
    let e = engine(wh);
    let request = renewal_query::TrendRequest {
        indicator: "sick".into(),
        authority: "E08000001".into(),
        selection: Selection::Areas(vec!["E05000001".into()]),
    };
    let answer = renewal_query::narrowing(&e, &request, &Scope::default())
        .await
        .unwrap();
    let b = &answer.batches[0];
    assert_eq!(b.num_rows(), 5);
    let gaps = column_f64(b, "gap");
    for (got, want) in gaps.iter().zip([20.0, 16.0, 12.0, 8.0, 4.0]) {
        assert!((got.unwrap() - want).abs() < 1e-9, "{gaps:?}");
    }
    let last = |c: &str| column_str(b, c)[4].clone();
    assert_eq!(last("trend").as_deref(), Some("decreasing"));
    assert_eq!(last("gap_trend").as_deref(), Some("narrowing"));
}

/// Registrations racing each other all survive: a write overtaken by another is redone on
/// top of it.
#[tokio::test]
async fn concurrent_registrations_lose_nothing() {
    let dir = temp_dir();
    let wh = Warehouse::open_local(dir.path()).unwrap();
    let register = |i: usize| {
        let wh = wh.clone();
        tokio::spawn(async move {
            renewal_query::register_neighbourhood(
                &wh,
                renewal_query::Neighbourhood {
                    id: format!("n{i}"),
                    name: format!("Neighbourhood {i}"),
                    owner: "test".into(),
                    lsoas: vec![format!("E0100000{i}")],
                },
            )
            .await
            .unwrap()
        })
    };
    let tasks: Vec<_> = (1..=4).map(register).collect();
    for t in tasks {
        t.await.unwrap();
    }
    let ids: Vec<String> = renewal_query::neighbourhoods(&wh)
        .await
        .unwrap()
        .into_iter()
        .map(|n| n.id)
        .collect();
    assert_eq!(ids, ["n1", "n2", "n3", "n4"]);
}
