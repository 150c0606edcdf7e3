//! National gaps and change against similar areas, end to end through gRPC (issue 15, parts 3
//! and 5). On the real IoD2019 files the national selection pooled against the rest of
//! England equals tests/reference/national_gap.py, which reads the raw files with Python's csv
//! module; a national target is checked on an England-covering Best Value file against the
//! same reference; on the sample (two fictional authorities) England is not covered and the
//! answers say so instead of computing a false England; change against similar areas on the
//! sample equals a computation from the raw sample CSV written here.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use renewal_schema::Catalog;
use renewal_server::pb;
use renewal_test_support::{python_reference, shared_data, shared_file, temp_dir};
use renewal_warehouse::{PublishOptions, Warehouse};
use tonic::Code;

use crate::{
    FULL_KEY, Fixture, VALE, VALE_KEY, authed, channel, clients, code, collect, fixture, start,
};

const LOOKUP: &str =
    "geography/Lower_Layer_Super_Output_Area_(2011)_to_Ward_(2019)_Lookup_in_England_and_Wales.csv";

/// An integer cell.
fn integer(t: &crate::Table, row: usize, column: &str) -> Option<i64> {
    match t.rows[row]
        .get(column)
        .unwrap_or_else(|| panic!("no column {column}"))
    {
        Some(pb::cell::Value::Integer(n)) => Some(*n),
        None => None,
        other => panic!("{column}: not an integer: {other:?}"),
    }
}

fn close(ours: Option<f64>, theirs: f64, what: &str) {
    let ours = ours.unwrap_or_else(|| panic!("{what}: no figure"));
    assert!(
        (ours - theirs).abs() <= 1e-9 * theirs.abs().max(1.0),
        "{what}: ours {ours}, reference {theirs}"
    );
}

/// The reference's rows: part → (areas, numerator, denominator, value).
fn reference(args: &[&str]) -> BTreeMap<String, (i64, f64, f64, f64)> {
    let out = python_reference("national_gap.py", args);
    out.lines()
        .skip(1)
        .map(|l| {
            let c: Vec<&str> = l.split(',').collect();
            (
                c[0].to_owned(),
                (
                    c[1].parse().unwrap(),
                    c[2].parse().unwrap(),
                    c[3].parse().unwrap(),
                    c[4].parse().unwrap(),
                ),
            )
        })
        .collect()
}

/// A warehouse of the real ONS LSOA11 → WD19 lookup and the IoD2019 Files 2 and 6 and
/// UK_IMD_E, plus `extra` observation files, ingested with the library calls the CLI makes.
async fn real_fixture(root: &Path, extra: &[PathBuf]) -> Fixture {
    let dir = temp_dir();
    let warehouse = Warehouse::open_local(&dir.path().join("warehouse")).unwrap();
    let catalog = Catalog::embedded().unwrap();
    let np = &renewal_ingest::NoProgress;
    let mut drafts =
        renewal_ingest::read_lookups(&catalog, &[shared_file(root, LOOKUP)], np).unwrap();
    let iod: Vec<PathBuf> = [
        "imd/2019/File_2_-_IoD2019_Domains_of_Deprivation.csv.gz",
        "imd/2019/File_6_-_IoD2019_Population_Denominators.csv",
        "imd/2019/UK_IMD_E.csv",
    ]
    .iter()
    .map(|f| shared_file(root, f))
    .collect();
    drafts.push(renewal_ingest::read_iod(&catalog, "2019", &iod, np).unwrap());
    if !extra.is_empty() {
        drafts.extend(
            renewal_ingest::read_observations(
                &catalog,
                "services",
                extra,
                &renewal_ingest::ObservationOptions::default(),
                np,
            )
            .unwrap(),
        );
    }
    for d in drafts {
        warehouse
            .publish(d, PublishOptions::default())
            .await
            .unwrap();
    }
    let sample = dir.path().join("sample");
    Fixture {
        dir,
        warehouse,
        sample,
    }
}

