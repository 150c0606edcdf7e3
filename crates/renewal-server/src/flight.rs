//! Arrow Flight SQL for analysts' ad-hoc, read-only SQL: statement queries (`execute`, then
//! `do_get` on the ticket), prepared statements without parameters, and the metadata calls
//! ADBC and JDBC drivers make first (GetSqlInfo, GetCatalogs, GetDbSchemas, GetTables,
//! GetTableTypes), planned and run by DataFusion.
//!
//! Each request gets a fresh DataFusion session holding only what the caller may see:
//! - only tables that disclose no small counts: the Indices of Deprivation (LSOA scores,
//!   ranks, deciles and population denominators as MHCLG publishes them) and the ONS lookups.
//!   Census, benefit, crime and Best Value counts are reached through the disclosure-controlled
//!   questions of the `Analysis` service, never as raw rows;
//! - only datasets the key's `datasets` patterns allow, and for a key limited to some
//!   authorities, only their rows (each table is a view filtered on its authority column, and
//!   the unfiltered table is never registered);
//! - SELECT only: DDL (CREATE EXTERNAL TABLE), DML (COPY, INSERT), statements (SET) and
//!   EXPLAIN are refused when the plan is verified, and every table the plan scans must be one
//!   of the session's views or `information_schema`, so table functions (`read_csv(…)`,
//!   `generate_series(…)`) and URL tables (`SELECT * FROM '/etc/passwd'`) never read anything.
//!   DataFusion has no filesystem scalar functions, and none are registered.
//!
//! And inside the server's limits, as the gRPC questions are:
//! - every call that opens a session takes one of the server's concurrency slots
//!   (RESOURCE_EXHAUSTED when none is free), and a `do_get` holds it until its last batch
//!   is sent or the client goes away;
//! - the deadline (the smaller of the client's `grpc-timeout` and the server's
//!   `request_timeout_secs`) covers the whole result stream, not only the handler;
//! - one DataFusion memory pool of `memory_limit_mb` is shared by every query at once, with
//!   spilling to disk disabled, so a query needing more fails RESOURCE_EXHAUSTED;
//! - every call is counted in the request metrics as `FlightSql.<call>`.
//!
//! Tables are named `<dataset>__<table>` with `-` as `_` (`iod_2019__iod`,
//! `lookup_lsoa11_wd19__lookup`), in catalog `renewal`, schema `public`. Statement tickets and
//! prepared-statement handles carry the SQL itself: each use checks the key and plans again,
//! so a handle is worth nothing to someone without the right scopes.

use std::collections::BTreeSet;
use std::pin::Pin;
use std::sync::{Arc, LazyLock};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use arrow::datatypes::Schema;
use arrow_flight::encode::FlightDataEncoderBuilder;
use arrow_flight::error::FlightError;
use arrow_flight::flight_service_server::FlightService;
use arrow_flight::sql::metadata::{SqlInfoData, SqlInfoDataBuilder};
use arrow_flight::sql::server::FlightSqlService;
use arrow_flight::sql::{
    ActionClosePreparedStatementRequest, ActionCreatePreparedStatementRequest,
    ActionCreatePreparedStatementResult, CommandGetCatalogs, CommandGetDbSchemas,
    CommandGetSqlInfo, CommandGetTableTypes, CommandGetTables, CommandPreparedStatementQuery,
    CommandStatementQuery, ProstMessageExt, SqlInfo, TicketStatementQuery,
};
use arrow_flight::{
    Action, FlightData, FlightDescriptor, FlightEndpoint, FlightInfo, IpcMessage, SchemaAsIpc,
    Ticket,
};
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::error::DataFusionError;
use datafusion::execution::context::{SQLOptions, SessionContext};
use datafusion::execution::disk_manager::{DiskManagerBuilder, DiskManagerMode};
use datafusion::execution::runtime_env::{RuntimeEnv, RuntimeEnvBuilder};
use datafusion::logical_expr::LogicalPlan;
use datafusion::prelude::{SessionConfig, col, lit};
use futures::{Stream, StreamExt, TryStreamExt};
use prost::Message as _;
use renewal_warehouse::Warehouse;
use tokio::sync::OwnedSemaphorePermit;
use tonic::{Request, Response, Status};

