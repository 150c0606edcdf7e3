//! `renewal ingest spend` and `renewal ingest suppliers`: councils' spend-over-£500 files and
//! their supplier registers (issue 16), published like every other ingest.

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;
use renewal_schema::Catalog;
use renewal_warehouse::Draft;

use crate::PublishArgs;
use crate::progress::Bars;

/// Arguments of `renewal ingest spend`.
#[derive(Debug, Args)]
pub struct SpendArgs {
    /// Dataset id, spend-<slug> (a bare slug gets the prefix). Default: from the paying body,
    /// e.g. spend-salford-city-council.
    #[arg(long)]
    pub dataset: Option<String>,
    /// The paying body's district code (e.g. E08000006), for layouts that do not say.
    #[arg(long, value_name = "CODE")]
    pub body_area: Option<String>,
    #[command(flatten)]
    pub publish: PublishArgs,
    /// Spend files of one body (any mix of its layouts and months); a payment repeated in a
    /// later file (by name order) is kept once and reported.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
}

/// Arguments of `renewal ingest suppliers`.
#[derive(Debug, Args)]
pub struct SuppliersArgs {
    /// Dataset id, suppliers-<slug> (a bare slug gets the prefix). Default: from the body a
    /// register's format names; a plain supplier list needs it.
    #[arg(long)]
    pub dataset: Option<String>,
    #[command(flatten)]
    pub publish: PublishArgs,
    /// Contract registers or supplier lists (Supplier Name,Company Number,Charity Number,
    /// Postcode,SME).
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
}

/// Reads the spend files into one draft.
pub fn spend(catalog: &Catalog, args: &SpendArgs, progress: &Bars) -> Result<(Vec<Draft>, usize)> {
    let options = renewal_ingest::SpendOptions {
        dataset: args.dataset.clone(),
        body_area: args.body_area.clone(),
    };
    let draft = renewal_ingest::read_spend(catalog, &args.files, &options, progress)?;
    Ok((vec![draft], args.publish.keep))
}

/// Reads the registers and lists into one draft.
pub fn suppliers(
    catalog: &Catalog,
    args: &SuppliersArgs,
    progress: &Bars,
) -> Result<(Vec<Draft>, usize)> {
    let options = renewal_ingest::SupplierOptions {
        dataset: args.dataset.clone(),
    };
    let draft = renewal_ingest::read_suppliers(catalog, &args.files, &options, progress)?;
    Ok((vec![draft], args.publish.keep))
}