#[tokio::test]
async fn most_deprived_decile_against_england_equals_the_reference_on_real_iod() {
    let Some(root) = shared_data() else { return };
    let f = real_fixture(&root, &[]).await;
    let running = start(&f, |_| {}).await;
    let (_, mut ana) = clients(&channel(&running).await);
    let data = root.to_string_lossy().into_owned();

    // Nationally: England's most deprived decile pooled against the rest of England.
    let national = collect(
        ana.deprived_vs_rest(authed(
            pb::SelectionRequest {
                indicator: "iod-imd-score".into(),
                authority: "england".into(),
                selection: "imd-decile<=1".into(),
                ..Default::default()
            },
            FULL_KEY,
        ))
        .await,
    )
    .await
    .unwrap();
    let r = reference(&["iod", "--data", &data, "--decile", "1"]);
    assert_eq!(national.rows.len(), 1);
    assert_eq!(national.text(0, "authority").as_deref(), Some("E92000001"));
    assert_eq!(national.text(0, "benchmark").as_deref(), Some("england"));
    assert_eq!(
        integer(&national, 0, "selected_areas"),
        Some(r["selected"].0)
    );
    assert_eq!(integer(&national, 0, "rest_areas"), Some(r["rest"].0));
    for (part, ours) in [("selected", "selected"), ("rest", "rest")] {
        close(
            national.number(0, &format!("{ours}_numerator")),
            r[part].1,
            part,
        );
        close(
            national.number(0, &format!("{ours}_denominator")),
            r[part].2,
            part,
        );
        close(
            national.number(0, &format!("{ours}_value")),
            r[part].3,
            part,
        );
    }
    close(
        national.number(0, "authority_value"),
        r["england"].3,
        "england",
    );
    close(
        national.number(0, "england_value"),
        r["england"].3,
        "england",
    );
    close(
        national.number(0, "gap"),
        r["selected"].3 - r["rest"].3,
        "gap",
    );
    assert!(
        !national.notes.iter().any(|n| n.contains("not covered")),
        "{:?}",
        national.notes
    );

    // The data cover England, so Blackpool's wards have England as their benchmark: the
    // reference's England figure, and no coverage note.
    let wards = collect(
        ana.gap_vs_england(authed(
            pb::GapRequest {
                indicator: "iod-imd-score".into(),
                authority: "E06000009".into(),
                ..Default::default()
            },
            FULL_KEY,
        ))
        .await,
    )
    .await
    .unwrap();
    assert!(!wards.rows.is_empty());
    for i in 0..wards.rows.len() {
        close(
            wards.number(i, "benchmark_value"),
            r["england"].3,
            "england",
        );
    }
    assert!(!wards.notes.iter().any(|n| n.contains("not covered")));

    // One authority's deprived LSOAs (Blackpool) against England without them.
    let blackpool = collect(
        ana.deprived_vs_england(authed(
            pb::SelectionRequest {
                indicator: "iod-imd-score".into(),
                authority: "E06000009".into(),
                selection: "imd-decile<=1".into(),
                ..Default::default()
            },
            FULL_KEY,
        ))
        .await,
    )
    .await
    .unwrap();
    let r = reference(&[
        "iod",
        "--data",
        &data,
        "--decile",
        "1",
        "--authority",
        "E06000009",
    ]);
    assert_eq!(
        integer(&blackpool, 0, "selected_areas"),
        Some(r["selected"].0)
    );
    assert_eq!(integer(&blackpool, 0, "rest_areas"), Some(r["rest"].0));
    close(
        blackpool.number(0, "selected_value"),
        r["selected"].3,
        "Blackpool selected",
    );
    close(
        blackpool.number(0, "rest_value"),
        r["rest"].3,
        "rest of England",
    );
    close(
        blackpool.number(0, "rest_denominator"),
        r["rest"].2,
        "rest of England",
    );
    close(
        blackpool.number(0, "england_value"),
        r["england"].3,
        "england",
    );

    // The same national selection as a series (IoD has one period).
    let trend = collect(
        ana.narrowing_the_gap(authed(
            pb::TrendRequest {
                indicator: "iod-imd-score".into(),
                authority: "E92000001".into(),
                selection: "imd-decile<=1".into(),
                scope: None,
            },
            FULL_KEY,
        ))
        .await,
    )
    .await
    .unwrap();
    let r = reference(&["iod", "--data", &data, "--decile", "1"]);
    assert_eq!(trend.rows.len(), 1);
    close(trend.number(0, "value"), r["selected"].3, "trend selected");
    close(
        trend.number(0, "benchmark_value"),
        r["rest"].3,
        "trend rest",
    );
    close(
        trend.number(0, "england_value"),
        r["england"].3,
        "trend england",
    );

    // National figures are for keys that may read all of England.
    let (c, _) = code(
        ana.deprived_vs_rest(authed(
            pb::SelectionRequest {
                indicator: "iod-imd-score".into(),
                authority: "england".into(),
                selection: "imd-decile<=1".into(),
                ..Default::default()
            },
            VALE_KEY,
        ))
        .await,
    );
    assert_eq!(c, Code::PermissionDenied);
}

