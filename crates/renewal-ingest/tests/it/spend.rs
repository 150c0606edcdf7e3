//! Spend over £500 and supplier registers: the shared council files (all four layouts), their
//! totals against an independent Python reader (`tests/reference/spend_totals.py`), hand-read
//! cells, duplicates across files, bad input, and supplier identities from the Salford register.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use polars::prelude::*;
use renewal_ingest::{
    IngestError, NoProgress, SpendOptions, SupplierOptions, read_spend, read_suppliers,
};
use renewal_test_support::{shared_data, shared_file, temp_dir, write_file};
use renewal_warehouse::Draft;

use crate::{catalog, table};

fn spend(files: &[PathBuf]) -> Result<Draft, IngestError> {
    read_spend(&catalog(), files, &SpendOptions::default(), &NoProgress)
}

/// Runs tests/reference/spend_totals.py in `mode` and returns its CSV rows without the header.
fn python(mode: &str, files: &[PathBuf]) -> Vec<Vec<String>> {
    let args =
        std::iter::once(std::ffi::OsStr::new(mode)).chain(files.iter().map(|f| f.as_os_str()));
    renewal_test_support::python_reference("spend_totals.py", args)
        .lines()
        .skip(1)
        .map(|l| l.split(',').map(str::to_owned).collect())
        .collect()
}

/// The shared spend files whose name starts with `prefix`, in name order.
fn shared_spend(root: &Path, prefix: &str) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(root.join("spend"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            let name = p.file_name().unwrap().to_string_lossy();
            name.starts_with(prefix) && !name.contains("contract_register")
        })
        .collect();
    files.sort();
    files
}

/// file → (rows, net pence) over `payments` and `duplicates` together: every row of the file.
fn per_file(draft: &Draft) -> BTreeMap<String, (u64, i64)> {
    let mut out: BTreeMap<String, (u64, i64)> = BTreeMap::new();
    for name in ["payments", "duplicates"] {
        let df = table(draft, name);
        let source = df.column("source").unwrap().str().unwrap().clone();
        let pence = df.column("net_pence").unwrap().i64().unwrap().clone();
        for i in 0..df.height() {
            let e = out.entry(source.get(i).unwrap().to_owned()).or_default();
            e.0 += 1;
            e.1 += pence.get(i).unwrap();
        }
    }
    out
}

/// A text column's values.
fn strings(df: &DataFrame, column: &str) -> Vec<Option<String>> {
    let ca = df.column(column).unwrap().str().unwrap().clone();
    (0..ca.len())
        .map(|i| ca.get(i).map(str::to_owned))
        .collect()
}

/// The `payments` row from `file` at physical `line`, as column → text.
fn row_at(draft: &Draft, file: &str, line: u64) -> BTreeMap<String, String> {
    let df = table(draft, "payments");
    let source = df.column("source").unwrap().str().unwrap().clone();
    let lines = df.column("line").unwrap().u64().unwrap().clone();
    let i = (0..df.height())
        .find(|&i| source.get(i) == Some(file) && lines.get(i) == Some(line))
        .unwrap_or_else(|| panic!("no payment from {file} line {line}"));
    df.columns()
        .iter()
        .map(|c| {
            let v = c.get(i).unwrap();
            let text = match v {
                AnyValue::Null => "<null>".to_owned(),
                AnyValue::String(s) => s.to_owned(),
                AnyValue::StringOwned(s) => s.to_string(),
                other => other.to_string(),
            };
            (c.name().to_string(), text)
        })
        .collect()
}

fn check_against_reference(files: &[PathBuf], draft: &Draft) {
    let reference: BTreeMap<String, (u64, i64)> = python("totals", files)
        .into_iter()
        .map(|r| (r[0].clone(), (r[1].parse().unwrap(), r[2].parse().unwrap())))
        .collect();
    assert_eq!(reference.len(), files.len());
    assert_eq!(per_file(draft), reference);
    for source in &draft.sources {
        assert_eq!(source.rows, reference[&source.name].0, "{}", source.name);
    }
}

