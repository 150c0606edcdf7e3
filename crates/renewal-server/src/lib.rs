//! Renewal's gRPC service: the query engine for partners (LSP analysts, ETL jobs, dashboards).
//!
//! - Services `renewal.v1.Catalogue` and `renewal.v1.Analysis` (proto/renewal/v1/), plus the
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
//! - Limits: queries at once (RESOURCE_EXHAUSTED beyond), per-request deadline (the smaller of
//!   the client's `grpc-timeout` and the configured one; for Flight SQL it covers the whole
//!   result stream), DataFusion memory, message sizes.

pub mod auth;
mod convert;
pub mod flight;
mod metrics;
mod service;

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
pub use service::to_status;

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
    pub max_concurrent_queries: usize,
    pub request_timeout_secs: u64,
    /// DataFusion memory for sorts, joins and aggregates: per question for gRPC, one pool
    /// shared by every Flight SQL query at once.
    pub memory_limit_mb: usize,
    pub max_message_bytes: usize,
    /// Browser origins allowed to call over grpc-web (`*` for any); none by default.
    pub cors_origins: Vec<String>,
    /// Counts below this, and values derived from them, are withheld.
    pub disclosure_threshold: f64,
    /// Where to serve Prometheus metrics (`GET /metrics`, plain HTTP); none by default.
    pub metrics_addr: Option<SocketAddr>,
    /// PEM certificate chain and private key: serve gRPC, grpc-web and Flight SQL over TLS.
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
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
            cors_origins: Vec::new(),
            disclosure_threshold: renewal_query::DEFAULT_DISCLOSURE_THRESHOLD,
            metrics_addr: None,
            tls_cert: None,
            tls_key: None,
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
    /// The accepted keys (none in development mode).
    keys: Option<Arc<KeyStore>>,
    metrics_task: Option<tokio::task::JoinHandle<()>>,
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
pub async fn start(engine: Engine, config: &ServerConfig) -> Result<Running, ServerError> {
    if config.dev && !config.addr.ip().is_loopback() {
        return Err(ServerError::Config(format!(
            "development mode (no authentication) only binds to loopback, not {}",
            config.addr
        )));
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
    let engine = Arc::new(engine.with_disclosure_threshold(config.disclosure_threshold));
    let state = Arc::new(service::State::new(engine, config.max_concurrent_queries));
    let timeout = Duration::from_secs(config.request_timeout_secs.max(1));
    let flight_sql = flight::FlightSql::new(
        warehouse,
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
            Some(tokio::spawn(async move {
                while hangups.recv().await.is_some() {
                    // reload logs its own outcome.
                    let _ = store.reload();
                }
            }))
        }
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
    let analysis = pb::analysis_server::AnalysisServer::new(service::AnalysisService(state))
        .max_decoding_message_size(max)
        .max_encoding_message_size(max);

    let (health_reporter, health) = tonic_health::server::health_reporter();
    health_reporter
        .set_serving::<pb::catalogue_server::CatalogueServer<service::CatalogueService>>()
        .await;
    health_reporter
        .set_serving::<pb::analysis_server::AnalysisServer<service::AnalysisService>>()
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
    let router = builder
        .accept_http1(true)
        .timeout(timeout)
        .layer(cors(&config.cors_origins))
        .layer(tonic_web::GrpcWebLayer::new())
        .add_service(health)
        .add_service(reflection_v1)
        .add_service(reflection_v1alpha)
        .add_service(InterceptedService::new(catalogue, authenticate.clone()))
        .add_service(InterceptedService::new(analysis, authenticate.clone()))
        .add_service(InterceptedService::new(
            arrow_flight::flight_service_server::FlightServiceServer::new(flight_sql)
                .max_decoding_message_size(max)
                .max_encoding_message_size(max),
            authenticate,
        ));
    let incoming = tokio_stream::wrappers::TcpListenerStream::new(listener);
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
        keys,
        metrics_task,
        sighup_task,
        shutdown: Some(tx),
        task,
    })
}

fn cors(origins: &[String]) -> tower_http::cors::CorsLayer {
    use tower_http::cors::{AllowOrigin, Any, CorsLayer};
    let layer = CorsLayer::new()
        .allow_headers(Any)
        .allow_methods([http::Method::POST, http::Method::OPTIONS])
        .expose_headers([
            http::HeaderName::from_static("grpc-status"),
            http::HeaderName::from_static("grpc-message"),
        ]);
    if origins.iter().any(|o| o == "*") {
        return layer.allow_origin(Any);
    }
    let list: Vec<http::HeaderValue> = origins
        .iter()
        .filter_map(|o| http::HeaderValue::from_str(o).ok())
        .collect();
    layer.allow_origin(AllowOrigin::list(list))
}
