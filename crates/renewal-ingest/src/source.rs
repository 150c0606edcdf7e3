//! Turning a file on disk into header + rows of text, whatever its container: CSV (any line
//! ending, with or without BOM), gzipped CSV, or an XLSX workbook. Numbers stay text here; the
//! dataset readers parse them knowing what each column means.

use std::io::Read;
use std::path::Path;

use calamine::{Data, Reader};

use crate::error::{IngestError, Location, Result};
use crate::progress::Progress;

/// How far one input may expand while it is read: what stops a gzip or zip bomb, or a header
/// ten million columns wide, before it exhausts memory or time.
///
/// The defaults follow Apache POI's `ZipSecureFile`, the guard most XLSX readers copy: an entry
/// may inflate to at most 100 times its compressed size once past 100 KiB (real files stay far
/// below: the largest shared XLSX sheet inflates 7.3×, the gzipped IoD2019 File 2 3.2×), and
/// no input to more than 1 GiB in all (the largest real input, IoD2019 File 1's sheet, is
/// 8.7 MB; ONS's single-year-of-age workbooks are a few hundred MB). Columns stop at Excel's own
/// limit, 16,384.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReadLimits {
    /// Most bytes one input may decompress to (a gzip stream, or all of a workbook's entries).
    pub max_decompressed_bytes: u64,
    /// Most a compressed stream may expand, as decompressed ÷ compressed bytes.
    pub max_inflate_ratio: u64,
    /// Decompressed bytes a stream may produce before the ratio is enforced (tiny entries
    /// compress extremely well and are harmless).
    pub ratio_grace_bytes: u64,
    /// Most columns a header or row may have.
    pub max_columns: usize,
}

impl Default for ReadLimits {
    fn default() -> Self {
        ReadLimits {
            max_decompressed_bytes: 1 << 30,
            max_inflate_ratio: 100,
            ratio_grace_bytes: 100 << 10,
            max_columns: 16_384,
        }
    }
}

/// Environment variable overriding [`ReadLimits::max_decompressed_bytes`].
pub const MAX_DECOMPRESSED_ENV: &str = "RENEWAL_MAX_DECOMPRESSED_BYTES";
/// Environment variable overriding [`ReadLimits::max_inflate_ratio`].
pub const MAX_INFLATE_RATIO_ENV: &str = "RENEWAL_MAX_INFLATE_RATIO";

impl ReadLimits {
    /// The defaults, with [`MAX_DECOMPRESSED_ENV`] and [`MAX_INFLATE_RATIO_ENV`] applied, so an
    /// operator with a genuinely larger file can raise them without a rebuild.
    pub fn from_env() -> Result<ReadLimits> {
        let mut limits = ReadLimits::default();
        if let Some(v) = env_number(MAX_DECOMPRESSED_ENV)? {
            limits.max_decompressed_bytes = v;
        }
        if let Some(v) = env_number(MAX_INFLATE_RATIO_ENV)? {
            limits.max_inflate_ratio = v;
        }
        Ok(limits)
    }
}

fn env_number(name: &str) -> Result<Option<u64>> {
    match std::env::var(name) {
        Err(std::env::VarError::NotPresent) => Ok(None),
        Ok(v) => v.trim().parse().map(Some).map_err(|_| {
            IngestError::Usage(format!("{name}={v:?} is not a whole number of bytes"))
        }),
        Err(std::env::VarError::NotUnicode(v)) => Err(IngestError::Usage(format!(
            "{name}={v:?} is not a whole number"
        ))),
    }
}

/// Decompressed bytes so far against [`ReadLimits`]: `None` while within them, else why not.
fn over_limit(limits: &ReadLimits, decompressed: u64, compressed: u64) -> Option<String> {
    // Compressed bytes are read ahead in buffers, so `compressed` may exceed what produced
    // `decompressed`: the ratio errs on the lenient side, never the strict one.
    if decompressed > limits.max_decompressed_bytes {
        return Some(format!(
            "decompresses to more than {} bytes, the limit (set {MAX_DECOMPRESSED_ENV} to raise it)",
            limits.max_decompressed_bytes
        ));
    }
    if decompressed > limits.ratio_grace_bytes
        && decompressed / compressed.max(1) > limits.max_inflate_ratio
    {
        return Some(format!(
            "expands more than {}-fold ({compressed} compressed bytes gave over {decompressed}): refused as a decompression bomb (set {MAX_INFLATE_RATIO_ENV} to raise it)",
            limits.max_inflate_ratio
        ));
    }
    None
}

