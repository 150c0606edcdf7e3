//! Census, benefits and service-performance files: the shared real files ingest without edits,
//! with figures checked by hand against the source; bad input names file, line and column.

use std::collections::HashMap;
use std::path::PathBuf;

use renewal_ingest::{IngestError, NoProgress, ObservationOptions, read_observations};
use renewal_test_support::{shared_data, shared_file, temp_dir, write_file};

use crate::{catalog, table};

type Key = (String, String, String, Option<String>, String);

/// (area, period, indicator, category, measure) → value, and the draft's dataset id.
fn read(family: &str, files: &[PathBuf], period: Option<&str>) -> Vec<(String, HashMap<Key, f64>)> {
    let options = ObservationOptions {
        dataset: None,
        period: period.map(String::from),
        bridge: None,
    };
    read_observations(&catalog(), family, files, &options, &NoProgress)
        .unwrap()
        .into_iter()
        .map(|draft| {
            let df = table(&draft, "observations");
            let s = |n: &str| df.column(n).unwrap().str().unwrap().clone();
            let (a, p, i, c, m) = (
                s("area_code"),
                s("period"),
                s("indicator"),
                s("category"),
                s("measure"),
            );
            let v = df.column("value").unwrap().f64().unwrap().clone();
            let map = (0..df.height())
                .map(|r| {
                    let key = (
                        a.get(r).unwrap().to_owned(),
                        p.get(r).unwrap().to_owned(),
                        i.get(r).unwrap().to_owned(),
                        c.get(r).map(String::from),
                        m.get(r).unwrap().to_owned(),
                    );
                    (key, v.get(r).unwrap())
                })
                .collect();
            (draft.dataset, map)
        })
        .collect()
}

fn key(a: &str, p: &str, i: &str, c: Option<&str>, m: &str) -> Key {
    (a.into(), p.into(), i.into(), c.map(String::from), m.into())
}

#[test]
fn census_2021_trafford_tables() {
    let Some(root) = shared_data() else { return };
    let f = shared_file(&root, "census/2021_general_health_lsoa_trafford.csv");
    let got = read("census", &[f], None);
    let (dataset, values) = &got[0];
    assert_eq!(dataset, "census-2021-general-health-lsoa-trafford");
    // 139 LSOAs × 5 health categories.
    assert_eq!(values.len(), 695);
    let indicator = "Estimates that classify usual residents by their own assessment of the general state of their health from very good to very bad. This assessment is not based on a person's health over any specified period of time.";
    assert_eq!(
        values[&key(
            "E01006109",
            "2021-03-21",
            indicator,
            Some("Very good health"),
            "Count"
        )],
        499.0
    );
    assert_eq!(
        values[&key(
            "E01006109",
            "2021-03-21",
            indicator,
            Some("Good health"),
            "Count"
        )],
        338.0
    );
    let all = [
        "census/2021_economic_activity_status_lsoa_trafford.csv",
        "census/2021_highest_level_qualification_lsoa_trafford.csv",
        "census/2021_household_tenure_lsoa_trafford.csv",
    ]
    .map(|f| shared_file(&root, f));
    let sizes: Vec<usize> = read("census", &all, None)
        .iter()
        .map(|(_, v)| v.len())
        .collect();
    assert_eq!(sizes, [2641, 973, 1112]);
}

