//! Bearer API keys. The keys file holds only SHA-256 digests of the keys, each with the
//! partner's name and scopes; a presented key is hashed and compared with every digest in
//! constant time, so neither the file nor the timing gives a key away.
//!
//! Keys are revoked without a restart ([`KeyStore`]): every request first compares the keys
//! file's identity (device, inode, size, modification and change times) with the one last
//! read, one `stat` call, and re-reads the file when it differs; SIGHUP (and
//! [`KeyStore::reload`]) re-read it unconditionally. A file that no longer parses fails
//! closed: every request is refused UNAVAILABLE until it is fixed, since keeping the old keys
//! would keep alive a key the operator was revoking.

use std::path::{Path, PathBuf};
use std::sync::RwLock;
use std::sync::atomic::{AtomicU64, Ordering};

use serde::Deserialize;
use sha2::{Digest, Sha256};

/// Why [`Partner::may_ingest`] refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IngestRefusal {
    /// The key may not upload, or not to that namespace.
    #[error("{0}")]
    Denied(String),
    /// The id is not of the shape `partner-<ns>-<name>`.
    #[error("{0}")]
    Invalid(String),
}

/// A keys file that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum KeysError {
    /// Unreadable, not TOML of `[[key]]` tables, or a `sha256` that is not a digest.
    #[error("{path}: {message}")]
    Invalid { path: String, message: String },
}

/// What a key may do.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Partner {
    /// Who holds the key (logged with every request).
    pub partner: String,
    /// Hex SHA-256 of the key (`renewal serve hash-key KEY` prints it).
    pub sha256: String,
    /// Authorities (LAD codes) it may read; empty (and no `areas`) means all of England.
    #[serde(default)]
    pub authorities: Vec<String>,
    /// Parent areas (PFA, region, ICB … codes) it may read: the districts wholly inside them
    /// are added to `authorities` when the key is presented ([`KeyStore::set_area_districts`]).
    /// A code no parents dataset knows adds nothing: the key reads less, never more.
    #[serde(default)]
    pub areas: Vec<String>,
    /// Dataset id patterns (`*` wildcards) its answers may draw on; empty means all.
    #[serde(default)]
    pub datasets: Vec<String>,
    /// May register neighbourhoods and targets.
    #[serde(default)]
    pub write: bool,
    /// May run read-only SQL (reserved for the Flight SQL endpoint).
    #[serde(default)]
    pub sql: bool,
    /// Dataset namespaces this key may upload to (the `Ingest` service): namespace `ns` owns
    /// exactly the dataset ids `partner-<ns>-<rest>`. Namespaces are `[a-z0-9]+`, without
    /// hyphens, so no namespace's ids are a prefix of another's; empty means no uploads.
    #[serde(default)]
    pub ingest: Vec<String>,
    /// Development mode only (never read from a keys file): may upload to any `partner-*` id.
    #[serde(skip)]
    pub ingest_any: bool,
}

/// The prefix of every dataset id a partner uploads: no built-in dataset pattern (`iod-*`,
/// `crime-*`, `services-*best-value*`, …) matches it, so uploads never pool with the published
/// datasets unless an indicator names `partner-<ns>-*`.
pub const UPLOAD_PREFIX: &str = "partner-";

/// Whether `ns` can be an ingest namespace: one or more of `[a-z0-9]`, at most 32.
pub fn valid_namespace(ns: &str) -> bool {
    !ns.is_empty()
        && ns.len() <= 32
        && ns
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
}

