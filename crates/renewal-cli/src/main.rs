//! `renewal`: the command line over the Renewal libraries. Glue only: every decision about data
//! lives in a library crate.

mod ask;
mod lm3;
mod output;
mod postcodes;
mod progress;
mod spend;
mod spend_ingest;
mod upload;

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::{Args, Parser, Subcommand, ValueEnum};
use renewal_geo::Vintage;
use renewal_query::{SummaryLevel, SummaryRequest};
use renewal_schema::Catalog;
use renewal_warehouse::{PublishOptions, Published, Warehouse};

/// Renewal: a warehouse and query service for neighbourhood deprivation statistics in England.
#[derive(Debug, Parser)]
#[command(name = "renewal", version, about, long_about = None, propagate_version = true)]
struct Cli {
    /// Warehouse directory.
    #[arg(
        long,
        global = true,
        env = "RENEWAL_WAREHOUSE",
        default_value = "warehouse"
    )]
    warehouse: PathBuf,

    /// Read dataset formats from this data-schemas/ directory instead of the built-in set.
    #[arg(long, global = true, env = "RENEWAL_SCHEMAS")]
    schemas: Option<PathBuf>,

    /// Log more (-v info, -vv debug). RENEWAL_LOG takes a tracing filter for finer control.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    verbose: u8,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Read published files, validate them and publish a new warehouse version.
    #[command(subcommand)]
    Ingest(Ingest),
    /// IoD summaries (average score, average rank, extent, local concentration, …) per area.
    Summary(SummaryArgs),
    /// The indicator catalogue (data-schemas/indicators/).
    Indicators {
        /// Full definitions as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Each ward's (or LSOA's, neighbourhood's, authority's) value with 95% and 99.8% CIs
    /// against its authority or England: gap, ratio, better/similar/worse, rank.
    Gap(ask::GapArgs),
    /// Selected areas (deprived deciles, a list, a neighbourhood) pooled against the rest of
    /// their authority.
    Versus(ask::VersusArgs),
    /// The Local Performance Plan for an authority and a financial year: every Best Value and
    /// outcome indicator (data-schemas/plans/lpp.toml), authority-wide, per ward, deprived
    /// against the rest, the trend up to the year and each target's status.
    Lpp(ask::LppArgs),
    /// Narrowing the gap: the selection against the rest of its authority in every period,
    /// with the trend marker and whether the gap is narrowing.
    Trend(ask::TrendArgs),
    /// Gap targets ("halve the gap by year Y"): register, and report status.
    #[command(subcommand)]
    Target(ask::TargetCommand),
    /// Priority neighbourhoods: LSOAs in the most deprived n% nationally, and pockets.
    Priority(ask::PriorityArgs),
    /// Every indicator for one area beside its authority and England.
    Profile(ask::ProfileArgs),
    /// The areas most similar to one area over chosen indicators.
    Similar(ask::SimilarArgs),
    /// Change against similar areas: an area's change between two periods against the
    /// pooled change of its k most similar areas (similar on baseline indicators), with a
    /// 95% interval for the difference in change.
    Change(ask::ChangeArgs),
    /// The gap question for one authority's wards (or LSOAs) as a GeoJSON map: each
    /// feature's properties are exactly its row of `renewal gap`, withheld figures included
    /// as null; `basis` and `notes` sit beside the features. Needs the boundaries of the
    /// answer's ward vintage (`renewal ingest boundaries`).
    Map(ask::MapArgs),
    /// Local Multiplier 3 of a supplier survey (`renewal ingest lm3-survey`): rounds 1-3 of
    /// spend retained inside the boundary, response rates, the proxies used, and LM3.
    Lm3(lm3::Lm3Args),
    /// Custom neighbourhoods: named sets of LSOAs.
    #[command(subcommand)]
    Neighbourhood(ask::NeighbourhoodCommand),
    /// Where public money lands: a body's payments by the supplier's place and IMD decile,
    /// service, expense type, supplier and kind, per period or per year against a baseline.
    #[command(subcommand)]
    Spend(spend::SpendCommand),
    /// Serve the catalogue and questions over gRPC (and grpc-web) to partners.
    Serve(ServeArgs),
    /// Print the SHA-256 of an API key, as the keys file stores it.
    HashKey {
        /// The key (give it on stdin instead with -).
        key: String,
    },
    /// Inspect the warehouse.
    #[command(subcommand)]
    Warehouse(WarehouseCommand),
    /// Write a small fictional authority's files in the real published formats.
    Sample(SampleArgs),
    /// The scheduled ETL job: fetch what changed in sources.toml, ingest it, publish it.
    ///
    /// Exit status: 0 when every dataset is unchanged or refreshed, 1 when any failed (the
    /// others still ran; a failed one keeps its current version), 2 for a usage or
    /// configuration error, 3 when another refresh holds the lock.
    Refresh(RefreshArgs),
    /// Send one dataset version's files to a Renewal server (its `Ingest` service), which
    /// validates them as `renewal ingest` would and publishes them atomically: a partner's
    /// scheduled ETL job. The key is read from an environment variable (--key-env).
    ///
    /// Exit status: 0 when the server published the files or found them unchanged, 1 when it
    /// refused them (its message names the file, line and column) or could not be reached.
    Upload(upload::UploadArgs),
}