/// A Best Value template file covering every English WD19 ward of the real lookup, three
/// financial years; counts from a fixed formula (all at least 5, so nothing is withheld).
fn england_best_value(root: &Path, dir: &Path) -> (PathBuf, Vec<String>) {
    let text = std::fs::read_to_string(shared_file(root, LOOKUP)).unwrap();
    let mut lines = text.trim_start_matches('\u{feff}').lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let ward = header.iter().position(|h| h.trim() == "WD19CD").unwrap();
    let mut wards: Vec<String> = lines
        .map(|l| l.split(',').nth(ward).unwrap().to_owned())
        .filter(|w| w.starts_with("E05"))
        .collect();
    wards.sort();
    wards.dedup();
    let mut csv =
        String::from("indicator_id,area_code,period,numerator,denominator,value,unit,polarity\n");
    for (i, w) in wards.iter().enumerate() {
        for (y, period) in ["2016-17", "2017-18", "2018-19"].iter().enumerate() {
            // The first ten wards (the selection) start high and fall.
            let n = 400 + (i * 13) % 300;
            let x = if i < 10 {
                120 - 20 * y
            } else {
                20 + (i * 7 + y) % 50
            };
            csv.push_str(&format!(
                "BV-HOMES-01,{w},{period},{x},{n},,percent,lower-is-better\n"
            ));
        }
    }
    let path = dir.join("best_value_indicators_england.csv");
    std::fs::write(&path, csv).unwrap();
    (path, wards)
}

