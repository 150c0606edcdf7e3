//! What Flight SQL refuses, one case each: COPY, CREATE EXTERNAL TABLE, file reads (table
//! functions and URL tables), filesystem functions, EXPLAIN, and other authorities' rows.
//! Each refusal carries no data.

use crate::flight::{client, query, single_i64, texts};
use crate::*;

/// The refusal's text (it names the gRPC code), asserting no row came back.
async fn refused(key: &str, running: &Running, sql: &str) -> String {
    let mut c = client(running, Some(key)).await;
    let err = query(&mut c, sql).await.unwrap_err();
    assert!(
        !err.contains("root:"),
        "{sql}: a file's contents leaked: {err}"
    );
    err
}

fn is_permission_denied(err: &str) -> bool {
    err.contains("does not have permission")
}

fn is_invalid_argument(err: &str) -> bool {
    err.contains("invalid argument") || err.contains("Client specified an invalid argument")
}

#[tokio::test]
async fn copy_is_refused() {
    let f = fixture().await;
    let running = start(&f, |_| {}).await;
    let out = f.dir.path().join("copied.csv");
    for sql in [
        format!("COPY (SELECT 1) TO '{}'", out.display()),
        format!("COPY iod_2019__lsoa TO '{}' STORED AS CSV", out.display()),
    ] {
        let err = refused(SQL_KEY, &running, &sql).await;
        assert!(is_permission_denied(&err), "{sql}: {err}");
        assert!(err.contains("only SELECT"), "{sql}: {err}");
    }
    assert!(!out.exists(), "nothing was written");
    running.stop().await.unwrap();
}

#[tokio::test]
async fn create_external_table_is_refused() {
    let f = fixture().await;
    let running = start(&f, |_| {}).await;
    for sql in [
        "CREATE EXTERNAL TABLE pw STORED AS CSV LOCATION '/etc/passwd'",
        "CREATE EXTERNAL TABLE w STORED AS PARQUET LOCATION '/'",
        "CREATE VIEW v AS SELECT 1",
        "CREATE TABLE t AS SELECT 1",
    ] {
        let err = refused(SQL_KEY, &running, sql).await;
        assert!(is_permission_denied(&err), "{sql}: {err}");
    }
    // And nothing was registered by trying.
    let err = refused(SQL_KEY, &running, "SELECT * FROM pw").await;
    assert!(err.contains("not found"), "{err}");
    running.stop().await.unwrap();
}

#[tokio::test]
async fn file_reads_are_refused() {
    let f = fixture().await;
    let running = start(&f, |_| {}).await;
    // A real Parquet file of the warehouse, by path: reachable only through its view.
    let parquet = f
        .warehouse
        .current("iod-2019")
        .await
        .unwrap()
        .unwrap()
        .table("lsoa")
        .unwrap()
        .files[0]
        .clone();
    let parquet = f.warehouse.file_url(&parquet);
    for sql in [
        // URL tables: a path or URL as a table name.
        "SELECT * FROM '/etc/passwd'".to_string(),
        "SELECT * FROM 'file:///etc/passwd'".to_string(),
        format!("SELECT * FROM '{parquet}'"),
        // Table functions that read files, as other engines name them.
        "SELECT * FROM read_csv('/etc/passwd')".to_string(),
        format!("SELECT * FROM read_parquet('{parquet}')"),
        "SELECT * FROM read_json('/etc/passwd')".to_string(),
        "SELECT * FROM parquet_metadata('/etc/passwd')".to_string(),
    ] {
        let err = refused(SQL_KEY, &running, &sql).await;
        assert!(
            is_permission_denied(&err) || is_invalid_argument(&err),
            "{sql}: {err}"
        );
    }
    // Table functions DataFusion does have are refused as scans the session never
    // registered, whatever they would read.
    for sql in [
        "SELECT * FROM generate_series(1, 3)",
        "SELECT * FROM range(3)",
        "SELECT lsoa_code FROM iod_2019__lsoa WHERE 1 IN (SELECT value FROM generate_series(1, 3))",
    ] {
        let err = refused(SQL_KEY, &running, sql).await;
        assert!(is_permission_denied(&err), "{sql}: {err}");
        assert!(err.contains("no table functions or files"), "{sql}: {err}");
    }
    running.stop().await.unwrap();
}