use crate::auth::Partner;
use crate::service::State;

/// Dataset kinds whose tables Flight SQL exposes, and the column naming each row's authority.
const EXPOSED: [(&str, &str, &str); 4] = [
    ("iod", "iod", "lad_code"),
    ("iod", "lsoa", "lad_code"),
    ("iod", "lad_summary", "area_code"),
    ("lookup", "lookup", "lad_code"),
];

/// The catalog and schema the tables are listed under (and may be qualified with in SQL).
pub const CATALOG: &str = "renewal";
/// See [`CATALOG`].
pub const SCHEMA: &str = "public";
/// The one table type listed: every exposed table is a read-only, scope-filtered view.
pub const TABLE_TYPE: &str = "TABLE";

static SQL_INFO: LazyLock<SqlInfoData> = LazyLock::new(|| {
    let mut b = SqlInfoDataBuilder::new();
    b.append(SqlInfo::FlightSqlServerName, "Renewal");
    b.append(SqlInfo::FlightSqlServerVersion, env!("CARGO_PKG_VERSION"));
    // The Arrow IPC format version (Schema.fbs MetadataVersion V5 = "1.3").
    b.append(SqlInfo::FlightSqlServerArrowVersion, "1.3");
    b.append(SqlInfo::FlightSqlServerReadOnly, true);
    b.append(SqlInfo::FlightSqlServerSql, true);
    b.append(SqlInfo::FlightSqlServerSubstrait, false);
    // SqlSupportedTransaction: none.
    b.append(SqlInfo::FlightSqlServerTransaction, 0i32);
    b.append(SqlInfo::FlightSqlServerCancel, false);
    b.append(SqlInfo::SqlDdlCatalog, false);
    b.append(SqlInfo::SqlDdlSchema, false);
    b.append(SqlInfo::SqlDdlTable, false);
    b.append(SqlInfo::SqlIdentifierQuoteChar, "\"");
    b.append(SqlInfo::SqlTransactionsSupported, false);
    // A fixed table built from constants cannot fail to build.
    #[allow(clippy::expect_used)]
    b.build().expect("static SQL info")
});

/// The Flight SQL service.
pub struct FlightSql {
    warehouse: Warehouse,
    /// The gRPC services' state: its concurrency slots and metrics are shared.
    state: Arc<State>,
    /// One runtime, so one memory pool, for every Flight SQL query at once.
    runtime: Arc<RuntimeEnv>,
    timeout: Duration,
}

/// `iod-2019`, `iod` → `iod_2019__iod`.
pub fn table_name(dataset: &str, table: &str) -> String {
    format!("{}__{table}", dataset.replace('-', "_"))
}

fn partner<T>(request: &Request<T>) -> Result<Partner, Status> {
    let p = request
        .extensions()
        .get::<Partner>()
        .cloned()
        .ok_or_else(|| Status::unauthenticated("no API key: send `authorization: Bearer <key>`"))?;
    if !p.sql {
        return Err(Status::permission_denied(format!(
            "{} may not use SQL (no sql scope)",
            p.partner
        )));
    }
    Ok(p)
}

fn internal(e: impl std::fmt::Display) -> Status {
    Status::internal(e.to_string())
}

/// A DataFusion error as a status: running out of the memory pool is RESOURCE_EXHAUSTED.
fn engine_status(e: &DataFusionError) -> Status {
    match e.find_root() {
        DataFusionError::ResourcesExhausted(m) => Status::resource_exhausted(format!(
            "query needs more memory than the server allows: {m}"
        )),
        _ => Status::internal(e.to_string()),
    }
}

/// The request's deadline: the smaller of the client's `grpc-timeout` and `limit`.
fn deadline<T>(request: &Request<T>, limit: Duration) -> tokio::time::Instant {
    let asked = request
        .metadata()
        .get("grpc-timeout")
        .and_then(|v| v.to_str().ok())
        .and_then(parse_grpc_timeout);
    tokio::time::Instant::now() + asked.map_or(limit, |a| a.min(limit))
}

