//! Prometheus metrics: requests by RPC and status code, latency histograms, and the dataset
//! versions being served. Exposed as text on a separate plain-HTTP port (`GET /metrics`, axum),
//! so scraping never competes with partners' traffic or needs a key. Requests over the HTTP
//! feed are counted under the gRPC method's name, like gRPC's.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

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

/// Serves `GET /metrics` on `listener` (axum, plain HTTP, no key) until the task is dropped.
pub async fn serve(listener: tokio::net::TcpListener, metrics: Metrics) {
    use axum::http::{HeaderValue, StatusCode, header};
    use axum::response::IntoResponse;
    let app = axum::Router::new()
        .route(
            "/metrics",
            axum::routing::get(
                |axum::extract::State(m): axum::extract::State<Metrics>| async move {
                    let mut r = (StatusCode::OK, m.render()).into_response();
                    r.headers_mut().insert(
                        header::CONTENT_TYPE,
                        HeaderValue::from_static("text/plain; version=0.0.4"),
                    );
                    r
                },
            ),
        )
        .fallback(|| async { (StatusCode::NOT_FOUND, "only /metrics is served here\n") })
        // One scrape per connection, as before: a scraper reading to the end of the stream
        // gets it.
        .layer(axum::middleware::map_response(
            |mut r: axum::response::Response| async move {
                r.headers_mut()
                    .insert(header::CONNECTION, HeaderValue::from_static("close"));
                r
            },
        ))
        .with_state(metrics);
    // serve returns only on a listener error; the task is aborted at shutdown.
    if let Err(e) = axum::serve(listener, app).await {
        tracing::error!(error = %e, "metrics listener stopped");
    }
}

/// Binds the metrics port.
pub async fn bind(addr: SocketAddr) -> std::io::Result<tokio::net::TcpListener> {
    tokio::net::TcpListener::bind(addr).await
}
