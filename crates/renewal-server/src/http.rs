//! The HTTP feed for dashboards: read-only JSON and CSV under `/api/v1/`, on its own listener
//! (`http_addr`), mirroring the gRPC questions.
//!
//! Each handler reads its query string into the same `pb::…Request` a gRPC client would send
//! and runs it through the same transport-neutral question function as the gRPC method
//! (`service::area_gap`, …), so argument checks, scopes, the concurrency slots, metrics (under
//! the gRPC method's name) and disclosure control are those of gRPC by construction. What is
//! HTTP's own:
//!
//! - keys as `Authorization: Bearer <key>` or `?key=` (for tools that can only put a key in
//!   a URL; the key is never logged, and never part of the ETag);
//! - an unknown query parameter is 400 naming it, so a typo cannot silently change an answer;
//! - rendering with `renewal_query::render` (the CLI's own `--format json` / `csv` bytes);
//! - `ETag` from the request, format, the warehouse's current versions, the key's scope and the
//!   disclosure threshold, so `If-None-Match` is answered 304 before the question runs;
//! - status codes from gRPC codes in one place ([`http_status`]).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{RawQuery, State as AxumState};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use renewal_query::{Answer, Basis, ColumnKind};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use tonic::Status;
use utoipa::{IntoParams, OpenApi, ToSchema};

use crate::auth::{AuthError, KeyStore, Partner};
use crate::pb;
use crate::service::{self, State};

/// Everything an HTTP handler needs: the shared question state, the keys, and the settings
/// that enter the ETag or the headers. Cheap to clone.
#[derive(Clone)]
pub struct Feed {
    state: Arc<State>,
    /// `None` in development mode (no keys, loopback only).
    keys: Option<Arc<KeyStore>>,
    cache_control: HeaderValue,
    disclosure_threshold: f64,
    timeout: Duration,
    /// SHA-256 of the indicator definitions the server was started with: answers change when
    /// a restart brings new definitions, so ETags must too.
    catalog_digest: [u8; 32],
    /// The `X-Renewal-Datasets` value last sent with each ETag, so a 304 can repeat it
    /// without running the question (bounded; see [`DatasetsByTag`]).
    datasets_by_tag: Arc<DatasetsByTag>,
}

/// ETag → the dataset versions its answer used. A 304 answers without running the question,
/// so without this it could not say which datasets the cached copy rests on. Entries are
/// only ever added when a 200 with that ETag is sent; the map is cleared when it reaches
/// [`DatasetsByTag::CAPACITY`] entries, after which a 304 omits the header until the next
/// 200 for that tag (the ETag itself still names the versions).
#[derive(Debug, Default)]
struct DatasetsByTag(std::sync::Mutex<std::collections::HashMap<String, HeaderValue>>);

impl DatasetsByTag {
    const CAPACITY: usize = 4096;

    fn remember(&self, tag: &str, datasets: &HeaderValue) {
        let mut map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() >= Self::CAPACITY && !map.contains_key(tag) {
            map.clear();
        }
        map.insert(tag.to_owned(), datasets.clone());
    }

    fn recall(&self, tag: &str) -> Option<HeaderValue> {
        let map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        map.get(tag).cloned()
    }
}

impl Feed {
    pub(crate) fn new(
        state: Arc<State>,
        keys: Option<Arc<KeyStore>>,
        cache_control: &str,
        disclosure_threshold: f64,
        timeout: Duration,
    ) -> Result<Feed, String> {
        let cache_control = HeaderValue::from_str(cache_control)
            .map_err(|e| format!("http_cache_control {cache_control:?}: {e}"))?;
        let mut digest = Sha256::new();
        for d in state.engine.indicators() {
            digest.update(serde_json::to_vec(d).map_err(|e| e.to_string())?);
            digest.update(b"\n");
        }
        Ok(Feed {
            state,
            keys,
            cache_control,
            disclosure_threshold,
            timeout,
            catalog_digest: digest.finalize().into(),
            datasets_by_tag: Arc::default(),
        })
    }

    /// The partner a request speaks for: the bearer key, else `?key=`, against the keys file
    /// as it is now (the same [`KeyStore`] as gRPC, reloads included); development mode's
    /// partner when the server has no keys.
    pub fn partner(
        &self,
        headers: &HeaderMap,
        query_key: Option<&str>,
    ) -> Result<Partner, ApiError> {
        let Some(store) = &self.keys else {
            return Ok(Partner::developer());
        };
        let header = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
            .or_else(|| query_key.map(|k| format!("Bearer {k}")));
        store.authenticate(header.as_deref()).map_err(|e| match e {
            AuthError::Unauthenticated(m) => {
                ApiError(Status::unauthenticated(format!("{m} (or ?key=<key>)")))
            }
            AuthError::KeysUnavailable(m) => ApiError(Status::unavailable(m)),
        })
    }
}

/// A refusal, as a gRPC status: rendered with [`http_status`] and a JSON body
/// `{"error": {"code": "INVALID_ARGUMENT", "message": "…"}}`.
#[derive(Debug)]
pub struct ApiError(pub Status);

impl From<Status> for ApiError {
    fn from(s: Status) -> ApiError {
        ApiError(s)
    }
}