#[test]
fn all_36_salford_months_ingest_in_one_call_and_total_exactly() {
    let Some(root) = shared_data() else { return };
    let files = shared_spend(&root, "salford_spend_over_500_");
    assert_eq!(files.len(), 36);
    let draft = spend(&files).unwrap();
    assert_eq!(draft.dataset, "spend-salford-city-council");
    assert_eq!(draft.kind, "spend");
    assert_eq!(draft.attributes["body"], "Salford City Council");
    assert_eq!(draft.attributes["body_area"], "E08000006");
    assert_eq!(draft.vintage["periods"], "2019-20..2021-22");
    check_against_reference(&files, &draft);
    for note in &draft.notes {
        println!("note: {note}");
    }
    let formats: std::collections::BTreeSet<&str> =
        draft.sources.iter().map(|s| s.format.as_str()).collect();
    assert_eq!(
        formats,
        ["spend-salford-sap", "spend-salford-vendor"].into()
    );

    // salford_spend_over_500_2019-05.csv:2, whose Gross is "10298896.31." (not read):
    // Capita Bus Svs-Moto, Net 8239117.05.
    let r = row_at(&draft, "salford_spend_over_500_2019-05.csv", 2);
    assert_eq!(r["net_pence"], "823911705");
    assert_eq!(r["supplier_name"], "Capita Bus Svs-Moto");
    assert_eq!(r["supplier_key"], "capita bus svs moto");
    assert_eq!(r["reference"], "2205292171");
    assert_eq!(r["financial_year"], "2019-20");
    assert_eq!(r["body_area"], "E08000006");
    // salford_spend_over_500_2020-06.csv:2, after the mis-decoded BOM "Ã¯»¿" of its header.
    let r = row_at(&draft, "salford_spend_over_500_2020-06.csv", 2);
    assert_eq!(r["supplier_key"], "addleshaw goddard");
    assert_eq!(r["net_pence"], "305750");
    assert_eq!(r["expense_type"], "Legal Fees");
    assert_eq!(r["payment_date"], "2020-06-01");
    // salford_spend_over_500_2020-08.csv:3, a row ending in an empty field the header lacks.
    let r = row_at(&draft, "salford_spend_over_500_2020-08.csv", 3);
    assert_eq!(r["supplier_name"], "Beenstock Home Management Co Ltd");
    assert_eq!(r["supplier_key"], "beenstock home management");
    assert_eq!(r["net_pence"], "803766");
    assert_eq!(r["service_area"], "People (Adults) - CHSC");
    assert_eq!(r["expense_type"], "Resid Care Home");
    assert_eq!(r["payee"], "organisation");
    // salford_spend_over_500_2021-04.csv:855 leaves Authority Name empty (NHS CCG,
    // 14226583.66): the ingest's one body.
    let r = row_at(&draft, "salford_spend_over_500_2021-04.csv", 855);
    assert_eq!(r["body"], "Salford City Council");
    assert_eq!(r["net_pence"], "1422658366");
    assert_eq!(r["payee"], "organisation");
    assert!(
        draft
            .notes
            .iter()
            .any(|n| n.starts_with("4 payments leave the paying body empty")),
        "{:?}",
        draft.notes
    );
    // Salford withholds individuals' names as "Redacted Data", "Redacted data", "Redaction",
    // "Redacted Data Data" and "REdacted Data": 10345 + 187 + 391 + 76 + 1 payments of the
    // shared files (counted with grep over the raw files).
    let payees = strings(&table(&draft, "payments"), "payee");
    let redacted = payees
        .iter()
        .filter(|p| p.as_deref() == Some("redacted"))
        .count();
    assert_eq!(redacted, 10345 + 187 + 391 + 76 + 1);
    // salford_spend_over_500_2021-05.csv:2 ("Document Number", not "DocumentNo").
    let r = row_at(&draft, "salford_spend_over_500_2021-05.csv", 2);
    assert_eq!(r["reference"], "601319058");
    assert_eq!(r["financial_year"], "2021-22");
}

