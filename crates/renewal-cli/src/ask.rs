//! The analysts' questions (`renewal gap`, `versus`, `trend`, `target`, `priority`, `profile`,
//! `similar`, `indicators`, `neighbourhood`): argument parsing and rendering only.

use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand, ValueEnum};
use renewal_geo::Vintage;
use renewal_query::{
    Answer, AreaLevel, Benchmark, Engine, GapRequest, Neighbourhood, PriorityRequest, Scope,
    Selection, SelectionRequest, Target, TrendRequest,
};

use crate::{Format, output, parse_pin};

/// Options every question shares.
#[derive(Debug, Args)]
pub struct QueryArgs {
    /// Ward vintage to build wards in (e.g. WD19); by default the lookup that fits the data.
    #[arg(long)]
    ward_vintage: Option<Vintage>,
    /// Use a given version of a dataset instead of the current one, e.g. --at iod-2019=2.
    #[arg(long = "at", value_name = "DATASET=VERSION", value_parser = parse_pin)]
    pins: Vec<(String, u64)>,
    /// Population to apportion split LSOAs by when data on one LSOA vintage (2011, 2021) is
    /// answered on the other: a population dataset on the target vintage, optionally with a
    /// year (population-census2021-lsoa21, population-lsoa21:2021), or an IoD edition with
    /// File 6 (iod-2019 for 2011 LSOAs). Without it such a move is refused, naming the areas.
    #[arg(long, value_name = "DATASET[:YEAR]")]
    bridge_weights: Option<String>,
    /// Counts below this are withheld with everything derived from them.
    #[arg(long, default_value_t = renewal_query::DEFAULT_DISCLOSURE_THRESHOLD)]
    disclosure_threshold: f64,
    #[arg(long, value_enum, default_value = "csv")]
    format: Format,
    /// Write to this file instead of standard output.
    #[arg(long, short)]
    out: Option<PathBuf>,
}

impl QueryArgs {
    fn scope(&self) -> Scope {
        Scope {
            ward_vintage: self.ward_vintage,
            pins: self.pins.iter().cloned().collect(),
            bridge_weights: self.bridge_weights.clone(),
        }
    }
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum LevelName {
    Lsoa,
    Ward,
    Neighbourhood,
    Lad,
}

impl From<LevelName> for AreaLevel {
    fn from(l: LevelName) -> AreaLevel {
        match l {
            LevelName::Lsoa => AreaLevel::Lsoa,
            LevelName::Ward => AreaLevel::Ward,
            LevelName::Neighbourhood => AreaLevel::Neighbourhood,
            LevelName::Lad => AreaLevel::Lad,
        }
    }
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum BenchmarkName {
    Authority,
    England,
}

#[derive(Debug, Args)]
pub struct GapArgs {
    /// Indicator id (`renewal indicators` lists them).
    #[arg(long)]
    indicator: String,
    /// Period label (e.g. 2021-01, 2019-20); the latest by default.
    #[arg(long)]
    period: Option<String>,
    /// Only areas of this local authority (E06…/E07…/E08…/E09…); all of England by default.
    #[arg(long)]
    authority: Option<String>,
    #[arg(long, value_enum, default_value = "ward")]
    level: LevelName,
    /// Compare with the area's authority, with England, or with the parent area of a type
    /// containing it (`pfa`, `csp`, `icb`, `sub-icb`, `region`, `utla`, `combined-authority`,
    /// or a user-defined type; `renewal ingest parents` loads them).
    #[arg(
        long,
        default_value = "authority",
        value_name = "authority|england|TYPE"
    )]
    benchmark: Benchmark,
    #[command(flatten)]
    query: QueryArgs,
}

#[derive(Debug, Args)]
pub struct VersusArgs {
    #[arg(long)]
    indicator: String,
    #[arg(long)]
    period: Option<String>,
    /// An authority code, or `england` (E92000001): the selection taken nationally against
    /// the rest of England.
    #[arg(long)]
    authority: String,
    /// Which areas: imd-decile<=N, areas:CODE,CODE… (LSOAs or wards) or neighbourhood:ID.
    #[arg(long)]
    select: Selection,
    /// The rest the selection is compared with: of its authority (default) or of England.
    #[arg(long, value_enum, default_value = "authority")]
    benchmark: BenchmarkName,
    #[command(flatten)]
    query: QueryArgs,
}

