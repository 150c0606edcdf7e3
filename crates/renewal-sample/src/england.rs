//! England-sized inputs for benchmarks (`renewal sample --scale england`): a fictional England
//! of 32,844 LSOAs (2011) in 7,000 wards (2019) in 317 districts (2019), written in the layouts
//! the ingesters read today, streamed to disk row by row so no file is ever held in memory.
//!
//! Files (all synthetic: the codes are in the 9 series, E01900001…, E05900001…, and the
//! district codes E06/E07/E08/E09 followed by 9…, so no figure belongs to a real place):
//! - the ONS LSOA11 → WD19 → LAD19 lookup (BOM, LF, `FID` first), as [`crate::lookup`];
//! - IoD2019 Files 5, 2 (gzipped) and 6 in MHCLG's layout (module [`crate::iod`]): national
//!   ranks are a permutation of 1..=N for every domain, deciles ceil(10 r / N);
//! - ten years of monthly DWP claimant counts per LSOA, January 2010 to December 2019, in the
//!   Nomis monthly layout `date,lsoa11cd,lsoa11nm,measure,value`;
//! - one year (2019) of police.uk street crime, one file per force for the year (43 forces,
//!   about six million rows, the 12 standard columns, CRLF): coordinates always lie inside
//!   the crime's LSOA, one crime in 50 has coordinates but no LSOA (as real files do), and one
//!   in 1,000 has neither;
//! - ward boundaries in the ONS portal's GeoJSON layout: the wards are rectangles in WGS84
//!   tiling a box over the Midlands and the North (row by row, 100 to a row), and each ward's
//!   LSOAs are equal vertical strips of it. The LSOA strips are not written; crime coordinates
//!   fall strictly inside them.
//!
//! The geography (codes, names, which LSOA lies in which ward and district) never depends on
//! the seed; the figures do. The same seed and size give byte-identical files.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use crate::iod::{self, DOMAINS, Iod, KEY_HEADERS, POPULATION_HEADERS};
use crate::rng::{Rng, logistic, logit};
use crate::text::{BOM, Layout, fixed, quote};
use crate::{SampleError, SampleFile, SampleReport};

/// How big an England to write. [`EnglandSize::FULL`] is England's size; tests use
/// [`EnglandSize::divided`] to run the same generator on a fraction of it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EnglandSize {
    /// LSOAs (2011); national IoD ranks run 1..=lsoas.
    pub lsoas: u32,
    /// Wards (2019).
    pub wards: u32,
    /// Local authority districts (2019).
    pub districts: u32,
    /// Police forces, one street-crime file each.
    pub forces: u32,
    /// Months of claimant counts, from January 2010.
    pub claimant_months: u32,
    /// Mean street crimes per LSOA and month before deprivation and season (12 gives
    /// six million crimes a year across England).
    pub crimes_per_lsoa_month: f64,
}

impl EnglandSize {
    /// England in 2019: 32,844 LSOAs, 7,000 wards (the real count is 6,800-odd English wards
    /// of 2019; a round grid of 7,000 is close), 317 districts, 43 police forces, ten years of
    /// months and about six million crimes a year.
    pub const FULL: EnglandSize = EnglandSize {
        lsoas: 32_844,
        wards: 7_000,
        districts: 317,
        forces: 43,
        claimant_months: 120,
        crimes_per_lsoa_month: 12.0,
    };

    /// [`EnglandSize::FULL`] with every area count divided by `divisor` (at least one force
    /// and district, two wards per district at most…), for tests of the generator itself.
    pub fn divided(divisor: u32) -> EnglandSize {
        let d = divisor.max(1);
        let full = EnglandSize::FULL;
        let lsoas = (full.lsoas / d).max(4);
        let wards = (full.wards / d).clamp(2, lsoas);
        let districts = (full.districts / d).clamp(1, wards);
        EnglandSize {
            lsoas,
            wards,
            districts,
            forces: (full.forces / d).clamp(1, districts),
            claimant_months: full.claimant_months,
            crimes_per_lsoa_month: full.crimes_per_lsoa_month,
        }
    }
}

