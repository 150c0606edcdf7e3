//! Population: the shared Trafford mid-year files and the Census 2021 age file, ONS release
//! fixtures (CSV and a two-sheet XLSX) with hand-computed band sums, and bad input that must
//! name file, line and column.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use renewal_geo::Vintage;
use renewal_ingest::{IngestError, NoProgress, PopulationOptions, read_population};
use renewal_test_support::{shared_data, shared_file, temp_dir, write_file};
use renewal_warehouse::Draft;

use crate::{catalog, table};

type Key = (String, i32, String, String);

/// (LSOA, year, sex, band) → value, checking that no key appears twice.
fn figures(draft: &Draft) -> BTreeMap<Key, f64> {
    let df = table(draft, "population");
    let text = |n: &str| df.column(n).unwrap().str().unwrap().clone();
    let (lsoa, sex, band) = (text("lsoa_code"), text("sex"), text("age_band"));
    let year = df.column("year").unwrap().i32().unwrap().clone();
    let value = df.column("value").unwrap().f64().unwrap().clone();
    let mut out = BTreeMap::new();
    for i in 0..df.height() {
        let key = (
            lsoa.get(i).unwrap().to_owned(),
            year.get(i).unwrap(),
            sex.get(i).unwrap().to_owned(),
            band.get(i).unwrap().to_owned(),
        );
        assert!(
            out.insert(key.clone(), value.get(i).unwrap()).is_none(),
            "{key:?} twice"
        );
    }
    out
}

fn key(lsoa: &str, year: i32, sex: &str, band: &str) -> Key {
    (lsoa.into(), year, sex.into(), band.into())
}

fn read(files: &[PathBuf], options: &PopulationOptions) -> Result<Draft, IngestError> {
    read_population(&catalog(), files, options, &NoProgress)
}

fn defaults() -> PopulationOptions {
    PopulationOptions::default()
}

/// Runs tests/reference/population_reference.py (Python standard library, written apart from
/// the Rust reader) and returns its CSV rows without the header.
fn python_reference(args: &[&Path]) -> Vec<Vec<String>> {
    renewal_test_support::python_reference("population_reference.py", args)
        .lines()
        .skip(1)
        .map(|l| l.split(',').map(str::to_owned).collect())
        .collect()
}

/// A deliberately simple reader of the raw Trafford file: the Persons row of `lsoa`, by header.
fn raw_persons(path: &Path, lsoa: &str) -> BTreeMap<String, f64> {
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let row: Vec<&str> = lines
        .map(|l| l.split(',').collect::<Vec<_>>())
        .find(|r| r[1] == lsoa && r[4] == "Persons")
        .unwrap_or_else(|| panic!("{lsoa} Persons not in {}", path.display()));
    header
        .iter()
        .zip(row)
        .skip(5)
        .map(|(h, v)| (h.to_string(), v.parse().unwrap()))
        .collect()
}

