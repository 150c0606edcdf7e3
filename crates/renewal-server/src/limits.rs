//! Overload protection around the services: a cap on open connections, socket options for
//! each accepted connection, and a gate that can hold admitted queries (tests and drills).
//!
//! What each limit stops (the settings are in [`crate::ServerConfig`]):
//! - too many queries at once: the concurrency slots refuse the excess with RESOURCE_EXHAUSTED
//!   at once; there is no queue, so a burst costs the refused callers nothing but a round trip;
//! - too many connections: beyond `max_connections` a new connection is closed as soon as it
//!   is accepted (clients see UNAVAILABLE), so sockets and per-connection buffers are bounded;
//! - too many streams on one connection: HTTP/2 `max_concurrent_streams`;
//! - clients that stop reading or vanish: HTTP/2 keepalive pings unanswered within the timeout
//!   close the connection, TCP keepalive finds dead peers, and `max_connection_age` (with its
//!   grace) bounds how long any connection — and so any stalled stream — lives;
//! - oversized messages: decoding and encoding caps (OUT_OF_RANGE) and the header list cap;
//! - SQL that would sort or aggregate beyond the memory pool: DataFusion's pool refuses it
//!   (RESOURCE_EXHAUSTED).

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use futures::{Stream, StreamExt};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tonic::transport::server::{Connected, TcpConnectInfo};

/// Holds every admitted query (one that has its concurrency slot) until released, so a test
/// or an overload drill can keep slots occupied without timing anything.
#[derive(Debug)]
pub struct QueryGate {
    entered: Semaphore,
    open: Semaphore,
}

impl QueryGate {
    /// A closed gate: admitted queries wait at it.
    pub fn new() -> Arc<QueryGate> {
        Arc::new(QueryGate {
            entered: Semaphore::new(0),
            open: Semaphore::new(0),
        })
    }

    /// Waits until `n` more queries have reached the gate (each holding its slot).
    pub async fn held(&self, n: u32) {
        if let Ok(p) = self.entered.acquire_many(n).await {
            p.forget();
        }
    }

    /// Lets `n` waiting (or future) queries through.
    pub fn release(&self, n: usize) {
        self.open.add_permits(n);
    }

    /// Called by a query after taking its slot.
    pub(crate) async fn pass(&self) {
        self.entered.add_permits(1);
        if let Ok(p) = self.open.acquire().await {
            p.forget();
        }
    }
}

/// An accepted connection counted against `max_connections`; the permit goes when it closes.
pub struct Limited {
    stream: TcpStream,
    _permit: OwnedSemaphorePermit,
}

impl Connected for Limited {
    type ConnectInfo = TcpConnectInfo;

    fn connect_info(&self) -> Self::ConnectInfo {
        self.stream.connect_info()
    }
}

impl AsyncRead for Limited {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for Limited {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }
}

/// Accepted connections, at most `max` open at once: one accepted beyond that is dropped
/// (closed) at once rather than served or left waiting, and counted in the log.
pub fn limit_connections<S>(incoming: S, max: usize) -> impl Stream<Item = io::Result<Limited>>
where
    S: Stream<Item = io::Result<TcpStream>>,
{
    let slots = Arc::new(Semaphore::new(max.max(1)));
    incoming.filter_map(move |accepted| {
        let slots = slots.clone();
        async move {
            match accepted {
                // Errors from accept (e.g. out of file descriptors) end nothing: the server
                // logs them and keeps accepting.
                Err(e) => Some(Err(e)),
                Ok(stream) => match slots.try_acquire_owned() {
                    Ok(permit) => Some(Ok(Limited {
                        stream,
                        _permit: permit,
                    })),
                    Err(_) => {
                        tracing::warn!(
                            peer = ?stream.peer_addr().ok(),
                            "connection refused: max_connections reached"
                        );
                        None
                    }
                },
            }
        }
    })
}

/// The HTTP feed's listener under the same rule as the gRPC port: at most `max` connections
/// open at once (its own count; the two listeners do not share one), a connection accepted
/// beyond that closed at once, and `TCP_NODELAY` on every accepted socket so small answers are
/// not held back by Nagle's algorithm.
pub struct CappedListener {
    listener: tokio::net::TcpListener,
    slots: Arc<Semaphore>,
}

impl CappedListener {
    /// Wraps a bound listener.
    pub fn new(listener: tokio::net::TcpListener, max: usize) -> CappedListener {
        CappedListener {
            listener,
            slots: Arc::new(Semaphore::new(max.max(1))),
        }
    }
}