/// Bytes read so far from a compressed input, shared with whoever decompresses it.
type Count = std::rc::Rc<std::cell::Cell<u64>>;

/// A reader that counts what is read through it: the ratio is taken against the compressed
/// bytes consumed so far, so a bomb is stopped after its first kilobytes, not once its output
/// reaches 100 times the whole file.
struct Counted<R> {
    inner: R,
    count: Count,
}

impl<R> Counted<R> {
    fn new(inner: R) -> Self {
        Counted {
            inner,
            count: Count::default(),
        }
    }
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count.set(self.count.get() + n as u64);
        Ok(n)
    }
}

impl<R: std::io::Seek> std::io::Seek for Counted<R> {
    fn seek(&mut self, pos: std::io::SeekFrom) -> std::io::Result<u64> {
        self.inner.seek(pos)
    }
}

/// Reads `reader` to its end, handing each chunk to `sink`, and stops with an error once
/// [`ReadLimits`] are exceeded; `compressed` tells how many compressed bytes were consumed.
fn read_bounded(
    mut reader: impl Read,
    limits: &ReadLimits,
    compressed: impl Fn() -> u64,
    mut sink: impl FnMut(&[u8]),
) -> std::result::Result<u64, BoundedError> {
    let mut buf = vec![0u8; 64 << 10];
    let mut total = 0u64;
    loop {
        let n = match reader.read(&mut buf) {
            Ok(0) => return Ok(total),
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(BoundedError::Corrupt(e.to_string())),
        };
        total += n as u64;
        if let Some(why) = over_limit(limits, total, compressed()) {
            return Err(BoundedError::TooBig(why));
        }
        sink(&buf[..n]);
    }
}

enum BoundedError {
    Corrupt(String),
    TooBig(String),
}

/// The raw bytes of an input plus what provenance needs to know about them.
pub struct SourceBytes {
    pub name: String,
    pub bytes: bytes::Bytes,
    pub sha256: String,
}

impl SourceBytes {
    pub fn read(path: &Path) -> Result<SourceBytes> {
        let name = display_name(path);
        let bytes = std::fs::read(path).map_err(|source| IngestError::Io {
            file: name.clone(),
            source,
        })?;
        let sha256 = renewal_warehouse::sha256_hex(&bytes);
        Ok(SourceBytes {
            name,
            bytes: bytes.into(),
            sha256,
        })
    }
}

impl SourceBytes {
    /// What the manifest records of this input once `rows` rows were read with `format`.
    pub fn provenance(self, format: &str, rows: u64) -> renewal_warehouse::SourceFile {
        renewal_warehouse::SourceFile {
            size: self.bytes.len() as u64,
            name: self.name,
            sha256: self.sha256,
            format: format.to_owned(),
            rows,
        }
    }
}

/// The header of `table` fits several formats: a schema problem, reported with their ids.
pub fn ambiguous_formats<'a>(
    table: &TextTable,
    ids: impl IntoIterator<Item = &'a str>,
) -> IngestError {
    let ids: Vec<&str> = ids.into_iter().collect();
    IngestError::invalid(
        table.location.at_line(1),
        format!(
            "header matches several formats equally ({}); make one of them stricter",
            ids.join(", ")
        ),
    )
}

/// The file name without its directories: what provenance and messages show.
pub fn display_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string())
}

/// One table of text: a CSV file, or one worksheet.
#[derive(Debug, Clone)]
pub struct TextTable {
    pub location: Location,
    pub headers: Vec<String>,
    pub rows: Vec<TextRow>,
}

#[derive(Debug, Clone)]
pub struct TextRow {
    /// Line (CSV) or row (sheet) number, 1-based, for messages.
    pub line: u64,
    pub fields: Vec<String>,
}