#[test]
fn trafford_mid_2022_and_mid_2024_make_one_version() {
    let Some(root) = shared_data() else { return };
    let files = [
        shared_file(&root, "population/trafford_mid-2022_population_lsoa21.csv"),
        shared_file(&root, "population/trafford_mid-2024_population_lsoa21.csv"),
    ];
    let draft = read(&files, &defaults()).unwrap();
    assert_eq!(draft.dataset, "population-lsoa21");
    assert_eq!(draft.kind, "population");
    assert_eq!(draft.vintage["lsoa"], "LSOA21");
    assert_eq!(draft.attributes["years"], "2022,2024");
    assert_eq!(draft.attributes["reference"], "mid-year");
    assert_eq!(draft.sources.len(), 2);
    // 417 data lines per file = 139 LSOAs x 3 sexes, each read once.
    assert!(
        draft.sources.iter().all(|s| s.rows == 417),
        "{:?}",
        draft.sources
    );

    let f = figures(&draft);
    // 139 LSOAs x 2 years x 3 sexes x 7 bands.
    assert_eq!(f.len(), 139 * 2 * 3 * 7);
    let lsoas: BTreeSet<&str> = f.keys().map(|k| k.0.as_str()).collect();
    assert_eq!(lsoas.len(), 139);

    // Hand-copied from trafford_mid-2022_population_lsoa21.csv line 4 (E01006074 Persons):
    // all_ages 1660, aged_16_to_64 974, aged_65_and_over 305, aged_0_to_15 381.
    assert_eq!(f[&key("E01006074", 2022, "persons", "all_ages")], 1660.0);
    assert_eq!(f[&key("E01006074", 2022, "persons", "16-64")], 974.0);
    assert_eq!(f[&key("E01006074", 2022, "persons", "65+")], 305.0);
    assert_eq!(f[&key("E01006074", 2022, "persons", "0-15")], 381.0);
    // Same file, line 2 (Females) and 3 (Males): all_ages 857 and 803.
    assert_eq!(f[&key("E01006074", 2022, "females", "all_ages")], 857.0);
    assert_eq!(f[&key("E01006074", 2022, "males", "all_ages")], 803.0);

    // Three LSOAs in both years against the raw file read by the simple reader above.
    for (file, year) in [(&files[0], 2022), (&files[1], 2024)] {
        for lsoa in ["E01006075", "E01006200", "E01034001"] {
            let raw = raw_persons(file, lsoa);
            assert_eq!(f[&key(lsoa, year, "persons", "all_ages")], raw["all_ages"]);
            assert_eq!(
                f[&key(lsoa, year, "persons", "16-64")],
                raw["aged_16_to_64"]
            );
            assert_eq!(
                f[&key(lsoa, year, "persons", "65+")],
                raw["aged_65_and_over"]
            );
            let single = |from: u32, to: u32| -> f64 {
                (from..=to)
                    .map(|a| {
                        if a == 90 {
                            raw["90+"]
                        } else {
                            raw[&a.to_string()]
                        }
                    })
                    .sum()
            };
            assert_eq!(f[&key(lsoa, year, "persons", "16-59")], single(16, 59));
            assert_eq!(f[&key(lsoa, year, "persons", "18-64")], single(18, 64));
            assert_eq!(f[&key(lsoa, year, "persons", "60+")], single(60, 90));
        }
    }

    // Every row equals the independent Python reference, and so do Trafford's totals.
    let reference = python_reference(&[&files[0], &files[1]]);
    assert_eq!(reference.len(), f.len());
    for r in &reference {
        let k = key(&r[0], r[1].parse().unwrap(), &r[2], &r[3]);
        assert_eq!(f.get(&k), Some(&r[4].parse::<f64>().unwrap()), "{k:?}");
    }
    let total = |year| -> f64 {
        f.iter()
            .filter(|(k, _)| k.1 == year && k.2 == "persons" && k.3 == "all_ages")
            .map(|(_, v)| v)
            .sum()
    };
    let totals = python_reference(&[&files[0], &files[1], Path::new("--totals")]);
    for year in [2022, 2024] {
        let line = totals
            .iter()
            .find(|r| r[0] == year.to_string() && r[1] == "persons" && r[2] == "all_ages")
            .unwrap();
        assert_eq!(line[3], "139");
        assert_eq!(total(year), line[4].parse::<f64>().unwrap());
    }
}

#[test]
fn census_2021_age6_keeps_every_lsoa_once() {
    let Some(root) = shared_data() else { return };
    let file = shared_file(
        &root,
        "population/census2021_usual_residents_age6_lsoa21_ew.csv",
    );
    let draft = read(std::slice::from_ref(&file), &defaults()).unwrap();
    assert_eq!(draft.dataset, "population-census2021-lsoa21");
    assert_eq!(draft.vintage["lsoa"], "LSOA21");
    assert_eq!(draft.attributes["years"], "2021");
    assert_eq!(draft.attributes["reference"], "census");
    let f = figures(&draft);
    let lsoas: BTreeSet<&str> = f.keys().map(|k| k.0.as_str()).collect();
    assert_eq!(lsoas.len(), 35_672);
    // Persons only, four bands (16-59 and the like are not sums of the six categories).
    assert_eq!(f.len(), 35_672 * 4);
    assert!(f.keys().all(|k| k.1 == 2021 && k.2 == "persons"));
    let england = |band: &str| -> f64 {
        f.iter()
            .filter(|(k, _)| k.0.starts_with("E01") && k.3 == band)
            .map(|(_, v)| v)
            .sum()
    };
    // The shared data README's figure: a dropped or doubled row changes it.
    assert_eq!(england("all_ages"), 56_489_608.0);
    assert_eq!(
        england("0-15") + england("16-64") + england("65+"),
        56_489_608.0
    );
    // First LSOA, lines 2-7 of the file: 125 + 110 + 291 + 336 + 245 + 370.
    assert_eq!(f[&key("E01000001", 2021, "persons", "all_ages")], 1477.0);
    assert_eq!(f[&key("E01000001", 2021, "persons", "16-64")], 982.0);
    assert_eq!(f[&key("E01000001", 2021, "persons", "65+")], 370.0);
    let df = table(&draft, "population");
    let reference = df.column("reference").unwrap().str().unwrap();
    assert!(reference.iter().all(|r| r == Some("census-2021")));

    let totals = python_reference(&[&file, Path::new("--totals")]);
    for band in ["all_ages", "0-15", "16-64", "65+"] {
        let line = totals
            .iter()
            .find(|r| r[1] == "persons-england" && r[2] == band)
            .unwrap();
        assert_eq!(england(band), line[4].parse::<f64>().unwrap(), "{band}");
    }
}

