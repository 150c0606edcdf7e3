//! The spend questions (issue 16) over a hand-built warehouse laid out as the table contract
//! says (`/work/briefs/spend-contract.md`): payments, a supplier register, a postcode
//! directory, an IoD edition and a ward lookup. Every expected figure is worked out by hand
//! in the comments below from the fixture rows, never from the code under test.
//!
//! The body is "Fictional Borough Council", district A = E08000001. Financial year 2021-22:
//!
//! | line | supplier (payee)                 | matched         | postcode → place             | net pence | service    | expense     |
//! |------|----------------------------------|-----------------|------------------------------|-----------|------------|-------------|
//! | 2    | Alpha Builders Limited (org)     | number 01234567 | M1 1AA → A, E01000001        | 100000    | Highways   | Works       |
//! | 3    | Alpha Builders Limited (refund)  | number          | M1 1AA                       | -20000    | Highways   | Works       |
//! | 4    | BETA CARE SERVICES LTD (org)     | name            | M2 3CC → B, E01000011        | 50000     | Adult Care | Care        |
//! | 5    | Gamma Supplies (org)             | number 02222222 | register has no postcode     | 30000     | Highways   | Materials   |
//! | 6    | Delta Consulting LLP (org)       | number OC333333 | ZZ9 9ZZ not in the directory | 20000     | Corporate  | Consultancy |
//! | 7    | Epsilon Print Ltd (org)          | number 04444444 | M3 4DD terminated → B, E01000012 | 15000 | Corporate  | Printing    |
//! | 8    | Redacted Personal Information    | never matched   | —                            | 7003      | Adult Care | Care        |
//! | 9    | John Smith (unclassified)        | no match        | —                            | 4017      | Adult Care | Care        |
//! | 10   | Zeta Foods Ltd (org)             | number 05555555 | EH1 1AA → S12000036, S01008000 | 9000    | Catering   | Food        |
//! | 11   | Eta Cleaning (unclassified)      | name            | M1 2BB → A, E01000003        | 6000      | Corporate  | Cleaning    |
//! | 12   | Omega Traders Ltd (org)          | no match        | —                            | 3000      | Highways   | Materials   |
//!
//! Total 224020 (the sum of the net column, refund included). Matched by number (lines 2,
//! 3, 5, 6, 7, 10) 154000; by name (4, 11) 56000; not matched (8, 9, 12) 14020. Not located
//! 64020 = no match 14020, no postcode 30000 and not in the directory 20000. Terminated
//! postcode used: 15000 in 1 payment.
//!
//! IMD (N = 100, deciles `ceil(rank/10)`): district A's LSOAs E01000001…E01000010 have ranks
//! 41, 45, 52, 58, 63, 70, 77, 83, 90, 99 (national deciles 5, 5, 6, 6, 7, 7, 8, 9, 9, 10; local
//! deciles 1…10 in that order, as n = 10); district B's E01000011 rank 3 (decile 1) and
//! E01000012 rank 12 (decile 2).

use std::collections::BTreeMap;
use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, AsArray, BooleanArray, Int64Array, RecordBatch, StringArray, UInt64Array,
};
use arrow::datatypes::{DataType, Field, Int64Type, Schema};
use renewal_query::spend::{
    Breakdown, NOT_LOCATED, OTHER_ORGANISATIONS, PRIVATE_PAYEES, Period, SpendRequest,
    spend_by_place, spend_by_year,
};
use renewal_query::{Answer, DatasetPins, Engine, QueryError};
use renewal_schema::Catalog;
use renewal_warehouse::{Draft, DraftTable, PublishOptions, SourceFile, Warehouse};

use crate::{parquet, publish_iod_cells};

/// One payment row of the fixture.
struct Pay {
    line: u64,
    date: &'static str,
    fy: &'static str,
    pence: i64,
    name: &'static str,
    key: &'static str,
    number: Option<&'static str>,
    charity: Option<&'static str>,
    service: &'static str,
    expense: &'static str,
    payee: &'static str,
}

#[allow(clippy::too_many_arguments)]
const fn pay(
    line: u64,
    date: &'static str,
    fy: &'static str,
    pence: i64,
    name: &'static str,
    key: &'static str,
    number: Option<&'static str>,
    service: &'static str,
    expense: &'static str,
    payee: &'static str,
) -> Pay {
    Pay {
        line,
        date,
        fy,
        pence,
        name,
        key,
        number,
        charity: None,
        service,
        expense,
        payee,
    }
}

const ORG: &str = "organisation";

fn year_2021() -> Vec<Pay> {
    let fy = "2021-22";
    let mut beta = pay(
        4,
        "2021-06-15",
        fy,
        50000,
        "BETA CARE SERVICES LTD",
        "beta care services",
        None,
        "Adult Care",
        "Care",
        ORG,
    );
    beta.charity = Some("1100001");
    vec![
        pay(
            2,
            "2021-04-10",
            fy,
            100000,
            "Alpha Builders Limited",
            "alpha builders",
            Some("01234567"),
            "Highways",
            "Works",
            ORG,
        ),
        pay(
            3,
            "2021-05-01",
            fy,
            -20000,
            "Alpha Builders Limited",
            "alpha builders",
            Some("01234567"),
            "Highways",
            "Works",
            ORG,
        ),
        beta,
        pay(
            5,
            "2021-07-01",
            fy,
            30000,
            "Gamma Supplies",
            "gamma supplies",
            Some("02222222"),
            "Highways",
            "Materials",
            ORG,
        ),
        pay(
            6,
            "2021-08-01",
            fy,
            20000,
            "Delta Consulting LLP",
            "delta consulting",
            Some("OC333333"),
            "Corporate",
            "Consultancy",
            ORG,
        ),
        pay(
            7,
            "2021-09-01",
            fy,
            15000,
            "Epsilon Print Ltd",
            "epsilon print",
            Some("04444444"),
            "Corporate",
            "Printing",
            ORG,
        ),
        pay(
            8,
            "2021-10-01",
            fy,
            7003,
            "Redacted Personal Information",
            "redacted personal information",
            None,
            "Adult Care",
            "Care",
            "redacted",
        ),
        pay(
            9,
            "2021-11-01",
            fy,
            4017,
            "John Smith",
            "john smith",
            None,
            "Adult Care",
            "Care",
            "unclassified",
        ),
        pay(
            10,
            "2021-12-01",
            fy,
            9000,
            "Zeta Foods Ltd",
            "zeta foods",
            Some("05555555"),
            "Catering",
            "Food",
            ORG,
        ),
        pay(
            11,
            "2022-01-15",
            fy,
            6000,
            "Eta Cleaning",
            "eta cleaning",
            None,
            "Corporate",
            "Cleaning",
            "unclassified",
        ),
        pay(
            12,
            "2022-03-31",
            fy,
            3000,
            "Omega Traders Ltd",
            "omega traders",
            Some("09999999"),
            "Highways",
            "Materials",
            ORG,
        ),
    ]
}