/// The file names, so scripts and tests can find them.
pub mod names {
    /// The LSOA11 → WD19 → LAD19 lookup.
    pub const LOOKUP: &str = crate::lookup::FILE;
    /// IoD2019 File 5 (scores).
    pub const IOD_FILE_5: &str = crate::iod::FILE_5;
    /// IoD2019 File 2 (ranks and deciles), gzipped.
    pub const IOD_FILE_2: &str = crate::iod::FILE_2;
    /// IoD2019 File 6 (population denominators).
    pub const IOD_FILE_6: &str = crate::iod::FILE_6;
    /// Monthly claimant counts per LSOA, 2010-2019.
    pub const CLAIMANTS: &str = "claimant_count_lsoa_monthly_2010-2019_lsoa11.csv";
    /// Ward boundaries.
    pub const WARDS: &str = "Wards_(December_2019)_Boundaries_EW_BGC.geojson";
    /// The folder of the police.uk files, one per force (`2019-force-01-street.csv` …).
    pub const CRIME_DIR: &str = "crime";
    /// The year of the street crime.
    pub const CRIME_YEAR: u32 = 2019;
}

/// The box the ward rectangles tile (WGS84 degrees): west, south, east, north.
pub const BOX: [f64; 4] = [-3.0, 51.5, -0.2, 53.6];

/// Wards to a row of the grid.
fn grid_columns(size: &EnglandSize) -> u32 {
    size.wards.min(100)
}

/// The geography: fixed by the size alone.
struct Geography {
    size: EnglandSize,
    /// First LSOA index of each ward, and one past the last (len = wards + 1).
    ward_start: Vec<u32>,
    /// First ward of each district, and one past the last.
    district_start: Vec<u32>,
}

/// District kinds in the order their codes are given, with England's 2019 counts of each:
/// metropolitan (E08), London boroughs (E09), unitary authorities (E06), the rest
/// non-metropolitan (E07).
const DISTRICT_KINDS: [(&str, u32); 3] = [("E08", 36), ("E09", 33), ("E06", 55)];

impl Geography {
    fn build(size: EnglandSize) -> Geography {
        // Even shares, so ward sizes differ by at most one LSOA (4 or 5 at full size) and
        // district sizes by at most one ward.
        let split = |n: u32, parts: u32| -> Vec<u32> {
            (0..=parts)
                .map(|k| (u64::from(n) * u64::from(k) / u64::from(parts)) as u32)
                .collect()
        };
        Geography {
            ward_start: split(size.lsoas, size.wards),
            district_start: split(size.wards, size.districts),
            size,
        }
    }

    fn ward_of_lsoa(&self, i: u32) -> u32 {
        (self.ward_start.partition_point(|&s| s <= i) - 1) as u32
    }

    fn district_of_ward(&self, w: u32) -> u32 {
        (self.district_start.partition_point(|&s| s <= w) - 1) as u32
    }

    fn district_code(&self, d: u32) -> String {
        let mut k = d;
        for (prefix, count) in DISTRICT_KINDS {
            // Scale the real counts down with the size, so small Englands keep every kind.
            let count = (u64::from(count) * u64::from(self.size.districts) / 317).max(1) as u32;
            if k < count {
                return format!("{prefix}9{:05}", k + 1);
            }
            k -= count;
        }
        format!("E079{:05}", k + 1)
    }

    fn district_name(d: u32) -> String {
        format!("Sample District {:03}", d + 1)
    }

    fn ward_code(w: u32) -> String {
        format!("E059{:05}", w + 1)
    }

    fn ward_name(&self, w: u32) -> String {
        let d = self.district_of_ward(w);
        format!(
            "{} Ward {:02}",
            Geography::district_name(d),
            w - self.district_start[d as usize] + 1
        )
    }

    fn lsoa_code(i: u32) -> String {
        format!("E019{:05}", i + 1)
    }

    /// As ONS names them: the district's name, the MSOA's number (here the ward's within the
    /// district) and a letter.
    fn lsoa_name(&self, i: u32) -> String {
        let w = self.ward_of_lsoa(i);
        let d = self.district_of_ward(w);
        let in_district = w - self.district_start[d as usize] + 1;
        let letter = (b'A' + ((i - self.ward_start[w as usize]) % 26) as u8) as char;
        format!("{} {in_district:03}{letter}", Geography::district_name(d))
    }

