//! The ONS Postcode Directory (ONSPD) and National Statistics Postcode Lookup (NSPL), and
//! column subsets of them, into the `postcodes` dataset: one row per postcode, live or
//! terminated, with its district and LSOA codes (2011 and 2021) as published.
//!
//! A real release is about 2.7 million rows and 1 GB of CSV, so unlike the other families this
//! one never holds the file: it is read as a stream (plain or gzipped CSV), hashed on the way
//! for provenance, and only the kept columns are gathered, in row groups of
//! [`ROW_GROUP_ROWS`] that are encoded to Parquet as soon as they fill. What stays in memory is
//! the Parquet written so far and one `u64` per postcode to refuse duplicates.
//!
//! Limits: the columns limit of [`ReadLimits`] applies to the header; the inflate ratio applies
//! to gzipped input, which is what stops a decompression bomb. The absolute decompressed-size
//! limit does not: it exists to bound memory for readers that hold the whole text, and this
//! one does not (a real directory decompresses to more than the 1 GiB default). Memory is
//! bounded instead by [`PostcodeOptions::max_rows`] and by [`MAX_LINE_BYTES`] per line.

use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::rc::Rc;

use polars::prelude::*;
use renewal_schema::{Catalog, PostcodeColumns, PostcodeField, PostcodeFormat, SchemaFile};
use renewal_warehouse::{Draft, DraftTable, SchemaRef, SourceFile};
use sha2::{Digest, Sha256};

use crate::error::{IngestError, Location, Result};
use crate::progress::Progress;
use crate::source::{ReadLimits, display_name};

/// The dataset id when none is given.
pub const DATASET: &str = "postcodes";

/// The dataset kind recorded in the manifest.
pub const KIND: &str = "postcodes";

/// The table's name.
pub const TABLE: &str = "postcodes";

/// Rows per Parquet row group, and per batch gathered before encoding (polars' own default
/// row group size, 512²).
pub const ROW_GROUP_ROWS: usize = 512 * 512;

/// Most postcodes one directory may hold by default: well above the ~2.7 million of a full
/// release, live and terminated, and low enough that the duplicate check (16 bytes or so per
/// postcode) cannot be driven into exhausting memory.
pub const DEFAULT_MAX_ROWS: u64 = 10_000_000;

/// Longest physical line accepted (a directory line is about 500 bytes): bounds what the CSV
/// parser may buffer for one record, whatever the input.
pub const MAX_LINE_BYTES: u64 = 1 << 20;

/// How to read a postcode directory.
#[derive(Debug, Clone)]
pub struct PostcodeOptions {
    /// Dataset id; [`DATASET`] when `None`.
    pub dataset: Option<String>,
    /// Column and inflate-ratio limits (see the module docs for which apply).
    pub limits: ReadLimits,
    /// Most data rows accepted.
    pub max_rows: u64,
}

impl Default for PostcodeOptions {
    fn default() -> Self {
        PostcodeOptions {
            dataset: None,
            limits: ReadLimits::default(),
            max_rows: DEFAULT_MAX_ROWS,
        }
    }
}

impl PostcodeOptions {
    /// The defaults with [`ReadLimits::from_env`] applied.
    pub fn from_env() -> Result<PostcodeOptions> {
        Ok(PostcodeOptions {
            limits: ReadLimits::from_env()?,
            ..PostcodeOptions::default()
        })
    }
}

