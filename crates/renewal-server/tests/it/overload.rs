//! Overload: with every concurrency slot held the next request is refused with
//! RESOURCE_EXHAUSTED at once (not queued), and the server answers normally once the slot is
//! free; oversized messages and headers are refused; connections beyond the cap are closed;
//! a client that stops answering is cut off; SQL beyond the memory pool is stopped by it.
//! Slots are held with the server's [`QueryGate`], never with sleeps.

use std::time::Duration;

use renewal_server::QueryGate;
use renewal_server::pb;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tonic::Code;

use crate::*;

fn gap(authority: &str) -> pb::GapRequest {
    pb::GapRequest {
        indicator: "crime-all".into(),
        authority: authority.into(),
        ..Default::default()
    }
}

/// Fails the test instead of hanging when what must happen at once does not.
async fn promptly<T>(what: &str, f: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(60), f)
        .await
        .unwrap_or_else(|_| panic!("{what}: still waiting after 60 s"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn full_slots_refuse_at_once_and_recover() {
    let f = fixture().await;
    let gate = QueryGate::new();
    let running = start(&f, |c| {
        c.max_concurrent_queries = 1;
        c.gate = Some(gate.clone());
    })
    .await;
    let ch = channel(&running).await;
    let (_, ana) = clients(&ch);

    // One question takes the only slot and is held there.
    let mut first = ana.clone();
    let held =
        tokio::spawn(
            async move { collect(first.area_gap(authed(gap(VALE), FULL_KEY)).await).await },
        );
    promptly("the first query reaching the gate", gate.held(1)).await;

    // Every further question, of any kind, is refused while it is held: had it been queued,
    // it would wait on the gate and `promptly` would fail.
    let mut other = ana.clone();
    let refused = promptly("a refusal", other.area_gap(authed(gap(VALE), FULL_KEY)))
        .await
        .unwrap_err();
    assert_eq!(
        refused.code(),
        Code::ResourceExhausted,
        "{}",
        refused.message()
    );
    assert!(refused.message().contains("maximum number of queries"));
    // It tells clients when to retry (gRPC retry pushback).
    assert_eq!(
        refused.metadata().get("grpc-retry-pushback-ms").unwrap(),
        "100"
    );
    let (c, _) = code(
        promptly(
            "a refusal",
            other.deprived_vs_rest(authed(
                pb::SelectionRequest {
                    indicator: "crime-all".into(),
                    authority: VALE.into(),
                    selection: "imd-decile<=2".into(),
                    ..Default::default()
                },
                FULL_KEY,
            )),
        )
        .await,
    );
    assert_eq!(c, Code::ResourceExhausted);
    let (c, _) = code(
        promptly(
            "a refusal",
            other.area_profile(authed(
                pb::ProfileRequest {
                    area: "E05999001".into(),
                    ..Default::default()
                },
                FULL_KEY,
            )),
        )
        .await,
    );
    assert_eq!(c, Code::ResourceExhausted);
    // Health is not a query: it still answers while the slots are full.
    let mut health = tonic_health::pb::health_client::HealthClient::new(ch.clone());
    let status = promptly(
        "health",
        health.check(tonic_health::pb::HealthCheckRequest {
            service: String::new(),
        }),
    )
    .await
    .unwrap()
    .into_inner()
    .status;
    assert_eq!(
        status,
        tonic_health::pb::health_check_response::ServingStatus::Serving as i32
    );

    // Released, the held question completes with its full answer, and the server answers the
    // next one normally (the gate lets later queries straight through).
    gate.release(1_000);
    let table = promptly("the held query", held).await.unwrap().unwrap();
    assert_eq!(table.rows.len(), 8, "Renewal Vale's eight wards");
    let again = collect(
        promptly(
            "a query after the load",
            other.area_gap(authed(gap(VALE), FULL_KEY)),
        )
        .await,
    )
    .await
    .unwrap();
    assert_eq!(again.rows, table.rows);
    running.stop().await.unwrap();
}

#[tokio::test]
async fn oversized_messages_and_headers_are_refused() {
    let f = fixture().await;
    let running = start(&f, |c| {
        // Room for the sample's answers (a few KiB per message), not for the request below.
        c.max_message_bytes = 16 * 1024;
        c.max_header_list_bytes = 4096;
    })
    .await;
    let ch = channel(&running).await;
    let (_, mut ana) = clients(&ch);

    let mut big = gap(VALE);
    big.indicator = "x".repeat(32 * 1024);
    let (c, message) = code(ana.area_gap(authed(big, FULL_KEY)).await);
    assert_eq!(c, Code::OutOfRange, "{message}");
    assert!(message.contains("too large"), "{message}");

    let mut request = authed(gap(VALE), FULL_KEY);
    request
        .metadata_mut()
        .insert("x-padding", "p".repeat(8192).parse().unwrap());
    // HTTP/2 answers an oversized header list with 431 (Request Header Fields Too Large)
    // before any handler runs; gRPC clients report it as UNKNOWN.
    let (c, message) = code(collect(ana.area_gap(request).await).await);
    assert_eq!(c, Code::Unknown, "{message}");
    assert!(message.contains("431"), "{message}");

    // The server, and a fresh connection to it, still answer.
    let ch = channel(&running).await;
    let (_, mut ana) = clients(&ch);
    let table = collect(ana.area_gap(authed(gap(VALE), FULL_KEY)).await)
        .await
        .unwrap();
    assert_eq!(table.rows.len(), 8);
    running.stop().await.unwrap();
}

/// Beyond `max_connections` a new connection is closed as soon as it is accepted; the
/// connections within the cap keep working.
#[tokio::test]
async fn connections_beyond_the_cap_are_closed() {
    let f = fixture().await;
    let running = start(&f, |c| c.max_connections = 1).await;
    let ch = channel(&running).await;
    let (mut cat, _) = clients(&ch);
    cat.list_indicators(authed(pb::ListIndicatorsRequest {}, FULL_KEY))
        .await
        .unwrap();

    // A client speaking HTTP/2 on a further connection: served, it would get the server's
    // SETTINGS frame back; beyond the cap it gets not a byte before the close. (Writes may
    // already fail: the server may have closed first.)
    let mut extra = tokio::net::TcpStream::connect(running.addr).await.unwrap();
    let _ = extra.write_all(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n").await;
    let _ = extra.write_all(&[0, 0, 0, 4, 0, 0, 0, 0, 0]).await;
    let mut buf = Vec::new();
    let read = promptly("the extra connection closing", extra.read_to_end(&mut buf)).await;
    assert!(buf.is_empty(), "{read:?}: frames {:?}", frames(&buf));

    cat.list_indicators(authed(pb::ListIndicatorsRequest {}, FULL_KEY))
        .await
        .unwrap();
    running.stop().await.unwrap();
}

/// A client that opens a connection and then neither reads nor answers anything (here: the
/// HTTP/2 preface and settings, then silence) is closed by the server once its keepalive ping
/// goes unanswered.
#[tokio::test]
async fn silent_client_is_cut_off() {
    let f = fixture().await;
    let running = start(&f, |c| {
        c.keepalive_interval_secs = 1;
        c.keepalive_timeout_secs = 1;
    })
    .await;
    let mut raw = tokio::net::TcpStream::connect(running.addr).await.unwrap();
    raw.write_all(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")
        .await
        .unwrap();
    // An empty SETTINGS frame: length 0, type 4, flags 0, stream 0.
    raw.write_all(&[0, 0, 0, 4, 0, 0, 0, 0, 0]).await.unwrap();
    // Everything the server sends is read (and never answered) until it closes the socket.
    let mut seen = Vec::new();
    // Returning at all is the point: the server closed the socket (EOF, or a reset).
    let _closed = promptly("the server closing the silent connection", async {
        raw.read_to_end(&mut seen).await
    })
    .await;
    // Its frames included a PING (type 6) before it gave up.
    assert!(
        frames(&seen).contains(&6),
        "frame types {:?}",
        frames(&seen)
    );
    // Everyone else is unaffected.
    let ch = channel(&running).await;
    let (mut cat, _) = clients(&ch);
    cat.list_indicators(authed(pb::ListIndicatorsRequest {}, FULL_KEY))
        .await
        .unwrap();
    running.stop().await.unwrap();
}

/// The types of the HTTP/2 frames in `bytes` (9-byte headers: 24-bit length, type, ...).
fn frames(bytes: &[u8]) -> Vec<u8> {
    let mut types = Vec::new();
    let mut at = 0;
    while at + 9 <= bytes.len() {
        let len = usize::from(bytes[at]) << 16
            | usize::from(bytes[at + 1]) << 8
            | usize::from(bytes[at + 2]);
        types.push(bytes[at + 3]);
        at += 9 + len;
    }
    types
}

/// The limits are settings-file keys (every one a field of `ServerConfig`); the test gate is
/// not one of them.
#[test]
fn limits_load_from_the_settings_file() {
    let dir = renewal_test_support::temp_dir();
    let path = dir.path().join("server.toml");
    std::fs::write(
        &path,
        "dev = true\nmax_concurrent_queries = 4\naggregate_cache_mb = 64\nmax_connections = 32\n\
         max_concurrent_streams = 8\nkeepalive_interval_secs = 5\nkeepalive_timeout_secs = 2\n\
         max_connection_age_secs = 0\nmax_connection_age_grace_secs = 1\n\
         max_header_list_bytes = 8192\nmax_message_bytes = 65536\n",
    )
    .unwrap();
    let c = renewal_server::ServerConfig::load(&path).unwrap();
    assert_eq!(
        (
            c.max_concurrent_queries,
            c.aggregate_cache_mb,
            c.max_connections,
            c.max_concurrent_streams,
            c.keepalive_interval_secs,
            c.keepalive_timeout_secs,
            c.max_connection_age_secs,
            c.max_connection_age_grace_secs,
            c.max_header_list_bytes,
            c.max_message_bytes,
        ),
        (4, 64, 32, 8, 5, 2, 0, 1, 8192, 65536)
    );
    assert!(c.gate.is_none());
    std::fs::write(&path, "gate = true\n").unwrap();
    let e = renewal_server::ServerConfig::load(&path)
        .unwrap_err()
        .to_string();
    assert!(e.contains("unknown field `gate`"), "{e}");
}