/// The namespace of an upload id `partner-<ns>-<rest>`, or why the id is not one. `rest` is
/// hyphen-separated words of `[a-z0-9]`; the whole id is at most 100 bytes (it is a directory
/// name in the warehouse).
pub fn upload_namespace(id: &str) -> Result<&str, String> {
    let shape = || {
        format!(
            "dataset id {id:?} is not an upload id: it must be `{UPLOAD_PREFIX}<namespace>-<name>`, \
             lowercase letters, digits and single hyphens, at most 100 characters"
        )
    };
    let rest = id.strip_prefix(UPLOAD_PREFIX).ok_or_else(shape)?;
    let (ns, name) = rest.split_once('-').ok_or_else(shape)?;
    let words_ok = name.split('-').all(|w| {
        !w.is_empty()
            && w.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
    });
    if id.len() > 100 || !valid_namespace(ns) || !words_ok {
        return Err(shape());
    }
    Ok(ns)
}

/// The partner name of development mode, which owns what it registers.
pub const DEVELOPER: &str = "developer";

impl Partner {
    /// The identity of development mode: every scope, no key.
    pub fn developer() -> Partner {
        Partner {
            partner: DEVELOPER.into(),
            sha256: String::new(),
            authorities: Vec::new(),
            areas: Vec::new(),
            datasets: Vec::new(),
            write: true,
            sql: true,
            ingest: Vec::new(),
            ingest_any: true,
        }
    }

    /// Whether this key may upload dataset `id`: PERMISSION_DENIED's message when not (the
    /// id, and the namespaces the key may use), INVALID_ARGUMENT's when `id` is no upload id.
    pub fn may_ingest(&self, id: &str) -> Result<(), IngestRefusal> {
        if !self.ingest_any && self.ingest.is_empty() {
            return Err(IngestRefusal::Denied(format!(
                "{} may not upload datasets (no ingest scope)",
                self.partner
            )));
        }
        let ns = upload_namespace(id).map_err(IngestRefusal::Invalid)?;
        if self.ingest_any || self.ingest.iter().any(|n| n == ns) {
            return Ok(());
        }
        let mine: Vec<String> = self
            .ingest
            .iter()
            .map(|n| format!("{UPLOAD_PREFIX}{n}-*"))
            .collect();
        Err(IngestRefusal::Denied(format!(
            "{} may not upload dataset {id}: its namespace {ns:?} is not the key's; it may upload \
             only {}",
            self.partner,
            mine.join(", ")
        )))
    }

    /// Whether rows of authority (LAD code) `code` may be shown to this key.
    pub fn may_read_authority(&self, code: &str) -> bool {
        self.all_authorities() || self.authorities.iter().any(|a| a == code)
    }

    /// Whether this key reads every authority (no `authorities` list and no `areas`).
    pub fn all_authorities(&self) -> bool {
        self.authorities.is_empty() && self.areas.is_empty()
    }

    /// Adds to `authorities` the districts wholly inside the key's `areas`, from
    /// `districts` (parent code → districts, `renewal_query::parent_districts`).
    pub fn expand_areas(&mut self, districts: &std::collections::HashMap<String, Vec<String>>) {
        for area in &self.areas {
            for d in districts.get(area).into_iter().flatten() {
                if !self.authorities.contains(d) {
                    self.authorities.push(d.clone());
                }
            }
        }
    }

