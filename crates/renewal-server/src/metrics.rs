//! Prometheus metrics: requests by RPC and status code, latency histograms, and the dataset
//! versions being served. Exposed as text on a separate plain-HTTP port (`GET /metrics`, axum),
//! so scraping never competes with partners' traffic or needs a key. Requests over the HTTP
//! feed are counted under the gRPC method's name, like gRPC's.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

/// Upper bounds of the latency buckets, in seconds.
const BUCKETS: [f64; 10] = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0];

/// `renewal_requests_total{rpc, code}`: the field order is the label order scrapers see.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    rpc: String,
    code: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RpcLabels {
    rpc: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct DatasetLabels {
    dataset: String,
}

fn latency_histogram() -> Histogram {
    Histogram::new(BUCKETS.iter().copied())
}

struct Inner {
    /// Owns the three families below (each a shared handle) and renders them.
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: Family<RpcLabels, Histogram, fn() -> Histogram>,
    versions: Family<DatasetLabels, Gauge>,
}

/// The server's metrics, one registry per server (so tests running several servers in one
/// process count separately), kept with the Prometheus project's own client library.
#[derive(Clone)]
pub struct Metrics(Arc<Inner>);

impl Default for Metrics {
    fn default() -> Self {
        let requests = Family::<RequestLabels, Counter>::default();
        let latency = Family::<RpcLabels, Histogram, fn() -> Histogram>::new_with_constructor(
            latency_histogram,
        );
        let versions = Family::<DatasetLabels, Gauge>::default();
        let mut registry = Registry::default();
        // Counters are written with the `_total` suffix: renewal_requests_total.
        registry.register(
            "renewal_requests",
            "Questions answered or refused, by RPC and gRPC status code",
            requests.clone(),
        );
        registry.register(
            "renewal_request_seconds",
            "Time to answer a question",
            latency.clone(),
        );
        registry.register(
            "renewal_dataset_version_served",
            "Highest version of each dataset an answer has used",
            versions.clone(),
        );
        Metrics(Arc::new(Inner {
            registry,
            requests,
            latency,
            versions,
        }))
    }
}

impl Metrics {
    /// One question answered or refused with `code` after `elapsed`.
    pub fn record(&self, rpc: &'static str, code: tonic::Code, elapsed: Duration) {
        self.0
            .requests
            .get_or_create(&RequestLabels {
                rpc: rpc.to_owned(),
                code: format!("{code:?}"),
            })
            .inc();
        self.0
            .latency
            .get_or_create(&RpcLabels {
                rpc: rpc.to_owned(),
            })
            .observe(elapsed.as_secs_f64());
    }

    /// The dataset versions an answer used: each gauge keeps the highest seen.
    pub fn served(&self, datasets: &BTreeMap<String, u64>) {
        for (d, v) in datasets {
            let v = i64::try_from(*v).unwrap_or(i64::MAX);
            self.0
                .versions
                .get_or_create(&DatasetLabels { dataset: d.clone() })
                .inner()
                .fetch_max(v, Ordering::Relaxed);
        }
    }

    /// The OpenMetrics text exposition of every metric.
    pub fn render(&self) -> String {
        let mut out = String::new();
        if prometheus_client::encoding::text::encode(&mut out, &self.0.registry).is_err() {
            return String::new();
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
                        HeaderValue::from_static(
                            "application/openmetrics-text; version=1.0.0; charset=utf-8",
                        ),
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
