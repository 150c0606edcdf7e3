//! Renewal's gRPC service: the query engine for partners (LSP analysts, ETL jobs, dashboards).
//!
//! - Services `renewal.v1.Catalogue`, `renewal.v1.Analysis` and `renewal.v1.Spend`
//!   (proto/renewal/v1/; the last in module `spend`), `renewal.v1.Ingest` (partners upload
//!   their own datasets; module [`ingest`]), plus the
//!   standard health service and server reflection (v1), so grpcurl-style tools work without
//!   the .proto files. grpc-web is accepted on the same port, with CORS as configured.
//! - Bearer API keys (hashed at rest, constant-time compare) carry scopes: authorities,
//!   datasets, write, sql. Development mode has no keys and binds to loopback only. The keys
//!   file is re-read when it changes (checked on every request) and on SIGHUP, so a key is
//!   revoked by deleting its entry, without a restart ([`auth::KeyStore`]).
//! - Registrations (neighbourhoods, targets) belong to the key's partner name (`developer` in
//!   development mode): others may read them within their scopes, only the owner may replace
//!   or delete them.
//! - Disclosure control is the engine's: every figure of every answer passes through it with
//!   the server's threshold, which a request cannot lower.
//! - Hot reload needs no signal: each request resolves the current dataset versions, and
//!   aggregates are cached per version, so a `renewal refresh` is served to new requests at
//!   once while requests in flight finish on the aggregate they hold.
//! - Arrow Flight SQL on the same port for read-only SQL by keys with the `sql` scope, over
//!   tables that disclose no small counts (module [`flight`]), inside the same concurrency
//!   slots, deadline and metrics as gRPC, with one memory pool shared by all its queries.
//! - Prometheus metrics on their own port: requests by RPC and code, latency histograms,
//!   dataset versions served.
//! - Optional TLS (`tls_cert`, `tls_key`); without it, serve behind a TLS-terminating proxy.
//! - Limits (module [`limits`]): queries at once (RESOURCE_EXHAUSTED beyond, at once, never
//!   queued), per-request deadline (the smaller of the client's `grpc-timeout` and the
//!   configured one; for Flight SQL it covers the whole result stream), DataFusion memory,
//!   message and header sizes, open connections, streams per connection, keepalive for
//!   clients that stop reading, connection age, and the aggregate cache's bytes.

pub mod auth;
mod convert;
mod dashboard;
pub mod flight;
pub mod http;
pub mod ingest;
pub mod limits;
mod metrics;
mod service;
mod spend;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use renewal_query::Engine;
use serde::Deserialize;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Server;
use tonic::{Request, Status};

pub use auth::{KeyStore, Keys, Partner, hash_key};
pub use limits::QueryGate;
pub use service::{RETRY_PUSHBACK_MS, to_status};

pub mod pb {
    tonic::include_proto!("renewal.v1");

    /// The compiled protos, served by reflection.
    pub const FILE_DESCRIPTOR_SET: &[u8] =
        include_bytes!(concat!(env!("OUT_DIR"), "/renewal_descriptor.bin"));
}