impl TextTable {
    pub fn column_index(&self, header: &str) -> Option<usize> {
        self.headers.iter().position(|h| h == header)
    }

    /// Location of a cell, for error messages.
    pub fn cell(&self, line: u64, column: usize) -> Location {
        self.location
            .at_line(line)
            .at_column(column + 1, &self.headers[column])
    }
}

const GZIP_MAGIC: &[u8] = &[0x1f, 0x8b];
const ZIP_MAGIC: &[u8] = b"PK\x03\x04";

/// Reads every table in a source: one for CSV, one per non-empty sheet for a workbook, within
/// [`ReadLimits::from_env`].
pub fn read_tables(source: &SourceBytes, progress: &dyn Progress) -> Result<Vec<TextTable>> {
    read_tables_with(source, &ReadLimits::from_env()?, progress)
}

/// [`read_tables`] within explicit limits.
pub fn read_tables_with(
    source: &SourceBytes,
    limits: &ReadLimits,
    progress: &dyn Progress,
) -> Result<Vec<TextTable>> {
    read_tables_shaped(source, limits, progress, Shape::Exact)
}

/// How strictly a CSV row's width must match its header's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// Every row has exactly the header's number of fields.
    Exact,
    /// Rows may end with extra fields that are all empty (a trailing comma some exports add
    /// to every row but not to the header); they are dropped. Extra fields with text, or
    /// short rows, are still errors.
    TrailingEmpty,
}

/// [`read_tables`] (within [`ReadLimits::from_env`]) with a chosen row [`Shape`].
pub fn read_tables_with_shape(
    source: &SourceBytes,
    shape: Shape,
    progress: &dyn Progress,
) -> Result<Vec<TextTable>> {
    read_tables_shaped(source, &ReadLimits::from_env()?, progress, shape)
}

fn read_tables_shaped(
    source: &SourceBytes,
    limits: &ReadLimits,
    progress: &dyn Progress,
    shape: Shape,
) -> Result<Vec<TextTable>> {
    let location = Location::file(&source.name);
    if source.bytes.is_empty() {
        return Err(IngestError::invalid(location, "the file is empty"));
    }
    if source.bytes.starts_with(ZIP_MAGIC) {
        // calamine indexes shared strings unchecked (a cell naming string 99999 of a table of
        // one panics), and the zip crate's extra-field parser can overflow on a crafted entry
        // (found by fuzzing): a malformed workbook must be an error naming the file, not a
        // crash.
        let read = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            check_zip_entries(source, limits, &location)?;
            read_workbook(source, limits, &location)
        }));
        let tables = read.unwrap_or_else(|_| {
            Err(IngestError::invalid(
                location.clone(),
                "not a readable workbook: its XML refers to cells or strings it does not contain",
            ))
        })?;
        progress.advance(source.bytes.len() as u64);
        return Ok(tables);
    }
    let text = if source.bytes.starts_with(GZIP_MAGIC) {
        let mut out = Vec::new();
        let input = Counted::new(std::io::Cursor::new(&source.bytes[..]));
        let consumed = input.count.clone();
        let decoder = flate2::read::MultiGzDecoder::new(input);
        // The decoder reads ahead as soon as it is made: count from the first byte of the file.
        read_bounded(
            decoder,
            limits,
            || consumed.get(),
            |chunk| out.extend_from_slice(chunk),
        )
        .map_err(|e| match e {
            BoundedError::Corrupt(e) => IngestError::invalid(
                location.clone(),
                format!("gzip data is truncated or corrupt ({e})"),
            ),
            BoundedError::TooBig(why) => {
                IngestError::invalid(location.clone(), format!("gzip data {why}"))
            }
        })?;
        out
    } else {
        source.bytes.to_vec()
    };
    let table = read_csv(
        &text,
        location,
        limits,
        progress,
        source.bytes.len() as u64,
        shape,
    )?;
    Ok(vec![table])
}