#[test]
fn manchester_refunds_stay_negative_and_redacted() {
    let Some(root) = shared_data() else { return };
    let files = shared_spend(&root, "manchester_");
    let draft = spend(&files).unwrap();
    assert_eq!(draft.dataset, "spend-manchester-city-council");
    assert_eq!(draft.attributes["body_area"], "E08000003");
    check_against_reference(&files, &draft);
    // manchester_spend_over_500_2022-05.csv:2: Manchester Leisure, -2500, Redacted Personal
    // Information.
    let r = row_at(&draft, "manchester_spend_over_500_2022-05.csv", 2);
    assert_eq!(r["net_pence"], "-250000");
    assert_eq!(r["payee"], "redacted");
    assert_eq!(r["service_area"], "Manchester Leisure");
    assert_eq!(r["expense_type"], "Grant and subscriptions awarded");
    assert_eq!(r["reference"], "1700133305");
    assert_eq!(r["financial_year"], "2022-23");
    assert!(
        draft.notes.iter().any(|n| n.contains("refunds")),
        "{:?}",
        draft.notes
    );
}

#[test]
fn calderdale_transparency_code_layout_keeps_company_numbers() {
    let Some(root) = shared_data() else { return };
    let files = shared_spend(&root, "calderdale_");
    let draft = spend(&files).unwrap();
    assert_eq!(draft.dataset, "spend-the-borough-of-calderdale");
    assert_eq!(draft.sources[0].format, "spend-lgtc");
    // The LGTC layout is shared by many councils; its format knows Calderdale's district.
    assert_eq!(draft.attributes["body_area"], "E08000033");
    check_against_reference(&files, &draft);
    // calderdale_spend_over_500_2022-08.csv:2: Achieve Together Ltd, -438.80, ref 31651682.
    let r = row_at(&draft, "calderdale_spend_over_500_2022-08.csv", 2);
    assert_eq!(r["net_pence"], "-43880");
    assert_eq!(r["supplier_key"], "achieve together");
    assert_eq!(r["reference"], "31651682");
    assert_eq!(r["company_number"], "<null>");
    assert_eq!(
        r["expense_type"],
        "Payments to homes for people assessed as needing residential/nursing care"
    );
    // Company numbers as published ("4869035") are padded to eight digits.
    let df = table(&draft, "payments");
    let numbers = strings(&df, "company_number");
    let given: Vec<&str> = numbers.iter().flatten().map(String::as_str).collect();
    assert_eq!(given.len(), 1956 - 1630);
    assert!(given.contains(&"04869035"));
    assert!(given.iter().all(|n| n.len() == 8));

    let with_area = read_spend(
        &catalog(),
        &files,
        &SpendOptions {
            body_area: Some("E08000033".into()),
            dataset: Some("calderdale".into()),
        },
        &NoProgress,
    )
    .unwrap();
    assert_eq!(with_area.dataset, "spend-calderdale");
    assert_eq!(with_area.attributes["body_area"], "E08000033");
}

#[test]
fn oxford_uk_dates_and_references() {
    let Some(root) = shared_data() else { return };
    let files = shared_spend(&root, "oxford_");
    let draft = spend(&files).unwrap();
    assert_eq!(draft.dataset, "spend-oxford-city-council");
    assert_eq!(draft.attributes["body_area"], "E07000178");
    check_against_reference(&files, &draft);
    // oxford_expenditure-over-500-oct-dec-2017.csv:2: 10/10/2017, 1040187 - 2, 834.29,
    // UK GAS CONNECTION LTD.
    let r = row_at(&draft, "oxford_expenditure-over-500-oct-dec-2017.csv", 2);
    assert_eq!(r["payment_date"], "2017-10-10");
    assert_eq!(r["reference"], "1040187 - 2");
    assert_eq!(r["net_pence"], "83429");
    assert_eq!(r["supplier_key"], "uk gas connection");
    assert_eq!(r["body"], "Oxford City Council");
    assert_eq!(r["financial_year"], "2017-18");
    // Line 4 has no supplier name: kept, unclassified.
    let r = row_at(&draft, "oxford_expenditure-over-500-oct-dec-2017.csv", 4);
    assert_eq!(r["supplier_name"], "");
    assert_eq!(r["payee"], "unclassified");
    assert_eq!(r["net_pence"], "50000");
}