/// The three years before 2021-22, by service area:
/// 2018-19 Highways 90000, Adult Care 30000;
/// 2019-20 Highways 60000, Adult Care 30000, Corporate 9000, Libraries 3000;
/// 2020-21 Highways 45000 + 45000, Adult Care 60000.
fn earlier_years() -> Vec<Pay> {
    let alpha = |line, date, fy, pence, service| {
        pay(
            line,
            date,
            fy,
            pence,
            "Alpha Builders Ltd",
            "alpha builders",
            Some("01234567"),
            service,
            "Works",
            ORG,
        )
    };
    vec![
        alpha(2, "2018-05-01", "2018-19", 90000, "Highways"),
        alpha(3, "2019-02-01", "2018-19", 30000, "Adult Care"),
        alpha(4, "2019-04-01", "2019-20", 60000, "Highways"),
        alpha(5, "2019-06-01", "2019-20", 30000, "Adult Care"),
        alpha(6, "2020-03-31", "2019-20", 9000, "Corporate"),
        alpha(7, "2019-12-01", "2019-20", 3000, "Libraries"),
        alpha(8, "2020-04-01", "2020-21", 45000, "Highways"),
        alpha(9, "2021-03-31", "2020-21", 45000, "Highways"),
        alpha(10, "2020-09-09", "2020-21", 60000, "Adult Care"),
    ]
}

fn text(values: Vec<Option<&str>>) -> ArrayRef {
    Arc::new(StringArray::from(values))
}

fn payments_batch(rows: &[Pay], source: &'static str) -> RecordBatch {
    let f = |n: &str, t: DataType, null: bool| Field::new(n, t, null);
    let schema = Arc::new(Schema::new(vec![
        f("body", DataType::Utf8, false),
        f("body_area", DataType::Utf8, true),
        f("payment_date", DataType::Date32, false),
        f("financial_year", DataType::Utf8, false),
        f("reference", DataType::Utf8, true),
        f("net_pence", DataType::Int64, false),
        f("supplier_name", DataType::Utf8, false),
        f("supplier_key", DataType::Utf8, false),
        f("company_number", DataType::Utf8, true),
        f("charity_number", DataType::Utf8, true),
        f("service_area", DataType::Utf8, true),
        f("expense_type", DataType::Utf8, true),
        f("payee", DataType::Utf8, false),
        f("source", DataType::Utf8, false),
        f("line", DataType::UInt64, false),
    ]));
    let each = |g: &dyn Fn(&Pay) -> Option<&str>| text(rows.iter().map(g).collect());
    let dates = arrow::compute::cast(&each(&|p| Some(p.date)), &DataType::Date32).unwrap();
    RecordBatch::try_new(
        schema,
        vec![
            each(&|_| Some("Fictional Borough Council")),
            each(&|_| Some("E08000001")),
            dates,
            each(&|p| Some(p.fy)),
            each(&|p| Some(p.date)),
            Arc::new(rows.iter().map(|p| p.pence).collect::<Int64Array>()),
            each(&|p| Some(p.name)),
            each(&|p| Some(p.key)),
            each(&|p| p.number),
            each(&|p| p.charity),
            each(&|p| Some(p.service)),
            each(&|p| Some(p.expense)),
            each(&|p| Some(p.payee)),
            each(&|_| Some(source)),
            Arc::new(rows.iter().map(|p| p.line).collect::<UInt64Array>()),
        ],
    )
    .unwrap()
}

/// The register: (name, key, company number, charity number, postcode, sme).
type Reg = (
    &'static str,
    &'static str,
    Option<&'static str>,
    Option<&'static str>,
    Option<&'static str>,
    Option<bool>,
);

const REGISTER: [Reg; 7] = [
    (
        "Alpha Builders Ltd",
        "alpha builders",
        Some("01234567"),
        None,
        Some("M1 1AA"),
        Some(true),
    ),
    (
        "Beta Care Services Limited",
        "beta care services",
        None,
        Some("1100001"),
        Some("M2 3CC"),
        None,
    ),
    (
        "Gamma Supplies",
        "gamma supplies",
        Some("02222222"),
        None,
        None,
        Some(false),
    ),
    (
        "Delta Consulting LLP",
        "delta consulting",
        Some("OC333333"),
        None,
        Some("ZZ9 9ZZ"),
        None,
    ),
    (
        "Epsilon Print Ltd",
        "epsilon print",
        Some("04444444"),
        None,
        Some("M3 4DD"),
        Some(false),
    ),
    (
        "Zeta Foods Ltd",
        "zeta foods",
        Some("05555555"),
        None,
        Some("EH1 1AA"),
        None,
    ),
    (
        "Eta Cleaning",
        "eta cleaning",
        None,
        None,
        Some("M1 2BB"),
        Some(true),
    ),
];

