//! IoD summaries on a hand-computed fixture (N = 100 so an LSOA's percentile is its rank).

use arrow::array::{Array, AsArray};
use arrow::datatypes::{Float64Type, Int64Type, UInt64Type};
use renewal_geo::Fit;
use renewal_query::{QueryError, SUMMARY_COLUMNS, SummaryLevel, SummaryRequest, iod_summary};
use renewal_test_support::temp_dir;
use renewal_warehouse::Warehouse;

use crate::{
    Lsoa, REST_OF_ENGLAND, publish_iod, publish_iod_cells, publish_lookup, rest_of_england,
};

/// The hand-worked LSOAs of [`fixture`] plus the rest of England, so areas are ranked.
fn complete_fixture() -> Vec<Lsoa> {
    let mut all = fixture();
    let rest = rest_of_england(&all, 100);
    all.extend(rest);
    all
}

fn fixture() -> Vec<Lsoa> {
    let l = |code, lad, rank, score, pop| Lsoa {
        code,
        lad,
        rank,
        score,
        pop,
    };
    vec![
        // E08000001 "A": 1,000 people.
        l("E01000001", "E08000001", 5.0, 50.0, Some(50.0)),
        l("E01000002", "E08000001", 15.0, 30.0, Some(350.0)),
        l("E01000003", "E08000001", 60.0, 10.0, Some(600.0)),
        // E08000002 "B": 400 people.
        l("E01000004", "E08000002", 25.0, 20.0, Some(200.0)),
        l("E01000005", "E08000002", 90.0, 5.0, Some(200.0)),
        // E08000003 "C": one LSOA has no population figure.
        l("E01000006", "E08000003", 3.0, 60.0, Some(100.0)),
        l("E01000007", "E08000003", 50.0, 10.0, None),
    ]
}

/// One output row, by column name; `None` for an empty (null) cell.
#[derive(Debug, PartialEq)]
struct Row {
    code: String,
    lsoa_count: i64,
    population: Option<f64>,
    average_score: Option<f64>,
    rank_of_average_score: Option<u64>,
    average_rank: Option<f64>,
    rank_of_average_rank: Option<u64>,
    proportion: Option<f64>,
    extent: Option<f64>,
    local_concentration: Option<f64>,
}

fn rows(summary: &renewal_query::Summary) -> Vec<Row> {
    let names: Vec<&str> = summary
        .schema
        .fields()
        .iter()
        .map(|f| f.name().as_str())
        .collect();
    assert_eq!(names, SUMMARY_COLUMNS);
    let mut out = Vec::new();
    for b in &summary.batches {
        let f = |i: usize, r: usize| {
            let a = b.column(i).as_primitive::<Float64Type>();
            (!a.is_null(r)).then(|| a.value(r))
        };
        let u = |i: usize, r: usize| {
            let a = b.column(i).as_primitive::<UInt64Type>();
            (!a.is_null(r)).then(|| a.value(r))
        };
        for r in 0..b.num_rows() {
            let code = b.column(0).as_string::<i32>().value(r);
            if code == REST_OF_ENGLAND || code == REST_OF_ENGLAND_WARD {
                continue;
            }
            out.push(Row {
                code: code.to_owned(),
                lsoa_count: b.column(2).as_primitive::<Int64Type>().value(r),
                population: f(3, r),
                average_score: f(4, r),
                rank_of_average_score: u(5, r),
                average_rank: f(6, r),
                rank_of_average_rank: u(7, r),
                proportion: f(8, r),
                extent: f(9, r),
                local_concentration: f(10, r),
            });
        }
    }
    out
}

fn close(a: Option<f64>, b: Option<f64>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => (a - b).abs() < 1e-9,
        (None, None) => true,
        _ => false,
    }
}

