//! `renewal lpp`: the Local Performance Plan table on the demo warehouse plus the sample's
//! Local Performance Plan Best Value files, as CSV and as a workbook read back with openpyxl.

use std::path::Path;

use crate::disclosure::demo_warehouse;
use crate::parse_csv;

#[test]
fn lpp_as_csv_and_xlsx() {
    let (_dir, r, sample) = demo_warehouse();
    r.ok([
        Path::new("ingest"),
        Path::new("services"),
        &sample.join("neighbourhood_best_value_lsoa_sample.csv"),
        &sample.join("ward_best_value_values_sample.csv"),
    ]);
    let args = ["lpp", "--authority", "E08999001", "--year", "2023-24"];
    let csv = r.ok(args);
    let (header, rows) = parse_csv(&csv);
    assert_eq!(
        header.join(","),
        "section,indicator,title,row_kind,area_code,area_name,period,value,lower_95,upper_95,\
         unit,benchmark,benchmark_value,gap,gap_lower_95,gap_upper_95,comparison_95,trend,\
         gap_trend,target,target_status,suppressed,withheld"
    );
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    // The authority-wide value of the LSOA-level indicator is the raw file's sums.
    let out = crate::python_reference(
        "lpp_reference.py",
        &[
            sample.as_os_str(),
            "E08999001".as_ref(),
            "2023-24".as_ref(),
            "BV-HOMES-02".as_ref(),
            "BV-SAT-03".as_ref(),
        ],
    );
    let reference: serde_json::Value = serde_json::from_str(&out).unwrap();
    let sums = &reference["authority"];
    let want = 100.0 * sums[0].as_f64().unwrap() / sums[1].as_f64().unwrap();
    let authority = rows
        .iter()
        .find(|r| r[col("indicator")] == "bv-homes-02" && r[col("row_kind")] == "authority")
        .unwrap();
    let got: f64 = authority[col("value")].parse().unwrap();
    assert!((got - want).abs() < 1e-9, "{got} against {want}");
    assert_eq!(authority[col("target_status")], "no-target");
    // The year's other spelling gives the same table.
    let slash = r.ok(["lpp", "--authority", "E08999001", "--year", "2023/24"]);
    assert_eq!(slash, csv);

    let book_path = r.warehouse.with_file_name("lpp.xlsx");
    let mut xlsx: Vec<&std::ffi::OsStr> = args
        .iter()
        .chain(&["--format", "xlsx", "--out"])
        .map(std::ffi::OsStr::new)
        .collect();
    xlsx.push(book_path.as_os_str());
    r.ok(&xlsx);
    let Some(book) = crate::openpyxl_cells(&book_path) else {
        return;
    };
    let sheet = book["sheets"]["Answer"].as_array().unwrap();
    let got: Vec<&str> = sheet[0]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    assert_eq!(got, header);
    assert_eq!(sheet.len(), rows.len() + 1);
    // Every cell is the CSV's: numbers as typed numbers, text as text, empty as empty.
    for (row, cells) in rows.iter().zip(&sheet[1..]) {
        for (i, cell) in row.iter().enumerate() {
            let x = &cells[i];
            match cell.parse::<f64>() {
                _ if cell.is_empty() => assert!(x.is_null(), "{}: {x}", header[i]),
                Ok(v) => assert_eq!(x.as_f64(), Some(v), "{}", header[i]),
                Err(_) if cell == "true" || cell == "false" => {
                    assert_eq!(x.as_bool(), Some(cell == "true"), "{}", header[i])
                }
                Err(_) => assert_eq!(x.as_str(), Some(cell.as_str()), "{}", header[i]),
            }
        }
    }
    let notes = book["sheets"]["Notes"].as_array().unwrap();
    let has = |key: &str, pred: &dyn Fn(&str) -> bool| {
        notes
            .iter()
            .any(|r| r[0] == key && r[1].as_str().is_some_and(pred))
    };
    assert!(
        has("dataset", &|v| v
            == "services-neighbourhood-best-value-lsoa-sample version 1"),
        "{notes:?}"
    );
    assert!(has("method", &|v| v.contains("areas sum numerators")));
    assert!(has("suppressed rows", &|_| true), "{notes:?}");
    assert!(has("note", &|v| v.starts_with("bv-sat-03: ")
        && v.contains(
            "values compared, not pooled: the file gives no numerators"
        )));
    assert!(has("note", &|v| v
        == "bv-homes-02: financial-year periods: 2023-24"));
}