fn register_batch() -> RecordBatch {
    let schema = Arc::new(Schema::new(vec![
        Field::new("supplier_name", DataType::Utf8, false),
        Field::new("supplier_key", DataType::Utf8, false),
        Field::new("company_number", DataType::Utf8, true),
        Field::new("charity_number", DataType::Utf8, true),
        Field::new("postcode", DataType::Utf8, true),
        Field::new("sme", DataType::Boolean, true),
        Field::new("source", DataType::Utf8, false),
        Field::new("line", DataType::UInt64, false),
    ]));
    let r = &REGISTER;
    RecordBatch::try_new(
        schema,
        vec![
            text(r.iter().map(|x| Some(x.0)).collect()),
            text(r.iter().map(|x| Some(x.1)).collect()),
            text(r.iter().map(|x| x.2).collect()),
            text(r.iter().map(|x| x.3).collect()),
            text(r.iter().map(|x| x.4).collect()),
            Arc::new(r.iter().map(|x| x.5).collect::<BooleanArray>()),
            text(r.iter().map(|_| Some("register.csv")).collect()),
            Arc::new((2..2 + r.len() as u64).collect::<UInt64Array>()),
        ],
    )
    .unwrap()
}

/// The directory: (postcode, district, lsoa11, terminated).
const DIRECTORY: [(&str, &str, &str, Option<&str>); 6] = [
    ("M1 1AA", "E08000001", "E01000001", None),
    ("M1 2BB", "E08000001", "E01000003", None),
    ("M2 3CC", "E08000002", "E01000011", None),
    ("M3 4DD", "E08000002", "E01000012", Some("202001")),
    ("M4 5EE", "E08000001", "E01000002", None),
    ("EH1 1AA", "S12000036", "S01008000", None),
];

fn directory_batch() -> RecordBatch {
    let d = &DIRECTORY;
    let schema = Arc::new(Schema::new(vec![
        Field::new("postcode", DataType::Utf8, false),
        Field::new("lad_code", DataType::Utf8, true),
        Field::new("lsoa11", DataType::Utf8, true),
        Field::new("lsoa21", DataType::Utf8, true),
        Field::new("introduced", DataType::Utf8, true),
        Field::new("terminated", DataType::Utf8, true),
        Field::new("is_terminated", DataType::Boolean, false),
        Field::new("source", DataType::Utf8, false),
        Field::new("line", DataType::UInt64, false),
    ]));
    RecordBatch::try_new(
        schema,
        vec![
            text(d.iter().map(|x| Some(x.0)).collect()),
            text(d.iter().map(|x| Some(x.1)).collect()),
            text(d.iter().map(|x| Some(x.2)).collect()),
            // 2021 LSOAs deliberately differ, so reading the wrong vintage shows.
            text(d.iter().map(|_| Some("E01999999")).collect()),
            text(d.iter().map(|_| Some("198001")).collect()),
            text(d.iter().map(|x| x.3).collect()),
            Arc::new(
                d.iter()
                    .map(|x| Some(x.3.is_some()))
                    .collect::<BooleanArray>(),
            ),
            text(d.iter().map(|_| Some("onspd.csv")).collect()),
            Arc::new((2..2 + d.len() as u64).collect::<UInt64Array>()),
        ],
    )
    .unwrap()
}

async fn publish(
    wh: &Warehouse,
    dataset: &str,
    kind: &str,
    attributes: &[(&str, &str)],
    tables: Vec<(&str, RecordBatch)>,
) {
    let draft = Draft {
        dataset: dataset.into(),
        kind: kind.into(),
        vintage: BTreeMap::new(),
        attributes: attributes
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        sources: vec![SourceFile {
            name: format!("{dataset}.csv"),
            size: 1,
            sha256: renewal_warehouse::sha256_hex(dataset.as_bytes()),
            format: "fixture".into(),
            rows: 1,
        }],
        schemas: vec![],
        tables: tables
            .into_iter()
            .map(|(name, batch)| DraftTable {
                name: name.into(),
                parquet: parquet(batch),
            })
            .collect(),
        notes: vec![],
    };
    wh.publish(draft, PublishOptions::default()).await.unwrap();
}

/// The IoD fixture: ranks only (deciles follow from N = 100), LSOA → district pairs.
/// (LSOA, district, IMD rank) of the fixture edition.
fn imd_rows() -> Vec<(String, &'static str, f64)> {
    let a = [41.0, 45.0, 52.0, 58.0, 63.0, 70.0, 77.0, 83.0, 90.0, 99.0];
    let mut codes: Vec<(String, &str, f64)> = a
        .iter()
        .enumerate()
        .map(|(i, r)| (format!("E010000{:02}", i + 1), "E08000001", *r))
        .collect();
    codes.push(("E01000011".into(), "E08000002", 3.0));
    codes.push(("E01000012".into(), "E08000002", 12.0));
    codes
}

async fn publish_imd(wh: &Warehouse) {
    let codes = imd_rows();
    let lads: Vec<(&str, &str)> = codes.iter().map(|(c, d, _)| (c.as_str(), *d)).collect();
    let cells: Vec<(&str, &str, &str, f64)> = codes
        .iter()
        .map(|(c, _, r)| (c.as_str(), "imd", "rank", *r))
        .collect();
    publish_iod_cells(wh, "2019", 100, &lads, &cells, "iod").await;
}

/// LSOA11 → WD19 lookup: E01000001 → Ward One, E01000003 → Ward Two (both A), E01000011 →
/// Ward Three (B). E01000012 is deliberately absent.
async fn publish_wards(wh: &Warehouse) {
    let rows = [
        ("E01000001", "E05000001", "Ward One", "E08000001"),
        ("E01000003", "E05000002", "Ward Two", "E08000001"),
        ("E01000011", "E05000003", "Ward Three", "E08000002"),
    ];
    type Ward = (&'static str, &'static str, &'static str, &'static str);
    let col = |f: &dyn Fn(&Ward) -> &'static str| text(rows.iter().map(|r| Some(f(r))).collect());
    let names = [
        "lsoa_code",
        "lsoa_name",
        "ward_code",
        "ward_name",
        "lad_code",
        "lad_name",
    ];
    let schema = Arc::new(Schema::new(
        names
            .iter()
            .map(|n| Field::new(*n, DataType::Utf8, false))
            .collect::<Vec<_>>(),
    ));
    let batch = RecordBatch::try_new(
        schema,
        vec![
            col(&|r| r.0),
            col(&|r| r.0),
            col(&|r| r.1),
            col(&|r| r.2),
            col(&|r| r.3),
            col(&|r| r.3),
        ],
    )
    .unwrap();
    let draft = Draft {
        dataset: "lookup-lsoa11-wd19".into(),
        kind: "lookup".into(),
        vintage: BTreeMap::from([
            ("lsoa".into(), "LSOA11".into()),
            ("ward".into(), "WD19".into()),
        ]),
        attributes: BTreeMap::from([("fit".into(), "best-fit".into())]),
        sources: vec![SourceFile {
            name: "lookup.csv".into(),
            size: 1,
            sha256: renewal_warehouse::sha256_hex(b"lookup"),
            format: "fixture".into(),
            rows: 3,
        }],
        schemas: vec![],
        tables: vec![DraftTable {
            name: "lookup".into(),
            parquet: parquet(batch),
        }],
        notes: vec![],
    };
    wh.publish(draft, PublishOptions::default()).await.unwrap();
}