    /// The ward's rectangle: west, south, east, north.
    fn ward_rect(&self, w: u32) -> [f64; 4] {
        let cols = grid_columns(&self.size);
        let rows = self.size.wards.div_ceil(cols);
        let (col, row) = (w % cols, w / cols);
        let width = (BOX[2] - BOX[0]) / f64::from(cols);
        let height = (BOX[3] - BOX[1]) / f64::from(rows);
        let west = BOX[0] + width * f64::from(col);
        let south = BOX[1] + height * f64::from(row);
        [west, south, west + width, south + height]
    }

    /// The LSOA's strip of its ward's rectangle.
    fn lsoa_rect(&self, i: u32) -> [f64; 4] {
        let w = self.ward_of_lsoa(i);
        let [west, south, east, north] = self.ward_rect(w);
        let (first, end) = (self.ward_start[w as usize], self.ward_start[w as usize + 1]);
        let width = (east - west) / f64::from(end - first);
        let left = west + width * f64::from(i - first);
        [left, south, left + width, north]
    }
}

/// Every LSOA's underlying deprivation (on the logit scale of [`crate::place`]: high = less
/// deprived), population and IoD figures, in LSOA order: the only per-area state kept in memory.
struct Figures {
    latent: Vec<f64>,
    /// Total, 0-15, 16-59, 60+, working age (mid-2015, as File 6).
    population: Vec<[u32; 5]>,
    iod: Iod,
}

impl Figures {
    fn generate(geo: &Geography, seed: u64) -> Figures {
        let size = geo.size;
        let mut rng = Rng::stream(seed, "england place");
        // Districts, then wards within them, then LSOAs within wards, each a little
        // different from its parent, so gaps within an authority are real.
        let district: Vec<f64> = (0..size.districts)
            .map(|_| logit(rng.between(0.08, 0.92)))
            .collect();
        let ward: Vec<f64> = (0..size.wards)
            .map(|w| district[geo.district_of_ward(w) as usize] + 0.7 * rng.normal())
            .collect();
        let mut latent = Vec::with_capacity(size.lsoas as usize);
        let mut population = Vec::with_capacity(size.lsoas as usize);
        let mut positions = Vec::with_capacity(size.lsoas as usize);
        for i in 0..size.lsoas {
            let w = geo.ward_of_lsoa(i);
            let x = ward[w as usize] + 0.5 * rng.normal();
            latent.push(x);
            let total = 1_000 + (1_600.0 * rng.unit()) as u32;
            let children = (f64::from(total) * rng.between(0.14, 0.24)) as u32;
            let older = (f64::from(total) * rng.between(0.15, 0.32)) as u32;
            let middle = total - children - older;
            let working = (f64::from(middle) * rng.between(1.0, 1.06)).min(f64::from(total)) as u32;
            population.push([total, children, middle, older, working]);
            // Every fifth district is rural-ish (Barriers and Living Environment worse).
            let rural = geo.district_of_ward(w) % 5 == 4;
            positions.push(iod::domain_positions(&mut rng, x, rural));
        }
        let iod = Iod::from_positions(&positions, size.lsoas);
        Figures {
            latent,
            population,
            iod,
        }
    }

    /// How deprived an LSOA is, 0 (least) to 1 (most).
    fn deprivation(&self, i: u32) -> f64 {
        1.0 - logistic(self.latent[i as usize])
    }
}

/// A CSV file written row by row through a buffer, quoted and laid out as [`crate::text`]
/// writes whole files.
struct Csv<W: Write> {
    out: W,
    layout: Layout,
    rows: usize,
    line: String,
}

impl<W: Write> Csv<W> {
    fn new<S: AsRef<str>>(
        mut out: W,
        bom: bool,
        header: &[S],
        layout: Layout,
    ) -> std::io::Result<Csv<W>> {
        if bom {
            out.write_all(BOM.as_bytes())?;
        }
        let mut csv = Csv {
            out,
            layout,
            rows: 0,
            line: String::new(),
        };
        csv.fields(header);
        csv.out.write_all(csv.line.as_bytes())?;
        Ok(csv)
    }