#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error("{0}")]
    Config(String),
    #[error("binding {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error(transparent)]
    Keys(#[from] auth::KeysError),
    #[error("reflection: {0}")]
    Reflection(String),
    #[error(transparent)]
    Transport(#[from] tonic::transport::Error),
}

/// `renewal serve` settings (a TOML file; environment and flags override it).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    pub addr: SocketAddr,
    /// The API keys file; required unless `dev`.
    pub keys: Option<PathBuf>,
    /// No authentication; refused unless `addr` is a loopback address.
    pub dev: bool,
    /// Queries answered at once; a request finding every slot taken gets RESOURCE_EXHAUSTED
    /// at once (there is no queue).
    pub max_concurrent_queries: usize,
    /// Deadline for a whole question (the client's `grpc-timeout` when smaller).
    pub request_timeout_secs: u64,
    /// DataFusion memory for sorts, joins and aggregates: per question for gRPC, one pool
    /// shared by every Flight SQL query at once.
    pub memory_limit_mb: usize,
    /// Largest message decoded from or encoded to a client (OUT_OF_RANGE beyond).
    pub max_message_bytes: usize,
    /// Largest HTTP/2 header list (metadata) accepted from a client.
    pub max_header_list_bytes: u32,
    /// Estimated bytes of aggregates kept between requests (the engine's cache bound).
    pub aggregate_cache_mb: usize,
    /// Connections open at once on each listener (the gRPC port and the HTTP feed count
    /// separately); one accepted beyond this is closed at once.
    pub max_connections: usize,
    /// HTTP/2 streams (calls) open at once on one connection.
    pub max_concurrent_streams: u32,
    /// HTTP/2 keepalive: ping a connection idle this long, and close it when the ping is not
    /// answered within `keepalive_timeout_secs` (a client that stopped reading or vanished).
    /// 0 turns pings off.
    pub keepalive_interval_secs: u64,
    /// See `keepalive_interval_secs`.
    pub keepalive_timeout_secs: u64,
    /// Connections older than this are asked to go away (GOAWAY; clients reconnect) and closed
    /// `max_connection_age_grace_secs` later, however stalled their streams. 0: no limit.
    pub max_connection_age_secs: u64,
    /// See `max_connection_age_secs`.
    pub max_connection_age_grace_secs: u64,
    /// Browser origins allowed to call over grpc-web (`*` for any); none by default.
    pub cors_origins: Vec<String>,
    /// Counts below this, and values derived from them, are withheld.
    pub disclosure_threshold: f64,
    /// Where to serve Prometheus metrics (`GET /metrics`, plain HTTP); none by default.
    pub metrics_addr: Option<SocketAddr>,
    /// Where to serve the HTTP feed for dashboards (`/api/v1/…`, plain HTTP, same keys and
    /// scopes); none by default. In development mode it must be a loopback address too.
    pub http_addr: Option<SocketAddr>,
    /// `Cache-Control` of the HTTP feed's answers. Private by default: answers depend on the
    /// key.
    pub http_cache_control: String,
    /// PEM certificate chain and private key: serve gRPC, grpc-web and Flight SQL over TLS.
    pub tls_cert: Option<PathBuf>,
    /// See `tls_cert`.
    pub tls_key: Option<PathBuf>,
    /// Uploads (the `Ingest` service): most bytes one upload may send over all its files, as
    /// sent (FAILED_PRECONDITION beyond, while streaming).
    pub max_upload_bytes: u64,
    /// Uploads: most bytes one upload's files may come to with `.gz` files decompressed
    /// (counted while streaming; FAILED_PRECONDITION beyond).
    pub max_upload_decompressed_bytes: u64,
    /// Uploads: most files in one upload, boundary files included.
    pub max_upload_files: usize,
    /// Tests and drills only (not read from the settings file): every admitted query waits at
    /// this gate, holding its slot, until the gate releases it.
    #[serde(skip)]
    pub gate: Option<Arc<QueryGate>>,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            addr: SocketAddr::from(([127, 0, 0, 1], 50051)),
            keys: None,
            dev: false,
            max_concurrent_queries: 16,
            request_timeout_secs: 30,
            memory_limit_mb: 1024,
            max_message_bytes: 4 * 1024 * 1024,
            max_header_list_bytes: 16 * 1024,
            aggregate_cache_mb: renewal_query::DEFAULT_CACHE_BYTES / (1024 * 1024),
            max_connections: 1024,
            max_concurrent_streams: 64,
            keepalive_interval_secs: 30,
            keepalive_timeout_secs: 10,
            max_connection_age_secs: 3600,
            max_connection_age_grace_secs: 60,
            cors_origins: Vec::new(),
            disclosure_threshold: renewal_query::DEFAULT_DISCLOSURE_THRESHOLD,
            metrics_addr: None,
            http_addr: None,
            http_cache_control: "private, max-age=60".into(),
            tls_cert: None,
            tls_key: None,
            max_upload_bytes: 512 << 20,
            max_upload_decompressed_bytes: 2 << 30,
            max_upload_files: 64,
            gate: None,
        }
    }
}

