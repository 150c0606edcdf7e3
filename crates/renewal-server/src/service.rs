//! The gRPC services over the query engine: argument checks naming the field, scopes,
//! concurrency limit, and errors mapped to their proper gRPC codes.

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use futures::Stream;
use renewal_query::{
    Answer, AreaLevel, Benchmark, Engine, GapRequest, QueryError, Scope, Selection,
    SelectionRequest, TrendRequest,
};
use tokio::sync::Semaphore;
use tonic::{Request, Response, Status};

use crate::auth::Partner;
use crate::{convert, pb};

/// Milliseconds a refused client is asked to wait before retrying (`grpc-retry-pushback-ms`).
pub const RETRY_PUSHBACK_MS: u64 = 100;

pub type ChunkStream = Pin<Box<dyn Stream<Item = Result<pb::TableChunk, Status>> + Send>>;

/// Shared by both services.
pub struct State {
    pub engine: Arc<Engine>,
    /// Queries running at once; a request finding none free gets RESOURCE_EXHAUSTED.
    pub slots: Arc<Semaphore>,
    pub metrics: crate::metrics::Metrics,
    next_id: AtomicU64,
    /// Holds admitted queries (tests and drills); `None` in service.
    gate: Option<Arc<crate::QueryGate>>,
}

impl State {
    pub fn new(engine: Arc<Engine>, max_concurrent: usize) -> State {
        State {
            engine,
            slots: Arc::new(Semaphore::new(max_concurrent.max(1))),
            metrics: crate::metrics::Metrics::default(),
            next_id: AtomicU64::new(1),
            gate: None,
        }
    }

    /// Every admitted query waits at `gate`, holding its slot, until released.
    pub fn with_gate(mut self, gate: Option<Arc<crate::QueryGate>>) -> State {
        self.gate = gate;
        self
    }
}

/// The gRPC status of a query error.
pub fn to_status(e: QueryError) -> Status {
    match e {
        QueryError::InvalidArgument(m) => Status::invalid_argument(m),
        QueryError::NotFound(m) => Status::not_found(m),
        QueryError::Precondition(m) => Status::failed_precondition(m),
        QueryError::PermissionDenied(m) => Status::permission_denied(m),
        // The pool's refusal may come wrapped (context, a shared error from a spill or join
        // side): its root decides the code.
        QueryError::Engine(e)
            if matches!(
                e.find_root(),
                datafusion::error::DataFusionError::ResourcesExhausted(_)
            ) =>
        {
            Status::resource_exhausted(format!("query needs more memory than allowed: {e}"))
        }
        other => Status::internal(other.to_string()),
    }
}

pub(crate) fn partner<T>(request: &Request<T>) -> Result<Partner, Status> {
    request
        .extensions()
        .get::<Partner>()
        .cloned()
        .ok_or_else(|| Status::unauthenticated("no API key: send `authorization: Bearer <key>`"))
}

/// The caller, who must hold the write scope to `what`.
fn writer<T>(request: &Request<T>, what: &str) -> Result<Partner, Status> {
    let p = partner(request)?;
    if !p.write {
        return Err(Status::permission_denied(format!(
            "{} may not {what} (no write scope)",
            p.partner
        )));
    }
    Ok(p)
}

pub(crate) fn required(field: &str, value: &str) -> Result<(), Status> {
    if value.trim().is_empty() {
        return Err(Status::invalid_argument(format!("{field}: required")));
    }
    Ok(())
}

pub(crate) fn scope(s: Option<pb::Scope>) -> Result<Scope, Status> {
    let s = s.unwrap_or_default();
    let ward_vintage = if s.ward_vintage.is_empty() {
        None
    } else {
        Some(s.ward_vintage.parse().map_err(|e: renewal_geo::GeoError| {
            Status::invalid_argument(format!("scope.ward_vintage: {e}"))
        })?)
    };
    Ok(Scope {
        ward_vintage,
        pins: s.pins.into_iter().collect(),
        bridge_weights: Some(s.bridge_weights).filter(|w| !w.trim().is_empty()),
    })
}

fn level(l: i32, default: AreaLevel) -> Result<AreaLevel, Status> {
    Ok(match pb::Level::try_from(l) {
        Ok(pb::Level::Unspecified) => default,
        Ok(pb::Level::Lsoa) => AreaLevel::Lsoa,
        Ok(pb::Level::Ward) => AreaLevel::Ward,
        Ok(pb::Level::Neighbourhood) => AreaLevel::Neighbourhood,
        Ok(pb::Level::Lad) => AreaLevel::Lad,
        Err(_) => {
            return Err(Status::invalid_argument(format!(
                "level: unknown value {l}"
            )));
        }
    })
}

fn selection(s: &str) -> Result<Selection, Status> {
    required("selection", s)?;
    s.parse()
        .map_err(|e: String| Status::invalid_argument(format!("selection: {e}")))
}

fn authority_in_scope(p: &Partner, authority: &str) -> Result<(), Status> {
    if authority.is_empty() {
        if p.all_authorities() {
            return Ok(());
        }
        return Err(Status::permission_denied(format!(
            "{} may read only {}: give authority",
            p.partner,
            p.authorities.join(", ")
        )));
    }
    if p.may_read_authority(authority) {
        Ok(())
    } else {
        Err(Status::permission_denied(format!(
            "{} may not read authority {authority}",
            p.partner
        )))
    }
}