// ---------------------------------------------------------------------------------------
// The ONS release layout (sapelsoasyoa), written here.

/// Header of the release layout on 2021 or 2011 LSOAs.
fn ons_header(lsoa_year: &str) -> Vec<String> {
    let mut h: Vec<String> = [
        "LAD 2021 Code".to_owned(),
        "LAD 2021 Name".to_owned(),
        format!("LSOA {lsoa_year} Code"),
        format!("LSOA {lsoa_year} Name"),
        "Total".to_owned(),
    ]
    .into();
    h.extend((0..=90).map(|a| format!("F{a}")));
    h.extend((0..=90).map(|a| format!("M{a}")));
    h
}

/// One LSOA: females and males aged 0..=90 from the two functions, and the published Total.
fn ons_row(code: &str, f: impl Fn(u32) -> u32, m: impl Fn(u32) -> u32, total: u32) -> Vec<String> {
    let mut r = vec![
        "E08999001".to_owned(),
        "Renewal Vale".to_owned(),
        code.to_owned(),
        format!("Renewal Vale {}", &code[7..]),
        total.to_string(),
    ];
    r.extend((0..=90).map(|a| f(a).to_string()));
    r.extend((0..=90).map(|a| m(a).to_string()));
    r
}

/// Two LSOAs whose sums are easy by hand:
/// - E01999001: 1 female and 2 males of every age 0..=90, Total 273.
/// - E01999002: `a` females aged `a`, and 5 males aged 90+, Total 4095 + 5 = 4100.
fn ons_rows(total_a: u32) -> Vec<Vec<String>> {
    vec![
        ons_row("E01999001", |_| 1, |_| 2, total_a),
        ons_row("E01999002", |a| a, |a| if a == 90 { 5 } else { 0 }, 4100),
    ]
}

fn csv_text(header: &[String], rows: &[Vec<String>]) -> String {
    let mut s = header.join(",");
    for r in rows {
        s.push_str("\r\n");
        s.push_str(&r.join(","));
    }
    s.push_str("\r\n");
    s
}

/// Hand-computed bands of the two fixture LSOAs (see `ons_rows`):
/// E01999001 has 91 single years; 0-15 is 16 of them, 16-64 49, 65+ 26, 16-59 44, 18-64 47,
/// 60+ 31, each 1 female + 2 males. E01999002's females are sums of ages: 0..=90 = 4095,
/// 0..=15 = 120, 16..=64 = 1960, 65..=90 = 2015, 16..=59 = 1650, 18..=64 = 1927, 60..=90 = 2325.
fn expected_ons() -> Vec<(&'static str, &'static str, &'static str, f64)> {
    vec![
        ("E01999001", "females", "all_ages", 91.0),
        ("E01999001", "males", "all_ages", 182.0),
        ("E01999001", "persons", "all_ages", 273.0),
        ("E01999001", "persons", "0-15", 48.0),
        ("E01999001", "persons", "16-64", 147.0),
        ("E01999001", "persons", "65+", 78.0),
        ("E01999001", "persons", "16-59", 132.0),
        ("E01999001", "persons", "18-64", 141.0),
        ("E01999001", "persons", "60+", 93.0),
        ("E01999002", "females", "all_ages", 4095.0),
        ("E01999002", "females", "0-15", 120.0),
        ("E01999002", "females", "16-64", 1960.0),
        ("E01999002", "females", "65+", 2015.0),
        ("E01999002", "males", "all_ages", 5.0),
        ("E01999002", "males", "65+", 5.0),
        ("E01999002", "males", "16-64", 0.0),
        ("E01999002", "persons", "all_ages", 4100.0),
        ("E01999002", "persons", "0-15", 120.0),
        ("E01999002", "persons", "16-64", 1960.0),
        ("E01999002", "persons", "65+", 2020.0),
        ("E01999002", "persons", "16-59", 1650.0),
        ("E01999002", "persons", "18-64", 1927.0),
        ("E01999002", "persons", "60+", 2330.0),
    ]
}