    /// Whether answers for this key may draw on dataset `id`.
    pub fn may_read_dataset(&self, id: &str) -> bool {
        // Geography (lookups, boundaries), partners' registrations: the frame every answer
        // (and every map) needs.
        id.starts_with("lookup-")
            || id.starts_with("boundaries-")
            || id.starts_with(renewal_schema::parents::PARENTS_PREFIX)
            || id == renewal_query::NEIGHBOURHOODS
            || id == renewal_query::TARGETS
            || self.datasets.is_empty()
            || self
                .datasets
                .iter()
                .any(|p| renewal_schema::dataset_matches(p, id))
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct KeysFile {
    #[serde(default)]
    key: Vec<Partner>,
}

/// The keys a server accepts (one reading of the keys file).
#[derive(Debug, Clone, Default)]
pub struct Keys {
    partners: Vec<(Partner, [u8; 32])>,
}

impl Keys {
    /// Reads and parses a keys file.
    pub fn load(path: &Path) -> Result<Keys, KeysError> {
        let invalid = |message: String| KeysError::Invalid {
            path: path.display().to_string(),
            message,
        };
        let text = std::fs::read_to_string(path).map_err(|e| invalid(e.to_string()))?;
        Keys::parse(&text).map_err(invalid)
    }

    /// Parses the text of a keys file (`[[key]]` tables).
    pub fn parse(text: &str) -> Result<Keys, String> {
        let file: KeysFile = toml::from_str(text).map_err(|e| e.to_string())?;
        let mut partners = Vec::new();
        // Which partner owns each namespace: two partners sharing one would read as each
        // other's uploads.
        let mut owners = std::collections::BTreeMap::<String, String>::new();
        for p in file.key {
            for ns in &p.ingest {
                if !valid_namespace(ns) {
                    return Err(format!(
                        "key of {:?}: ingest namespace {ns:?} must be 1 to 32 lowercase letters \
                         or digits (no hyphens): it owns the dataset ids {UPLOAD_PREFIX}<namespace>-*",
                        p.partner
                    ));
                }
                match owners.get(ns) {
                    Some(other) if *other != p.partner => {
                        return Err(format!(
                            "ingest namespace {ns:?} is given to both {other:?} and {:?}; a \
                             namespace belongs to one partner",
                            p.partner
                        ));
                    }
                    _ => {
                        owners.insert(ns.clone(), p.partner.clone());
                    }
                }
            }
            let digest = hex::decode(&p.sha256)
                .ok()
                .and_then(|d| <[u8; 32]>::try_from(d).ok())
                .ok_or_else(|| {
                    format!(
                        "key of {:?}: sha256 must be 64 hex digits (the key's SHA-256, not the key)",
                        p.partner
                    )
                })?;
            partners.push((p, digest));
        }
        Ok(Keys { partners })
    }

    /// The partner holding `key`, comparing against every entry without stopping early.
    pub fn verify(&self, key: &str) -> Option<&Partner> {
        let presented: [u8; 32] = Sha256::digest(key.as_bytes()).into();
        let mut found = None;
        for (partner, digest) in &self.partners {
            if constant_time_eq(&presented, digest) && found.is_none() {
                found = Some(partner);
            }
        }
        found
    }

    /// How many keys there are.
    pub fn len(&self) -> usize {
        self.partners.len()
    }

    /// Whether there are no keys.
    pub fn is_empty(&self) -> bool {
        self.partners.is_empty()
    }
}

/// What identifies one state of the keys file without reading it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Fingerprint {
    dev: u64,
    ino: u64,
    len: u64,
    mtime: (i64, i64),
    ctime: (i64, i64),
}

impl Fingerprint {
    fn of(path: &Path) -> Option<Fingerprint> {
        use std::os::unix::fs::MetadataExt as _;
        let m = std::fs::metadata(path).ok()?;
        Some(Fingerprint {
            dev: m.dev(),
            ino: m.ino(),
            len: m.len(),
            mtime: (m.mtime(), m.mtime_nsec()),
            ctime: (m.ctime(), m.ctime_nsec()),
        })
    }
}

struct Loaded {
    /// The keys, or why the file could not be read (then every request is refused).
    keys: Result<Keys, String>,
    /// The file as it was just before it was read; `None` when it could not be found.
    seen: Option<Fingerprint>,
}

/// Why a request was not authenticated.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// No usable `authorization` header, or a key the keys file does not hold.
    #[error("{0}")]
    Unauthenticated(String),
    /// The keys file cannot be read or parsed, so no key is accepted.
    #[error("{0}")]
    KeysUnavailable(String),
}

/// The keys a running server accepts, re-read when the keys file changes.
pub struct KeyStore {
    path: PathBuf,
    loaded: RwLock<Loaded>,
    reloads: AtomicU64,
    /// Reloads caused by a request finding the file changed (not SIGHUP or explicit calls).
    changes: AtomicU64,
    reloaded: tokio::sync::watch::Sender<u64>,
    /// Parent area → districts wholly inside it, for keys scoped by `areas`.
    area_districts: RwLock<std::sync::Arc<std::collections::HashMap<String, Vec<String>>>>,
}

