//! Prometheus metrics: requests by RPC and status code, latency histograms, and the dataset
//! versions being served. Exposed as text on a separate plain-HTTP port (`GET /metrics`), so
//! scraping never competes with partners' gRPC traffic or needs a key.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Upper bounds of the latency buckets, in seconds.
const BUCKETS: [f64; 10] = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0];

#[derive(Default)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

#[derive(Default)]
struct Inner {
    requests: BTreeMap<(&'static str, String), u64>,
    latency: BTreeMap<&'static str, Histogram>,
    versions: BTreeMap<String, u64>,
}

#[derive(Default, Clone)]
pub struct Metrics(Arc<Mutex<Inner>>);

impl Metrics {
    pub fn record(&self, rpc: &'static str, code: tonic::Code, elapsed: Duration) {
        let Ok(mut m) = self.0.lock() else { return };
        *m.requests.entry((rpc, format!("{code:?}"))).or_default() += 1;
        let h = m.latency.entry(rpc).or_default();
        let secs = elapsed.as_secs_f64();
        for (i, bound) in BUCKETS.iter().enumerate() {
            if secs <= *bound {
                h.counts[i] += 1;
            }
        }
        h.count += 1;
        h.sum += secs;
    }

    pub fn served(&self, datasets: &BTreeMap<String, u64>) {
        let Ok(mut m) = self.0.lock() else { return };
        for (d, v) in datasets {
            let e = m.versions.entry(d.clone()).or_default();
            *e = (*e).max(*v);
        }
    }

    pub fn render(&self) -> String {
        let Ok(m) = self.0.lock() else {
            return String::new();
        };
        let mut out = String::new();
        let _ = writeln!(
            out,
            "# HELP renewal_requests_total Questions answered or refused, by RPC and gRPC status code.\n# TYPE renewal_requests_total counter"
        );
        for ((rpc, code), n) in &m.requests {
            let _ = writeln!(
                out,
                "renewal_requests_total{{rpc=\"{rpc}\",code=\"{code}\"}} {n}"
            );
        }
        let _ = writeln!(
            out,
            "# HELP renewal_request_seconds Time to answer a question.\n# TYPE renewal_request_seconds histogram"
        );
        for (rpc, h) in &m.latency {
            for (bound, n) in BUCKETS.iter().zip(h.counts) {
                let _ = writeln!(
                    out,
                    "renewal_request_seconds_bucket{{rpc=\"{rpc}\",le=\"{bound}\"}} {n}"
                );
            }
            let _ = writeln!(
                out,
                "renewal_request_seconds_bucket{{rpc=\"{rpc}\",le=\"+Inf\"}} {}\nrenewal_request_seconds_sum{{rpc=\"{rpc}\"}} {}\nrenewal_request_seconds_count{{rpc=\"{rpc}\"}} {}",
                h.count, h.sum, h.count
            );
        }
        let _ = writeln!(
            out,
            "# HELP renewal_dataset_version_served Highest version of each dataset an answer has used.\n# TYPE renewal_dataset_version_served gauge"
        );
        for (d, v) in &m.versions {
            let _ = writeln!(out, "renewal_dataset_version_served{{dataset=\"{d}\"}} {v}");
        }
        out
    }
}

/// Serves `GET /metrics` on `listener` until the task is dropped.
pub async fn serve(listener: tokio::net::TcpListener, metrics: Metrics) {
    loop {
        let Ok((mut socket, _)) = listener.accept().await else {
            continue;
        };
        let metrics = metrics.clone();
        tokio::spawn(async move {
            let mut buf = vec![0u8; 4096];
            let mut len = 0;
            // Read the request head only; scrapes have no body.
            while len < buf.len() {
                match socket.read(&mut buf[len..]).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => len += n,
                }
                if buf[..len].windows(4).any(|w| w == b"\r\n\r\n") {
                    break;
                }
            }
            let head = String::from_utf8_lossy(&buf[..len]);
            let (status, body) = if head.starts_with("GET /metrics") {
                ("200 OK", metrics.render())
            } else {
                ("404 Not Found", "only /metrics is served here\n".to_owned())
            };
            let reply = format!(
                "HTTP/1.1 {status}\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = socket.write_all(reply.as_bytes()).await;
            let _ = socket.shutdown().await;
        });
    }
}

/// Binds the metrics port.
pub async fn bind(addr: SocketAddr) -> std::io::Result<tokio::net::TcpListener> {
    tokio::net::TcpListener::bind(addr).await
}
