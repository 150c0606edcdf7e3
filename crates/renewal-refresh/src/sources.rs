//! `sources.toml`: the datasets a partnership refreshes, where their files live, and what to
//! expect of them.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use renewal_ingest::{IngestError, NoProgress, ObservationOptions};
use renewal_schema::Catalog;
use renewal_warehouse::Draft;
use serde::Deserialize;

use crate::RefreshError;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourcesFile {
    #[serde(default)]
    pub dataset: Vec<SourceEntry>,
    /// Where the file was read from; relative locations are relative to its directory.
    #[serde(skip)]
    pub path: PathBuf,
}

impl SourcesFile {
    pub fn load(path: &Path) -> Result<SourcesFile, RefreshError> {
        let config = |message: String| RefreshError::Config {
            path: path.to_owned(),
            message,
        };
        let text = std::fs::read_to_string(path).map_err(|source| RefreshError::Io {
            path: path.to_owned(),
            source,
        })?;
        let mut file: SourcesFile = toml::from_str(&text).map_err(|e| config(e.to_string()))?;
        file.path = path.to_owned();
        let mut seen = std::collections::BTreeSet::new();
        for e in &file.dataset {
            if !seen.insert(e.id.as_str()) {
                return Err(config(format!("dataset {:?} is listed twice", e.id)));
            }
            if e.kind == Kind::Imd && e.vintage.is_none() {
                return Err(config(format!(
                    "dataset {:?}: kind imd needs a vintage",
                    e.id
                )));
            }
            if e.kind != Kind::Crime
                && (!e.boundaries.is_empty() || e.code_property.is_some() || e.assign_all)
            {
                return Err(config(format!(
                    "dataset {:?}: boundaries, code_property and assign_all apply to kind crime only",
                    e.id
                )));
            }
            if e.assign_all && e.boundaries.is_empty() {
                return Err(config(format!(
                    "dataset {:?}: assign_all needs boundaries",
                    e.id
                )));
            }
            if e.location.is_empty() {
                return Err(config(format!("dataset {:?} has no location", e.id)));
            }
        }
        Ok(file)
    }

    pub fn base_dir(&self) -> PathBuf {
        self.path
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("."))
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceEntry {
    /// The warehouse dataset id (`iod-2019`, `lookup-lsoa11-wd19`, `census-health`, …).
    pub id: String,
    pub kind: Kind,
    /// IoD edition, for kind `imd`.
    #[serde(default)]
    pub vintage: Option<String>,
    /// Period of snapshot files that do not state one.
    #[serde(default)]
    pub period: Option<String>,
    /// Local paths, globs (`*`, `?` in the file name) or http(s) URLs.
    #[serde(deserialize_with = "one_or_many")]
    pub location: Vec<String>,
    /// Expected SHA-256 by file name; a mismatch fails the dataset.
    #[serde(default)]
    pub sha256: BTreeMap<String, String>,
    /// Versions to keep.
    #[serde(default)]
    pub keep: Option<usize>,
    /// Kind `crime`: local GeoJSON boundary files (WGS84; relative to sources.toml) to place
    /// crimes in by their coordinates.
    #[serde(default, deserialize_with = "one_or_many_default")]
    pub boundaries: Vec<String>,
    /// Kind `crime`: the feature property holding area codes, when not an ONS `…CD` header.
    #[serde(default)]
    pub code_property: Option<String>,
    /// Kind `crime`: place every crime with coordinates, not only those without an LSOA.
    #[serde(default)]
    pub assign_all: bool,
}

impl SourceEntry {
    /// The boundary files, resolved against the directory of sources.toml.
    pub fn boundary_paths(&self, base: &Path) -> Vec<PathBuf> {
        self.boundaries.iter().map(|b| base.join(b)).collect()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Imd,
    Lookup,
    Census,
    Benefits,
    Services,
    /// police.uk street crime; with `boundaries`, placed in areas by point-in-polygon.
    Crime,
    /// LSOA population by sex and age band (mid-year estimates, census usual residents); the
    /// files state their year and geography, so no extra settings.
    Population,
}

impl Kind {
    /// Every kind, by the name `sources.toml` (and an upload's header) gives it.
    pub const NAMES: [(&'static str, Kind); 7] = [
        ("imd", Kind::Imd),
        ("lookup", Kind::Lookup),
        ("census", Kind::Census),
        ("benefits", Kind::Benefits),
        ("services", Kind::Services),
        ("crime", Kind::Crime),
        ("population", Kind::Population),
    ];

    /// The kind named `name` (lowercase, as in `sources.toml`).
    pub fn from_name(name: &str) -> Option<Kind> {
        Kind::NAMES
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, k)| *k)
    }

