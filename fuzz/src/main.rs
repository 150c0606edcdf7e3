//! One afl.rs binary, one target per parser: `renewal-fuzz TARGET` reads inputs from AFL.
//! Targets: table, gzip, xlsx (the text-table reader behind every dataset), number, iod,
//! lookup, benefits, crime, population (the dataset readers, through their public read
//! functions on a file holding the input), manifest (the warehouse's manifest reader), schema
//! (data-schemas TOML through `Catalog::load_dir`), grpc (prost decoding of every request).
//!
//! Each target asserts what must hold of any input besides not crashing: a table's rows are as
//! wide as its header, a parsed number is finite.

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use renewal_ingest::source::{ReadLimits, SourceBytes, read_tables_with};
use renewal_ingest::{
    CrimeOptions, NoProgress, ObservationOptions, PopulationOptions, read_crime, read_iod,
    read_lookups, read_observations, read_population,
};

/// The gRPC messages, compiled from proto/ by build.rs.
#[allow(clippy::all, missing_docs)]
pub mod pb {
    include!(concat!(env!("OUT_DIR"), "/renewal.v1.rs"));
}

/// The targets `scripts/reliability/fuzz.sh` knows, in the order it lists them.
pub const TARGETS: &[&str] = &[
    "table",
    "gzip",
    "xlsx",
    "number",
    "iod",
    "lookup",
    "benefits",
    "crime",
    "population",
    "manifest",
    "schema",
    "grpc",
];

fn main() {
    let target = std::env::args().nth(1).unwrap_or_default();
    if !TARGETS.contains(&target.as_str()) {
        eprintln!("usage: renewal-fuzz TARGET (one of {})", TARGETS.join(", "));
        std::process::exit(2);
    }
    // `fuzz_nohook!`, not `fuzz!`: the readers deliberately catch panics inside third-party
    // parsers (calamine, zip) and turn them into errors, and `fuzz!`'s panic hook aborts before
    // any `catch_unwind` can run, so a handled panic would count as a crash. A panic that escapes
    // `run` still aborts (afl.rs catches it at the top and calls `abort`).
    afl::fuzz_nohook!(|data: &[u8]| {
        run(&target, data);
    });
}

/// A scratch directory of this process's own.
fn scratch() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("renewal-fuzz-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("scratch directory");
        dir
    })
}

fn catalog() -> &'static renewal_schema::Catalog {
    static CATALOG: OnceLock<renewal_schema::Catalog> = OnceLock::new();
    CATALOG.get_or_init(|| renewal_schema::Catalog::embedded().expect("embedded schemas"))
}

fn bridge() -> Arc<renewal_geo::bridge::Bridge> {
    static BRIDGE: OnceLock<Arc<renewal_geo::bridge::Bridge>> = OnceLock::new();
    BRIDGE
        .get_or_init(|| {
            Arc::new(renewal_geo::bridge::Bridge::new(
                "LSOA11".parse().expect("vintage"),
                "LSOA21".parse().expect("vintage"),
                [
                    ("E01000001", "E01000001"),
                    ("E01000002", "E01040001"),
                    ("E01000002", "E01040002"),
                ],
            ))
        })
        .clone()
}

fn input_file(data: &[u8], name: &str) -> PathBuf {
    let path = scratch().join(name);
    std::fs::write(&path, data).expect("writing the input");
    path
}

fn tables(data: &[u8]) {
    let source = SourceBytes {
        name: "fuzz".into(),
        bytes: bytes::Bytes::copy_from_slice(data),
        sha256: String::new(),
    };
    if let Ok(tables) = read_tables_with(&source, &ReadLimits::default(), &NoProgress) {
        for t in tables {
            let mut seen = std::collections::HashSet::new();
            assert!(t.headers.iter().all(|h| seen.insert(h)), "duplicate header");
            assert!(t.headers.len() <= ReadLimits::default().max_columns);
            for row in &t.rows {
                assert_eq!(row.fields.len(), t.headers.len(), "ragged row kept");
            }
        }
    }
}

