//! `renewal spend place` and `renewal spend years` on a fixture warehouse laid out as the
//! issue 16 table contract says (published here straight as Parquet, no ingest).
//!
//! Body E08000001. Financial year 2021-22:
//! - line 2 Alpha Builders Ltd, company 01234567 → register M1 1AA → E08000001 (inside),
//!   100000 pence, Highways;
//! - line 3 Beta Services Ltd, no number, matched by name → M2 3CC → E08000002 (outside),
//!   50000, Care;
//! - line 4 a redacted payee, 7003, Care (never named, never located);
//! - line 5 Omega Ltd, not in the register, 3000, Highways (not located).
//!
//! Total 160003; not located 7003 + 3000 = 10003. Each of 2018-19, 2019-20, 2020-21 has one
//! Highways payment to Alpha of 60000, so the Highways baseline is 60000 and 2021-22's
//! 103000 is +43000 (+71.67%); Care has no baseline (0 → 57003).

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use arrow::array::{ArrayRef, BooleanArray, Int64Array, RecordBatch, StringArray, UInt64Array};
use arrow::datatypes::{DataType, Field, Schema};
use renewal_test_support::temp_dir;
use renewal_warehouse::{Draft, DraftTable, PublishOptions, SourceFile, Warehouse};

use crate::{Renewal, parse_csv};

fn text(values: &[Option<&str>]) -> ArrayRef {
    Arc::new(StringArray::from(values.to_vec()))
}

fn batch(fields: Vec<(&str, DataType)>, columns: Vec<ArrayRef>) -> RecordBatch {
    let schema = Schema::new(
        fields
            .into_iter()
            .map(|(n, t)| Field::new(n, t, true))
            .collect::<Vec<_>>(),
    );
    RecordBatch::try_new(Arc::new(schema), columns).unwrap()
}

fn parquet(batch: &RecordBatch) -> Vec<u8> {
    let mut buf = Vec::new();
    let mut w = parquet::arrow::ArrowWriter::try_new(&mut buf, batch.schema(), None).unwrap();
    w.write(batch).unwrap();
    w.close().unwrap();
    buf
}

async fn publish(wh: &Warehouse, dataset: &str, kind: &str, table: &str, batch: RecordBatch) {
    let draft = Draft {
        dataset: dataset.into(),
        kind: kind.into(),
        vintage: BTreeMap::new(),
        attributes: BTreeMap::new(),
        sources: vec![SourceFile {
            name: format!("{dataset}.csv"),
            size: 1,
            sha256: renewal_warehouse::sha256_hex(dataset.as_bytes()),
            format: "fixture".into(),
            rows: batch.num_rows() as u64,
        }],
        schemas: vec![],
        tables: vec![DraftTable {
            name: table.into(),
            parquet: parquet(&batch).into(),
        }],
        notes: vec![],
    };
    wh.publish(draft, PublishOptions::default()).await.unwrap();
}

