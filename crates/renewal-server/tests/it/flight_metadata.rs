//! The Flight SQL metadata calls ADBC and JDBC drivers make first, with arrow-flight's own
//! client (GetSqlInfo, GetCatalogs, GetDbSchemas, GetTables with and without schemas,
//! GetTableTypes, prepared statements without parameters), and the Python ADBC Flight SQL
//! driver's `adbc_get_objects()` and a query.

use arrow::array::AsArray;
use arrow_flight::sql::client::FlightSqlServiceClient;
use arrow_flight::sql::{CommandGetDbSchemas, CommandGetTables, SqlInfo};
use futures::TryStreamExt;

use crate::flight::{client, single_i64, texts};
use crate::*;

async fn fetch(
    c: &mut FlightSqlServiceClient<tonic::transport::Channel>,
    info: arrow_flight::FlightInfo,
) -> Vec<arrow::array::RecordBatch> {
    let mut out = Vec::new();
    for e in info.endpoint {
        let stream = c.do_get(e.ticket.unwrap()).await.unwrap();
        out.extend(stream.try_collect::<Vec<_>>().await.unwrap());
    }
    out
}

/// The exposed tables of the sample warehouse, by hand: the IoD's LSOA tables (the sample has
/// no File 10 district summary) and its one lookup.
const TABLES: [&str; 3] = [
    "iod_2019__iod",
    "iod_2019__lsoa",
    "lookup_lsoa11_wd19__lookup",
];

#[tokio::test]
async fn metadata_calls_and_prepared_statements() {
    let f = fixture().await;
    let running = start(&f, |_| {}).await;
    let mut c = client(&running, Some(VALE_SQL_KEY)).await;

    let info = c
        .get_sql_info(vec![
            SqlInfo::FlightSqlServerName,
            SqlInfo::FlightSqlServerReadOnly,
        ])
        .await
        .unwrap();
    let b = fetch(&mut c, info).await;
    let names = b[0]
        .column(0)
        .as_primitive::<arrow::datatypes::UInt32Type>();
    assert_eq!(
        names.values().to_vec(),
        [
            SqlInfo::FlightSqlServerName as u32,
            SqlInfo::FlightSqlServerReadOnly as u32
        ]
    );
    let values = b[0].column(1).as_union();
    let server = values.value(0);
    assert_eq!(server.as_string::<i32>().value(0), "Renewal");
    let read_only = values.value(1);
    assert!(read_only.as_boolean().value(0));

    let info = c.get_catalogs().await.unwrap();
    assert_eq!(texts(&fetch(&mut c, info).await, 0), ["renewal"]);

    let info = c
        .get_db_schemas(CommandGetDbSchemas {
            catalog: Some("renewal".into()),
            db_schema_filter_pattern: None,
        })
        .await
        .unwrap();
    let b = fetch(&mut c, info).await;
    assert_eq!(
        (texts(&b, 0), texts(&b, 1)),
        (vec!["renewal".to_string()], vec!["public".to_string()])
    );

    // Without schemas: the table list.
    let info = c
        .get_tables(CommandGetTables {
            include_schema: false,
            ..Default::default()
        })
        .await
        .unwrap();
    let b = fetch(&mut c, info).await;
    assert_eq!(b[0].num_columns(), 4, "no table_schema column");
    assert_eq!(texts(&b, 2), TABLES);
    assert!(texts(&b, 3).iter().all(|t| t == "TABLE"));
    // With schemas, filtered by name: each schema is the table's own.
    let info = c
        .get_tables(CommandGetTables {
            table_name_filter_pattern: Some("iod_2019__ls%".into()),
            include_schema: true,
            ..Default::default()
        })
        .await
        .unwrap();
    let b = fetch(&mut c, info).await;
    assert_eq!(texts(&b, 2), ["iod_2019__lsoa"]);
    let bytes = b[0].column(4).as_binary::<i32>().value(0).to_vec();
    let schema = arrow::ipc::convert::try_schema_from_ipc_buffer(&bytes).unwrap();
    for column in ["lsoa_code", "lad_code"] {
        assert!(schema.field_with_name(column).is_ok(), "{schema:?}");
    }

    let info = c.get_table_types().await.unwrap();
    assert_eq!(texts(&fetch(&mut c, info).await, 0), ["TABLE"]);

    // A prepared statement without parameters: its schema, its rows (the Vale key's 60), and
    // close.
    let mut prepared = c
        .prepare("SELECT COUNT(*) AS n FROM iod_2019__lsoa".into(), None)
        .await
        .unwrap();
    assert_eq!(prepared.dataset_schema().unwrap().field(0).name(), "n");
    let info = prepared.execute().await.unwrap();
    assert_eq!(single_i64(&fetch(&mut c, info).await), 60);
    prepared.close().await.unwrap();
    // Preparing what is refused is refused at once.
    let err = c
        .prepare("COPY (SELECT 1) TO '/tmp/x.csv'".into(), None)
        .await
        .err()
        .unwrap();
    assert!(err.to_string().contains("only SELECT"), "{err}");
    running.stop().await.unwrap();
}

/// The Python ADBC Flight SQL driver (installed by scripts/test.sh into its virtual
/// environment, named by RENEWAL_PYTHON): `adbc_get_objects()` lists the same tables, and a
/// query through its DB-API cursor gives the count a separate reader of the sample would.
#[tokio::test]
async fn the_python_adbc_flight_sql_driver() {
    let python = std::env::var("RENEWAL_PYTHON").unwrap_or_else(|_| "python3".into());
    let has_adbc = std::process::Command::new(&python)
        .args(["-c", "import adbc_driver_flightsql.dbapi, pyarrow"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !has_adbc {
        assert!(
            std::env::var_os("RENEWAL_REQUIRE_PYTHON_ADBC").is_none(),
            "{python} lacks adbc-driver-flightsql / pyarrow, which scripts/test.sh installs"
        );
        eprintln!(
            "SKIPPED: {python} has no adbc-driver-flightsql; run scripts/test.sh (it installs adbc-driver-flightsql and pyarrow) to include the ADBC interoperability test"
        );
        return;
    }
    let f = fixture().await;
    let running = start(&f, |_| {}).await;
    let script = renewal_test_support::workspace_root().join("tests/interop/adbc_client.py");
    let uri = format!("grpc://{}", running.addr);
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new(&python)
            .arg(&script)
            .args([uri.as_str(), VALE_SQL_KEY])
            .output()
    })
    .await
    .unwrap()
    .unwrap();
    assert!(
        out.status.success(),
        "ADBC client failed: {}\n{}",
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let mut expected = String::from("catalog,renewal\nschema,renewal.public\n");
    for t in TABLES {
        expected.push_str(&format!("table,{t}\n"));
    }
    // The sample's design: 80 LSOAs, 20 of them Brookmere's, so 60 in Renewal Vale.
    expected.push_str("count,60\n");
    assert_eq!(text, expected);
    running.stop().await.unwrap();
}