struct Fixture {
    _dir: tempfile::TempDir,
    engine: Engine,
}

async fn fixture() -> Fixture {
    let dir = renewal_test_support::temp_dir();
    let wh = Warehouse::open_local(dir.path()).unwrap();
    // Two files, as a council publishes them: earlier years, then 2021-22.
    let early = payments_batch(&earlier_years(), "spend-2018-2021.csv");
    let late = payments_batch(&year_2021(), "spend-2021-22.csv");
    let payments = arrow::compute::concat_batches(&early.schema(), &[early, late]).unwrap();
    // The later file repeated Alpha's first 2021-22 payment; the ingest kept it out of
    // `payments` (it is in `duplicates`), so it must not count anywhere.
    let again = payments_batch(&year_2021()[..1], "spend-2021-22-revised.csv");
    let mut columns = again.columns().to_vec();
    columns.push(text(vec![Some("spend-2021-22.csv")]));
    columns.push(Arc::new(UInt64Array::from(vec![2])));
    let mut fields: Vec<Field> = again
        .schema()
        .fields()
        .iter()
        .map(|f| f.as_ref().clone())
        .collect();
    fields.push(Field::new("duplicate_of_source", DataType::Utf8, false));
    fields.push(Field::new("duplicate_of_line", DataType::UInt64, false));
    let duplicates = RecordBatch::try_new(Arc::new(Schema::new(fields)), columns).unwrap();
    publish(
        &wh,
        "spend-fictional-borough-council",
        "spend",
        &[("body_area", "E08000001")],
        vec![("payments", payments), ("duplicates", duplicates)],
    )
    .await;
    publish(
        &wh,
        "suppliers-fictional-borough-council",
        "suppliers",
        &[],
        vec![("suppliers", register_batch())],
    )
    .await;
    publish(
        &wh,
        "postcodes",
        "postcodes",
        &[],
        vec![("postcodes", directory_batch())],
    )
    .await;
    publish_imd(&wh).await;
    publish_wards(&wh).await;
    Fixture {
        engine: Engine::new(wh, Catalog::embedded().unwrap()),
        _dir: dir,
    }
}

fn request(breakdown: Breakdown) -> SpendRequest {
    SpendRequest {
        spend: "spend-fictional-borough-council".into(),
        suppliers: "suppliers-fictional-borough-council".into(),
        postcodes: "postcodes".into(),
        period: Period::FinancialYear("2021-22".into()),
        breakdown,
        top: 20,
        edition: Some("2019".into()),
        ward_vintage: None,
    }
}

/// A row of an answer: (group_code, group_name, inside, payments, payees, net_pence).
type Row = (Option<String>, String, Option<bool>, i64, Option<i64>, i64);

fn column<'a>(a: &'a Answer, name: &str) -> &'a ArrayRef {
    let i = a.schema.index_of(name).unwrap();
    assert_eq!(a.batches.len(), 1);
    a.batches[0].column(i)
}

fn rows(a: &Answer) -> Vec<Row> {
    let s = |n: &str| {
        let c = column(a, n).as_string::<i32>();
        (0..c.len())
            .map(|i| c.is_valid(i).then(|| c.value(i).to_owned()))
            .collect::<Vec<_>>()
    };
    let n = |c: &str| {
        let c = column(a, c).as_primitive::<Int64Type>();
        (0..c.len())
            .map(|i| c.is_valid(i).then(|| c.value(i)))
            .collect::<Vec<_>>()
    };
    let inside = column(a, "inside").as_boolean();
    let (code, name, payments, payees, net) = (
        s("group_code"),
        s("group_name"),
        n("payments"),
        n("payees"),
        n("net_pence"),
    );
    (0..a.num_rows())
        .map(|i| {
            (
                code[i].clone(),
                name[i].clone().unwrap(),
                inside.is_valid(i).then(|| inside.value(i)),
                payments[i].unwrap(),
                payees[i],
                net[i].unwrap(),
            )
        })
        .collect()
}

/// (code, name, net) of each row, for the comparisons that care only about money.
fn money(a: &Answer) -> Vec<(Option<String>, String, i64)> {
    rows(a).into_iter().map(|r| (r.0, r.1, r.5)).collect()
}

fn row(code: Option<&str>, name: &str, net: i64) -> (Option<String>, String, i64) {
    (code.map(String::from), name.to_owned(), net)
}

const TOTAL: i64 = 224020;

async fn place(f: &Fixture, b: Breakdown) -> Answer {
    spend_by_place(&f.engine, &request(b), &DatasetPins::new())
        .await
        .unwrap()
}

fn assert_sums_to_total(a: &Answer, total: i64) {
    let sum: i64 = rows(a).iter().map(|r| r.5).sum();
    assert_eq!(
        sum, total,
        "rows of the breakdown sum to the period's total"
    );
}