async fn fixture(dir: &Path) {
    let wh = Warehouse::open_local(dir).unwrap();
    // (line, date, financial year, pence, name, key, company number, service, payee)
    type P = (
        u64,
        &'static str,
        &'static str,
        i64,
        &'static str,
        &'static str,
        Option<&'static str>,
        &'static str,
        &'static str,
    );
    let rows: [P; 7] = [
        (
            2,
            "2018-06-01",
            "2018-19",
            60000,
            "Alpha Builders Ltd",
            "alpha builders",
            Some("01234567"),
            "Highways",
            "organisation",
        ),
        (
            3,
            "2019-06-01",
            "2019-20",
            60000,
            "Alpha Builders Ltd",
            "alpha builders",
            Some("01234567"),
            "Highways",
            "organisation",
        ),
        (
            4,
            "2020-06-01",
            "2020-21",
            60000,
            "Alpha Builders Ltd",
            "alpha builders",
            Some("01234567"),
            "Highways",
            "organisation",
        ),
        (
            5,
            "2021-06-01",
            "2021-22",
            100000,
            "Alpha Builders Ltd",
            "alpha builders",
            Some("01234567"),
            "Highways",
            "organisation",
        ),
        (
            6,
            "2021-07-01",
            "2021-22",
            50000,
            "Beta Services Ltd",
            "beta services",
            None,
            "Care",
            "organisation",
        ),
        (
            7,
            "2021-08-01",
            "2021-22",
            7003,
            "REDACTED",
            "redacted",
            None,
            "Care",
            "redacted",
        ),
        (
            8,
            "2022-03-01",
            "2021-22",
            3000,
            "Omega Ltd",
            "omega",
            None,
            "Highways",
            "organisation",
        ),
    ];
    let col =
        |f: &dyn Fn(&P) -> Option<&'static str>| text(&rows.iter().map(f).collect::<Vec<_>>());
    let payments = batch(
        vec![
            ("body", DataType::Utf8),
            ("body_area", DataType::Utf8),
            ("payment_date", DataType::Date32),
            ("financial_year", DataType::Utf8),
            ("reference", DataType::Utf8),
            ("net_pence", DataType::Int64),
            ("supplier_name", DataType::Utf8),
            ("supplier_key", DataType::Utf8),
            ("company_number", DataType::Utf8),
            ("charity_number", DataType::Utf8),
            ("service_area", DataType::Utf8),
            ("expense_type", DataType::Utf8),
            ("payee", DataType::Utf8),
            ("source", DataType::Utf8),
            ("line", DataType::UInt64),
        ],
        vec![
            col(&|_| Some("Test Council")),
            col(&|_| Some("E08000001")),
            arrow::compute::cast(&col(&|p| Some(p.1)), &DataType::Date32).unwrap(),
            col(&|p| Some(p.2)),
            col(&|_| None),
            Arc::new(rows.iter().map(|p| p.3).collect::<Int64Array>()),
            col(&|p| Some(p.4)),
            col(&|p| Some(p.5)),
            col(&|p| p.6),
            col(&|_| None),
            col(&|p| Some(p.7)),
            col(&|_| None),
            col(&|p| Some(p.8)),
            col(&|_| Some("spend.csv")),
            Arc::new(rows.iter().map(|p| p.0).collect::<UInt64Array>()),
        ],
    );
    publish(&wh, "spend-test-council", "spend", "payments", payments).await;
    let register = batch(
        vec![
            ("supplier_name", DataType::Utf8),
            ("supplier_key", DataType::Utf8),
            ("company_number", DataType::Utf8),
            ("charity_number", DataType::Utf8),
            ("postcode", DataType::Utf8),
            ("sme", DataType::Boolean),
            ("source", DataType::Utf8),
            ("line", DataType::UInt64),
        ],
        vec![
            text(&[Some("Alpha Builders Ltd"), Some("Beta Services Ltd")]),
            text(&[Some("alpha builders"), Some("beta services")]),
            text(&[Some("01234567"), None]),
            text(&[None, None]),
            text(&[Some("M1 1AA"), Some("M2 3CC")]),
            Arc::new(BooleanArray::from(vec![Some(true), None])),
            text(&[Some("register.csv"), Some("register.csv")]),
            Arc::new(UInt64Array::from(vec![2, 3])),
        ],
    );
    publish(
        &wh,
        "suppliers-test-council",
        "suppliers",
        "suppliers",
        register,
    )
    .await;
    let directory = batch(
        vec![
            ("postcode", DataType::Utf8),
            ("lad_code", DataType::Utf8),
            ("lsoa11", DataType::Utf8),
            ("lsoa21", DataType::Utf8),
            ("introduced", DataType::Utf8),
            ("terminated", DataType::Utf8),
            ("is_terminated", DataType::Boolean),
            ("source", DataType::Utf8),
            ("line", DataType::UInt64),
        ],
        vec![
            text(&[Some("M1 1AA"), Some("M2 3CC")]),
            text(&[Some("E08000001"), Some("E08000002")]),
            text(&[Some("E01000001"), Some("E01000011")]),
            text(&[Some("E01100001"), Some("E01100011")]),
            text(&[Some("198001"), Some("198001")]),
            text(&[None, None]),
            Arc::new(BooleanArray::from(vec![false, false])),
            text(&[Some("onspd.csv"), Some("onspd.csv")]),
            Arc::new(UInt64Array::from(vec![2, 3])),
        ],
    );
    publish(&wh, "postcodes", "postcodes", "postcodes", directory).await;
}