    fn eol(&self) -> &'static str {
        match self.layout {
            Layout::LfAfterEach => "\n",
            Layout::CrlfBetween | Layout::CrlfAfterEach => "\r\n",
        }
    }

    fn fields<S: AsRef<str>>(&mut self, fields: &[S]) {
        self.line.clear();
        for (k, f) in fields.iter().enumerate() {
            if k > 0 {
                self.line.push(',');
            }
            self.line.push_str(&quote(f.as_ref()));
        }
    }

    fn row<S: AsRef<str>>(&mut self, fields: &[S]) -> std::io::Result<()> {
        let eol = self.eol();
        self.out.write_all(eol.as_bytes())?;
        self.fields(fields);
        self.out.write_all(self.line.as_bytes())?;
        self.rows += 1;
        Ok(())
    }

    /// Ends the last line where the layout does, and hands back the writer to flush.
    fn finish(mut self) -> std::io::Result<(W, usize)> {
        if self.layout != Layout::CrlfBetween {
            let eol = self.eol();
            self.out.write_all(eol.as_bytes())?;
        }
        Ok((self.out, self.rows))
    }
}

/// Writes the England-sized inputs of `size` into `out_dir` (created if needed), replacing
/// files of the same names and leaving others alone; one [`SampleFile`] per file written.
pub fn write_england(
    out_dir: &Path,
    seed: u64,
    size: EnglandSize,
) -> Result<SampleReport, SampleError> {
    let geo = Geography::build(size);
    let figures = Figures::generate(&geo, seed);
    let mut report = SampleReport::default();
    let mut file = |name: String,
                    description: String,
                    write: &dyn Fn(BufWriter<File>) -> std::io::Result<usize>| {
        let path = out_dir.join(&name);
        let io = |source| SampleError::Io {
            path: path.clone(),
            source,
        };
        if let Some(folder) = path.parent() {
            std::fs::create_dir_all(folder).map_err(io)?;
        }
        let out = BufWriter::with_capacity(1 << 20, File::create(&path).map_err(io)?);
        let rows = write(out).map_err(io)?;
        report.files.push(SampleFile {
            path: path.clone(),
            description,
            rows,
        });
        Ok::<(), SampleError>(())
    };
    file(
        names::LOOKUP.into(),
        "ONS LSOA (2011) to ward (2019) to LAD (2019) lookup layout (BOM, LF), England-sized"
            .into(),
        &|out| lookup(out, &geo),
    )?;
    file(
        names::IOD_FILE_5.into(),
        "IoD2019 File 5 layout: IMD and domain scores (BOM, CRLF), England-sized".into(),
        &|out| file_5(out, &geo, &figures),
    )?;
    file(
        names::IOD_FILE_2.into(),
        "IoD2019 File 2 layout, gzipped: ranks (a permutation of 1..=N) and deciles".into(),
        &|out| file_2(out, &geo, &figures),
    )?;
    file(
        names::IOD_FILE_6.into(),
        "IoD2019 File 6 layout: mid-2015 population denominators (BOM, CRLF)".into(),
        &|out| file_6(out, &geo, &figures),
    )?;
    file(
        names::CLAIMANTS.into(),
        format!(
            "DWP claimant count per LSOA, {} months from January 2010, Nomis monthly layout",
            size.claimant_months
        ),
        &|out| claimants(out, &geo, &figures, seed),
    )?;
    file(
        names::WARDS.into(),
        "ONS portal ward boundary GeoJSON layout (WD19CD, WD19NM; WGS84): rectangles tiling a box"
            .into(),
        &|out| wards(out, &geo),
    )?;
    for force in 0..size.forces {
        file(
            format!("{}/{}", names::CRIME_DIR, crime_file_name(force)),
            format!(
                "police.uk street crime, {} force {:02}, 12 months",
                names::CRIME_YEAR,
                force + 1
            ),
            &|out| crime(out, &geo, &figures, seed, force),
        )?;
    }
    Ok(report)
}

/// The street file of force `force` (from 0).
pub fn crime_file_name(force: u32) -> String {
    format!("{}-force-{:02}-street.csv", names::CRIME_YEAR, force + 1)
}

fn done<W: Write>(csv: Csv<W>) -> std::io::Result<(W, usize)> {
    let (mut out, rows) = csv.finish()?;
    out.flush()?;
    Ok((out, rows))
}