/// `grpc-timeout` as the gRPC HTTP/2 spec writes it: up to 8 digits and a unit.
fn parse_grpc_timeout(v: &str) -> Option<Duration> {
    let (digits, unit) = v.split_at(v.len().checked_sub(1)?);
    if digits.is_empty() || digits.len() > 8 {
        return None;
    }
    let n: u64 = digits.parse().ok()?;
    Some(match unit {
        "H" => Duration::from_secs(n.saturating_mul(3600)),
        "M" => Duration::from_secs(n.saturating_mul(60)),
        "S" => Duration::from_secs(n),
        "m" => Duration::from_millis(n),
        "u" => Duration::from_micros(n),
        "n" => Duration::from_nanos(n),
        _ => return None,
    })
}

fn do_get_response(stream: Guarded) -> Response<<FlightSql as FlightService>::DoGetStream> {
    Response::new(Box::pin(stream))
}

impl FlightSql {
    /// The service over `warehouse`, sharing `state`'s slots and metrics; `memory_limit`
    /// bytes (at least 1 MiB) are shared by all its queries.
    pub(crate) fn new(
        warehouse: Warehouse,
        state: Arc<State>,
        memory_limit: usize,
        timeout: Duration,
    ) -> Result<FlightSql, DataFusionError> {
        let runtime = RuntimeEnvBuilder::new()
            .with_memory_limit(memory_limit.max(1 << 20), 1.0)
            // No spill files: a query either fits the pool or fails, and never writes.
            .with_disk_manager_builder(
                DiskManagerBuilder::default().with_mode(DiskManagerMode::Disabled),
            )
            .build_arc()?;
        Ok(FlightSql {
            warehouse,
            state,
            runtime,
            timeout,
        })
    }

    /// Takes a concurrency slot for `rpc`, or refuses at once.
    fn admit(
        &self,
        rpc: &'static str,
        p: &Partner,
        started: Instant,
    ) -> Result<OwnedSemaphorePermit, Status> {
        self.state.slots.clone().try_acquire_owned().map_err(|_| {
            tracing::warn!(rpc, partner = %p.partner, "overloaded");
            self.state
                .metrics
                .record(rpc, tonic::Code::ResourceExhausted, started.elapsed());
            Status::resource_exhausted(
                "the server is running its maximum number of queries; retry shortly",
            )
        })
    }

    /// Runs a unary part of a call (planning, metadata) under a slot, within the deadline,
    /// and counts it.
    async fn unary<T, F>(
        &self,
        rpc: &'static str,
        p: &Partner,
        until: tokio::time::Instant,
        work: F,
    ) -> Result<T, Status>
    where
        F: std::future::Future<Output = Result<T, Status>>,
    {
        let started = Instant::now();
        let _slot = self.admit(rpc, p, started)?;
        let result = match tokio::time::timeout_at(until, work).await {
            Ok(r) => r,
            Err(_) => Err(Status::deadline_exceeded("the request's deadline passed")),
        };
        let code = result
            .as_ref()
            .map_or_else(|s| s.code(), |_| tonic::Code::Ok);
        self.state.metrics.record(rpc, code, started.elapsed());
        result
    }

    /// A session with exactly the tables `partner` may read, and what they are.
    async fn session(&self, partner: &Partner) -> Result<(SessionContext, Allowed), Status> {
        let config = SessionConfig::new()
            .with_target_partitions(2)
            .with_information_schema(true)
            .with_default_catalog_and_schema(CATALOG, SCHEMA);
        let ctx = SessionContext::new_with_config_rt(config, self.runtime.clone());
        let unavailable = |e: renewal_warehouse::WarehouseError| Status::unavailable(e.to_string());
        let mut allowed = Allowed::default();
        for id in self.warehouse.datasets().await.map_err(unavailable)? {
            if !partner.may_read_dataset(&id) {
                continue;
            }
            let Some(manifest) = self.warehouse.current(&id).await.map_err(unavailable)? else {
                continue;
            };
            for (kind, table, authority_column) in EXPOSED {
                if manifest.kind != kind || manifest.table(table).is_none() {
                    continue;
                }
                let provider =
                    renewal_query::table_provider(&ctx, &self.warehouse, &manifest, table)
                        .await
                        .map_err(crate::to_status)?;
                allowed.providers.insert(address(&provider));
                let df = ctx.read_table(provider).map_err(internal)?;
                let df = if partner.all_authorities() {
                    df
                } else {
                    let allowed: Vec<_> =
                        partner.authorities.iter().map(|a| lit(a.clone())).collect();
                    // A key scoped by areas that cover no district reads no rows.
                    let keep = if allowed.is_empty() {
                        lit(false)
                    } else {
                        col(authority_column).in_list(allowed, false)
                    };
                    df.filter(keep).map_err(internal)?
                };
                let name = table_name(&id, table);
                ctx.register_table(name.as_str(), df.into_view())
                    .map_err(internal)?;
                allowed.names.push(name);
            }
        }
        allowed.names.sort();
        Ok((ctx, allowed))
    }

