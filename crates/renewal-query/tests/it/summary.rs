//! IoD summaries on a hand-computed fixture (N = 100 so an LSOA's percentile is its rank).

use arrow::array::{Array, AsArray};
use arrow::datatypes::{Float64Type, Int64Type, UInt64Type};
use renewal_geo::Fit;
use renewal_query::{QueryError, SUMMARY_COLUMNS, SummaryLevel, SummaryRequest, iod_summary};
use renewal_test_support::temp_dir;
use renewal_warehouse::Warehouse;

use crate::{Lsoa, publish_iod, publish_lookup};

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
            out.push(Row {
                code: b.column(0).as_string::<i32>().value(r).to_owned(),
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

// Extent weights by hand: percentile 15 → 0.05 + (30 − 15)·0.9/19; 25 → 0.05 + 5·0.9/19.
const W15: f64 = 0.05 + 15.0 * 0.9 / 19.0;
const W25: f64 = 0.05 + 5.0 * 0.9 / 19.0;

fn request(level: SummaryLevel) -> SummaryRequest {
    SummaryRequest {
        vintage: "2019".into(),
        level,
        pins: Default::default(),
    }
}

#[tokio::test]
async fn lad_summaries_match_hand_computation() {
    let dir = temp_dir();
    let wh = Warehouse::open_local(dir.path()).unwrap();
    publish_iod(&wh, "2019", 100, &fixture(), "v1").await;
    let summary = iod_summary(&wh, &request(SummaryLevel::Lad)).await.unwrap();
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
            .any(|n| n.starts_with("1 areas have an LSOA without an IMD population")),
        "{:?}",
        summary.notes
    );
}

#[tokio::test]
async fn ward_summaries_use_the_lookup_and_say_they_are_best_fit() {
    let dir = temp_dir();
    let wh = Warehouse::open_local(dir.path()).unwrap();
    publish_iod(&wh, "2019", 100, &fixture(), "v1").await;

    let err = iod_summary(&wh, &request(SummaryLevel::Ward(None)))
        .await
        .unwrap_err();
    assert!(matches!(err, QueryError::Precondition(_)), "{err}");

    publish_lookup(
        &wh,
        "WD19",
        &[
            ("E01000001", "E05000001", "E08000001"),
            ("E01000002", "E05000001", "E08000001"),
            ("E01000003", "E05000002", "E08000001"),
            ("E01000004", "E05000002", "E08000002"),
            ("E01000005", "E05000003", "E08000002"),
            // E01000006 and E01000007 have no ward.
            ("W01000001", "W05000001", "W06000001"),
        ],
    )
    .await;
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
    publish_iod(&wh, "2019", 100, &lsoas, "ties").await;
    publish_lookup(
        &wh,
        "WD19",
        &[
            ("E01000001", "E05000001", "E08000001"),
            ("E01000002", "E05000002", "E08000001"),
            ("E01000003", "E05000003", "E08000001"),
            ("E01000004", "E05000004", "E08000001"),
        ],
    )
    .await;
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