#[test]
fn ons_release_csv_bands_are_hand_computed_sums() {
    let dir = temp_dir();
    let file = write_file(
        dir.path(),
        "sapelsoasyoa_MID-2022.csv",
        csv_text(&ons_header("2021"), &ons_rows(273)),
    );
    let draft = read(&[file], &defaults()).unwrap();
    assert_eq!(draft.dataset, "population-lsoa21");
    assert_eq!(draft.attributes["years"], "2022");
    let f = figures(&draft);
    // 2 LSOAs x 3 sexes x 7 bands.
    assert_eq!(f.len(), 42);
    for (lsoa, sex, band, value) in expected_ons() {
        assert_eq!(f[&key(lsoa, 2022, sex, band)], value, "{lsoa} {sex} {band}");
    }
    let df = table(&draft, "population");
    let names = df.column("lsoa_name").unwrap().str().unwrap();
    assert!(names.iter().any(|n| n == Some("Renewal Vale 01")));
}

#[test]
fn ons_release_on_2011_lsoas_says_so_in_the_header() {
    let dir = temp_dir();
    let file = write_file(
        dir.path(),
        "sapelsoasyoa_mid-2015.csv",
        csv_text(&ons_header("2011"), &ons_rows(273)),
    );
    let draft = read(std::slice::from_ref(&file), &defaults()).unwrap();
    assert_eq!(draft.dataset, "population-lsoa11");
    assert_eq!(draft.vintage["lsoa"], "LSOA11");
    // The header states LSOA 2011, so a flag saying otherwise is a conflict at that header.
    let options = PopulationOptions {
        lsoa_vintage: Some("LSOA21".parse::<Vintage>().unwrap()),
        ..defaults()
    };
    let err = read(&[file], &options).unwrap_err().to_string();
    assert!(
        err.starts_with(
            "sapelsoasyoa_mid-2015.csv, line 1, column 3 (\"LSOA 2011 Code\"): the header says the codes are LSOA11 but --lsoa-vintage says LSOA21"
        ),
        "{err}"
    );
}

/// A workbook with one sheet per year, as the ONS release is published.
fn ons_workbook(path: &Path, sheets: &[(&str, Vec<Vec<String>>)]) {
    let mut workbook = rust_xlsxwriter::Workbook::new();
    let header = ons_header("2021");
    for (name, rows) in sheets {
        let sheet = workbook.add_worksheet().set_name(*name).unwrap();
        for (c, h) in header.iter().enumerate() {
            sheet.write_string(0, c as u16, h).unwrap();
        }
        for (r, row) in rows.iter().enumerate() {
            for (c, cell) in row.iter().enumerate() {
                let (r, c) = (r as u32 + 1, c as u16);
                // Numbers as numbers, codes and names as text, as Excel holds them.
                match cell.parse::<f64>() {
                    Ok(v) => sheet.write_number(r, c, v).unwrap(),
                    Err(_) => sheet.write_string(r, c, cell).unwrap(),
                };
            }
        }
    }
    workbook.save(path).unwrap();
}