    /// Plans `sql`, refusing anything but a query over the session's own tables.
    async fn plan(
        &self,
        ctx: &SessionContext,
        tables: &Allowed,
        sql: &str,
    ) -> Result<LogicalPlan, Status> {
        let plan = ctx
            .state()
            .create_logical_plan(sql)
            .await
            .map_err(|e| Status::invalid_argument(format!("query: {e}")))?;
        SQLOptions::new()
            .with_allow_ddl(false)
            .with_allow_dml(false)
            .with_allow_statements(false)
            .verify_plan(&plan)
            .map_err(|e| {
                Status::permission_denied(format!("query: only SELECT is allowed: {e}"))
            })?;
        verify_scans(&plan, tables)?;
        Ok(plan)
    }

    /// Plans `sql` for `p` and streams its result under a slot and the deadline.
    async fn run(
        &self,
        rpc: &'static str,
        p: &Partner,
        until: tokio::time::Instant,
        sql: &str,
    ) -> Result<Guarded, Status> {
        let started = Instant::now();
        let slot = self.admit(rpc, p, started)?;
        let fail = |status: Status| {
            self.state
                .metrics
                .record(rpc, status.code(), started.elapsed());
            status
        };
        let planned = async {
            let (ctx, tables) = self.session(p).await?;
            let plan = self.plan(&ctx, &tables, sql).await?;
            let df = ctx
                .execute_logical_plan(plan)
                .await
                .map_err(|e| engine_status(&e))?;
            df.execute_stream().await.map_err(|e| engine_status(&e))
        };
        let stream = match tokio::time::timeout_at(until, planned).await {
            Ok(Ok(s)) => s,
            Ok(Err(status)) => return Err(fail(status)),
            Err(_) => return Err(fail(deadline_exceeded())),
        };
        let schema = stream.schema();
        let batches = stream.map_err(|e| FlightError::Tonic(Box::new(engine_status(&e))));
        let encoded = FlightDataEncoderBuilder::new()
            .with_schema(schema)
            .build(batches)
            .map(|r| r.map_err(Status::from));
        tracing::info!(rpc, partner = %p.partner, "flight sql query streaming");
        Ok(Guarded::new(
            Box::pin(encoded),
            until,
            slot,
            Finish {
                metrics: self.state.metrics.clone(),
                rpc,
                started,
            },
        ))
    }

    /// A metadata table (already built) as a `do_get` stream, counted like a query.
    fn metadata_stream(
        &self,
        rpc: &'static str,
        p: &Partner,
        until: tokio::time::Instant,
        batch: arrow::array::RecordBatch,
    ) -> Result<Guarded, Status> {
        let started = Instant::now();
        let slot = self.admit(rpc, p, started)?;
        let encoded = FlightDataEncoderBuilder::new()
            .with_schema(batch.schema())
            .build(futures::stream::once(async move { Ok(batch) }))
            .map(|r| r.map_err(Status::from));
        Ok(Guarded::new(
            Box::pin(encoded),
            until,
            slot,
            Finish {
                metrics: self.state.metrics.clone(),
                rpc,
                started,
            },
        ))
    }

    /// The result schema of `sql` as planned for `p`.
    async fn schema_of(&self, p: &Partner, sql: &str) -> Result<Schema, Status> {
        let (ctx, tables) = self.session(p).await?;
        let plan = self.plan(&ctx, &tables, sql).await?;
        Ok(plan.schema().as_arrow().clone())
    }

    /// The session's tables with their schemas.
    async fn tables(&self, p: &Partner) -> Result<Vec<(String, Arc<Schema>)>, Status> {
        let (ctx, allowed) = self.session(p).await?;
        let mut out = Vec::new();
        for name in allowed.names {
            let df = ctx.table(name.as_str()).await.map_err(internal)?;
            out.push((name, Arc::new(df.schema().as_arrow().clone())));
        }
        Ok(out)
    }
}

