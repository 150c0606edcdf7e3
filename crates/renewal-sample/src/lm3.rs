//! Renewal Vale's LM3 survey (fictional): the returns of five main suppliers, one of which did
//! not respond (round 2), and re-spend returns from three of their local staff and two of their
//! local suppliers (round 3), in the layouts of `data-schemas/datasets/lm3/` (no BOM, LF, money
//! in pounds with thousands separators, quoted as a council export quotes them).
//!
//! The figures are fixed, not drawn from the seed: they are the worked example of the README,
//! and every step can be checked by hand.
//!
//! - Round 1: £400,000 + £250,000 + £100,000 + £200,000 + £50,000 = £1,000,000.
//! - Responders' local shares (staff, suppliers): Vale Care 0.3, 0.1; Brookmere Building 0.2,
//!   0.3; Millgate Catering 0.4, 0.1; Canal Side Print 0.1, 0.05. Their round 2: staff
//!   £120,000 + £50,000 + £40,000 + £5,000 = £215,000; suppliers £40,000 + £75,000 + £10,000 +
//!   £2,500 = £127,500, out of £800,000 of round 1 (response 4 of 5 by count, 80% by spend).
//! - Northern Facilities (£200,000, no return) takes the round-1-weighted mean shares
//!   215,000 / 800,000 = 0.26875 and 127,500 / 800,000 = 0.159375: £53,750 and £31,875.
//! - Round 2: staff £268,750, suppliers £159,375, £428,125 in all.
//! - Round 3: staff re-spend (12,000 + 15,000 + 9,000) / (24,000 + 30,000 + 26,000) = 0.45;
//!   suppliers (10,000 + 5,000) / (40,000 + 10,000) = 0.3. So £120,937.50 + £47,812.50 =
//!   £168,750.
//! - LM3 = (1,000,000 + 428,125 + 168,750) / 1,000,000 = 1.596875 (511/320).

use crate::Output;
use crate::text::{Layout, Table};

/// The supplier returns (round 2).
pub(crate) const SURVEY: &str = "spend/renewal_vale_lm3_survey.csv";
/// The re-spend returns (round 3).
pub(crate) const RESPEND: &str = "spend/renewal_vale_lm3_respend.csv";

/// LM3 of the sample survey, worked by hand above: 511/320.
#[cfg(test)]
pub(crate) const LM3: (i64, i64) = (511, 320);

const SUPPLIERS: [[&str; 7]; 5] = [
    [
        "Vale Care Partnership Ltd",
        "99900001",
        "400,000.00",
        "Yes",
        "1,000,000.00",
        "300,000.00",
        "100,000.00",
    ],
    [
        "Brookmere Building Services Limited",
        "99900002",
        "250,000.00",
        "Yes",
        "500,000.00",
        "100,000.00",
        "150,000.00",
    ],
    [
        "Millgate Catering CIC",
        "",
        "100,000.00",
        "Yes",
        "200,000.00",
        "80,000.00",
        "20,000.00",
    ],
    [
        "Northern Facilities Group plc",
        "99900004",
        "200,000.00",
        "No",
        "",
        "",
        "",
    ],
    [
        "Canal Side Print Ltd",
        "99900005",
        "50,000.00",
        "Yes",
        "100,000.00",
        "10,000.00",
        "5,000.00",
    ],
];

const RESPENDS: [[&str; 4]; 5] = [
    [
        "Vale Care Partnership Ltd",
        "staff",
        "24,000.00",
        "12,000.00",
    ],
    [
        "Brookmere Building Services Limited",
        "staff",
        "30,000.00",
        "15,000.00",
    ],
    ["Millgate Catering CIC", "staff", "26,000.00", "9,000.00"],
    [
        "Vale Care Partnership Ltd",
        "supplier",
        "40,000.00",
        "10,000.00",
    ],
    [
        "Brookmere Building Services Limited",
        "supplier",
        "10,000.00",
        "5,000.00",
    ],
];

