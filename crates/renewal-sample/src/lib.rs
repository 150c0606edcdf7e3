//! A small fictional place, written in the formats the real publishers use, so Renewal's demo
//! and end-to-end tests run anywhere without the real data.
//!
//! Two authorities: "Renewal Vale" (E08999001, a metropolitan district of 8 wards and 60 LSOAs)
//! and "Brookmere" (E07999002, a non-metropolitan district of 3 wards and 20 LSOAs), on 2011
//! LSOA and 2019 ward geography. Deprivation is deliberately uneven: two Vale wards sit in the
//! most deprived 5% nationally and one in the least deprived fifth; Brookmere is mostly
//! affluent. The codes are valid in form but belong to no real area (the 999 series).
//!
//! Files, with the published quirks kept (see each module):
//! - `File_5_-_IoD2019_Scores.csv`, `File_2_-_IoD2019_Domains_of_Deprivation.csv.gz`,
//!   `File_6_-_IoD2019_Population_Denominators.csv` (module `iod`): UTF-8 BOM, CRLF, no line end
//!   after the last row, headers verbatim.
//! - `Lower_Layer_Super_Output_Area_(2011)_to_Ward_(2019)_Lookup_in_England_and_Wales.csv`
//!   (module `lookup`): BOM, LF, `FID` first.
//! - a census table, DWP claimant counts and rates, local Best Value indicators and police.uk
//!   street crime (module `families`), in the layouts of the real files (no BOM, LF; police.uk
//!   CRLF).
//! - time series for trend and target questions: the Best Value indicator for every ward over
//!   six financial years, 2014-15 to 2019-20, in which most of the Vale's deprived wards close
//!   their gap to the authority and one (Millgate) does not; and police.uk crime as twelve
//!   monthly files, `2021-01-renewal-vale-street.csv` to `2021-12-…`, one per month as
//!   police.uk publishes them, with a summer peak.
//! - `Wards_(December_2019)_Boundaries_EW_BGC.geojson` and
//!   `LSOA_(December_2011)_Boundaries_EW_BGC.geojson` (module `boundaries`): ward and LSOA
//!   polygons in the ONS portal's GeoJSON layout (WGS84), tiling the two authorities exactly as
//!   the lookup assigns LSOAs to wards; for `renewal ingest boundaries` and maps.
//! - `README.txt`: what these files are and the seed.
//! - `neighbourhood_best_value_lsoa_sample.csv` and `ward_best_value_values_sample.csv`
//!   (module `plan`): Best Value indicators for the Local Performance Plan, 2018-19 to
//!   2023-24, by LSOA with counts and by ward as values only (with `ward_vintage`); written
//!   after the README, which does not list them, so the files above stay byte-identical.
//!
//! With [`SampleScope::WithBoundaryChange`] (`renewal sample --boundary-change`), the place
//! also crosses the 2021 boundary change, in the folder [`BOUNDARY_CHANGE_DIR`] so that the
//! globs reading the files above (`File_*`, `*-street.csv`) keep reading exactly those:
//! - `LSOA_(2011)_to_LSOA_(2021)_to_Local_Authority_District_(2022)_Lookup_for_England_and_Wales.csv`
//!   and `LSOA_(2021)_to_Electoral_Ward_(2024)_to_LAD_(2024)_Best_Fit_Lookup_in_EW.csv`
//!   (module `geography2021`): 81 LSOA21s (splits, merges and an irregular redrawing in both
//!   authorities), 12 wards after a 2024 review; BOM, CRLF, `ObjectId` last; and their
//!   boundaries, `Wards_(May_2024)_Boundaries_UK_BGC.geojson` and
//!   `LSOA_(December_2021)_Boundaries_EW_BGC.geojson`, tiling the same land (module `boundaries`).
//! - `File_2_-_IoD2025_Domains_of_Deprivation.csv` (BOM, ranks `"6,907"`),
//!   `File_5_-_IoD2025_Scores.csv` (no BOM) and `File_6_-_IoD2025_Population_Denominators.csv`
//!   (module `iod2025`): ranks out of 33,755; Millgate leaves deciles 1–2, one Brookmere Town
//!   LSOA enters decile 2.
//! - `population_mid-2015_lsoa11.csv` … `population_mid-2020_lsoa11.csv` (Trafford layout),
//!   `sapelsoasyoa_mid-2021.csv` … `sapelsoasyoa_mid-2024.csv` (ONS release layout) and
//!   `census2021_usual_residents_age6_lsoa21.csv` (module `population`), all sums of the same
//!   pieces of geography.
//! - `2024-01-renewal-vale-street.csv` … `2024-12-…` on 2021 LSOAs, and
//!   `claimant_count_lsoa_2015-2020_lsoa11.csv`, `claimant_count_lsoa_2021-2025_lsoa21.csv`
//!   (module `crime2024`): Millgate's crime gap narrows from 2021, Canal Side's does not.
//!
//! Each dataset family is one module returning its files; [`write_sample`] calls them all.
//! Families share the fictional place (module `place`) and each draws from its own random stream,
//! so adding a family never changes the files of the others. The same seed gives
//! byte-identical files on any platform.

