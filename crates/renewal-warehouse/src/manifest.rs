//! The manifest: everything a reader (or an auditor) needs to know about one dataset version.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Bumped when the manifest layout changes incompatibly.
pub const MANIFEST_FORMAT: u32 = 1;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    pub manifest_format: u32,
    pub dataset: String,
    pub version: u64,
    /// Dataset family: `iod`, `lookup`, …
    pub kind: String,
    /// Which editions and geographies the data belongs to, e.g. `{edition: 2019, lsoa: LSOA11}`.
    pub vintage: BTreeMap<String, String>,
    /// Facts queries need about the data, e.g. `national_lsoa_count` or `fit`.
    pub attributes: BTreeMap<String, String>,
    pub sources: Vec<SourceFile>,
    /// Schema files (from `data-schemas/`) used to read the sources.
    pub schemas: Vec<SchemaRef>,
    pub tables: Vec<TableEntry>,
    /// Hash over source contents and schema definitions: equal fingerprints mean a re-ingest
    /// would produce the same data.
    pub fingerprint: String,
    pub created_at: DateTime<Utc>,
    /// Program and version that wrote this, e.g. `renewal 0.1.0`.
    pub program: String,
    /// Things the ingest noticed and the user should know (ignored columns, filtered rows).
    #[serde(default)]
    pub notes: Vec<String>,
}

impl Manifest {
    pub fn table(&self, name: &str) -> Option<&TableEntry> {
        self.tables.iter().find(|t| t.name == name)
    }

    pub fn total_rows(&self) -> u64 {
        self.tables.iter().map(|t| t.rows).sum()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceFile {
    /// File name as given by the user (no directories: they differ between machines).
    pub name: String,
    pub size: u64,
    pub sha256: String,
    /// The schema format the file was recognised as.
    pub format: String,
    /// Rows read from the file (after any declared row filter).
    pub rows: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SchemaRef {
    pub path: String,
    pub sha256: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TableEntry {
    pub name: String,
    pub rows: u64,
    pub columns: Vec<ColumnEntry>,
    pub files: Vec<FileEntry>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ColumnEntry {
    pub name: String,
    /// Arrow type as displayed by arrow-rs, e.g. `Utf8`, `Float64`.
    pub data_type: String,
    pub nullable: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileEntry {
    /// Path relative to the warehouse root, `/`-separated.
    pub path: String,
    pub size: u64,
    pub rows: u64,
    pub sha256: String,
}
