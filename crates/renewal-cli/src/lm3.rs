//! `renewal ingest lm3-survey` and `renewal lm3`: argument parsing and rendering only (the
//! survey layouts are `data-schemas/datasets/lm3/`, the method `renewal_stats::lm3`).

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use clap::Args;
use renewal_query::lm3::{Lm3Proxies, Share};
use renewal_schema::Catalog;
use renewal_warehouse::{Draft, Warehouse};

use crate::{Format, PublishArgs, output, parse_pin, progress};

/// `renewal ingest lm3-survey`.
#[derive(Debug, Args)]
pub struct Lm3SurveyArgs {
    /// Dataset id, starting with lm3- (default lm3-<slug> from the supplier-returns file's
    /// name: renewal_vale_lm3_survey.csv → lm3-renewal-vale).
    #[arg(long)]
    dataset: Option<String>,
    /// The surveying body's district (a LAD code such as E08000006), recorded with the
    /// survey; a server key limited to some authorities reads it only if this is one of them.
    #[arg(long, value_name = "CODE")]
    body_area: Option<String>,
    #[command(flatten)]
    pub(crate) publish: PublishArgs,
    /// Supplier returns (round 2) and re-spend returns (round 3), recognised by header; all
    /// make one dataset version.
    #[arg(required = true)]
    files: Vec<PathBuf>,
}

/// Reads the survey files into one draft.
pub fn ingest(catalog: &Catalog, args: &Lm3SurveyArgs, progress: &progress::Bars) -> Result<Draft> {
    let options = renewal_ingest::Lm3Options {
        dataset: args.dataset.clone(),
        body_area: args.body_area.clone(),
    };
    Ok(renewal_ingest::read_lm3_survey(
        catalog,
        &args.files,
        &options,
        progress,
    )?)
}

/// `renewal lm3`.
#[derive(Debug, Args)]
pub struct Lm3Args {
    /// The LM3 survey dataset (`renewal ingest lm3-survey`), e.g. lm3-renewal-vale.
    #[arg(long)]
    dataset: String,
    /// Round 2 local shares of suppliers' spend, STAFF,SUPPLIERS (e.g. 0.25,0.1), used only
    /// when no surveyed supplier responded.
    #[arg(long, value_name = "STAFF,SUPPLIERS")]
    round2_proxy: Option<String>,
    /// Local re-spend share of suppliers' local staff (e.g. 0.4), used only when no staff
    /// re-spend returns were collected.
    #[arg(long, value_name = "SHARE")]
    staff_respend_proxy: Option<String>,
    /// Local re-spend share of suppliers' local suppliers, used only when none returned one.
    #[arg(long, value_name = "SHARE")]
    supplier_respend_proxy: Option<String>,
    /// Use a given version of a dataset instead of the current one, e.g. --at lm3-renewal-vale=1.
    #[arg(long = "at", value_name = "DATASET=VERSION", value_parser = parse_pin)]
    pins: Vec<(String, u64)>,
    #[arg(long, value_enum, default_value = "csv")]
    format: Format,
    /// Write to this file instead of standard output.
    #[arg(long, short)]
    out: Option<PathBuf>,
}

impl Lm3Args {
    fn proxies(&self) -> Result<Lm3Proxies> {
        let share = |flag: &str, text: &str| {
            Share::parse_share(text).with_context(|| format!("--{flag} {text:?}"))
        };
        let round2 = match &self.round2_proxy {
            None => None,
            Some(text) => {
                let Some((staff, suppliers)) = text.split_once(',') else {
                    bail!(
                        "--round2-proxy {text:?}: expected two shares, STAFF,SUPPLIERS (e.g. \
                         0.25,0.1)"
                    );
                };
                Some((
                    share("round2-proxy", staff)?,
                    share("round2-proxy", suppliers)?,
                ))
            }
        };
        Ok(Lm3Proxies {
            round2,
            staff_respend: self
                .staff_respend_proxy
                .as_deref()
                .map(|t| share("staff-respend-proxy", t))
                .transpose()?,
            supplier_respend: self
                .supplier_respend_proxy
                .as_deref()
                .map(|t| share("supplier-respend-proxy", t))
                .transpose()?,
        })
    }
}

/// Answers `renewal lm3`.
pub async fn lm3(warehouse: &Warehouse, args: &Lm3Args) -> Result<()> {
    let proxies = args.proxies()?;
    let pins = args.pins.iter().cloned().collect();
    let answer = renewal_query::lm3::lm3(warehouse, &args.dataset, &pins, &proxies).await?;
    output::answer(
        args.format,
        args.out.as_deref(),
        &answer.batches,
        &answer.basis,
        &answer.notes,
        "renewal lm3",
    )
}
