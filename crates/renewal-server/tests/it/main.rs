//! The real server on 127.0.0.1 (port chosen by the OS) over a warehouse of the bundled sample,
//! called with the generated Rust client: every RPC, authentication and scopes, error codes,
//! disclosure control, health, reflection, grpc-web, and a refresh while requests stream.

#![allow(clippy::unwrap_used)] // tests: a panic is the failure report

use std::path::{Path, PathBuf};

use renewal_query::Engine;
use renewal_schema::Catalog;
use renewal_server::pb::analysis_client::AnalysisClient;
use renewal_server::pb::catalogue_client::CatalogueClient;
use renewal_server::{Running, ServerConfig, hash_key, pb};
use renewal_test_support::temp_dir;
use renewal_warehouse::{PublishOptions, Warehouse};
use tonic::transport::Channel;
use tonic::{Code, Request};

mod auth_matrix;
mod boundary;
mod calls;
mod disclosure;
mod flight;
mod flight_limits;
mod flight_metadata;
mod flight_refusals;
mod http;
mod http_map;
mod http_xlsx;
mod lpp;
mod national;
mod overload;
mod partner_geographies;
mod registrations;
mod revocation;
mod spend;
mod upload;

pub const FULL_KEY: &str = "full-access-key";
pub const VALE_KEY: &str = "vale-only-key";
pub const IOD_ONLY_KEY: &str = "iod-only-key";
pub const VALE_WRITER_KEY: &str = "vale-writer-key";
pub const SQL_KEY: &str = "sql-key";
pub const VALE_SQL_KEY: &str = "vale-sql-key";
pub const VALE: &str = "E08999001";
pub const BROOKMERE: &str = "E07999002";

pub struct Fixture {
    pub dir: tempfile::TempDir,
    pub warehouse: Warehouse,
    pub sample: PathBuf,
}

/// The sample, ingested with the library calls the CLI makes.
pub async fn fixture() -> Fixture {
    let dir = temp_dir();
    let sample = dir.path().join("sample");
    renewal_sample::write_sample(&sample, &renewal_sample::SampleSpec::default()).unwrap();
    let warehouse = Warehouse::open_local(&dir.path().join("warehouse")).unwrap();
    let catalog = Catalog::embedded().unwrap();
    let files = |pred: &dyn Fn(&str) -> bool| -> Vec<PathBuf> {
        let mut v: Vec<PathBuf> = std::fs::read_dir(&sample)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| pred(&p.file_name().unwrap().to_string_lossy()))
            .collect();
        v.sort();
        v
    };
    let np = &renewal_ingest::NoProgress;
    let mut drafts =
        renewal_ingest::read_lookups(&catalog, &files(&|n| n.starts_with("Lower_Layer")), np)
            .unwrap();
    drafts.push(
        renewal_ingest::read_iod(&catalog, "2019", &files(&|n| n.starts_with("File_")), np)
            .unwrap(),
    );
    drafts.push(
        renewal_ingest::read_crime(
            &catalog,
            &files(&|n| n.ends_with("-street.csv")),
            &renewal_ingest::CrimeOptions::default(),
            np,
        )
        .unwrap(),
    );
    drafts.extend(
        renewal_ingest::read_observations(
            &catalog,
            "services",
            &files(&|n| n.starts_with("best_value")),
            &renewal_ingest::ObservationOptions::default(),
            np,
        )
        .unwrap(),
    );
    for d in drafts {
        warehouse
            .publish(d, PublishOptions::default())
            .await
            .unwrap();
    }
    Fixture {
        dir,
        warehouse,
        sample,
    }
}

pub fn keys_file(dir: &Path) -> PathBuf {
    let path = dir.join("keys.toml");
    std::fs::write(
        &path,
        format!(
            "[[key]]\npartner = \"Full\"\nsha256 = \"{}\"\nwrite = true\n\n\
             [[key]]\npartner = \"Vale LSP\"\nsha256 = \"{}\"\nauthorities = [\"{VALE}\"]\n\n\
             [[key]]\npartner = \"IoD reader\"\nsha256 = \"{}\"\ndatasets = [\"iod-*\"]\n\n\
             [[key]]\npartner = \"Vale writer\"\nsha256 = \"{}\"\nauthorities = [\"{VALE}\"]\nwrite = true\n\n\
             [[key]]\npartner = \"Analyst\"\nsha256 = \"{}\"\nsql = true\n\n\
             [[key]]\npartner = \"Vale analyst\"\nsha256 = \"{}\"\nauthorities = [\"{VALE}\"]\nsql = true\n",
            hash_key(FULL_KEY),
            hash_key(VALE_KEY),
            hash_key(IOD_ONLY_KEY),
            hash_key(VALE_WRITER_KEY),
            hash_key(SQL_KEY),
            hash_key(VALE_SQL_KEY)
        ),
    )
    .unwrap();
    path
}