/// The HTTP status of a gRPC code, following Google's published mapping for HTTP/JSON APIs
/// (google.rpc.Code), written once for every HTTP route.
pub fn http_status(code: tonic::Code) -> StatusCode {
    use tonic::Code;
    match code {
        Code::Ok => StatusCode::OK,
        Code::InvalidArgument | Code::FailedPrecondition | Code::OutOfRange => {
            StatusCode::BAD_REQUEST
        }
        Code::Unauthenticated => StatusCode::UNAUTHORIZED,
        Code::PermissionDenied => StatusCode::FORBIDDEN,
        Code::NotFound => StatusCode::NOT_FOUND,
        Code::AlreadyExists | Code::Aborted => StatusCode::CONFLICT,
        Code::ResourceExhausted => StatusCode::TOO_MANY_REQUESTS,
        // 499 "client closed request" is nginx's, not standard; a cancelled call is the
        // server's deadline here (as tonic reports it), so it is a gateway timeout.
        Code::Cancelled | Code::DeadlineExceeded => StatusCode::GATEWAY_TIMEOUT,
        Code::Unimplemented => StatusCode::NOT_IMPLEMENTED,
        Code::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        Code::Unknown | Code::Internal | Code::DataLoss => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// gRPC's code names as the JSON error body spells them (`INVALID_ARGUMENT`).
fn code_name(code: tonic::Code) -> String {
    let debug = format!("{code:?}");
    let mut out = String::new();
    for (i, c) in debug.chars().enumerate() {
        if c.is_uppercase() && i > 0 {
            out.push('_');
        }
        out.push(c.to_ascii_uppercase());
    }
    out
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.0;
        let code = http_status(status.code());
        let body = serde_json::json!({
            "error": {"code": code_name(status.code()), "message": status.message()}
        });
        let mut response = (code, axum::Json(body)).into_response();
        let headers = response.headers_mut();
        if code == StatusCode::UNAUTHORIZED {
            headers.insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"renewal\""),
            );
        }
        // The slots' refusal carries gRPC's retry pushback; HTTP says it in whole seconds.
        if let Some(ms) = status
            .metadata()
            .get("grpc-retry-pushback-ms")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok())
        {
            headers.insert(
                header::RETRY_AFTER,
                HeaderValue::from(ms.div_ceil(1000).max(1)),
            );
        }
        response
    }
}

/// The feed's routes (and `extra`, merged beside them with the [`Feed`] as their state: the
/// map and the dashboard pages are added here, and use [`Feed::partner`] and [`ApiError`] to
/// authenticate and refuse exactly as the feed does).
pub fn router(feed: Feed, extra: Router<Feed>) -> Router {
    Router::new()
        .route("/api/v1/openapi.json", get(openapi))
        .route("/api/v1/datasets", get(datasets))
        .route("/api/v1/indicators", get(indicators))
        .route("/api/v1/areas", get(areas))
        .route("/api/v1/vintages", get(vintages))
        .route("/api/v1/gap", get(gap))
        .route("/api/v1/map", get(map))
        .route("/api/v1/gap-vs-england", get(gap_vs_england))
        .route("/api/v1/versus", get(versus))
        .route("/api/v1/trend", get(trend))
        .route("/api/v1/target-status", get(target_status))
        .route("/api/v1/priority", get(priority))
        .route("/api/v1/profile", get(profile))
        .route("/api/v1/similar", get(similar))
        .merge(extra)
        .fallback(|| async {
            ApiError(Status::not_found(
                "no such path; /api/v1/openapi.json lists the feed",
            ))
        })
        .with_state(feed)
}

// ---------------------------------------------------------------------------------------
// Parameters

/// How an answer is rendered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// `{"basis": …, "notes": […], "rows": […]}`, as `renewal <question> --format json`.
    Json,
    /// The CLI's CSV: a header of the answer's columns, one line per row.
    Csv,
}

/// Parameters every endpoint takes.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)] // read from the pairs directly; the struct documents them
pub struct CommonParams {
    /// The API key, for tools that cannot send an `Authorization: Bearer` header. URLs end up
    /// in browser histories, proxy and server logs: prefer the header.
    key: Option<String>,
    /// `json` (default) or `csv`; `Accept: text/csv` also asks for CSV.
    format: Option<Format>,
}

/// How areas are built: the CLI's `--ward-vintage`, `--bridge-weights` and `--at`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ScopeParams {
    /// Ward vintage to build wards in (e.g. `WD19`); by default the lookup that fits the data.
    ward_vintage: Option<String>,
    /// Population to apportion split LSOAs by when data are answered on the other LSOA
    /// vintage, e.g. `population-census2021-lsoa21`.
    bridge_weights: Option<String>,
    /// A dataset version instead of the current one, `DATASET=VERSION`; repeatable.
    #[serde(default)]
    at: Vec<String>,
}

/// Area level.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum LevelParam {
    Lsoa,
    Ward,
    Neighbourhood,
    Lad,
}

impl LevelParam {
    fn pb(self) -> i32 {
        (match self {
            LevelParam::Lsoa => pb::Level::Lsoa,
            LevelParam::Ward => pb::Level::Ward,
            LevelParam::Neighbourhood => pb::Level::Neighbourhood,
            LevelParam::Lad => pb::Level::Lad,
        }) as i32
    }
}

fn level(l: Option<LevelParam>) -> i32 {
    l.map_or(pb::Level::Unspecified as i32, LevelParam::pb)
}

/// What an area is compared with.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum BenchmarkParam {
    Authority,
    England,
}

/// No parameters beyond `key` and `format`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct NoParams {}

/// `GET /api/v1/areas` (ListAreas).
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AreasParams {
    /// Indicator id (`/api/v1/indicators` lists them).
    #[param(required = true)]
    indicator: Option<String>,
    /// Areas of this level (default `ward`).
    level: Option<LevelParam>,
}

/// `GET /api/v1/gap` (AreaGap).
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct GapParams {
    /// Indicator id.
    #[param(required = true)]
    indicator: Option<String>,
    /// Period label (e.g. `2021-01`, `2019-20`); the latest by default.
    period: Option<String>,
    /// Only areas of this local authority; all of England by default (keys limited to some
    /// authorities must name one).
    authority: Option<String>,
    /// Areas of this level (default `ward`).
    level: Option<LevelParam>,
    /// Compare with the area's authority (default) or with England.
    benchmark: Option<BenchmarkParam>,
}

/// `GET /api/v1/gap-vs-england` (GapVsEngland).
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct GapVsEnglandParams {
    /// Indicator id.
    #[param(required = true)]
    indicator: Option<String>,
    /// Period label; the latest by default.
    period: Option<String>,
    /// Only areas of this local authority.
    authority: Option<String>,
    /// Areas of this level (default `ward`).
    level: Option<LevelParam>,
}