impl State {
    /// Runs one question under a concurrency slot and checks the datasets it drew on against
    /// the key's scope.
    ///
    /// Every transport (gRPC, the HTTP feed) goes through here, so the slots, the gate, the
    /// dataset scope and the metrics (labelled with the gRPC method's name) are the same.
    pub(crate) async fn answer<A, F>(
        &self,
        rpc: &'static str,
        p: &Partner,
        question: F,
    ) -> Result<A, Status>
    where
        A: Answered,
        F: std::future::Future<Output = Result<A, Status>>,
    {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let started = Instant::now();
        let _slot = self.slots.clone().try_acquire_owned().map_err(|_| {
            tracing::warn!(request_id = id, rpc, partner = %p.partner, "overloaded");
            self.metrics
                .record(rpc, tonic::Code::ResourceExhausted, started.elapsed());
            let mut status = Status::resource_exhausted(
                "the server is running its maximum number of queries; retry shortly",
            );
            // gRPC's retry pushback: clients with a retry policy wait this long before trying
            // again, instead of turning a full server into a flood of refusals.
            status.metadata_mut().insert(
                "grpc-retry-pushback-ms",
                tonic::metadata::MetadataValue::from(RETRY_PUSHBACK_MS),
            );
            status
        })?;
        if let Some(gate) = &self.gate {
            gate.pass().await;
        }
        let result = question.await;
        let answer = match result {
            Ok(a) => a,
            Err(status) => {
                self.metrics.record(rpc, status.code(), started.elapsed());
                tracing::info!(request_id = id, rpc, partner = %p.partner, code = ?status.code(), message = status.message(), "refused");
                return Err(status);
            }
        };
        if let Some(d) = answer
            .basis()
            .datasets
            .keys()
            .find(|d| !p.may_read_dataset(d))
        {
            self.metrics
                .record(rpc, tonic::Code::PermissionDenied, started.elapsed());
            return Err(Status::permission_denied(format!(
                "{} may not read dataset {d}, which this answer needs",
                p.partner
            )));
        }
        self.metrics.record(rpc, tonic::Code::Ok, started.elapsed());
        self.metrics.served(&answer.basis().datasets);
        tracing::info!(
            request_id = id,
            rpc,
            partner = %p.partner,
            rows = answer.rows(),
            datasets = ?answer.basis().datasets,
            elapsed_ms = started.elapsed().as_millis() as u64,
            "answered"
        );
        Ok(answer)
    }
}

/// What a question returns, as far as [`State::answer`] needs it: the datasets it drew on
/// (checked against the key's scope and counted in the metrics) and its size for the log.
pub(crate) trait Answered {
    fn basis(&self) -> &renewal_query::Basis;
    fn rows(&self) -> usize;
}

impl Answered for Answer {
    fn basis(&self) -> &renewal_query::Basis {
        &self.basis
    }
    fn rows(&self) -> usize {
        self.num_rows()
    }
}

impl Answered for renewal_query::GapMap {
    fn basis(&self) -> &renewal_query::Basis {
        &self.basis
    }
    fn rows(&self) -> usize {
        self.document["features"].as_array().map_or(0, Vec::len)
    }
}

/// The geography and editions the warehouse holds now, one row per current lookup, boundary
/// set and IoD dataset the key may read: which ward, LSOA and district vintages can be asked
/// for (`ward_vintage`), which have shapes for a map, and which IoD editions exist and which
/// one a request without an edition means (`default_edition`). HTTP only (`/api/v1/vintages`);
/// over gRPC the same facts are in ListDatasets' `kind` and `vintage`.
pub(crate) async fn list_vintages(state: &State, p: &Partner) -> Result<Answer, Status> {
    #[derive(serde::Serialize)]
    struct Row {
        kind: String,
        dataset: String,
        version: u64,
        ward_vintage: Option<String>,
        lsoa_vintage: Option<String>,
        lad_vintage: Option<String>,
        edition: Option<String>,
        default_edition: Option<bool>,
    }
    let warehouse = state.engine.warehouse();
    let unavailable = |e: renewal_warehouse::WarehouseError| Status::unavailable(e.to_string());
    let default_edition = state.engine.catalog().resolve_edition(None).ok();
    let mut rows = Vec::new();
    for id in warehouse.datasets().await.map_err(unavailable)? {
        if !p.may_read_dataset(&id) {
            continue;
        }
        let Some(m) = warehouse.current(&id).await.map_err(unavailable)? else {
            continue;
        };
        if !matches!(m.kind.as_str(), "lookup" | "boundaries" | "iod") {
            continue;
        }
        let edition = m.vintage.get("edition").cloned();
        rows.push(Row {
            default_edition: edition
                .as_ref()
                .map(|e| Some(e) == default_edition.as_ref()),
            edition,
            ward_vintage: m.vintage.get("ward").cloned(),
            lsoa_vintage: m.vintage.get("lsoa").cloned(),
            lad_vintage: m.vintage.get("lad").cloned(),
            kind: m.kind,
            dataset: m.dataset,
            version: m.version,
        });
    }
    use renewal_query::ColumnKind::{Flag, Integer, Text};
    renewal_query::answer_from_rows(
        &[
            ("kind", Text),
            ("dataset", Text),
            ("version", Integer),
            ("ward_vintage", Text),
            ("lsoa_vintage", Text),
            ("lad_vintage", Text),
            ("edition", Text),
            ("default_edition", Flag),
        ],
        &rows,
        renewal_query::Basis {
            datasets: rows
                .iter()
                .map(|r| (r.dataset.clone(), r.version))
                .collect(),
            method: "the current lookups, boundary sets and IoD editions".into(),
            fit: renewal_geo::Fit::Exact,
            bridges: Vec::new(),
        },
        Vec::new(),
    )
    .map_err(|e| Status::internal(e.to_string()))
}