fn assert_row(got: &Row, want: &Row) {
    assert_eq!(got.code, want.code);
    assert_eq!(got.lsoa_count, want.lsoa_count, "{}", got.code);
    assert_eq!(
        got.rank_of_average_score, want.rank_of_average_score,
        "{}",
        got.code
    );
    assert_eq!(
        got.rank_of_average_rank, want.rank_of_average_rank,
        "{}",
        got.code
    );
    for (name, g, w) in [
        ("population", got.population, want.population),
        ("average_score", got.average_score, want.average_score),
        ("average_rank", got.average_rank, want.average_rank),
        ("proportion", got.proportion, want.proportion),
        ("extent", got.extent, want.extent),
        (
            "local_concentration",
            got.local_concentration,
            want.local_concentration,
        ),
    ] {
        assert!(close(g, w), "{} {name}: got {g:?}, want {w:?}", got.code);
    }
}

/// The ward of [`rest_of_england`]'s LSOAs in the lookups below.
const REST_OF_ENGLAND_WARD: &str = "E05999999";

// Extent weights by hand: percentile 15 → 0.05 + (30 − 15)·0.9/19; 25 → 0.05 + 5·0.9/19.
const W15: f64 = 0.05 + 15.0 * 0.9 / 19.0;
const W25: f64 = 0.05 + 5.0 * 0.9 / 19.0;