#[test]
fn ons_release_xlsx_has_a_sheet_per_year() {
    let dir = temp_dir();
    let path = dir.path().join("sapelsoasyoa20212022.xlsx");
    // Mid-2021: 1 female and 1 male of every age in E01999001 (Total 182); the second sheet
    // holds the mid-2022 rows of `ons_rows`.
    let mid_2021 = vec![ons_row("E01999001", |_| 1, |_| 1, 182)];
    ons_workbook(
        &path,
        &[
            ("Mid-2021 LSOA 2021", mid_2021),
            ("Mid-2022 LSOA 2021", ons_rows(273)),
        ],
    );
    let draft = read(std::slice::from_ref(&path), &defaults()).unwrap();
    assert_eq!(draft.dataset, "population-lsoa21");
    assert_eq!(draft.attributes["years"], "2021,2022");
    assert_eq!(draft.sources.len(), 1);
    assert_eq!(draft.sources[0].rows, 3);
    let f = figures(&draft);
    assert_eq!(f.len(), (1 + 2) * 3 * 7);
    assert_eq!(f[&key("E01999001", 2021, "persons", "all_ages")], 182.0);
    // 1 + 1 at each of the 49 ages 16..=64.
    assert_eq!(f[&key("E01999001", 2021, "persons", "16-64")], 98.0);
    for (lsoa, sex, band, value) in expected_ons() {
        assert_eq!(f[&key(lsoa, 2022, sex, band)], value, "{lsoa} {sex} {band}");
    }

    // The same mid-2022 figures in a CSV as well: one version, nothing doubled.
    let csv = write_file(
        dir.path(),
        "sapelsoasyoa_mid-2022.csv",
        csv_text(&ons_header("2021"), &ons_rows(273)),
    );
    let both = read(&[path.clone(), csv], &defaults()).unwrap();
    assert_eq!(figures(&both), f);

    // A CSV giving different mid-2022 figures is a conflict naming both places.
    let mut rows = ons_rows(274);
    rows[0][5] = "2".into(); // F0 of E01999001: 2 instead of 1
    let other = write_file(
        dir.path(),
        "other_mid-2022.csv",
        csv_text(&ons_header("2021"), &rows),
    );
    let err = read(&[path, other], &defaults()).unwrap_err().to_string();
    assert!(
        err.starts_with("other_mid-2022.csv, line 2: E01999001 mid-2022 persons all_ages: 274 here but 273 at sapelsoasyoa20212022.xlsx, sheet \"Mid-2022 LSOA 2021\", row 2"),
        "{err}"
    );
}

/// The ONS release as published: a cover sheet and a contents table before the data sheets,
/// whose tables start on row 4 below a title, a note and a source line.
#[test]
fn ons_release_xlsx_with_title_rows_and_cover_sheets() {
    let dir = temp_dir();
    let path = dir.path().join("sapelsoasyoatablefinal.xlsx");
    let mut workbook = rust_xlsxwriter::Workbook::new();
    let cover = workbook.add_worksheet().set_name("Cover sheet").unwrap();
    cover
        .write_string(0, 0, "Lower layer Super Output Area population estimates")
        .unwrap();
    cover
        .write_string(2, 0, "Contact: pop.info@example.org")
        .unwrap();
    let contents = workbook.add_worksheet().set_name("Contents").unwrap();
    contents.write_string(0, 0, "Table of contents").unwrap();
    contents.write_string(1, 0, "Worksheet name").unwrap();
    contents
        .write_string(1, 1, "Worksheet description")
        .unwrap();
    contents.write_string(2, 0, "Mid-2022 LSOA 2021").unwrap();
    contents
        .write_string(2, 1, "Mid-2022 population estimates")
        .unwrap();
    let sheet = workbook
        .add_worksheet()
        .set_name("Mid-2022 LSOA 2021")
        .unwrap();
    sheet
        .write_string(
            0,
            0,
            "Mid-2022 population estimates for LSOAs in England and Wales",
        )
        .unwrap();
    sheet
        .write_string(1, 0, "This worksheet contains one table.")
        .unwrap();
    sheet
        .write_string(2, 0, "Source: Office for National Statistics")
        .unwrap();
    for (c, h) in ons_header("2021").iter().enumerate() {
        sheet.write_string(3, c as u16, h).unwrap();
    }
    let rows = ons_rows(273);
    for (r, row) in rows.iter().enumerate() {
        for (c, cell) in row.iter().enumerate() {
            let (r, c) = (r as u32 + 4, c as u16);
            match cell.parse::<f64>() {
                Ok(v) => sheet.write_number(r, c, v).unwrap(),
                Err(_) => sheet.write_string(r, c, cell).unwrap(),
            };
        }
    }
    workbook.save(&path).unwrap();
    let draft = read(std::slice::from_ref(&path), &defaults()).unwrap();
    assert_eq!(draft.attributes["years"], "2022");
    let f = figures(&draft);
    for (lsoa, sex, band, value) in expected_ons() {
        assert_eq!(f[&key(lsoa, 2022, sex, band)], value, "{lsoa} {sex} {band}");
    }
}