/// `GET /api/v1/versus` (DeprivedVsRest).
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct VersusParams {
    /// Indicator id.
    #[param(required = true)]
    indicator: Option<String>,
    /// Period label; the latest by default.
    period: Option<String>,
    /// The local authority.
    #[param(required = true)]
    authority: Option<String>,
    /// Which areas: `imd-decile<=N`, `areas:CODE,CODE…` or `neighbourhood:ID`.
    #[param(required = true)]
    select: Option<String>,
}

/// `GET /api/v1/trend` (NarrowingTheGap).
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct TrendParams {
    /// Indicator id.
    #[param(required = true)]
    indicator: Option<String>,
    /// The local authority.
    #[param(required = true)]
    authority: Option<String>,
    /// Which areas: `imd-decile<=N`, `areas:CODE,CODE…` or `neighbourhood:ID`.
    #[param(required = true)]
    select: Option<String>,
}

/// `GET /api/v1/target-status` (TargetStatus).
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct TargetStatusParams {
    /// Only this target; every target the key may read by default.
    id: Option<String>,
}

/// `GET /api/v1/priority` (PriorityNeighbourhoods).
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct PriorityParams {
    /// IoD edition: a year or `newest`; by default the edition `editions.toml` names.
    edition: Option<String>,
    /// `imd` (default) or a domain (`income`, `health`, …).
    domain: Option<String>,
    /// The most deprived percent nationally (default 10).
    #[param(value_type = Option<f64>)]
    percent: Option<String>,
    /// Only this local authority.
    authority: Option<String>,
    /// Only pockets: deprived LSOAs in authorities outside the most deprived percent.
    #[param(value_type = Option<bool>)]
    pockets_only: Option<String>,
}

/// `GET /api/v1/profile` (AreaProfile).
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ProfileParams {
    /// A ward, LSOA, neighbourhood or authority code.
    #[param(required = true)]
    area: Option<String>,
}

/// `GET /api/v1/similar` (MostSimilar).
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct SimilarParams {
    /// The area to compare with.
    #[param(required = true)]
    area: Option<String>,
    /// Areas of this level (default `ward`).
    level: Option<LevelParam>,
    /// Indicators to compare on, comma-separated.
    #[param(required = true)]
    indicators: Option<String>,
    /// How many areas (default 5).
    #[param(value_type = Option<u32>)]
    k: Option<String>,
}

/// `GET /api/v1/map`: the gap question as GeoJSON.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct MapParams {
    /// Indicator id.
    #[param(required = true)]
    indicator: Option<String>,
    /// Period label; the latest by default.
    period: Option<String>,
    /// The local authority whose areas are drawn.
    #[param(required = true)]
    authority: Option<String>,
    /// `ward` (default) or `lsoa`.
    level: Option<LevelParam>,
    /// Compare with the area's authority (default) or with England.
    benchmark: Option<BenchmarkParam>,
    /// Simplify shapes for the web: Visvalingam–Whyatt, removing vertices whose triangle with
    /// their neighbours is under `simplify`² square metres. By default every vertex is kept.
    #[param(value_type = Option<f64>)]
    simplify: Option<String>,
    /// Decimal places of longitude and latitude (default 6, at most 15).
    #[param(value_type = Option<u8>)]
    precision: Option<String>,
}

/// A request's query string, read and checked.
struct Query<P> {
    params: P,
    scope: pb::Scope,
    format: Format,
    key: Option<String>,
    /// Every pair except `key`, sorted: what the ETag and the log see.
    normalised: String,
}

fn bad(message: impl Into<String>) -> ApiError {
    ApiError(Status::invalid_argument(message.into()))
}

/// Reads the query string: `key` and `format` taken out, the scope parameters (when the
/// endpoint takes them) read into a `pb::Scope`, the rest into `P`, which refuses any name it
/// does not declare.
fn read_query<P: serde::de::DeserializeOwned>(
    raw: Option<&str>,
    headers: &HeaderMap,
    takes_scope: bool,
) -> Result<Query<P>, ApiError> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(raw.unwrap_or(""))
        .map_err(|e| bad(format!("query string: {e}")))?;
    let mut key = None;
    let mut format = None;
    let mut scope = serde_json::Map::new();
    let mut rest = serde_json::Map::new();
    let mut at = Vec::new();
    let mut kept = Vec::new();
    for (name, value) in pairs {
        if name != "key" {
            kept.push((name.clone(), value.clone()));
        }
        let target = match name.as_str() {
            "key" => {
                if key.replace(value).is_some() {
                    return Err(bad("key: given more than once"));
                }
                continue;
            }
            "format" => {
                let f = serde_json::from_value(serde_json::Value::String(value.clone()))
                    .map_err(|_| bad(format!("format: {value:?} is not json or csv")))?;
                if format.replace(f).is_some() {
                    return Err(bad("format: given more than once"));
                }
                continue;
            }
            "at" if takes_scope => {
                at.push(serde_json::Value::String(value));
                continue;
            }
            "ward_vintage" | "bridge_weights" if takes_scope => &mut scope,
            _ => &mut rest,
        };
        if target
            .insert(name.clone(), serde_json::Value::String(value))
            .is_some()
        {
            return Err(bad(format!("{name}: given more than once")));
        }
    }
    if !at.is_empty() {
        scope.insert("at".into(), serde_json::Value::Array(at));
    }
    let scope: ScopeParams = from_map(scope)?;
    let params: P = from_map(rest)?;
    let mut pins = std::collections::HashMap::new();
    for pin in &scope.at {
        let (id, v) = pin
            .split_once('=')
            .ok_or_else(|| bad(format!("at: {pin:?}: expected DATASET=VERSION")))?;
        let v: u64 = v
            .parse()
            .map_err(|_| bad(format!("at: {pin:?}: version must be a whole number")))?;
        pins.insert(id.to_owned(), v);
    }
    let format = format.unwrap_or_else(|| {
        let wants_csv = headers
            .get_all(header::ACCEPT)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .any(|v| v.split(',').any(|t| t.trim().starts_with("text/csv")));
        if wants_csv { Format::Csv } else { Format::Json }
    });
    kept.sort();
    let normalised = serde_urlencoded::to_string(&kept).unwrap_or_default();
    Ok(Query {
        params,
        scope: pb::Scope {
            ward_vintage: scope.ward_vintage.unwrap_or_default(),
            pins,
            bridge_weights: scope.bridge_weights.unwrap_or_default(),
        },
        format,
        key,
        normalised,
    })
}