/// A lookup's rows plus ward [`REST_OF_ENGLAND_WARD`] for every rest-of-England LSOA.
fn with_rest_of_england<'a>(
    rows: &[(&'a str, &'a str, &'a str)],
    lsoas: &'a [Lsoa],
) -> Vec<(&'a str, &'a str, &'a str)> {
    let rest = lsoas
        .iter()
        .filter(|l| l.lad == REST_OF_ENGLAND)
        .map(|l| (l.code, REST_OF_ENGLAND_WARD, REST_OF_ENGLAND));
    rows.iter().copied().chain(rest).collect()
}

fn request(level: SummaryLevel) -> SummaryRequest {
    SummaryRequest {
        vintage: "2019".into(),
        level,
        pins: Default::default(),
        domain: None,
    }
}

#[tokio::test]
async fn lad_summaries_match_hand_computation() {
    let dir = temp_dir();
    let wh = Warehouse::open_local(dir.path()).unwrap();
    publish_iod(&wh, "2019", 100, &complete_fixture(), "v1").await;
    let summary = iod_summary(&wh, &request(SummaryLevel::Lad)).await.unwrap();
    assert!(
        !summary.notes.iter().any(|n| n.starts_with("ranks need")),
        "{:?}",
        summary.notes
    );
    assert_eq!(summary.basis.fit, Fit::Exact);
    assert_eq!(summary.basis.datasets.get("iod-2019"), Some(&1));
    let got = rows(&summary);
    let want = [
        Row {
            code: "E08000001".into(),
            lsoa_count: 3,
            population: Some(1000.0),
            // (50·50 + 350·30 + 600·10) / 1000
            average_score: Some(19.0),
            rank_of_average_score: Some(1),
            // (50·96 + 350·86 + 600·41) / 1000, re-ranked so 101 − r
            average_rank: Some(59.5),
            rank_of_average_rank: Some(1),
            proportion: Some(1.0 / 3.0),
            extent: Some((50.0 + 350.0 * W15) / 1000.0),
            // 10% = 100 people: all 50 of rank 5 (96) and 50 of the 350 at rank 15 (86).
            local_concentration: Some((50.0 * 96.0 + 50.0 * 86.0) / 100.0),
        },
        Row {
            code: "E08000002".into(),
            lsoa_count: 2,
            population: Some(400.0),
            average_score: Some(12.5),
            rank_of_average_score: Some(2),
            average_rank: Some((200.0 * 76.0 + 200.0 * 11.0) / 400.0),
            rank_of_average_rank: Some(2),
            proportion: Some(0.0),
            extent: Some(200.0 * W25 / 400.0),
            local_concentration: Some(76.0),
        },
        Row {
            // A missing population leaves every population-weighted figure empty; the
            // proportion in the most deprived 10% needs only ranks.
            code: "E08000003".into(),
            lsoa_count: 2,
            population: None,
            average_score: None,
            rank_of_average_score: None,
            average_rank: None,
            rank_of_average_rank: None,
            proportion: Some(0.5),
            extent: None,
            local_concentration: None,
        },
    ];
    assert_eq!(got.len(), want.len());
    for (g, w) in got.iter().zip(&want) {
        assert_row(g, w);
    }
    assert!(
        summary
            .notes
            .iter()
            // E08000003 and the rest of England, which has no populations.
            .any(|n| n.starts_with("2 areas have an LSOA without an IMD population")),
        "{:?}",
        summary.notes
    );
}

#[tokio::test]
async fn ward_summaries_use_the_lookup_and_say_they_are_best_fit() {
    let dir = temp_dir();
    let wh = Warehouse::open_local(dir.path()).unwrap();
    let all = complete_fixture();
    publish_iod(&wh, "2019", 100, &all, "v1").await;

    let err = iod_summary(&wh, &request(SummaryLevel::Ward(None)))
        .await
        .unwrap_err();
    assert!(matches!(err, QueryError::Precondition(_)), "{err}");

    let lookup = with_rest_of_england(
        &[
            ("E01000001", "E05000001", "E08000001"),
            ("E01000002", "E05000001", "E08000001"),
            ("E01000003", "E05000002", "E08000001"),
            ("E01000004", "E05000002", "E08000002"),
            ("E01000005", "E05000003", "E08000002"),
            // E01000006 and E01000007 have no ward.
            ("W01000001", "W05000001", "W06000001"),
        ],
        &all,
    );
    publish_lookup(&wh, "WD19", &lookup).await;
    let summary = iod_summary(&wh, &request(SummaryLevel::Ward(None)))
        .await
        .unwrap();
    assert_eq!(summary.basis.fit, Fit::BestFit);
    assert!(
        summary
            .basis
            .method
            .starts_with("best-fit: LSOA11 LSOAs assigned whole to WD19 wards")
    );
    assert_eq!(summary.basis.datasets.get("lookup-lsoa11-wd19"), Some(&1));
    assert!(
        summary
            .notes
            .iter()
            .any(|n| n.starts_with("2 LSOAs of iod-2019 have no WD19 ward")),
        "{:?}",
        summary.notes
    );
    let got = rows(&summary);
    let codes: Vec<&str> = got.iter().map(|r| r.code.as_str()).collect();
    // The Welsh ward has no IoD LSOA and is not listed.
    assert_eq!(codes, ["E05000001", "E05000002", "E05000003"]);
    assert_row(
        &got[0],
        &Row {
            code: "E05000001".into(),
            lsoa_count: 2,
            population: Some(400.0),
            average_score: Some((50.0 * 50.0 + 350.0 * 30.0) / 400.0),
            rank_of_average_score: Some(1),
            average_rank: Some((50.0 * 96.0 + 350.0 * 86.0) / 400.0),
            rank_of_average_rank: Some(1),
            proportion: Some(0.5),
            extent: Some((50.0 + 350.0 * W15) / 400.0),
            local_concentration: Some(96.0),
        },
    );
    // A ward across two districts still sums its LSOAs: 600 at rank 60 and 200 at rank 25.
    assert_row(
        &got[1],
        &Row {
            code: "E05000002".into(),
            lsoa_count: 2,
            population: Some(800.0),
            average_score: Some((600.0 * 10.0 + 200.0 * 20.0) / 800.0),
            rank_of_average_score: Some(2),
            average_rank: Some((600.0 * 41.0 + 200.0 * 76.0) / 800.0),
            rank_of_average_rank: Some(2),
            proportion: Some(0.0),
            extent: Some(200.0 * W25 / 800.0),
            local_concentration: Some(76.0),
        },
    );

    let err = iod_summary(
        &wh,
        &request(SummaryLevel::Ward(Some("WD22".parse().unwrap()))),
    )
    .await
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "no LSOA11 → WD22 lookup in the warehouse (dataset lookup-lsoa11-wd22); ingest one with `renewal ingest lookup`"
    );
}