impl ServerConfig {
    pub fn load(path: &std::path::Path) -> Result<ServerConfig, ServerError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| ServerError::Config(format!("{}: {e}", path.display())))?;
        toml::from_str(&text).map_err(|e| ServerError::Config(format!("{}: {e}", path.display())))
    }
}

/// A started server.
pub struct Running {
    pub addr: SocketAddr,
    /// The metrics port, when one was configured.
    pub metrics_addr: Option<SocketAddr>,
    /// The HTTP feed's port, when one was configured.
    pub http_addr: Option<SocketAddr>,
    /// The accepted keys (none in development mode).
    keys: Option<Arc<KeyStore>>,
    metrics_task: Option<tokio::task::JoinHandle<()>>,
    http_task: Option<(
        tokio::sync::oneshot::Sender<()>,
        tokio::task::JoinHandle<std::io::Result<()>>,
    )>,
    sighup_task: Option<tokio::task::JoinHandle<()>>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<Result<(), tonic::transport::Error>>,
}

impl Running {
    /// Re-reads the keys file now, as SIGHUP does; returns how many keys it holds. On error
    /// every key is refused until the file is fixed. Development mode has no keys file.
    pub fn reload_keys(&self) -> Result<usize, ServerError> {
        match &self.keys {
            None => Err(ServerError::Config(
                "development mode has no keys file to reload".into(),
            )),
            Some(keys) => Ok(keys.reload()?),
        }
    }

    /// The accepted keys (re-read on change and SIGHUP); `None` in development mode.
    pub fn keys(&self) -> Option<&Arc<KeyStore>> {
        self.keys.as_ref()
    }

    /// Stops accepting, lets requests in flight finish, and waits.
    pub async fn stop(mut self) -> Result<(), ServerError> {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(m) = self.metrics_task.take() {
            m.abort();
        }
        if let Some((tx, task)) = self.http_task.take() {
            let _ = tx.send(());
            match task.await {
                Ok(r) => r.map_err(|e| ServerError::Config(format!("HTTP feed: {e}")))?,
                Err(e) => return Err(ServerError::Config(format!("HTTP feed task: {e}"))),
            }
        }
        if let Some(t) = self.sighup_task.take() {
            t.abort();
        }
        match self.task.await {
            Ok(r) => Ok(r?),
            Err(e) => Err(ServerError::Config(format!("server task: {e}"))),
        }
    }

    /// Serves until the process is interrupted.
    pub async fn wait(self) -> Result<(), ServerError> {
        match self.task.await {
            Ok(r) => Ok(r?),
            Err(e) => Err(ServerError::Config(format!("server task: {e}"))),
        }
    }
}

/// Binds and starts serving in the background.
/// Parent area → districts wholly inside it, from the current parents datasets; empty (keys
/// with `areas` then read nothing by them) when the warehouse cannot say.
async fn area_districts(
    warehouse: &renewal_warehouse::Warehouse,
) -> std::collections::HashMap<String, Vec<String>> {
    match renewal_query::parent_districts(warehouse).await {
        Ok(d) => d,
        Err(e) => {
            tracing::error!(error = %e, "parent areas unreadable: keys scoped by areas read nothing by them");
            Default::default()
        }
    }
}