#[derive(Debug, Args)]
pub struct TrendArgs {
    #[arg(long)]
    indicator: String,
    /// An authority code, or `england` (E92000001) for a national selection.
    #[arg(long)]
    authority: String,
    /// Which areas: imd-decile<=N, areas:CODE,CODE… or neighbourhood:ID.
    #[arg(long)]
    select: Selection,
    /// The rest the selection is compared with: of its authority (default) or of England.
    #[arg(long, value_enum, default_value = "authority")]
    benchmark: BenchmarkName,
    #[command(flatten)]
    query: QueryArgs,
}

#[derive(Debug, Args)]
pub struct ChangeArgs {
    /// The outcome indicator.
    #[arg(long)]
    indicator: String,
    /// The area (a code of --level).
    #[arg(long)]
    area: String,
    /// Baseline period P1.
    #[arg(long)]
    from: String,
    /// Later period P2.
    #[arg(long)]
    to: String,
    /// Baseline indicators to measure similarity on (comma-separated), each at P1, else its
    /// latest earlier period, else its first.
    #[arg(long, value_delimiter = ',', required = true)]
    similar_on: Vec<String>,
    /// How many similar areas.
    #[arg(long, default_value_t = 10)]
    k: usize,
    #[arg(long, value_enum, default_value = "ward")]
    level: LevelName,
    #[command(flatten)]
    query: QueryArgs,
}

#[derive(Debug, Subcommand)]
pub enum TargetCommand {
    /// Register (or replace) a gap target in the warehouse.
    Add {
        #[arg(long)]
        id: String,
        #[arg(long)]
        indicator: String,
        /// Which areas: imd-decile<=N, areas:CODE,CODE… or neighbourhood:ID.
        #[arg(long)]
        select: Selection,
        #[arg(long)]
        authority: String,
        /// Baseline period label, e.g. 2014-15.
        #[arg(long)]
        baseline: String,
        /// Target period label, e.g. 2020-21.
        #[arg(long)]
        target: String,
        /// Share of the baseline gap allowed to remain: 0.5 halves it.
        #[arg(long, default_value_t = 0.5)]
        fraction_remaining: f64,
        #[arg(long)]
        ward_vintage: Option<Vintage>,
        /// Who registered it.
        #[arg(long, default_value = "local")]
        owner: String,
        /// What the gap is measured against: the selection's authority (default) or England
        /// as a whole (a target whose authority is `england` always is).
        #[arg(long, value_enum, default_value = "authority")]
        benchmark: BenchmarkName,
    },
    /// Baseline gap, target gap, trajectory, latest gap with CI and on-track status.
    Status {
        /// Only this target.
        #[arg(long)]
        id: Option<String>,
        #[command(flatten)]
        query: QueryArgs,
    },
}

#[derive(Debug, Args)]
pub struct PriorityArgs {
    /// IoD edition: a year (2019, 2025) or `newest`; by default the edition
    /// data-schemas/editions.toml names (2019), so the meaning never changes silently.
    #[arg(long, alias = "vintage")]
    edition: Option<String>,
    /// IMD or a domain: imd, income, employment, education, health, crime, barriers,
    /// living_environment, idaci, idaopi.
    #[arg(long, default_value = "imd")]
    domain: String,
    /// The most deprived percent nationally.
    #[arg(long, default_value_t = 10.0)]
    percent: f64,
    #[arg(long)]
    authority: Option<String>,
    /// Only pockets: deprived LSOAs in authorities outside the most deprived percent.
    #[arg(long)]
    pockets: bool,
    #[command(flatten)]
    query: QueryArgs,
}

#[derive(Debug, Args)]
pub struct ProfileArgs {
    /// A ward, LSOA, neighbourhood or authority code.
    #[arg(long)]
    area: String,
    #[command(flatten)]
    query: QueryArgs,
}

#[derive(Debug, Args)]
pub struct SimilarArgs {
    #[arg(long)]
    area: String,
    #[arg(long, value_enum, default_value = "ward")]
    level: LevelName,
    /// Indicators to compare on (comma-separated).
    #[arg(long, value_delimiter = ',', required = true)]
    indicators: Vec<String>,
    #[arg(long, default_value_t = 5)]
    k: usize,
    #[command(flatten)]
    query: QueryArgs,
}