#[tokio::test]
async fn national_target_against_england_equals_the_reference() {
    let Some(root) = shared_data() else { return };
    let files = temp_dir();
    let (bv, wards) = england_best_value(&root, files.path());
    assert!(wards.len() > 7000, "{} English wards", wards.len());
    let f = real_fixture(&root, std::slice::from_ref(&bv)).await;
    let running = start(&f, |_| {}).await;
    let (_, mut ana) = clients(&channel(&running).await);
    let selected = wards[..10].join(",");
    ana.register_target(authed(
        pb::RegisterTargetRequest {
            id: "england-halve".into(),
            indicator: "bv-homes-01".into(),
            selection: format!("areas:{selected}"),
            authority: "england".into(),
            baseline_period: "2016-17".into(),
            target_period: "2020-21".into(),
            fraction_remaining: 0.5,
            ward_vintage: String::new(),
            benchmark: String::new(),
        },
        FULL_KEY,
    ))
    .await
    .unwrap();
    let status = collect(
        ana.target_status(authed(
            pb::TargetStatusRequest {
                id: "england-halve".into(),
                scope: None,
            },
            FULL_KEY,
        ))
        .await,
    )
    .await
    .unwrap();
    let bv = bv.to_string_lossy().into_owned();
    let gap_in = |period: &str| {
        let r = reference(&[
            "counts", "--file", &bv, "--areas", &selected, "--period", period,
        ]);
        assert_eq!(r["england"].0 as usize, wards.len());
        r["selected"].3 - r["england"].3
    };
    let baseline = gap_in("2016-17");
    let latest = gap_in("2018-19");
    assert_eq!(status.text(0, "authority").as_deref(), Some("E92000001"));
    close(status.number(0, "baseline_gap"), baseline, "baseline gap");
    close(status.number(0, "target_gap"), baseline / 2.0, "target gap");
    close(status.number(0, "latest_gap"), latest, "latest gap");
    // Two of four years along the straight line from the baseline gap to half of it.
    close(
        status.number(0, "expected_gap"),
        baseline * 0.75,
        "expected gap",
    );
    let on_track = latest.abs() <= (baseline * 0.75).abs();
    assert_eq!(
        status.text(0, "status").as_deref(),
        Some(if on_track { "on-track" } else { "off-track" })
    );
    assert_eq!(status.text(0, "benchmark").as_deref(), Some("england"));

    // One authority's wards against England as a whole (benchmark "england"): the same gaps
    // as the reference's, and the authority is kept.
    let authority_of = ward_authorities(&root);
    let lad = authority_of[&wards[0]].clone();
    let own: Vec<&String> = wards[..10]
        .iter()
        .filter(|w| authority_of[*w] == lad)
        .collect();
    let own = own.iter().map(|w| w.as_str()).collect::<Vec<_>>().join(",");
    ana.register_target(authed(
        pb::RegisterTargetRequest {
            id: "vs-england".into(),
            indicator: "bv-homes-01".into(),
            selection: format!("areas:{own}"),
            authority: lad.clone(),
            baseline_period: "2016-17".into(),
            target_period: "2020-21".into(),
            fraction_remaining: 0.5,
            ward_vintage: String::new(),
            benchmark: "england".into(),
        },
        FULL_KEY,
    ))
    .await
    .unwrap();
    let status = collect(
        ana.target_status(authed(
            pb::TargetStatusRequest {
                id: "vs-england".into(),
                scope: None,
            },
            FULL_KEY,
        ))
        .await,
    )
    .await
    .unwrap();
    let gap_in = |period: &str| {
        let r = reference(&["counts", "--file", &bv, "--areas", &own, "--period", period]);
        r["selected"].3 - r["england"].3
    };
    assert_eq!(status.text(0, "authority").as_deref(), Some(lad.as_str()));
    assert_eq!(status.text(0, "benchmark").as_deref(), Some("england"));
    close(
        status.number(0, "baseline_gap"),
        gap_in("2016-17"),
        "baseline gap",
    );
    close(
        status.number(0, "latest_gap"),
        gap_in("2018-19"),
        "latest gap",
    );
    // Registered with an unknown benchmark: refused, naming the field.
    let refused = ana
        .register_target(authed(
            pb::RegisterTargetRequest {
                id: "vs-nowhere".into(),
                indicator: "bv-homes-01".into(),
                selection: format!("areas:{own}"),
                authority: lad,
                baseline_period: "2016-17".into(),
                target_period: "2020-21".into(),
                fraction_remaining: 0.5,
                ward_vintage: String::new(),
                benchmark: "region".into(),
            },
            FULL_KEY,
        ))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), tonic::Code::InvalidArgument);
    assert!(
        refused.message().starts_with("benchmark:"),
        "{}",
        refused.message()
    );
}

/// The district of every 2019 ward, read from the raw LSOA11 → WD19 → LAD19 lookup: the first
/// district code after the ward's column (names may hold commas; codes never do).
fn ward_authorities(root: &Path) -> BTreeMap<String, String> {
    let text = std::fs::read_to_string(shared_file(root, LOOKUP)).unwrap();
    let is_lad = |f: &str| {
        f.len() == 9
            && ["E06", "E07", "E08", "E09"]
                .iter()
                .any(|p| f.starts_with(p))
    };
    let is_ward = |f: &str| f.len() == 9 && f.starts_with("E05");
    text.lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split(',').map(str::trim).collect();
            let at = f.iter().position(|x| is_ward(x))?;
            let lad = f[at..].iter().find(|x| is_lad(x))?;
            Some((f[at].to_owned(), (*lad).to_owned()))
        })
        .collect()
}