fn deadline_exceeded() -> Status {
    Status::deadline_exceeded("the request's deadline passed before its result was sent")
}

/// What a session's plans may scan.
#[derive(Default)]
struct Allowed {
    /// The views' names, sorted.
    names: Vec<String>,
    /// The warehouse tables under the views (by address: the very providers registered).
    providers: BTreeSet<usize>,
}

fn address<T: ?Sized>(p: &Arc<T>) -> usize {
    Arc::as_ptr(p).cast::<()>() as usize
}

/// Refuses a plan scanning anything but the session's views (or the warehouse tables under
/// them) and `information_schema`: table functions and URL tables are scans of providers the
/// session never registered.
fn verify_scans(plan: &LogicalPlan, tables: &Allowed) -> Result<(), Status> {
    if matches!(plan, LogicalPlan::Explain(_) | LogicalPlan::Analyze(_)) {
        // EXPLAIN shows the server's file paths.
        return Err(Status::permission_denied(
            "query: only SELECT is allowed, not EXPLAIN",
        ));
    }
    let mut refused = None;
    plan.apply_with_subqueries(|node| {
        if let LogicalPlan::TableScan(scan) = node {
            let ours = datafusion::datasource::source_as_provider(&scan.source)
                .is_ok_and(|p| tables.providers.contains(&address(&p)));
            let r = &scan.table_name;
            let named = r.catalog().is_none_or(|c| c == CATALOG)
                && match r.schema() {
                    Some("information_schema") => true,
                    None | Some(SCHEMA) => {
                        tables.names.binary_search(&r.table().to_owned()).is_ok()
                    }
                    Some(_) => false,
                };
            if !(ours || named) {
                refused = Some(r.to_string());
                return Ok(TreeNodeRecursion::Stop);
            }
        }
        Ok(TreeNodeRecursion::Continue)
    })
    .map_err(internal)?;
    match refused {
        None => Ok(()),
        Some(name) => Err(Status::permission_denied(format!(
            "query: only the listed tables may be read, not {name} (no table functions or files)"
        ))),
    }
}

/// Counting a `do_get` stream once it ends.
struct Finish {
    metrics: crate::metrics::Metrics,
    rpc: &'static str,
    started: Instant,
}

/// A result stream inside the server's limits: it ends with DEADLINE_EXCEEDED when the
/// deadline passes before its last message, holds its concurrency slot until it ends (or the
/// client goes away, which drops it), and is counted in the metrics when it ends.
pub(crate) struct Guarded {
    inner: Pin<Box<dyn Stream<Item = Result<FlightData, Status>> + Send>>,
    deadline: Pin<Box<tokio::time::Sleep>>,
    slot: Option<OwnedSemaphorePermit>,
    finish: Option<Finish>,
}

impl Guarded {
    fn new(
        inner: Pin<Box<dyn Stream<Item = Result<FlightData, Status>> + Send>>,
        until: tokio::time::Instant,
        slot: OwnedSemaphorePermit,
        finish: Finish,
    ) -> Guarded {
        Guarded {
            inner,
            deadline: Box::pin(tokio::time::sleep_until(until)),
            slot: Some(slot),
            finish: Some(finish),
        }
    }

    fn end(&mut self, code: tonic::Code) {
        self.slot = None;
        if let Some(f) = self.finish.take() {
            f.metrics.record(f.rpc, code, f.started.elapsed());
        }
    }
}

impl Stream for Guarded {
    type Item = Result<FlightData, Status>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if self.slot.is_none() {
            return Poll::Ready(None);
        }
        if self.deadline.as_mut().poll(cx).is_ready() {
            self.end(tonic::Code::DeadlineExceeded);
            return Poll::Ready(Some(Err(deadline_exceeded())));
        }
        match self.inner.as_mut().poll_next(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(Some(Ok(data))) => Poll::Ready(Some(Ok(data))),
            Poll::Ready(Some(Err(status))) => {
                self.end(status.code());
                Poll::Ready(Some(Err(status)))
            }
            Poll::Ready(None) => {
                self.end(tonic::Code::Ok);
                Poll::Ready(None)
            }
        }
    }
}