fn lookup(out: BufWriter<File>, geo: &Geography) -> std::io::Result<usize> {
    let mut csv = Csv::new(out, true, &crate::lookup::HEADER, Layout::LfAfterEach)?;
    for i in 0..geo.size.lsoas {
        let w = geo.ward_of_lsoa(i);
        let d = geo.district_of_ward(w);
        csv.row(&[
            (i + 1).to_string(),
            Geography::lsoa_code(i),
            geo.lsoa_name(i),
            Geography::ward_code(w),
            geo.ward_name(w),
            geo.district_code(d),
            Geography::district_name(d),
        ])?;
    }
    Ok(done(csv)?.1)
}

fn keys(geo: &Geography, i: u32) -> Vec<String> {
    let d = geo.district_of_ward(geo.ward_of_lsoa(i));
    vec![
        Geography::lsoa_code(i),
        geo.lsoa_name(i),
        geo.district_code(d),
        Geography::district_name(d),
    ]
}

fn file_5(out: BufWriter<File>, geo: &Geography, f: &Figures) -> std::io::Result<usize> {
    let mut header: Vec<&str> = KEY_HEADERS.to_vec();
    header.extend(DOMAINS.iter().map(|d| d.score_header));
    let mut csv = Csv::new(out, true, &header, Layout::CrlfBetween)?;
    for (i, scores) in (0..).zip(&f.iod.scores) {
        let mut row = keys(geo, i);
        row.extend(scores.iter().map(|&s| fixed(s, 3)));
        csv.row(&row)?;
    }
    Ok(done(csv)?.1)
}

fn file_2(out: BufWriter<File>, geo: &Geography, f: &Figures) -> std::io::Result<usize> {
    let mut header: Vec<String> = KEY_HEADERS.iter().map(|&h| h.to_owned()).collect();
    for d in &DOMAINS {
        header.push(d.rank_header());
        header.push(d.decile_header());
    }
    // No file name, mtime 0 and OS "unknown": byte-identical across runs (as lib.rs's gzip).
    let gz = flate2::GzBuilder::new()
        .mtime(0)
        .operating_system(255)
        .write(out, flate2::Compression::default());
    let mut csv = Csv::new(gz, true, &header, Layout::CrlfBetween)?;
    for (i, ranks) in (0..).zip(&f.iod.ranks) {
        let mut row = keys(geo, i);
        for &r in ranks {
            row.push(r.to_string());
            row.push(iod::decile_among(geo.size.lsoas, r).to_string());
        }
        csv.row(&row)?;
    }
    let (gz, rows) = csv.finish()?;
    gz.finish()?.flush()?;
    Ok(rows)
}

fn file_6(out: BufWriter<File>, geo: &Geography, f: &Figures) -> std::io::Result<usize> {
    let mut header: Vec<&str> = KEY_HEADERS.to_vec();
    header.extend(POPULATION_HEADERS);
    let mut csv = Csv::new(out, true, &header, Layout::CrlfBetween)?;
    for (i, p) in (0..).zip(&f.population) {
        let mut row = keys(geo, i);
        row.extend(p.map(crate::text::count_2dp));
        csv.row(&row)?;
    }
    Ok(done(csv)?.1)
}

/// Claimants each month: a share of the working-age population rising with deprivation, a
/// national cycle (high in 2010-2013, falling to 2016, then a Universal Credit rise), and a
/// few per cent of noise. Rows month by month, each month every LSOA in code order.
fn claimants(
    out: BufWriter<File>,
    geo: &Geography,
    f: &Figures,
    seed: u64,
) -> std::io::Result<usize> {
    let mut rng = Rng::stream(seed, "england claimants");
    let header = ["date", "lsoa11cd", "lsoa11nm", "measure", "value"];
    let measure = "Residents claiming JSA or Universal Credit";
    let names: Vec<(String, String)> = (0..geo.size.lsoas)
        .map(|i| (Geography::lsoa_code(i), geo.lsoa_name(i)))
        .collect();
    let mut csv = Csv::new(out, false, &header, Layout::LfAfterEach)?;
    for m in 0..geo.size.claimant_months {
        let (year, month) = (2010 + m / 12, m % 12 + 1);
        let t = f64::from(m) / 12.0;
        let level = if t < 3.0 {
            1.3
        } else if t < 6.0 {
            1.3 - 0.2 * (t - 3.0)
        } else {
            0.7 + 0.08 * (t - 6.0)
        };
        let date = format!("{year}-{month:02}-01");
        for (i, (code, name)) in (0..).zip(&names) {
            let rate = (0.004 + 0.06 * f.deprivation(i)) * level * rng.between(0.95, 1.05);
            let n = (rate * f64::from(f.population[i as usize][4])).round() as u32;
            csv.row(&[date.as_str(), code, name, measure, &n.to_string()])?;
        }
    }
    Ok(done(csv)?.1)
}