/// The two survey files.
pub(crate) fn files() -> Vec<Output> {
    let mut survey = Table::plain(
        &[
            "Supplier",
            "Company Number",
            "Round 1 Spend",
            "Responded",
            "Total Spend",
            "Local Staff Spend",
            "Local Supplier Spend",
        ],
        Layout::LfAfterEach,
    );
    for row in &SUPPLIERS {
        survey.row(row);
    }
    let (survey, survey_rows) = survey.finish();
    let mut respend = Table::plain(
        &["Supplier", "Respondent Type", "Income", "Local Spend"],
        Layout::LfAfterEach,
    );
    for row in &RESPENDS {
        respend.row(row);
    }
    let (respend, respend_rows) = respend.finish();
    vec![
        Output {
            name: SURVEY,
            description: "LM3 supplier returns (round 2) of Renewal Vale's five main suppliers, \
                          one not responding; `renewal ingest lm3-survey` with the re-spend file"
                .into(),
            rows: survey_rows,
            text: survey,
            gzip: false,
        },
        Output {
            name: RESPEND,
            description: "LM3 re-spend returns (round 3) of three local staff and two local \
                          suppliers of those suppliers"
                .into(),
            rows: respend_rows,
            text: respend,
            gzip: false,
        },
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Pounds to pence by hand-rolled parsing (no float), for the check below.
    fn pence(text: &str) -> i64 {
        let t = text.replace(',', "");
        let (p, d) = t.split_once('.').unwrap();
        p.parse::<i64>().unwrap() * 100 + d.parse::<i64>().unwrap()
    }

    /// The files carry exactly the figures the module's worked example uses: recomputing LM3
    /// from the tables with plain integer arithmetic gives 511/320.
    #[test]
    fn files_hold_the_worked_example() {
        let files = files();
        assert_eq!(files.len(), 2);
        assert_eq!(files[0].rows, 5);
        assert_eq!(files[1].rows, 5);
        assert!(files[0].text.starts_with(
            "Supplier,Company Number,Round 1 Spend,Responded,Total Spend,Local Staff Spend,Local Supplier Spend\n"
        ));
        assert!(
            files[0]
                .text
                .contains("\nNorthern Facilities Group plc,99900004,\"200,000.00\",No,,,\n")
        );
        assert!(files[1].text.ends_with("\"5,000.00\"\n"));

        // Every responder's shares are tenths or twentieths of its total: scale round 2 by
        // 1/100 of a penny to stay in integers.
        let r1: i64 = SUPPLIERS.iter().map(|s| pence(s[2])).sum();
        assert_eq!(r1, 100_000_000);
        let responders: Vec<_> = SUPPLIERS.iter().filter(|s| s[3] == "Yes").collect();
        let r1_resp: i64 = responders.iter().map(|s| pence(s[2])).sum();
        let staff: i64 = responders
            .iter()
            .map(|s| pence(s[2]) * pence(s[5]) / pence(s[4]))
            .sum();
        let sup: i64 = responders
            .iter()
            .map(|s| pence(s[2]) * pence(s[6]) / pence(s[4]))
            .sum();
        assert_eq!((staff, sup, r1_resp), (21_500_000, 12_750_000, 80_000_000));
        let r1_non = r1 - r1_resp;
        let (staff, sup) = (
            staff + r1_non * staff / r1_resp,
            sup + r1_non * sup / r1_resp,
        );
        assert_eq!((staff, sup), (26_875_000, 15_937_500));
        let sum = |kind: &str, col: usize| -> i64 {
            RESPENDS
                .iter()
                .filter(|r| r[1] == kind)
                .map(|r| pence(r[col]))
                .sum()
        };
        let r3 = staff * sum("staff", 3) / sum("staff", 2)
            + sup * sum("supplier", 3) / sum("supplier", 2);
        assert_eq!(r3, 16_875_000);
        let total = r1 + staff + sup + r3;
        // total / r1 = 511 / 320.
        assert_eq!(total * LM3.1, r1 * LM3.0);
    }
}