pub async fn start(f: &Fixture, tweak: impl FnOnce(&mut ServerConfig)) -> Running {
    let mut config = ServerConfig {
        addr: "127.0.0.1:0".parse().unwrap(),
        keys: Some(keys_file(f.dir.path())),
        ..ServerConfig::default()
    };
    tweak(&mut config);
    let engine = Engine::new(f.warehouse.clone(), Catalog::embedded().unwrap());
    renewal_server::start(engine, &config).await.unwrap()
}

pub async fn channel(running: &Running) -> Channel {
    Channel::from_shared(format!("http://{}", running.addr))
        .unwrap()
        .connect()
        .await
        .unwrap()
}

pub fn authed<T>(message: T, key: &str) -> Request<T> {
    let mut r = Request::new(message);
    r.metadata_mut()
        .insert("authorization", format!("Bearer {key}").parse().unwrap());
    r
}

/// A streamed table gathered: columns, rows as maps, basis, notes.
#[derive(Debug)]
pub struct Table {
    pub columns: Vec<String>,
    pub rows: Vec<std::collections::BTreeMap<String, Option<pb::cell::Value>>>,
    pub basis: pb::Basis,
    pub notes: Vec<String>,
}

impl Table {
    pub fn number(&self, row: usize, column: &str) -> Option<f64> {
        match self.rows[row]
            .get(column)
            .unwrap_or_else(|| panic!("no column {column}"))
        {
            Some(pb::cell::Value::Number(n)) => Some(*n),
            None => None,
            other => panic!("{column}: not a number: {other:?}"),
        }
    }

    pub fn text(&self, row: usize, column: &str) -> Option<String> {
        match self.rows[row]
            .get(column)
            .unwrap_or_else(|| panic!("no column {column}"))
        {
            Some(pb::cell::Value::Text(s)) => Some(s.clone()),
            None => None,
            other => panic!("{column}: not text: {other:?}"),
        }
    }

    pub fn flag(&self, row: usize, column: &str) -> Option<bool> {
        match self.rows[row]
            .get(column)
            .unwrap_or_else(|| panic!("no column {column}"))
        {
            Some(pb::cell::Value::Flag(b)) => Some(*b),
            None => None,
            other => panic!("{column}: not a flag: {other:?}"),
        }
    }
}

pub async fn collect(
    response: Result<tonic::Response<tonic::Streaming<pb::TableChunk>>, tonic::Status>,
) -> Result<Table, tonic::Status> {
    let mut stream = response?.into_inner();
    let mut table = Table {
        columns: Vec::new(),
        rows: Vec::new(),
        basis: pb::Basis::default(),
        notes: Vec::new(),
    };
    let mut first = true;
    while let Some(chunk) = stream.message().await? {
        if first {
            table.columns = chunk.columns.iter().map(|c| c.name.clone()).collect();
            table.basis = chunk.basis.clone().unwrap_or_default();
            table.notes = chunk.notes.clone();
            first = false;
        } else {
            assert!(chunk.columns.is_empty(), "columns only in the first chunk");
        }
        for row in chunk.rows {
            assert_eq!(row.cells.len(), table.columns.len());
            table.rows.push(
                table
                    .columns
                    .iter()
                    .cloned()
                    .zip(row.cells.into_iter().map(|c| c.value))
                    .collect(),
            );
        }
    }
    Ok(table)
}

pub fn clients(ch: &Channel) -> (CatalogueClient<Channel>, AnalysisClient<Channel>) {
    (
        CatalogueClient::new(ch.clone()),
        AnalysisClient::new(ch.clone()),
    )
}

pub fn code<T: std::fmt::Debug>(r: Result<T, tonic::Status>) -> (Code, String) {
    let e = r.unwrap_err();
    (e.code(), e.message().to_owned())
}
