//! `renewal ingest spend` and `renewal ingest suppliers` end to end: good files publish (and
//! publishing them again is a no-op), a bad cell is named and publishes nothing.

use std::path::Path;

use renewal_test_support::{temp_dir, write_file};

use crate::Renewal;

const HEADER: &str = "Body Name,Service Area,Expenses Type,Invoice Payment Date,Transaction Number,Net Amount,Supplier Name";

fn versions(warehouse: &Path, dataset: &str) -> usize {
    std::fs::read_dir(warehouse.join(dataset).join("_versions"))
        .map(|d| d.count())
        .unwrap_or(0)
}

#[test]
fn spend_and_suppliers_publish_and_a_bad_cell_publishes_nothing() {
    let dir = temp_dir();
    let warehouse = dir.path().join("warehouse");
    let r = Renewal::new(&warehouse);
    let may = write_file(
        dir.path(),
        "vale_2022-05.csv",
        format!(
            "{HEADER}\nManchester City Council,Parks,Grounds,2022-05-03,100,-2500,Redacted Personal Information\n\
             Manchester City Council,Parks,Grounds,2022-05-04,101,\"1,250.50\",Acme Ltd\n"
        ),
    );
    let june = write_file(
        dir.path(),
        "vale_2022-06.csv",
        format!(
            "{HEADER}\nManchester City Council,Parks,Grounds,2022-05-04,101,1250.50,ACME LIMITED\n\
             Manchester City Council,Parks,Grounds,2022-06-01,102,600,Acme Ltd\n"
        ),
    );
    let spend = [Path::new("ingest"), Path::new("spend"), &may, &june];
    let out = r.ok(spend);
    // 3 payments + 1 duplicate, in 2 tables.
    assert!(
        out.starts_with(
            "published spend-manchester-city-council version 1: 4 rows in 2 tables from 2 files"
        ),
        "{out}"
    );
    assert!(
        out.contains("1 payments repeat one of an earlier file"),
        "{out}"
    );
    assert!(
        out.contains("1 refunds (negative payments) kept negative, totalling -£2,500.00"),
        "{out}"
    );
    let again = r.ok(spend);
    assert!(again.contains("unchanged"), "{again}");

    // A bad amount in a later month: error at its cell, nothing new published.
    let bad = write_file(
        dir.path(),
        "vale_2022-07.csv",
        format!("{HEADER}\nManchester City Council,Parks,Grounds,2022-07-01,103,12.345,Acme Ltd\n"),
    );
    let out = r.run([Path::new("ingest"), Path::new("spend"), &may, &june, &bad]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("vale_2022-07.csv, line 2, column 6 (\"Net Amount\"): \"12.345\" has more than two decimal places"),
        "{stderr}"
    );
    let bad_date = write_file(
        dir.path(),
        "vale_2022-08.csv",
        format!("{HEADER}\nManchester City Council,Parks,Grounds,01/08/2022,104,12,Acme Ltd\n"),
    );
    let out = r.run([Path::new("ingest"), Path::new("spend"), &bad_date]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("vale_2022-08.csv, line 2, column 4 (\"Invoice Payment Date\")"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(versions(&warehouse, "spend-manchester-city-council"), 1);

    // --dataset and --body-area.
    let out = r.ok([
        Path::new("ingest"),
        Path::new("spend"),
        Path::new("--dataset"),
        Path::new("vale"),
        Path::new("--body-area"),
        Path::new("E08000003"),
        &may,
    ]);
    assert!(out.starts_with("published spend-vale version 1"), "{out}");
    let out = r.run([
        Path::new("ingest"),
        Path::new("spend"),
        Path::new("--body-area"),
        Path::new("Manchester"),
        &may,
    ]);
    assert!(!out.status.success());

    let list = write_file(
        dir.path(),
        "suppliers.csv",
        "Supplier Name,Company Number,Charity Number,Postcode,SME\nAcme Ltd,123,,m1 1ae,Yes\n",
    );
    let out = r.ok([
        Path::new("ingest"),
        Path::new("suppliers"),
        Path::new("--dataset"),
        Path::new("vale"),
        &list,
    ]);
    assert!(
        out.starts_with("published suppliers-vale version 1: 1 rows in 1 tables from 1 files"),
        "{out}"
    );
}