#[tokio::test]
async fn earlier_versions_can_be_queried() {
    let dir = temp_dir();
    let wh = Warehouse::open_local(dir.path()).unwrap();
    publish_iod(&wh, "2019", 100, &fixture(), "v1").await;
    let mut changed = fixture();
    changed[0].score = 90.0;
    publish_iod(&wh, "2019", 100, &changed, "v2").await;

    let now = iod_summary(&wh, &request(SummaryLevel::Lad)).await.unwrap();
    assert_eq!(now.basis.datasets["iod-2019"], 2);
    assert!(close(rows(&now)[0].average_score, Some(21.0)));

    let mut old = request(SummaryLevel::Lad);
    old.pins.insert("iod-2019".into(), 1);
    let then = iod_summary(&wh, &old).await.unwrap();
    assert_eq!(then.basis.datasets["iod-2019"], 1);
    assert!(close(rows(&then)[0].average_score, Some(19.0)));

    old.pins.insert("iod-2019".into(), 9);
    let err = iod_summary(&wh, &old).await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "dataset \"iod-2019\" has no version 9 (available: 1, 2)"
    );
}

/// Equal figures tie in rank even when floating point leaves them a bit apart: 9.46 × 1,234 /
/// 1,234 and 9.46 × 987 / 987 need not be the same double.
#[tokio::test]
async fn equal_average_scores_share_a_rank() {
    let dir = temp_dir();
    let wh = Warehouse::open_local(dir.path()).unwrap();
    let l = |code, score, pop| Lsoa {
        code,
        lad: "E08000001",
        rank: 50.0,
        score,
        pop: Some(pop),
    };
    let lsoas = [
        l("E01000001", 9.46, 1234.0),
        l("E01000002", 9.46, 987.0),
        l("E01000003", 20.0, 1000.0),
        l("E01000004", 1.0, 1000.0),
    ];
    let mut all = lsoas.to_vec();
    all.extend(rest_of_england(&lsoas, 100));
    publish_iod(&wh, "2019", 100, &all, "ties").await;
    let lookup = with_rest_of_england(
        &[
            ("E01000001", "E05000001", "E08000001"),
            ("E01000002", "E05000002", "E08000001"),
            ("E01000003", "E05000003", "E08000001"),
            ("E01000004", "E05000004", "E08000001"),
        ],
        &all,
    );
    publish_lookup(&wh, "WD19", &lookup).await;
    let summary = iod_summary(&wh, &request(SummaryLevel::Ward(None)))
        .await
        .unwrap();
    let ranks: Vec<(String, Option<u64>)> = rows(&summary)
        .into_iter()
        .map(|r| (r.code, r.rank_of_average_score))
        .collect();
    assert_eq!(
        ranks,
        [
            ("E05000001".into(), Some(2)),
            ("E05000002".into(), Some(2)),
            ("E05000003".into(), Some(1)),
            ("E05000004".into(), Some(4)),
        ]
    );
}

/// An incomplete edition (7 of 100 LSOAs, as a partnership loading only its own area): figures
/// as before, but no area ranks, and a note saying why.
#[tokio::test]
async fn partial_editions_leave_every_area_rank_empty() {
    let dir = temp_dir();
    let wh = Warehouse::open_local(dir.path()).unwrap();
    publish_iod(&wh, "2019", 100, &fixture(), "v1").await;
    let summary = iod_summary(&wh, &request(SummaryLevel::Lad)).await.unwrap();
    let got = rows(&summary);
    assert_eq!(got.len(), 3);
    assert!(got.iter().all(|r| r.rank_of_average_score.is_none()));
    assert!(got.iter().all(|r| r.rank_of_average_rank.is_none()));
    // The figures themselves are still there: (50·50 + 350·30 + 600·10) / 1000.
    assert!(close(got[0].average_score, Some(19.0)));
    assert!(close(got[0].proportion, Some(1.0 / 3.0)));
    assert!(
        summary.notes.iter().any(|n| n
            == "ranks need all 100 LSOAs of IoD2019; 7 loaded: every rank_of_ column is left empty"),
        "{:?}",
        summary.notes
    );

    let mut domain = request(SummaryLevel::Lad);
    domain.domain = Some("imd".into());
    let cells = cells(&iod_summary(&wh, &domain).await.unwrap());
    for row in cells.values() {
        for (column, value) in row {
            if column.starts_with("rank_of_") {
                assert_eq!(*value, None, "{column}");
            }
        }
    }
}

