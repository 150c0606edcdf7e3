//! The Spend service end to end on the sample council's spending (`renewal sample
//! --boundary-change`: 36 months of Renewal Vale Council's payments in Salford's layout, its
//! contract register, a postcode directory and its LM3 survey), ingested with the library
//! calls the CLI makes: gRPC and the HTTP feed give the same rows; the spend by IMD decile
//! equals the independent `tests/reference/spend_deciles.py` read of the raw files; only
//! organisations are named; the key's authorities and dataset patterns hold; LM3 is the
//! sample's hand-worked 511/320.

use std::collections::BTreeMap;

use renewal_server::pb;
use renewal_server::pb::spend_client::SpendClient;
use serde_json::Value;

use crate::http::{assert_csv, assert_same_rows, bearer, get};
use crate::*;

const SPEND: &str = "spend-renewal-vale-council";
const SUPPLIERS: &str = "suppliers-renewal-vale-council";
/// The same payments published as if another district's body had made them.
const ELSEWHERE: &str = "spend-elsewhere";
const LM3: &str = "lm3-renewal-vale";

struct SpendFixture {
    f: Fixture,
    sample: PathBuf,
}

fn sorted(dir: &Path, pred: impl Fn(&str) -> bool) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| pred(&p.file_name().unwrap().to_string_lossy()))
        .collect();
    v.sort();
    v
}

async fn spend_fixture() -> SpendFixture {
    let f = fixture().await;
    let sample = f.dir.path().join("sample-bc");
    renewal_sample::write_sample_scoped(
        &sample,
        &renewal_sample::SampleSpec::default(),
        renewal_sample::SampleScope::WithBoundaryChange,
    )
    .unwrap();
    let catalog = Catalog::embedded().unwrap();
    let np = &renewal_ingest::NoProgress;
    let spend_dir = sample.join("spend");
    let payments = sorted(&spend_dir, |n| n.contains("_spend_over_500_"));
    assert_eq!(payments.len(), 36, "April 2021 to March 2024");
    let mut drafts = vec![
        renewal_ingest::read_spend(
            &catalog,
            &payments,
            &renewal_ingest::SpendOptions {
                dataset: None,
                body_area: Some(VALE.into()),
            },
            np,
        )
        .unwrap(),
        renewal_ingest::read_spend(
            &catalog,
            &payments,
            &renewal_ingest::SpendOptions {
                dataset: Some(ELSEWHERE.into()),
                body_area: Some(BROOKMERE.into()),
            },
            np,
        )
        .unwrap(),
        renewal_ingest::read_suppliers(
            &catalog,
            &sorted(&spend_dir, |n| n.ends_with("_contract_register.csv")),
            &renewal_ingest::SupplierOptions {
                dataset: Some(SUPPLIERS.into()),
            },
            np,
        )
        .unwrap(),
        renewal_ingest::read_postcodes(
            &sample.join("geography/postcodes/renewal_sample_onspd.csv"),
            &catalog,
            &renewal_ingest::PostcodeOptions::default(),
            np,
        )
        .unwrap(),
        renewal_ingest::read_lm3_survey(
            &catalog,
            &sorted(&spend_dir, |n| n.contains("_lm3_")),
            &renewal_ingest::Lm3Options {
                dataset: None,
                body_area: Some(VALE.into()),
            },
            np,
        )
        .unwrap(),
    ];
    assert_eq!(drafts[0].dataset, SPEND);
    assert_eq!(drafts[4].dataset, LM3);
    for d in drafts.drain(..) {
        f.warehouse
            .publish(d, PublishOptions::default())
            .await
            .unwrap();
    }
    SpendFixture { f, sample }
}

fn request(by: &str, period: &str) -> pb::SpendRequest {
    pb::SpendRequest {
        spend: SPEND.into(),
        suppliers: SUPPLIERS.into(),
        period: period.into(),
        by: by.into(),
        ..Default::default()
    }
}

fn integer(table: &Table, row: usize, column: &str) -> i64 {
    match &table.rows[row][column] {
        Some(pb::cell::Value::Integer(i)) => *i,
        other => panic!("{column}: {other:?}"),
    }
}

fn text(table: &Table, row: usize, column: &str) -> String {
    match &table.rows[row][column] {
        Some(pb::cell::Value::Text(t)) => t.clone(),
        None => String::new(),
        other => panic!("{column}: {other:?}"),
    }
}

/// All three years at once: the reference reads every file.
const ALL: &str = "2021-04-01..2024-03-31";