use std::io::Write as _;
use std::path::{Path, PathBuf};

mod boundaries;
mod crime2024;
pub mod england;
mod families;
mod geography2021;
mod iod;
mod iod2025;
mod lm3;
mod lookup;
mod partners;
mod place;
mod plan;
mod population;
mod rng;
mod spend;
mod text;

/// Number of LSOAs (2011) in England that IoD2019 ranks are out of.
pub const NATIONAL_LSOAS: u32 = 32_844;

/// Number of LSOAs (2011) in England that IoD2019 ranks are out of.
pub const fn national_lsoa_count() -> u32 {
    NATIONAL_LSOAS
}

/// Number of LSOAs (2021) in England that IoD2025 ranks are out of.
pub const NATIONAL_LSOAS_2021: u32 = 33_755;

/// The folder, inside the sample directory, of the files on 2021 geography and of the series
/// across the 2021 boundary change (see the module docs).
pub const BOUNDARY_CHANGE_DIR: &str = "boundary-change";

/// The sample's local authority district codes (2019): Renewal Vale, then Brookmere.
pub const SAMPLE_LAD_CODES: [&str; 2] = [place::AUTHORITIES[0].code, place::AUTHORITIES[1].code];

/// The sample's local authority district names, in the order of [`SAMPLE_LAD_CODES`].
pub const SAMPLE_LAD_NAMES: [&str; 2] = [place::AUTHORITIES[0].name, place::AUTHORITIES[1].name];

/// The seed `renewal sample` uses unless told otherwise.
pub const DEFAULT_SEED: u64 = 2019;

/// What to generate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SampleSpec {
    /// The same seed gives byte-identical files; geography (codes and names) never depends on it.
    pub seed: u64,
}

impl Default for SampleSpec {
    fn default() -> Self {
        SampleSpec { seed: DEFAULT_SEED }
    }
}

/// Why the sample could not be written.
#[derive(Debug, thiserror::Error)]
pub enum SampleError {
    /// A folder or file could not be created or written.
    #[error("writing {}: {source}", path.display())]
    Io {
        /// The folder or file.
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// One file written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SampleFile {
    /// Where it was written.
    pub path: PathBuf,
    /// Its layout and contents, in a line.
    pub description: String,
    /// Data rows, the header not counted (0 for the README).
    pub rows: usize,
}

/// The files written, in the order they were written.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SampleReport {
    /// Every file, README last.
    pub files: Vec<SampleFile>,
}

/// A file a family produces, before it is written.
pub(crate) struct Output {
    pub(crate) name: &'static str,
    pub(crate) description: String,
    pub(crate) rows: usize,
    pub(crate) text: String,
    /// Written gzipped (the name should end `.gz`).
    pub(crate) gzip: bool,
}

/// Which files to write.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum SampleScope {
    /// The files on 2011 LSOAs and 2019 wards, all at the top of the folder: the sample as it
    /// has always been, byte for byte.
    #[default]
    Base,
    /// Those, and the files on 2021 geography and across the 2021 boundary change in the
    /// [`BOUNDARY_CHANGE_DIR`] folder, listed in the README too.
    WithBoundaryChange,
}

/// Writes the [`SampleScope::Base`] sample files into `out_dir` (created if needed),
/// replacing files of the same names and leaving any others alone.
pub fn write_sample(out_dir: &Path, spec: &SampleSpec) -> Result<SampleReport, SampleError> {
    write_sample_scoped(out_dir, spec, SampleScope::Base)
}