#[derive(Debug, Subcommand)]
pub enum NeighbourhoodCommand {
    /// Register (or replace) a named set of LSOAs.
    Add {
        #[arg(long)]
        id: String,
        #[arg(long)]
        name: String,
        #[arg(long, default_value = "local")]
        owner: String,
        /// LSOA codes (comma-separated).
        #[arg(long, value_delimiter = ',', required = true)]
        lsoas: Vec<String>,
    },
    /// The registered neighbourhoods.
    List,
}

fn render(answer: &Answer, query: &QueryArgs, title: &str) -> Result<()> {
    output::answer(
        query.format,
        query.out.as_deref(),
        &answer.batches,
        &answer.basis,
        &answer.notes,
        title,
    )
}

fn engine(engine: Engine, query: &QueryArgs) -> Engine {
    engine.with_disclosure_threshold(query.disclosure_threshold)
}

pub async fn gap(e: Engine, args: &GapArgs) -> Result<()> {
    let e = engine(e, &args.query);
    let request = GapRequest {
        indicator: args.indicator.clone(),
        period: args.period.clone(),
        authority: args.authority.clone(),
        level: args.level.into(),
        benchmark: args.benchmark.clone(),
    };
    let answer = renewal_query::gap_table(&e, &request, &args.query.scope()).await?;
    render(&answer, &args.query, "renewal gap")
}

pub async fn versus(e: Engine, args: &VersusArgs) -> Result<()> {
    let e = engine(e, &args.query);
    let request = SelectionRequest {
        indicator: args.indicator.clone(),
        period: args.period.clone(),
        authority: renewal_query::authority_code(&args.authority),
        selection: args.select.clone(),
    };
    let answer = match args.benchmark {
        BenchmarkName::Authority => {
            renewal_query::deprived_vs_rest(&e, &request, &args.query.scope()).await?
        }
        BenchmarkName::England => {
            renewal_query::deprived_vs_england(&e, &request, &args.query.scope()).await?
        }
    };
    render(&answer, &args.query, "renewal versus")
}

pub async fn trend(e: Engine, args: &TrendArgs) -> Result<()> {
    let e = engine(e, &args.query);
    let request = TrendRequest {
        indicator: args.indicator.clone(),
        authority: renewal_query::authority_code(&args.authority),
        selection: args.select.clone(),
    };
    let answer = match args.benchmark {
        BenchmarkName::Authority => {
            renewal_query::narrowing(&e, &request, &args.query.scope()).await?
        }
        BenchmarkName::England => {
            renewal_query::narrowing_vs_england(&e, &request, &args.query.scope()).await?
        }
    };
    render(&answer, &args.query, "renewal trend")
}

pub async fn change(e: Engine, args: &ChangeArgs) -> Result<()> {
    let e = engine(e, &args.query);
    let request = renewal_query::ChangeRequest {
        indicator: args.indicator.clone(),
        area: args.area.clone(),
        level: args.level.into(),
        from: args.from.clone(),
        to: args.to.clone(),
        similar_on: args.similar_on.clone(),
        k: args.k,
    };
    let answer = renewal_query::change_vs_similar(&e, &request, &args.query.scope()).await?;
    render(&answer, &args.query, "renewal change")
}

pub async fn target(e: Engine, command: &TargetCommand) -> Result<()> {
    match command {
        TargetCommand::Add {
            id,
            indicator,
            select,
            authority,
            baseline,
            target,
            fraction_remaining,
            ward_vintage,
            owner,
            benchmark,
        } => {
            e.indicator(indicator)?;
            let t = Target {
                id: id.clone(),
                indicator: indicator.clone(),
                // The edition is pinned: a newer IoD never changes a registered target.
                selection: select.pinned(e.catalog())?.to_string(),
                authority: renewal_query::authority_code(authority),
                baseline_period: baseline.clone(),
                target_period: target.clone(),
                fraction_remaining: *fraction_remaining,
                ward_vintage: ward_vintage.map(|v| v.to_string()),
                owner: owner.clone(),
                against_england: matches!(benchmark, BenchmarkName::England),
            };
            let version = renewal_query::register_target(e.warehouse(), t).await?;
            println!("registered target {id} (targets version {version})");
            Ok(())
        }
        TargetCommand::Status { id, query } => {
            let e = engine(e, query);
            let mut all = renewal_query::targets(e.warehouse()).await?;
            if let Some(id) = id {
                all.retain(|t| &t.id == id);
                if all.is_empty() {
                    bail!("no target {id:?}; `renewal target status` lists them all");
                }
            }
            let answer = renewal_query::target_status(&e, &all, &query.scope()).await?;
            render(&answer, query, "renewal target status")
        }
    }
}

