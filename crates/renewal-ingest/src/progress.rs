/// Reports how far an ingest has got, so the CLI can draw progress bars without the library
/// knowing about terminals.
pub trait Progress: Sync {
    /// A new input starts; `bytes` is its size on disk.
    fn start_file(&self, _name: &str, _bytes: u64) {}
    /// `bytes` more of the current input have been read.
    fn advance(&self, _bytes: u64) {}
    /// The current input is done; `rows` data rows were read from it.
    fn finish_file(&self, _name: &str, _rows: u64) {}
    /// A later, unsized stage (merging, writing Parquet) has begun.
    fn stage(&self, _what: &str) {}
}

/// Reports nothing.
pub struct NoProgress;

impl Progress for NoProgress {}
