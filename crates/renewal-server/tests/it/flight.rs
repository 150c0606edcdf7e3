//! Arrow Flight SQL on the server's port, with Arrow's own Flight SQL client: read-only SQL
//! within the key's scopes, over tables that disclose no small counts.

use arrow::array::{Array, AsArray};
use arrow_flight::sql::client::FlightSqlServiceClient;
use futures::TryStreamExt;

use crate::*;

pub async fn client(
    running: &renewal_server::Running,
    key: Option<&str>,
) -> FlightSqlServiceClient<tonic::transport::Channel> {
    let mut c = FlightSqlServiceClient::new(channel(running).await);
    if let Some(key) = key {
        c.set_header("authorization", format!("Bearer {key}"));
    }
    c
}

/// Runs a query and gathers its batches; errors as text (they name the gRPC code).
pub async fn query(
    c: &mut FlightSqlServiceClient<tonic::transport::Channel>,
    sql: &str,
) -> Result<Vec<arrow::array::RecordBatch>, String> {
    let info = c
        .execute(sql.to_owned(), None)
        .await
        .map_err(|e| e.to_string())?;
    let mut batches = Vec::new();
    for endpoint in info.endpoint {
        let ticket = endpoint.ticket.ok_or("no ticket")?;
        let stream = c.do_get(ticket).await.map_err(|e| e.to_string())?;
        batches.extend(
            stream
                .try_collect::<Vec<_>>()
                .await
                .map_err(|e| e.to_string())?,
        );
    }
    Ok(batches)
}

/// A text column of every batch (whatever string layout the engine chose).
pub fn texts(batches: &[arrow::array::RecordBatch], column: usize) -> Vec<String> {
    let mut out = Vec::new();
    for b in batches {
        let c = arrow::compute::cast(b.column(column), &arrow::datatypes::DataType::Utf8).unwrap();
        let c = c.as_string::<i32>();
        out.extend((0..c.len()).map(|i| c.value(i).to_owned()));
    }
    out
}

pub fn single_i64(batches: &[arrow::array::RecordBatch]) -> i64 {
    let c = batches[0].column(0);
    let c = arrow::compute::cast(c, &arrow::datatypes::DataType::Int64).unwrap();
    c.as_primitive::<arrow::datatypes::Int64Type>().value(0)
}

#[tokio::test]
async fn read_only_sql_within_scopes() {
    let f = fixture().await;
    let running = start(&f, |_| {}).await;

    // FULL has every dataset but no sql scope; add one with it.
    let mut full = client(&running, Some(SQL_KEY)).await;
    let n = single_i64(
        &query(
            &mut full,
            "SELECT COUNT(DISTINCT lsoa_code) FROM iod_2019__iod",
        )
        .await
        .unwrap(),
    );
    assert_eq!(n, 80, "the sample has 80 LSOAs");
    let by_lad = query(
        &mut full,
        "SELECT lad_code, COUNT(*) AS lsoas FROM lookup_lsoa11_wd19__lookup GROUP BY lad_code ORDER BY lad_code",
    )
    .await
    .unwrap();
    assert_eq!(texts(&by_lad, 0), [BROOKMERE, VALE]);

    // Raw counts are not exposed: crime is reached only through the Analysis questions.
    let err = query(
        &mut full,
        "SELECT COUNT(*) FROM crime_street__lsoa_monthly_counts",
    )
    .await
    .unwrap_err();
    assert!(
        err.contains("crime_street__lsoa_monthly_counts") && err.contains("not found"),
        "{err}"
    );

    // SELECT only: no DDL, no COPY, no SET.
    for sql in [
        "CREATE TABLE t AS SELECT 1",
        "CREATE EXTERNAL TABLE x STORED AS CSV LOCATION '/etc/passwd'",
        "COPY (SELECT 1) TO '/tmp/renewal-copy.csv'",
        "SET datafusion.execution.batch_size = 1",
    ] {
        let err = query(&mut full, sql).await.unwrap_err();
        assert!(
            err.contains("does not have permission") && err.contains("only SELECT is allowed"),
            "{sql}: {err}"
        );
    }
    assert!(!std::path::Path::new("/tmp/renewal-copy.csv").exists());

    // A key limited to Renewal Vale sees only Renewal Vale's rows.
    let mut vale = client(&running, Some(VALE_SQL_KEY)).await;
    let lads = query(&mut vale, "SELECT DISTINCT lad_code FROM iod_2019__lsoa")
        .await
        .unwrap();
    assert_eq!(texts(&lads, 0), [VALE]);

    // No key: unauthenticated. A key without the sql scope: permission denied.
    let err = query(&mut client(&running, None).await, "SELECT 1")
        .await
        .unwrap_err();
    assert!(err.contains("no API key"), "{err}");
    let err = query(&mut client(&running, Some(FULL_KEY)).await, "SELECT 1")
        .await
        .unwrap_err();
    assert!(err.contains("may not use SQL"), "{err}");
    running.stop().await.unwrap();
}