pub async fn start(engine: Engine, config: &ServerConfig) -> Result<Running, ServerError> {
    for addr in std::iter::once(config.addr).chain(config.http_addr) {
        if config.dev && !addr.ip().is_loopback() {
            return Err(ServerError::Config(format!(
                "development mode (no authentication) only binds to loopback, not {addr}"
            )));
        }
    }
    let keys = match (&config.keys, config.dev) {
        (Some(path), _) => Some(Arc::new(KeyStore::open(path)?)),
        (None, true) => None,
        (None, false) => {
            return Err(ServerError::Config(
                "give a keys file (--keys) or use --dev on a loopback address".into(),
            ));
        }
    };
    if config.disclosure_threshold < 1.0 {
        return Err(ServerError::Config(
            "disclosure_threshold must be at least 1".into(),
        ));
    }
    renewal_query::set_memory_limit(config.memory_limit_mb.saturating_mul(1024 * 1024));
    let warehouse = engine.warehouse().clone();
    // Keys scoped to parent areas (`areas = [...]`) read the districts inside them.
    if let Some(store) = &keys {
        store.set_area_districts(area_districts(&warehouse).await);
    }
    let engine = Arc::new(
        engine
            .with_disclosure_threshold(config.disclosure_threshold)
            .with_cache_bytes(config.aggregate_cache_mb.saturating_mul(1024 * 1024)),
    );
    let state = Arc::new(
        service::State::new(engine, config.max_concurrent_queries).with_gate(config.gate.clone()),
    );
    let timeout = Duration::from_secs(config.request_timeout_secs.max(1));
    let flight_sql = flight::FlightSql::new(
        warehouse.clone(),
        state.clone(),
        config.memory_limit_mb.saturating_mul(1024 * 1024),
        timeout,
    )
    .map_err(|e| ServerError::Config(format!("Flight SQL: {e}")))?;
    // The handler is installed here, before start returns, so a SIGHUP sent once the server
    // is up never meets the default action (which would end the process).
    let sighup_task = match &keys {
        None => None,
        Some(store) => {
            let mut hangups =
                tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())
                    .map_err(|e| ServerError::Config(format!("SIGHUP handler: {e}")))?;
            let store = store.clone();
            let warehouse = warehouse.clone();
            Some(tokio::spawn(async move {
                while hangups.recv().await.is_some() {
                    // reload logs its own outcome.
                    let _ = store.reload();
                    store.set_area_districts(area_districts(&warehouse).await);
                }
            }))
        }
    };
    let http_task = match config.http_addr {
        None => None,
        Some(addr) => {
            let feed = http::Feed::new(
                state.clone(),
                keys.clone(),
                &config.http_cache_control,
                config.disclosure_threshold,
                timeout,
            )
            .map_err(ServerError::Config)?;
            let app =
                http::router(feed, dashboard::routes()).layer(feed_cors(&config.cors_origins));
            let listener = tokio::net::TcpListener::bind(addr)
                .await
                .map_err(|source| ServerError::Bind { addr, source })?;
            let bound = listener
                .local_addr()
                .map_err(|source| ServerError::Bind { addr, source })?;
            let (tx, rx) = tokio::sync::oneshot::channel::<()>();
            let listener = limits::CappedListener::new(listener, config.max_connections);
            let task = tokio::spawn(async move {
                axum::serve(listener, app)
                    .with_graceful_shutdown(async {
                        let _ = rx.await;
                    })
                    .await
            });
            tracing::info!(addr = %bound, "serving the HTTP feed");
            Some((bound, (tx, task)))
        }
    };
    let (http_addr, http_task) = match http_task {
        None => (None, None),
        Some((a, t)) => (Some(a), Some(t)),
    };
    let (metrics_addr, metrics_task) = match config.metrics_addr {
        None => (None, None),
        Some(addr) => {
            let listener = metrics::bind(addr)
                .await
                .map_err(|source| ServerError::Bind { addr, source })?;
            let bound = listener
                .local_addr()
                .map_err(|source| ServerError::Bind { addr, source })?;
            let task = tokio::spawn(metrics::serve(listener, state.metrics.clone()));
            (Some(bound), Some(task))
        }
    };

    let store = keys.clone();
    let authenticate = move |mut request: Request<()>| -> Result<Request<()>, Status> {
        let partner = match &store {
            None => Partner::developer(),
            Some(store) => {
                let header = request
                    .metadata()
                    .get("authorization")
                    .and_then(|v| v.to_str().ok());
                store.authenticate(header).map_err(|e| match e {
                    auth::AuthError::Unauthenticated(m) => Status::unauthenticated(m),
                    auth::AuthError::KeysUnavailable(m) => Status::unavailable(m),
                })?
            }
        };
        request.extensions_mut().insert(partner);
        Ok(request)
    };

    let max = config.max_message_bytes;
    let catalogue =
        pb::catalogue_server::CatalogueServer::new(service::CatalogueService(state.clone()))
            .max_decoding_message_size(max)
            .max_encoding_message_size(max);
    let analysis =
        pb::analysis_server::AnalysisServer::new(service::AnalysisService(state.clone()))
            .max_decoding_message_size(max)
            .max_encoding_message_size(max);
    let spend = pb::spend_server::SpendServer::new(spend::SpendService(state.clone()))
        .max_decoding_message_size(max)
        .max_encoding_message_size(max);
    let ingest = pb::ingest_server::IngestServer::new(ingest::IngestService::new(
        state,
        ingest::UploadLimits {
            max_bytes: config.max_upload_bytes,
            max_decompressed_bytes: config.max_upload_decompressed_bytes,
            max_files: config.max_upload_files.max(1),
        },
    ))
    .max_decoding_message_size(max)
    .max_encoding_message_size(max);

    let (health_reporter, health) = tonic_health::server::health_reporter();
    health_reporter
        .set_serving::<pb::catalogue_server::CatalogueServer<service::CatalogueService>>()
        .await;
    health_reporter
        .set_serving::<pb::analysis_server::AnalysisServer<service::AnalysisService>>()
        .await;
    health_reporter
        .set_serving::<pb::spend_server::SpendServer<spend::SpendService>>()
        .await;
    health_reporter
        .set_serving::<pb::ingest_server::IngestServer<ingest::IngestService>>()
        .await;
    // Both reflection versions: grpcurl and Postman speak v1, Python's grpcio-reflection v1alpha.
    let reflection = || {
        tonic_reflection::server::Builder::configure()
            .register_encoded_file_descriptor_set(pb::FILE_DESCRIPTOR_SET)
            .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
    };
    let reflection_v1 = reflection()
        .build_v1()
        .map_err(|e| ServerError::Reflection(e.to_string()))?;
    let reflection_v1alpha = reflection()
        .build_v1alpha()
        .map_err(|e| ServerError::Reflection(e.to_string()))?;

    let listener = tokio::net::TcpListener::bind(config.addr)
        .await
        .map_err(|source| ServerError::Bind {
            addr: config.addr,
            source,
        })?;
    let addr = listener.local_addr().map_err(|source| ServerError::Bind {
        addr: config.addr,
        source,
    })?;
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let mut builder = Server::builder();
    match (&config.tls_cert, &config.tls_key) {
        (None, None) => {}
        (Some(cert), Some(key)) => {
            let read = |p: &PathBuf| {
                std::fs::read(p).map_err(|e| ServerError::Config(format!("{}: {e}", p.display())))
            };
            let identity = tonic::transport::Identity::from_pem(read(cert)?, read(key)?);
            builder = builder
                .tls_config(tonic::transport::ServerTlsConfig::new().identity(identity))
                .map_err(|e| ServerError::Config(format!("TLS: {e}")))?;
        }
        _ => {
            return Err(ServerError::Config(
                "TLS needs both tls_cert and tls_key".into(),
            ));
        }
    }
    let secs = |s: u64| (s > 0).then(|| Duration::from_secs(s));
    if let Some(age) = secs(config.max_connection_age_secs) {
        builder = builder
            .max_connection_age(age)
            .max_connection_age_grace(Duration::from_secs(config.max_connection_age_grace_secs));
    }
    let router = builder
        .accept_http1(true)
        .timeout(timeout)
        .max_concurrent_streams(config.max_concurrent_streams.max(1))
        .http2_max_header_list_size(config.max_header_list_bytes)
        .http2_keepalive_interval(secs(config.keepalive_interval_secs))
        .http2_keepalive_timeout(Some(Duration::from_secs(
            config.keepalive_timeout_secs.max(1),
        )))
        .layer(cors(&config.cors_origins))
        .layer(tonic_web::GrpcWebLayer::new())
        .add_service(health)
        .add_service(reflection_v1)
        .add_service(reflection_v1alpha)
        .add_service(InterceptedService::new(catalogue, authenticate.clone()))
        .add_service(InterceptedService::new(analysis, authenticate.clone()))
        .add_service(InterceptedService::new(spend, authenticate.clone()))
        .add_service(InterceptedService::new(ingest, authenticate.clone()))
        .add_service(InterceptedService::new(
            arrow_flight::flight_service_server::FlightServiceServer::new(flight_sql)
                .max_decoding_message_size(max)
                .max_encoding_message_size(max),
            authenticate,
        ));
    // serve_with_incoming ignores the builder's TCP settings, so the accepted sockets get them
    // here: no Nagle delay (a small answer otherwise waits for the client's delayed ACK,
    // ~40 ms), and TCP keepalive to find peers that vanished.
    let incoming = limits::limit_connections(
        tonic::transport::server::TcpIncoming::from(listener)
            .with_nodelay(Some(true))
            .with_keepalive(Some(Duration::from_secs(60))),
        config.max_connections,
    );
    let task = tokio::spawn(async move {
        router
            .serve_with_incoming_shutdown(incoming, async {
                let _ = rx.await;
            })
            .await
    });
    tracing::info!(%addr, "serving");
    Ok(Running {
        addr,
        metrics_addr,
        http_addr,
        keys,
        metrics_task,
        http_task,
        sighup_task,
        shutdown: Some(tx),
        task,
    })
}