/// Deserialises string-valued parameters into `P`, naming the parameter in any error.
fn from_map<P: serde::de::DeserializeOwned>(
    map: serde_json::Map<String, serde_json::Value>,
) -> Result<P, ApiError> {
    serde_path_to_error::deserialize(serde_json::Value::Object(map)).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner().to_string();
        // serde says "field"; these are query parameters.
        let inner = inner.replace("unknown field", "unknown query parameter");
        if path == "." {
            bad(inner)
        } else {
            bad(format!("{path}: {inner}"))
        }
    })
}

fn parse_number<T: std::str::FromStr>(name: &str, v: Option<&str>) -> Result<Option<T>, ApiError> {
    v.map(|v| {
        v.trim()
            .parse()
            .map_err(|_| bad(format!("{name}: {v:?} is not a number")))
    })
    .transpose()
}

fn parse_flag(name: &str, v: Option<&str>) -> Result<bool, ApiError> {
    match v.map(str::trim) {
        None | Some("false") | Some("0") => Ok(false),
        Some("true") | Some("1") | Some("") => Ok(true),
        Some(other) => Err(bad(format!("{name}: {other:?} is not true or false"))),
    }
}

// ---------------------------------------------------------------------------------------
// Answering

/// The ETag of a request against the warehouse as it is now: SHA-256 over the path, the
/// normalised query (without `key`), the format, every dataset's current version (pins are in
/// the query), the key's scope (authorities and datasets, not the key), the disclosure
/// threshold and the indicator definitions.
fn etag(
    feed: &Feed,
    path: &str,
    q: &str,
    format: Format,
    versions: &BTreeMap<String, u64>,
    p: &Partner,
) -> String {
    let mut h = Sha256::new();
    let mut line = |s: &str| {
        h.update(s.as_bytes());
        h.update(b"\n");
    };
    line("renewal-feed-etag-1");
    line(path);
    line(q);
    line(&format!("{format:?}"));
    for (d, v) in versions {
        line(&format!("{d}={v}"));
    }
    let mut authorities = p.authorities.clone();
    authorities.sort();
    let mut datasets = p.datasets.clone();
    datasets.sort();
    line(&format!("authorities={}", authorities.join(",")));
    line(&format!("datasets={}", datasets.join(",")));
    line(&format!("threshold={}", feed.disclosure_threshold));
    h.update(feed.catalog_digest);
    let digest = h.finalize();
    format!("\"{}\"", hex::encode(&digest[..16]))
}

/// Whether an `If-None-Match` header matches `tag` (weak comparison, as RFC 9110 asks for
/// `If-None-Match`).
fn matches(headers: &HeaderMap, tag: &str) -> bool {
    headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|t| t.trim())
        .any(|t| t == "*" || t.strip_prefix("W/").unwrap_or(t) == tag)
}

/// The one path every endpoint takes: authenticate, compute the ETag (304 without running the
/// question when it matches), run the question under the server's deadline, render it.
async fn respond<P, T, F, Fut>(
    (AxumState(feed), uri, headers, RawQuery(raw)): Parts,
    takes_scope: bool,
    name: &'static str,
    question: F,
) -> Response
where
    P: serde::de::DeserializeOwned,
    T: Reply,
    F: FnOnce(Feed, Partner, P, pb::Scope) -> Fut,
    Fut: std::future::Future<Output = Result<T, ApiError>>,
{
    let started = Instant::now();
    let path = uri.path().to_owned();
    let result: Result<_, ApiError> = async {
        let q: Query<P> = read_query(raw.as_deref(), &headers, takes_scope)?;
        let p = feed.partner(&headers, q.key.as_deref())?;
        let versions = || async {
            feed.state
                .engine
                .warehouse()
                .current_versions()
                .await
                .map_err(|e| ApiError(Status::unavailable(e.to_string())))
        };
        let before = versions().await?;
        let tag = etag(&feed, &path, &q.normalised, q.format, &before, &p);
        if matches(&headers, &tag) {
            return Ok((q.format, p, None, tag, true));
        }
        let answer = tokio::time::timeout(
            feed.timeout,
            question(feed.clone(), p.clone(), q.params, q.scope),
        )
        .await
        .map_err(|_| {
            ApiError(Status::deadline_exceeded(
                "the question took longer than the server allows",
            ))
        })??;
        // A publish between the ETag and the question would have the answer computed on
        // versions the ETag does not name; such an answer is sent without one.
        let after = versions().await?;
        let tag = if after == before { tag } else { String::new() };
        Ok((q.format, p, Some(answer), tag, false))
    }
    .await;
    let q_log = raw
        .as_deref()
        .and_then(|r| serde_urlencoded::from_str::<Vec<(String, String)>>(r).ok())
        .map(|pairs| {
            let kept: Vec<_> = pairs.into_iter().filter(|(k, _)| k != "key").collect();
            serde_urlencoded::to_string(kept).unwrap_or_default()
        })
        .unwrap_or_default();
    match result {
        Err(e) => {
            // The query is logged without `key`: keys never reach the logs.
            tracing::info!(%path, query = %q_log, code = ?e.0.code(), message = e.0.message(), "http refused");
            e.into_response()
        }
        Ok((format, p, answer, tag, not_modified)) => {
            let mut response = if not_modified {
                StatusCode::NOT_MODIFIED.into_response()
            } else {
                match answer.as_ref().map(|a| a.render(format, name)) {
                    Some(Ok(r)) => r,
                    Some(Err(e)) => return e.into_response(),
                    None => StatusCode::NOT_MODIFIED.into_response(),
                }
            };
            let success = response.status().is_success();
            let h = response.headers_mut();
            if !tag.is_empty() {
                if let Ok(v) = HeaderValue::from_str(&tag) {
                    h.insert(header::ETAG, v);
                }
                h.insert(header::CACHE_CONTROL, feed.cache_control.clone());
            } else {
                h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            }
            // Answers depend on the key and on Accept.
            h.insert(
                header::VARY,
                HeaderValue::from_static("Accept, Authorization"),
            );
            if let Some(a) = &answer {
                let datasets: Vec<String> = a
                    .basis()
                    .datasets
                    .iter()
                    .map(|(d, v)| format!("{d}={v}"))
                    .collect();
                if let Ok(v) = HeaderValue::from_str(&datasets.join(", ")) {
                    if !tag.is_empty() && success {
                        feed.datasets_by_tag.remember(&tag, &v);
                    }
                    h.insert("x-renewal-datasets", v);
                }
            } else if let Some(v) = feed.datasets_by_tag.recall(&tag) {
                h.insert("x-renewal-datasets", v);
            }
            tracing::info!(
                %path,
                query = %q_log,
                partner = %p.partner,
                status = response.status().as_u16(),
                elapsed_ms = started.elapsed().as_millis() as u64,
                "http answered"
            );
            response
        }
    }
}