impl KeyStore {
    /// Replaces the parent area → districts map keys with `areas` are expanded by (the server
    /// sets it from the warehouse's current parents datasets at start and on SIGHUP).
    pub fn set_area_districts(&self, districts: std::collections::HashMap<String, Vec<String>>) {
        if let Ok(mut d) = self.area_districts.write() {
            *d = std::sync::Arc::new(districts);
        }
    }

    /// Reads the keys file; a file that does not parse is an error here, at start.
    pub fn open(path: &Path) -> Result<KeyStore, KeysError> {
        let seen = Fingerprint::of(path);
        let keys = Keys::load(path)?;
        Ok(KeyStore {
            path: path.to_owned(),
            loaded: RwLock::new(Loaded {
                keys: Ok(keys),
                seen,
            }),
            reloads: AtomicU64::new(0),
            changes: AtomicU64::new(0),
            reloaded: tokio::sync::watch::channel(0).0,
            area_districts: RwLock::new(Default::default()),
        })
    }

    /// Re-reads the keys file now (SIGHUP calls this), returning how many keys it holds. On
    /// error no key is accepted until a later read succeeds.
    pub fn reload(&self) -> Result<usize, KeysError> {
        // The identity is taken before reading: a write landing during the read changes it
        // again, so the next request reads the file once more.
        let seen = Fingerprint::of(&self.path);
        let result = Keys::load(&self.path);
        let outcome = match &result {
            Ok(keys) => Ok(keys.len()),
            Err(e) => Err(e.to_string()),
        };
        if let Ok(mut loaded) = self.loaded.write() {
            *loaded = Loaded {
                keys: result.map_err(|e| e.to_string()),
                seen,
            };
        }
        let n = self.reloads.fetch_add(1, Ordering::SeqCst) + 1;
        self.reloaded.send_replace(n);
        match outcome {
            Ok(n) => {
                tracing::info!(path = %self.path.display(), keys = n, "keys file read");
                Ok(n)
            }
            Err(message) => {
                tracing::error!(path = %self.path.display(), %message, "keys file unreadable: refusing every key until it is fixed");
                Err(KeysError::Invalid {
                    path: self.path.display().to_string(),
                    message,
                })
            }
        }
    }

    /// Re-reads the keys file if it is not the one last read.
    fn refresh(&self) {
        let now = Fingerprint::of(&self.path);
        let stale = match self.loaded.read() {
            Ok(loaded) => loaded.seen != now,
            Err(_) => true,
        };
        if stale {
            self.changes.fetch_add(1, Ordering::SeqCst);
            let _ = self.reload();
        }
    }

    /// The partner holding the key in an `authorization: Bearer <key>` header, against the
    /// keys file as it is now.
    pub fn authenticate(&self, header: Option<&str>) -> Result<Partner, AuthError> {
        self.refresh();
        let header = header.ok_or_else(|| {
            AuthError::Unauthenticated("no API key: send `authorization: Bearer <key>`".into())
        })?;
        let key = header
            .strip_prefix("Bearer ")
            .or_else(|| header.strip_prefix("bearer "))
            .ok_or_else(|| {
                AuthError::Unauthenticated("authorization must be `Bearer <key>`".into())
            })?;
        let loaded = self
            .loaded
            .read()
            .map_err(|_| AuthError::KeysUnavailable("the keys are being replaced".into()))?;
        match &loaded.keys {
            Err(_) => Err(AuthError::KeysUnavailable(
                "the server's keys file cannot be read; its operator must fix it".into(),
            )),
            Ok(keys) => {
                let mut partner = keys
                    .verify(key.trim())
                    .cloned()
                    .ok_or_else(|| AuthError::Unauthenticated("unknown API key".into()))?;
                if !partner.areas.is_empty()
                    && let Ok(d) = self.area_districts.read()
                {
                    partner.expand_areas(&d);
                }
                Ok(partner)
            }
        }
    }