#[tokio::test]
async fn filesystem_functions_are_refused() {
    let f = fixture().await;
    let running = start(&f, |_| {}).await;
    // PostgreSQL's, DuckDB's and SQLite's names for reading files and directories: none is
    // registered, so each fails to plan.
    for sql in [
        "SELECT pg_read_file('/etc/passwd')",
        "SELECT pg_read_binary_file('/etc/passwd')",
        "SELECT pg_ls_dir('/')",
        "SELECT read_text('/etc/passwd')",
        "SELECT read_blob('/etc/passwd')",
        "SELECT readfile('/etc/passwd')",
        "SELECT load_extension('/tmp/x.so')",
        "SELECT * FROM glob('/etc/*')",
    ] {
        let err = refused(SQL_KEY, &running, sql).await;
        assert!(
            is_invalid_argument(&err) || is_permission_denied(&err),
            "{sql}: {err}"
        );
    }
    // EXPLAIN would show the warehouse's file paths.
    let err = refused(SQL_KEY, &running, "EXPLAIN SELECT * FROM iod_2019__lsoa").await;
    assert!(is_permission_denied(&err), "{err}");
    assert!(!err.contains(".parquet"), "{err}");
    running.stop().await.unwrap();
}

#[tokio::test]
async fn other_authorities_rows_are_never_returned() {
    let f = fixture().await;
    let running = start(&f, |_| {}).await;
    let mut vale = client(&running, Some(VALE_SQL_KEY)).await;
    // Renewal Vale has 60 of the sample's 80 LSOAs.
    let n = single_i64(
        &query(&mut vale, "SELECT COUNT(*) FROM iod_2019__lsoa")
            .await
            .unwrap(),
    );
    assert_eq!(n, 60);
    for sql in [
        format!("SELECT lsoa_code FROM iod_2019__lsoa WHERE lad_code = '{BROOKMERE}'"),
        format!("SELECT lsoa_code FROM iod_2019__iod WHERE lad_code = '{BROOKMERE}'"),
        format!("SELECT lsoa_code FROM lookup_lsoa11_wd19__lookup WHERE lad_code = '{BROOKMERE}'"),
        // Brookmere's LSOAs by code, through a join and a subquery.
        "SELECT a.lsoa_code FROM iod_2019__lsoa a JOIN iod_2019__iod b ON a.lsoa_code = b.lsoa_code WHERE a.lsoa_code >= 'E01999061'".to_string(),
        "SELECT lsoa_code FROM iod_2019__iod WHERE lsoa_code IN (SELECT lsoa_code FROM lookup_lsoa11_wd19__lookup WHERE lsoa_code >= 'E01999061')".to_string(),
    ] {
        let batches = query(&mut vale, &sql).await.unwrap();
        let rows: usize = batches.iter().map(|b| b.num_rows()).sum();
        assert_eq!(rows, 0, "{sql}");
    }
    let lads = query(
        &mut vale,
        "SELECT DISTINCT lad_code FROM lookup_lsoa11_wd19__lookup",
    )
    .await
    .unwrap();
    assert_eq!(texts(&lads, 0), [VALE]);
    // The unfiltered tables are not there to be named.
    let tables = query(
        &mut vale,
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name",
    )
    .await
    .unwrap();
    let names = texts(&tables, 0);
    assert!(names.contains(&"iod_2019__lsoa".to_string()), "{names:?}");
    assert!(names.iter().all(|n| n.contains("__")), "{names:?}");
    running.stop().await.unwrap();
}