/// What an endpoint sends: a table answer, or the gap map's GeoJSON.
trait Reply {
    /// The datasets and versions it was built from (`X-Renewal-Datasets`).
    fn basis(&self) -> &Basis;
    /// The response body in `format`.
    fn render(&self, format: Format, name: &str) -> Result<Response, ApiError>;
}

impl Reply for Answer {
    fn basis(&self) -> &Basis {
        &self.basis
    }
    fn render(&self, format: Format, name: &str) -> Result<Response, ApiError> {
        render(self, format, name)
    }
}

impl Reply for renewal_query::GapMap {
    fn basis(&self) -> &Basis {
        &self.basis
    }
    /// GeoJSON only: the same figures as CSV are `/api/v1/gap`'s.
    fn render(&self, format: Format, _name: &str) -> Result<Response, ApiError> {
        if format == Format::Csv {
            return Err(bad(
                "format: the map is GeoJSON only; /api/v1/gap gives the same rows as CSV",
            ));
        }
        let body = serde_json::to_vec(&self.document)
            .map_err(|e| ApiError(Status::internal(e.to_string())))?;
        let mut response = (StatusCode::OK, body).into_response();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/geo+json; charset=utf-8"),
        );
        Ok(response)
    }
}

/// The answer as the CLI renders it.
fn render(answer: &Answer, format: Format, name: &str) -> Result<Response, ApiError> {
    let internal =
        |e: renewal_query::render::RenderError| ApiError(Status::internal(e.to_string()));
    let mut body = Vec::new();
    let (content_type, disposition) = match format {
        Format::Json => {
            renewal_query::render::json_answer(
                &mut body,
                &answer.batches,
                &answer.basis,
                &answer.notes,
            )
            .map_err(internal)?;
            ("application/json; charset=utf-8", None)
        }
        Format::Csv => {
            renewal_query::render::csv(&mut body, &answer.batches).map_err(internal)?;
            (
                "text/csv; charset=utf-8; header=present",
                Some(format!("inline; filename=\"{name}.csv\"")),
            )
        }
    };
    let mut response = (StatusCode::OK, body).into_response();
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Some(d) = disposition.and_then(|d| HeaderValue::from_str(&d).ok()) {
        h.insert(header::CONTENT_DISPOSITION, d);
    }
    Ok(response)
}

fn empty_basis() -> Basis {
    Basis {
        datasets: BTreeMap::new(),
        method: String::new(),
        fit: renewal_geo::Fit::Exact,
        bridges: Vec::new(),
    }
}

fn table<T: serde::Serialize>(
    columns: &[(&str, ColumnKind)],
    rows: &[T],
) -> Result<Answer, ApiError> {
    renewal_query::answer_from_rows(columns, rows, empty_basis(), Vec::new())
        .map_err(|e| ApiError(Status::internal(e.to_string())))
}

fn text(s: Option<String>) -> String {
    s.unwrap_or_default()
}

// ---------------------------------------------------------------------------------------
// Handlers

/// Axum's extractors every handler takes.
type Parts = (AxumState<Feed>, Uri, HeaderMap, RawQuery);

/// The answer document (`format=json`).
#[derive(ToSchema)]
#[allow(dead_code)] // documents the JSON body
pub struct AnswerDocument {
    /// How the rows were built: `method`, `fit` (`exact` / `best-fit`), `datasets` (id →
    /// version) and `bridges` (data moved between LSOA vintages).
    #[schema(value_type = Object)]
    basis: serde_json::Value,
    /// Notes on the answer (missing data, estimates used, ranks left empty and why).
    notes: Vec<String>,
    /// One object per row, every column present; `null` where a figure is missing or
    /// withheld (withheld rows carry `suppressed` and `withheld`).
    #[schema(value_type = Vec<Object>)]
    rows: Vec<serde_json::Value>,
}

/// An error body.
#[derive(ToSchema)]
#[allow(dead_code)] // documents the JSON body
pub struct ErrorDocument {
    /// `{"code": "INVALID_ARGUMENT", "message": "indicator: required"}`
    #[schema(value_type = Object)]
    error: serde_json::Value,
}