/// An answer as the gRPC table stream.
pub(crate) fn stream(answer: Result<Answer, Status>) -> Result<Response<ChunkStream>, Status> {
    let chunks = convert::chunks(&answer?).map_err(|e| Status::internal(e.to_string()))?;
    Ok(Response::new(Box::pin(tokio_stream::iter(
        chunks.into_iter().map(Ok),
    ))))
}

pub struct CatalogueService(pub Arc<State>);
pub struct AnalysisService(pub Arc<State>);

/// Every version of every dataset the key may read (ListDatasets).
pub(crate) async fn list_datasets(
    state: &State,
    p: &Partner,
    _r: pb::ListDatasetsRequest,
) -> Result<pb::ListDatasetsResponse, Status> {
    let warehouse = state.engine.warehouse();
    let ids = warehouse
        .datasets()
        .await
        .map_err(|e| Status::unavailable(e.to_string()))?;
    let mut datasets = Vec::new();
    for id in ids.iter().filter(|d| p.may_read_dataset(d)) {
        let versions = warehouse
            .versions(id)
            .await
            .map_err(|e| Status::unavailable(e.to_string()))?;
        let current = versions.iter().map(|m| m.version).max();
        for m in versions {
            datasets.push(pb::DatasetVersion {
                current: Some(m.version) == current,
                rows: m.total_rows(),
                dataset: m.dataset,
                version: m.version,
                kind: m.kind,
                vintage: m.vintage.into_iter().collect(),
                sources: m
                    .sources
                    .into_iter()
                    .map(|s| pb::SourceFile {
                        name: s.name,
                        size: s.size,
                        sha256: s.sha256,
                        format: s.format,
                        rows: s.rows,
                    })
                    .collect(),
                created_at: m.created_at.to_rfc3339(),
                notes: m.notes,
            });
        }
    }
    Ok(pb::ListDatasetsResponse { datasets })
}

/// The indicator catalogue (ListIndicators).
pub(crate) async fn list_indicators(
    state: &State,
    _p: &Partner,
    _r: pb::ListIndicatorsRequest,
) -> Result<pb::ListIndicatorsResponse, Status> {
    let indicators = state
        .engine
        .indicators()
        .map(|d| pb::Indicator {
            id: d.id.clone(),
            title: d.title.clone(),
            description: d.description.clone().unwrap_or_default(),
            theme: d.theme.clone(),
            value_type: d.value_type.as_str().into(),
            multiplier: d.multiplier,
            unit: d.unit.clone(),
            polarity: d.polarity.as_str().into(),
            source: d.source.clone(),
            native_geography: d.native_geography.as_str().into(),
            periods: d.periods.clone().unwrap_or_default(),
            definition_json: serde_json::to_string(d).unwrap_or_default(),
        })
        .collect();
    Ok(pb::ListIndicatorsResponse { indicators })
}

/// The areas of an indicator's geography the key may see (ListAreas).
pub(crate) async fn list_areas(
    state: &State,
    p: &Partner,
    r: pb::ListAreasRequest,
) -> Result<Answer, Status> {
    required("indicator", &r.indicator)?;
    let level = level(r.level, AreaLevel::Ward)?;
    let scope = scope(r.scope)?;
    let engine = state.engine.clone();
    let indicator = r.indicator.clone();
    let pp = p.clone();
    state
        .answer("ListAreas", p, async move {
            let agg = engine
                .aggregate(&indicator, &scope)
                .await
                .map_err(to_status)?;
            areas_answer(&agg, level, &pp).map_err(to_status)
        })
        .await
}

/// Every area against its authority or England (AreaGap).
pub(crate) async fn area_gap(
    state: &State,
    p: &Partner,
    r: pb::GapRequest,
) -> Result<Answer, Status> {
    let benchmark = benchmark_named(&r.benchmark_name, r.benchmark)?;
    gap(state, p, r, benchmark, "AreaGap").await
}

/// Every area against England (GapVsEngland).
pub(crate) async fn gap_vs_england(
    state: &State,
    p: &Partner,
    r: pb::GapRequest,
) -> Result<Answer, Status> {
    gap(state, p, r, Benchmark::England, "GapVsEngland").await
}

/// A selection pooled against the rest of its authority (DeprivedVsRest).
pub(crate) async fn deprived_vs_rest(
    state: &State,
    p: &Partner,
    r: pb::SelectionRequest,
) -> Result<Answer, Status> {
    required("indicator", &r.indicator)?;
    required("authority", &r.authority)?;
    let authority = renewal_query::authority_code(&r.authority);
    authority_in_scope(p, &authority)?;
    let req = SelectionRequest {
        indicator: r.indicator,
        period: (!r.period.is_empty()).then_some(r.period),
        authority,
        selection: selection(&r.selection)?,
    };
    let scope = scope(r.scope)?;
    let engine = state.engine.clone();
    state
        .answer("DeprivedVsRest", p, async move {
            renewal_query::deprived_vs_rest(&engine, &req, &scope)
                .await
                .map_err(to_status)
        })
        .await
}