fn decode_utf8(bytes: &[u8], location: &Location) -> Result<String> {
    // Excel's "Unicode text" is UTF-16; say so rather than report its first odd byte.
    if bytes.starts_with(b"\xFF\xFE") || bytes.starts_with(b"\xFE\xFF") {
        return Err(IngestError::invalid(
            location.at_line(1),
            "is UTF-16 or UTF-32 (it starts with that byte order mark); save the file as UTF-8",
        ));
    }
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    // NUL is valid UTF-8 but never text: UTF-16 without a byte order mark, or binary data.
    if let Some(at) = bytes.iter().position(|&b| b == 0) {
        let line = 1 + bytes[..at].iter().filter(|&&b| b == b'\n').count() as u64;
        return Err(IngestError::invalid(
            location.at_line(line),
            "contains a NUL byte: binary data, or UTF-16 text; save the file as UTF-8",
        ));
    }
    match std::str::from_utf8(bytes) {
        Ok(s) => Ok(s.to_owned()),
        Err(e) => {
            let before = &bytes[..e.valid_up_to()];
            let line = 1 + before.iter().filter(|&&b| b == b'\n').count() as u64;
            Err(IngestError::invalid(
                location.at_line(line),
                format!(
                    "not valid UTF-8 (byte {:#04x}); save the file as UTF-8",
                    bytes[e.valid_up_to()]
                ),
            ))
        }
    }
}

fn read_csv(
    bytes: &[u8],
    location: Location,
    limits: &ReadLimits,
    progress: &dyn Progress,
    compressed_len: u64,
    shape: Shape,
) -> Result<TextTable> {
    let text = decode_utf8(bytes, &location)?;
    check_widths(text.as_bytes(), &location, limits)?;
    // csv's default terminator accepts \n, \r\n and a lone \r, so old Mac exports parse too.
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let total = text.len().max(1) as u64;
    let mut reported = 0;
    let mut headers: Option<Vec<String>> = None;
    let mut rows = Vec::new();
    let mut record = csv::StringRecord::new();
    let mut lines = LineCounter::default();
    loop {
        let more = reader.read_record(&mut record).map_err(|e| {
            let byte = e.position().map_or(0, |p| p.byte()) as usize;
            let line = LineCounter::default().line_at(text.as_bytes(), byte);
            IngestError::invalid(location.at_line(line), format!("malformed CSV: {e}"))
        })?;
        if !more {
            break;
        }
        let byte = record.position().map_or(0, |p| p.byte());
        // csv's own line count skips blank lines, and a record's offset is where the blank
        // lines before it began; users need the line their editor shows.
        let start = text.as_bytes()[byte as usize..]
            .iter()
            .position(|&b| b != b'\n' && b != b'\r')
            .map_or(text.len(), |skip| byte as usize + skip);
        let line = lines.line_at(text.as_bytes(), start);
        // Report progress in compressed bytes, which is what the user sees on disk.
        let done = byte * compressed_len / total;
        if done > reported {
            progress.advance(done - reported);
            reported = done;
        }
        // Blank lines and Excel's all-comma padding rows carry nothing.
        if record.iter().all(|f| f.trim().is_empty()) {
            continue;
        }
        let mut fields: Vec<String> = record.iter().map(|f| f.trim().to_owned()).collect();
        if let (Shape::TrailingEmpty, Some(h)) = (shape, &headers)
            && fields.len() > h.len()
            && fields[h.len()..].iter().all(|f| f.is_empty())
        {
            fields.truncate(h.len());
        }
        match &headers {
            None => headers = Some(fields),
            Some(h) if fields.len() != h.len() => {
                return Err(IngestError::invalid(
                    location.at_line(line),
                    format!("{} fields, but the header has {}", fields.len(), h.len()),
                ));
            }
            Some(_) => rows.push(TextRow { line, fields }),
        }
    }
    progress.advance(compressed_len.saturating_sub(reported));
    let headers = headers.ok_or_else(|| IngestError::invalid(location.clone(), "no header row"))?;
    check_headers(&headers, &location)?;
    Ok(TextTable {
        location,
        headers,
        rows,
    })
}