#[tokio::test]
async fn location_notes_report_every_share_in_pence() {
    let f = fixture().await;
    let a = place(&f, Breakdown::District).await;
    let notes = a.notes.join("\n");
    for expected in [
        "2021-22: 11 payments, 224020 pence in all",
        "exactly (company number): 154000 pence (68.7%)",
        "by name: 56000 pence (25.0%)",
        "not matched: 14020 pence (6.3%)",
        "not located: 64020 pence (28.6%)",
        "no supplier match 14020 pence",
        "matched but no postcode 30000 pence (13.4%)",
        "postcode not in the directory 20000 pence (8.9%)",
        "terminated postcodes used (still located, flagged): 15000 pence (6.7%) in 1 payment",
        "as repeats of a payment in an earlier file of the same ingest: 1 (all periods",
    ] {
        assert!(notes.contains(expected), "{expected:?} not in\n{notes}");
    }
    // The basis names every dataset version read (no IoD for a district breakdown).
    assert_eq!(
        a.basis.datasets.keys().cloned().collect::<Vec<_>>(),
        [
            "postcodes",
            "spend-fictional-borough-council",
            "suppliers-fictional-borough-council"
        ]
    );
}

#[tokio::test]
async fn district_breakdown_inside_and_outside_with_not_located() {
    let f = fixture().await;
    let a = place(&f, Breakdown::District).await;
    let r = rows(&a);
    // Inside A: lines 2, 3, 11 = 100000 − 20000 + 6000 (payees Alpha, Eta). Outside: B lines
    // 4, 7 = 65000; Scotland line 10 = 9000. Not located: lines 5, 6, 8, 9, 12 = 64020, with
    // a redacted payment, so its payees are not counted.
    assert_eq!(
        r,
        vec![
            (
                Some("E08000001".into()),
                "inside".into(),
                Some(true),
                3,
                Some(2),
                86000
            ),
            (
                Some("E08000002".into()),
                "outside".into(),
                Some(false),
                2,
                Some(2),
                65000
            ),
            (
                Some("S12000036".into()),
                "outside".into(),
                Some(false),
                1,
                Some(1),
                9000
            ),
            (None, NOT_LOCATED.into(), None, 5, None, 64020),
        ]
    );
    assert_sums_to_total(&a, TOTAL);
    let share = column(&a, "share").as_primitive::<arrow::datatypes::Float64Type>();
    assert!((share.value(0) - 86000.0 / 224020.0).abs() < 1e-12);
    let notes = a.notes.join("\n");
    assert!(
        notes.contains(
            "inside the body's district (E08000001): 86000 pence (38.4%); outside: 74000 pence \
             (33.0%); not placed in a district: 64020 pence (28.6%)"
        ),
        "{notes}"
    );
}

#[tokio::test]
async fn lsoa_and_ward_breakdowns_use_the_editions_lsoa_vintage() {
    let f = fixture().await;
    let a = place(&f, Breakdown::Lsoa).await;
    // LSOA11 codes (the directory's lsoa21 column holds E01999999 everywhere: never seen).
    assert_eq!(
        money(&a),
        vec![
            row(Some("E01000001"), "E01000001", 80000),
            row(Some("E01000003"), "E01000003", 6000),
            row(Some("E01000011"), "E01000011", 50000),
            row(Some("E01000012"), "E01000012", 15000),
            row(
                None,
                "no English or Welsh LSOA in the postcode directory",
                9000
            ),
            row(None, NOT_LOCATED, 64020),
        ]
    );
    assert_sums_to_total(&a, TOTAL);
    assert!(a.basis.datasets.contains_key("iod-2019"));

    let w = place(&f, Breakdown::Ward).await;
    assert_eq!(
        money(&w),
        vec![
            row(Some("E05000001"), "Ward One", 80000),
            row(Some("E05000002"), "Ward Two", 6000),
            row(Some("E05000003"), "Ward Three", 50000),
            row(None, "LSOA not in the ward lookup", 15000),
            row(
                None,
                "no English or Welsh LSOA in the postcode directory",
                9000
            ),
            row(None, NOT_LOCATED, 64020),
        ]
    );
    assert_eq!(
        rows(&w).iter().map(|r| r.2).collect::<Vec<_>>(),
        [Some(true), Some(true), Some(false), None, None, None]
    );
    assert_sums_to_total(&w, TOTAL);
    assert_eq!(w.basis.datasets.get("lookup-lsoa11-wd19"), Some(&1));
    assert_eq!(w.basis.fit, renewal_geo::Fit::BestFit);
}

#[tokio::test]
async fn national_and_local_deciles_with_the_most_deprived_shares() {
    let f = fixture().await;
    let a = place(&f, Breakdown::Decile).await;
    // E01000001 rank 41 → decile 5; E01000003 rank 52 → 6; E01000011 rank 3 → 1;
    // E01000012 rank 12 → 2.
    assert_eq!(
        money(&a),
        vec![
            row(Some("1"), "decile 1", 50000),
            row(Some("2"), "decile 2", 15000),
            row(Some("5"), "decile 5", 80000),
            row(Some("6"), "decile 6", 6000),
            row(
                None,
                "no English or Welsh LSOA in the postcode directory",
                9000
            ),
            row(None, NOT_LOCATED, 64020),
        ]
    );
    assert_sums_to_total(&a, TOTAL);
    let notes = a.notes.join("\n");
    // Nationally: 10% = 50000 / 224020 = 22.3%; 20% = 65000 / 224020 = 29.0%. Locally
    // E01000001 is A's most deprived LSOA (r = 1 of 10 → local decile 1): 80000 = 35.7%,
    // and nothing is in local decile 2 (E01000002 has no supplier), so 20% is also 80000.
    assert!(
        notes.contains(
            "most deprived 10% of LSOAs nationally: 50000 pence (22.3%); 20%: 65000 pence (29.0%)"
        ),
        "{notes}"
    );
    assert!(
        notes.contains(
            "most deprived 10% of E08000001's own LSOAs (local deciles, ranked among themselves): \
             80000 pence (35.7%); 20%: 80000 pence (35.7%)"
        ),
        "{notes}"
    );

    let l = place(&f, Breakdown::LocalDecile).await;
    // E01000003 rank 52 is third of A's ten → ceil(10·3/10) = 3. B's LSOAs are outside.
    assert_eq!(
        money(&l),
        vec![
            row(Some("1"), "local decile 1", 80000),
            row(Some("3"), "local decile 3", 6000),
            row(None, "outside the body's district", 65000),
            row(
                None,
                "no English or Welsh LSOA in the postcode directory",
                9000
            ),
            row(None, NOT_LOCATED, 64020),
        ]
    );
    assert_sums_to_total(&l, TOTAL);
}