#[test]
fn benefits_in_three_shapes() {
    let Some(root) = shared_data() else { return };
    let snapshot = shared_file(&root, "benefits/gm_claimant_count_lsoa.csv");
    // The snapshot does not say its month: without --period that is an error, not a guess.
    let err = read_observations(
        &catalog(),
        "benefits",
        std::slice::from_ref(&snapshot),
        &ObservationOptions::default(),
        &NoProgress,
    )
    .unwrap_err();
    assert!(
        err.to_string()
            .contains("does not say which month it covers"),
        "{err}"
    );
    let got = read("benefits", &[snapshot], Some("2021-01"));
    let values = &got[0].1;
    assert_eq!(values.len(), 1673);
    let claimants = "Residents claiming JSA or Universal Credit";
    assert_eq!(
        values[&key("E01004768", "2021-01", claimants, None, "count")],
        5.0
    );
    assert_eq!(
        values[&key("E01004803", "2021-01", claimants, None, "count")],
        10.0
    );

    let esa = shared_file(&root, "benefits/gm_esa_claimants_lsoa_2017-05.csv");
    let rate = shared_file(&root, "benefits/gm_claimant_rate_la.csv");
    let got = read("benefits", &[esa, rate], None);
    let by: HashMap<&str, &HashMap<Key, f64>> = got.iter().map(|(d, v)| (d.as_str(), v)).collect();
    let esa = by["benefits-gm-esa-claimants-lsoa-2017-05"];
    assert_eq!(esa.len(), 1646);
    assert_eq!(
        esa[&key("E01004768", "2017-05", "total claimants", None, "count")],
        30.0
    );
    let rate = by["benefits-gm-claimant-rate-la"];
    assert_eq!(rate.len(), 10396);
    let share = "Claimants as a proportion of residents aged 16-64";
    assert_eq!(rate[&key("E47000001", "2014-01", share, None, "rate")], 3.8);
    assert_eq!(rate[&key("E08000001", "2014-01", share, None, "rate")], 4.3);
}

#[test]
fn oflog_adult_social_care() {
    let Some(root) = shared_data() else { return };
    let f = shared_file(&root, "service-performance/oflog_ASC_data.csv");
    let options = ObservationOptions::default();
    let drafts = read_observations(
        &catalog(),
        "services",
        std::slice::from_ref(&f),
        &options,
        &NoProgress,
    )
    .unwrap();
    assert_eq!(drafts[0].sources[0].rows, 6376);
    // Two values per row (the value and the national median), less 298 empty cells.
    assert!(
        drafts[0]
            .notes
            .iter()
            .any(|n| n.contains("298 empty values")),
        "{:?}",
        drafts[0].notes
    );
    let values = &read("services", &[f], None)[0].1;
    assert_eq!(values.len(), 6376 * 2 - 298);
    let measure = "Outcome, ASC Carer Quality of Life";
    assert_eq!(
        values[&key("E06000005", "2016-17", measure, None, "value")],
        7.6
    );
    assert_eq!(
        values[&key("E06000005", "2016-17", measure, None, "national_median")],
        7.6
    );
    // County councils (E10) are upper-tier authorities and are kept.
    assert_eq!(
        values[&key("E10000007", "2016-17", measure, None, "value")],
        7.6
    );
}

const CENSUS_HEADER: &str =
    "area_code,area_name,geography,period,indicator,general_health,measure,unit,value";

fn census_rows(extra: &[&str]) -> String {
    let mut s = format!("{CENSUS_HEADER}\n");
    for (i, cat) in ["Very good health", "Good health", "Bad health"]
        .iter()
        .enumerate()
    {
        s.push_str(&format!(
            "E01006109,Trafford 001A,Lower-layer Super Output Area,2021-03-21,Health,{cat},Count,Persons,{}\n",
            100 + i
        ));
    }
    for line in extra {
        s.push_str(line);
        s.push('\n');
    }
    s
}

fn error(family: &str, name: &str, contents: impl AsRef<[u8]>) -> String {
    let dir = temp_dir();
    let f = write_file(dir.path(), name, contents);
    let err: IngestError = read_observations(
        &catalog(),
        family,
        &[f],
        &ObservationOptions::default(),
        &NoProgress,
    )
    .unwrap_err();
    err.to_string()
}

