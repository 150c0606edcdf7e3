//! `renewal_query::lm3::lm3` over hand-written survey tables: the worked example of
//! renewal-stats, pinned versions, and datasets that are not surveys.

use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, AsArray, BooleanArray, Int64Array, RecordBatch, StringArray, UInt64Array,
};
use arrow::datatypes::{DataType, Field, Schema};
use renewal_query::lm3::{LM3_COLUMNS, Lm3Proxies, Share, lm3};
use renewal_query::{DatasetPins, QueryError};
use renewal_warehouse::{Draft, DraftTable, PublishOptions, Warehouse};

use crate::{parquet, source};

type Supplier = (i64, Option<(i64, i64, i64)>);

/// Publishes suppliers (round 1, response) and re-spend (type, income, local) as an
/// `lm3-survey` dataset, the way `renewal ingest lm3-survey` stores them.
async fn publish(
    wh: &Warehouse,
    kind: &str,
    suppliers: &[Supplier],
    respend: &[(&str, i64, i64)],
    tag: &str,
) {
    let n = suppliers.len();
    let opt = |f: fn(&(i64, i64, i64)) -> i64| -> ArrayRef {
        Arc::new(
            suppliers
                .iter()
                .map(|s| s.1.as_ref().map(f))
                .collect::<Int64Array>(),
        )
    };
    let schema = Schema::new(vec![
        Field::new("supplier", DataType::Utf8, false),
        Field::new("company_number", DataType::Utf8, true),
        Field::new("round1_pence", DataType::Int64, false),
        Field::new("responded", DataType::Boolean, false),
        Field::new("total_spend_pence", DataType::Int64, true),
        Field::new("local_staff_pence", DataType::Int64, true),
        Field::new("local_supplier_pence", DataType::Int64, true),
        Field::new("source", DataType::Utf8, false),
        Field::new("line", DataType::UInt64, false),
    ]);
    let s = RecordBatch::try_new(
        Arc::new(schema),
        vec![
            Arc::new(StringArray::from_iter_values(
                (0..n).map(|i| format!("S{i}")),
            )),
            Arc::new(StringArray::from(vec![None::<&str>; n])),
            Arc::new(Int64Array::from_iter_values(suppliers.iter().map(|s| s.0))),
            Arc::new(BooleanArray::from(
                suppliers.iter().map(|s| s.1.is_some()).collect::<Vec<_>>(),
            )),
            opt(|r| r.0),
            opt(|r| r.1),
            opt(|r| r.2),
            Arc::new(StringArray::from_iter_values((0..n).map(|_| "survey.csv"))),
            Arc::new(UInt64Array::from_iter_values((0..n as u64).map(|i| i + 2))),
        ],
    )
    .unwrap();
    let m = respend.len();
    let schema = Schema::new(vec![
        Field::new("supplier", DataType::Utf8, false),
        Field::new("respondent_type", DataType::Utf8, false),
        Field::new("income_pence", DataType::Int64, false),
        Field::new("local_spend_pence", DataType::Int64, false),
        Field::new("source", DataType::Utf8, false),
        Field::new("line", DataType::UInt64, false),
    ]);
    let r = RecordBatch::try_new(
        Arc::new(schema),
        vec![
            Arc::new(StringArray::from_iter_values((0..m).map(|_| "S0"))),
            Arc::new(StringArray::from_iter_values(respend.iter().map(|r| r.0))),
            Arc::new(Int64Array::from_iter_values(respend.iter().map(|r| r.1))),
            Arc::new(Int64Array::from_iter_values(respend.iter().map(|r| r.2))),
            Arc::new(StringArray::from_iter_values((0..m).map(|_| "respend.csv"))),
            Arc::new(UInt64Array::from_iter_values((0..m as u64).map(|i| i + 2))),
        ],
    )
    .unwrap();
    let draft = Draft {
        dataset: "lm3-vale".into(),
        kind: kind.into(),
        vintage: Default::default(),
        attributes: Default::default(),
        sources: vec![source(tag)],
        schemas: vec![],
        tables: vec![
            DraftTable {
                name: "suppliers".into(),
                parquet: parquet(s),
            },
            DraftTable {
                name: "respend".into(),
                parquet: parquet(r),
            },
        ],
        notes: vec![],
    };
    wh.publish(draft, PublishOptions::default()).await.unwrap();
}

/// renewal-stats' hand-worked example (LM3 = 911/540).
const WORKED: [Supplier; 3] = [
    (60_000, Some((90_000, 30_000, 15_000))),
    (30_000, Some((40_000, 10_000, 10_000))),
    (10_000, None),
];
const WORKED_RESPEND: [(&str, i64, i64); 3] = [
    ("staff", 20_000, 5_000),
    ("staff", 10_000, 7_000),
    ("supplier", 30_000, 10_000),
];