#[tokio::test]
async fn service_expense_and_kind_breakdowns() {
    let f = fixture().await;
    let s = place(&f, Breakdown::Service).await;
    // Highways 100000 − 20000 + 30000 + 3000; Adult Care 50000 + 7003 + 4017; Corporate
    // 20000 + 15000 + 6000; Catering 9000. Largest first.
    assert_eq!(
        money(&s),
        vec![
            row(None, "Highways", 113000),
            row(None, "Adult Care", 61020),
            row(None, "Corporate", 41000),
            row(None, "Catering", 9000),
        ]
    );
    assert_sums_to_total(&s, TOTAL);
    let e = place(&f, Breakdown::Expense).await;
    assert_eq!(
        money(&e),
        vec![
            row(None, "Works", 80000),
            row(None, "Care", 61020),
            row(None, "Materials", 33000),
            row(None, "Consultancy", 20000),
            row(None, "Printing", 15000),
            row(None, "Food", 9000),
            row(None, "Cleaning", 6000),
        ]
    );
    assert_sums_to_total(&e, TOTAL);
    let k = place(&f, Breakdown::Kind).await;
    // SME: Alpha 80000 + Eta 6000 (register flags). Charity: Beta 50000. Other organisations:
    // Gamma 30000 (sme false), Delta 20000, Epsilon 15000, Zeta 9000, Omega 3000 (not in the
    // register, named as an organisation by the ingest). Not named: 7003 + 4017.
    assert_eq!(
        money(&k),
        vec![
            row(None, "sme", 86000),
            row(None, "charity", 50000),
            row(None, "other organisation", 77000),
            row(None, "not named", 11020),
        ]
    );
    assert_sums_to_total(&k, TOTAL);
}

#[tokio::test]
async fn supplier_breakdown_names_only_organisations() {
    let f = fixture().await;
    let mut r = request(Breakdown::Supplier);
    r.top = 3;
    let a = spend_by_place(&f.engine, &r, &DatasetPins::new())
        .await
        .unwrap();
    // Top 3 by net: Alpha 80000 (register name), Beta 50000 (identity = its key: no company
    // number anywhere), Gamma 30000; other organisations Delta 20000 + Epsilon 15000 + Zeta
    // 9000 + Eta 6000 + Omega 3000 = 53000 in 5 payments; private 7003 + 4017.
    assert_eq!(
        rows(&a),
        vec![
            (
                Some("01234567".into()),
                "Alpha Builders Ltd".into(),
                None,
                2,
                Some(1),
                80000
            ),
            (
                Some("beta care services".into()),
                "Beta Care Services Limited".into(),
                None,
                1,
                Some(1),
                50000
            ),
            (
                Some("02222222".into()),
                "Gamma Supplies".into(),
                None,
                1,
                Some(1),
                30000
            ),
            (None, OTHER_ORGANISATIONS.into(), None, 5, Some(5), 53000),
            (None, PRIVATE_PAYEES.into(), None, 2, None, 11020),
        ]
    );
    assert_sums_to_total(&a, TOTAL);
    let notes = a.notes.join("\n");
    assert!(
        notes.contains(&format!(
            "{PRIVATE_PAYEES}: 2 payments, 11020 pence, never named: 1 payee not known to be \
             organisations, 1 redacted payment"
        )),
        "{notes}"
    );
    assert!(!notes.contains("single payee"), "{notes}");
}

/// Every cell of every breakdown, the notes and the method, as text.
fn all_text(a: &Answer) -> String {
    let mut out = a.notes.join("\n");
    out.push_str(&a.basis.method);
    for b in &a.batches {
        for c in b.columns() {
            let c = arrow::compute::cast(c, &DataType::Utf8).unwrap();
            let c = c.as_string::<i32>();
            for i in 0..c.len() {
                if c.is_valid(i) {
                    out.push('\n');
                    out.push_str(c.value(i));
                }
            }
        }
    }
    out.to_lowercase()
}

/// Whether some sum of rows, each taken with sign +1, −1 or not at all, equals `target`.
fn reachable(values: &[i64], target: i64) -> bool {
    let mut sums = std::collections::BTreeSet::from([0i64]);
    for v in values {
        let next: Vec<i64> = sums.iter().flat_map(|s| [s + v, s - v]).collect();
        sums.extend(next);
    }
    sums.contains(&target)
}

#[tokio::test]
async fn no_private_payee_is_named_or_recoverable() {
    let f = fixture().await;
    for b in Breakdown::ALL {
        for top in [1, 3, 20] {
            let mut r = request(b);
            r.top = top;
            let a = spend_by_place(&f.engine, &r, &DatasetPins::new())
                .await
                .unwrap();
            let text = all_text(&a);
            for secret in ["john smith", "redacted personal information"] {
                assert!(!text.contains(secret), "{} names {secret}", b.as_str());
            }
            assert_sums_to_total(&a, TOTAL);
            if b == Breakdown::Supplier {
                // No combination of the rows (sums and differences) gives one private payee's
                // spend: John Smith 4017, the redacted payment 7003.
                let values: Vec<i64> = rows(&a).iter().map(|r| r.5).collect();
                for payee in [4017, 7003] {
                    assert!(!reachable(&values, payee), "top {top}: {payee} recoverable");
                }
            }
        }
    }
}

#[tokio::test]
async fn an_aggregate_of_one_payee_says_so() {
    let f = fixture().await;
    let mut r = request(Breakdown::Supplier);
    // 2021-10-15 to 2022-03-31: lines 9 (John Smith 4017), 10 (Zeta 9000), 11 (Eta 6000),
    // 12 (Omega 3000). The private aggregate is John Smith alone, and the answer says so.
    r.period = "2021-10-15..2022-03-31".parse().unwrap();
    let a = spend_by_place(&f.engine, &r, &DatasetPins::new())
        .await
        .unwrap();
    assert_eq!(
        money(&a),
        vec![
            row(Some("05555555"), "Zeta Foods Ltd", 9000),
            row(Some("eta cleaning"), "Eta Cleaning", 6000),
            row(Some("09999999"), "Omega Traders Ltd", 3000),
            row(None, PRIVATE_PAYEES, 4017),
        ]
    );
    assert_sums_to_total(&a, 22017);
    let notes = a.notes.join("\n");
    assert!(
        notes.contains("this aggregate is a single payee's spend"),
        "{notes}"
    );
    assert!(!all_text(&a).contains("john smith"));
}

