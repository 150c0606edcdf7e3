//! Flight SQL inside the server's limits: a query holds one of the concurrency slots for its
//! whole result stream (so the next call, gRPC or SQL, is RESOURCE_EXHAUSTED at the limit),
//! the shared memory pool stops a query that needs more, and the calls are in the metrics.

use arrow_flight::sql::client::FlightSqlServiceClient;
use futures::TryStreamExt;
use renewal_server::pb;
use tonic::Code;

use crate::flight::{client, query, single_i64};
use crate::*;

async fn metrics(running: &Running) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::TcpStream::connect(running.metrics_addr.unwrap())
        .await
        .unwrap();
    s.write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let mut text = String::new();
    s.read_to_string(&mut text).await.unwrap();
    text
}

#[tokio::test]
async fn a_query_needing_more_than_the_pool_is_resource_exhausted() {
    let f = fixture().await;
    let running = start(&f, |c| {
        c.memory_limit_mb = 1;
        c.metrics_addr = Some("127.0.0.1:0".parse().unwrap());
    })
    .await;
    let mut c = client(&running, Some(SQL_KEY)).await;
    // Sorting 80 strings of 450 kB each needs some 36 MB at once; the pool has 1 MiB and
    // nothing may spill to disk.
    let err = query(
        &mut c,
        "SELECT repeat(lsoa_code, 50000) AS s FROM iod_2019__lsoa ORDER BY s",
    )
    .await
    .unwrap_err();
    assert!(err.contains("resource has been exhausted"), "{err}");
    assert!(err.contains("more memory than the server allows"), "{err}");
    // The memory came back to the pool: a small query runs.
    let n = single_i64(
        &query(&mut c, "SELECT COUNT(*) FROM iod_2019__lsoa")
            .await
            .unwrap(),
    );
    assert_eq!(n, 80);
    let text = metrics(&running).await;
    for line in [
        "renewal_requests_total{rpc=\"FlightSql.DoGetStatement\",code=\"ResourceExhausted\"} 1",
        "renewal_requests_total{rpc=\"FlightSql.DoGetStatement\",code=\"Ok\"} 1",
        "renewal_requests_total{rpc=\"FlightSql.GetFlightInfoStatement\",code=\"Ok\"} 2",
    ] {
        assert!(text.lines().any(|l| l == line), "missing {line}\n{text}");
    }
    running.stop().await.unwrap();
}

/// With one slot, a result stream the client has not finished reading holds it: every other
/// call is refused at once until the stream ends. The stream is held open by HTTP/2 flow
/// control (the client reads one message of a 16 MB result through 64 KiB windows), not by
/// timing.
#[tokio::test]
async fn a_streaming_query_holds_its_slot_until_its_last_batch() {
    let f = fixture().await;
    let running = start(&f, |c| {
        c.max_concurrent_queries = 1;
        c.metrics_addr = Some("127.0.0.1:0".parse().unwrap());
    })
    .await;
    let narrow = tonic::transport::Endpoint::from_shared(format!("http://{}", running.addr))
        .unwrap()
        .initial_stream_window_size(65_535)
        .initial_connection_window_size(65_535)
        .connect()
        .await
        .unwrap();
    let mut slow = FlightSqlServiceClient::new(narrow);
    slow.set_header("authorization", format!("Bearer {SQL_KEY}"));
    let info = slow
        .execute(
            "SELECT repeat('x', 200000) AS filler FROM iod_2019__lsoa".into(),
            None,
        )
        .await
        .unwrap();
    let mut stream = slow
        .do_get(info.endpoint[0].ticket.clone().unwrap())
        .await
        .unwrap();
    // The first batch has arrived: the server has admitted the query and is streaming.
    let first = stream.try_next().await.unwrap().unwrap();
    assert!(first.num_rows() > 0);

    let mut other = client(&running, Some(SQL_KEY)).await;
    let err = query(&mut other, "SELECT 1").await.unwrap_err();
    assert!(err.contains("maximum number of queries"), "{err}");
    let ch = channel(&running).await;
    let (_, mut ana) = clients(&ch);
    let (c, m) = code(
        ana.area_gap(authed(
            pb::GapRequest {
                indicator: "crime-all".into(),
                authority: VALE.into(),
                ..Default::default()
            },
            FULL_KEY,
        ))
        .await,
    );
    assert_eq!(c, Code::ResourceExhausted, "{m}");

    // Reading the rest ends the stream, and with it the slot.
    let mut rows = first.num_rows();
    while let Some(b) = stream.try_next().await.unwrap() {
        rows += b.num_rows();
    }
    assert_eq!(rows, 80);
    let n = single_i64(
        &query(&mut other, "SELECT COUNT(*) FROM iod_2019__lsoa")
            .await
            .unwrap(),
    );
    assert_eq!(n, 80);
    let text = metrics(&running).await;
    assert!(
        text.lines().any(|l| l
            == "renewal_requests_total{rpc=\"FlightSql.GetFlightInfoStatement\",code=\"ResourceExhausted\"} 1"),
        "{text}"
    );
    assert!(
        text.lines()
            .any(|l| l == "renewal_requests_total{rpc=\"AreaGap\",code=\"ResourceExhausted\"} 1"),
        "{text}"
    );
    running.stop().await.unwrap();
}