pub async fn priority(e: Engine, args: &PriorityArgs) -> Result<()> {
    let edition = e.catalog().resolve_edition(args.edition.as_deref())?;
    let request = PriorityRequest {
        edition,
        domain: args.domain.clone(),
        percent: args.percent,
        authority: args.authority.clone(),
        pockets_only: args.pockets,
    };
    let answer =
        renewal_query::priority_neighbourhoods(e.warehouse(), &request, &args.query.scope().pins)
            .await?;
    render(&answer, &args.query, "renewal priority")
}

pub async fn profile(e: Engine, args: &ProfileArgs) -> Result<()> {
    let e = engine(e, &args.query);
    let answer = renewal_query::area_profile(&e, &args.area, &args.query.scope()).await?;
    render(&answer, &args.query, "renewal profile")
}

pub async fn similar(e: Engine, args: &SimilarArgs) -> Result<()> {
    let e = engine(e, &args.query);
    let answer = renewal_query::most_similar(
        &e,
        &args.area,
        args.level.into(),
        &args.indicators,
        args.k,
        &args.query.scope(),
    )
    .await?;
    render(&answer, &args.query, "renewal similar")
}

pub async fn neighbourhood(e: Engine, command: &NeighbourhoodCommand) -> Result<()> {
    match command {
        NeighbourhoodCommand::Add {
            id,
            name,
            owner,
            lsoas,
        } => {
            let n = Neighbourhood {
                id: id.clone(),
                name: name.clone(),
                owner: owner.clone(),
                lsoas: lsoas.clone(),
            };
            let version = renewal_query::register_neighbourhood(e.warehouse(), n).await?;
            println!(
                "registered neighbourhood {id} ({} LSOAs; neighbourhoods version {version})",
                lsoas.len()
            );
        }
        NeighbourhoodCommand::List => {
            for n in renewal_query::neighbourhoods(e.warehouse()).await? {
                println!("{}\t{}\t{}\t{}", n.id, n.name, n.owner, n.lsoas.join(","));
            }
        }
    }
    Ok(())
}

/// The indicator catalogue: id, theme, type, unit, polarity, native geography, title.
pub fn indicators(e: &Engine, json: bool) -> Result<()> {
    let mut out = std::io::stdout().lock();
    if json {
        let defs: Vec<_> = e.indicators().collect();
        serde_json::to_writer_pretty(&mut out, &defs)?;
        writeln!(out)?;
        return Ok(());
    }
    writeln!(
        out,
        "id,theme,value_type,unit,polarity,native_geography,title"
    )?;
    for d in e.indicators() {
        writeln!(
            out,
            "{},{},{},{},{},{},{}",
            d.id,
            d.theme,
            d.value_type.as_str(),
            quoted(&d.unit),
            d.polarity.as_str(),
            d.native_geography.as_str(),
            quoted(&d.title)
        )?;
    }
    Ok(())
}