#[tokio::test]
async fn baseline_is_the_mean_of_three_earlier_years() {
    let f = fixture().await;
    let a = spend_by_year(
        &f.engine,
        &request(Breakdown::Service),
        3,
        &DatasetPins::new(),
    )
    .await
    .unwrap();
    let fy = column(&a, "financial_year").as_string::<i32>();
    let base = column(&a, "baseline_pence").as_primitive::<arrow::datatypes::Float64Type>();
    let change = column(&a, "change_pence").as_primitive::<arrow::datatypes::Float64Type>();
    let pct = column(&a, "change_pct").as_primitive::<arrow::datatypes::Float64Type>();
    let r = rows(&a);
    // Baseline years first, each with its own groups and no baseline.
    let early: Vec<(String, String, i64)> = (0..a.num_rows())
        .filter(|i| fy.value(*i) != "2021-22")
        .map(|i| {
            assert!(base.is_null(i));
            (fy.value(i).to_owned(), r[i].1.clone(), r[i].5)
        })
        .collect();
    let e = |y: &str, n: &str, v| (y.to_owned(), n.to_owned(), v);
    assert_eq!(
        early,
        vec![
            e("2018-19", "Highways", 90000),
            e("2018-19", "Adult Care", 30000),
            e("2019-20", "Highways", 60000),
            e("2019-20", "Adult Care", 30000),
            e("2019-20", "Corporate", 9000),
            e("2019-20", "Libraries", 3000),
            e("2020-21", "Highways", 90000),
            e("2020-21", "Adult Care", 60000),
        ]
    );
    // 2021-22 against the mean of 2018-19, 2019-20, 2020-21:
    // Highways (90000 + 60000 + 90000) / 3 = 80000 → 113000: +33000, +41.25%.
    // Adult Care (30000 + 30000 + 60000) / 3 = 40000 → 61020: +21020, +52.55%.
    // Corporate 9000 / 3 = 3000 → 41000: +38000, +1266.67%.
    // Catering 0 → 9000: +9000, no percentage. Libraries 3000 / 3 = 1000 → 0: −1000, −100%.
    let chosen: Vec<(String, i64, f64, f64, Option<f64>)> = (0..a.num_rows())
        .filter(|i| fy.value(*i) == "2021-22")
        .map(|i| {
            (
                r[i].1.clone(),
                r[i].5,
                base.value(i),
                change.value(i),
                pct.is_valid(i).then(|| pct.value(i)),
            )
        })
        .collect();
    let expect = [
        ("Highways", 113000, 80000.0, 33000.0, Some(41.25)),
        ("Adult Care", 61020, 40000.0, 21020.0, Some(52.55)),
        ("Corporate", 41000, 3000.0, 38000.0, Some(38000.0 / 30.0)),
        ("Catering", 9000, 0.0, 9000.0, None),
        ("Libraries", 0, 1000.0, -1000.0, Some(-100.0)),
    ];
    assert_eq!(chosen.len(), expect.len(), "{chosen:?}");
    for (got, want) in chosen.iter().zip(expect) {
        assert_eq!((got.0.as_str(), got.1), (want.0, want.1));
        assert!((got.2 - want.2).abs() < 1e-9, "{got:?}");
        assert!((got.3 - want.3).abs() < 1e-9, "{got:?}");
        match (got.4, want.4) {
            (Some(g), Some(w)) => assert!((g - w).abs() < 1e-9, "{got:?}"),
            (g, w) => assert_eq!(g, w, "{got:?}"),
        }
    }
    let notes = a.notes.join("\n");
    assert!(
        notes.contains(
            "totals by financial year: 2018-19: 120000 pence, 2019-20: 102000 pence, 2020-21: \
             150000 pence, 2021-22: 224020 pence; baseline (mean of 2018-19, 2019-20, 2020-21) \
             124000.00 pence"
        ),
        "{notes}"
    );
}

#[tokio::test]
async fn a_missing_baseline_year_is_refused_by_name() {
    let f = fixture().await;
    let e = spend_by_year(
        &f.engine,
        &request(Breakdown::Service),
        4,
        &DatasetPins::new(),
    )
    .await
    .unwrap_err();
    let QueryError::Precondition(m) = e else {
        panic!("{e}")
    };
    assert!(m.contains("no payments in 2017-18"), "{m}");
    // A baseline needs a financial year.
    let mut r = request(Breakdown::Service);
    r.period = "2021-04-01..2021-06-30".parse().unwrap();
    assert!(matches!(
        spend_by_year(&f.engine, &r, 3, &DatasetPins::new()).await,
        Err(QueryError::InvalidArgument(_))
    ));
}

#[tokio::test]
async fn supplier_rows_line_up_across_years() {
    let f = fixture().await;
    let mut r = request(Breakdown::Supplier);
    r.top = 1;
    let a = spend_by_year(&f.engine, &r, 3, &DatasetPins::new())
        .await
        .unwrap();
    let fy = column(&a, "financial_year").as_string::<i32>();
    let base = column(&a, "baseline_pence").as_primitive::<arrow::datatypes::Float64Type>();
    let rows = rows(&a);
    // Alpha is the top supplier of 2021-22 (80000) and every earlier payment is Alpha's:
    // baseline (120000 + 102000 + 150000) / 3 = 124000.
    let i = (0..a.num_rows())
        .find(|i| fy.value(*i) == "2021-22" && rows[*i].0.as_deref() == Some("01234567"))
        .unwrap();
    assert_eq!(rows[i].5, 80000);
    assert!((base.value(i) - 124000.0).abs() < 1e-9);
}

