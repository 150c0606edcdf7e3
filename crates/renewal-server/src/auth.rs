//! Bearer API keys. The keys file holds only SHA-256 digests of the keys, each with the
//! partner's name and scopes; a presented key is hashed and compared with every digest in
//! constant time, so neither the file nor the timing gives a key away.

use std::path::Path;

use serde::Deserialize;
use sha2::{Digest, Sha256};

#[derive(Debug, thiserror::Error)]
pub enum KeysError {
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
    /// Authorities (LAD codes) it may read; empty means all of England.
    #[serde(default)]
    pub authorities: Vec<String>,
    /// Dataset id patterns (`*` wildcards) its answers may draw on; empty means all.
    #[serde(default)]
    pub datasets: Vec<String>,
    /// May register neighbourhoods and targets.
    #[serde(default)]
    pub write: bool,
    /// May run read-only SQL (reserved for the Flight SQL endpoint).
    #[serde(default)]
    pub sql: bool,
}

impl Partner {
    /// The identity of development mode: every scope, no key.
    pub fn developer() -> Partner {
        Partner {
            partner: "development mode".into(),
            sha256: String::new(),
            authorities: Vec::new(),
            datasets: Vec::new(),
            write: true,
            sql: true,
        }
    }

    pub fn may_read_authority(&self, code: &str) -> bool {
        self.authorities.is_empty() || self.authorities.iter().any(|a| a == code)
    }

    pub fn all_authorities(&self) -> bool {
        self.authorities.is_empty()
    }

    pub fn may_read_dataset(&self, id: &str) -> bool {
        // Geography, partners' registrations: the frame every answer needs.
        id.starts_with("lookup-")
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

/// The keys a server accepts.
#[derive(Debug, Clone, Default)]
pub struct Keys {
    partners: Vec<(Partner, [u8; 32])>,
}

impl Keys {
    pub fn load(path: &Path) -> Result<Keys, KeysError> {
        let invalid = |message: String| KeysError::Invalid {
            path: path.display().to_string(),
            message,
        };
        let text = std::fs::read_to_string(path).map_err(|e| invalid(e.to_string()))?;
        Keys::parse(&text).map_err(invalid)
    }

    pub fn parse(text: &str) -> Result<Keys, String> {
        let file: KeysFile = toml::from_str(text).map_err(|e| e.to_string())?;
        let mut partners = Vec::new();
        for p in file.key {
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

    pub fn len(&self) -> usize {
        self.partners.len()
    }

    pub fn is_empty(&self) -> bool {
        self.partners.is_empty()
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

    #[test]
    fn plain_keys_in_the_file_are_refused() {
        let err = Keys::parse("[[key]]\npartner = \"x\"\nsha256 = \"secret\"\n").unwrap_err();
        assert!(err.contains("64 hex digits"), "{err}");
    }
}