    /// How many times the keys file has been re-read since start, for any reason.
    pub fn reloads(&self) -> u64 {
        self.reloads.load(Ordering::SeqCst)
    }

    /// How many of those re-reads a request caused by finding the file changed.
    pub fn changes_seen(&self) -> u64 {
        self.changes.load(Ordering::SeqCst)
    }

    /// Changes to the reload count, to wait for a reload (SIGHUP) without polling.
    pub fn subscribe(&self) -> tokio::sync::watch::Receiver<u64> {
        self.reloaded.subscribe()
    }
}

/// The hex SHA-256 of a key, as the keys file stores it.
pub fn hash_key(key: &str) -> String {
    hex::encode(Sha256::digest(key.as_bytes()))
}

fn constant_time_eq(a: &[u8; 32], b: &[u8; 32]) -> bool {
    let mut diff = 0u8;
    for (x, y) in a.iter().zip(b) {
        diff |= x ^ y;
    }
    diff == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_stored_hashed_and_verified() {
        let text = format!(
            "[[key]]\npartner = \"Trafford LSP\"\nsha256 = \"{}\"\nauthorities = [\"E08000009\"]\n\n\
             [[key]]\npartner = \"Dashboard\"\nsha256 = \"{}\"\n",
            hash_key("secret-one"),
            hash_key("secret-two")
        );
        let keys = Keys::parse(&text).unwrap();
        assert_eq!(keys.len(), 2);
        let p = keys.verify("secret-one").unwrap();
        assert_eq!(p.partner, "Trafford LSP");
        assert!(p.may_read_authority("E08000009"));
        assert!(!p.may_read_authority("E08000016"));
        assert_eq!(keys.verify("secret-two").unwrap().partner, "Dashboard");
        assert!(keys.verify("secret-three").is_none());
        // A digest pasted as the key does not authenticate.
        assert!(keys.verify(&hash_key("secret-one")).is_none());
    }

    fn keys_text(keys: &[(&str, &str)]) -> String {
        keys.iter()
            .map(|(partner, key)| {
                format!(
                    "[[key]]\npartner = \"{partner}\"\nsha256 = \"{}\"\n",
                    hash_key(key)
                )
            })
            .collect()
    }

    /// Replacing the file as editors and `mv` do (a new inode) is seen by the next request;
    /// a broken file refuses everyone; fixing it restores the keys it names.
    #[test]
    fn the_keys_file_is_reread_when_it_changes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keys.toml");
        let write = |text: &str| {
            let tmp = dir.path().join("keys.toml.new");
            std::fs::write(&tmp, text).unwrap();
            std::fs::rename(&tmp, &path).unwrap();
        };
        write(&keys_text(&[("A", "key-a"), ("B", "key-b")]));
        let store = KeyStore::open(&path).unwrap();
        let auth = |key: &str| store.authenticate(Some(&format!("Bearer {key}")));
        assert_eq!(auth("key-b").unwrap().partner, "B");
        assert_eq!(store.reloads(), 0, "an unchanged file is not re-read");
        write(&keys_text(&[("A", "key-a")]));
        assert!(matches!(auth("key-b"), Err(AuthError::Unauthenticated(_))));
        assert_eq!(store.reloads(), 1);
        assert_eq!(auth("key-a").unwrap().partner, "A");
        assert_eq!(store.reloads(), 1);
        write("[[key]]\npartner = \"A\"\nsha256 = \"not-a-digest\"\n");
        assert!(matches!(auth("key-a"), Err(AuthError::KeysUnavailable(_))));
        write(&keys_text(&[("A", "key-a")]));
        assert_eq!(auth("key-a").unwrap().partner, "A");
        // An explicit reload reads the file even when it has not changed.
        assert_eq!(store.reload().unwrap(), 1);
        assert_eq!(store.reloads(), 4);
        assert_eq!(store.changes_seen(), 3);
        assert_eq!(*store.subscribe().borrow(), 4);
        assert!(matches!(
            store.authenticate(None),
            Err(AuthError::Unauthenticated(_))
        ));
    }

    #[test]
    fn ingest_namespaces_are_checked_at_load_and_scope_uploads() {
        let key = |partner: &str, ingest: &str| {
            format!(
                "[[key]]\npartner = \"{partner}\"\nsha256 = \"{}\"\ningest = [{ingest}]\n",
                hash_key(partner)
            )
        };
        for bad in ["\"gmp-police\"", "\"GMP\"", "\"\"", "\"*\""] {
            let err = Keys::parse(&key("GMP", bad)).unwrap_err();
            assert!(err.contains("ingest namespace"), "{bad}: {err}");
        }
        let err = Keys::parse(&(key("GMP", "\"gmp\"") + &key("Other", "\"gmp\""))).unwrap_err();
        assert!(err.contains("belongs to one partner"), "{err}");
        // Two keys of one partner (a rotation) may share it.
        let keys =
            Keys::parse(&(key("GMP", "\"gmp\", \"tfgm\"") + &key("GMP", "\"gmp\""))).unwrap();
        let gmp = keys.verify("GMP").unwrap();
        assert_eq!(gmp.may_ingest("partner-gmp-best-value"), Ok(()));
        assert_eq!(gmp.may_ingest("partner-tfgm-2024"), Ok(()));
        let Err(IngestRefusal::Denied(m)) = gmp.may_ingest("partner-salford-best-value") else {
            panic!("another namespace is refused");
        };
        assert!(
            m.contains("partner-salford-best-value") && m.contains("partner-gmp-*, partner-tfgm-*"),
            "{m}"
        );
        for bad in [
            "services-best-value",
            "partner-gmp",
            "partner-gmp-",
            "partner-gmp--x",
            "partner-gmp-Best",
            "partner-gmp-../x",
        ] {
            assert!(
                matches!(gmp.may_ingest(bad), Err(IngestRefusal::Invalid(_))),
                "{bad}"
            );
        }
        let reader = Keys::parse(&format!(
            "[[key]]\npartner = \"R\"\nsha256 = \"{}\"\n",
            hash_key("r")
        ))
        .unwrap();
        assert!(matches!(
            reader.verify("r").unwrap().may_ingest("partner-gmp-x"),
            Err(IngestRefusal::Denied(_))
        ));
        assert_eq!(Partner::developer().may_ingest("partner-any-x"), Ok(()));
        assert!(Partner::developer().may_ingest("crime-x").is_err());
    }

    /// Uploads never pool with the published datasets: no built-in indicator's dataset
    /// pattern matches an upload id, even one made of every word those patterns look for.
    #[test]
    fn no_built_in_indicator_reads_uploads() {
        let catalog = renewal_schema::Catalog::embedded().unwrap();
        let id = "partner-gmp-crime-services-oflog-best-value-census-qualification-general-health-benefits-esa";
        assert!(upload_namespace(id).is_ok());
        let mut patterns = 0;
        for (_, d) in &catalog.indicators {
            let sources = std::iter::once(&d.numerator.dataset)
                .chain(d.denominator.iter().map(|s| &s.dataset))
                .chain(d.population.iter().map(|p| &p.dataset));
            for pattern in sources {
                patterns += 1;
                assert!(
                    !renewal_schema::dataset_matches(pattern, id),
                    "{}: {pattern} matches uploads",
                    d.id
                );
            }
        }
        assert!(patterns > 20, "{patterns}");
    }

    #[test]
    fn plain_keys_in_the_file_are_refused() {
        let err = Keys::parse("[[key]]\npartner = \"x\"\nsha256 = \"secret\"\n").unwrap_err();
        assert!(err.contains("64 hex digits"), "{err}");
    }
}