macro_rules! feed_path {
    ($fn:ident, $path:literal, $summary:literal, $params:ty, $($scope:ty)?) => {
        #[utoipa::path(
            get,
            path = $path,
            summary = $summary,
            params(CommonParams, $($scope,)? $params),
            responses(
                (status = 200, description = "The answer: JSON (default) or the CLI's CSV",
                    body = AnswerDocument, content_type = "application/json",
                    headers(
                        ("ETag" = String, description = "Changes when the data, scope or request do"),
                        ("X-Renewal-Datasets" = String, description = "Dataset versions used: `id=v, …`"),
                    )),
                (status = 304, description = "Unchanged since the ETag in If-None-Match; the question was not run"),
                (status = 400, description = "A bad, repeated or unknown parameter (named)", body = ErrorDocument),
                (status = 401, description = "No key or an unknown key", body = ErrorDocument),
                (status = 403, description = "Outside the key's authorities or datasets", body = ErrorDocument),
                (status = 404, description = "Unknown indicator, area, period or target", body = ErrorDocument),
                (status = 429, description = "The server is at its concurrency limit; see Retry-After", body = ErrorDocument),
            ),
            security(("bearer" = []), ("key" = [])),
        )]
        #[allow(dead_code)]
        fn $fn() {}
    };
}

feed_path!(
    doc_datasets,
    "/api/v1/datasets",
    "Every version of every dataset the key may read (ListDatasets)",
    NoParams,
);
feed_path!(
    doc_indicators,
    "/api/v1/indicators",
    "The indicator catalogue (ListIndicators)",
    NoParams,
);
feed_path!(
    doc_vintages,
    "/api/v1/vintages",
    "The ward, LSOA and district vintages of the current lookups and boundary sets, and the IoD editions (which one is the default)",
    NoParams,
);
feed_path!(
    doc_areas,
    "/api/v1/areas",
    "Areas of an indicator's geography (ListAreas)",
    AreasParams,
    ScopeParams
);
feed_path!(
    doc_gap,
    "/api/v1/gap",
    "Every area against its authority or England (AreaGap)",
    GapParams,
    ScopeParams
);
/// The map's own description: its body is GeoJSON, not the answer document.
#[utoipa::path(
    get,
    path = "/api/v1/map",
    summary = "The gap question as GeoJSON: an authority's wards or LSOAs, each feature's properties its AreaGap row (withheld figures null and flagged), basis and notes as foreign members",
    params(CommonParams, ScopeParams, MapParams),
    responses(
        (status = 200, description = "A GeoJSON FeatureCollection (format=json only)",
            body = Object, content_type = "application/geo+json",
            headers(
                ("ETag" = String, description = "Changes when the data, scope or request do"),
                ("X-Renewal-Datasets" = String, description = "Dataset versions used, the boundaries included: `id=v, …`"),
            )),
        (status = 304, description = "Unchanged since the ETag in If-None-Match; the question was not run"),
        (status = 400, description = "A bad, repeated or unknown parameter (named), format=csv, or no boundaries of the answer's vintage in the warehouse (the message names the ingest command)", body = ErrorDocument),
        (status = 401, description = "No key or an unknown key", body = ErrorDocument),
        (status = 403, description = "Outside the key's authorities or datasets", body = ErrorDocument),
        (status = 404, description = "Unknown indicator, area or period", body = ErrorDocument),
        (status = 429, description = "The server is at its concurrency limit; see Retry-After", body = ErrorDocument),
    ),
    security(("bearer" = []), ("key" = [])),
)]
#[allow(dead_code)]
fn doc_map() {}

feed_path!(
    doc_gap_vs_england,
    "/api/v1/gap-vs-england",
    "Every area against England (GapVsEngland)",
    GapVsEnglandParams,
    ScopeParams
);
feed_path!(
    doc_versus,
    "/api/v1/versus",
    "A selection pooled against the rest of its authority (DeprivedVsRest)",
    VersusParams,
    ScopeParams
);
feed_path!(
    doc_trend,
    "/api/v1/trend",
    "Narrowing the gap: the selection against the rest, every period (NarrowingTheGap)",
    TrendParams,
    ScopeParams
);
feed_path!(
    doc_target_status,
    "/api/v1/target-status",
    "Registered targets' status (TargetStatus)",
    TargetStatusParams,
    ScopeParams
);
feed_path!(
    doc_priority,
    "/api/v1/priority",
    "Priority neighbourhoods and pockets (PriorityNeighbourhoods)",
    PriorityParams,
    ScopeParams
);
feed_path!(
    doc_profile,
    "/api/v1/profile",
    "Every indicator for one area (AreaProfile)",
    ProfileParams,
    ScopeParams
);
feed_path!(
    doc_similar,
    "/api/v1/similar",
    "The areas most similar to one area (MostSimilar)",
    SimilarParams,
    ScopeParams
);

struct Security;

impl utoipa::Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{
            ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme,
        };
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        components.add_security_scheme(
            "key",
            SecurityScheme::ApiKey(ApiKey::Query(ApiKeyValue::with_description(
                "key",
                "The key in the URL, for tools that cannot send headers. URLs are kept in logs and histories: prefer the bearer header.",
            ))),
        );
    }
}

/// The feed's OpenAPI 3.1 description, generated from the handlers' annotations.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Renewal HTTP feed",
        description = "Read-only JSON and CSV answers for dashboards, mirroring the gRPC API (renewal.v1). Same keys, scopes and disclosure control."
    ),
    paths(
        doc_datasets, doc_indicators, doc_vintages, doc_areas, doc_gap, doc_map, doc_gap_vs_england, doc_versus,
        doc_trend, doc_target_status, doc_priority, doc_profile, doc_similar
    ),
    components(schemas(AnswerDocument, ErrorDocument, Format, LevelParam, BenchmarkParam)),
    modifiers(&Security)
)]
pub struct ApiDoc;

async fn openapi() -> Response {
    match ApiDoc::openapi().to_pretty_json() {
        Ok(body) => {
            let mut r = (StatusCode::OK, body).into_response();
            r.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json; charset=utf-8"),
            );
            r
        }
        Err(e) => ApiError(Status::internal(e.to_string())).into_response(),
    }
}