#[tokio::test]
async fn national_questions_on_the_sample_say_england_is_not_covered() {
    let f = fixture().await;
    let running = start(&f, |_| {}).await;
    let (_, mut ana) = clients(&channel(&running).await);
    let national = collect(
        ana.deprived_vs_rest(authed(
            pb::SelectionRequest {
                indicator: "crime-all".into(),
                authority: "england".into(),
                selection: "imd-decile<=2".into(),
                ..Default::default()
            },
            FULL_KEY,
        ))
        .await,
    )
    .await
    .unwrap();
    let note = national
        .notes
        .iter()
        .find(|n| n.starts_with("England is not covered by"))
        .unwrap_or_else(|| panic!("no coverage note in {:?}", national.notes));
    assert!(note.contains(" of 32844 English LSOAs have data"), "{note}");
    for column in [
        "selected_value",
        "rest_value",
        "authority_value",
        "england_value",
        "gap",
    ] {
        assert_eq!(
            national.number(0, column),
            None,
            "{column}: a false England"
        );
    }
    assert!(integer(&national, 0, "selected_areas").unwrap() > 0);

    // An authority's own selection is still given; England without it is not.
    let vale = collect(
        ana.deprived_vs_england(authed(
            pb::SelectionRequest {
                indicator: "crime-all".into(),
                authority: VALE.into(),
                selection: "imd-decile<=2".into(),
                ..Default::default()
            },
            FULL_KEY,
        ))
        .await,
    )
    .await
    .unwrap();
    assert!(vale.number(0, "selected_value").is_some());
    assert_eq!(vale.number(0, "rest_value"), None);
    assert_eq!(vale.number(0, "england_value"), None);
    assert_eq!(vale.number(0, "gap"), None);
    assert!(vale.number(0, "authority_value").is_some());
    assert!(
        vale.notes
            .iter()
            .any(|n| n.starts_with("England is not covered by"))
    );

    // Today's question against the authority is unchanged.
    let rest = collect(
        ana.deprived_vs_rest(authed(
            pb::SelectionRequest {
                indicator: "crime-all".into(),
                authority: VALE.into(),
                selection: "imd-decile<=2".into(),
                ..Default::default()
            },
            FULL_KEY,
        ))
        .await,
    )
    .await
    .unwrap();
    assert!(rest.number(0, "gap").is_some());
    assert_eq!(rest.text(0, "benchmark").as_deref(), Some("authority"));
    // Its England column is not a false England built from the sample's two authorities.
    assert_eq!(rest.number(0, "england_value"), None);
    assert!(!rest.notes.iter().any(|n| n.contains("not covered")));

    let trend = collect(
        ana.narrowing_the_gap_vs_england(authed(
            pb::TrendRequest {
                indicator: "crime-all".into(),
                authority: VALE.into(),
                selection: "imd-decile<=2".into(),
                scope: None,
            },
            FULL_KEY,
        ))
        .await,
    )
    .await
    .unwrap();
    assert!(trend.rows.len() >= 2);
    for i in 0..trend.rows.len() {
        assert_eq!(trend.number(i, "benchmark_value"), None);
        assert_eq!(trend.number(i, "england_value"), None);
    }
    assert!(
        trend
            .notes
            .iter()
            .any(|n| n.starts_with("England is not covered by"))
    );

    // The gap against England and the area profile give no England either.
    let gap = collect(
        ana.gap_vs_england(authed(
            pb::GapRequest {
                indicator: "crime-all".into(),
                authority: VALE.into(),
                ..Default::default()
            },
            FULL_KEY,
        ))
        .await,
    )
    .await
    .unwrap();
    assert!(gap.rows.len() >= 2);
    for i in 0..gap.rows.len() {
        assert!(gap.number(i, "value").is_some() || gap.flag(i, "suppressed") == Some(true));
        assert_eq!(gap.text(i, "benchmark_code").as_deref(), Some("E92000001"));
        assert_eq!(gap.number(i, "benchmark_value"), None, "a false England");
        assert_eq!(gap.number(i, "gap"), None);
    }
    assert!(
        gap.notes
            .iter()
            .any(|n| n.starts_with("England is not covered by")),
        "{:?}",
        gap.notes
    );
    let profile = collect(
        ana.area_profile(authed(
            pb::ProfileRequest {
                area: "E05999001".into(),
                ..Default::default()
            },
            FULL_KEY,
        ))
        .await,
    )
    .await
    .unwrap();
    assert!(!profile.rows.is_empty());
    for i in 0..profile.rows.len() {
        assert_eq!(profile.number(i, "england_value"), None, "a false England");
        assert_eq!(profile.number(i, "gap_england"), None);
    }
    assert!(
        profile
            .notes
            .iter()
            .any(|n| n.starts_with("no England figures for")),
        "{:?}",
        profile.notes
    );

    // Ward data: every ward of the sample's lookup has data, but the lookup is not England.
    let wards = collect(
        ana.narrowing_the_gap(authed(
            pb::TrendRequest {
                indicator: "bv-homes-01".into(),
                authority: "england".into(),
                selection: "areas:E05999001".into(),
                scope: None,
            },
            FULL_KEY,
        ))
        .await,
    )
    .await
    .unwrap();
    for i in 0..wards.rows.len() {
        assert_eq!(
            wards.number(i, "value"),
            None,
            "a national selection over part of England"
        );
        assert_eq!(wards.number(i, "benchmark_value"), None);
        assert_eq!(wards.number(i, "england_value"), None);
    }
    let note = wards
        .notes
        .iter()
        .find(|n| n.starts_with("England is not covered by"))
        .unwrap_or_else(|| panic!("no coverage note in {:?}", wards.notes));
    assert!(note.contains("English LSOAs)"), "{note}");
}