/// Reads one postcode directory file (CSV, or gzipped CSV) into a `postcodes` draft.
///
/// Errors name the file, line and column: a key cell that is not a postcode, a postcode given
/// twice, a date that is not `YYYYMM`, a row of the wrong width, text that is not UTF-8.
pub fn read_postcodes(
    path: &Path,
    catalog: &Catalog,
    options: &PostcodeOptions,
    progress: &dyn Progress,
) -> Result<Draft> {
    let name = display_name(path);
    let io_err = |source| IngestError::Io {
        file: name.clone(),
        source,
    };
    let file = File::open(path).map_err(io_err)?;
    let size = file.metadata().map_err(io_err)?.len();
    progress.start_file(&name, size);
    let location = Location::file(&name);
    let hashing = Hashing {
        inner: file,
        hasher: Sha256::new(),
        consumed: Rc::new(Cell::new(0)),
        progress,
    };
    let consumed = hashing.consumed.clone();
    let mut buffered = BufReader::with_capacity(256 << 10, hashing);
    let head = buffered.fill_buf().map_err(io_err)?;
    if head.is_empty() {
        return Err(IngestError::invalid(location, "the file is empty"));
    }
    let input = if head.starts_with(&[0x1f, 0x8b]) {
        Input::Gzip(Box::new(flate2::bufread::MultiGzDecoder::new(buffered)))
    } else {
        Input::Plain(buffered)
    };
    let gzip = matches!(input, Input::Gzip(_));
    let starts = Rc::new(RefCell::new(VecDeque::new()));
    let lines = Lines {
        inner: input,
        offset: 0,
        line: 1,
        line_len: 0,
        prev_cr: false,
        at_line_start: true,
        starts: starts.clone(),
        // Only a compressed stream can be a bomb; a plain file is as big as it looks.
        ratio: gzip.then(|| (options.limits, consumed.clone())),
    };
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(lines);
    let csv_err = |e: csv::Error, line: Option<u64>| {
        let at = line.map_or(location.clone(), |l| location.at_line(l));
        match e.kind() {
            csv::ErrorKind::Io(io) if gzip && io.kind() != std::io::ErrorKind::Other => {
                IngestError::invalid(at, format!("gzip data is truncated or corrupt ({io})"))
            }
            csv::ErrorKind::Io(io) => IngestError::invalid(at, io.to_string()),
            _ => IngestError::invalid(at, format!("malformed CSV: {e}")),
        }
    };
    let line_of = |record: &csv::ByteRecord| -> u64 {
        let byte = record.position().map_or(0, |p| p.byte());
        let mut starts = starts.borrow_mut();
        while starts.front().is_some_and(|&(offset, _)| offset < byte) {
            starts.pop_front();
        }
        starts.front().map_or(0, |&(_, line)| line)
    };

    // The header: the first non-blank line.
    let mut record = csv::ByteRecord::new();
    if !reader
        .read_byte_record(&mut record)
        .map_err(|e| csv_err(e, Some(1)))?
    {
        return Err(IngestError::invalid(location, "no header row"));
    }
    let header_line = line_of(&record);
    if record.len() > options.limits.max_columns {
        return Err(IngestError::invalid(
            location.at_line(header_line),
            format!(
                "{} columns, more than the limit of {}",
                record.len(),
                options.limits.max_columns
            ),
        ));
    }
    let mut headers = Vec::with_capacity(record.len());
    for (i, field) in record.iter().enumerate() {
        let text = std::str::from_utf8(field).map_err(|_| {
            IngestError::invalid(
                location.at_line(header_line).at_column(i + 1, "?"),
                "header is not valid UTF-8; save the file as UTF-8",
            )
        })?;
        headers.push(text.trim_start_matches('\u{feff}').trim().to_owned());
    }
    let (schema_file, format, columns) = choose_format(catalog, &headers, &location, header_line)?;
    let cell = |line: u64, field: PostcodeField| -> Location {
        let i = columns.index(field).unwrap_or(0);
        location.at_line(line).at_column(i + 1, &headers[i])
    };

    let mut out = Vec::new();
    let mut writer = ParquetWriter::new(&mut out)
        .with_compression(ParquetCompression::Zstd(None))
        .with_statistics(StatisticsOptions::full())
        .with_row_group_size(Some(ROW_GROUP_ROWS))
        .batched(&table_schema())?;
    let mut batch = Batch::default();
    let mut seen: HashMap<u64, u64> = HashMap::new();
    let mut counts = Counts::default();
    let index = |f| columns.index(f);
    while reader
        .read_byte_record(&mut record)
        .map_err(|e| csv_err(e, None))?
    {
        let line = line_of(&record);
        if record.len() != headers.len() {
            return Err(IngestError::invalid(
                location.at_line(line),
                format!(
                    "{} fields, but the header has {}",
                    record.len(),
                    headers.len()
                ),
            ));
        }
        if counts.rows >= options.max_rows {
            return Err(IngestError::invalid(
                location.at_line(line),
                format!(
                    "more than {} postcodes, the limit (a full directory holds about 2.7 million)",
                    options.max_rows
                ),
            ));
        }
        let text = |field: PostcodeField| -> Result<Option<&str>> {
            let Some(i) = index(field) else {
                return Ok(None);
            };
            let bytes = record.get(i).unwrap_or_default();
            let text = std::str::from_utf8(bytes).map_err(|_| {
                IngestError::invalid(cell(line, field), "not valid UTF-8; save the file as UTF-8")
            })?;
            let text = text.trim();
            Ok((!text.is_empty()).then_some(text))
        };
        let raw = text(PostcodeField::Postcode)?.unwrap_or("");
        let postcode = directory_postcode(raw, format, &mut counts).ok_or_else(|| {
            IngestError::invalid(
                cell(line, PostcodeField::Postcode),
                format!("{raw:?} is not a postcode"),
            )
        })?;
        if let Some(first) = seen.insert(postcode_key(&postcode), line) {
            return Err(IngestError::invalid(
                cell(line, PostcodeField::Postcode),
                format!("postcode {postcode} is listed twice (first at line {first})"),
            ));
        }
        let month = |field| -> Result<Option<String>> {
            match text(field)? {
                None => Ok(None),
                Some(t) if is_month(t) => Ok(Some(t.to_owned())),
                Some(t) => Err(IngestError::invalid(
                    cell(line, field),
                    format!("{t:?} is not a month written YYYYMM"),
                )),
            }
        };
        let introduced = month(PostcodeField::Introduced)?;
        let terminated = month(PostcodeField::Terminated)?;
        let lad = text(PostcodeField::LadCode)?.map(str::to_owned);
        let lsoa11 = text(PostcodeField::Lsoa11)?.map(str::to_owned);
        let lsoa21 = text(PostcodeField::Lsoa21)?.map(str::to_owned);
        counts.count(&lad, &lsoa11, &lsoa21, terminated.is_some());
        batch.push(Row {
            postcode,
            lad,
            lsoa11,
            lsoa21,
            introduced,
            terminated,
            line,
        });
        if batch.len() >= ROW_GROUP_ROWS {
            writer.write_batch(&batch.take(&name)?)?;
        }
    }
    if counts.rows == 0 {
        return Err(IngestError::invalid(
            location.at_line(header_line),
            "the directory has a header but no postcodes",
        ));
    }
    if batch.len() > 0 {
        writer.write_batch(&batch.take(&name)?)?;
    }
    progress.stage("writing Parquet");
    writer.finish()?;
    drop(writer);

    // Hash what the CSV reader did not need (a gzip trailer, nothing after it): the digest is
    // of the whole file.
    let lines = reader.into_inner();
    let mut hashing = match lines.inner {
        Input::Plain(b) => b,
        Input::Gzip(d) => (*d).into_inner(),
    };
    std::io::copy(&mut hashing, &mut std::io::sink()).map_err(io_err)?;
    let hashing = hashing.into_inner();
    let bytes_read = hashing.consumed.get();
    let sha256 = hex::encode(hashing.hasher.finalize());
    progress.finish_file(&name, counts.rows);

    let notes = counts.notes(format, &columns);
    Ok(Draft {
        dataset: options
            .dataset
            .clone()
            .unwrap_or_else(|| DATASET.to_owned()),
        kind: KIND.into(),
        vintage: BTreeMap::new(),
        attributes: BTreeMap::new(),
        sources: vec![SourceFile {
            name,
            size: bytes_read,
            sha256,
            format: format.id.clone(),
            rows: counts.rows,
        }],
        schemas: vec![SchemaRef {
            path: schema_file.path.clone(),
            sha256: schema_file.sha256.clone(),
        }],
        tables: vec![DraftTable {
            name: TABLE.into(),
            parquet: out.into(),
        }],
        notes,
    })
}