/// The selection against the rest, every period (NarrowingTheGap).
pub(crate) async fn narrowing_the_gap(
    state: &State,
    p: &Partner,
    r: pb::TrendRequest,
) -> Result<Answer, Status> {
    required("indicator", &r.indicator)?;
    required("authority", &r.authority)?;
    let authority = renewal_query::authority_code(&r.authority);
    authority_in_scope(p, &authority)?;
    let req = TrendRequest {
        indicator: r.indicator,
        authority,
        selection: selection(&r.selection)?,
    };
    let scope = scope(r.scope)?;
    let engine = state.engine.clone();
    state
        .answer("NarrowingTheGap", p, async move {
            renewal_query::narrowing(&engine, &req, &scope)
                .await
                .map_err(to_status)
        })
        .await
}

/// The Local Performance Plan for an authority and a year (LocalPerformancePlan).
pub(crate) async fn local_performance_plan(
    state: &State,
    p: &Partner,
    r: pb::LocalPerformancePlanRequest,
) -> Result<Answer, Status> {
    required("authority", &r.authority)?;
    required("year", &r.year)?;
    authority_in_scope(p, &r.authority)?;
    let level = match level(r.level, AreaLevel::Ward)? {
        l @ (AreaLevel::Ward | AreaLevel::Neighbourhood | AreaLevel::Lsoa) => l,
        other => {
            return Err(Status::invalid_argument(format!(
                "level: {} is not a level of the plan's area rows (ward, neighbourhood, lsoa)",
                other.as_str()
            )));
        }
    };
    let req = renewal_query::LppRequest {
        authority: r.authority,
        year: r.year,
        level: (r.level != pb::Level::Unspecified as i32).then_some(level),
        selection: if r.selection.trim().is_empty() {
            None
        } else {
            Some(selection(&r.selection)?)
        },
        plan: Some(r.plan).filter(|p| !p.trim().is_empty()),
    };
    let scope = scope(r.scope)?;
    let engine = state.engine.clone();
    state
        .answer("LocalPerformancePlan", p, async move {
            renewal_query::local_performance_plan(&engine, &req, &scope)
                .await
                .map_err(to_status)
        })
        .await
}

/// Registered targets' status (TargetStatus).
pub(crate) async fn target_status(
    state: &State,
    p: &Partner,
    r: pb::TargetStatusRequest,
) -> Result<Answer, Status> {
    let scope = scope(r.scope)?;
    let engine = state.engine.clone();
    let mut targets = renewal_query::targets(engine.warehouse())
        .await
        .map_err(to_status)?;
    if !r.id.is_empty() {
        targets.retain(|t| t.id == r.id);
        if targets.is_empty() {
            return Err(Status::not_found(format!("id: no target {:?}", r.id)));
        }
        if let Some(t) = targets.iter().find(|t| !p.may_read_authority(&t.authority)) {
            return Err(Status::permission_denied(format!(
                "{} may not read authority {}, target {:?}'s",
                p.partner, t.authority, t.id
            )));
        }
    }
    targets.retain(|t| p.may_read_authority(&t.authority));
    state
        .answer("TargetStatus", p, async move {
            renewal_query::target_status(&engine, &targets, &scope)
                .await
                .map_err(to_status)
        })
        .await
}

/// Priority neighbourhoods and pockets (PriorityNeighbourhoods).
pub(crate) async fn priority_neighbourhoods(
    state: &State,
    p: &Partner,
    r: pb::PriorityRequest,
) -> Result<Answer, Status> {
    authority_in_scope(p, &r.authority)?;
    let req = renewal_query::PriorityRequest {
        // Empty keeps meaning the default edition (editions.toml: 2019); "newest" asks
        // for the newest explicitly.
        edition: state
            .engine
            .catalog()
            .resolve_edition(Some(&r.edition))
            .map_err(|e| Status::invalid_argument(format!("edition: {e}")))?,
        domain: if r.domain.is_empty() {
            "imd".into()
        } else {
            r.domain
        },
        percent: if r.percent == 0.0 { 10.0 } else { r.percent },
        authority: (!r.authority.is_empty()).then_some(r.authority),
        pockets_only: r.pockets_only,
    };
    let pins = scope(r.scope)?.pins;
    let engine = state.engine.clone();
    state
        .answer("PriorityNeighbourhoods", p, async move {
            renewal_query::priority_neighbourhoods(engine.warehouse(), &req, &pins)
                .await
                .map_err(to_status)
        })
        .await
}

/// Every indicator for one area (AreaProfile).
pub(crate) async fn area_profile(
    state: &State,
    p: &Partner,
    r: pb::ProfileRequest,
) -> Result<Answer, Status> {
    required("area", &r.area)?;
    let scope = scope(r.scope)?;
    let engine = state.engine.clone();
    let area = r.area.clone();
    let pp = p.clone();
    state
        .answer("AreaProfile", p, async move {
            let answer = renewal_query::area_profile(&engine, &area, &scope)
                .await
                .map_err(to_status)?;
            // The profile's authority decides who may see it.
            if !pp.all_authorities() {
                let authorities = text_column(&answer, "authority_code");
                let allowed = pp.may_read_authority(&area)
                    || authorities
                        .iter()
                        .flatten()
                        .all(|a| pp.may_read_authority(a))
                        && authorities.iter().any(Option::is_some);
                if !allowed {
                    return Err(Status::permission_denied(format!(
                        "{} may not read area {area}",
                        pp.partner
                    )));
                }
            }
            Ok(answer)
        })
        .await
}