const MANCHESTER_HEADER: &str = "Body Name,Service Area,Expenses Type,Invoice Payment Date,Transaction Number,Net Amount,Supplier Name";

fn manchester_file(dir: &Path, name: &str, rows: &[&str]) -> PathBuf {
    let mut text = format!("\u{feff}{MANCHESTER_HEADER}\r\n");
    for r in rows {
        text.push_str(r);
        text.push_str("\r\n");
    }
    text.push_str("\r\n,,,,,,\r\n");
    write_file(dir, name, text)
}

#[test]
fn a_payment_repeated_in_a_later_file_is_a_duplicate_but_not_inside_one_file() {
    let dir = temp_dir();
    let first = manchester_file(
        dir.path(),
        "m_2022-05.csv",
        &[
            "Manchester City Council,Parks,Grounds,2022-05-03,100,\"1,250.50\",Acme Ltd",
            // The same invoice amount paid twice in one month: both kept.
            "Manchester City Council,Parks,Grounds,2022-05-04,101,600,The Acme Limited",
            "Manchester City Council,Parks,Grounds,2022-05-04,101,600,ACME LTD.",
        ],
    );
    let second = manchester_file(
        dir.path(),
        "m_2022-06.csv",
        &[
            // Repeats line 2 of the first file (same reference, date, amount, supplier key).
            "Manchester City Council,Parks,Grounds,2022-05-03,100,1250.50,ACME LIMITED",
            "Manchester City Council,Parks,Grounds,2022-06-01,102,-75.25,Redacted",
        ],
    );
    // Given in reverse: "earlier" is file-name order, not argument order.
    let draft = spend(&[second, first]).unwrap();
    let payments = table(&draft, "payments");
    let duplicates = table(&draft, "duplicates");
    assert_eq!(payments.height(), 4);
    assert_eq!(duplicates.height(), 1);
    let total: i64 = payments
        .column("net_pence")
        .unwrap()
        .i64()
        .unwrap()
        .sum()
        .unwrap();
    // 1250.50 + 600 + 600 - 75.25, the repeated 1250.50 counted once.
    assert_eq!(total, 125050 + 60000 + 60000 - 7525);
    let text = |df: &DataFrame, c: &str| df.column(c).unwrap().get(0).unwrap().to_string();
    assert_eq!(text(&duplicates, "source"), "\"m_2022-06.csv\"");
    assert_eq!(text(&duplicates, "line"), "2");
    assert_eq!(
        text(&duplicates, "duplicate_of_source"),
        "\"m_2022-05.csv\""
    );
    assert_eq!(text(&duplicates, "duplicate_of_line"), "2");
    assert_eq!(text(&duplicates, "net_pence"), "125050");
    assert!(
        draft
            .notes
            .iter()
            .any(|n| n.starts_with("1 payments repeat") && n.contains("£1,250.50")),
        "{:?}",
        draft.notes
    );
    assert!(
        draft
            .notes
            .iter()
            .any(|n| n.contains("1 refunds") && n.contains("-£75.25")),
        "{:?}",
        draft.notes
    );
    let keys = strings(&payments, "supplier_key");
    assert!(keys.iter().take(3).all(|k| k.as_deref() == Some("acme")));
}