fn column(batch: &RecordBatch, name: &str) -> Vec<String> {
    let i = batch.schema().index_of(name).unwrap();
    let col = arrow::compute::cast(batch.column(i), &DataType::Utf8).unwrap();
    let col = col.as_string::<i32>();
    (0..col.len()).map(|r| col.value(r).to_owned()).collect()
}

#[tokio::test]
async fn worked_example_and_pinned_versions() {
    let dir = tempfile::tempdir().unwrap();
    let wh = Warehouse::open_local(dir.path()).unwrap();
    publish(&wh, "lm3-survey", &WORKED, &WORKED_RESPEND, "v1").await;
    let answer = lm3(&wh, "lm3-vale", &DatasetPins::new(), &Lm3Proxies::default())
        .await
        .unwrap();
    let names: Vec<&str> = answer
        .schema
        .fields()
        .iter()
        .map(|f| f.name().as_str())
        .collect();
    assert_eq!(names, LM3_COLUMNS);
    assert_eq!(answer.num_rows(), 8);
    let b = &answer.batches[0];
    assert_eq!(
        column(b, "round"),
        ["1", "2", "2", "2", "3", "3", "3", "total"]
    );
    assert_eq!(
        column(b, "pence"),
        [
            "100000", "30556", "19444", "50000", "12222", "6481", "18704", "168704"
        ]
    );
    let share = b
        .column(b.schema().index_of("share_of_round1").unwrap())
        .as_primitive::<arrow::datatypes::Float64Type>()
        .value(7);
    assert!((share - 911.0 / 540.0).abs() < 1e-12, "{share}");
    assert_eq!(answer.basis.datasets["lm3-vale"], 1);
    assert!(
        answer
            .notes
            .iter()
            .any(|n| n.contains("LM3 = 911/540 exactly")),
        "{:?}",
        answer.notes
    );

    // Version 2: every supplier silent, so round 2 needs the proxy; version 1 stays answerable.
    let silent: Vec<Supplier> = WORKED.iter().map(|s| (s.0, None)).collect();
    publish(&wh, "lm3-survey", &silent, &WORKED_RESPEND, "v2").await;
    let err = lm3(&wh, "lm3-vale", &DatasetPins::new(), &Lm3Proxies::default())
        .await
        .unwrap_err();
    assert!(
        matches!(&err, QueryError::InvalidArgument(m) if m.contains("--round2-proxy")),
        "{err}"
    );
    let proxies = Lm3Proxies {
        round2: Some((
            Share::parse_share("1/4").unwrap(),
            Share::parse_share("0.1").unwrap(),
        )),
        ..Lm3Proxies::default()
    };
    let answer = lm3(&wh, "lm3-vale", &DatasetPins::new(), &proxies)
        .await
        .unwrap();
    // R2 = 100 000 × (1/4 + 1/10) = 35 000; R3 = 25 000 × 2/5 + 10 000 × 1/3; LM3 = 89/60.
    assert_eq!(column(&answer.batches[0], "pence")[3], "35000");
    assert!(
        answer
            .notes
            .iter()
            .any(|n| n.contains("LM3 = 89/60 exactly")),
        "{:?}",
        answer.notes
    );
    assert!(
        answer
            .notes
            .iter()
            .any(|n| n.contains("given (--round2-proxy)")),
        "{:?}",
        answer.notes
    );
    let pinned = DatasetPins::from([("lm3-vale".to_owned(), 1)]);
    let answer = lm3(&wh, "lm3-vale", &pinned, &Lm3Proxies::default())
        .await
        .unwrap();
    assert_eq!(answer.basis.datasets["lm3-vale"], 1);
    assert_eq!(column(&answer.batches[0], "pence")[7], "168704");
}

#[tokio::test]
async fn only_survey_datasets_are_read() {
    let dir = tempfile::tempdir().unwrap();
    let wh = Warehouse::open_local(dir.path()).unwrap();
    let err = lm3(&wh, "lm3-vale", &DatasetPins::new(), &Lm3Proxies::default())
        .await
        .unwrap_err();
    assert!(matches!(err, QueryError::Precondition(_)), "{err}");
    publish(&wh, "census", &WORKED, &WORKED_RESPEND, "c").await;
    let err = lm3(&wh, "lm3-vale", &DatasetPins::new(), &Lm3Proxies::default())
        .await
        .unwrap_err();
    assert!(err.to_string().contains("not an LM3 survey"), "{err}");
}