fn wards(mut out: BufWriter<File>, geo: &Geography) -> std::io::Result<usize> {
    let title = "Wards_December_2019_Boundaries_EW_BGC";
    write!(
        out,
        "{{\n\"type\": \"FeatureCollection\",\n\"name\": \"{title}\",\n\"crs\": {{ \"type\": \"name\", \
         \"properties\": {{ \"name\": \"urn:ogc:def:crs:OGC:1.3:CRS84\" }} }},\n\"features\": [\n"
    )?;
    for w in 0..geo.size.wards {
        let [west, south, east, north] = geo.ward_rect(w);
        let comma = if w + 1 < geo.size.wards { "," } else { "" };
        // Counter-clockwise from the south-west corner, closed, as the portal writes rings.
        writeln!(
            out,
            "{{ \"type\": \"Feature\", \"properties\": {{ \"FID\": {}, \"WD19CD\": \"{}\", \
             \"WD19NM\": \"{}\" }}, \"geometry\": {{ \"type\": \"Polygon\", \"coordinates\": \
             [[[{west:.6}, {south:.6}], [{east:.6}, {south:.6}], [{east:.6}, {north:.6}], \
             [{west:.6}, {north:.6}], [{west:.6}, {south:.6}]]] }} }}{comma}",
            w + 1,
            Geography::ward_code(w),
            geo.ward_name(w)
        )?;
    }
    out.write_all(b"]\n}\n")?;
    out.flush()?;
    Ok(geo.size.wards as usize)
}

/// Crime each month of the year relative to the average month (as [`crate::families::SEASON`]).
const SEASON: [f64; 12] = crate::families::SEASON;

/// The force's districts' street crime for the year, month by month, each month LSOA by LSOA.
/// An LSOA's monthly count is Poisson, its mean rising with population and deprivation.
fn crime(
    out: BufWriter<File>,
    geo: &Geography,
    f: &Figures,
    seed: u64,
    force: u32,
) -> std::io::Result<usize> {
    let size = geo.size;
    let mut rng = Rng::stream(seed, &format!("england crime force {force}"));
    let name = format!("Sample Force {:02} Police", force + 1);
    // Districts split evenly between forces; a force's LSOAs are a contiguous run.
    let first_district = u64::from(size.districts) * u64::from(force) / u64::from(size.forces);
    let end_district = u64::from(size.districts) * u64::from(force + 1) / u64::from(size.forces);
    let first_ward = geo.district_start[first_district as usize];
    let end_ward = geo.district_start[end_district as usize];
    let lsoas = geo.ward_start[first_ward as usize]..geo.ward_start[end_ward as usize];
    let names: Vec<(String, String)> = lsoas
        .clone()
        .map(|i| (Geography::lsoa_code(i), geo.lsoa_name(i)))
        .collect();
    let mut csv = Csv::new(
        out,
        false,
        &crate::families::POLICE_UK_HEADER,
        Layout::CrlfAfterEach,
    )?;
    let types = crate::families::CRIME_TYPES;
    let mut serial: u64 = 0;
    let (mut lon, mut lat, mut id) = (String::new(), String::new(), String::new());
    for (month, season) in (1..=12).zip(SEASON) {
        let label = format!("{}-{month:02}", names::CRIME_YEAR);
        for (i, (code, lsoa_name)) in lsoas.clone().zip(&names) {
            let people = f64::from(f.population[i as usize][0]) / 1_650.0;
            let mean =
                size.crimes_per_lsoa_month * people * (0.3 + 1.7 * f.deprivation(i)) * season;
            let [west, south, east, north] = geo.lsoa_rect(i);
            for _ in 0..rng.poisson(mean) {
                serial += 1;
                // Strictly inside the strip (5% margins), so no point sits on a boundary.
                let x = west + (east - west) * rng.between(0.05, 0.95);
                let y = south + (north - south) * rng.between(0.05, 0.95);
                let kind = types[(rng.next_u64() % types.len() as u64) as usize];
                lon.clear();
                lat.clear();
                id.clear();
                use std::fmt::Write as _;
                // Anti-social behaviour has no Crime ID on police.uk; the others a hex hash.
                if kind != types[0] {
                    let _ = write!(id, "{:016x}{:048x}", seed ^ u64::from(force), serial);
                }
                let (lsoa, lsoa_nm) = match serial % 1_000 {
                    0 => ("", ""),
                    s if s % 50 == 7 => ("", ""),
                    _ => (code.as_str(), lsoa_name.as_str()),
                };
                let located = !serial.is_multiple_of(1_000);
                if located {
                    let _ = write!(lon, "{x:.6}");
                    let _ = write!(lat, "{y:.6}");
                }
                csv.row(&[
                    id.as_str(),
                    label.as_str(),
                    name.as_str(),
                    name.as_str(),
                    lon.as_str(),
                    lat.as_str(),
                    if located {
                        "On or near Sample Street"
                    } else {
                        "No location"
                    },
                    lsoa,
                    lsoa_nm,
                    kind,
                    if kind == types[0] {
                        ""
                    } else {
                        "Under investigation"
                    },
                    "",
                ])?;
            }
        }
    }
    Ok(done(csv)?.1)
}