#[test]
fn bad_dates_and_amounts_name_file_line_and_column() {
    let dir = temp_dir();
    let cases = [
        ("2022-02-30", "600", 4, "Invoice Payment Date", "not a date"),
        ("03/05/2022", "600", 4, "Invoice Payment Date", "not a date"),
        (
            "2022-05-03",
            "600.123",
            6,
            "Net Amount",
            "more than two decimal places",
        ),
        ("2022-05-03", "1,2", 6, "Net Amount", "thousands separator"),
        ("2022-05-03", "", 6, "Net Amount", "empty"),
        ("2022-05-03", "12O.00", 6, "Net Amount", "not an amount"),
    ];
    for (date, amount, column, header, what) in cases {
        let file = manchester_file(
            dir.path(),
            "bad.csv",
            &[
                "Manchester City Council,Parks,Grounds,2022-05-03,100,10,Acme Ltd",
                &format!("Manchester City Council,Parks,Grounds,{date},101,\"{amount}\",Acme Ltd"),
            ],
        );
        let err = spend(&[file]).unwrap_err();
        let IngestError::Invalid { location, message } = &err else {
            panic!("{err}")
        };
        assert_eq!(location.file, "bad.csv");
        assert_eq!(location.line, Some(3), "{err}");
        let c = location.column.as_ref().unwrap();
        assert_eq!((c.index, c.header.as_str()), (column, header), "{err}");
        assert!(message.contains(what), "{err}");
    }
}

#[test]
fn one_ingest_is_one_body_and_unknown_layouts_are_refused() {
    let dir = temp_dir();
    let a = manchester_file(
        dir.path(),
        "a.csv",
        &["Manchester City Council,Parks,Grounds,2022-05-03,100,10,Acme Ltd"],
    );
    let b = manchester_file(
        dir.path(),
        "b.csv",
        &["Trafford Council,Parks,Grounds,2022-05-03,100,10,Acme Ltd"],
    );
    let err = spend(&[a, b]).unwrap_err().to_string();
    assert!(
        err.starts_with("b.csv, line 2, column 1") && err.contains("one ingest is one body"),
        "{err}"
    );
    // Manchester's layout published by another body: the format's district is Manchester's
    // only, so this body has none unless --body-area gives it.
    let other = manchester_file(
        dir.path(),
        "vale.csv",
        &["Vale Council,Parks,Grounds,2022-05-03,100,10,Acme Ltd"],
    );
    let draft = spend(&[other]).unwrap();
    assert_eq!(draft.dataset, "spend-vale-council");
    assert!(!draft.attributes.contains_key("body_area"));
    assert_eq!(strings(&table(&draft, "payments"), "body_area"), [None]);
    assert!(
        draft.notes.iter().any(|n| n.contains("--body-area")),
        "{:?}",
        draft.notes
    );
    let odd = write_file(
        dir.path(),
        "odd.csv",
        "When,Who,How much\n2022-05-03,Acme,10\n",
    );
    let err = spend(&[odd]).unwrap_err().to_string();
    assert!(
        err.contains("odd.csv, line 1") && err.contains("not a known spend layout"),
        "{err}"
    );
}

/// The `suppliers` table as name → (key, company number, postcode, sme).
type SupplierRow = (String, Option<String>, Option<String>, Option<bool>);

fn suppliers_by_name(draft: &Draft) -> BTreeMap<String, SupplierRow> {
    let df = table(draft, "suppliers");
    let text = |c: &str| df.column(c).unwrap().str().unwrap().clone();
    let (name, key, number, postcode) = (
        text("supplier_name"),
        text("supplier_key"),
        text("company_number"),
        text("postcode"),
    );
    let sme = df.column("sme").unwrap().bool().unwrap().clone();
    (0..df.height())
        .map(|i| {
            (
                name.get(i).unwrap().to_owned(),
                (
                    key.get(i).unwrap().to_owned(),
                    number.get(i).map(str::to_owned),
                    postcode.get(i).map(str::to_owned),
                    sme.get(i),
                ),
            )
        })
        .collect()
}