impl Drop for Guarded {
    fn drop(&mut self) {
        // Dropped before its end: the client went away.
        self.end(tonic::Code::Cancelled);
    }
}

fn ticket_info(
    schema: &Schema,
    ticket: Vec<u8>,
    descriptor: FlightDescriptor,
) -> Result<FlightInfo, Status> {
    Ok(FlightInfo::new()
        .try_with_schema(schema)
        .map_err(internal)?
        .with_endpoint(FlightEndpoint::new().with_ticket(Ticket::new(ticket)))
        .with_descriptor(descriptor))
}

/// The `FlightInfo` of a metadata call, once the caller's key is known: its ticket is the
/// command itself, answered by the matching `do_get_*`.
fn metadata_info<T: ProstMessageExt>(
    request: Request<FlightDescriptor>,
    schema: &Schema,
    command: &T,
) -> Result<Response<FlightInfo>, Status> {
    partner(&request)?;
    let info = ticket_info(
        schema,
        command.as_any().encode_to_vec(),
        request.into_inner(),
    )?;
    Ok(Response::new(info))
}

fn sql_of(handle: &[u8], what: &str) -> Result<String, Status> {
    String::from_utf8(handle.to_vec())
        .map_err(|_| Status::invalid_argument(format!("{what}: not a statement")))
}

#[tonic::async_trait]
impl FlightSqlService for FlightSql {
    type FlightService = FlightSql;

    async fn get_flight_info_statement(
        &self,
        query: CommandStatementQuery,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        let p = partner(&request)?;
        let until = deadline(&request, self.timeout);
        let schema = self
            .unary(
                "FlightSql.GetFlightInfoStatement",
                &p,
                until,
                self.schema_of(&p, &query.query),
            )
            .await?;
        let ticket = TicketStatementQuery {
            statement_handle: query.query.into_bytes().into(),
        };
        let info = ticket_info(
            &schema,
            ticket.as_any().encode_to_vec(),
            request.into_inner(),
        )?;
        Ok(Response::new(info))
    }

    async fn do_get_statement(
        &self,
        ticket: TicketStatementQuery,
        request: Request<Ticket>,
    ) -> Result<Response<<Self as FlightService>::DoGetStream>, Status> {
        let p = partner(&request)?;
        let sql = sql_of(&ticket.statement_handle, "ticket")?;
        let until = deadline(&request, self.timeout);
        let stream = self
            .run("FlightSql.DoGetStatement", &p, until, &sql)
            .await?;
        Ok(do_get_response(stream))
    }

    async fn do_action_create_prepared_statement(
        &self,
        query: ActionCreatePreparedStatementRequest,
        request: Request<Action>,
    ) -> Result<ActionCreatePreparedStatementResult, Status> {
        let p = partner(&request)?;
        let until = deadline(&request, self.timeout);
        let schema = self
            .unary(
                "FlightSql.CreatePreparedStatement",
                &p,
                until,
                self.schema_of(&p, &query.query),
            )
            .await?;
        let IpcMessage(dataset_schema) =
            SchemaAsIpc::new(&schema, &arrow::ipc::writer::IpcWriteOptions::default())
                .try_into()
                .map_err(internal)?;
        Ok(ActionCreatePreparedStatementResult {
            // Stateless: the handle is the SQL, planned and checked again at each use.
            prepared_statement_handle: query.query.into_bytes().into(),
            dataset_schema,
            parameter_schema: Default::default(),
        })
    }

    async fn get_flight_info_prepared_statement(
        &self,
        cmd: CommandPreparedStatementQuery,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        let p = partner(&request)?;
        let sql = sql_of(&cmd.prepared_statement_handle, "prepared statement")?;
        let until = deadline(&request, self.timeout);
        let schema = self
            .unary(
                "FlightSql.GetFlightInfoPreparedStatement",
                &p,
                until,
                self.schema_of(&p, &sql),
            )
            .await?;
        let info = ticket_info(&schema, cmd.as_any().encode_to_vec(), request.into_inner())?;
        Ok(Response::new(info))
    }