#[derive(Debug, Args)]
struct ServeArgs {
    /// Settings file (TOML; see README). Flags and environment override it.
    #[arg(long, env = "RENEWAL_SERVER_CONFIG")]
    config: Option<PathBuf>,
    /// Address to listen on.
    #[arg(long, env = "RENEWAL_ADDR")]
    addr: Option<std::net::SocketAddr>,
    /// API keys file (hashed keys with scopes).
    #[arg(long, env = "RENEWAL_KEYS")]
    keys: Option<PathBuf>,
    /// Development mode: no authentication, loopback addresses only.
    #[arg(long)]
    dev: bool,
    /// Browser origin allowed over grpc-web (repeat; `*` for any).
    #[arg(long = "cors-origin")]
    cors_origins: Vec<String>,
    /// Counts below this are withheld (at least 1).
    #[arg(long)]
    disclosure_threshold: Option<f64>,
    /// Queries served at once; more get RESOURCE_EXHAUSTED at once (never queued).
    #[arg(long)]
    max_concurrent_queries: Option<usize>,
    /// Megabytes of aggregates kept between requests (estimated; stale versions go first,
    /// then the least recently used).
    #[arg(long, env = "RENEWAL_AGGREGATE_CACHE_MB")]
    aggregate_cache_mb: Option<usize>,
    /// DataFusion memory for sorts, joins and aggregates, in megabytes; a query needing more
    /// gets RESOURCE_EXHAUSTED.
    #[arg(long)]
    memory_limit_mb: Option<usize>,
    /// Connections open at once; further ones are closed as soon as they are accepted.
    #[arg(long)]
    max_connections: Option<usize>,
    /// Serve Prometheus metrics (GET /metrics, plain HTTP) on this address.
    #[arg(long, env = "RENEWAL_METRICS_ADDR")]
    metrics_addr: Option<std::net::SocketAddr>,
    /// Serve the HTTP feed for dashboards (JSON and CSV under /api/v1/, plain HTTP, the same
    /// keys and scopes) on this address.
    #[arg(long, env = "RENEWAL_HTTP_ADDR")]
    http_addr: Option<std::net::SocketAddr>,
    /// PEM certificate chain for TLS (with --tls-key).
    #[arg(long, env = "RENEWAL_TLS_CERT", requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// PEM private key for TLS (with --tls-cert).
    #[arg(long, env = "RENEWAL_TLS_KEY", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// Uploads: most bytes one upload may send, over all its files (default 512 MiB).
    #[arg(long)]
    max_upload_bytes: Option<u64>,
    /// Uploads: most bytes one upload's files may come to with .gz files decompressed
    /// (default 2 GiB).
    #[arg(long)]
    max_upload_decompressed_bytes: Option<u64>,
    /// Uploads: most files in one upload, boundary files included (default 64).
    #[arg(long)]
    max_upload_files: Option<usize>,
}