/// Fails on the first record wider than the limit without ever holding it: fields are counted
/// through a fixed buffer, so a header ten million columns wide costs no more memory than a
/// narrow one (the full parse after this would allocate per field).
fn check_widths(text: &[u8], location: &Location, limits: &ReadLimits) -> Result<()> {
    // Same dialect as the `csv` reader below: its defaults are csv-core's.
    let mut reader = csv_core::Reader::new();
    let mut scratch = [0u8; 4096];
    let mut input = text;
    let mut consumed = 0;
    let mut record_start = 0;
    let mut fields = 0usize;
    loop {
        let (result, read, _) = reader.read_field(input, &mut scratch);
        input = &input[read..];
        consumed += read;
        match result {
            csv_core::ReadFieldResult::InputEmpty | csv_core::ReadFieldResult::OutputFull => {}
            csv_core::ReadFieldResult::Field { record_end } => {
                fields += 1;
                if fields > limits.max_columns {
                    let start = text[record_start..]
                        .iter()
                        .position(|&b| b != b'\n' && b != b'\r')
                        .map_or(record_start, |skip| record_start + skip);
                    let line = LineCounter::default().line_at(text, start);
                    return Err(too_many_columns(location.at_line(line), fields, limits));
                }
                if record_end {
                    fields = 0;
                    record_start = consumed;
                }
            }
            csv_core::ReadFieldResult::End => return Ok(()),
        }
    }
}

/// Physical line numbers from byte offsets, counting `\n`, `\r\n` and a lone `\r` as one
/// line end each. Offsets must be asked for in increasing order.
#[derive(Default)]
struct LineCounter {
    offset: usize,
    line: u64,
}

impl LineCounter {
    fn line_at(&mut self, text: &[u8], offset: usize) -> u64 {
        let end = offset.min(text.len());
        for i in self.offset..end {
            match text[i] {
                b'\n' => self.line += 1,
                b'\r' if text.get(i + 1) != Some(&b'\n') => self.line += 1,
                _ => {}
            }
        }
        self.offset = self.offset.max(end);
        self.line + 1
    }
}

fn too_many_columns(location: Location, columns: usize, limits: &ReadLimits) -> IngestError {
    IngestError::invalid(
        location,
        format!(
            "{columns} or more columns, over the limit of {}",
            limits.max_columns
        ),
    )
}

fn check_headers(headers: &[String], location: &Location) -> Result<()> {
    // A map, not a pairwise scan: a wide hostile header must not cost quadratic time.
    let mut seen = std::collections::HashMap::with_capacity(headers.len());
    for (i, h) in headers.iter().enumerate() {
        if let Some(j) = seen.insert(h.as_str(), i) {
            return Err(IngestError::invalid(
                location.at_line(1).at_column(i + 1, h),
                format!("duplicate header (also column {})", j + 1),
            ));
        }
    }
    Ok(())
}

/// Inflates every entry of a zip container to nowhere, counting, before the workbook reader
/// sees it: zip headers can lie about sizes, so only the bytes actually produced are trusted.
fn check_zip_entries(source: &SourceBytes, limits: &ReadLimits, location: &Location) -> Result<()> {
    let unreadable = |e: &dyn std::fmt::Display| {
        IngestError::invalid(location.clone(), format!("not a readable workbook: {e}"))
    };
    let input = Counted::new(std::io::Cursor::new(source.bytes.clone()));
    let consumed = input.count.clone();
    let mut archive = zip::ZipArchive::new(input).map_err(|e| unreadable(&e))?;
    let mut total = 0u64;
    for i in 0..archive.len() {
        // From before the entry's local header: whatever is read for it counts as its input.
        let start = consumed.get();
        let entry = archive.by_index(i).map_err(|e| unreadable(&e))?;
        let name = entry.name().to_owned();
        // The whole workbook's budget is what is left of it; the ratio is per entry.
        let entry_limits = ReadLimits {
            max_decompressed_bytes: limits.max_decompressed_bytes.saturating_sub(total),
            ..*limits
        };
        let n =
            read_bounded(entry, &entry_limits, || consumed.get() - start, |_| {}).map_err(|e| {
                match e {
                    BoundedError::Corrupt(e) => IngestError::invalid(
                        location.clone(),
                        format!(
                            "not a readable workbook: entry {name:?} is truncated or corrupt ({e})"
                        ),
                    ),
                    BoundedError::TooBig(why) => IngestError::invalid(
                        location.clone(),
                        format!("workbook entry {name:?} {why}"),
                    ),
                }
            })?;
        total += n;
    }
    Ok(())
}