/// The areas most similar to one area (MostSimilar).
pub(crate) async fn most_similar(
    state: &State,
    p: &Partner,
    r: pb::SimilarRequest,
) -> Result<Answer, Status> {
    required("area", &r.area)?;
    if r.indicators.is_empty() {
        return Err(Status::invalid_argument("indicators: name at least one"));
    }
    if !p.all_authorities() {
        return Err(Status::permission_denied(format!(
            "{}: most-similar areas compare across England; it needs a key for all authorities",
            p.partner
        )));
    }
    let level = level(r.level, AreaLevel::Ward)?;
    let k = if r.k == 0 { 5 } else { r.k as usize };
    let scope = scope(r.scope)?;
    let engine = state.engine.clone();
    state
        .answer("MostSimilar", p, async move {
            renewal_query::most_similar(&engine, &r.area, level, &r.indicators, k, &scope)
                .await
                .map_err(to_status)
        })
        .await
}

/// An authority's selection pooled against England without it (DeprivedVsEngland).
pub(crate) async fn deprived_vs_england(
    state: &State,
    p: &Partner,
    r: pb::SelectionRequest,
) -> Result<Answer, Status> {
    required("indicator", &r.indicator)?;
    required("authority", &r.authority)?;
    let authority = renewal_query::authority_code(&r.authority);
    authority_in_scope(p, &authority)?;
    let req = SelectionRequest {
        indicator: r.indicator,
        period: (!r.period.is_empty()).then_some(r.period),
        authority,
        selection: selection(&r.selection)?,
    };
    let scope = scope(r.scope)?;
    let engine = state.engine.clone();
    state
        .answer("DeprivedVsEngland", p, async move {
            renewal_query::deprived_vs_england(&engine, &req, &scope)
                .await
                .map_err(to_status)
        })
        .await
}

/// An authority's selection against England without it, every period
/// (NarrowingTheGapVsEngland).
pub(crate) async fn narrowing_the_gap_vs_england(
    state: &State,
    p: &Partner,
    r: pb::TrendRequest,
) -> Result<Answer, Status> {
    required("indicator", &r.indicator)?;
    required("authority", &r.authority)?;
    let authority = renewal_query::authority_code(&r.authority);
    authority_in_scope(p, &authority)?;
    let req = TrendRequest {
        indicator: r.indicator,
        authority,
        selection: selection(&r.selection)?,
    };
    let scope = scope(r.scope)?;
    let engine = state.engine.clone();
    state
        .answer("NarrowingTheGapVsEngland", p, async move {
            renewal_query::narrowing_vs_england(&engine, &req, &scope)
                .await
                .map_err(to_status)
        })
        .await
}

/// The change question a request asks, checked (the gRPC method and the HTTP feed share it).
pub(crate) fn change_question(
    r: &pb::ChangeRequest,
) -> Result<renewal_query::ChangeRequest, Status> {
    required("indicator", &r.indicator)?;
    required("area", &r.area)?;
    required("from_period", &r.from_period)?;
    required("to_period", &r.to_period)?;
    if r.similar_on.is_empty() {
        return Err(Status::invalid_argument(
            "similar_on: name at least one indicator",
        ));
    }
    Ok(renewal_query::ChangeRequest {
        indicator: r.indicator.clone(),
        area: r.area.clone(),
        level: level(r.level, AreaLevel::Ward)?,
        from: r.from_period.clone(),
        to: r.to_period.clone(),
        similar_on: r.similar_on.clone(),
        k: if r.k == 0 { 10 } else { r.k as usize },
    })
}

/// An area's change against its most similar areas' (ChangeVsSimilar). Similar areas are
/// found across England, so, like MostSimilar, it needs a key for all authorities.
pub(crate) async fn change_vs_similar(
    state: &State,
    p: &Partner,
    r: pb::ChangeRequest,
) -> Result<Answer, Status> {
    let req = change_question(&r)?;
    if !p.all_authorities() {
        return Err(Status::permission_denied(format!(
            "{}: change against similar areas compares across England; it needs a key for all authorities",
            p.partner
        )));
    }
    let scope = scope(r.scope)?;
    let engine = state.engine.clone();
    state
        .answer("ChangeVsSimilar", p, async move {
            renewal_query::change_vs_similar(&engine, &req, &scope)
                .await
                .map_err(to_status)
        })
        .await
}

fn areas_answer(
    agg: &renewal_query::Aggregate,
    level: AreaLevel,
    p: &Partner,
) -> Result<Answer, QueryError> {
    #[derive(serde::Serialize)]
    struct AreaRow<'a> {
        level: &'a str,
        area_code: &'a str,
        area_name: &'a str,
        parent_code: Option<&'a str>,
        periods: String,
    }
    let rows: Vec<AreaRow> = agg
        .areas_of(level, None)
        .into_iter()
        .filter(|a| {
            p.all_authorities()
                || a.parent.as_deref().is_some_and(|c| p.may_read_authority(c))
                || (a.level == AreaLevel::Lad && p.may_read_authority(&a.code))
        })
        .map(|a| AreaRow {
            level: a.level.as_str(),
            area_code: &a.code,
            area_name: &a.name,
            parent_code: a.parent.as_deref(),
            periods: agg.periods.join(" "),
        })
        .collect();
    renewal_query::answer_from_rows(
        &[
            ("level", renewal_query::ColumnKind::Text),
            ("area_code", renewal_query::ColumnKind::Text),
            ("area_name", renewal_query::ColumnKind::Text),
            ("parent_code", renewal_query::ColumnKind::Text),
            ("periods", renewal_query::ColumnKind::Text),
        ],
        &rows,
        agg.basis.clone(),
        Vec::new(),
    )
}

#[tonic::async_trait]
impl pb::catalogue_server::Catalogue for CatalogueService {
    type ListAreasStream = ChunkStream;

