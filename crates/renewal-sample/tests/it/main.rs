//! Integration tests of the sample generator, reading the files it writes as a user would.

#![allow(clippy::unwrap_used)] // tests: a panic is the failure report

mod boundaries;
mod england;