    async fn do_get_prepared_statement(
        &self,
        cmd: CommandPreparedStatementQuery,
        request: Request<Ticket>,
    ) -> Result<Response<<Self as FlightService>::DoGetStream>, Status> {
        let p = partner(&request)?;
        let sql = sql_of(&cmd.prepared_statement_handle, "prepared statement")?;
        let until = deadline(&request, self.timeout);
        let stream = self
            .run("FlightSql.DoGetPreparedStatement", &p, until, &sql)
            .await?;
        Ok(do_get_response(stream))
    }

    async fn do_action_close_prepared_statement(
        &self,
        _query: ActionClosePreparedStatementRequest,
        request: Request<Action>,
    ) -> Result<(), Status> {
        // Nothing is held for a handle; closing only needs the key.
        partner(&request)?;
        Ok(())
    }

    async fn get_flight_info_sql_info(
        &self,
        query: CommandGetSqlInfo,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        metadata_info(
            request,
            &query.clone().into_builder(&SQL_INFO).schema(),
            &query,
        )
    }

    async fn do_get_sql_info(
        &self,
        query: CommandGetSqlInfo,
        request: Request<Ticket>,
    ) -> Result<Response<<Self as FlightService>::DoGetStream>, Status> {
        let p = partner(&request)?;
        let until = deadline(&request, self.timeout);
        let batch = query.into_builder(&SQL_INFO).build().map_err(internal)?;
        let stream = self.metadata_stream("FlightSql.GetSqlInfo", &p, until, batch)?;
        Ok(do_get_response(stream))
    }

    async fn get_flight_info_catalogs(
        &self,
        query: CommandGetCatalogs,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        metadata_info(request, &query.into_builder().schema(), &query)
    }

    async fn do_get_catalogs(
        &self,
        query: CommandGetCatalogs,
        request: Request<Ticket>,
    ) -> Result<Response<<Self as FlightService>::DoGetStream>, Status> {
        let p = partner(&request)?;
        let until = deadline(&request, self.timeout);
        let mut b = query.into_builder();
        b.append(CATALOG);
        let batch = b.build().map_err(internal)?;
        let stream = self.metadata_stream("FlightSql.GetCatalogs", &p, until, batch)?;
        Ok(do_get_response(stream))
    }

    async fn get_flight_info_schemas(
        &self,
        query: CommandGetDbSchemas,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        metadata_info(request, &query.clone().into_builder().schema(), &query)
    }

    async fn do_get_schemas(
        &self,
        query: CommandGetDbSchemas,
        request: Request<Ticket>,
    ) -> Result<Response<<Self as FlightService>::DoGetStream>, Status> {
        let p = partner(&request)?;
        let until = deadline(&request, self.timeout);
        let mut b = query.into_builder();
        b.append(CATALOG, SCHEMA);
        let batch = b.build().map_err(internal)?;
        let stream = self.metadata_stream("FlightSql.GetDbSchemas", &p, until, batch)?;
        Ok(do_get_response(stream))
    }

    async fn get_flight_info_tables(
        &self,
        query: CommandGetTables,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        metadata_info(request, &query.clone().into_builder().schema(), &query)
    }

    async fn do_get_tables(
        &self,
        query: CommandGetTables,
        request: Request<Ticket>,
    ) -> Result<Response<<Self as FlightService>::DoGetStream>, Status> {
        let p = partner(&request)?;
        let until = deadline(&request, self.timeout);
        let tables = self
            .unary("FlightSql.GetTables.Plan", &p, until, self.tables(&p))
            .await?;
        let mut b = query.into_builder();
        for (name, schema) in &tables {
            b.append(CATALOG, SCHEMA, name, TABLE_TYPE, schema)
                .map_err(internal)?;
        }
        let batch = b.build().map_err(internal)?;
        let stream = self.metadata_stream("FlightSql.GetTables", &p, until, batch)?;
        Ok(do_get_response(stream))
    }

    async fn get_flight_info_table_types(
        &self,
        query: CommandGetTableTypes,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        metadata_info(request, &query.into_builder().schema(), &query)
    }