impl axum::serve::Listener for CappedListener {
    type Io = Limited;
    type Addr = std::net::SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            let (stream, peer) = match self.listener.accept().await {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors and the like: log, pause briefly so a full
                    // descriptor table is not spun on, and keep accepting (as axum's own
                    // listener does).
                    tracing::warn!(error = %e, "http accept failed");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    continue;
                }
            };
            match self.slots.clone().try_acquire_owned() {
                Ok(permit) => {
                    if let Err(e) = stream.set_nodelay(true) {
                        tracing::debug!(error = %e, "TCP_NODELAY not set");
                    }
                    return (
                        Limited {
                            stream,
                            _permit: permit,
                        },
                        peer,
                    );
                }
                Err(_) => {
                    tracing::warn!(%peer, "http connection refused: max_connections reached");
                }
            }
        }
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        self.listener.local_addr()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // tests: a panic is the failure report

    use renewal_warehouse::{PublishOptions, Warehouse};

    use crate::pb;

    /// SQL whose sorts and aggregates need more than the DataFusion memory pool is stopped by
    /// the pool: the gRPC caller gets RESOURCE_EXHAUSTED, and the server answers the same
    /// question once the pool is large enough again.
    ///
    /// The pool size is process-wide (`renewal_query::set_memory_limit`), so this lives in the
    /// library's unit tests, a binary of its own where no other test runs queries, and not
    /// beside the integration tests that share their process under `cargo test`.
    #[tokio::test]
    async fn sql_beyond_the_memory_pool_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let sample = dir.path().join("sample");
        renewal_sample::write_sample(&sample, &renewal_sample::SampleSpec::default()).unwrap();
        let files = |pred: &dyn Fn(&str) -> bool| -> Vec<std::path::PathBuf> {
            let mut v: Vec<_> = std::fs::read_dir(&sample)
                .unwrap()
                .map(|e| e.unwrap().path())
                .filter(|p| pred(&p.file_name().unwrap().to_string_lossy()))
                .collect();
            v.sort();
            v
        };
        let catalog = renewal_schema::Catalog::embedded().unwrap();
        let warehouse = Warehouse::open_local(&dir.path().join("warehouse")).unwrap();
        let np = &renewal_ingest::NoProgress;
        let mut drafts =
            renewal_ingest::read_lookups(&catalog, &files(&|n| n.starts_with("Lower_Layer")), np)
                .unwrap();
        drafts.push(
            renewal_ingest::read_iod(&catalog, "2019", &files(&|n| n.starts_with("File_")), np)
                .unwrap(),
        );
        drafts.push(
            renewal_ingest::read_crime(
                &catalog,
                &files(&|n| n.ends_with("-street.csv")),
                &renewal_ingest::CrimeOptions::default(),
                np,
            )
            .unwrap(),
        );
        for d in drafts {
            warehouse
                .publish(d, PublishOptions::default())
                .await
                .unwrap();
        }
        let config = crate::ServerConfig {
            addr: "127.0.0.1:0".parse().unwrap(),
            dev: true,
            ..crate::ServerConfig::default()
        };
        let running = crate::start(renewal_query::Engine::new(warehouse, catalog), &config)
            .await
            .unwrap();
        let mut client =
            pb::analysis_client::AnalysisClient::connect(format!("http://{}", running.addr))
                .await
                .unwrap();
        let request = || pb::GapRequest {
            indicator: "crime-all".into(),
            authority: "E08999001".into(),
            ..Default::default()
        };
        // 4 KiB: less than one hash table of the numerator's GROUP BY.
        renewal_query::set_memory_limit(4 * 1024);
        let refused = client.area_gap(request()).await.err().unwrap();
        assert_eq!(
            refused.code(),
            tonic::Code::ResourceExhausted,
            "{}",
            refused.message()
        );
        assert!(
            refused.message().contains("more memory than allowed"),
            "{}",
            refused.message()
        );
        renewal_query::set_memory_limit(config.memory_limit_mb * 1024 * 1024);
        let mut stream = client.area_gap(request()).await.unwrap().into_inner();
        let mut rows = 0;
        while let Some(chunk) = stream.message().await.unwrap() {
            rows += chunk.rows.len();
        }
        assert_eq!(rows, 8, "Renewal Vale's eight wards");
        running.stop().await.unwrap();
    }
}