#[test]
fn salford_register_suppliers_against_the_reference() {
    let Some(root) = shared_data() else { return };
    let register = shared_file(&root, "spend/salford_contract_register_2022-07.csv");
    let draft = read_suppliers(
        &catalog(),
        std::slice::from_ref(&register),
        &SupplierOptions::default(),
        &NoProgress,
    )
    .unwrap();
    assert_eq!(draft.dataset, "suppliers-salford-city-council");
    assert_eq!(draft.kind, "suppliers");
    assert_eq!(draft.sources[0].rows, 360);
    let df = table(&draft, "suppliers");
    let reference = python("suppliers", std::slice::from_ref(&register));
    let want: Vec<usize> = reference[0].iter().map(|v| v.parse().unwrap()).collect();
    let located = df.column("postcode").unwrap().null_count();
    let numbered = df.column("company_number").unwrap().null_count();
    let got = vec![df.height(), df.height() - located, df.height() - numbered];
    assert_eq!(got, want, "identities, with postcode, with company number");
    // salford_contract_register_2022-07.csv:3: Keolis Amey Metrolink Limited, M8 0RY,
    // company number 9871073, SME No.
    let s = suppliers_by_name(&draft);
    assert_eq!(
        s["Keolis Amey Metrolink Limited"],
        (
            "keolis amey metrolink".to_owned(),
            Some("09871073".to_owned()),
            Some("M8 0RY".to_owned()),
            Some(false)
        )
    );
    // Line 2: Underwater Diving Services Ltd, LA14 2TB, 2535986, SME Yes.
    assert_eq!(
        s["Underwater Diving Services Ltd"],
        (
            "underwater diving services".to_owned(),
            Some("02535986".to_owned()),
            Some("LA14 2TB".to_owned()),
            Some(true)
        )
    );
    println!(
        "Salford register: {} identities, {} with a valid postcode, {} with a company number",
        got[0], got[1], got[2]
    );
}

#[test]
fn supplier_list_template_keeps_the_most_frequent_postcode() {
    let dir = temp_dir();
    let list = write_file(
        dir.path(),
        "partners.csv",
        "Supplier Name,Company Number,Charity Number,Postcode,SME\n\
         Acme Ltd,123,,m1 1ae,Yes\n\
         ACME LIMITED,00000123,,M2 2BB,\n\
         ACME Ltd,,,M2 2BB,\n\
         Vale Food Bank,,1123456,Various,No\n\
         Tie Ltd,,,B33 8TH,N\n\
         Tie Ltd,,,M1 1AE,Y\n\
         ,,,,\n",
    );
    let err = read_suppliers(
        &catalog(),
        std::slice::from_ref(&list),
        &SupplierOptions::default(),
        &NoProgress,
    )
    .unwrap_err();
    assert!(err.to_string().contains("--dataset"), "{err}");
    let draft = read_suppliers(
        &catalog(),
        &[list],
        &SupplierOptions {
            dataset: Some("vale".into()),
        },
        &NoProgress,
    )
    .unwrap();
    assert_eq!(draft.dataset, "suppliers-vale");
    let s = suppliers_by_name(&draft);
    // Lines 2-3 are one identity by company number 00000123 (M1 1AE once, M2 2BB once: the
    // first seen wins the tie); line 4 has no number, so it is the identity "acme" by name.
    assert_eq!(s.len(), 4, "{s:?}");
    assert_eq!(
        s["Acme Ltd"],
        (
            "acme".into(),
            Some("00000123".into()),
            Some("M1 1AE".into()),
            Some(true)
        )
    );
    assert_eq!(
        s["ACME Ltd"],
        ("acme".into(), None, Some("M2 2BB".into()), None)
    );
    assert_eq!(s["Vale Food Bank"].2, None);
    assert_eq!(s["Vale Food Bank"].3, Some(false));
    assert_eq!(s["Tie Ltd"].2.as_deref(), Some("B33 8TH"));
    let df = table(&draft, "suppliers");
    let charity = strings(&df, "charity_number");
    assert!(charity.iter().any(|c| c.as_deref() == Some("1123456")));
    assert!(
        draft
            .notes
            .iter()
            .any(|n| n.starts_with("2 identities have more than one postcode")),
        "{:?}",
        draft.notes
    );
    assert!(
        draft
            .notes
            .iter()
            .any(|n| n.starts_with("1 postcodes are not shaped")),
        "{:?}",
        draft.notes
    );
}

