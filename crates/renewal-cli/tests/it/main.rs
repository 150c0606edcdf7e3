//! End-to-end tests of the real `renewal` binary, each in a fresh temporary directory.

#![allow(clippy::unwrap_used)] // tests: a panic is the failure report

mod boundary;
mod change;
mod conformance;
mod crash;
mod disclosure;
mod england;
mod gaps;
mod iod2025;
mod lm3;
mod lpp;
mod map;
mod parents;
mod population;
mod postcodes;
mod sample;
mod spend;
mod spend_questions;
mod targets;
mod upload;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A run of the `renewal` binary with a given warehouse.
pub struct Renewal {
    pub warehouse: PathBuf,
}

impl Renewal {
    pub fn new(warehouse: &Path) -> Renewal {
        Renewal {
            warehouse: warehouse.to_owned(),
        }
    }

    pub fn command(&self) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_renewal"));
        cmd.env("RENEWAL_WAREHOUSE", &self.warehouse)
            .env_remove("RENEWAL_SCHEMAS")
            .env_remove("RENEWAL_LOG");
        cmd
    }

    /// Runs and insists on success; returns stdout.
    pub fn ok<I, S>(&self, args: I) -> String
    where
        I: IntoIterator<Item = S>,
        S: AsRef<std::ffi::OsStr>,
    {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "renewal failed: {}\nstderr:\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).expect("utf-8 output")
    }

    pub fn run<I, S>(&self, args: I) -> Output
    where
        I: IntoIterator<Item = S>,
        S: AsRef<std::ffi::OsStr>,
    {
        self.command().args(args).output().expect("run renewal")
    }
}

/// Parses CSV output into header + rows (no quoting in our numeric output, but names may be
/// quoted, so use a tiny quote-aware splitter).
pub fn parse_csv(text: &str) -> (Vec<String>, Vec<Vec<String>>) {
    let mut lines = text.lines().map(split_csv_line);
    let header = lines.next().expect("a header line");
    (header, lines.collect())
}

fn split_csv_line(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' if quoted && chars.peek() == Some(&'"') => {
                field.push('"');
                chars.next();
            }
            '"' => quoted = !quoted,
            ',' if !quoted => out.push(std::mem::take(&mut field)),
            c => field.push(c),
        }
    }
    out.push(field);
    out
}

pub const SUMMARY_HEADER: &str = "area_code,area_name,lsoa_count,population,average_score,rank_of_average_score,average_rank,rank_of_average_rank,proportion_most_deprived_10pct,extent,local_concentration";

/// Runs a script of tests/reference/ (independent implementations, Python standard library)
/// and returns its standard output.
pub fn python_reference(script: &str, args: &[&std::ffi::OsStr]) -> String {
    renewal_test_support::python_reference(script, args)
}

/// Every sheet of a workbook as read by openpyxl (`renewal_test_support::openpyxl_cells`), or
/// `None` after its loud skip.
pub fn openpyxl_cells(path: &Path) -> Option<serde_json::Value> {
    renewal_test_support::openpyxl_cells(path).map(|json| serde_json::from_str(&json).unwrap())
}
