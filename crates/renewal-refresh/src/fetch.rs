//! Getting a dataset's files onto local disk: local paths and globs as they are, URLs through a
//! cache revalidated with the server's ETag and Last-Modified, so an unchanged remote file costs
//! one 304.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::SourceEntry;

/// A file ready to ingest.
#[derive(Debug, Clone)]
pub(crate) struct Fetched {
    pub name: String,
    pub path: PathBuf,
    pub sha256: String,
}

/// What we last saw of a URL.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Seen {
    etag: Option<String>,
    last_modified: Option<String>,
    /// The cached body.
    path: PathBuf,
}

const STATE: &str = "http.json";

pub(crate) async fn fetch_all(
    entry: &SourceEntry,
    base_dir: &Path,
    state_dir: &Path,
) -> Result<Vec<Fetched>, String> {
    let mut out = Vec::new();
    for location in &entry.location {
        if location.starts_with("http://") || location.starts_with("https://") {
            let (url, state_dir) = (location.clone(), state_dir.to_owned());
            let path = tokio::task::spawn_blocking(move || fetch_url(&url, &state_dir))
                .await
                .map_err(|e| format!("fetching {location}: {e}"))??;
            out.push(describe(path)?);
        } else {
            for path in expand(&base_dir.join(location))? {
                out.push(describe(path)?);
            }
        }
    }
    Ok(out)
}

fn describe(path: PathBuf) -> Result<Fetched, String> {
    let bytes = std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(Fetched {
        name: path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
        sha256: hex::encode(Sha256::digest(&bytes)),
        path,
    })
}

/// A path, or every file in its directory whose name matches its `*` / `?` pattern, sorted.
fn expand(path: &Path) -> Result<Vec<PathBuf>, String> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    if !name.contains(['*', '?']) {
        if path.is_file() {
            return Ok(vec![path.to_owned()]);
        }
        return Err(format!("{} does not exist", path.display()));
    }
    let dir = path.parent().unwrap_or(Path::new("."));
    let entries = std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let mut found: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file())
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| wildcard(&name, &n.to_string_lossy()))
        })
        .collect();
    found.sort();
    if found.is_empty() {
        return Err(format!("no file matches {}", path.display()));
    }
    Ok(found)
}

/// `*` matches any run of characters, `?` any one.
fn wildcard(pattern: &str, text: &str) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = (pattern.chars().collect(), text.chars().collect());
    let (mut pi, mut ti, mut star, mut mark) = (0, 0, None, 0);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

fn load_state(state_dir: &Path) -> BTreeMap<String, Seen> {
    std::fs::read(state_dir.join(STATE))
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_default()
}

fn save_state(state_dir: &Path, state: &BTreeMap<String, Seen>) -> Result<(), String> {
    let path = state_dir.join(STATE);
    let tmp = state_dir.join(format!("{STATE}.tmp"));
    let json = serde_json::to_vec_pretty(state).map_err(|e| e.to_string())?;
    std::fs::write(&tmp, json)
        .and_then(|()| std::fs::rename(&tmp, &path))
        .map_err(|e| format!("{}: {e}", path.display()))
}

/// Downloads `url` into the cache unless the server says our copy is current (304).
fn fetch_url(url: &str, state_dir: &Path) -> Result<PathBuf, String> {
    let mut state = load_state(state_dir);
    let seen = state.get(url).filter(|s| s.path.is_file()).cloned();
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(std::time::Duration::from_secs(600)))
        .build()
        .into();
    let mut request = agent.get(url);
    if let Some(seen) = &seen {
        if let Some(etag) = &seen.etag {
            request = request.header("If-None-Match", etag);
        }
        if let Some(lm) = &seen.last_modified {
            request = request.header("If-Modified-Since", lm);
        }
    }
    let mut response = request.call().map_err(|e| format!("{url}: {e}"))?;
    let status = response.status().as_u16();
    if status == 304
        && let Some(seen) = seen
    {
        tracing::info!(url, "not modified");
        return Ok(seen.path);
    }
    if !(200..300).contains(&status) {
        return Err(format!("{url}: HTTP {status}"));
    }
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(String::from)
    };
    let (etag, last_modified) = (header("etag"), header("last-modified"));
    let body = response
        .body_mut()
        .with_config()
        .limit(4 * 1024 * 1024 * 1024)
        .read_to_vec()
        .map_err(|e| format!("{url}: reading the body: {e}"))?;
    let name = url
        .split(['?', '#'])
        .next()
        .and_then(|u| u.rsplit('/').next())
        .filter(|n| !n.is_empty())
        .unwrap_or("download");
    let dir = state_dir
        .join("cache")
        .join(&hex::encode(Sha256::digest(url.as_bytes()))[..16]);
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let path = dir.join(name);
    let tmp = dir.join(format!(".{name}.tmp"));
    std::fs::write(&tmp, &body)
        .and_then(|()| std::fs::rename(&tmp, &path))
        .map_err(|e| format!("{}: {e}", path.display()))?;
    state.insert(
        url.to_owned(),
        Seen {
            etag,
            last_modified,
            path: path.clone(),
        },
    );
    save_state(state_dir, &state)?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::wildcard;

    #[test]
    fn wildcards() {
        for (p, t, want) in [
            ("File_*.csv", "File_6.csv", true),
            ("File_*.csv", "File_6.csv.gz", false),
            ("*", "anything", true),
            ("a?c", "abc", true),
            ("a?c", "ac", false),
            ("*_2021_*", "x_2021_y", true),
            ("gm_*_lsoa.csv", "gm_claimant_count_lsoa.csv", true),
        ] {
            assert_eq!(wildcard(p, t), want, "{p} {t}");
        }
    }
}