#[tokio::test]
async fn spend_by_decile_equals_the_independent_reading_of_the_raw_files() {
    let s = spend_fixture().await;
    let running = start(&s.f, |c| c.http_addr = Some("127.0.0.1:0".parse().unwrap())).await;
    let mut spend = SpendClient::new(channel(&running).await);
    let table = collect(
        spend
            .spend_by_place(authed(request("decile", ALL), FULL_KEY))
            .await,
    )
    .await
    .unwrap();

    let reference: Value = serde_json::from_str(&renewal_test_support::python_reference(
        "spend_deciles.py",
        [&s.sample],
    ))
    .unwrap();
    let mut ours: BTreeMap<String, i64> = BTreeMap::new();
    let mut total = 0;
    for r in 0..table.rows.len() {
        let pence = integer(&table, r, "net_pence");
        total += pence;
        let code = text(&table, r, "group_code");
        if !code.is_empty() {
            ours.insert(code, pence);
        }
    }
    // Every payment is in one row: the rows (deciles plus those without one) sum to the total,
    // which is the raw files' Net less the one duplicate across files.
    assert_eq!(total, reference["total_pence"].as_i64().unwrap());
    let theirs: BTreeMap<String, i64> = reference["by_decile_pence"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(d, v)| (d.clone(), v.as_i64().unwrap()))
        .filter(|(_, v)| *v != 0)
        .collect();
    assert_eq!(ours, theirs, "spend by national IMD decile");
    assert!(!theirs.is_empty());
    // The shares the notes state, against the reference's exact fractions.
    let d1 = reference["share_of_total_decile_1"]["value"]
        .as_f64()
        .unwrap();
    let note = table
        .notes
        .iter()
        .find(|n| n.contains("most deprived 10%"))
        .unwrap_or_else(|| panic!("no deprived-share note in {:?}", table.notes));
    assert!(
        note.contains(&format!("({:.1}%)", d1 * 100.0)),
        "{note} against {d1}"
    );
    // The notes account for every penny that has no place: matched or not, located or not.
    assert!(
        table.notes.iter().any(|n| n.contains("by name:")),
        "{:?}",
        table.notes
    );

    // The HTTP feed gives the same rows, in JSON and in the CLI's CSV.
    let path = format!("/api/v1/spend?spend={SPEND}&suppliers={SUPPLIERS}&period={ALL}&by=decile");
    let doc = get(&running, &path, &[("authorization", &bearer(FULL_KEY))]).await;
    assert_eq!(doc.status, 200, "{}", doc.body);
    assert_same_rows(&path, &doc.json(), &table);
    let csv = get(
        &running,
        &format!("{path}&format=csv"),
        &[("authorization", &bearer(FULL_KEY))],
    )
    .await;
    assert_csv(&path, &csv, &table);
    running.stop().await.unwrap();
}

/// Only organisations are named: no redacted or unclassified payee's name is in any row of
/// any breakdown, whichever transport asks.
#[tokio::test]
async fn only_organisations_are_named() {
    let s = spend_fixture().await;
    let running = start(&s.f, |_| {}).await;
    let mut spend = SpendClient::new(channel(&running).await);
    let suppliers = collect(
        spend
            .spend_by_place(authed(
                pb::SpendRequest {
                    top: 100,
                    ..request("supplier", "2022-23")
                },
                FULL_KEY,
            ))
            .await,
    )
    .await
    .unwrap();
    let names: Vec<String> = (0..suppliers.rows.len())
        .map(|r| text(&suppliers, r, "group_name"))
        .collect();
    assert!(
        names
            .iter()
            .any(|n| n == "(individuals, redacted and unclassified payees)"),
        "{names:?}"
    );
    assert!(
        !names
            .iter()
            .any(|n| n.to_lowercase().contains("redacted personal")),
        "{names:?}"
    );
    // The same property on every other breakdown: group names are places, deciles, services,
    // kinds — never the redacted payee.
    for by in ["district", "ward", "lsoa", "service", "expense", "kind"] {
        let t = collect(
            spend
                .spend_by_place(authed(request(by, "2022-23"), FULL_KEY))
                .await,
        )
        .await
        .unwrap_or_else(|e| panic!("{by}: {e}"));
        for r in 0..t.rows.len() {
            let name = text(&t, r, "group_name");
            assert!(
                !name.to_lowercase().contains("redacted personal"),
                "{by}: {name}"
            );
        }
    }
    running.stop().await.unwrap();
}

