//! `renewal spend place` and `renewal spend years`: where a body's payments land (issue 16).
//! Argument parsing and rendering only; the questions are `renewal_query::spend`'s.

use std::path::PathBuf;

use anyhow::Result;
use clap::{Args, Subcommand, ValueEnum};
use renewal_geo::Vintage;
use renewal_query::spend::{Breakdown, DEFAULT_TOP, POSTCODES_DATASET, Period, SpendRequest};
use renewal_query::{Answer, Engine};

use crate::{Format, output, parse_pin};

/// The spend questions.
#[derive(Debug, Subcommand)]
pub enum SpendCommand {
    /// A period's spend by the supplier's district (inside/outside the body's own), ward, LSOA
    /// or IMD decile, by service area, expense type, top suppliers or kind of payee. Rows
    /// (with `not located`) sum to the period's total in pence; stderr notes give the shares
    /// matched by company number, by name, and not located.
    Place(PlaceArgs),
    /// The same breakdown per financial year, with the mean of the earlier years as a baseline
    /// and the change against it.
    Years(YearsArgs),
}

/// How to group payments.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum By {
    District,
    Ward,
    Lsoa,
    Decile,
    LocalDecile,
    Service,
    Expense,
    Supplier,
    Kind,
}

impl From<By> for Breakdown {
    fn from(b: By) -> Breakdown {
        match b {
            By::District => Breakdown::District,
            By::Ward => Breakdown::Ward,
            By::Lsoa => Breakdown::Lsoa,
            By::Decile => Breakdown::Decile,
            By::LocalDecile => Breakdown::LocalDecile,
            By::Service => Breakdown::Service,
            By::Expense => Breakdown::Expense,
            By::Supplier => Breakdown::Supplier,
            By::Kind => Breakdown::Kind,
        }
    }
}

/// Options both spend questions take.
#[derive(Debug, Args)]
pub struct PlaceArgs {
    /// The payments dataset (spend-…, from `renewal ingest spend`).
    #[arg(long)]
    spend: String,
    /// The supplier register dataset (suppliers-…).
    #[arg(long)]
    suppliers: String,
    /// The postcode directory dataset.
    #[arg(long, default_value = POSTCODES_DATASET)]
    postcodes: String,
    /// A financial year (2021-22) or dates (2021-04-01..2021-09-30, inclusive).
    #[arg(long)]
    period: Period,
    /// How to group the payments.
    #[arg(long, value_enum)]
    by: By,
    /// Organisations named by --by supplier; the others share one row.
    #[arg(long, default_value_t = DEFAULT_TOP)]
    top: usize,
    /// IoD edition placing suppliers' LSOAs (its LSOA vintage) and deciles (a year, or
    /// `newest`); without it, the default edition of data-schemas/editions.toml.
    #[arg(long)]
    edition: Option<String>,
    /// Ward vintage for --by ward (e.g. WD19); optional when one lookup fits.
    #[arg(long)]
    ward_vintage: Option<Vintage>,
    /// Use a given version of a dataset instead of the current one, e.g. --at postcodes=2.
    #[arg(long = "at", value_name = "DATASET=VERSION", value_parser = parse_pin)]
    pins: Vec<(String, u64)>,
    #[arg(long, value_enum, default_value = "csv")]
    format: Format,
    /// Write to this file instead of standard output.
    #[arg(long, short)]
    out: Option<PathBuf>,
}

/// `renewal spend years`.
#[derive(Debug, Args)]
pub struct YearsArgs {
    #[command(flatten)]
    place: PlaceArgs,
    /// Financial years before --period whose mean is the baseline; refused when any has no
    /// payments.
    #[arg(long, default_value_t = 3)]
    baseline: usize,
}

impl PlaceArgs {
    fn request(&self) -> SpendRequest {
        SpendRequest {
            spend: self.spend.clone(),
            suppliers: self.suppliers.clone(),
            postcodes: self.postcodes.clone(),
            period: self.period.clone(),
            breakdown: self.by.into(),
            top: self.top,
            edition: self.edition.clone(),
            ward_vintage: self.ward_vintage,
        }
    }
}

/// Runs a spend question and writes its answer.
pub async fn run(engine: Engine, command: &SpendCommand) -> Result<()> {
    match command {
        SpendCommand::Place(args) => {
            let pins = args.pins.iter().cloned().collect();
            let answer =
                renewal_query::spend::spend_by_place(&engine, &args.request(), &pins).await?;
            render(&answer, args, "renewal spend place")
        }
        SpendCommand::Years(args) => {
            let pins = args.place.pins.iter().cloned().collect();
            let answer = renewal_query::spend::spend_by_year(
                &engine,
                &args.place.request(),
                args.baseline,
                &pins,
            )
            .await?;
            render(&answer, &args.place, "renewal spend years")
        }
    }
}

fn render(answer: &Answer, args: &PlaceArgs, title: &str) -> Result<()> {
    output::answer(
        args.format,
        args.out.as_deref(),
        &answer.batches,
        &answer.basis,
        &answer.notes,
        title,
    )
}
