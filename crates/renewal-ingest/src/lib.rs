//! Ingestion: published files in, validated warehouse drafts out.
//!
//! Each dataset family has one module (`iod`, `lookup`, `observations`, `crime`, `population`,
//! `boundaries`); all of them share [`source`] (CSV,
//! gzipped CSV and XLSX into text tables, with line numbers), [`number`] (numbers as published)
//! and [`frame`] (polars frames to Parquet). Adding a format of a known family is a new file
//! under `data-schemas/`; adding a family is a new module here plus its schema folder.
//!
//! Errors name the file, line (or sheet and row) and column of bad input; nothing is published
//! from here, so a failed read leaves the warehouse untouched by construction.
//!
//! Architecture invariant: no DataFusion here, and no writes to the warehouse: this crate
//! returns [`renewal_warehouse::Draft`]s and the caller publishes them.

pub mod boundaries;
pub mod bridge;
pub mod crime;
pub mod error;
pub mod frame;
pub mod iod;
pub mod lm3;
pub mod lookup;
pub mod number;
pub mod observations;
pub mod parents;
pub mod population;
pub mod postcodes;
pub mod progress;
pub mod source;
pub mod spend;
mod vintage;

pub use boundaries::{BoundaryOptions, read_boundaries};
pub use crime::{Boundaries, CrimeOptions, read_crime};
pub use error::{IngestError, Location};
pub use iod::read_iod;
pub use lm3::{Lm3Options, read_lm3_survey};
pub use lookup::read_lookups;
pub use observations::{ObservationOptions, read_observations};
pub use parents::{ParentsOptions, read_parents};
pub use population::{PopulationOptions, read_population};
pub use postcodes::{PostcodeOptions, read_postcodes};
pub use progress::{NoProgress, Progress};
pub use spend::{SpendOptions, SupplierOptions, read_spend, read_suppliers};