fn quoted(s: &str) -> String {
    format!("\"{}\"", s.replace('"', "\"\""))
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum MapLevel {
    Ward,
    Lsoa,
}

/// `renewal map`: the gap question's options plus how to draw the shapes.
#[derive(Debug, Args)]
pub struct MapArgs {
    /// Indicator id (`renewal indicators` lists them).
    #[arg(long)]
    indicator: String,
    /// The local authority whose areas to map.
    #[arg(long)]
    authority: String,
    #[arg(long, value_enum, default_value = "ward")]
    level: MapLevel,
    /// Period label (e.g. 2021-01, 2019-20); the latest by default.
    #[arg(long)]
    period: Option<String>,
    /// Compare with the area's authority or with England.
    #[arg(long, value_enum, default_value = "authority")]
    benchmark: BenchmarkName,
    /// Ward vintage to build wards in (e.g. WD19); boundaries of the same vintage are used.
    #[arg(long)]
    ward_vintage: Option<Vintage>,
    /// Use a given version of a dataset instead of the current one, e.g. --at boundaries-wd19=1.
    #[arg(long = "at", value_name = "DATASET=VERSION", value_parser = parse_pin)]
    pins: Vec<(String, u64)>,
    /// Population to apportion split LSOAs by when data are moved between LSOA vintages (as
    /// for `renewal gap`).
    #[arg(long, value_name = "DATASET[:YEAR]")]
    bridge_weights: Option<String>,
    /// Counts below this are withheld with everything derived from them.
    #[arg(long, default_value_t = renewal_query::DEFAULT_DISCLOSURE_THRESHOLD)]
    disclosure_threshold: f64,
    /// Simplify boundaries for the web with this tolerance in metres (topology-preserving
    /// Visvalingam–Whyatt); figures are unaffected.
    #[arg(long, value_name = "METRES")]
    simplify: Option<f64>,
    /// Decimal places of coordinates.
    #[arg(long, default_value_t = renewal_query::DEFAULT_MAP_PRECISION)]
    precision: u8,
    /// Write the GeoJSON to this file instead of standard output.
    #[arg(long, short)]
    out: Option<PathBuf>,
}

pub async fn map(e: Engine, args: &MapArgs) -> Result<()> {
    let e = e.with_disclosure_threshold(args.disclosure_threshold);
    let request = GapRequest {
        indicator: args.indicator.clone(),
        period: args.period.clone(),
        authority: Some(args.authority.clone()),
        level: match args.level {
            MapLevel::Ward => AreaLevel::Ward,
            MapLevel::Lsoa => AreaLevel::Lsoa,
        },
        benchmark: match args.benchmark {
            BenchmarkName::Authority => Benchmark::Authority,
            BenchmarkName::England => Benchmark::England,
        },
    };
    let scope = Scope {
        ward_vintage: args.ward_vintage,
        pins: args.pins.iter().cloned().collect(),
        bridge_weights: args.bridge_weights.clone(),
    };
    let options = renewal_query::MapOptions {
        simplify_metres: args.simplify,
        precision: args.precision,
    };
    let map = renewal_query::gap_map(&e, &request, &scope, &options).await?;
    let mut out: Box<dyn Write> = match &args.out {
        Some(path) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))?,
        )),
        None => Box::new(std::io::stdout().lock()),
    };
    serde_json::to_writer(&mut out, &map.document)?;
    writeln!(out)?;
    out.flush()?;
    output::basis_to_stderr(&map.basis, &map.notes);
    Ok(())
}

#[derive(Debug, Args)]
pub struct LppArgs {
    /// The authority (E06…/E07…/E08…/E09…).
    #[arg(long)]
    authority: String,
    /// Financial year, 2023-24 or 2023/24. Each indicator shows its period inside it: that
    /// financial year, the latest month in it, or the census day in it (the notes say which).
    #[arg(long)]
    year: String,
    /// Level of the per-area rows (ward, neighbourhood or lsoa); the plan's (ward) by default.
    #[arg(long, value_enum)]
    level: Option<LevelName>,
    /// The deprived areas set against the rest: imd-decile<=N, areas:CODE,CODE… or
    /// neighbourhood:ID; the plan's (imd-decile<=2) by default.
    #[arg(long)]
    selection: Option<Selection>,
    /// The plan file's id in data-schemas/plans/.
    #[arg(long, default_value = renewal_query::DEFAULT_PLAN)]
    plan: String,
    #[command(flatten)]
    query: QueryArgs,
}

/// `renewal lpp`: the Local Performance Plan table for an authority and a year.
pub async fn lpp(e: Engine, args: &LppArgs) -> Result<()> {
    let e = engine(e, &args.query);
    let request = renewal_query::LppRequest {
        authority: args.authority.clone(),
        year: args.year.clone(),
        level: args.level.map(Into::into),
        selection: args.selection.clone(),
        plan: Some(args.plan.clone()),
    };
    let answer = renewal_query::local_performance_plan(&e, &request, &args.query.scope()).await?;
    render(&answer, &args.query, "renewal lpp")
}
