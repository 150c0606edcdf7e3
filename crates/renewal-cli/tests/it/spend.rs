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

/// The shared Salford files end to end: 36 months of payments over £500, the contract
/// register and the ONS postcode extract, asked year by year. The three financial years'
/// rows sum to the raw files' total, and the pence matched by name to the register equal the
/// independent `tests/reference/spend_totals.py` (csv + decimal, its own normaliser).
#[test]
fn salford_spend_years_add_up_to_the_raw_files() {
    let Some(root) = renewal_test_support::shared_data() else {
        return;
    };
    let spend_dir = root.join("spend");
    let mut months: Vec<std::path::PathBuf> = std::fs::read_dir(&spend_dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("salford_spend_over_500_")
        })
        .collect();
    months.sort();
    assert_eq!(months.len(), 36);
    let register =
        renewal_test_support::shared_file(&root, "spend/salford_contract_register_2022-07.csv");
    let postcodes = renewal_test_support::shared_file(
        &root,
        "geography/postcodes/onspd_100000_random_postcodes.csv",
    );

    let dir = temp_dir();
    let r = Renewal::new(&dir.path().join("warehouse"));
    let mut args = vec![
        "ingest".into(),
        "spend".into(),
        "--body-area".into(),
        "E08000006".into(),
    ];
    args.extend(months.iter().map(|p| p.display().to_string()));
    r.ok(&args);
    r.ok([
        Path::new("ingest"),
        Path::new("suppliers"),
        register.as_path(),
    ]);
    r.ok([
        Path::new("ingest"),
        Path::new("postcodes"),
        postcodes.as_path(),
    ]);

    let mut reference_args: Vec<std::ffi::OsString> =
        vec!["match".into(), register.clone().into_os_string()];
    reference_args.extend(months.iter().map(|p| p.clone().into_os_string()));
    let refs: Vec<&std::ffi::OsStr> = reference_args.iter().map(|a| a.as_os_str()).collect();
    let reference = crate::python_reference("spend_totals.py", &refs);
    let figure = |how: &str| -> i64 {
        reference
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{how},")))
            .and_then(|rest| rest.split(',').nth(1))
            .unwrap_or_else(|| panic!("{how} not in {reference}"))
            .parse()
            .unwrap()
    };

    let mut total = 0i64;
    let mut by_name = 0i64;
    for year in ["2019-20", "2020-21", "2021-22"] {
        let json = r.ok([
            "spend",
            "place",
            "--spend",
            "spend-salford-city-council",
            "--suppliers",
            "suppliers-salford-city-council",
            "--period",
            year,
            "--by",
            "district",
            "--format",
            "json",
        ]);
        let doc: serde_json::Value = serde_json::from_str(&json).unwrap();
        let rows = doc["rows"].as_array().unwrap();
        let year_total: i64 = rows.iter().map(|r| r["net_pence"].as_i64().unwrap()).sum();
        total += year_total;
        // "matched to the register exactly (company number): 0 pence (0.0%); by name: N pence …"
        let note = doc["notes"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|n| n.as_str())
            .find(|n| n.starts_with("matched to the register"))
            .unwrap_or_else(|| panic!("{year}: no matching note in {}", doc["notes"]));
        let name: i64 = note
            .split("by name: ")
            .nth(1)
            .and_then(|t| t.split(' ').next())
            .unwrap()
            .parse()
            .unwrap();
        by_name += name;
        assert!(
            note.starts_with("matched to the register exactly (company number): 0 pence"),
            "Salford publishes no company numbers: {note}"
        );
    }
    assert_eq!(
        total,
        figure("total"),
        "every payment in its financial year"
    );
    assert_eq!(by_name, figure("name"), "pence matched by name");
}