#[test]
fn bad_observation_input() {
    assert_eq!(
        error(
            "census",
            "wrongtype.csv",
            census_rows(&[
                "E01006110,Trafford 001B,LSOA,2021-03-21,Health,Good health,Count,Persons,many"
            ])
        ),
        "wrongtype.csv, line 5, column 9 (\"value\"): \"many\" is not a number"
    );
    assert_eq!(
        error(
            "census",
            "unknown.csv",
            census_rows(&[
                "E13000001,Somewhere,LSOA,2021-03-21,Health,Good health,Count,Persons,4"
            ])
        ),
        "unknown.csv, line 5, column 1 (\"area_code\"): \"E13000001\" is not the code of a oa or lsoa or msoa or ward or lad (format census-nomis-long)"
    );
    assert_eq!(
        error(
            "census",
            "dup.csv",
            census_rows(&[
                "E01006109,Trafford 001A,LSOA,2021-03-21,Health,Good health,Count,Persons,7"
            ])
        ),
        "dup.csv, line 5, column 9 (\"value\"): duplicate Count for E01006109, 2021-03-21, \"Health\", \"Good health\": already given at dup.csv, line 3, column 9 (\"value\")"
    );
    assert_eq!(
        error(
            "census",
            "badday.csv",
            census_rows(&[
                "E01006110,Trafford 001B,LSOA,2021-02-30,Health,Good health,Count,Persons,4"
            ])
        ),
        "badday.csv, line 5, column 4 (\"period\"): \"2021-02-30\" is not a census day (YYYY-MM-DD, or a census year) period"
    );
    // A missing column: the header no longer matches the format, and the message shows it.
    let missing = error(
        "census",
        "nounit.csv",
        census_rows(&[])
            .replace(",unit,", ",")
            .replace(",Persons,", ","),
    );
    assert!(
        missing.starts_with("nounit.csv, line 1: its header matches no census format"),
        "{missing}"
    );
    assert_eq!(
        error("census", "empty.csv", ""),
        "empty.csv: the file is empty"
    );
    let gz = {
        use std::io::Write;
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        enc.write_all(census_rows(&[]).repeat(20).as_bytes())
            .unwrap();
        let mut bytes = enc.finish().unwrap();
        bytes.truncate(bytes.len() / 2);
        bytes
    };
    assert!(
        error("census", "cut.csv.gz", gz)
            .starts_with("cut.csv.gz: gzip data is truncated or corrupt")
    );
}

#[test]
fn best_value_template() {
    let dir = temp_dir();
    let f = write_file(
        dir.path(),
        "best_value.csv",
        "indicator_id,area_code,period,numerator,denominator,value,unit,polarity\n\
         BV-HOMES-01,E05000820,2016-17,12,480,2.5,percent,lower-is-better\n\
         BV-HOMES-01,E05000821,2016-17,30,500,6.0,percent,lower-is-better\n\
         BV-LIB-02,E08000009,2016-17,,,41200,visits,higher-is-better\n",
    );
    let got = read("services", &[f], None);
    let (dataset, values) = &got[0];
    assert_eq!(dataset, "services-best-value");
    assert_eq!(
        values.len(),
        7,
        "empty numerator and denominator are missing, not zero"
    );
    assert_eq!(
        values[&key("E05000820", "2016-17", "BV-HOMES-01", None, "numerator")],
        12.0
    );
    assert_eq!(
        values[&key("E05000821", "2016-17", "BV-HOMES-01", None, "denominator")],
        500.0
    );
    assert_eq!(
        values[&key("E08000009", "2016-17", "BV-LIB-02", None, "value")],
        41200.0
    );
    let bad = write_file(
        dir.path(),
        "bad_polarity.csv",
        "indicator_id,area_code,period,numerator,denominator,value,unit,polarity\n\
         BV-1,E05000820,2016-17,1,2,50,percent,up\n",
    );
    let err = read_observations(
        &catalog(),
        "services",
        &[bad],
        &ObservationOptions::default(),
        &NoProgress,
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "bad_polarity.csv, line 2, column 8 (\"polarity\"): polarity \"up\" is not one of higher-is-better, lower-is-better, no-judgement"
    );
}

fn services(dir: &std::path::Path, name: &str, text: &str) -> renewal_warehouse::Draft {
    let f = write_file(dir, name, text);
    let mut drafts = read_observations(
        &catalog(),
        "services",
        &[f],
        &ObservationOptions::default(),
        &NoProgress,
    )
    .unwrap();
    assert_eq!(drafts.len(), 1);
    drafts.remove(0)
}