/// The layout that finds most of its fields in `headers` (then the one with most required
/// fields); a tie is a schema problem, reported with the ids.
fn choose_format<'c>(
    catalog: &'c Catalog,
    headers: &[String],
    location: &Location,
    line: u64,
) -> Result<(&'c SchemaFile, &'c PostcodeFormat, PostcodeColumns)> {
    let mut fits: Vec<_> = catalog
        .postcodes
        .iter()
        .filter_map(|(file, format)| {
            format.columns_in(headers).map(|columns| {
                let required = format.columns.len() - format.optional.len();
                ((columns.found.len(), required), file, format, columns)
            })
        })
        .collect();
    fits.sort_by_key(|f| std::cmp::Reverse(f.0));
    match fits.as_slice() {
        [] => Err(IngestError::invalid(
            location.at_line(line),
            format!(
                "not a postcode directory in a known layout ({}); expected e.g. pcds, dointr, doterm, lad25cd, lsoa11cd, lsoa21cd",
                catalog
                    .postcodes
                    .iter()
                    .map(|(_, f)| f.id.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )),
        [first, second, ..] if first.0 == second.0 => Err(IngestError::invalid(
            location.at_line(line),
            format!(
                "header matches several postcode layouts equally ({}, {}); make one of them stricter",
                first.2.id, second.2.id
            ),
        )),
        [first, ..] => {
            let (_, file, format, columns) = first;
            Ok((*file, *format, columns.clone()))
        }
    }
}

/// The table's columns, in order (the contract in the issue 16 brief).
fn table_schema() -> Schema {
    Schema::from_iter([
        Field::new("postcode".into(), DataType::String),
        Field::new("lad_code".into(), DataType::String),
        Field::new("lsoa11".into(), DataType::String),
        Field::new("lsoa21".into(), DataType::String),
        Field::new("introduced".into(), DataType::String),
        Field::new("terminated".into(), DataType::String),
        Field::new("is_terminated".into(), DataType::Boolean),
        Field::new("source".into(), DataType::String),
        Field::new("line".into(), DataType::UInt64),
    ])
}

/// A normalised postcode (at most 8 ASCII bytes, `EC1A 1BB`) packed into a `u64`, so the
/// duplicate check costs a fixed few bytes per postcode rather than a string each.
fn postcode_key(postcode: &str) -> u64 {
    let mut bytes = [0u8; 8];
    for (b, c) in bytes.iter_mut().zip(postcode.bytes()) {
        *b = c;
    }
    u64::from_be_bytes(bytes)
}

/// The canonical spelling of a key cell: [`renewal_geo::postcode::normalise`], or for one of
/// the format's legacy outward codes, that code, a space and a well-formed inward code.
fn directory_postcode(raw: &str, format: &PostcodeFormat, counts: &mut Counts) -> Option<String> {
    if let Some(p) = renewal_geo::postcode::normalise(raw) {
        return Some(p);
    }
    let squeezed: String = raw
        .chars()
        .filter(|c| !c.is_whitespace())
        .map(|c| c.to_ascii_uppercase())
        .collect();
    let split = squeezed.len().checked_sub(3)?;
    if !squeezed.is_ascii() {
        return None;
    }
    let (outward, inward) = squeezed.split_at(split);
    let inward_ok = matches!(inward.as_bytes(), [d, x, y] if d.is_ascii_digit() && x.is_ascii_uppercase() && y.is_ascii_uppercase());
    if inward_ok && format.legacy_outward.iter().any(|c| c == outward) {
        counts.legacy += 1;
        Some(format!("{outward} {inward}"))
    } else {
        None
    }
}

/// `YYYYMM` with a month from 01 to 12.
fn is_month(text: &str) -> bool {
    let b = text.as_bytes();
    b.len() == 6
        && b.iter().all(u8::is_ascii_digit)
        && matches!(
            &text[4..],
            "01" | "02" | "03" | "04" | "05" | "06" | "07" | "08" | "09" | "10" | "11" | "12"
        )
}

struct Row {
    postcode: String,
    lad: Option<String>,
    lsoa11: Option<String>,
    lsoa21: Option<String>,
    introduced: Option<String>,
    terminated: Option<String>,
    line: u64,
}

/// One row group being gathered.
#[derive(Default)]
struct Batch {
    postcode: Vec<String>,
    lad: Vec<Option<String>>,
    lsoa11: Vec<Option<String>>,
    lsoa21: Vec<Option<String>>,
    introduced: Vec<Option<String>>,
    terminated: Vec<Option<String>>,
    is_terminated: Vec<bool>,
    line: Vec<u64>,
}

impl Batch {
    fn len(&self) -> usize {
        self.postcode.len()
    }

    fn push(&mut self, row: Row) {
        self.is_terminated.push(row.terminated.is_some());
        self.postcode.push(row.postcode);
        self.lad.push(row.lad);
        self.lsoa11.push(row.lsoa11);
        self.lsoa21.push(row.lsoa21);
        self.introduced.push(row.introduced);
        self.terminated.push(row.terminated);
        self.line.push(row.line);
    }

    /// The gathered rows as a frame, leaving the batch empty.
    fn take(&mut self, source: &str) -> Result<DataFrame> {
        let b = std::mem::take(self);
        let height = b.postcode.len();
        Ok(DataFrame::new(
            height,
            vec![
                Column::new("postcode".into(), b.postcode),
                Column::new("lad_code".into(), b.lad),
                Column::new("lsoa11".into(), b.lsoa11),
                Column::new("lsoa21".into(), b.lsoa21),
                Column::new("introduced".into(), b.introduced),
                Column::new("terminated".into(), b.terminated),
                Column::new("is_terminated".into(), b.is_terminated),
                Column::new("source".into(), vec![source; height]),
                Column::new("line".into(), b.line),
            ],
        )?)
    }
}

/// What the notes report.
#[derive(Default)]
struct Counts {
    rows: u64,
    terminated: u64,
    with_lsoa11: u64,
    with_lsoa21: u64,
    /// Neither LSOA code is an English (E01) or Welsh (W01) LSOA.
    without_ew_lsoa: u64,
    /// Postcodes under a legacy outward code.
    legacy: u64,
    /// By the first letter of the district code (`-` for none).
    by_country: BTreeMap<char, u64>,
}

impl Counts {
    fn count(
        &mut self,
        lad: &Option<String>,
        lsoa11: &Option<String>,
        lsoa21: &Option<String>,
        terminated: bool,
    ) {
        self.rows += 1;
        self.terminated += u64::from(terminated);
        self.with_lsoa11 += u64::from(lsoa11.is_some());
        self.with_lsoa21 += u64::from(lsoa21.is_some());
        let ew = |c: &Option<String>| {
            c.as_deref()
                .is_some_and(|c| c.starts_with("E01") || c.starts_with("W01"))
        };
        self.without_ew_lsoa += u64::from(!ew(lsoa11) && !ew(lsoa21));
        let country = lad.as_deref().and_then(|c| c.chars().next()).unwrap_or('-');
        *self.by_country.entry(country).or_default() += 1;
    }

    fn notes(&self, format: &PostcodeFormat, columns: &PostcodeColumns) -> Vec<String> {
        let read: Vec<String> = PostcodeField::ALL
            .iter()
            .filter_map(|f| columns.found.get(f).map(|(_, h)| format!("{f} from {h}")))
            .collect();
        let mut notes = vec![
            format!("read as {} ({})", format.id, read.join(", ")),
            if columns.index(PostcodeField::Terminated).is_some() {
                format!(
                    "{} postcodes, {} of them terminated (kept, is_terminated = true)",
                    self.rows, self.terminated
                )
            } else {
                format!(
                    "{} postcodes; the layout has no termination date, so all read as live",
                    self.rows
                )
            },
            format!(
                "{} postcodes have no English or Welsh LSOA (E01/W01) in either vintage; their codes are kept as published",
                self.without_ew_lsoa
            ),
        ];
        if self.legacy > 0 {
            notes.push(format!(
                "{} postcodes under a legacy outward code ({}), kept as published",
                self.legacy,
                format.legacy_outward.join(", ")
            ));
        }
        let lsoa21 = if columns.index(PostcodeField::Lsoa21).is_some() {
            format!("{} with a 2021 LSOA code", self.with_lsoa21)
        } else {
            "no 2021 LSOA column".to_owned()
        };
        notes.push(format!(
            "{} with a 2011 LSOA code, {lsoa21}",
            self.with_lsoa11
        ));
        let countries: Vec<String> = self
            .by_country
            .iter()
            .map(|(c, n)| format!("{} {n}", country_name(*c)))
            .collect();
        notes.push(format!(
            "by the district code's country: {}",
            countries.join(", ")
        ));
        notes
    }
}

/// The GSS code prefix letters of the countries and Crown dependencies in the directory.
fn country_name(letter: char) -> String {
    match letter {
        'E' => "England".into(),
        'W' => "Wales".into(),
        'S' => "Scotland".into(),
        'N' => "Northern Ireland".into(),
        'L' => "Channel Islands".into(),
        'M' => "Isle of Man".into(),
        '-' => "no district".into(),
        other => format!("code prefix {other}"),
    }
}

/// The file as read: every byte hashed and counted (compressed bytes, for gzip) on its way in.
struct Hashing<'p> {
    inner: File,
    hasher: Sha256,
    consumed: Rc<Cell<u64>>,
    progress: &'p dyn Progress,
}

impl Read for Hashing<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        self.consumed.set(self.consumed.get() + n as u64);
        self.progress.advance(n as u64);
        Ok(n)
    }
}