#[derive(Debug, Args)]
struct RefreshArgs {
    /// The source manifest.
    #[arg(long, default_value = "sources.toml", env = "RENEWAL_SOURCES")]
    sources: PathBuf,
    /// Refresh only this dataset id.
    #[arg(long)]
    only: Option<String>,
    /// Fetch and compare, publish nothing.
    #[arg(long)]
    dry_run: bool,
    /// Print a JSON summary instead of one line per dataset.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Subcommand)]
enum Ingest {
    /// English Indices of Deprivation files of one edition (any mix of official Files 1–9 as
    /// CSV, gzipped CSV or XLSX, and the community layouts in data-schemas/datasets/iod/).
    Imd {
        /// IoD edition (e.g. 2019, 2025): required, because files of different editions can
        /// share a layout and the edition decides N, the LSOA geography and the dataset.
        #[arg(long)]
        vintage: String,
        #[command(flatten)]
        publish: PublishArgs,
        /// Files to read together; they are merged by LSOA.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// ONS LSOA → ward → local authority lookups; vintages are read from the headers.
    Lookup {
        #[command(flatten)]
        publish: PublishArgs,
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Census tables (Nomis long layout; category labels kept verbatim).
    Census(ObservationArgs),
    /// DWP benefit counts and claimant rates by LSOA, ward or authority and month.
    Benefits(ObservationArgs),
    /// Service-performance indicators (Oflog metrics) by authority and financial year.
    Services(ObservationArgs),
    /// police.uk street-level crime CSVs: incidents and monthly counts per LSOA × crime type.
    Crime(CrimeArgs),
    /// Ward or LSOA boundaries (GeoJSON, WGS84) into boundaries-<vintage> (boundaries-wd19),
    /// for maps. ONS files state the vintage in their properties (WD19CD); Trafford Data Lab
    /// files (area_code) need --vintage. All files of a vintage make one version.
    Boundaries {
        /// Vintage of the areas (WD19, WD24, LSOA11, LSOA21, …), for files that do not say.
        #[arg(long, value_name = "VINTAGE")]
        vintage: Option<Vintage>,
        #[command(flatten)]
        publish: PublishArgs,
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Population per LSOA by sex and age band: ONS mid-year estimates (open-data layout, or
    /// the ONS release as CSV per year or XLSX with a sheet per year) and Census 2021 usual
    /// residents. All files given make one dataset version.
    Population(PopulationArgs),
    /// LM3 survey returns (data-schemas/datasets/lm3/): supplier returns (round 2: Supplier,
    /// Company Number, Round 1 Spend, Responded, Total Spend, Local Staff Spend, Local
    /// Supplier Spend) and re-spend returns (round 3: Supplier, Respondent Type, Income, Local
    /// Spend), into one lm3-<slug> dataset.
    #[command(name = "lm3-survey")]
    Lm3Survey(lm3::Lm3SurveyArgs),
    /// Councils' spend-over-£500 files of one body (Salford, Manchester, the Transparency Code
    /// layout, Oxford, … by header): payments in pence into spend-<slug>, tables payments and
    /// duplicates.
    Spend(spend_ingest::SpendArgs),
    /// Contract registers and supplier lists: one row per supplier (company number, else
    /// normalised name) with its postcode, into suppliers-<slug>.
    Suppliers(spend_ingest::SuppliersArgs),
    /// Parent-area lookups (ONS layouts in data-schemas/datasets/parents/: counties, CSPs,
    /// police force areas, combined authorities, regions, ICBs) into parents-<type>-<year>
    /// (parents-pfa-2024); or a user-defined `parent_code,parent_name,member_code` file with
    /// --type NAME, members district or LSOA codes.
    Parents {
        /// The parent type of a user-defined file (e.g. `neighbourhood-partnership`).
        #[arg(long = "type", value_name = "NAME")]
        user_type: Option<String>,
        /// Publish under this dataset id (only when the files define one parent type).
        #[arg(long, value_name = "ID")]
        dataset: Option<String>,
        #[command(flatten)]
        publish: PublishArgs,
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// The ONS Postcode Directory or NSPL (2024 or 2025 layout, or a column subset), CSV or
    /// gzipped, streamed: postcode → district and LSOA (2011, 2021), terminated ones flagged.
    Postcodes(postcodes::PostcodeArgs),
}

#[derive(Debug, Args)]
struct PopulationArgs {
    /// Dataset id, starting with population- (default population-<lsoa vintage>, e.g.
    /// population-lsoa21, or population-census<year>-<lsoa vintage> for census counts).
    #[arg(long)]
    dataset: Option<String>,
    /// Year of files that do not state it (in a column, sheet name or file name); must agree
    /// with files that do.
    #[arg(long)]
    year: Option<i32>,
    /// LSOA geography of files whose header does not say (LSOA11 for 2011-coded files).
    #[arg(long, value_name = "VINTAGE")]
    lsoa_vintage: Option<Vintage>,
    #[command(flatten)]
    publish: PublishArgs,
    #[arg(required = true)]
    files: Vec<PathBuf>,
}

#[derive(Debug, Args)]
struct CrimeArgs {
    /// Dataset id.
    #[arg(long, default_value = "crime-street")]
    dataset: String,
    /// GeoJSON boundaries (WGS84) to place crimes in by their coordinates: crimes without an
    /// LSOA, or all of them with --assign-all. Several files (one per district) are merged:
    /// repeat the option or separate them with commas.
    #[arg(long, value_name = "GEOJSON", value_delimiter = ',')]
    boundaries: Vec<PathBuf>,
    /// Feature property holding the area code, when it is not an ONS header like WD13CD.
    #[arg(long)]
    code_property: Option<String>,
    /// Place every crime with coordinates, not only those without an LSOA.
    #[arg(long, requires = "boundaries")]
    assign_all: bool,
    #[command(flatten)]
    publish: PublishArgs,
    #[arg(required = true)]
    files: Vec<PathBuf>,
}

#[derive(Debug, Args)]
struct ObservationArgs {
    /// Publish all files into this dataset (default: one dataset per file, named after it).
    #[arg(long)]
    dataset: Option<String>,
    /// Period of files that do not state one, e.g. 2021-01 for a one-month snapshot.
    #[arg(long)]
    period: Option<String>,
    #[command(flatten)]
    publish: PublishArgs,
    #[arg(required = true)]
    files: Vec<PathBuf>,
}

#[derive(Debug, Args)]
struct PublishArgs {
    /// Versions of the dataset to keep, the new one included.
    #[arg(long, default_value_t = renewal_warehouse::DEFAULT_KEEP_VERSIONS)]
    keep: usize,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum LevelArg {
    Lad,
    Ward,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Format {
    /// The answer's declared columns, full precision (the default).
    Csv,
    /// Aligned for reading, figures rounded per unit.
    Table,
    /// Rows, basis and notes in one document, full precision.
    Json,
    /// An Excel workbook: typed cells, and a Notes sheet with basis, versions and suppression.
    Xlsx,
}

#[derive(Debug, Args)]
struct SummaryArgs {
    /// IoD edition (a year, or `newest`); without it, the default edition that
    /// data-schemas/editions.toml declares.
    #[arg(long)]
    vintage: Option<String>,
    /// One domain's figures, as File 10's sheet for it publishes them: adds
    /// rank_of_proportion_most_deprived_10pct, rank_of_extent, rank_of_local_concentration,
    /// scale and rank_of_scale after the usual columns (extent and local concentration for
    /// imd only; scale for income and employment only). Without it: the IMD, usual columns.
    #[arg(long, value_parser = clap::builder::PossibleValuesParser::new(renewal_query::SUMMARY_DOMAINS))]
    domain: Option<String>,
    /// Areas to summarise.
    #[arg(long, value_enum)]
    level: LevelArg,
    /// Ward vintage for --level ward (e.g. WD19); optional when only one is in the warehouse.
    #[arg(long)]
    ward_vintage: Option<Vintage>,
    #[arg(long, value_enum, default_value = "csv")]
    format: Format,
    /// Use a given version of a dataset instead of the current one, e.g. --at iod-2019=2.
    #[arg(long = "at", value_name = "DATASET=VERSION", value_parser = parse_pin)]
    pins: Vec<(String, u64)>,
    /// Write to this file instead of standard output.
    #[arg(long, short)]
    out: Option<PathBuf>,
}

pub fn parse_pin(s: &str) -> Result<(String, u64), String> {
    let (id, v) = s
        .split_once('=')
        .ok_or_else(|| format!("{s:?}: expected DATASET=VERSION"))?;
    let v = v
        .parse()
        .map_err(|_| format!("{s:?}: version must be a whole number"))?;
    Ok((id.to_owned(), v))
}

#[derive(Debug, Subcommand)]
enum WarehouseCommand {
    /// Datasets, versions, row counts and provenance.
    List {
        /// Only this dataset.
        #[arg(long)]
        dataset: Option<String>,
        /// Print the manifests as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Check that every file every manifest names exists with its recorded size, SHA-256 and
    /// rows; list orphans (files no manifest names, left by a publish that died before its
    /// switch; never read). Exit status 1 when a manifest names a bad or missing file.
    Verify,
}

#[derive(Debug, Args)]
struct SampleArgs {
    /// Directory to write the files into (created if needed).
    #[arg(long)]
    out: PathBuf,
    /// Seed for the generator; the same seed gives byte-identical files.
    #[arg(long, default_value_t = 2019)]
    seed: u64,
    /// Also write the files across the 2021 boundary change (2021 LSOAs and 2024 wards, the
    /// LSOA11 -> LSOA21 lookup, IoD2025, populations 2015-2024, 2024 crime, claimants
    /// 2015-2025) into the `boundary-change` folder inside --out.
    #[arg(long)]
    boundary_change: bool,
    /// `england` writes England-sized benchmark inputs instead of the two-authority sample:
    /// 32,844 LSOAs in 7,000 wards in 317 districts (synthetic 9-series codes), IoD2019 Files
    /// 2, 5 and 6, the LSOA11 -> WD19 -> LAD19 lookup, ten years of monthly claimant counts,
    /// 2019 street crime in 43 police.uk force files (about six million rows) and the ward
    /// boundaries (rectangles tiling a box). Several GB; streamed.
    #[arg(long, value_enum, default_value = "sample")]
    scale: SampleScaleArg,
    /// Divide England's area counts by N (tests of the generator; 1 = full size).
    #[arg(long, default_value_t = 1, hide = true)]
    scale_divisor: u32,
}

/// What `renewal sample --scale` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum SampleScaleArg {
    /// The fictional two-authority place.
    Sample,
    /// England-sized benchmark inputs.
    England,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(cli.verbose);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: starting the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            match e.downcast_ref::<renewal_refresh::RefreshError>() {
                Some(renewal_refresh::RefreshError::Locked { .. }) => ExitCode::from(3),
                Some(renewal_refresh::RefreshError::Config { .. }) => ExitCode::from(2),
                _ => ExitCode::FAILURE,
            }
        }
    }
}

fn init_logging(verbose: u8) {
    let default = match verbose {
        0 => "warn",
        1 => "info",
        _ => "debug",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("RENEWAL_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
}

fn catalog(cli: &Cli) -> Result<Catalog> {
    Ok(match &cli.schemas {
        Some(dir) => Catalog::load_dir(dir)?,
        None => Catalog::embedded()?,
    })
}

async fn run(cli: Cli) -> Result<ExitCode> {
    let done: Result<()> = match &cli.command {
        Command::Refresh(args) => return refresh(&cli, args).await,
        Command::Ingest(ingest) => ingest_files(&cli, ingest).await,
        Command::Summary(args) => summary(&cli, args).await,
        Command::Warehouse(WarehouseCommand::List { dataset, json }) => {
            let warehouse = open_warehouse(&cli)?;
            output::list(&warehouse, dataset.as_deref(), *json).await
        }
        Command::Warehouse(WarehouseCommand::Verify) => {
            let report = open_warehouse(&cli)?.verify().await?;
            println!(
                "{} versions, {} files checked; {} problems, {} orphans, {} awaiting expiry",
                report.versions,
                report.files,
                report.problems.len(),
                report.orphans.len(),
                report.expiring.len()
            );
            for p in &report.problems {
                println!("problem: {p}");
            }
            for o in &report.orphans {
                println!("orphan: {o}");
            }
            for e in &report.expiring {
                println!("expiring: {e}");
            }
            return Ok(if report.problems.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            });
        }
        Command::Sample(args) => sample(args),
        Command::Indicators { json } => ask::indicators(&query_engine(&cli)?, *json),
        Command::Gap(args) => ask::gap(query_engine(&cli)?, args).await,
        Command::Versus(args) => ask::versus(query_engine(&cli)?, args).await,
        Command::Lpp(args) => ask::lpp(query_engine(&cli)?, args).await,
        Command::Trend(args) => ask::trend(query_engine(&cli)?, args).await,
        Command::Target(command) => ask::target(query_engine(&cli)?, command).await,
        Command::Priority(args) => ask::priority(query_engine(&cli)?, args).await,
        Command::Profile(args) => ask::profile(query_engine(&cli)?, args).await,
        Command::Similar(args) => ask::similar(query_engine(&cli)?, args).await,
        Command::Change(args) => ask::change(query_engine(&cli)?, args).await,
        Command::Map(args) => ask::map(query_engine(&cli)?, args).await,
        Command::Lm3(args) => lm3::lm3(&open_warehouse(&cli)?, args).await,
        Command::Neighbourhood(command) => ask::neighbourhood(query_engine(&cli)?, command).await,
        Command::Spend(command) => spend::run(query_engine(&cli)?, command).await,
        Command::Serve(args) => serve(&cli, args).await,
        Command::Upload(args) => upload::run(args).await,
        Command::HashKey { key } => {
            let key = if key == "-" {
                let mut line = String::new();
                std::io::stdin().read_line(&mut line)?;
                line.trim().to_owned()
            } else {
                key.clone()
            };
            println!("{}", renewal_server::hash_key(&key));
            Ok(())
        }
    };
    done.map(|()| ExitCode::SUCCESS)
}

async fn serve(cli: &Cli, args: &ServeArgs) -> Result<()> {
    let mut config = match &args.config {
        Some(path) => renewal_server::ServerConfig::load(path)?,
        None => renewal_server::ServerConfig::default(),
    };
    if let Some(addr) = args.addr {
        config.addr = addr;
    }
    if args.keys.is_some() {
        config.keys = args.keys.clone();
    }
    config.dev |= args.dev;
    if !args.cors_origins.is_empty() {
        config.cors_origins = args.cors_origins.clone();
    }
    if let Some(t) = args.disclosure_threshold {
        config.disclosure_threshold = t;
    }
    if let Some(n) = args.max_concurrent_queries {
        config.max_concurrent_queries = n;
    }
    if let Some(n) = args.aggregate_cache_mb {
        config.aggregate_cache_mb = n;
    }
    if let Some(n) = args.memory_limit_mb {
        config.memory_limit_mb = n;
    }
    if let Some(n) = args.max_connections {
        config.max_connections = n;
    }
    if args.metrics_addr.is_some() {
        config.metrics_addr = args.metrics_addr;
    }
    if args.http_addr.is_some() {
        config.http_addr = args.http_addr;
    }
    if args.tls_cert.is_some() {
        config.tls_cert = args.tls_cert.clone();
        config.tls_key = args.tls_key.clone();
    }
    if let Some(n) = args.max_upload_bytes {
        config.max_upload_bytes = n;
    }
    if let Some(n) = args.max_upload_decompressed_bytes {
        config.max_upload_decompressed_bytes = n;
    }
    if let Some(n) = args.max_upload_files {
        config.max_upload_files = n;
    }
    let running = renewal_server::start(query_engine(cli)?, &config).await?;
    // Scripts wait for this line before calling the server.
    println!(
        "renewal serving on {} ({})",
        running.addr,
        if config.dev {
            "development mode: no authentication"
        } else {
            "API keys required"
        }
    );
    if let Some(addr) = running.http_addr {
        println!("renewal HTTP feed on http://{addr}/api/v1/ (OpenAPI at /api/v1/openapi.json)");
    }
    std::io::stdout().flush()?;
    tokio::select! {
        r = running.wait() => r?,
        _ = tokio::signal::ctrl_c() => eprintln!("stopping"),
    }
    Ok(())
}

fn query_engine(cli: &Cli) -> Result<renewal_query::Engine> {
    Ok(renewal_query::Engine::new(
        open_warehouse(cli)?,
        catalog(cli)?,
    ))
}

async fn refresh(cli: &Cli, args: &RefreshArgs) -> Result<ExitCode> {
    let sources = renewal_refresh::SourcesFile::load(&args.sources)?;
    let catalog = catalog(cli)?;
    let warehouse = open_warehouse(cli)?;
    let options = renewal_refresh::RefreshOptions {
        only: args.only.clone(),
        dry_run: args.dry_run,
    };
    let outcomes = renewal_refresh::refresh(&warehouse, &catalog, &sources, &options).await?;
    let failed = outcomes.iter().filter(|o| o.failed()).count();
    if args.json {
        let summary = serde_json::json!({
            "finished_at": chrono::Utc::now().to_rfc3339(),
            "dry_run": args.dry_run,
            "failed": failed,
            "datasets": outcomes,
        });
        println!("{}", serde_json::to_string_pretty(&summary)?);
    } else {
        for o in &outcomes {
            println!("{}", o.line());
        }
    }
    Ok(if failed > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

async fn ingest_files(cli: &Cli, ingest: &Ingest) -> Result<()> {
    let catalog = catalog(cli)?;
    let warehouse = open_warehouse(cli)?;
    let progress = progress::Bars::new();
    // Crime and observation codes are checked against the LSOA change lookup, when the
    // warehouse has one: that records their LSOA vintage and refuses files mixing two.
    let bridge = match ingest {
        Ingest::Census(_) | Ingest::Benefits(_) | Ingest::Services(_) | Ingest::Crime(_) => {
            renewal_query::lsoa_bridge(&warehouse)
                .await?
                .map(std::sync::Arc::new)
        }
        _ => None,
    };
    let (drafts, keep) = match ingest {
        Ingest::Imd {
            vintage,
            publish,
            files,
        } => (
            vec![renewal_ingest::read_iod(
                &catalog, vintage, files, &progress,
            )?],
            publish.keep,
        ),
        Ingest::Lookup { publish, files } => (
            renewal_ingest::read_lookups(&catalog, files, &progress)?,
            publish.keep,
        ),
        Ingest::Boundaries {
            vintage,
            publish,
            files,
        } => (
            renewal_ingest::read_boundaries(
                &catalog,
                files,
                &renewal_ingest::BoundaryOptions { vintage: *vintage },
                &progress,
            )?,
            publish.keep,
        ),
        Ingest::Census(args) => observations(&catalog, "census", args, bridge, &progress)?,
        Ingest::Benefits(args) => observations(&catalog, "benefits", args, bridge, &progress)?,
        Ingest::Services(args) => observations(&catalog, "services", args, bridge, &progress)?,
        Ingest::Crime(args) => (
            vec![crime(&catalog, args, bridge, &progress)?],
            args.publish.keep,
        ),
        Ingest::Lm3Survey(args) => (
            vec![lm3::ingest(&catalog, args, &progress)?],
            args.publish.keep,
        ),
        Ingest::Postcodes(args) => postcodes::drafts(&catalog, args, &progress)?,
        Ingest::Population(args) => {
            let options = renewal_ingest::PopulationOptions {
                dataset: args.dataset.clone(),
                year: args.year,
                lsoa_vintage: args.lsoa_vintage,
            };
            (
                vec![renewal_ingest::read_population(
                    &catalog,
                    &args.files,
                    &options,
                    &progress,
                )?],
                args.publish.keep,
            )
        }
        Ingest::Spend(args) => spend_ingest::spend(&catalog, args, &progress)?,
        Ingest::Suppliers(args) => spend_ingest::suppliers(&catalog, args, &progress)?,
        Ingest::Parents {
            user_type,
            dataset,
            publish,
            files,
        } => (
            renewal_ingest::read_parents(
                &catalog,
                files,
                &renewal_ingest::ParentsOptions {
                    user_type: user_type.clone(),
                    dataset: dataset.clone(),
                },
                &progress,
            )?,
            publish.keep,
        ),
    };
    progress.clear();
    for draft in drafts {
        let notes = draft.notes.clone();
        let outcome = warehouse
            .publish(
                draft,
                PublishOptions {
                    keep_versions: keep,
                    ..Default::default()
                },
            )
            .await?;
        report_publish(&outcome, &notes);
    }
    Ok(())
}

fn sample(args: &SampleArgs) -> Result<()> {
    if args.scale == SampleScaleArg::England {
        return sample_england(args);
    }
    let spec = renewal_sample::SampleSpec { seed: args.seed };
    let scope = if args.boundary_change {
        renewal_sample::SampleScope::WithBoundaryChange
    } else {
        renewal_sample::SampleScope::Base
    };
    let report = renewal_sample::write_sample_scoped(&args.out, &spec, scope)
        .with_context(|| format!("writing the sample into {}", args.out.display()))?;
    for file in &report.files {
        println!(
            "wrote {} ({} rows): {}",
            file.path.display(),
            file.rows,
            file.description
        );
    }
    Ok(())
}

/// `renewal sample --scale england`: every file with its rows and size, then the total.
fn sample_england(args: &SampleArgs) -> Result<()> {
    use renewal_sample::england::{EnglandSize, write_england};
    let size = if args.scale_divisor > 1 {
        EnglandSize::divided(args.scale_divisor)
    } else {
        EnglandSize::FULL
    };
    let report = write_england(&args.out, args.seed, size)
        .with_context(|| format!("writing England-sized inputs into {}", args.out.display()))?;
    let mut total = 0;
    for file in &report.files {
        let bytes = std::fs::metadata(&file.path).map_or(0, |m| m.len());
        total += bytes;
        println!(
            "wrote {} ({} rows, {} bytes): {}",
            file.path.display(),
            file.rows,
            bytes,
            file.description
        );
    }
    println!(
        "{} files, {total} bytes: {} LSOAs, {} wards, {} districts, {} forces (seed {})",
        report.files.len(),
        size.lsoas,
        size.wards,
        size.districts,
        size.forces,
        args.seed
    );
    Ok(())
}

fn crime(
    catalog: &Catalog,
    args: &CrimeArgs,
    bridge: Option<std::sync::Arc<renewal_geo::bridge::Bridge>>,
    progress: &progress::Bars,
) -> Result<renewal_warehouse::Draft> {
    let boundaries = if args.boundaries.is_empty() {
        None
    } else {
        Some(renewal_ingest::Boundaries::load(
            &args.boundaries,
            args.code_property.as_deref(),
        )?)
    };
    let options = renewal_ingest::CrimeOptions {
        dataset: Some(args.dataset.clone()),
        boundaries: boundaries.as_ref(),
        assign_all: args.assign_all,
        bridge,
    };
    Ok(renewal_ingest::read_crime(
        catalog,
        &args.files,
        &options,
        progress,
    )?)
}

fn observations(
    catalog: &Catalog,
    family: &str,
    args: &ObservationArgs,
    bridge: Option<std::sync::Arc<renewal_geo::bridge::Bridge>>,
    progress: &progress::Bars,
) -> Result<(Vec<renewal_warehouse::Draft>, usize)> {
    let options = renewal_ingest::ObservationOptions {
        dataset: args.dataset.clone(),
        period: args.period.clone(),
        bridge,
    };
    let drafts =
        renewal_ingest::read_observations(catalog, family, &args.files, &options, progress)?;
    Ok((drafts, args.publish.keep))
}

fn open_warehouse(cli: &Cli) -> Result<Warehouse> {
    Warehouse::open_local(&cli.warehouse)
        .with_context(|| format!("opening the warehouse at {}", cli.warehouse.display()))
}

fn report_publish(outcome: &Published, notes: &[String]) {
    let m = outcome.manifest();
    match outcome {
        Published::New(_) => {
            println!(
                "published {} version {}: {} rows in {} tables from {} files",
                m.dataset,
                m.version,
                m.total_rows(),
                m.tables.len(),
                m.sources.len()
            );
            for note in notes {
                println!("  note: {note}");
            }
        }
        Published::Unchanged(_) => println!(
            "{} unchanged: version {} already holds these exact sources; nothing written",
            m.dataset, m.version
        ),
    }
}

async fn summary(cli: &Cli, args: &SummaryArgs) -> Result<()> {
    if !cli.warehouse.exists() {
        bail!(
            "no warehouse at {}; ingest something first (see README)",
            cli.warehouse.display()
        );
    }
    let warehouse = open_warehouse(cli)?;
    let vintage = catalog(cli)?.resolve_edition(args.vintage.as_deref())?;
    let request = SummaryRequest {
        vintage,
        domain: args.domain.clone(),
        level: match args.level {
            LevelArg::Lad => {
                if args.ward_vintage.is_some() {
                    bail!("--ward-vintage only applies to --level ward");
                }
                SummaryLevel::Lad
            }
            LevelArg::Ward => SummaryLevel::Ward(args.ward_vintage),
        },
        pins: args.pins.iter().cloned().collect(),
    };
    let summary = renewal_query::iod_summary(&warehouse, &request).await?;
    output::answer(
        args.format,
        args.out.as_deref(),
        &summary.batches,
        &summary.basis,
        &summary.notes,
        "renewal summary",
    )
}