async fn datasets(parts: Parts) -> Response {
    respond(
        parts,
        false,
        "datasets",
        |feed, p, _: NoParams, _| async move {
            let list = service::list_datasets(&feed.state, &p, pb::ListDatasetsRequest {}).await?;
            #[derive(serde::Serialize)]
            struct Row {
                dataset: String,
                version: u64,
                current: bool,
                kind: String,
                vintage: String,
                rows: u64,
                sources: u64,
                created_at: String,
            }
            let rows: Vec<Row> = list
                .datasets
                .into_iter()
                .map(|d| Row {
                    vintage: d
                        .vintage
                        .iter()
                        .collect::<BTreeMap<_, _>>()
                        .into_iter()
                        .map(|(k, v)| format!("{k}={v}"))
                        .collect::<Vec<_>>()
                        .join(" "),
                    dataset: d.dataset,
                    version: d.version,
                    current: d.current,
                    kind: d.kind,
                    rows: d.rows,
                    sources: d.sources.len() as u64,
                    created_at: d.created_at,
                })
                .collect();
            table(
                &[
                    ("dataset", ColumnKind::Text),
                    ("version", ColumnKind::Integer),
                    ("current", ColumnKind::Flag),
                    ("kind", ColumnKind::Text),
                    ("vintage", ColumnKind::Text),
                    ("rows", ColumnKind::Integer),
                    ("sources", ColumnKind::Integer),
                    ("created_at", ColumnKind::Text),
                ],
                &rows,
            )
        },
    )
    .await
}

async fn indicators(parts: Parts) -> Response {
    respond(
        parts,
        false,
        "indicators",
        |feed, p, _: NoParams, _| async move {
            let list =
                service::list_indicators(&feed.state, &p, pb::ListIndicatorsRequest {}).await?;
            #[derive(serde::Serialize)]
            struct Row {
                id: String,
                theme: String,
                value_type: String,
                unit: String,
                polarity: String,
                native_geography: String,
                title: String,
            }
            let rows: Vec<Row> = list
                .indicators
                .into_iter()
                .map(|i| Row {
                    id: i.id,
                    theme: i.theme,
                    value_type: i.value_type,
                    unit: i.unit,
                    polarity: i.polarity,
                    native_geography: i.native_geography,
                    title: i.title,
                })
                .collect();
            // The columns of `renewal indicators`.
            table(
                &[
                    ("id", ColumnKind::Text),
                    ("theme", ColumnKind::Text),
                    ("value_type", ColumnKind::Text),
                    ("unit", ColumnKind::Text),
                    ("polarity", ColumnKind::Text),
                    ("native_geography", ColumnKind::Text),
                    ("title", ColumnKind::Text),
                ],
                &rows,
            )
        },
    )
    .await
}

async fn areas(parts: Parts) -> Response {
    respond(
        parts,
        true,
        "areas",
        |feed, p, q: AreasParams, scope| async move {
            let r = pb::ListAreasRequest {
                indicator: text(q.indicator),
                level: level(q.level),
                scope: Some(scope),
            };
            Ok(service::list_areas(&feed.state, &p, r).await?)
        },
    )
    .await
}

async fn gap(parts: Parts) -> Response {
    respond(
        parts,
        true,
        "gap",
        |feed, p, q: GapParams, scope| async move {
            let r = gap_request(
                q.indicator,
                q.period,
                q.authority,
                q.level,
                q.benchmark,
                scope,
            );
            Ok(service::area_gap(&feed.state, &p, r).await?)
        },
    )
    .await
}

/// The gRPC request the gap and the map endpoints both send.
fn gap_request(
    indicator: Option<String>,
    period: Option<String>,
    authority: Option<String>,
    l: Option<LevelParam>,
    benchmark: Option<BenchmarkParam>,
    scope: pb::Scope,
) -> pb::GapRequest {
    pb::GapRequest {
        indicator: text(indicator),
        period: text(period),
        authority: text(authority),
        level: level(l),
        benchmark: match benchmark {
            None => pb::Benchmark::Unspecified,
            Some(BenchmarkParam::Authority) => pb::Benchmark::Authority,
            Some(BenchmarkParam::England) => pb::Benchmark::England,
        } as i32,
        scope: Some(scope),
    }
}

async fn map(parts: Parts) -> Response {
    respond(
        parts,
        true,
        "map",
        |feed, p, q: MapParams, scope| async move {
            let mut options = renewal_query::MapOptions {
                simplify_metres: parse_number("simplify", q.simplify.as_deref())?,
                ..Default::default()
            };
            if let Some(precision) = parse_number("precision", q.precision.as_deref())? {
                options.precision = precision;
            }
            let r = gap_request(
                q.indicator,
                q.period,
                q.authority,
                q.level,
                q.benchmark,
                scope,
            );
            Ok(service::gap_map(&feed.state, &p, r, options).await?)
        },
    )
    .await
}

async fn vintages(parts: Parts) -> Response {
    respond(
        parts,
        false,
        "vintages",
        |feed, p, _: NoParams, _| async move { Ok(service::list_vintages(&feed.state, &p).await?) },
    )
    .await
}

async fn gap_vs_england(parts: Parts) -> Response {
    respond(
        parts,
        true,
        "gap-vs-england",
        |feed, p, q: GapVsEnglandParams, scope| async move {
            let r = pb::GapRequest {
                indicator: text(q.indicator),
                period: text(q.period),
                authority: text(q.authority),
                level: level(q.level),
                scope: Some(scope),
                ..Default::default()
            };
            Ok(service::gap_vs_england(&feed.state, &p, r).await?)
        },
    )
    .await
}

async fn versus(parts: Parts) -> Response {
    respond(
        parts,
        true,
        "versus",
        |feed, p, q: VersusParams, scope| async move {
            let r = pb::SelectionRequest {
                indicator: text(q.indicator),
                period: text(q.period),
                authority: text(q.authority),
                selection: text(q.select),
                scope: Some(scope),
            };
            Ok(service::deprived_vs_rest(&feed.state, &p, r).await?)
        },
    )
    .await
}