#[tokio::test]
async fn periods_and_breakdowns_parse_strictly() {
    assert_eq!(
        "2021-22".parse::<Period>().unwrap(),
        Period::FinancialYear("2021-22".into())
    );
    for bad in [
        "2021-23",
        "2021",
        "2021-04-01..2021-13-01",
        "2022-01-01..2021-01-01",
    ] {
        assert!(bad.parse::<Period>().is_err(), "{bad}");
    }
    assert_eq!(
        "local".parse::<Breakdown>().unwrap(),
        Breakdown::LocalDecile
    );
    assert!("postcode".parse::<Breakdown>().is_err());
}

/// The fixture written as the plain CSV the Python reference reads, and its answer as
/// (measure, group) → pence.
fn python_reference() -> BTreeMap<(String, String), i64> {
    let dir = renewal_test_support::temp_dir();
    let opt = |v: Option<&str>| v.unwrap_or("").to_owned();
    let mut payments =
        String::from("financial_year,body_area,net_pence,supplier_key,company_number,payee\n");
    for p in earlier_years().iter().chain(&year_2021()) {
        payments.push_str(&format!(
            "{},E08000001,{},{},{},{}\n",
            p.fy,
            p.pence,
            p.key,
            opt(p.number),
            p.payee
        ));
    }
    let mut suppliers = String::from("supplier_key,company_number,postcode\n");
    for r in REGISTER {
        suppliers.push_str(&format!("{},{},{}\n", r.1, opt(r.2), opt(r.4)));
    }
    let mut postcodes = String::from("postcode,lad_code,lsoa11,lsoa21,is_terminated\n");
    for d in DIRECTORY {
        postcodes.push_str(&format!(
            "{},{},{},E01999999,{}\n",
            d.0,
            d.1,
            d.2,
            d.3.is_some()
        ));
    }
    let mut iod = String::from("lsoa_code,lad_code,rank\n");
    for (code, lad, rank) in imd_rows() {
        iod.push_str(&format!("{code},{lad},{rank}\n"));
    }
    let write = |name: &str, text: &str| renewal_test_support::write_file(dir.path(), name, text);
    let files = [
        ("--payments", write("payments.csv", &payments)),
        ("--suppliers", write("suppliers.csv", &suppliers)),
        ("--postcodes", write("postcodes.csv", &postcodes)),
        ("--iod", write("iod.csv", &iod)),
    ];
    let mut args: Vec<std::ffi::OsString> = Vec::new();
    for (flag, path) in &files {
        args.push(flag.into());
        args.push(path.into());
    }
    args.extend(["--national", "100", "--period", "2021-22"].map(Into::into));
    renewal_test_support::python_reference("spend_reference.py", &args)
        .lines()
        .skip(1)
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            ((f[0].to_owned(), f[1].to_owned()), f[2].parse().unwrap())
        })
        .collect()
}

#[tokio::test]
async fn decile_and_district_figures_agree_with_the_python_reference() {
    let f = fixture().await;
    let reference = python_reference();
    let get = |m: &str, g: &str| {
        reference
            .get(&(m.to_owned(), g.to_owned()))
            .copied()
            .unwrap_or(0)
    };
    // The group names of the rows that are not a decile or district, as the reference calls them.
    let other = |name: &str| match name {
        NOT_LOCATED => "not_located",
        "no English or Welsh LSOA in the postcode directory" => "no_lsoa",
        "LSOA not in the IoD edition" => "not_in_edition",
        "outside the body's district" => "outside",
        "no district in the postcode directory" => "no_district",
        other => panic!("unexpected group {other:?}"),
    };
    for (breakdown, measure) in [
        (Breakdown::Decile, "decile"),
        (Breakdown::LocalDecile, "local"),
        (Breakdown::District, "district"),
    ] {
        let a = place(&f, breakdown).await;
        let mine: BTreeMap<String, i64> = rows(&a)
            .into_iter()
            .map(|r| (r.0.unwrap_or_else(|| other(&r.1).to_owned()), r.5))
            .collect();
        let theirs: BTreeMap<String, i64> = reference
            .iter()
            // The reference's district measure also totals inside and outside; those are
            // compared with the `inside` column below, not as rows.
            .filter(|((m, g), _)| {
                m == measure && !(measure == "district" && (g == "inside" || g == "outside"))
            })
            .map(|((_, g), v)| (g.clone(), *v))
            .collect();
        assert_eq!(mine, theirs, "{measure}");
        assert_eq!(mine.values().sum::<i64>(), get("total", ""));
        let notes = a.notes.join("\n");
        if breakdown == Breakdown::District {
            let inside: i64 = rows(&a)
                .iter()
                .filter(|r| r.2 == Some(true))
                .map(|r| r.5)
                .sum();
            let outside: i64 = rows(&a)
                .iter()
                .filter(|r| r.2 == Some(false))
                .map(|r| r.5)
                .sum();
            assert_eq!(
                (inside, outside),
                (get("district", "inside"), get("district", "outside"))
            );
            for (label, value) in [
                ("exactly (company number): ", get("matched", "number")),
                ("by name: ", get("matched", "name")),
                ("not matched: ", get("matched", "none")),
                ("matched but no postcode ", get("located", "no_postcode")),
                (
                    "postcode not in the directory ",
                    get("located", "not_in_directory"),
                ),
                ("flagged): ", get("terminated", "")),
            ] {
                assert!(
                    notes.contains(&format!("{label}{value} pence")),
                    "{label}{value}: {notes}"
                );
            }
        } else {
            for (label, value) in [
                ("nationally: ", get("most_deprived", "national_10")),
                (
                    "ranked among themselves): ",
                    get("most_deprived", "local_10"),
                ),
            ] {
                assert!(
                    notes.contains(&format!("{label}{value} pence")),
                    "{label}{value}: {notes}"
                );
            }
            for value in [
                get("most_deprived", "national_20"),
                get("most_deprived", "local_20"),
            ] {
                assert!(
                    notes.contains(&format!("20%: {value} pence")),
                    "{value}: {notes}"
                );
            }
        }
    }
}