/// (numerator, denominator) per (ward, period) of BV-HOMES-01, read from the sample's raw CSV.
fn sample_best_value(sample: &Path) -> BTreeMap<(String, String), (f64, f64)> {
    let text = std::fs::read_to_string(sample.join("best_value_indicators_sample.csv")).unwrap();
    text.lines()
        .skip(1)
        .filter(|l| l.starts_with("BV-HOMES-01,"))
        .map(|l| {
            let c: Vec<&str> = l.split(',').collect();
            (
                (c[1].to_owned(), c[2].to_owned()),
                (c[3].parse().unwrap(), c[4].parse().unwrap()),
            )
        })
        .collect()
}

#[tokio::test]
async fn change_against_similar_wards_equals_a_computation_from_the_raw_sample() {
    let f = fixture().await;
    let running = start(&f, |c| c.http_addr = Some("127.0.0.1:0".parse().unwrap())).await;
    let (_, mut ana) = clients(&channel(&running).await);
    let (area, from, to, k) = ("E05999001", "2014-15", "2019-20", 3usize);
    let table = collect(
        ana.change_vs_similar(authed(
            pb::ChangeRequest {
                indicator: "bv-homes-01".into(),
                area: area.into(),
                level: pb::Level::Ward as i32,
                from_period: from.into(),
                to_period: to.into(),
                similar_on: vec!["bv-homes-01".into()],
                k: k as u32,
                scope: None,
            },
            FULL_KEY,
        ))
        .await,
    )
    .await
    .unwrap();
    let raw = sample_best_value(&f.sample);
    let p = |w: &str, period: &str| raw[&(w.to_owned(), period.to_owned())];
    let value = |(x, n): (f64, f64)| x / n * 100.0;
    let var = |(x, n): (f64, f64)| {
        let q = x / n;
        q * (1.0 - q) / n * 1e4
    };
    // Similar on one indicator at the baseline: the nearest by |value − area's value| (a
    // z-score of one indicator is a rescaling).
    let base = value(p(area, from));
    let mut others: Vec<(f64, String)> = raw
        .keys()
        .filter(|(w, period)| period == from && w != area)
        .map(|(w, _)| ((value(p(w, from)) - base).abs(), w.clone()))
        .collect();
    others.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    let similar: Vec<String> = others.into_iter().take(k).map(|o| o.1).collect();

    let kinds: Vec<String> = (0..table.rows.len())
        .map(|i| table.text(i, "row_kind").unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            "area",
            "similar",
            "similar",
            "similar",
            "pooled",
            "difference"
        ]
    );
    let listed: Vec<String> = (1..=k)
        .map(|i| table.text(i, "area_code").unwrap())
        .collect();
    assert_eq!(listed, similar);

    let z = 1.959_963_984_540_054;
    let a_change = value(p(area, to)) - value(p(area, from));
    let a_var = var(p(area, from)) + var(p(area, to));
    close(table.number(0, "change"), a_change, "area change");
    close(
        table.number(0, "change_lower_95"),
        a_change - z * a_var.sqrt(),
        "area lower",
    );
    close(
        table.number(0, "change_upper_95"),
        a_change + z * a_var.sqrt(),
        "area upper",
    );
    for (i, w) in similar.iter().enumerate() {
        close(
            table.number(i + 1, "change"),
            value(p(w, to)) - value(p(w, from)),
            w,
        );
    }
    let pool = |period: &str| {
        similar.iter().fold((0.0, 0.0), |(x, n), w| {
            let (a, b) = p(w, period);
            (x + a, n + b)
        })
    };
    let (p1, p2) = (pool(from), pool(to));
    let p_change = value(p2) - value(p1);
    close(
        table.number(k + 1, "from_numerator"),
        p1.0,
        "pooled numerator",
    );
    close(
        table.number(k + 1, "to_denominator"),
        p2.1,
        "pooled denominator",
    );
    close(table.number(k + 1, "change"), p_change, "pooled change");
    let d = a_change - p_change;
    let d_half = z * (a_var + var(p1) + var(p2)).sqrt();
    close(table.number(k + 2, "change"), d, "difference");
    close(
        table.number(k + 2, "change_lower_95"),
        d - d_half,
        "difference lower",
    );
    close(
        table.number(k + 2, "change_upper_95"),
        d + d_half,
        "difference upper",
    );
    // Lower is better: a significant fall against similar wards is better.
    let expected = if d - d_half > 0.0 {
        "worse"
    } else if d + d_half < 0.0 {
        "better"
    } else {
        "similar"
    };
    assert_eq!(
        table.text(k + 2, "comparison_95").as_deref(),
        Some(expected)
    );
    assert!(
        table.basis.method.contains("independent samples"),
        "{}",
        table.basis.method
    );

    // The HTTP feed gives the same answer, in JSON and CSV.
    let path = format!(
        "/api/v1/change?indicator=bv-homes-01&area={area}&from={from}&to={to}&similar_on=bv-homes-01&k={k}"
    );
    let auth = crate::http::bearer(FULL_KEY);
    let json = crate::http::get(&running, &path, &[("authorization", &auth)]).await;
    assert_eq!(json.status, 200, "{}", json.body);
    crate::http::assert_same_rows("change", &json.json(), &table);
    let csv = crate::http::get(
        &running,
        &format!("{path}&format=csv"),
        &[("authorization", &auth)],
    )
    .await;
    crate::http::assert_csv("change", &csv, &table);

    // Like MostSimilar, it compares across England: a key for some authorities is refused.
    let (c, _) = code(
        ana.change_vs_similar(authed(
            pb::ChangeRequest {
                indicator: "bv-homes-01".into(),
                area: area.into(),
                from_period: from.into(),
                to_period: to.into(),
                similar_on: vec!["bv-homes-01".into()],
                ..Default::default()
            },
            VALE_KEY,
        ))
        .await,
    );
    assert_eq!(c, Code::PermissionDenied);
}
