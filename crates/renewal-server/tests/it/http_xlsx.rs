//! `format=xlsx` on the HTTP feed (the CLI's `--format xlsx`), read back with an independent
//! reader (Python openpyxl, `tests/reference/xlsx_cells.py`): the workbook's `Answer` sheet has
//! exactly the JSON answer's columns and cells with their types, withheld cells empty, and its
//! `Notes` sheet names every dataset version and counts the suppressed rows.

use serde_json::Value;

use crate::*;

/// The openpyxl reading of `bytes` (`renewal_test_support::openpyxl_cells`), or `None`
/// after its loud skip.
pub fn read_with_openpyxl(dir: &Path, bytes: &[u8]) -> Option<Value> {
    let path = dir.join("answer.xlsx");
    std::fs::write(&path, bytes).unwrap();
    renewal_test_support::openpyxl_cells(&path).map(|json| serde_json::from_str(&json).unwrap())
}

async fn get_bytes(running: &Running, path: &str) -> (u16, ::http::HeaderMap, Vec<u8>) {
    let url = format!("http://{}{path}", running.http_addr.unwrap());
    tokio::task::spawn_blocking(move || get_blocking(&url))
        .await
        .unwrap()
}

fn get_blocking(url: &str) -> (u16, ::http::HeaderMap, Vec<u8>) {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let mut response = agent
        .get(url)
        .header("authorization", format!("Bearer {FULL_KEY}"))
        .call()
        .unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = response.body_mut().read_to_vec().unwrap();
    (status, headers, body)
}

#[tokio::test]
async fn xlsx_has_the_json_answers_cells_and_notes() {
    let f = fixture().await;
    let running = start(&f, |c| c.http_addr = Some("127.0.0.1:0".parse().unwrap())).await;
    // LSOAs with small crime counts: some rows are withheld.
    let path = "/api/v1/gap?indicator=crime-all&authority=E08999001&level=lsoa";
    let doc: Value = serde_json::from_slice(&get_bytes(&running, path).await.2).unwrap();
    let (status, headers, bytes) = get_bytes(&running, &format!("{path}&format=xlsx")).await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&bytes));
    assert_eq!(
        headers.get("content-type").unwrap(),
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    );
    assert_eq!(
        headers.get("content-disposition").unwrap(),
        "attachment; filename=\"gap.xlsx\""
    );
    running.stop().await.unwrap();
    let Some(book) = read_with_openpyxl(f.dir.path(), &bytes) else {
        return;
    };

    let rows = doc["rows"].as_array().unwrap();
    let mut columns: Vec<&str> = rows[0]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    columns.sort();
    let sheet = book["sheets"]["Answer"].as_array().unwrap();
    let types = book["types"]["Answer"].as_array().unwrap();
    let header: Vec<&str> = sheet[0]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    let mut sorted = header.clone();
    sorted.sort();
    assert_eq!(sorted, columns, "the answer's columns");
    assert_eq!(sheet.len(), rows.len() + 1, "a header and one line per row");
    let mut suppressed = 0;
    for (i, row) in rows.iter().enumerate() {
        let cells = sheet[i + 1].as_array().unwrap();
        let kinds = types[i + 1].as_array().unwrap();
        if row["suppressed"] == true {
            suppressed += 1;
        }
        for (c, name) in header.iter().enumerate() {
            let want = &row[*name];
            let got = cells.get(c).unwrap_or(&Value::Null);
            // Numbers are numbers, exactly; flags are booleans; text is text, never a formula;
            // an empty (withheld or missing) figure is an empty cell, not zero.
            match want {
                Value::Number(n) => {
                    assert_eq!(got.as_f64(), n.as_f64(), "row {i} {name}");
                    assert_eq!(kinds[c], "n", "row {i} {name}");
                }
                Value::String(_) => {
                    assert_eq!(got, want, "row {i} {name}");
                    assert_eq!(kinds[c], "s", "row {i} {name}");
                }
                Value::Bool(_) => {
                    assert_eq!(got, want, "row {i} {name}");
                    assert_eq!(kinds[c], "b", "row {i} {name}");
                }
                Value::Null => assert_eq!(got, &Value::Null, "row {i} {name}"),
                other => panic!("unexpected JSON cell {other}"),
            }
        }
    }
    assert!(suppressed > 0, "the sample's LSOAs have small crime counts");

    let notes = book["sheets"]["Notes"].as_array().unwrap();
    let pairs: Vec<(String, String)> = notes
        .iter()
        .map(|r| {
            let r = r.as_array().unwrap();
            (
                r[0].as_str().unwrap().to_owned(),
                r.get(1).and_then(Value::as_str).unwrap_or("").to_owned(),
            )
        })
        .collect();
    let datasets: Vec<&str> = pairs
        .iter()
        .filter(|(k, _)| k == "dataset")
        .map(|(_, v)| v.as_str())
        .collect();
    let want: Vec<String> = doc["basis"]["datasets"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(d, v)| format!("{d} version {v}"))
        .collect();
    assert_eq!(datasets, want);
    let method = pairs.iter().find(|(k, _)| k == "method").unwrap();
    assert_eq!(method.1, doc["basis"]["method"].as_str().unwrap());
    let counted = pairs.iter().find(|(k, _)| k == "suppressed rows").unwrap();
    assert!(
        counted.1.starts_with(&format!("{suppressed} ")),
        "{counted:?} against {suppressed}"
    );
    let notes_sent: Vec<&str> = pairs
        .iter()
        .filter(|(k, _)| k == "note")
        .map(|(_, v)| v.as_str())
        .collect();
    let notes_json: Vec<&str> = doc["notes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_str().unwrap())
        .collect();
    assert_eq!(notes_sent, notes_json);
}