/// Every output cell by area and column name (numbers as f64; `None` when empty).
fn cells(
    summary: &renewal_query::Summary,
) -> std::collections::BTreeMap<String, Vec<(String, Option<f64>)>> {
    let mut out = std::collections::BTreeMap::new();
    for b in &summary.batches {
        for r in 0..b.num_rows() {
            let code = b.column(0).as_string::<i32>().value(r).to_owned();
            let mut row = Vec::new();
            for (i, field) in b.schema().fields().iter().enumerate().skip(2) {
                let a = arrow::compute::cast(b.column(i), &arrow::datatypes::DataType::Float64)
                    .unwrap();
                let a = a.as_primitive::<Float64Type>();
                row.push((field.name().clone(), (!a.is_null(r)).then(|| a.value(r))));
            }
            out.insert(code, row);
        }
    }
    out
}

/// Ten LSOAs in three districts, N = 10 (a complete edition, so LSOA rank r is percentile
/// 10 r and only rank 1 is in the most deprived 10%). Income, employment and IMD share the
/// ranks; scores differ. Populations: total as listed, working age half of it, except that
/// E01000010 has no working-age figure.
async fn domain_fixture(wh: &Warehouse) {
    let lsoas: [(&str, &str, f64, f64, f64); 10] = [
        // code, district, rank, income (and employment) rate, total population
        ("E01000001", "E08000001", 1.0, 0.5, 100.0),
        ("E01000002", "E08000001", 4.0, 0.2, 300.0),
        ("E01000003", "E08000001", 7.0, 0.1, 100.0),
        ("E01000004", "E08000002", 2.0, 0.4, 200.0),
        ("E01000005", "E08000002", 3.0, 0.3, 200.0),
        ("E01000006", "E08000003", 5.0, 0.2, 100.0),
        ("E01000007", "E08000003", 6.0, 0.15, 100.0),
        ("E01000008", "E08000003", 8.0, 0.1, 100.0),
        ("E01000009", "E08000003", 9.0, 0.05, 100.0),
        ("E01000010", "E08000003", 10.0, 0.02, 100.0),
    ];
    let mut cells = Vec::new();
    for (code, _, rank, rate, pop) in lsoas {
        for domain in ["income", "employment", "health"] {
            cells.push((code, domain, "rank", rank));
            cells.push((code, domain, "score", rate));
        }
        cells.push((code, "imd", "rank", rank));
        cells.push((code, "imd", "score", rate * 100.0));
        cells.push((code, "population_total", "denominator", pop));
        if code != "E01000010" {
            cells.push((code, "population_working_age", "denominator", pop / 2.0));
        }
    }
    let lads: Vec<(&str, &str)> = lsoas.iter().map(|l| (l.0, l.1)).collect();
    publish_iod_cells(wh, "2025", 10, &lads, &cells, "domains").await;
}

async fn domain_summary(wh: &Warehouse, domain: &str) -> renewal_query::Summary {
    let request = SummaryRequest {
        vintage: "2025".into(),
        level: SummaryLevel::Lad,
        pins: Default::default(),
        domain: Some(domain.into()),
    };
    iod_summary(wh, &request).await.unwrap()
}

/// Compares one area's cells with `want` (column, value) pairs; every column is listed.
fn assert_cells(got: &[(String, Option<f64>)], want: &[(&str, Option<f64>)], what: &str) {
    let names: Vec<&str> = got.iter().map(|(n, _)| n.as_str()).collect();
    let wanted: Vec<&str> = want.iter().map(|(n, _)| *n).collect();
    assert_eq!(names, wanted, "{what}");
    for ((name, g), (_, w)) in got.iter().zip(want) {
        assert!(close(*g, *w), "{what} {name}: got {g:?}, want {w:?}");
    }
}