enum Input<'p> {
    Plain(BufReader<Hashing<'p>>),
    // Boxed: the decoder's state is large, and there is one of these per read.
    Gzip(Box<flate2::bufread::MultiGzDecoder<BufReader<Hashing<'p>>>>),
}

impl Read for Input<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self {
            Input::Plain(r) => r.read(buf),
            Input::Gzip(r) => r.read(buf),
        }
    }
}

/// The text as the CSV parser sees it, watched on the way: physical line numbers (a CSV
/// record's byte offset is where the parser resumed, before any blank lines, so the line a user
/// sees is found from the starts of non-empty lines recorded here), the longest line, and the
/// inflate ratio of gzipped input.
struct Lines<'p> {
    inner: Input<'p>,
    /// Bytes passed on so far.
    offset: u64,
    /// The physical line of the next byte (1-based); `\n`, `\r\n` and a lone `\r` each end one.
    line: u64,
    line_len: u64,
    prev_cr: bool,
    at_line_start: bool,
    /// (offset, line) of each non-empty line's first byte not yet claimed by a record.
    starts: Rc<RefCell<VecDeque<(u64, u64)>>>,
    /// For gzipped input: the limits, and the compressed bytes consumed so far.
    ratio: Option<(ReadLimits, Rc<Cell<u64>>)>,
}

