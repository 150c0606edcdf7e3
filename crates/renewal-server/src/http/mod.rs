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
        .route("/api/v1/change", get(change))
        .route("/api/v1/spend", get(spend))
        .route("/api/v1/spend-years", get(spend_years))
        .route("/api/v1/lm3", get(lm3))
        .route("/api/v1/lpp", get(lpp))
        .merge(extra)
        .fallback(|| async {
            ApiError(Status::not_found(
                "no such path; /api/v1/openapi.json lists the feed",
            ))
        })
        .with_state(feed)
}

mod endpoints;
mod openapi;
mod params;

use endpoints::*;
use openapi::*;
use params::*;

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
        if format != Format::Json {
            return Err(bad(
                "format: the map is GeoJSON only; /api/v1/gap gives the same rows as CSV or XLSX",
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
        Format::Xlsx => {
            body = renewal_query::render::xlsx(
                &answer.batches,
                &answer.basis,
                &answer.notes,
                &format!("renewal feed: {name}"),
            )
            .map_err(internal)?;
            (
                XLSX_TYPE,
                Some(format!("attachment; filename=\"{name}.xlsx\"")),
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