    async fn do_get_table_types(
        &self,
        query: CommandGetTableTypes,
        request: Request<Ticket>,
    ) -> Result<Response<<Self as FlightService>::DoGetStream>, Status> {
        let p = partner(&request)?;
        let until = deadline(&request, self.timeout);
        let mut b = query.into_builder();
        b.append(TABLE_TYPE);
        let batch = b.build().map_err(internal)?;
        let stream = self.metadata_stream("FlightSql.GetTableTypes", &p, until, batch)?;
        Ok(do_get_response(stream))
    }

    async fn register_sql_info(&self, _id: i32, _result: &SqlInfo) {}
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finish() -> Finish {
        Finish {
            metrics: crate::metrics::Metrics::default(),
            rpc: "Test",
            started: Instant::now(),
        }
    }

    /// A result stream that has not ended by the deadline ends there with DEADLINE_EXCEEDED
    /// and gives its slot back, however long the query would have run. (The clock is tokio's
    /// paused test clock: it moves only when every task waits, so nothing here is timed.)
    #[tokio::test(start_paused = true)]
    async fn the_deadline_covers_the_whole_stream() {
        let slots = Arc::new(tokio::sync::Semaphore::new(1));
        let slot = slots.clone().try_acquire_owned().unwrap();
        let first = FlightData::default();
        // One message, then a query that never finishes.
        let inner =
            futures::stream::once(async move { Ok(first) }).chain(futures::stream::pending());
        let f = finish();
        let metrics = f.metrics.clone();
        let until = tokio::time::Instant::now() + Duration::from_secs(30);
        let mut s = Guarded::new(Box::pin(inner), until, slot, f);
        assert!(s.next().await.unwrap().is_ok());
        assert_eq!(slots.available_permits(), 0, "held while streaming");
        let err = s.next().await.unwrap().unwrap_err();
        assert_eq!(err.code(), tonic::Code::DeadlineExceeded);
        assert_eq!(tokio::time::Instant::now(), until);
        assert_eq!(slots.available_permits(), 1, "released at the deadline");
        assert!(s.next().await.is_none());
        assert!(
            metrics
                .render()
                .contains("renewal_requests_total{rpc=\"Test\",code=\"DeadlineExceeded\"} 1"),
            "{}",
            metrics.render()
        );
    }

    /// A client that goes away mid-stream gives the slot back.
    #[tokio::test]
    async fn a_dropped_stream_frees_its_slot() {
        let slots = Arc::new(tokio::sync::Semaphore::new(1));
        let slot = slots.clone().try_acquire_owned().unwrap();
        let until = tokio::time::Instant::now() + Duration::from_secs(30);
        let s = Guarded::new(Box::pin(futures::stream::pending()), until, slot, finish());
        assert_eq!(slots.available_permits(), 0);
        drop(s);
        assert_eq!(slots.available_permits(), 1);
    }

    /// Every session of the service runs on one runtime, so one memory pool bounds all
    /// Flight SQL queries together.
    #[tokio::test]
    async fn sessions_share_one_memory_pool() {
        let dir = tempfile::tempdir().unwrap();
        let warehouse = Warehouse::open_local(dir.path()).unwrap();
        let engine = Arc::new(renewal_query::Engine::new(
            warehouse.clone(),
            renewal_schema::Catalog::default(),
        ));
        let state = Arc::new(State::new(engine, 4));
        let f = FlightSql::new(warehouse, state, 8 << 20, Duration::from_secs(5)).unwrap();
        let (a, _) = f.session(&Partner::developer()).await.unwrap();
        let (b, _) = f.session(&Partner::developer()).await.unwrap();
        assert!(Arc::ptr_eq(&a.runtime_env(), &b.runtime_env()));
        assert!(Arc::ptr_eq(
            &a.runtime_env().memory_pool,
            &b.runtime_env().memory_pool
        ));
    }

    #[test]
    fn grpc_timeouts_parse_as_the_spec_writes_them() {
        assert_eq!(parse_grpc_timeout("5S"), Some(Duration::from_secs(5)));
        assert_eq!(parse_grpc_timeout("250m"), Some(Duration::from_millis(250)));
        assert_eq!(parse_grpc_timeout("2H"), Some(Duration::from_secs(7200)));
        assert_eq!(parse_grpc_timeout("S"), None);
        assert_eq!(parse_grpc_timeout("123456789S"), None);
        assert_eq!(parse_grpc_timeout("5x"), None);
        assert_eq!(parse_grpc_timeout(""), None);
    }
}