    async fn list_datasets(
        &self,
        request: Request<pb::ListDatasetsRequest>,
    ) -> Result<Response<pb::ListDatasetsResponse>, Status> {
        let p = partner(&request)?;
        Ok(Response::new(
            list_datasets(&self.0, &p, request.into_inner()).await?,
        ))
    }

    async fn list_indicators(
        &self,
        request: Request<pb::ListIndicatorsRequest>,
    ) -> Result<Response<pb::ListIndicatorsResponse>, Status> {
        let p = partner(&request)?;
        Ok(Response::new(
            list_indicators(&self.0, &p, request.into_inner()).await?,
        ))
    }

    async fn list_areas(
        &self,
        request: Request<pb::ListAreasRequest>,
    ) -> Result<Response<ChunkStream>, Status> {
        let p = partner(&request)?;
        stream(list_areas(&self.0, &p, request.into_inner()).await)
    }
}

#[tonic::async_trait]
impl pb::analysis_server::Analysis for AnalysisService {
    type AreaGapStream = ChunkStream;
    type GapVsEnglandStream = ChunkStream;
    type DeprivedVsRestStream = ChunkStream;
    type NarrowingTheGapStream = ChunkStream;
    type TargetStatusStream = ChunkStream;
    type PriorityNeighbourhoodsStream = ChunkStream;
    type AreaProfileStream = ChunkStream;
    type MostSimilarStream = ChunkStream;
    type LocalPerformancePlanStream = ChunkStream;
    type DeprivedVsEnglandStream = ChunkStream;
    type NarrowingTheGapVsEnglandStream = ChunkStream;
    type ChangeVsSimilarStream = ChunkStream;

    async fn deprived_vs_england(
        &self,
        request: Request<pb::SelectionRequest>,
    ) -> Result<Response<ChunkStream>, Status> {
        let p = partner(&request)?;
        stream(deprived_vs_england(&self.0, &p, request.into_inner()).await)
    }

    async fn narrowing_the_gap_vs_england(
        &self,
        request: Request<pb::TrendRequest>,
    ) -> Result<Response<ChunkStream>, Status> {
        let p = partner(&request)?;
        stream(narrowing_the_gap_vs_england(&self.0, &p, request.into_inner()).await)
    }

    async fn change_vs_similar(
        &self,
        request: Request<pb::ChangeRequest>,
    ) -> Result<Response<ChunkStream>, Status> {
        let p = partner(&request)?;
        stream(change_vs_similar(&self.0, &p, request.into_inner()).await)
    }

    async fn area_gap(
        &self,
        request: Request<pb::GapRequest>,
    ) -> Result<Response<ChunkStream>, Status> {
        let p = partner(&request)?;
        stream(area_gap(&self.0, &p, request.into_inner()).await)
    }

    async fn gap_vs_england(
        &self,
        request: Request<pb::GapRequest>,
    ) -> Result<Response<ChunkStream>, Status> {
        let p = partner(&request)?;
        stream(gap_vs_england(&self.0, &p, request.into_inner()).await)
    }

    async fn deprived_vs_rest(
        &self,
        request: Request<pb::SelectionRequest>,
    ) -> Result<Response<ChunkStream>, Status> {
        let p = partner(&request)?;
        stream(deprived_vs_rest(&self.0, &p, request.into_inner()).await)
    }

    async fn narrowing_the_gap(
        &self,
        request: Request<pb::TrendRequest>,
    ) -> Result<Response<ChunkStream>, Status> {
        let p = partner(&request)?;
        stream(narrowing_the_gap(&self.0, &p, request.into_inner()).await)
    }

    async fn target_status(
        &self,
        request: Request<pb::TargetStatusRequest>,
    ) -> Result<Response<ChunkStream>, Status> {
        let p = partner(&request)?;
        stream(target_status(&self.0, &p, request.into_inner()).await)
    }

    async fn priority_neighbourhoods(
        &self,
        request: Request<pb::PriorityRequest>,
    ) -> Result<Response<ChunkStream>, Status> {
        let p = partner(&request)?;
        stream(priority_neighbourhoods(&self.0, &p, request.into_inner()).await)
    }

    async fn area_profile(
        &self,
        request: Request<pb::ProfileRequest>,
    ) -> Result<Response<ChunkStream>, Status> {
        let p = partner(&request)?;
        stream(area_profile(&self.0, &p, request.into_inner()).await)
    }

    async fn most_similar(
        &self,
        request: Request<pb::SimilarRequest>,
    ) -> Result<Response<ChunkStream>, Status> {
        let p = partner(&request)?;
        stream(most_similar(&self.0, &p, request.into_inner()).await)
    }

    async fn local_performance_plan(
        &self,
        request: Request<pb::LocalPerformancePlanRequest>,
    ) -> Result<Response<ChunkStream>, Status> {
        let p = partner(&request)?;
        stream(local_performance_plan(&self.0, &p, request.into_inner()).await)
    }