fn read_workbook(
    source: &SourceBytes,
    limits: &ReadLimits,
    location: &Location,
) -> Result<Vec<TextTable>> {
    let cursor = std::io::Cursor::new(source.bytes.clone());
    let workbook = calamine::open_workbook_auto_from_rs(cursor).map_err(|e| {
        IngestError::invalid(location.clone(), format!("not a readable workbook: {e}"))
    })?;
    let mut workbook = match workbook {
        calamine::Sheets::Xlsx(xlsx) => xlsx,
        // A dense range would be allocated from whatever extent the file claims; only XLSX
        // is read cell by cell here, so other zip workbooks (ODS, XLSB) are refused.
        _ => {
            return Err(IngestError::invalid(
                location.clone(),
                "not an XLSX workbook (save it as .xlsx or CSV)",
            ));
        }
    };
    let mut tables = Vec::new();
    for sheet in workbook.sheet_names() {
        let sheet_location = Location {
            sheet: Some(sheet.clone()),
            ..location.clone()
        };
        let unreadable = |e: calamine::XlsxError| {
            IngestError::invalid(sheet_location.clone(), format!("unreadable sheet: {e}"))
        };
        // Cells one at a time into rows that hold only what is there: a sheet claiming a cell
        // at XFD1048576 costs one cell, not the 17 billion a dense range would allocate.
        let mut cells: std::collections::BTreeMap<u32, Vec<(u32, Data)>> = Default::default();
        {
            let mut reader = workbook
                .worksheet_cells_reader(&sheet)
                .map_err(unreadable)?;
            while let Some(cell) = reader.next_cell().map_err(unreadable)? {
                let (row, col) = cell.get_position();
                let value = Data::from(cell.get_value().clone());
                if value != Data::Empty {
                    cells.entry(row).or_default().push((col, value));
                }
            }
        }
        // Columns as Excel shows them, even when the used range starts further right.
        let Some(first_col) = cells.values().flatten().map(|(c, _)| *c).min() else {
            continue;
        };
        let mut headers: Option<Vec<String>> = None;
        let mut rows = Vec::new();
        for (row, mut row_cells) in cells {
            // Row numbers as Excel shows them.
            let line = u64::from(row) + 1;
            row_cells.sort_by_key(|(c, _)| *c);
            let width = row_cells
                .last()
                .map_or(0, |(c, _)| (c - first_col) as usize + 1);
            if width > limits.max_columns {
                return Err(too_many_columns(
                    sheet_location.at_line(line),
                    width,
                    limits,
                ));
            }
            let mut fields = vec![String::new(); width];
            for (c, cell) in &row_cells {
                let c = *c as usize;
                fields[c - first_col as usize] = cell_text(cell).map_err(|message| {
                    IngestError::invalid(
                        sheet_location
                            .at_line(line)
                            .at_column(c + 1, &excel_column(c)),
                        message,
                    )
                })?;
            }
            if fields.iter().all(|f| f.is_empty()) {
                continue;
            }
            match &headers {
                // Published workbooks put a title, notes and a source line above the table
                // (the ONS release: header on row 4): rows of one cell before the header are
                // those, not a header.
                None if fields.iter().filter(|f| !f.is_empty()).count() <= 1 => continue,
                None => {
                    // Trailing empty header cells are just the used range being wide.
                    while fields.last().is_some_and(String::is_empty) {
                        fields.pop();
                    }
                    headers = Some(fields);
                }
                Some(h) => {
                    fields.resize(h.len().max(fields.len()), String::new());
                    if fields[h.len()..].iter().any(|f| !f.is_empty()) {
                        return Err(IngestError::invalid(
                            sheet_location.at_line(line),
                            format!("values beyond the {} header columns", h.len()),
                        ));
                    }
                    fields.truncate(h.len());
                    rows.push(TextRow { line, fields });
                }
            }
        }
        if let Some(headers) = headers {
            check_headers(&headers, &sheet_location)?;
            tables.push(TextTable {
                location: sheet_location,
                headers,
                rows,
            });
        }
    }
    if tables.is_empty() {
        return Err(IngestError::invalid(
            location.clone(),
            "the workbook has no data",
        ));
    }
    Ok(tables)
}