fn run(target: &str, data: &[u8]) {
    match target {
        "table" => tables(data),
        "gzip" => {
            let mut v = vec![0x1f, 0x8b];
            v.extend_from_slice(data.strip_prefix(&[0x1f, 0x8b][..]).unwrap_or(data));
            tables(&v)
        }
        "xlsx" => {
            let mut v = b"PK\x03\x04".to_vec();
            v.extend_from_slice(data.strip_prefix(&b"PK\x03\x04"[..]).unwrap_or(data));
            tables(&v)
        }
        "number" => {
            if let Ok(text) = std::str::from_utf8(data) {
                if let Ok(v) = renewal_ingest::number::parse_number(text) {
                    assert!(v.is_finite(), "{text:?} parsed to {v}");
                }
                let _ = renewal_ingest::number::parse_whole(text);
            }
        }
        "iod" => {
            let f = input_file(data, "fuzz.csv");
            let _ = read_iod(catalog(), "2019", &[f], &NoProgress);
        }
        "lookup" => {
            let f = input_file(data, "fuzz.csv");
            let _ = read_lookups(catalog(), &[f], &NoProgress);
        }
        "benefits" => {
            let f = input_file(data, "fuzz.csv");
            let options = ObservationOptions {
                dataset: None,
                period: Some("2024-01".into()),
                bridge: Some(bridge()),
            };
            let _ = read_observations(catalog(), "benefits", &[f], &options, &NoProgress);
        }
        "crime" => {
            let f = input_file(data, "fuzz.csv");
            let options = CrimeOptions {
                bridge: Some(bridge()),
                ..Default::default()
            };
            let _ = read_crime(catalog(), &[f], &options, &NoProgress);
        }
        "population" => {
            let f = input_file(data, "fuzz.csv");
            let _ = read_population(catalog(), &[f], &PopulationOptions::default(), &NoProgress);
        }
        "manifest" => manifest(data),
        "schema" => schema(data),
        "grpc" => grpc(data),
        _ => unreachable!("checked in main"),
    }
}

fn manifest(data: &[u8]) {
    use object_store::ObjectStoreExt;
    let store = Arc::new(object_store::memory::InMemory::new());
    let warehouse = renewal_warehouse::Warehouse::from_store(store.clone(), "memory:///");
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let path = object_store::path::Path::from("d/_versions/00000000000000000001.json");
        store
            .put(&path, bytes::Bytes::copy_from_slice(data).into())
            .await
            .expect("in-memory put");
        if let Ok(Some(m)) = warehouse.current("d").await {
            // What the reader accepted stays inside its dataset.
            for f in m.tables.iter().flat_map(|t| &t.files) {
                // Segments, not substrings: "..x" is a file name (the first crash found was
                // this oracle being too strict, not the reader).
                assert!(f.path.starts_with("d/data/") && !f.path.split('/').any(|s| s == ".."));
            }
        }
        let _ = warehouse.versions("d").await;
    });
}

fn schema(data: &[u8]) {
    const FAMILIES: &[&str] = &[
        "iod",
        "iod-summary",
        "observations",
        "crime",
        "population",
        "lookup",
        "bridge",
    ];
    let Some((&first, rest)) = data.split_first() else {
        return;
    };
    let dir = scratch().join("schemas");
    let _ = std::fs::remove_dir_all(&dir);
    let file = if first as usize % (FAMILIES.len() + 2) == FAMILIES.len() {
        dir.join("indicators/f.toml")
    } else if first as usize % (FAMILIES.len() + 2) == FAMILIES.len() + 1 {
        dir.join("editions.toml")
    } else {
        dir.join("datasets")
            .join(FAMILIES[first as usize % (FAMILIES.len() + 2)])
            .join("f.toml")
    };
    std::fs::create_dir_all(file.parent().expect("parent")).expect("schema dir");
    std::fs::write(&file, rest).expect("schema file");
    let _ = renewal_schema::Catalog::load_dir(&dir);
}

fn grpc(data: &[u8]) {
    use prost::Message;
    let _ = pb::ListAreasRequest::decode(data);
    let _ = pb::GapRequest::decode(data);
    let _ = pb::SelectionRequest::decode(data);
    let _ = pb::TrendRequest::decode(data);
    let _ = pb::TargetStatusRequest::decode(data);
    let _ = pb::PriorityRequest::decode(data);
    let _ = pb::ProfileRequest::decode(data);
    let _ = pb::SimilarRequest::decode(data);
    let _ = pb::RegisterNeighbourhoodRequest::decode(data);
    let _ = pb::RegisterTargetRequest::decode(data);
    // Whatever decodes must encode and decode back to itself.
    if let Ok(m) = pb::GapRequest::decode(data) {
        assert_eq!(
            pb::GapRequest::decode(m.encode_to_vec().as_slice()).ok(),
            Some(m)
        );
    }
    if let Ok(m) = pb::SelectionRequest::decode(data) {
        assert_eq!(
            pb::SelectionRequest::decode(m.encode_to_vec().as_slice()).ok(),
            Some(m)
        );
    }
}
