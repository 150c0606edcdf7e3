//! police.uk street crime: every incident kept, monthly LSOA counts, point-in-polygon
//! placement in 2013 wards, and rows with no location counted rather than lost.

use std::collections::HashMap;

use renewal_ingest::{Boundaries, CrimeOptions, NoProgress, read_crime};
use renewal_test_support::{shared_data, shared_file, temp_dir, write_file};

use crate::{catalog, table};

const FILE: &str = "crime/2021-01-south-yorkshire-street.csv";

fn counts(df: &polars::prelude::DataFrame, area: &str) -> HashMap<(String, String), u64> {
    let a = df.column(area).unwrap().str().unwrap().clone();
    let t = df.column("crime_type").unwrap().str().unwrap().clone();
    let n = df.column("crimes").unwrap().u64().unwrap().clone();
    (0..df.height())
        .map(|i| {
            (
                (a.get(i).unwrap().to_owned(), t.get(i).unwrap().to_owned()),
                n.get(i).unwrap(),
            )
        })
        .collect()
}

#[test]
fn south_yorkshire_january_2021() {
    let Some(root) = shared_data() else { return };
    let draft = read_crime(
        &catalog(),
        &[shared_file(&root, FILE)],
        &CrimeOptions::default(),
        &NoProgress,
    )
    .unwrap();
    assert_eq!(draft.sources[0].rows, 12398);
    assert_eq!(table(&draft, "crimes").height(), 12398);
    assert!(
        draft
            .notes
            .iter()
            .any(|n| n.contains("\"MSOA\", \"COLOUR\"")),
        "{:?}",
        draft.notes
    );
    assert!(
        draft
            .notes
            .iter()
            .any(|n| n.starts_with("344 crimes have neither an LSOA nor coordinates")),
        "{:?}",
        draft.notes
    );
    // Counted from the source with Python's csv module: 12,054 crimes carry an LSOA, in 4,544
    // LSOA × crime type cells; E01007434 (Barnsley 001A) has 4 anti-social behaviour reports.
    let lsoa = counts(&table(&draft, "lsoa_monthly_counts"), "lsoa_code");
    assert_eq!(lsoa.len(), 4544);
    assert_eq!(lsoa.values().sum::<u64>(), 12054);
    assert_eq!(
        lsoa[&("E01007434".into(), "Anti-social behaviour".into())],
        4
    );
    assert_eq!(
        lsoa[&("E01008049".into(), "Violence and sexual offences".into())],
        5
    );
}

#[test]
fn crimes_placed_in_2013_wards_by_their_coordinates() {
    let Some(root) = shared_data() else { return };
    let paths: Vec<_> = ["16", "17", "18", "19"]
        .iter()
        .map(|n| shared_file(&root, &format!("geography/wards2013_E080000{n}.json")))
        .collect();
    let wards = Boundaries::load(&paths, None).unwrap();
    let options = CrimeOptions {
        boundaries: Some(&wards),
        assign_all: true,
        ..Default::default()
    };
    let draft = read_crime(
        &catalog(),
        &[shared_file(&root, FILE)],
        &options,
        &NoProgress,
    )
    .unwrap();
    assert_eq!(draft.attributes["assigned_to"], "WD13");
    // The boundary files are sources too: other boundaries, another version.
    let boundary_sources: Vec<_> = draft
        .sources
        .iter()
        .filter(|s| s.format == "boundaries-geojson")
        .map(|s| s.name.as_str())
        .collect();
    assert_eq!(
        boundary_sources,
        [
            "wards2013_E08000016.json",
            "wards2013_E08000017.json",
            "wards2013_E08000018.json",
            "wards2013_E08000019.json"
        ]
    );
    // 12,054 crimes have coordinates: 12,034 fall in a South Yorkshire ward (an independent
    // Python point-in-polygon check agrees), 20 lie outside the four districts.
    assert!(
        draft.notes.iter().any(|n| n.starts_with(
            "12034 crimes placed in WD13 areas by point-in-polygon; 20 fell outside every area, 0 in overlapping areas"
        )),
        "{:?}",
        draft.notes
    );
    let by_ward = counts(&table(&draft, "area_monthly_counts"), "area_code");
    assert_eq!(by_ward.values().sum::<u64>(), 12034);
    assert!(by_ward.keys().all(|(w, _)| w.starts_with("E05")));
}

#[test]
fn bad_crime_rows() {
    let dir = temp_dir();
    let header = "Crime ID,Month,Reported by,Falls within,Longitude,Latitude,Location,LSOA code,LSOA name,Crime type,Last outcome category,Context";
    let read = |name: &str, body: &str| {
        let f = write_file(dir.path(), name, format!("{header}\n{body}\n"));
        read_crime(&catalog(), &[f], &CrimeOptions::default(), &NoProgress)
            .unwrap_err()
            .to_string()
    };
    assert_eq!(
        read(
            "month.csv",
            ",2021-13,P,P,-1.4,53.5,On or near X,E01007434,Barnsley 001A,Burglary,,"
        ),
        "month.csv, line 2, column 2 (\"Month\"): \"2021-13\" is not a month (YYYY-MM) period"
    );
    assert_eq!(
        read(
            "lsoa.csv",
            ",2021-01,P,P,-1.4,53.5,On or near X,E0100743,Barnsley 001A,Burglary,,"
        ),
        "lsoa.csv, line 2, column 8 (\"LSOA code\"): \"E0100743\" is not a valid LSOA code (expected E01/W01 followed by six digits)"
    );
    assert_eq!(
        read(
            "half.csv",
            ",2021-01,P,P,-1.4,,On or near X,E01007434,Barnsley 001A,Burglary,,"
        ),
        "half.csv, line 2, column 5 (\"Longitude\"): longitude and latitude must be given together"
    );
    let f = write_file(dir.path(), "short.csv", "Crime ID,Month\n,2021-01\n");
    let err = read_crime(&catalog(), &[f], &CrimeOptions::default(), &NoProgress).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("short.csv, line 1: not a police.uk street file: missing \"Reported by\""),
        "{err}"
    );
}