/// A key limited to Renewal Vale reads its council's spend but not the same payments filed
/// under Brookmere's body; a key whose dataset patterns leave out spend is refused; an unknown
/// breakdown is INVALID_ARGUMENT naming the field; a baseline year with no payments is refused.
#[tokio::test]
async fn scopes_and_refusals() {
    let s = spend_fixture().await;
    let running = start(&s.f, |_| {}).await;
    let mut spend = SpendClient::new(channel(&running).await);
    let ok = collect(
        spend
            .spend_by_place(authed(request("district", "2022-23"), VALE_KEY))
            .await,
    )
    .await
    .unwrap();
    assert!(!ok.rows.is_empty());
    let elsewhere = pb::SpendRequest {
        spend: ELSEWHERE.into(),
        ..request("district", "2022-23")
    };
    let (c, m) = code(
        spend
            .spend_by_place(authed(elsewhere.clone(), VALE_KEY))
            .await,
    );
    assert_eq!(c, Code::PermissionDenied, "{m}");
    assert!(m.contains(BROOKMERE), "{m}");
    // The full key reads it.
    collect(spend.spend_by_place(authed(elsewhere, FULL_KEY)).await)
        .await
        .unwrap();
    let (c, m) = code(
        spend
            .spend_by_place(authed(request("district", "2022-23"), IOD_ONLY_KEY))
            .await,
    );
    assert_eq!(c, Code::PermissionDenied, "{m}");
    let (c, m) = code(
        spend
            .spend_by_place(authed(request("colour", "2022-23"), FULL_KEY))
            .await,
    );
    assert_eq!(c, Code::InvalidArgument, "{m}");
    assert!(m.starts_with("by:"), "{m}");
    let (c, m) = code(
        spend
            .spend_by_place(authed(request("district", "2022"), FULL_KEY))
            .await,
    );
    assert_eq!(c, Code::InvalidArgument, "{m}");
    assert!(m.starts_with("period:"), "{m}");

    // Two earlier years exist for 2023-24; three do not (2020-21 has no payments).
    let years = collect(
        spend
            .spend_by_year(authed(
                pb::SpendRequest {
                    baseline_years: 2,
                    ..request("district", "2023-24")
                },
                FULL_KEY,
            ))
            .await,
    )
    .await
    .unwrap();
    assert!(
        years.columns.contains(&"change_pence".to_owned()),
        "{:?}",
        years.columns
    );
    let (c, m) = code(
        spend
            .spend_by_year(authed(
                pb::SpendRequest {
                    baseline_years: 3,
                    ..request("district", "2023-24")
                },
                FULL_KEY,
            ))
            .await,
    );
    assert_ne!(c, Code::Ok);
    assert!(m.contains("2020-21"), "{c:?}: {m}");
    running.stop().await.unwrap();
}

/// LM3 of the sample's survey is its hand-worked 511/320 = 1.596875 (the figures and the
/// working are in crates/renewal-sample/src/lm3.rs), over gRPC and the feed alike.
#[tokio::test]
async fn local_multiplier_of_the_sample_survey() {
    let s = spend_fixture().await;
    let running = start(&s.f, |c| c.http_addr = Some("127.0.0.1:0".parse().unwrap())).await;
    let mut spend = SpendClient::new(channel(&running).await);
    let request = pb::LocalMultiplierRequest {
        survey: LM3.into(),
        ..Default::default()
    };
    let table = collect(
        spend
            .local_multiplier(authed(request.clone(), VALE_KEY))
            .await,
    )
    .await
    .unwrap();
    let total = (0..table.rows.len())
        .find(|&r| text(&table, r, "round") == "total")
        .expect("a total row");
    assert_eq!(table.number(total, "share_of_round1"), Some(1.596875));
    assert!(
        table.notes.iter().any(|n| n.contains("511/320")),
        "{:?}",
        table.notes
    );
    let path = format!("/api/v1/lm3?survey={LM3}");
    let doc = get(&running, &path, &[("authorization", &bearer(VALE_KEY))]).await;
    assert_eq!(doc.status, 200, "{}", doc.body);
    assert_same_rows(&path, &doc.json(), &table);
    // A proxy that is not a share is refused naming its field.
    let (c, m) = code(
        spend
            .local_multiplier(authed(
                pb::LocalMultiplierRequest {
                    staff_respend_proxy: "lots".into(),
                    ..request
                },
                FULL_KEY,
            ))
            .await,
    );
    assert_eq!(c, Code::InvalidArgument, "{m}");
    assert!(m.starts_with("staff_respend_proxy:"), "{m}");
    running.stop().await.unwrap();
}