    async fn register_neighbourhood(
        &self,
        request: Request<pb::RegisterNeighbourhoodRequest>,
    ) -> Result<Response<pb::RegisterResponse>, Status> {
        let p = partner(&request)?;
        if !p.write {
            return Err(Status::permission_denied(format!(
                "{} may not register neighbourhoods (no write scope)",
                p.partner
            )));
        }
        let r = request.into_inner();
        required("id", &r.id)?;
        required("name", &r.name)?;
        if r.lsoas.is_empty() {
            return Err(Status::invalid_argument("lsoas: at least one LSOA code"));
        }
        if !p.all_authorities() {
            // A partner may define neighbourhoods only inside the authorities it may read.
            let lads = renewal_query::authorities_of(self.0.engine.warehouse(), &r.lsoas)
                .await
                .map_err(to_status)?;
            for l in &r.lsoas {
                match lads.get(l) {
                    None => {
                        return Err(Status::invalid_argument(format!(
                            "lsoas: {l} is in no lookup in the warehouse"
                        )));
                    }
                    Some(lad) if !p.may_read_authority(lad) => {
                        return Err(Status::permission_denied(format!(
                            "{} may not define neighbourhoods in {lad} (LSOA {l})",
                            p.partner
                        )));
                    }
                    Some(_) => {}
                }
            }
        }
        let n = renewal_query::Neighbourhood {
            id: r.id,
            name: r.name,
            owner: p.partner.clone(),
            lsoas: r.lsoas,
        };
        let version = renewal_query::register_neighbourhood(self.0.engine.warehouse(), n)
            .await
            .map_err(to_status)?;
        Ok(Response::new(pb::RegisterResponse {
            dataset: renewal_query::NEIGHBOURHOODS.into(),
            version,
        }))
    }

    async fn register_target(
        &self,
        request: Request<pb::RegisterTargetRequest>,
    ) -> Result<Response<pb::RegisterResponse>, Status> {
        let p = partner(&request)?;
        if !p.write {
            return Err(Status::permission_denied(format!(
                "{} may not register targets (no write scope)",
                p.partner
            )));
        }
        let r = request.into_inner();
        required("id", &r.id)?;
        required("indicator", &r.indicator)?;
        required("authority", &r.authority)?;
        required("baseline_period", &r.baseline_period)?;
        required("target_period", &r.target_period)?;
        let mut r = r;
        r.authority = renewal_query::authority_code(&r.authority);
        authority_in_scope(&p, &r.authority)?;
        let against_england = match r.benchmark.to_ascii_lowercase().as_str() {
            "" | "authority" => false,
            "england" => true,
            other => {
                return Err(Status::invalid_argument(format!(
                    "benchmark: {other:?} is not authority or england"
                )));
            }
        };
        self.0.engine.indicator(&r.indicator).map_err(to_status)?;
        // The edition is pinned at registration: a newer IoD never changes a target.
        let pinned = selection(&r.selection)?
            .pinned(self.0.engine.catalog())
            .map_err(to_status)?;
        let t = renewal_query::Target {
            id: r.id,
            indicator: r.indicator,
            selection: pinned.to_string(),
            authority: r.authority,
            baseline_period: r.baseline_period,
            target_period: r.target_period,
            fraction_remaining: if r.fraction_remaining == 0.0 {
                0.5
            } else {
                r.fraction_remaining
            },
            ward_vintage: (!r.ward_vintage.is_empty()).then_some(r.ward_vintage),
            owner: p.partner.clone(),
            against_england,
        };
        let version = renewal_query::register_target(self.0.engine.warehouse(), t)
            .await
            .map_err(to_status)?;
        Ok(Response::new(pb::RegisterResponse {
            dataset: renewal_query::TARGETS.into(),
            version,
        }))
    }

    async fn list_neighbourhoods(
        &self,
        request: Request<pb::ListNeighbourhoodsRequest>,
    ) -> Result<Response<pb::ListNeighbourhoodsResponse>, Status> {
        let p = partner(&request)?;
        let warehouse = self.0.engine.warehouse();
        let mut all = renewal_query::neighbourhoods(warehouse)
            .await
            .map_err(to_status)?;
        if !p.all_authorities() {
            // A neighbourhood is listed only when every LSOA of it lies in the key's
            // authorities: its name and members are no business of other areas' partners.
            let lsoas: Vec<String> = all.iter().flat_map(|n| n.lsoas.clone()).collect();
            let lads = renewal_query::authorities_of(warehouse, &lsoas)
                .await
                .map_err(to_status)?;
            all.retain(|n| {
                n.lsoas
                    .iter()
                    .all(|l| lads.get(l).is_some_and(|lad| p.may_read_authority(lad)))
            });
        }
        Ok(Response::new(pb::ListNeighbourhoodsResponse {
            neighbourhoods: all
                .into_iter()
                .map(|n| pb::RegisteredNeighbourhood {
                    id: n.id,
                    name: n.name,
                    owner: n.owner,
                    lsoas: n.lsoas,
                })
                .collect(),
        }))
    }

    async fn list_targets(
        &self,
        request: Request<pb::ListTargetsRequest>,
    ) -> Result<Response<pb::ListTargetsResponse>, Status> {
        let p = partner(&request)?;
        let mut all = renewal_query::targets(self.0.engine.warehouse())
            .await
            .map_err(to_status)?;
        all.retain(|t| p.may_read_authority(&t.authority));
        Ok(Response::new(pb::ListTargetsResponse {
            targets: all
                .into_iter()
                .map(|t| pb::RegisteredTarget {
                    benchmark: if t.measured_against_england() {
                        "england"
                    } else {
                        "authority"
                    }
                    .into(),
                    id: t.id,
                    indicator: t.indicator,
                    selection: t.selection,
                    authority: t.authority,
                    baseline_period: t.baseline_period,
                    target_period: t.target_period,
                    fraction_remaining: t.fraction_remaining,
                    ward_vintage: t.ward_vintage.unwrap_or_default(),
                    owner: t.owner,
                })
                .collect(),
        }))
    }