const DOMAIN_COLUMNS: [&str; 14] = [
    "lsoa_count",
    "population",
    "average_score",
    "rank_of_average_score",
    "average_rank",
    "rank_of_average_rank",
    "proportion_most_deprived_10pct",
    "extent",
    "local_concentration",
    "rank_of_proportion_most_deprived_10pct",
    "rank_of_extent",
    "rank_of_local_concentration",
    "scale",
    "rank_of_scale",
];

fn want(values: [Option<f64>; 14]) -> Vec<(&'static str, Option<f64>)> {
    DOMAIN_COLUMNS.into_iter().zip(values).collect()
}

#[tokio::test]
async fn income_domain_has_scale_and_no_extent() {
    let dir = temp_dir();
    let wh = Warehouse::open_local(dir.path()).unwrap();
    domain_fixture(&wh).await;
    let summary = domain_summary(&wh, "income").await;
    let names: Vec<&str> = summary
        .schema
        .fields()
        .iter()
        .map(|f| f.name().as_str())
        .collect();
    let expected: Vec<&str> = SUMMARY_COLUMNS
        .into_iter()
        .chain(renewal_query::DOMAIN_SUMMARY_COLUMNS)
        .collect();
    assert_eq!(names, expected);
    let got = cells(&summary);
    let (s, n) = (Some, None);
    // A: 500 people; score (100·.5 + 300·.2 + 100·.1) / 500 = 0.24; rank (100·10 + 300·7 +
    // 100·4) / 500 = 7; one of three LSOAs at rank 1; scale 50 + 60 + 10 = 120.
    // B: 400; (200·.4 + 200·.3) / 400 = 0.35; (200·9 + 200·8) / 400 = 8.5; none; 140.
    // C: 500; (20 + 15 + 10 + 5 + 2) / 500 = 0.104; 100·(6+5+3+2+1) / 500 = 3.4; none; 52.
    // Ranks: B, A, C on score, rank and scale; A first on proportion, B and C tie second.
    assert_cells(
        &got["E08000001"],
        &want([
            s(3.0),
            s(500.0),
            s(0.24),
            s(2.0),
            s(7.0),
            s(2.0),
            s(1.0 / 3.0),
            n,
            n,
            s(1.0),
            n,
            n,
            s(120.0),
            s(2.0),
        ]),
        "A",
    );
    assert_cells(
        &got["E08000002"],
        &want([
            s(2.0),
            s(400.0),
            s(0.35),
            s(1.0),
            s(8.5),
            s(1.0),
            s(0.0),
            n,
            n,
            s(2.0),
            n,
            n,
            s(140.0),
            s(1.0),
        ]),
        "B",
    );
    assert_cells(
        &got["E08000003"],
        &want([
            s(5.0),
            s(500.0),
            s(0.104),
            s(3.0),
            s(3.4),
            s(3.0),
            s(0.0),
            n,
            n,
            s(2.0),
            n,
            n,
            s(52.0),
            s(3.0),
        ]),
        "C",
    );
    assert!(
        summary.notes.iter().any(|n| n
            == "extent and local concentration are published for the IMD only: empty for income"),
        "{:?}",
        summary.notes
    );
    assert!(!summary.notes.iter().any(|n| n.starts_with("ranks need")));
}

#[tokio::test]
async fn employment_scale_counts_the_working_age_and_needs_all_of_it() {
    let dir = temp_dir();
    let wh = Warehouse::open_local(dir.path()).unwrap();
    domain_fixture(&wh).await;
    let summary = domain_summary(&wh, "employment").await;
    let got = cells(&summary);
    let scale = |code: &str| {
        let row = &got[code];
        (row[12].1, row[13].1)
    };
    // Rates times half the population: A 0.5·50 + 0.2·150 + 0.1·50 = 60; B 0.4·100 + 0.3·100
    // = 70; C lacks E01000010's working-age figure, so it has no scale and no rank.
    assert_eq!(scale("E08000001"), (Some(60.0), Some(2.0)));
    assert_eq!(scale("E08000002"), (Some(70.0), Some(1.0)));
    assert_eq!(scale("E08000003"), (None, None));
    // Average score is still weighted by total population, as for every domain.
    assert!(close(got["E08000001"][2].1, Some(0.24)));
    assert!(
        summary
            .notes
            .iter()
            .any(|n| n
                .starts_with("1 areas have an LSOA without a population_working_age denominator")),
        "{:?}",
        summary.notes
    );
}

