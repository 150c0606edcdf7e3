//! `renewal ingest postcodes FILE`: the ONS Postcode Directory (or NSPL, or a column subset of
//! either) into the `postcodes` dataset. Glue only: reading is `renewal_ingest::postcodes`.

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;
use renewal_ingest::postcodes::{DEFAULT_MAX_ROWS, PostcodeOptions, read_postcodes};
use renewal_schema::Catalog;
use renewal_warehouse::Draft;

/// Arguments of `renewal ingest postcodes`.
#[derive(Debug, Args)]
pub struct PostcodeArgs {
    /// Dataset id.
    #[arg(long, default_value = renewal_ingest::postcodes::DATASET)]
    dataset: String,
    /// Most postcodes accepted (a full release holds about 2.7 million).
    #[arg(long, default_value_t = DEFAULT_MAX_ROWS)]
    max_postcodes: u64,
    #[command(flatten)]
    publish: super::PublishArgs,
    /// The directory: CSV or gzipped CSV, read as a stream (the real ~1 GB file is fine).
    file: PathBuf,
}

/// The draft to publish, and how many versions to keep.
pub fn drafts(
    catalog: &Catalog,
    args: &PostcodeArgs,
    progress: &crate::progress::Bars,
) -> Result<(Vec<Draft>, usize)> {
    let options = PostcodeOptions {
        dataset: Some(args.dataset.clone()),
        max_rows: args.max_postcodes,
        ..PostcodeOptions::from_env()?
    };
    let draft = read_postcodes(&args.file, catalog, &options, progress)?;
    Ok((vec![draft], args.publish.keep))
}