    async fn delete_neighbourhood(
        &self,
        request: Request<pb::DeleteNeighbourhoodRequest>,
    ) -> Result<Response<pb::DeleteResponse>, Status> {
        let p = writer(&request, "delete neighbourhoods")?;
        let r = request.into_inner();
        required("id", &r.id)?;
        let version =
            renewal_query::delete_neighbourhood(self.0.engine.warehouse(), &r.id, &p.partner)
                .await
                .map_err(to_status)?;
        tracing::info!(partner = %p.partner, id = %r.id, version, "neighbourhood deleted");
        Ok(Response::new(pb::DeleteResponse {
            dataset: renewal_query::NEIGHBOURHOODS.into(),
            version,
        }))
    }

    async fn delete_target(
        &self,
        request: Request<pb::DeleteTargetRequest>,
    ) -> Result<Response<pb::DeleteResponse>, Status> {
        let p = writer(&request, "delete targets")?;
        let r = request.into_inner();
        required("id", &r.id)?;
        let version = renewal_query::delete_target(self.0.engine.warehouse(), &r.id, &p.partner)
            .await
            .map_err(to_status)?;
        tracing::info!(partner = %p.partner, id = %r.id, version, "target deleted");
        Ok(Response::new(pb::DeleteResponse {
            dataset: renewal_query::TARGETS.into(),
            version,
        }))
    }
}

async fn gap(
    state: &State,
    p: &Partner,
    r: pb::GapRequest,
    benchmark: Benchmark,
    rpc: &'static str,
) -> Result<Answer, Status> {
    let (req, scope) = gap_question(p, r, benchmark, false)?;
    let engine = state.engine.clone();
    state
        .answer(rpc, p, async move {
            renewal_query::gap_table(&engine, &req, &scope)
                .await
                .map_err(to_status)
        })
        .await
}

/// The gap question a request asks, checked: indicator given (and the authority, when
/// `authority_required`), authority in the key's scope, the level (wards by default) and the
/// scope's vintage, weights and pins.
fn gap_question(
    p: &Partner,
    r: pb::GapRequest,
    benchmark: Benchmark,
    authority_required: bool,
) -> Result<(GapRequest, Scope), Status> {
    required("indicator", &r.indicator)?;
    if authority_required {
        required("authority", &r.authority)?;
    }
    authority_in_scope(p, &r.authority)?;
    let req = GapRequest {
        indicator: r.indicator,
        period: (!r.period.is_empty()).then_some(r.period),
        authority: (!r.authority.is_empty()).then_some(r.authority),
        level: level(r.level, AreaLevel::Ward)?,
        benchmark,
    };
    Ok((req, scope(r.scope)?))
}

/// The gap question as a GeoJSON map of an authority's wards or LSOAs (HTTP only: the
/// feature properties are exactly the AreaGap rows, so the map withholds what they withhold).
/// Metrics and logs call it `GapMap`.
pub(crate) async fn gap_map(
    state: &State,
    p: &Partner,
    r: pb::GapRequest,
    options: renewal_query::MapOptions,
) -> Result<renewal_query::GapMap, Status> {
    let benchmark = benchmark_named(&r.benchmark_name, r.benchmark)?;
    // A map is of one authority's areas.
    let (req, scope) = gap_question(p, r, benchmark, true)?;
    let engine = state.engine.clone();
    state
        .answer("GapMap", p, async move {
            renewal_query::gap_map(&engine, &req, &scope, &options)
                .await
                .map_err(to_status)
        })
        .await
}

/// The request's benchmark by name (`authority`, `england`, a parent type such as `pfa`);
/// an empty name leaves it to the enum, as before the name existed.
fn benchmark_named(name: &str, b: i32) -> Result<Benchmark, Status> {
    if name.trim().is_empty() {
        return benchmark(b);
    }
    name.parse()
        .map_err(|e: String| Status::invalid_argument(format!("benchmark_name: {e}")))
}

/// The request's benchmark: England, else the area's authority (the default).
fn benchmark(b: i32) -> Result<Benchmark, Status> {
    match pb::Benchmark::try_from(b) {
        Ok(pb::Benchmark::England) => Ok(Benchmark::England),
        Ok(_) => Ok(Benchmark::Authority),
        Err(_) => Err(Status::invalid_argument(format!(
            "benchmark: unknown value {b}"
        ))),
    }
}

fn text_column(answer: &Answer, name: &str) -> Vec<Option<String>> {
    let Ok(i) = answer.schema.index_of(name) else {
        return Vec::new();
    };
    answer
        .batches
        .iter()
        .filter_map(|b| renewal_query::string_column(b, i).ok())
        .flatten()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// With every slot taken, a question is refused at once with RESOURCE_EXHAUSTED rather
    /// than queued behind the others.
    #[tokio::test]
    async fn full_server_says_resource_exhausted() {
        let dir = tempfile::tempdir().unwrap();
        let warehouse = renewal_warehouse::Warehouse::open_local(dir.path()).unwrap();
        let engine = Arc::new(Engine::new(warehouse, renewal_schema::Catalog::default()));
        let state = State::new(engine, 1);
        let held = state.slots.clone().try_acquire_owned().unwrap();
        let p = Partner::developer();
        let refused = state
            .answer("Test", &p, async {
                Err::<Answer, _>(Status::internal("must not run"))
            })
            .await
            .err()
            .unwrap();
        assert_eq!(refused.code(), tonic::Code::ResourceExhausted);
        drop(held);
        let ran = state
            .answer("Test", &p, async {
                Err::<Answer, _>(Status::not_found("ran"))
            })
            .await
            .err()
            .unwrap();
        assert_eq!(ran.code(), tonic::Code::NotFound);
    }
}