fn cors(origins: &[String]) -> tower_http::cors::CorsLayer {
    use tower_http::cors::{AllowOrigin, Any, CorsLayer};
    let layer = CorsLayer::new()
        .allow_headers(Any)
        .allow_methods([::http::Method::POST, ::http::Method::OPTIONS])
        .expose_headers([
            ::http::HeaderName::from_static("grpc-status"),
            ::http::HeaderName::from_static("grpc-message"),
        ]);
    if origins.iter().any(|o| o == "*") {
        return layer.allow_origin(Any);
    }
    let list: Vec<::http::HeaderValue> = origins
        .iter()
        .filter_map(|o| ::http::HeaderValue::from_str(o).ok())
        .collect();
    layer.allow_origin(AllowOrigin::list(list))
}

/// CORS for the HTTP feed: the same origins as grpc-web, reading only (GET), with the headers
/// a dashboard page needs to see (ETag, dataset versions, Retry-After).
fn feed_cors(origins: &[String]) -> tower_http::cors::CorsLayer {
    use tower_http::cors::{AllowOrigin, Any, CorsLayer};
    let layer = CorsLayer::new()
        .allow_headers([
            ::http::header::AUTHORIZATION,
            ::http::header::ACCEPT,
            ::http::header::IF_NONE_MATCH,
        ])
        .allow_methods([::http::Method::GET, ::http::Method::OPTIONS])
        .expose_headers([
            ::http::header::ETAG,
            ::http::header::RETRY_AFTER,
            ::http::HeaderName::from_static("x-renewal-datasets"),
        ]);
    if origins.iter().any(|o| o == "*") {
        return layer.allow_origin(Any);
    }
    let list: Vec<::http::HeaderValue> = origins
        .iter()
        .filter_map(|o| ::http::HeaderValue::from_str(o).ok())
        .collect();
    layer.allow_origin(AllowOrigin::list(list))
}