/// The path of a written file, for callers that print sizes.
pub fn file_size(path: &Path) -> Option<u64> {
    std::fs::metadata(path).ok().map(|m| m.len())
}

/// Where the ward boundaries of a written England are.
pub fn wards_path(out_dir: &Path) -> PathBuf {
    out_dir.join(names::WARDS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn geography_nests_evenly() {
        let geo = Geography::build(EnglandSize::FULL);
        assert_eq!(geo.ward_start.len(), 7_001);
        assert_eq!(geo.ward_start[7_000], 32_844);
        let sizes: Vec<u32> = geo.ward_start.windows(2).map(|w| w[1] - w[0]).collect();
        assert!(sizes.iter().all(|&s| s == 4 || s == 5), "ward sizes 4 or 5");
        assert_eq!(geo.district_start[317], 7_000);
        assert_eq!(geo.ward_of_lsoa(0), 0);
        assert_eq!(geo.ward_of_lsoa(32_843), 6_999);
        assert_eq!(geo.district_of_ward(6_999), 316);
        // The district kinds in England's 2019 counts: 36 E08, 33 E09, 55 E06, 193 E07.
        let codes: Vec<String> = (0..317).map(|d| geo.district_code(d)).collect();
        for (prefix, count) in [("E08", 36), ("E09", 33), ("E06", 55), ("E07", 193)] {
            assert_eq!(
                codes.iter().filter(|c| c.starts_with(prefix)).count(),
                count,
                "{prefix}"
            );
        }
        assert_eq!(codes[0], "E08900001");
        assert_eq!(codes[316], "E07900193");
        let mut unique = codes.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), 317);
        assert_eq!(Geography::lsoa_code(32_843), "E01932844");
        assert_eq!(Geography::ward_code(6_999), "E05907000");
    }

    #[test]
    fn lsoa_strips_tile_their_ward() {
        let geo = Geography::build(EnglandSize::FULL);
        for w in [0u32, 99, 100, 4_321, 6_999] {
            let ward = geo.ward_rect(w);
            let (first, end) = (geo.ward_start[w as usize], geo.ward_start[w as usize + 1]);
            assert_eq!(geo.lsoa_rect(first)[0], ward[0]);
            assert!((geo.lsoa_rect(end - 1)[2] - ward[2]).abs() < 1e-12);
            for i in first..end {
                let r = geo.lsoa_rect(i);
                assert_eq!((r[1], r[3]), (ward[1], ward[3]));
            }
        }
        // The grid fills the box: 70 rows of 100.
        assert!((geo.ward_rect(6_999)[2] - BOX[2]).abs() < 1e-12);
        assert!((geo.ward_rect(6_999)[3] - BOX[3]).abs() < 1e-12);
    }
}
