//! LM3 survey returns: the hand-worked example of renewal-stats written as files, and every
//! cell check with its file, line and column.

use std::path::PathBuf;

use renewal_ingest::{IngestError, Lm3Options, NoProgress, read_lm3_survey};

use crate::{catalog, table};

const SURVEY_HEADER: &str = "Supplier,Company Number,Round 1 Spend,Responded,Total Spend,Local Staff Spend,Local Supplier Spend";
const RESPEND_HEADER: &str = "Supplier,Respondent Type,Income,Local Spend";

/// The renewal-stats worked example: three suppliers (one silent), two staff and one supplier
/// re-spend respondents.
fn worked(dir: &std::path::Path) -> Vec<PathBuf> {
    let survey = dir.join("Vale_LM3_survey.csv");
    std::fs::write(
        &survey,
        format!(
            "{SURVEY_HEADER}\n\
             Alpha Care Ltd,2535986,£600.00,Yes,900,300.00,150\n\
             \"Beta Build, Limited\",SC123456,300,yes,400.00,100,100\n\
             Gamma Print plc,N/A,100.00,No,,,\n"
        ),
    )
    .unwrap();
    let respend = dir.join("Vale_LM3_respend.csv");
    std::fs::write(
        &respend,
        format!(
            "{RESPEND_HEADER}\r\n\
             Alpha Care Ltd,staff,200.00,50.00\r\n\
             \"beta build, limited\",Staff,100,70\r\n\
             Alpha Care Ltd,supplier,300,100\r\n"
        ),
    )
    .unwrap();
    vec![survey, respend]
}

fn strs(df: &polars::prelude::DataFrame, name: &str) -> Vec<Option<String>> {
    let c = df.column(name).unwrap().str().unwrap().clone();
    (0..df.height())
        .map(|i| c.get(i).map(str::to_owned))
        .collect()
}

fn ints(df: &polars::prelude::DataFrame, name: &str) -> Vec<Option<i64>> {
    let c = df.column(name).unwrap().i64().unwrap().clone();
    (0..df.height()).map(|i| c.get(i)).collect()
}

fn some<T: Clone>(v: &[T]) -> Vec<Option<T>> {
    v.iter().cloned().map(Some).collect()
}

fn read(files: &[PathBuf]) -> Result<renewal_warehouse::Draft, IngestError> {
    read_lm3_survey(&catalog(), files, &Lm3Options::default(), &NoProgress)
}

#[test]
fn survey_files_become_one_dataset_in_pence() {
    let dir = tempfile::tempdir().unwrap();
    let draft = read(&worked(dir.path())).unwrap();
    assert_eq!(draft.dataset, "lm3-vale");
    assert_eq!(draft.kind, "lm3-survey");
    assert_eq!(draft.sources.len(), 2);
    assert_eq!(draft.sources[0].format, "lm3-supplier-returns");
    assert_eq!(draft.sources[1].format, "lm3-respend-returns");
    assert_eq!(draft.attributes["responding_suppliers"], "2");

    let s = table(&draft, "suppliers");
    assert_eq!(
        strs(&s, "supplier"),
        some(&["Alpha Care Ltd", "Beta Build, Limited", "Gamma Print plc"].map(String::from))
    );
    assert_eq!(
        strs(&s, "company_number"),
        [
            Some("02535986".to_owned()),
            Some("SC123456".to_owned()),
            None
        ]
    );
    assert_eq!(ints(&s, "round1_pence"), some(&[60_000, 30_000, 10_000]));
    assert_eq!(
        ints(&s, "total_spend_pence"),
        [Some(90_000), Some(40_000), None]
    );
    assert_eq!(
        ints(&s, "local_staff_pence"),
        [Some(30_000), Some(10_000), None]
    );
    assert_eq!(
        ints(&s, "local_supplier_pence"),
        [Some(15_000), Some(10_000), None]
    );
    let responded = s.column("responded").unwrap().bool().unwrap().clone();
    assert_eq!(
        (0..3).map(|i| responded.get(i)).collect::<Vec<_>>(),
        some(&[true, true, false])
    );
    let lines = s.column("line").unwrap().u64().unwrap().clone();
    assert_eq!(
        (0..3).map(|i| lines.get(i)).collect::<Vec<_>>(),
        some(&[2u64, 3, 4])
    );
    assert_eq!(
        s.get_column_names()
            .iter()
            .map(|n| n.as_str())
            .collect::<Vec<_>>(),
        [
            "supplier",
            "company_number",
            "round1_pence",
            "responded",
            "total_spend_pence",
            "local_staff_pence",
            "local_supplier_pence",
            "source",
            "line"
        ]
    );

    let r = table(&draft, "respend");
    assert_eq!(
        strs(&r, "respondent_type"),
        some(&["staff", "staff", "supplier"].map(String::from))
    );
    assert_eq!(ints(&r, "income_pence"), some(&[20_000, 10_000, 30_000]));
    assert_eq!(ints(&r, "local_spend_pence"), some(&[5_000, 7_000, 10_000]));
    assert_eq!(
        strs(&r, "source"),
        some(&["Vale_LM3_respend.csv"; 3].map(String::from))
    );

    // --dataset names it; it must look like an LM3 dataset.
    let files = worked(dir.path());
    let named = read_lm3_survey(
        &catalog(),
        &files,
        &Lm3Options {
            dataset: Some("lm3-vale-2024".into()),
            ..Default::default()
        },
        &NoProgress,
    )
    .unwrap();
    assert_eq!(named.dataset, "lm3-vale-2024");
    let err = read_lm3_survey(
        &catalog(),
        &files,
        &Lm3Options {
            dataset: Some("vale".into()),
            ..Default::default()
        },
        &NoProgress,
    )
    .unwrap_err();
    assert!(err.to_string().contains("start with lm3-"), "{err}");
    // Re-spend returns alone have no round 1.
    let err = read(&files[1..]).unwrap_err();
    assert!(err.to_string().contains("no supplier returns"), "{err}");
}