/// [`write_sample`] for the files of `scope`; sub-folders are created as needed.
pub fn write_sample_scoped(
    out_dir: &Path,
    spec: &SampleSpec,
    scope: SampleScope,
) -> Result<SampleReport, SampleError> {
    let io = |path: &Path| {
        let path = path.to_owned();
        move |source| SampleError::Io { path, source }
    };
    std::fs::create_dir_all(out_dir).map_err(io(out_dir))?;
    let mut report = SampleReport::default();
    for output in outputs(spec, scope) {
        let path = out_dir.join(output.name);
        if let Some(folder) = path.parent() {
            std::fs::create_dir_all(folder).map_err(io(folder))?;
        }
        let bytes = if output.gzip {
            gzip(output.text.as_bytes()).map_err(io(&path))?
        } else {
            output.text.into_bytes()
        };
        std::fs::write(&path, bytes).map_err(io(&path))?;
        report.files.push(SampleFile {
            path,
            description: output.description,
            rows: output.rows,
        });
    }
    Ok(report)
}

/// Every family's files, then the README describing them.
fn outputs(spec: &SampleSpec, scope: SampleScope) -> Vec<Output> {
    let place = place::Place::build(spec.seed);
    let mut files = iod::files(&place, spec.seed);
    files.push(lookup::file(&place));
    files.extend(boundaries::files_2019(&place));
    files.push(families::census(&place, spec.seed));
    files.push(families::claimants(&place, spec.seed));
    files.push(families::claimant_rate(&place, spec.seed));
    files.push(families::best_value(&place, spec.seed));
    files.extend(families::crime(&place, spec.seed));
    files.extend(lm3::files());
    files.push(partners::file());
    // The Local Performance Plan's Best Value files: LSOA counts, ward values.
    files.extend(plan::files(&place, spec.seed));
    if scope == SampleScope::WithBoundaryChange {
        files.extend(boundary_change(&place, spec.seed));
    }
    let readme = readme(spec, &place, &files, scope);
    // The council's spending comes after the README is made, so the README (and every file
    // before it) stays byte-identical; spend/README.txt describes these.
    if scope == SampleScope::WithBoundaryChange {
        let geo = geography2021::Geography21::build(&place);
        files.extend(spend::files(&place, &geo, spec.seed));
    }
    files.push(readme);
    files
}

/// The files across the 2021 boundary change: geography fixed, each family its own stream,
/// so the files above are the same with or without them.
fn boundary_change(place: &place::Place, seed: u64) -> Vec<Output> {
    let mut files = Vec::new();
    let geo = geography2021::Geography21::build(place);
    let pop = population::Populations::build(place, &geo, seed);
    let iod25 = iod2025::Iod2025::generate(place, &geo, seed);
    files.push(geography2021::bridge(place, &geo));
    files.push(geography2021::wards(&geo));
    files.extend(boundaries::files_2021(place, &geo));
    files.extend(iod2025::files(&geo, &iod25, &pop));
    files.extend(population::lsoa11_files(place, &geo, &pop));
    files.extend(population::lsoa21_files(&geo, &pop));
    files.push(population::census(&geo, &pop, seed));
    files.extend(crime2024::crime(place, &geo, &iod25, &pop, seed));
    files.extend(crime2024::claimants(place, &geo, &iod25, &pop, seed));
    files
}