fn services_error(dir: &std::path::Path, name: &str, text: &str) -> String {
    let f = write_file(dir, name, text);
    read_observations(
        &catalog(),
        "services",
        &[f],
        &ObservationOptions::default(),
        &NoProgress,
    )
    .unwrap_err()
    .to_string()
}

/// The template's optional `ward_vintage` column: without it a file loads as before and its
/// wards carry no vintage; with it the dataset records the vintage for the query side.
#[test]
fn best_value_template_ward_vintage() {
    let dir = temp_dir();
    let header = "indicator_id,area_code,period,numerator,denominator,value,unit,polarity";
    let without = services(
        dir.path(),
        "bv_without.csv",
        &format!("{header}\nBV-SAT-03,E05000820,2022-23,,,71.5,percent,higher-is-better\n"),
    );
    assert_eq!(without.vintage.get("ward"), None);
    assert!(
        without
            .notes
            .iter()
            .any(|n| n.contains("carry no ward vintage"))
    );
    let with = services(
        dir.path(),
        "bv_with.csv",
        &format!(
            "{header},ward_vintage\n\
             BV-SAT-03,E05000820,2022-23,,,71.5,percent,higher-is-better,WD19\n\
             BV-SAT-03,E05000821,2022-23,,,64.0,percent,higher-is-better,wd19\n\
             BV-SAT-03,E08000009,2022-23,,,68.0,percent,higher-is-better,\n"
        ),
    );
    assert_eq!(with.vintage.get("ward").map(String::as_str), Some("WD19"));
    assert!(
        with.notes
            .iter()
            .any(|n| n == "ward codes are WD19 wards, as the file's ward_vintage column says")
    );
    // The column does not change the rows: the same three values either way.
    let df = table(&with, "observations");
    assert_eq!(df.height(), 3);
    assert_eq!(
        df.column("value").unwrap().f64().unwrap().get(0),
        Some(71.5)
    );
}

/// A bad or mixed ward vintage is an error at its cell; a ward row must state one.
#[test]
fn best_value_template_bad_ward_vintage_is_located() {
    let dir = temp_dir();
    let header =
        "indicator_id,area_code,period,numerator,denominator,value,unit,polarity,ward_vintage";
    assert_eq!(
        services_error(
            dir.path(),
            "bv_bad.csv",
            &format!(
                "{header}\n\
                 BV-SAT-03,E05000820,2022-23,,,71.5,percent,higher-is-better,WD19\n\
                 BV-SAT-03,E05000821,2022-23,,,64.0,percent,higher-is-better,WARD2019\n"
            ),
        ),
        "bv_bad.csv, line 3, column 9 (\"ward_vintage\"): ward_vintage \"WARD2019\" is not a \
         ward vintage such as WD19 or WD24"
    );
    // An LSOA vintage is a vintage, but not of wards.
    assert!(
        services_error(
            dir.path(),
            "bv_lsoa.csv",
            &format!(
                "{header}\nBV-SAT-03,E05000820,2022-23,,,71.5,percent,higher-is-better,LSOA21\n"
            ),
        )
        .starts_with("bv_lsoa.csv, line 2, column 9 (\"ward_vintage\"): ward_vintage \"LSOA21\"")
    );
    assert!(
        services_error(
            dir.path(),
            "bv_empty.csv",
            &format!("{header}\nBV-SAT-03,E05000820,2022-23,,,71.5,percent,higher-is-better,\n"),
        )
        .starts_with("bv_empty.csv, line 2, column 9 (\"ward_vintage\"): ward_vintage \"\"")
    );
    assert_eq!(
        services_error(
            dir.path(),
            "bv_mixed.csv",
            &format!(
                "{header}\n\
                 BV-SAT-03,E05000820,2022-23,,,71.5,percent,higher-is-better,WD19\n\
                 BV-SAT-03,E05000821,2022-23,,,64.0,percent,higher-is-better,WD24\n"
            ),
        ),
        "bv_mixed.csv, line 3, column 9 (\"ward_vintage\"): ward_vintage WD24 differs from \
         WD19 given at bv_mixed.csv, line 2, column 9 (\"ward_vintage\"): one dataset's wards \
         must be of one vintage (ingest them as separate files)"
    );
}

