//! Arrow Flight SQL for analysts' ad-hoc, read-only SQL: statement queries (`execute`, then
//! `do_get` on the ticket), planned and run by DataFusion.
//!
//! Each request gets a fresh DataFusion session holding only what the caller may see:
//! - only tables that disclose no small counts: the Indices of Deprivation (LSOA scores,
//!   ranks, deciles and population denominators as MHCLG publishes them) and the ONS lookups.
//!   Census, benefit, crime and Best Value counts are reached through the disclosure-controlled
//!   questions of the `Analysis` service, never as raw rows;
//! - only datasets the key's `datasets` patterns allow, and for a key limited to some
//!   authorities, only their rows (each table is a view filtered on its authority column);
//! - SELECT only: DDL, DML (COPY, INSERT) and statements (SET) are refused when the plan is
//!   verified; no URL tables, so no file access;
//! - the server's memory limit.
//!
//! Tables are named `<dataset>__<table>` with `-` as `_`: `iod_2019__iod`,
//! `lookup_lsoa11_wd19__lookup`.

use std::pin::Pin;

use arrow_flight::encode::FlightDataEncoderBuilder;
use arrow_flight::error::FlightError;
use arrow_flight::flight_service_server::FlightService;
use arrow_flight::sql::server::FlightSqlService;
use arrow_flight::sql::{CommandStatementQuery, ProstMessageExt, SqlInfo, TicketStatementQuery};
use arrow_flight::{FlightDescriptor, FlightEndpoint, FlightInfo, Ticket};
use datafusion::execution::context::{SQLOptions, SessionContext};
use datafusion::logical_expr::LogicalPlan;
use datafusion::prelude::{SessionConfig, col, lit};
use futures::{Stream, StreamExt, TryStreamExt};
use prost::Message as _;
use renewal_warehouse::Warehouse;
use tonic::{Request, Response, Status};

use crate::auth::Partner;

/// Dataset kinds whose tables Flight SQL exposes, and the column naming each row's authority.
const EXPOSED: [(&str, &str, &str); 4] = [
    ("iod", "iod", "lad_code"),
    ("iod", "lsoa", "lad_code"),
    ("iod", "lad_summary", "area_code"),
    ("lookup", "lookup", "lad_code"),
];

pub struct FlightSql {
    pub warehouse: Warehouse,
    pub memory_limit: usize,
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

impl FlightSql {
    /// A session with exactly the tables `partner` may read.
    async fn session(&self, partner: &Partner) -> Result<SessionContext, Status> {
        let config = SessionConfig::new()
            .with_target_partitions(2)
            .with_information_schema(true);
        let runtime = datafusion::execution::runtime_env::RuntimeEnvBuilder::new()
            .with_memory_limit(self.memory_limit.max(1 << 20), 1.0)
            .build_arc()
            .map_err(internal)?;
        let ctx = SessionContext::new_with_config_rt(config, runtime);
        let unavailable = |e: renewal_warehouse::WarehouseError| Status::unavailable(e.to_string());
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
                let df = ctx.read_table(provider).map_err(internal)?;
                let df = if partner.all_authorities() {
                    df
                } else {
                    let allowed = partner.authorities.iter().map(|a| lit(a.clone())).collect();
                    df.filter(col(authority_column).in_list(allowed, false))
                        .map_err(internal)?
                };
                ctx.register_table(table_name(&id, table).as_str(), df.into_view())
                    .map_err(internal)?;
            }
        }
        Ok(ctx)
    }

    /// Plans `sql`, refusing anything but a query.
    async fn plan(&self, ctx: &SessionContext, sql: &str) -> Result<LogicalPlan, Status> {
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
        Ok(plan)
    }
}

type DoGetStream = Pin<Box<dyn Stream<Item = Result<arrow_flight::FlightData, Status>> + Send>>;

#[tonic::async_trait]
impl FlightSqlService for FlightSql {
    type FlightService = FlightSql;

    async fn get_flight_info_statement(
        &self,
        query: CommandStatementQuery,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        let p = partner(&request)?;
        let ctx = self.session(&p).await?;
        let plan = self.plan(&ctx, &query.query).await?;
        let schema = plan.schema().as_arrow().clone();
        // The ticket carries the statement itself: do_get checks the key and plans it again,
        // so a ticket is worth nothing to someone without the right scopes.
        let ticket = TicketStatementQuery {
            statement_handle: query.query.into_bytes().into(),
        };
        let endpoint =
            FlightEndpoint::new().with_ticket(Ticket::new(ticket.as_any().encode_to_vec()));
        let info = FlightInfo::new()
            .try_with_schema(&schema)
            .map_err(internal)?
            .with_endpoint(endpoint)
            .with_descriptor(request.into_inner());
        tracing::info!(partner = %p.partner, "flight sql statement planned");
        Ok(Response::new(info))
    }

    async fn do_get_statement(
        &self,
        ticket: TicketStatementQuery,
        request: Request<Ticket>,
    ) -> Result<Response<<Self as FlightService>::DoGetStream>, Status> {
        let p = partner(&request)?;
        let sql = String::from_utf8(ticket.statement_handle.to_vec())
            .map_err(|_| Status::invalid_argument("ticket: not a statement"))?;
        let ctx = self.session(&p).await?;
        let plan = self.plan(&ctx, &sql).await?;
        let df = ctx.execute_logical_plan(plan).await.map_err(internal)?;
        let stream = df.execute_stream().await.map_err(internal)?;
        let schema = stream.schema();
        let batches = stream
            .map_err(|e| FlightError::from(arrow::error::ArrowError::ExternalError(Box::new(e))));
        let encoded: DoGetStream = Box::pin(
            FlightDataEncoderBuilder::new()
                .with_schema(schema)
                .build(batches)
                .map(|r| r.map_err(Status::from)),
        );
        Ok(Response::new(encoded))
    }

    async fn register_sql_info(&self, _id: i32, _result: &SqlInfo) {}
}