/// One bad cell: the error's location (line, column number and header) and a phrase of its
/// message.
fn refused(survey: &str, respend: Option<&str>, line: u64, column: (usize, &str), says: &str) {
    let dir = tempfile::tempdir().unwrap();
    let mut files = vec![dir.path().join("survey.csv")];
    std::fs::write(&files[0], survey).unwrap();
    if let Some(text) = respend {
        files.push(dir.path().join("respend.csv"));
        std::fs::write(&files[1], text).unwrap();
    }
    let err = read(&files).unwrap_err();
    let location = err
        .location()
        .unwrap_or_else(|| panic!("no location: {err}"));
    assert_eq!(location.line, Some(line), "{err}");
    let c = location.column.as_ref().unwrap();
    assert_eq!((c.index, c.header.as_str()), column, "{err}");
    assert!(err.to_string().contains(says), "{err}");
}

#[test]
fn a_local_share_above_one_is_refused_at_the_cell() {
    let ok = "Alpha Ltd,,100,Yes,1000,400,500\n";
    // 600 + 500 > 1000: the supplier cell takes the share over 1.
    refused(
        &format!("{SURVEY_HEADER}\n{ok}Beta Ltd,,100,Yes,1000,600,500\n"),
        None,
        3,
        (7, "Local Supplier Spend"),
        "a local share above 1",
    );
    refused(
        &format!("{SURVEY_HEADER}\n{ok}Beta Ltd,,100,Yes,1000,1000.01,0\n"),
        None,
        3,
        (6, "Local Staff Spend"),
        "more than the total spend £1,000.00",
    );
    // Re-spend above income.
    refused(
        &format!("{SURVEY_HEADER}\n{ok}"),
        Some(&format!("{RESPEND_HEADER}\nAlpha Ltd,staff,100,100.50\n")),
        2,
        (4, "Local Spend"),
        "more than the income",
    );
}

/// Survey text, re-spend text, then the line, column and phrase of the error.
type Case = (
    String,
    Option<String>,
    u64,
    (usize, &'static str),
    &'static str,
);

#[test]
fn bad_cells_name_file_line_and_column() {
    let ok = "Alpha Ltd,,100,Yes,1000,400,500\n";
    let cases: [Case; 9] = [
        (
            format!("{SURVEY_HEADER}\nBeta Ltd,,100,Maybe,1,0,0\n"),
            None,
            2,
            (4, "Responded"),
            "neither a yes",
        ),
        (
            format!("{SURVEY_HEADER}\nBeta Ltd,,-5.00,No,,,\n"),
            None,
            2,
            (3, "Round 1 Spend"),
            "negative",
        ),
        (
            format!("{SURVEY_HEADER}\nBeta Ltd,,5.001,No,,,\n"),
            None,
            2,
            (3, "Round 1 Spend"),
            "more than two decimals",
        ),
        (
            format!("{SURVEY_HEADER}\nBeta Ltd,,5,No,,10,\n"),
            None,
            2,
            (6, "Local Staff Spend"),
            "did not respond",
        ),
        (
            format!("{SURVEY_HEADER}\nBeta Ltd,,5,Yes,100,,0\n"),
            None,
            2,
            (6, "Local Staff Spend"),
            "the supplier responded",
        ),
        (
            format!("{SURVEY_HEADER}\nBeta Ltd,,5,Yes,0,0,0\n"),
            None,
            2,
            (5, "Total Spend"),
            "above zero",
        ),
        (
            format!("{SURVEY_HEADER}\n{ok}ALPHA  LTD,,5,No,,,\n"),
            None,
            3,
            (1, "Supplier"),
            "listed twice (first at survey.csv, line 2",
        ),
        (
            format!("{SURVEY_HEADER}\n{ok}"),
            Some(format!(
                "{RESPEND_HEADER}\nAlpha Ltd,staff,1,1\nOmega Ltd,staff,100,50\n"
            )),
            3,
            (1, "Supplier"),
            "\"Omega Ltd\" is not a supplier of the supplier returns",
        ),
        (
            format!("{SURVEY_HEADER}\n{ok}"),
            Some(format!("{RESPEND_HEADER}\nAlpha Ltd,director,100,50\n")),
            2,
            (2, "Respondent Type"),
            "not a respondent type",
        ),
    ];
    for (survey, respend, line, column, says) in cases {
        refused(&survey, respend.as_deref(), line, column, says);
    }
}

#[test]
fn an_unknown_layout_says_what_is_expected() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("survey.csv");
    std::fs::write(&path, "Supplier,Amount\nAlpha Ltd,100\n").unwrap();
    let err = read(&[path]).unwrap_err();
    let text = err.to_string();
    assert!(
        text.starts_with("survey.csv, line 1: not an LM3 survey return"),
        "{text}"
    );
    assert!(
        text.contains(SURVEY_HEADER) && text.contains(RESPEND_HEADER),
        "{text}"
    );
}