#[test]
fn ons_release_year_comes_from_the_name_or_the_flag() {
    let dir = temp_dir();
    let text = csv_text(&ons_header("2021"), &ons_rows(273));
    let unnamed = write_file(dir.path(), "population.csv", &text);
    let err = read(std::slice::from_ref(&unnamed), &defaults())
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with("population.csv: cannot tell which year this is"),
        "{err}"
    );
    let with_year = PopulationOptions {
        year: Some(2023),
        ..defaults()
    };
    let draft = read(&[unnamed], &with_year).unwrap();
    assert_eq!(draft.attributes["years"], "2023");

    let named = write_file(dir.path(), "sapelsoasyoa_mid-2022.csv", &text);
    let err = read(&[named], &with_year).unwrap_err().to_string();
    assert_eq!(
        err,
        "sapelsoasyoa_mid-2022.csv: the file name says 2022 but --year says 2023"
    );
    let old = write_file(dir.path(), "sapelsoasyoa_mid-1975.csv", &text);
    let err = read(&[old], &defaults()).unwrap_err().to_string();
    assert!(
        err.starts_with("sapelsoasyoa_mid-1975.csv: the file name: year 1975 is implausible"),
        "{err}"
    );
}

#[test]
fn ons_release_total_must_equal_the_single_years() {
    let dir = temp_dir();
    let file = write_file(
        dir.path(),
        "sapelsoasyoa_mid-2022.csv",
        csv_text(&ons_header("2021"), &ons_rows(272)),
    );
    let err = read(&[file], &defaults()).unwrap_err().to_string();
    assert_eq!(
        err,
        "sapelsoasyoa_mid-2022.csv, line 2, column 5 (\"Total\"): E01999001 2022 persons: the file gives all_ages = 272 but its age groups sum to 273"
    );
}

// ---------------------------------------------------------------------------------------
// The open-data layout, hand-made: one LSOA, three rows.

const OPEN_HEADER_START: &str =
    "period,area_code,area_name,geography,sex,all_ages,aged_0_to_15,aged_16_to_64,aged_65_and_over";

/// `sex` row of E01006074 with `each` people of every age 0..=90 and matching published totals
/// (91 ages: 16 under 16, 49 of 16-64, 26 of 65+).
fn open_row(period: &str, code: &str, sex: &str, each: u32) -> Vec<String> {
    let mut r: Vec<String> = [period, code, "Trafford 025A", "LSOA", sex]
        .map(String::from)
        .into();
    r.extend([91, 16, 49, 26].map(|n| (n * each).to_string()));
    r.extend((0..=90).map(|_| each.to_string()));
    r
}

fn open_rows() -> Vec<Vec<String>> {
    vec![
        open_row("2022-06-30", "E01006074", "Females", 1),
        open_row("2022-06-30", "E01006074", "Males", 2),
        open_row("2022-06-30", "E01006074", "Persons", 3),
    ]
}

fn open_csv(rows: &[Vec<String>]) -> String {
    let mut header = OPEN_HEADER_START.to_owned();
    for a in 0..90 {
        header.push_str(&format!(",{a}"));
    }
    header.push_str(",90+");
    let mut s = header;
    for r in rows {
        s.push('\n');
        s.push_str(&r.join(","));
    }
    s.push('\n');
    s
}

/// Column of single year `age` in the open-data layout (1-based): nine fields, then 0..=90.
fn age_column(age: usize) -> usize {
    10 + age
}

fn open_error(name: &str, rows: &[Vec<String>], options: &PopulationOptions) -> String {
    let dir = temp_dir();
    let file = write_file(dir.path(), name, open_csv(rows));
    read(&[file], options).unwrap_err().to_string()
}

