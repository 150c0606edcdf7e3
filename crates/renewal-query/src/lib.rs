//! Queries over the warehouse with Apache DataFusion.
//!
//! Every answer says which dataset versions it was computed from ([`Basis`]), and area figures
//! built from LSOAs say how the LSOAs were assigned (best-fit or exact), so a reader can tell a
//! ward aggregate from an official ward figure.
//!
//! Architecture invariant: this crate reads Parquet and manifests only; it never links polars
//! or the ingest code. The warehouse manifest is the whole contract.

mod aggregate;
mod answer;
mod bridging;
mod cache;
mod engine;
mod geography;
pub mod lm3;
mod map;
mod native;
mod population;
mod priority;
mod profile;
mod questions;
pub mod render;
pub mod spend;
mod store;
mod summary;
mod tables;

use std::collections::BTreeMap;

use datafusion::error::DataFusionError;
use renewal_warehouse::WarehouseError;

pub use aggregate::{Aggregate, Assessed, Evaluated, Figure, evaluate};
pub use answer::{Answer, Kind as ColumnKind, answer_from_rows};
pub use bridging::{BridgeUse, lsoa_bridge};
pub use cache::DEFAULT_CACHE_BYTES;
pub use engine::{DEFAULT_DISCLOSURE_THRESHOLD, Engine, Scope};
pub use geography::{Area, AreaLevel, ENGLAND_CODE, Neighbourhood, ParentSet, parent_districts};
pub use map::{DEFAULT_MAP_PRECISION, GapMap, MapOptions, gap_map, vertex_count};
pub use priority::{DOMAINS, PriorityRequest, priority_neighbourhoods};
pub use profile::{area_profile, most_similar};
pub use questions::{
    Benchmark, GAP_COLUMNS, GapRequest, GapRow, Selection, SelectionRequest, TrendRequest,
    deprived_vs_rest, financial_years, gap_table, narrowing, period_position, target_status,
};
pub use questions::{CHANGE_COLUMNS, ChangeRequest, change_vs_similar};
pub use questions::{
    DEFAULT_PLAN, LPP_COLUMNS, LppRequest, VALUES_NOT_POOLED, local_performance_plan,
};
pub use questions::{authority_code, deprived_vs_england, narrowing_vs_england};
pub use store::{
    LEGACY_OWNER, NEIGHBOURHOODS, TARGETS, Target, authorities_of, delete_neighbourhood,
    delete_target, neighbourhoods, register_neighbourhood, register_target, targets,
};
pub use summary::{
    DOMAIN_SUMMARY_COLUMNS, SUMMARY_COLUMNS, SUMMARY_DOMAINS, Summary, SummaryLevel,
    SummaryRequest, iod_summary,
};
pub use tables::{DatasetPins, set_memory_limit, string_column, table_provider};

#[derive(Debug, thiserror::Error)]
pub enum QueryError {
    #[error(transparent)]
    Warehouse(#[from] WarehouseError),
    #[error("query engine: {0}")]
    Engine(#[from] DataFusionError),
    #[error("{0}")]
    Arrow(#[from] arrow::error::ArrowError),
    /// The question cannot be answered from what is in the warehouse.
    #[error("{0}")]
    Precondition(String),
    /// The question itself is malformed.
    #[error("{0}")]
    InvalidArgument(String),
    /// The question names an indicator, area or period that does not exist.
    #[error("{0}")]
    NotFound(String),
    /// The caller may not do this: a registration owned by another partner.
    #[error("{0}")]
    PermissionDenied(String),
}

pub type Result<T, E = QueryError> = std::result::Result<T, E>;

/// Which dataset versions an answer used, and how its areas were built.
#[derive(Debug, Clone, PartialEq)]
pub struct Basis {
    /// Dataset id → version.
    pub datasets: BTreeMap<String, u64>,
    /// Human-readable account of how area figures were built, e.g.
    /// `best-fit: LSOA11 assigned whole to WD19 wards (ONS lookup)`.
    pub method: String,
    /// `exact` or `best-fit`.
    pub fit: renewal_geo::Fit,
    /// Figures moved between LSOA vintages to reach the answer's geography (empty when none
    /// were): which bridge, which weights, what share was apportioned.
    pub bridges: Vec<BridgeUse>,
}
