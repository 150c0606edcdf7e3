//! The shared real files ingest without edits, and what lands equals what the files say.

use renewal_ingest::{NoProgress, read_iod, read_lookups};
use renewal_test_support::{shared_data, shared_file};

use crate::{catalog, key, table, values};

#[test]
fn iod2019_every_shared_file_merges_by_lsoa() {
    let Some(root) = shared_data() else { return };
    let files = [
        "imd/2019/File_1_-_IMD2019_Index_of_Multiple_Deprivation.xlsx",
        "imd/2019/File_2_-_IoD2019_Domains_of_Deprivation.csv.gz",
        "imd/2019/File_3_-_IoD2019_Supplementary_Indices_-_IDACI_and_IDAOPI.csv",
        "imd/2019/File_6_-_IoD2019_Population_Denominators.csv",
        "imd/2019/File_9_-_IoD2019_Transformed_Scores.csv",
        "imd/2019/UK_IMD_E.csv",
    ]
    .map(|f| shared_file(&root, f));
    let draft = read_iod(&catalog(), "2019", &files, &NoProgress).unwrap();
    assert_eq!(draft.dataset, "iod-2019");
    let formats: Vec<(&str, &str, u64)> = draft
        .sources
        .iter()
        .map(|s| (s.name.as_str(), s.format.as_str(), s.rows))
        .collect();
    assert_eq!(
        formats,
        [
            (
                "File_1_-_IMD2019_Index_of_Multiple_Deprivation.xlsx",
                "iod2019-official",
                32844
            ),
            (
                "File_2_-_IoD2019_Domains_of_Deprivation.csv.gz",
                "iod2019-official",
                32844
            ),
            (
                "File_3_-_IoD2019_Supplementary_Indices_-_IDACI_and_IDAOPI.csv",
                "iod2019-official",
                32844
            ),
            (
                "File_6_-_IoD2019_Population_Denominators.csv",
                "iod2019-official",
                32844
            ),
            (
                "File_9_-_IoD2019_Transformed_Scores.csv",
                "iod2019-official",
                32844
            ),
            // English rows only: 42,619 data rows less the Welsh, Scottish and NI ones.
            ("UK_IMD_E.csv", "iod2019-mysociety-uk-imd", 32844),
        ]
    );
    // Distinct cells per LSOA: File 2 gives IMD + 7 domains × (rank, decile) = 16; File 3 adds
    // IDACI and IDAOPI rank and decile = 4 (its IMD columns repeat File 2's, as does File 1);
    // File 6 has 5 denominators; File 9 7 transformed scores; mySociety 3 scores. 35 in all.
    let v = values(&draft);
    assert_eq!(v.len(), 32844 * 35);

    // Hand-checked against the source files (first rows, and one from the middle).
    assert_eq!(v[&key("E01000001", "imd", "rank")], 29199.0);
    assert_eq!(v[&key("E01000001", "imd", "decile")], 9.0);
    assert_eq!(v[&key("E01000001", "living_environment", "rank")], 7789.0);
    assert_eq!(
        v[&key("E01000001", "population_total", "denominator")],
        1296.0
    );
    assert_eq!(
        v[&key("E01000001", "population_working_age", "denominator")],
        715.0
    );
    assert_eq!(v[&key("E01000001", "income", "transformed")], 0.010);
    assert_eq!(
        v[&key("E01000001", "living_environment", "transformed")],
        32.163
    );
    assert_eq!(v[&key("E01000001", "imd", "score")], 6.208);
    // mySociety writes the income rate in percent (0.7000000000000001): stored as a proportion.
    assert_eq!(v[&key("E01000001", "income", "score")], 0.007);
    assert_eq!(v[&key("E01000001", "employment", "score")], 0.010);
    assert_eq!(v[&key("E01000102", "barriers", "rank")], 1167.0);
    assert_eq!(v[&key("E01021988", "imd", "score")], 92.735);
    assert_eq!(
        v[&key("E01033768", "population_total", "denominator")],
        1281.0
    );

    let lsoa = table(&draft, "lsoa");
    assert_eq!(lsoa.height(), 32844);
    let lads = lsoa.column("lad_code").unwrap().n_unique().unwrap();
    assert_eq!(lads, 317);
    assert_eq!(draft.attributes["national_lsoa_count"], "32844");
    assert_eq!(draft.vintage["lad"], "LAD19");
    assert!(
        draft
            .notes
            .iter()
            .any(|n| n.contains("UK_IMD_E.csv: 9775 rows skipped")),
        "{:?}",
        draft.notes
    );
}

#[test]
fn iod2015_humaniverse_file() {
    let Some(root) = shared_data() else { return };
    let file = shared_file(&root, "imd/2015/imd2015_lsoa11_england.csv");
    let draft = read_iod(&catalog(), "2015", std::slice::from_ref(&file), &NoProgress).unwrap();
    assert_eq!(draft.dataset, "iod-2015");
    assert_eq!(draft.sources[0].format, "iod2015-humaniverse");
    let v = values(&draft);
    assert_eq!(v.len(), 32844 * 3);
    assert_eq!(v[&key("E01031349", "imd", "score")], 12.389);
    assert_eq!(v[&key("E01031349", "imd", "rank")], 21352.0);
    assert_eq!(v[&key("E01000001", "imd", "decile")], 9.0);

    // The same file offered as 2019 is refused with a hint, not read as 2019 figures.
    let err = read_iod(&catalog(), "2019", &[file], &NoProgress).unwrap_err();
    assert_eq!(
        err.to_string(),
        "imd2015_lsoa11_england.csv: it looks like iod2015-humaniverse (vintage 2015), not vintage 2019; check --vintage"
    );
}

#[test]
fn ons_and_gm_lookups_keep_their_vintages() {
    let Some(root) = shared_data() else { return };
    let files = [
        "geography/Lower_Layer_Super_Output_Area_(2011)_to_Ward_(2019)_Lookup_in_England_and_Wales.csv",
        "geography/gm_lsoa21_to_ward22_best-fit_lookup.csv",
    ]
    .map(|f| shared_file(&root, f));
    let drafts = read_lookups(&catalog(), &files, &NoProgress).unwrap();
    let summary: Vec<(&str, u64, &str)> = drafts
        .iter()
        .map(|d| {
            (
                d.dataset.as_str(),
                d.sources[0].rows,
                d.vintage["ward"].as_str(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            ("lookup-lsoa11-wd19", 34753, "WD19"),
            ("lookup-lsoa21-wd22", 1702, "WD22")
        ]
    );
    assert!(drafts.iter().all(|d| d.attributes["fit"] == "best-fit"));
    let wd19 = table(&drafts[0], "lookup");
    let english_wards = wd19
        .column("ward_code")
        .unwrap()
        .str()
        .unwrap()
        .iter()
        .flatten()
        .filter(|c| c.starts_with("E05"))
        .collect::<std::collections::HashSet<_>>()
        .len();
    assert_eq!(english_wards, 7180);
}