async fn trend(parts: Parts) -> Response {
    respond(
        parts,
        true,
        "trend",
        |feed, p, q: TrendParams, scope| async move {
            let r = pb::TrendRequest {
                indicator: text(q.indicator),
                authority: text(q.authority),
                selection: text(q.select),
                scope: Some(scope),
            };
            Ok(service::narrowing_the_gap(&feed.state, &p, r).await?)
        },
    )
    .await
}

async fn target_status(parts: Parts) -> Response {
    respond(
        parts,
        true,
        "target-status",
        |feed, p, q: TargetStatusParams, scope| async move {
            let r = pb::TargetStatusRequest {
                id: text(q.id),
                scope: Some(scope),
            };
            Ok(service::target_status(&feed.state, &p, r).await?)
        },
    )
    .await
}

async fn priority(parts: Parts) -> Response {
    respond(
        parts,
        true,
        "priority",
        |feed, p, q: PriorityParams, scope| async move {
            let r = pb::PriorityRequest {
                edition: text(q.edition),
                domain: text(q.domain),
                percent: parse_number("percent", q.percent.as_deref())?.unwrap_or(0.0),
                authority: text(q.authority),
                pockets_only: parse_flag("pockets_only", q.pockets_only.as_deref())?,
                scope: Some(scope),
            };
            Ok(service::priority_neighbourhoods(&feed.state, &p, r).await?)
        },
    )
    .await
}

async fn profile(parts: Parts) -> Response {
    respond(
        parts,
        true,
        "profile",
        |feed, p, q: ProfileParams, scope| async move {
            let r = pb::ProfileRequest {
                area: text(q.area),
                scope: Some(scope),
            };
            Ok(service::area_profile(&feed.state, &p, r).await?)
        },
    )
    .await
}

async fn similar(parts: Parts) -> Response {
    respond(
        parts,
        true,
        "similar",
        |feed, p, q: SimilarParams, scope| async move {
            let r = pb::SimilarRequest {
                area: text(q.area),
                level: level(q.level),
                indicators: q
                    .indicators
                    .as_deref()
                    .unwrap_or("")
                    .split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
                    .collect(),
                k: parse_number("k", q.k.as_deref())?.unwrap_or(0),
                scope: Some(scope),
            };
            Ok(service::most_similar(&feed.state, &p, r).await?)
        },
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every gRPC code has its HTTP status, as Google's mapping gives it.
    #[test]
    fn status_mapping() {
        use tonic::Code;
        for (code, http) in [
            (Code::InvalidArgument, 400),
            (Code::FailedPrecondition, 400),
            (Code::Unauthenticated, 401),
            (Code::PermissionDenied, 403),
            (Code::NotFound, 404),
            (Code::ResourceExhausted, 429),
            (Code::Unavailable, 503),
            (Code::Internal, 500),
            (Code::DeadlineExceeded, 504),
        ] {
            assert_eq!(http_status(code).as_u16(), http, "{code:?}");
        }
        assert_eq!(code_name(Code::InvalidArgument), "INVALID_ARGUMENT");
        assert_eq!(code_name(Code::NotFound), "NOT_FOUND");
    }

    #[test]
    fn unknown_and_repeated_parameters_are_refused_by_name() {
        let h = HeaderMap::new();
        let e = read_query::<GapParams>(Some("indicator=x&autority=E08999001"), &h, true)
            .err()
            .unwrap();
        assert_eq!(e.0.code(), tonic::Code::InvalidArgument);
        assert!(e.0.message().contains("`autority`"), "{}", e.0.message());
        let e = read_query::<GapParams>(Some("indicator=x&indicator=y"), &h, true)
            .err()
            .unwrap();
        assert_eq!(e.0.message(), "indicator: given more than once");
        let e = read_query::<GapParams>(Some("indicator=x&level=county"), &h, true)
            .err()
            .unwrap();
        assert!(
            e.0.message().starts_with("level: unknown variant `county`"),
            "{}",
            e.0.message()
        );
        // Scope parameters belong only to endpoints that take them.
        let e = read_query::<NoParams>(Some("ward_vintage=WD19"), &h, false)
            .err()
            .unwrap();
        assert!(
            e.0.message().contains("`ward_vintage`"),
            "{}",
            e.0.message()
        );
    }

    #[test]
    fn the_normalised_query_has_no_key_and_a_fixed_order() {
        let h = HeaderMap::new();
        let a = read_query::<GapParams>(
            Some("key=secret&level=lsoa&indicator=x&at=b%3D2&at=a%3D1"),
            &h,
            true,
        )
        .unwrap();
        let b = read_query::<GapParams>(Some("at=a%3D1&indicator=x&at=b%3D2&level=lsoa"), &h, true)
            .unwrap();
        assert_eq!(a.normalised, b.normalised);
        assert!(!a.normalised.contains("secret"));
        assert_eq!(a.key.as_deref(), Some("secret"));
        assert_eq!(a.scope.pins.get("a"), Some(&1));
        assert_eq!(a.scope.pins.get("b"), Some(&2));
        assert_eq!(a.format, Format::Json);
        let mut csv = HeaderMap::new();
        csv.insert(header::ACCEPT, HeaderValue::from_static("text/csv"));
        assert_eq!(
            read_query::<NoParams>(None, &csv, false).unwrap().format,
            Format::Csv
        );
        assert_eq!(
            read_query::<NoParams>(Some("format=json"), &csv, false)
                .unwrap()
                .format,
            Format::Json
        );
    }

    #[test]
    fn if_none_match_lists_and_weak_tags_match() {
        let mut h = HeaderMap::new();
        h.insert(
            header::IF_NONE_MATCH,
            HeaderValue::from_static("\"other\", W/\"abc\""),
        );
        assert!(matches(&h, "\"abc\""));
        assert!(!matches(&h, "\"abd\""));
        assert!(!matches(&HeaderMap::new(), "\"abc\""));
    }
}