/// Not an assertion about a target: measures how much Salford spend the register locates, and
/// checks the Rust tables give the same split as the independent Python matcher.
#[test]
fn salford_spend_matched_to_the_register() {
    let Some(root) = shared_data() else { return };
    let register = shared_file(&root, "spend/salford_contract_register_2022-07.csv");
    let files = shared_spend(&root, "salford_spend_over_500_");
    let payments = spend(&files).unwrap();
    let suppliers = read_suppliers(
        &catalog(),
        std::slice::from_ref(&register),
        &SupplierOptions::default(),
        &NoProgress,
    )
    .unwrap();
    let s = table(&suppliers, "suppliers");
    let skey = s.column("supplier_key").unwrap().str().unwrap().clone();
    let snum = s.column("company_number").unwrap().str().unwrap().clone();
    let spc = s.column("postcode").unwrap().str().unwrap().clone();
    let mut by_number = BTreeMap::new();
    let mut by_key: BTreeMap<&str, bool> = BTreeMap::new();
    for i in 0..s.height() {
        let located = spc.get(i).is_some();
        if let Some(n) = snum.get(i) {
            by_number.insert(n, located);
        }
        let e = by_key.entry(skey.get(i).unwrap()).or_default();
        *e |= located;
    }
    // The Python matcher reads every row, duplicates included: so do we here.
    let mut tally: BTreeMap<&str, (u64, i64)> = BTreeMap::new();
    for name in ["payments", "duplicates"] {
        let p = table(&payments, name);
        let key = p.column("supplier_key").unwrap().str().unwrap().clone();
        let num = p.column("company_number").unwrap().str().unwrap().clone();
        let pence = p.column("net_pence").unwrap().i64().unwrap().clone();
        for i in 0..p.height() {
            let amount = pence.get(i).unwrap();
            let (how, located) = match (
                num.get(i).and_then(|n| by_number.get(n)),
                by_key.get(key.get(i).unwrap()),
            ) {
                (Some(l), _) => ("company_number", *l),
                (None, Some(l)) => ("name", *l),
                (None, None) => ("unmatched", false),
            };
            let hows: &[&str] = if located {
                &[how, "total", "located"]
            } else {
                &[how, "total"]
            };
            for h in hows {
                let e = tally.entry(h).or_default();
                e.0 += 1;
                e.1 += amount;
            }
        }
    }
    let mut args = vec![register];
    args.extend(files);
    let reference: BTreeMap<String, (u64, i64)> = python("match", &args)
        .into_iter()
        .map(|r| (r[0].clone(), (r[1].parse().unwrap(), r[2].parse().unwrap())))
        .collect();
    for how in ["company_number", "name", "unmatched", "total", "located"] {
        assert_eq!(
            tally.get(how).copied().unwrap_or_default(),
            reference[how],
            "{how}"
        );
    }
    // Salford publishes no company numbers: nothing can match exactly.
    assert_eq!(reference["company_number"], (0, 0));
    let total = reference["total"].1 as f64;
    for how in ["company_number", "name", "unmatched", "located"] {
        let (n, p) = reference[how];
        println!(
            "Salford spend {how}: {n} payments, {p} pence ({:.2}%)",
            100.0 * p as f64 / total
        );
    }
}