/// The Nomis bulk layout, built by pivoting the shared long Trafford extract: every
/// (LSOA, category) count must come out the same from both layouts.
#[test]
fn census_bulk_layout_agrees_with_long() {
    let Some(root) = shared_data() else { return };
    let long_path = shared_file(
        &root,
        "census/2021_economic_activity_status_lsoa_trafford.csv",
    );
    let long = &read("census", std::slice::from_ref(&long_path), None)[0].1;

    // Pivot with a CSV reader independent of the ingester: the long file's last four columns
    // are category, measure, unit, value, and no field before them holds a quoted newline.
    let text = std::fs::read_to_string(&long_path).unwrap();
    let mut categories: Vec<String> = Vec::new();
    let mut cells: HashMap<(String, String), String> = HashMap::new();
    let mut areas: Vec<(String, String)> = Vec::new();
    for line in text.lines().skip(1).filter(|l| !l.is_empty()) {
        let fields = split_csv(line);
        let n = fields.len();
        let (code, name, category, value) = (
            fields[0].clone(),
            fields[1].clone(),
            fields[n - 4].clone(),
            fields[n - 1].clone(),
        );
        if !categories.contains(&category) {
            categories.push(category.clone());
        }
        if !areas.iter().any(|(c, _)| *c == code) {
            areas.push((code.clone(), name));
        }
        cells.insert((code, category), value);
    }
    let mut wide = String::from("date,geography,geography code");
    for c in &categories {
        wide.push_str(&format!(",\"Economic activity status: {c}\""));
    }
    wide.push_str("\r\n");
    for (code, name) in &areas {
        wide.push_str(&format!("2021,{name},{code}"));
        for c in &categories {
            // Nomis writes thousands separators in bulk files' larger counts.
            let v: u64 = cells[&(code.clone(), c.clone())].parse().unwrap();
            let v = if v >= 1000 {
                format!("\"{},{:03}\"", v / 1000, v % 1000)
            } else {
                v.to_string()
            };
            wide.push(',');
            wide.push_str(&v);
        }
        wide.push_str("\r\n");
    }
    let dir = temp_dir();
    let wide_path = write_file(dir.path(), "census2021-ts066-lsoa.csv", wide);
    let bulk = &read("census", &[wide_path], None)[0].1;

    assert_eq!(bulk.len(), long.len());
    assert_eq!(bulk.len(), areas.len() * categories.len());
    for ((area, period, _, category, measure), value) in long {
        let k = key(
            area,
            period,
            "Economic activity status",
            category.as_deref(),
            measure,
        );
        assert_eq!(bulk.get(&k), Some(value), "{k:?}");
    }
}

/// Splits one CSV record with double-quoted fields.
fn split_csv(line: &str) -> Vec<String> {
    let mut fields = vec![String::new()];
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' if quoted && chars.peek() == Some(&'"') => {
                chars.next();
                fields.last_mut().unwrap().push('"');
            }
            '"' => quoted = !quoted,
            ',' if !quoted => fields.push(String::new()),
            c => fields.last_mut().unwrap().push(c),
        }
    }
    fields
}

#[test]
fn bad_census_bulk_input() {
    let header = "date,geography,geography code,General health: Very good health,General health: Bad health\n";
    let err = error(
        "census",
        "bulk.csv",
        format!("{header}2021,Trafford 001A,E01006109,499,x12\n"),
    );
    assert_eq!(
        err,
        "bulk.csv, line 2, column 5 (\"General health: Bad health\"): \"x12\" is not a number"
    );
    let err = error(
        "census",
        "bulk.csv",
        format!("{header}2020,Trafford 001A,E01006109,499,12\n"),
    );
    assert!(
        err.starts_with("bulk.csv, line 2, column 1 (\"date\"):"),
        "{err}"
    );
    assert!(err.contains("census year"), "{err}");
    // A value column without a topic is not this layout: no format claims the file.
    let err = error(
        "census",
        "bulk.csv",
        "date,geography,geography code,Very good health\n2021,T,E01006109,4\n",
    );
    assert!(err.contains("matches no census format"), "{err}");
}