    /// Whether the files of this kind are published under the id the caller chooses. IoD
    /// files make `iod-<edition>` and lookups their own `lookup-<vintages>` ids, whatever the
    /// entry says.
    pub fn takes_dataset_id(self) -> bool {
        !matches!(self, Kind::Imd | Kind::Lookup)
    }

    /// Reads the files with the matching ingester.
    pub fn read(
        self,
        catalog: &Catalog,
        entry: &SourceEntry,
        files: &[PathBuf],
        boundaries: Option<&renewal_ingest::Boundaries>,
    ) -> Result<Vec<Draft>, IngestError> {
        let observations = |family: &str| {
            let options = ObservationOptions {
                dataset: Some(entry.id.clone()),
                period: entry.period.clone(),
                // The query side infers the LSOA vintage from the codes when it reads them.
                bridge: None,
            };
            renewal_ingest::read_observations(catalog, family, files, &options, &NoProgress)
        };
        match self {
            Kind::Imd => {
                let vintage = entry.vintage.as_deref().unwrap_or_default();
                Ok(vec![renewal_ingest::read_iod(
                    catalog,
                    vintage,
                    files,
                    &NoProgress,
                )?])
            }
            Kind::Lookup => renewal_ingest::read_lookups(catalog, files, &NoProgress),
            Kind::Census => observations("census"),
            Kind::Benefits => observations("benefits"),
            Kind::Services => observations("services"),
            Kind::Population => {
                let options = renewal_ingest::PopulationOptions {
                    dataset: Some(entry.id.clone()),
                    ..Default::default()
                };
                Ok(vec![renewal_ingest::read_population(
                    catalog,
                    files,
                    &options,
                    &NoProgress,
                )?])
            }
            Kind::Crime => {
                let options = renewal_ingest::CrimeOptions {
                    dataset: Some(entry.id.clone()),
                    boundaries,
                    assign_all: entry.assign_all,
                    bridge: None,
                };
                Ok(vec![renewal_ingest::read_crime(
                    catalog,
                    files,
                    &options,
                    &NoProgress,
                )?])
            }
        }
    }
}

fn one_or_many_default<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    one_or_many(d)
}

fn one_or_many<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(String),
        Many(Vec<String>),
    }
    Ok(match OneOrMany::deserialize(d)? {
        OneOrMany::One(s) => vec![s],
        OneOrMany::Many(v) => v,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An upload names its kind as sources.toml does: every name reads back as the kind serde
    /// gives it in sources.toml, and nothing else is a kind.
    #[test]
    fn kind_names_are_the_sources_toml_names() {
        #[derive(Deserialize)]
        struct K {
            kind: Kind,
        }
        for (name, kind) in Kind::NAMES {
            let k: K = toml::from_str(&format!("kind = \"{name}\"")).expect("a sources.toml kind");
            assert_eq!(k.kind, kind, "{name}");
            assert_eq!(Kind::from_name(name), Some(kind));
        }
        assert_eq!(Kind::from_name("Services"), None);
        assert_eq!(Kind::from_name("boundaries"), None);
        assert!(Kind::Services.takes_dataset_id() && !Kind::Imd.takes_dataset_id());
    }
}