fn readme(spec: &SampleSpec, place: &place::Place, files: &[Output], scope: SampleScope) -> Output {
    let [vale, brook] = SAMPLE_LAD_NAMES;
    let [vale_code, brook_code] = SAMPLE_LAD_CODES;
    let (seed, wards, lsoas) = (spec.seed, place.wards.len(), place.lsoas.len());
    let years = families::BEST_VALUE_YEARS;
    let (first_year, last_year) = (years[0], years[years.len() - 1]);
    let mut text = format!(
        "Renewal sample data: FICTIONAL\n\
         \n\
         These are fictional sample files in the real published formats, generated by\n\
         `renewal sample` with seed {seed}. The same seed gives byte-identical files:\n\
         \n    renewal sample --out DIR --seed {seed}\n\
         \n\
         They describe two invented local authorities: {vale} ({vale_code}, a\n\
         metropolitan district) and {brook} ({brook_code}, a non-metropolitan district),\n\
         with {wards} wards (2019 codes) and {lsoas} LSOAs (2011 codes) between them. The codes\n\
         are in the unused 999 series and every figure is invented: the files show how\n\
         Renewal works and describe no real place.\n\
         \n\
         Two families are time series, for trends and targets: the Best Value indicator\n\
         BV-HOMES-01 covers every ward in each financial year from {first_year} to {last_year}, and\n\
         police.uk street crime comes as one file per month of 2021, as police.uk\n\
         publishes it. Ingest the twelve months together:\n\
         \n    renewal ingest crime DIR/2021-*-renewal-vale-street.csv\n\
         \n"
    );
    if scope == SampleScope::WithBoundaryChange {
        text.push_str(&boundary_change_readme());
    }
    text.push_str("Files (layout, headers and quirks as published):\n");
    for f in files {
        text.push_str(&format!(
            "  {}\n      {}; {} rows\n",
            f.name, f.description, f.rows
        ));
    }
    Output {
        name: "README.txt",
        description: "what these files are, and the seed".into(),
        rows: 0,
        text,
        gzip: false,
    }
}

/// The README's paragraph on the `boundary-change` folder: what changed and the stories the
/// series across the break tell.
fn boundary_change_readme() -> String {
    let dir = BOUNDARY_CHANGE_DIR;
    let improving = iod2025::IMPROVING_WARD;
    let widening = crime2024::WIDENING_WARD;
    format!(
        "The folder {dir}/ carries the place across the 2021 boundary change. Most LSOAs\n\
         keep their 2011 code; the others (CHGIND in the ONS LSOA11 -> LSOA21 lookup) are:\n\
         \n\
         \x20 X  Renewal Vale 002A, 002B (E01999006, E01999007) -> 002E, 002F (E01999081, E01999082)\n\
         \x20 S  Renewal Vale 004B (E01999015) -> 004E, 004F (E01999083, E01999084)\n\
         \x20 S  Renewal Vale 009C (E01999035) -> 009E, 009F (E01999085, E01999086): a new estate\n\
         \x20 M  Renewal Vale 016A, 016B (E01999058, E01999059) -> 016D (E01999087)\n\
         \x20 S  Brookmere 002C (E01999067) -> 002E, 002F (E01999088, E01999089)\n\
         \x20 M  Brookmere 006B, 006C (E01999079, E01999080) -> 006D (E01999090)\n\
         \n\
         A 2024 ward review gives every ward a new code (E05999201-209, E05999301-303),\n\
         splits Northfield into Northfield and Hollins Brook and renames Greenbank,\n\
         Highcliffe and Elm Green. IoD2025 (ranks out of {n21} LSOAs) keeps most of the\n\
         2019 picture, but every {improving} LSOA leaves IMD deciles 1-2 and one Brookmere\n\
         Town LSOA enters decile 2. Populations run from mid-2015 to mid-2024 (2011 LSOAs\n\
         to 2020, 2021 LSOAs from 2021), the 009C estate growing fast. Street crime for\n\
         2024 is coded to 2021 LSOAs: {improving}'s gap to the authority narrows from 2021,\n\
         {widening}'s does not. Claimant counts cover January 2015-2020 (2011 LSOAs) and\n\
         January 2021-2025 (2021 LSOAs; the layout's column is still named lsoa11cd).\n\
         \n    renewal ingest crime DIR/{dir}/2024-*-renewal-vale-street.csv\n\
         \x20   renewal ingest benefits DIR/{dir}/claimant_count_lsoa_*.csv\n\
         \n",
        n21 = NATIONAL_LSOAS_2021,
    )
}

fn gzip(bytes: &[u8]) -> std::io::Result<Vec<u8>> {
    // No file name, mtime 0 and OS "unknown" keep the archive byte-identical across runs and
    // platforms.
    let mut encoder = flate2::GzBuilder::new()
        .mtime(0)
        .operating_system(255)
        .write(Vec::new(), flate2::Compression::default());
    encoder.write_all(bytes)?;
    encoder.finish()
}

#[cfg(test)]
mod tests;