#[test]
fn open_layout_fixture_reads() {
    let dir = temp_dir();
    let file = write_file(dir.path(), "t.csv", open_csv(&open_rows()));
    let f = figures(&read(&[file], &defaults()).unwrap());
    assert_eq!(f.len(), 3 * 7);
    assert_eq!(f[&key("E01006074", 2022, "persons", "all_ages")], 273.0);
    assert_eq!(f[&key("E01006074", 2022, "males", "16-59")], 88.0);
}

#[test]
fn open_layout_for_an_undeterminable_year() {
    let mut rows = open_rows();
    rows[0][0] = "June 2022".into();
    assert_eq!(
        open_error("t.csv", &rows, &defaults()),
        "t.csv, line 2, column 1 (\"period\"): \"June 2022\" is not a year written as \"{year}-06-30\""
    );
}

#[test]
fn open_layout_with_an_implausible_or_conflicting_year() {
    let mut rows = open_rows();
    rows[1][0] = "1970-06-30".into();
    let err = open_error("t.csv", &rows, &defaults());
    assert!(
        err.starts_with("t.csv, line 3, column 1 (\"period\"): year 1970 is implausible"),
        "{err}"
    );
    let mut rows = open_rows();
    rows[2][0] = "2999-06-30".into();
    let err = open_error("t.csv", &rows, &defaults());
    assert!(
        err.starts_with("t.csv, line 4, column 1 (\"period\"): year 2999 is implausible"),
        "{err}"
    );
    let options = PopulationOptions {
        year: Some(2021),
        ..defaults()
    };
    assert_eq!(
        open_error("t.csv", &open_rows(), &options),
        "t.csv, line 2, column 1 (\"period\"): the file says 2022 but --year says 2021"
    );
}

#[test]
fn persons_must_be_females_plus_males() {
    let mut rows = open_rows();
    // Persons aged 10: 4, where 1 female + 2 males make 3.
    rows[2][age_column(10) - 1] = "4".into();
    assert_eq!(
        open_error("t.csv", &rows, &defaults()),
        "t.csv, line 4, column 20 (\"10\"): E01006074 2022: persons 4 but females 1 + males 2 = 3 (lines 2 and 3)"
    );
}

#[test]
fn a_published_band_must_equal_its_single_years() {
    let mut rows = open_rows();
    rows[0][7] = "50".into(); // Females aged_16_to_64; the single years make 49
    assert_eq!(
        open_error("t.csv", &rows, &defaults()),
        "t.csv, line 2, column 8 (\"aged_16_to_64\"): E01006074 2022 females: the file gives 16-64 = 50 but its age groups sum to 49"
    );
}

#[test]
fn a_code_that_is_not_an_lsoa() {
    let mut rows = open_rows();
    rows[1][1] = "E02000001".into();
    let err = open_error("t.csv", &rows, &defaults());
    assert!(
        err.starts_with(
            "t.csv, line 3, column 2 (\"area_code\"): \"E02000001\" is not a valid LSOA code"
        ),
        "{err}"
    );
}

#[test]
fn a_cell_that_is_not_a_number() {
    let mut rows = open_rows();
    rows[1][age_column(20) - 1] = "n/a".into();
    assert_eq!(
        open_error("t.csv", &rows, &defaults()),
        "t.csv, line 3, column 30 (\"20\"): \"n/a\" is not a number"
    );
    let mut rows = open_rows();
    rows[1][age_column(20) - 1] = "-1".into();
    assert!(
        open_error("t.csv", &rows, &defaults())
            .starts_with("t.csv, line 3, column 30 (\"20\"): -1 people")
    );
}

#[test]
fn a_sex_row_twice_or_missing() {
    let mut rows = open_rows();
    rows.push(open_row("2022-06-30", "E01006074", "Males", 2));
    assert_eq!(
        open_error("t.csv", &rows, &defaults()),
        "t.csv, line 5: E01006074 males 2022 is given twice (also line 3)"
    );
    let rows = open_rows().into_iter().skip(1).collect::<Vec<_>>();
    assert_eq!(
        open_error("t.csv", &rows, &defaults()),
        "t.csv, line 2: E01006074 2022: males are given but females are not"
    );
    let mut rows = open_rows();
    rows[0][4] = "Women".into();
    assert!(
        open_error("t.csv", &rows, &defaults())
            .starts_with("t.csv, line 2, column 5 (\"sex\"): sex \"Women\" is not one of")
    );
}