/// A cell as the text a CSV export of it would contain.
fn cell_text(cell: &Data) -> Result<String, String> {
    Ok(match cell {
        Data::Empty => String::new(),
        Data::String(s) => s.trim().to_owned(),
        Data::Int(i) => i.to_string(),
        // Whole numbers print without ".0" so codes and ranks read the same as from CSV.
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
        Data::Float(f) => f.to_string(),
        Data::Bool(b) => b.to_string(),
        Data::DateTimeIso(s) | Data::DurationIso(s) => s.clone(),
        Data::DateTime(d) => d.to_string(),
        Data::Error(e) => return Err(format!("the cell holds a spreadsheet error ({e})")),
    })
}

/// `0` → `A`, `27` → `AB`.
fn excel_column(mut index: usize) -> String {
    let mut name = Vec::new();
    loop {
        name.push(b'A' + (index % 26) as u8);
        if index < 26 {
            break;
        }
        index = index / 26 - 1;
    }
    name.reverse();
    String::from_utf8(name).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::progress::NoProgress;

    fn table(bytes: &[u8]) -> Result<TextTable> {
        let source = SourceBytes {
            name: "t.csv".into(),
            bytes: bytes::Bytes::copy_from_slice(bytes),
            sha256: String::new(),
        };
        read_tables(&source, &NoProgress).map(|mut t| t.remove(0))
    }

    #[test]
    fn line_endings_bom_quotes_and_blank_lines() {
        for text in [
            "\u{feff}a,\"b, c\"\r\n1,\"29,199\"\r\n2,3\r\n\r\n",
            "a,\"b, c\"\n1,\"29,199\"\n2,3\n\n\n",
            "a,\"b, c\"\r1,\"29,199\"\r2,3\r",
            "a,\"b, c\"\n1,\"29,199\"\n,\n2,3",
        ] {
            let t = table(text.as_bytes()).unwrap();
            assert_eq!(t.headers, ["a", "b, c"], "{text:?}");
            let rows: Vec<_> = t.rows.iter().map(|r| r.fields.join("|")).collect();
            assert_eq!(rows, ["1|29,199", "2|3"], "{text:?}");
        }
    }

    #[test]
    fn line_numbers_count_physical_lines() {
        let t = table(b"a,b\n\n1,2\n3,4\n").unwrap();
        let lines: Vec<u64> = t.rows.iter().map(|r| r.line).collect();
        assert_eq!(lines, [3, 4]);
    }

    #[test]
    fn line_numbers_survive_every_line_ending() {
        for text in ["a\n\n1\n\n2\n", "a\r\n\r\n1\r\n\r\n2\r\n", "a\r\r1\r\r2\r"] {
            let t = table(text.as_bytes()).unwrap();
            let lines: Vec<u64> = t.rows.iter().map(|r| r.line).collect();
            assert_eq!(lines, [3, 5], "{text:?}");
        }
    }

    #[test]
    fn ragged_rows_name_the_line() {
        let err = table(b"a,b\n1,2\n3\n").unwrap_err();
        assert_eq!(
            err.to_string(),
            "t.csv, line 3: 1 fields, but the header has 2"
        );
    }

    #[test]
    fn empty_and_truncated_inputs() {
        assert_eq!(
            table(b"").unwrap_err().to_string(),
            "t.csv: the file is empty"
        );
        assert_eq!(
            table(b"\n\n").unwrap_err().to_string(),
            "t.csv: no header row"
        );
        let mut gz = Vec::new();
        {
            use std::io::Write;
            let mut enc = flate2::write::GzEncoder::new(&mut gz, flate2::Compression::default());
            enc.write_all(b"a,b\n1,2\n").unwrap();
            enc.finish().unwrap();
        }
        assert_eq!(table(&gz).unwrap().rows.len(), 1);
        let err = table(&gz[..gz.len() - 6]).unwrap_err().to_string();
        assert!(
            err.starts_with("t.csv: gzip data is truncated or corrupt"),
            "{err}"
        );
    }

    #[test]
    fn invalid_utf8_names_the_line() {
        let err = table(b"a,b\n1,2\n3,\xff\n").unwrap_err();
        assert!(
            err.to_string()
                .starts_with("t.csv, line 3: not valid UTF-8"),
            "{err}"
        );
    }

    #[test]
    fn duplicate_headers_are_rejected() {
        let err = table(b"a,b,a\n1,2,3\n").unwrap_err();
        assert_eq!(
            err.to_string(),
            "t.csv, line 1, column 3 (\"a\"): duplicate header (also column 1)"
        );
    }

    fn limited(bytes: &[u8], limits: ReadLimits) -> Result<TextTable> {
        let source = SourceBytes {
            name: "t.csv".into(),
            bytes: bytes::Bytes::copy_from_slice(bytes),
            sha256: String::new(),
        };
        read_tables_with(&source, &limits, &NoProgress).map(|mut t| t.remove(0))
    }

    #[test]
    fn column_limit_counts_fields_as_the_parser_does() {
        let three = ReadLimits {
            max_columns: 3,
            ..ReadLimits::default()
        };
        // Commas and line ends inside quotes are not field separators.
        let t = limited(b"a,\"b,\nc\",d\n1,2,3\n", three).unwrap();
        assert_eq!(t.headers, ["a", "b,\nc", "d"]);
        assert_eq!(
            limited(b"a,b,c,d\n", three).unwrap_err().to_string(),
            "t.csv, line 1: 4 or more columns, over the limit of 3"
        );
        // A wide data row after blank lines: the line is the one it starts on.
        assert_eq!(
            limited(b"a,b\n\n\n1,2,3,4,5\n", three)
                .unwrap_err()
                .to_string(),
            "t.csv, line 4: 4 or more columns, over the limit of 3"
        );
    }

    /// Gzip of `n` bytes of digits from a fixed LCG: text that compresses only about 2-fold.
    fn gzip_digits(n: usize) -> Vec<u8> {
        use std::io::Write;
        let mut x: u32 = 11;
        let mut text = b"a\n".to_vec();
        while text.len() < n {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            text.push(b'0' + (x >> 16) as u8 % 10);
            if text.len().is_multiple_of(60) {
                text.push(b'\n');
            }
        }
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        enc.write_all(&text).unwrap();
        enc.finish().unwrap()
    }

    #[test]
    fn decompressed_size_limit_names_the_file() {
        let gz = gzip_digits(2 << 20);
        let small = ReadLimits {
            max_decompressed_bytes: 1 << 20,
            ..ReadLimits::default()
        };
        let err = limited(&gz, small).unwrap_err().to_string();
        assert!(
            err.starts_with("t.csv: gzip data decompresses to more than 1048576 bytes, the limit"),
            "{err}"
        );
        // Within the default limits the same file reads: the limit, not the data, refused it.
        assert_eq!(limited(&gz, ReadLimits::default()).unwrap().headers, ["a"]);
    }

    #[test]
    fn inflate_ratio_is_enforced_after_the_grace() {
        use std::io::Write;
        let gz = |n: usize| {
            let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
            enc.write_all(b"a\n").unwrap();
            enc.write_all(&vec![b'\n'; n]).unwrap();
            enc.finish().unwrap()
        };
        // 50 KB of newlines compress ~1000-fold but stay inside the 100 KiB grace.
        assert_eq!(
            limited(&gz(50_000), ReadLimits::default()).unwrap().headers,
            ["a"]
        );
        let err = limited(&gz(5_000_000), ReadLimits::default())
            .unwrap_err()
            .to_string();
        assert!(err.contains("refused as a decompression bomb"), "{err}");
        let lenient = ReadLimits {
            max_inflate_ratio: 10_000,
            ..ReadLimits::default()
        };
        assert_eq!(limited(&gz(5_000_000), lenient).unwrap().headers, ["a"]);
    }

    #[test]
    fn excel_columns() {
        assert_eq!(excel_column(0), "A");
        assert_eq!(excel_column(25), "Z");
        assert_eq!(excel_column(26), "AA");
        assert_eq!(excel_column(27), "AB");
        assert_eq!(excel_column(701), "ZZ");
        assert_eq!(excel_column(702), "AAA");
    }
}