impl Read for Lines<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        let mut starts = self.starts.borrow_mut();
        for (k, &b) in buf[..n].iter().enumerate() {
            let at = self.offset + k as u64;
            if self.at_line_start && b != b'\r' && b != b'\n' {
                starts.push_back((at, self.line));
                self.at_line_start = false;
            }
            match b {
                b'\n' => {
                    if !self.prev_cr {
                        self.line += 1;
                    }
                    self.prev_cr = false;
                    self.at_line_start = true;
                    self.line_len = 0;
                }
                b'\r' => {
                    self.line += 1;
                    self.prev_cr = true;
                    self.at_line_start = true;
                    self.line_len = 0;
                }
                _ => {
                    self.prev_cr = false;
                    self.line_len += 1;
                    if self.line_len > MAX_LINE_BYTES {
                        return Err(std::io::Error::other(format!(
                            "line {} is longer than {MAX_LINE_BYTES} bytes: not a postcode directory",
                            self.line
                        )));
                    }
                }
            }
        }
        self.offset += n as u64;
        if let Some((limits, consumed)) = &self.ratio {
            let compressed = consumed.get().max(1);
            if self.offset > limits.ratio_grace_bytes
                && self.offset / compressed > limits.max_inflate_ratio
            {
                return Err(std::io::Error::other(format!(
                    "gzip data expands more than {}-fold ({compressed} compressed bytes gave over {}): refused as a decompression bomb (set {} to raise it)",
                    limits.max_inflate_ratio,
                    self.offset,
                    crate::source::MAX_INFLATE_RATIO_ENV
                )));
            }
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months_are_yyyymm() {
        assert!(is_month("199002"));
        assert!(is_month("202512"));
        assert!(!is_month("199013"));
        assert!(!is_month("199000"));
        assert!(!is_month("1990-02"));
        assert!(!is_month("19902"));
        assert!(!is_month("１９９００２"));
    }

    #[test]
    fn keys_tell_postcodes_apart() {
        assert_ne!(postcode_key("AL1 1AA"), postcode_key("AL1 1AB"));
        assert_ne!(postcode_key("EC1A 1BB"), postcode_key("EC1A 1BA"));
        assert_eq!(postcode_key("M8 0RY"), postcode_key("M8 0RY"));
    }
}