#[test]
fn open_layout_on_2011_lsoas_by_flag() {
    let dir = temp_dir();
    let file = write_file(
        dir.path(),
        "population_mid-2015_lsoa11.csv",
        open_csv(&open_rows()),
    );
    let options = PopulationOptions {
        lsoa_vintage: Some("LSOA11".parse().unwrap()),
        ..defaults()
    };
    let draft = read(&[file], &options).unwrap();
    assert_eq!(draft.dataset, "population-lsoa11");
    assert_eq!(draft.vintage["lsoa"], "LSOA11");
}

#[test]
fn census_layout_checks_its_categories() {
    let header = "Lower layer Super Output Areas Code,Lower layer Super Output Areas,Age (6 categories) Code,Age (6 categories),Observation";
    let good = [
        "E01000001,City of London 001A,1,Aged 15 years and under,125",
        "E01000001,City of London 001A,2,Aged 16 to 24 years,110",
        "E01000001,City of London 001A,3,Aged 25 to 34 years,291",
        "E01000001,City of London 001A,4,Aged 35 to 49 years,336",
        "E01000001,City of London 001A,5,Aged 50 to 64 years,245",
        "E01000001,City of London 001A,6,Aged 65 years and over,370",
    ];
    let run = |lines: &[&str], options: &PopulationOptions| {
        let dir = temp_dir();
        let text = format!("{header}\n{}\n", lines.join("\n"));
        let file = write_file(dir.path(), "census.csv", text);
        read(&[file], options)
    };
    let f = figures(&run(&good, &defaults()).unwrap());
    assert_eq!(
        f[&key("E01000001", 2021, "persons", "16-64")],
        110.0 + 291.0 + 336.0 + 245.0
    );

    let mut missing = good.to_vec();
    missing.remove(2);
    assert_eq!(
        run(&missing, &defaults()).unwrap_err().to_string(),
        "census.csv, line 2: E01000001 2021 persons: no figure for age group \"Aged 25 to 34 years\""
    );
    let mut doubled = good.to_vec();
    doubled.push(good[5]);
    assert_eq!(
        run(&doubled, &defaults()).unwrap_err().to_string(),
        "census.csv, line 8, column 5 (\"Observation\"): E01000001 \"Aged 65 years and over\" 2021 is given twice (also census.csv, line 7, column 5 (\"Observation\"))"
    );
    let mut miscoded = good.to_vec();
    miscoded[1] = "E01000001,City of London 001A,3,Aged 16 to 24 years,110";
    assert_eq!(
        run(&miscoded, &defaults()).unwrap_err().to_string(),
        "census.csv, line 3, column 3 (\"Age (6 categories) Code\"): code \"3\" does not go with \"Aged 16 to 24 years\" (expected \"2\")"
    );
    let options = PopulationOptions {
        year: Some(2022),
        ..defaults()
    };
    assert_eq!(
        run(&good, &options).unwrap_err().to_string(),
        "census.csv: format census2021-custom-age6 says 2021 but --year says 2022"
    );
}

#[test]
fn files_for_different_datasets_need_separate_calls() {
    let dir = temp_dir();
    let open = write_file(dir.path(), "t.csv", open_csv(&open_rows()));
    let ons11 = write_file(
        dir.path(),
        "sapelsoasyoa_mid-2015.csv",
        csv_text(&ons_header("2011"), &ons_rows(273)),
    );
    let err = read(&[open.clone(), ons11], &defaults())
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with("one population dataset holds one LSOA geography"),
        "{err}"
    );
    let options = PopulationOptions {
        dataset: Some("trafford".into()),
        ..defaults()
    };
    let err = read(&[open], &options).unwrap_err().to_string();
    assert!(err.contains("start with \"population-\""), "{err}");
}

#[test]
fn a_header_no_format_reads() {
    let dir = temp_dir();
    let file = write_file(dir.path(), "t.csv", "area_code,people\nE01000001,5\n");
    let err = read(&[file], &defaults()).unwrap_err().to_string();
    assert!(
        err.starts_with("t.csv, line 1: its header matches no population format"),
        "{err}"
    );
}