/// A layout giving only gross and VAT, declared in a schema directory of its own: net is
/// gross less VAT, in pence, with no code change.
#[test]
fn gross_less_vat_is_declarative() {
    let dir = temp_dir();
    let schemas = dir.path().join("data-schemas");
    std::fs::create_dir_all(schemas.join("datasets/spend")).unwrap();
    std::fs::copy(
        renewal_test_support::workspace_root().join("data-schemas/datasets/spend/payees.toml"),
        schemas.join("datasets/spend/payees.toml"),
    )
    .unwrap();
    write_file(
        &schemas.join("datasets/spend"),
        "vale.toml",
        r#"
            id = "spend-vale"
            description = "Vale Council: gross and VAT only"
            date_style = "uk"
            body = "Vale Council"
            [body_areas]
            "Vale Council" = "E08999001"
            [columns]
            date = ["Paid"]
            gross_less_vat = { gross = ["Gross £"], vat = ["VAT £"] }
            supplier_name = ["Payee"]
        "#,
    );
    let catalog = renewal_schema::Catalog::load_dir(&schemas).unwrap();
    let file = write_file(
        dir.path(),
        "vale.csv",
        "Paid,Payee,Gross £,VAT £\n01/04/2020,Acme Ltd,\"1,200.00\",200.00\n31/03/2021,Acme Ltd,-60,-10\n",
    );
    let draft = read_spend(&catalog, &[file], &SpendOptions::default(), &NoProgress).unwrap();
    assert_eq!(draft.dataset, "spend-vale-council");
    let df = table(&draft, "payments");
    let pence = df.column("net_pence").unwrap().i64().unwrap().clone();
    assert_eq!((pence.get(0), pence.get(1)), (Some(100000), Some(-5000)));
    assert_eq!(
        strings(&df, "financial_year"),
        [Some("2020-21".to_owned()), Some("2020-21".to_owned())]
    );
    assert_eq!(strings(&df, "body_area")[0].as_deref(), Some("E08999001"));
}

/// A trailing empty field is tolerated (Salford from 2020-08); a trailing field with text is
/// not, since it would shift what the header says.
#[test]
fn only_empty_trailing_fields_are_tolerated() {
    let dir = temp_dir();
    let header = "Authority Name,Date of Payment,DocumentNo,Gross,VAT,Net,Vendor Name,Service Area,GL Description";
    let ok = write_file(
        dir.path(),
        "s.csv",
        format!("{header}\nSalford City Council,2020-08-03,1,5,0,5.00,Apem Ltd,Place,Works,\n"),
    );
    assert_eq!(table(&spend(&[ok]).unwrap(), "payments").height(), 1);
    let bad = write_file(
        dir.path(),
        "t.csv",
        format!("{header}\nSalford City Council,2020-08-03,1,5,0,5.00,Apem Ltd,Place,Works,x\n"),
    );
    let err = spend(&[bad]).unwrap_err().to_string();
    assert!(
        err.contains("t.csv, line 2: 10 fields, but the header has 9"),
        "{err}"
    );
}

/// The shared readers' containers apply: a gzipped month reads as its CSV does.
#[test]
fn gzipped_spend_files_read_like_their_csv() {
    use std::io::Write;
    let dir = temp_dir();
    let plain = manchester_file(
        dir.path(),
        "m.csv",
        &["Manchester City Council,Parks,Grounds,2022-05-03,100,\"2,000.01\",Acme Ltd"],
    );
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&std::fs::read(&plain).unwrap()).unwrap();
    let zipped = write_file(dir.path(), "m.csv.gz", gz.finish().unwrap());
    let draft = spend(&[zipped]).unwrap();
    let df = table(&draft, "payments");
    assert_eq!(
        df.column("net_pence").unwrap().i64().unwrap().get(0),
        Some(200001)
    );
    assert_eq!(strings(&df, "source"), [Some("m.csv.gz".to_owned())]);
}
