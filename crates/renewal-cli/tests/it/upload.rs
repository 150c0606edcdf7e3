//! `renewal upload` (the real binary) against an in-process server: published, unchanged on
//! retry, refused with the file/line/column of bad input, refused outside the key's namespace.

use std::path::Path;

use renewal_query::Engine;
use renewal_schema::Catalog;
use renewal_warehouse::Warehouse;

use crate::Renewal;

const KEY: &str = "gmp-etl-key";
const HEADER: &str = "indicator_id,area_code,period,numerator,denominator,value,unit,polarity\n";

fn write(dir: &Path, name: &str, text: &str) -> std::path::PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upload_publishes_retries_unchanged_and_reports_refusals() {
    let dir = renewal_test_support::temp_dir();
    let keys = dir.path().join("keys.toml");
    std::fs::write(
        &keys,
        format!(
            "[[key]]\npartner = \"GMP\"\nsha256 = \"{}\"\ningest = [\"gmp\"]\n",
            renewal_server::hash_key(KEY)
        ),
    )
    .unwrap();
    let warehouse = Warehouse::open_local(&dir.path().join("warehouse")).unwrap();
    let config = renewal_server::ServerConfig {
        addr: "127.0.0.1:0".parse().unwrap(),
        keys: Some(keys),
        ..Default::default()
    };
    let running = renewal_server::start(
        Engine::new(warehouse.clone(), Catalog::embedded().unwrap()),
        &config,
    )
    .await
    .unwrap();
    let server = format!("http://{}", running.addr);
    let good = write(
        dir.path(),
        "gmp.csv",
        &format!(
            "{HEADER}GMP-01,E05999001,2019-20,12,100,12.00,percent,lower-is-better\n\
             GMP-01,E05999002,2019-20,30,200,15.00,percent,lower-is-better\n"
        ),
    );
    let bad = write(
        dir.path(),
        "bad.csv",
        &format!(
            "{HEADER}GMP-01,E05999001,2019-20,12,100,12.00,percent,lower-is-better\n\
             GMP-01,E05999002,2019-20,30,lots,15.00,percent,lower-is-better\n"
        ),
    );
    let cli = Renewal::new(&dir.path().join("unused-warehouse"));
    let run = |dataset: &'static str, file: std::path::PathBuf| {
        let server = server.clone();
        let mut cmd = cli.command();
        tokio::task::spawn_blocking(move || {
            cmd.env("GMP_KEY", KEY)
                .args(["upload", "--server", &server, "--key-env", "GMP_KEY"])
                .args(["--dataset", dataset, "--kind", "services"])
                .arg(file)
                .output()
                .unwrap()
        })
    };
    let stdout = |o: &std::process::Output| String::from_utf8_lossy(&o.stdout).into_owned();
    let stderr = |o: &std::process::Output| String::from_utf8_lossy(&o.stderr).into_owned();

    let out = run("partner-gmp-bv", good.clone()).await.unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    // Two rows, three measures each.
    assert!(
        stdout(&out).starts_with("partner-gmp-bv: published version 1 (6 rows) from 1 file(s)\n"),
        "{}",
        stdout(&out)
    );
    let out = run("partner-gmp-bv", good.clone()).await.unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).starts_with("partner-gmp-bv: unchanged version 1 (6 rows)"),
        "{}",
        stdout(&out)
    );
    let out = run("partner-gmp-bv", bad).await.unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr(&out).trim_end(),
        "error: upload refused (InvalidArgument): bad.csv, line 3, column 5 (\"denominator\"): \
         \"lots\" is not a number"
    );
    let out = run("partner-salford-bv", good).await.unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("upload refused (PermissionDenied)")
            && stderr(&out).contains("partner-gmp-*"),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        warehouse
            .current("partner-gmp-bv")
            .await
            .unwrap()
            .map(|m| m.version),
        Some(1)
    );
    running.stop().await.unwrap();
}