const COMMON: [&str; 6] = [
    "--spend",
    "spend-test-council",
    "--suppliers",
    "suppliers-test-council",
    "--period",
    "2021-22",
];

#[tokio::test]
async fn spend_place_by_district_and_supplier() {
    let dir = temp_dir();
    fixture(dir.path()).await;
    let r = Renewal::new(dir.path());
    let mut args = vec!["spend", "place"];
    args.extend(COMMON);
    args.extend(["--by", "district"]);
    let out = r.run(&args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (header, rows) = parse_csv(&String::from_utf8(out.stdout).unwrap());
    assert_eq!(
        header,
        [
            "group_code",
            "group_name",
            "inside",
            "payments",
            "payees",
            "net_pence",
            "share"
        ]
    );
    let first6: Vec<Vec<String>> = rows.iter().map(|r| r[..6].to_vec()).collect();
    assert_eq!(
        first6,
        [
            ["E08000001", "inside", "true", "1", "1", "100000"],
            ["E08000002", "outside", "false", "1", "1", "50000"],
            ["", "not located", "", "2", "", "10003"],
        ]
    );
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.contains("2021-22: 4 payments, 160003 pence in all"),
        "{stderr}"
    );
    assert!(
        stderr.contains("not located: 10003 pence (6.3%)"),
        "{stderr}"
    );
    assert!(stderr.contains("postcodes v1"), "{stderr}");

    let mut args = vec!["spend", "place"];
    args.extend(COMMON);
    args.extend(["--by", "supplier", "--format", "json"]);
    let json: serde_json::Value = serde_json::from_str(&r.ok(&args)).unwrap();
    let names: Vec<&str> = json["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| row["group_name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "Alpha Builders Ltd",
            "Beta Services Ltd",
            "Omega Ltd",
            "(individuals, redacted and unclassified payees)"
        ]
    );
    assert!(!json.to_string().to_lowercase().contains("redacted\""));
    assert_eq!(json["basis"]["datasets"]["spend-test-council"], 1);
}

#[tokio::test]
async fn spend_years_against_a_three_year_baseline() {
    let dir = temp_dir();
    fixture(dir.path()).await;
    let r = Renewal::new(dir.path());
    let mut args = vec!["spend", "years"];
    args.extend(COMMON);
    args.extend(["--by", "service", "--baseline", "3"]);
    let (header, rows) = parse_csv(&r.ok(&args));
    let col = |n: &str| header.iter().position(|h| h == n).unwrap();
    let chosen: Vec<(String, String, String, String)> = rows
        .iter()
        .filter(|row| row[col("financial_year")] == "2021-22")
        .map(|row| {
            (
                row[col("group_name")].clone(),
                row[col("net_pence")].clone(),
                row[col("baseline_pence")].clone(),
                row[col("change_pence")].clone(),
            )
        })
        .collect();
    assert_eq!(
        chosen,
        [
            (
                "Highways".into(),
                "103000".into(),
                "60000.0".into(),
                "43000.0".into()
            ),
            (
                "Care".into(),
                "57003".into(),
                "0.0".into(),
                "57003.0".into()
            ),
        ]
    );
    assert_eq!(rows.len(), 5, "three baseline rows and two for 2021-22");

    let mut args = vec!["spend", "years"];
    args.extend(COMMON);
    args.extend(["--by", "service", "--baseline", "4"]);
    let out = r.run(&args);
    assert!(!out.status.success());
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stderr.contains("no payments in 2017-18"), "{stderr}");
}