#[tokio::test]
async fn imd_domain_has_extent_and_local_concentration_ranked_and_no_scale() {
    let dir = temp_dir();
    let wh = Warehouse::open_local(dir.path()).unwrap();
    domain_fixture(&wh).await;
    let summary = domain_summary(&wh, "imd").await;
    let got = cells(&summary);
    let (s, n) = (Some, None);
    // Percentile 10 r: rank 1 → weight 1; rank 2 (20th) → 0.95 − 9·0.9/19; rank 3 (30th) → 0.05.
    let w20 = 0.95 - 9.0 * 0.9 / 19.0;
    // Extent: A 100·1 / 500 = 0.2; B (200·w20 + 200·0.05) / 400; C 0 (ranked, last).
    // Local concentration over the most deprived 10% of people: A 50 of E01000001 (11 − 1 =
    // 10); B 40 of E01000004 (9); C 50 of E01000006 (6).
    assert_cells(
        &got["E08000001"],
        &want([
            s(3.0),
            s(500.0),
            s(24.0),
            s(2.0),
            s(7.0),
            s(2.0),
            s(1.0 / 3.0),
            s(0.2),
            s(10.0),
            s(1.0),
            s(2.0),
            s(1.0),
            n,
            n,
        ]),
        "A",
    );
    assert_cells(
        &got["E08000002"],
        &want([
            s(2.0),
            s(400.0),
            s(35.0),
            s(1.0),
            s(8.5),
            s(1.0),
            s(0.0),
            s((w20 + 0.05) / 2.0),
            s(9.0),
            s(2.0),
            s(1.0),
            s(2.0),
            n,
            n,
        ]),
        "B",
    );
    assert_cells(
        &got["E08000003"],
        &want([
            s(5.0),
            s(500.0),
            s(10.4),
            s(3.0),
            s(3.4),
            s(3.0),
            s(0.0),
            s(0.0),
            s(6.0),
            s(2.0),
            s(3.0),
            s(3.0),
            n,
            n,
        ]),
        "C",
    );
    assert!(
        summary
            .notes
            .iter()
            .any(|n| n
                == "scale is published for the income and employment domains only: empty for imd"),
        "{:?}",
        summary.notes
    );

    // Without --domain: the usual eleven columns, the same IMD figures.
    let plain = iod_summary(
        &wh,
        &SummaryRequest {
            vintage: "2025".into(),
            level: SummaryLevel::Lad,
            pins: Default::default(),
            domain: None,
        },
    )
    .await
    .unwrap();
    let plain = cells(&plain);
    assert_eq!(plain["E08000002"].len(), 9);
    assert_eq!(plain["E08000002"][..], got["E08000002"][..9]);
}

#[tokio::test]
async fn health_domain_has_neither_extent_nor_scale_and_unknown_domains_are_refused() {
    let dir = temp_dir();
    let wh = Warehouse::open_local(dir.path()).unwrap();
    domain_fixture(&wh).await;
    let summary = domain_summary(&wh, "health").await;
    let got = cells(&summary);
    for row in got.values() {
        for i in [7, 8, 10, 11, 12, 13] {
            assert_eq!(row[i].1, None, "{}", row[i].0);
        }
    }
    assert!(close(got["E08000002"][2].1, Some(0.35)));
    assert_eq!(summary.notes.len(), 2, "{:?}", summary.notes);

    let request = SummaryRequest {
        vintage: "2025".into(),
        level: SummaryLevel::Lad,
        pins: Default::default(),
        domain: Some("wealth".into()),
    };
    let err = iod_summary(&wh, &request).await.unwrap_err();
    assert!(matches!(err, QueryError::InvalidArgument(_)), "{err}");
    assert!(err.to_string().contains("wealth"), "{err}");
}
