//! Periods as statistics are published: census day, calendar month, calendar year, financial
//! year. Every observation carries its period and the period's type.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PeriodType {
    /// A census reference date, `2021-03-21`.
    CensusDay,
    /// A calendar month, `2017-05` (also read from `2017-05-01`).
    Month,
    /// A calendar year, `2021`.
    CalendarYear,
    /// An April–March financial year, `2016-17` (also read from `2016/17`).
    FinancialYear,
}

impl PeriodType {
    pub fn as_str(self) -> &'static str {
        match self {
            PeriodType::CensusDay => "census_day",
            PeriodType::Month => "month",
            PeriodType::CalendarYear => "calendar_year",
            PeriodType::FinancialYear => "financial_year",
        }
    }

    /// Reads a period written any of the accepted ways, returning its canonical label and the
    /// ISO date it starts on (for sorting and time axes).
    pub fn parse(self, text: &str) -> Result<Period, String> {
        let t = text.trim();
        let bad = || format!("{t:?} is not a {} period", self.describe());
        let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        let (label, start) = match self {
            PeriodType::CensusDay => {
                // Nomis bulk files give only the census year; the day is a matter of record.
                let (y, m, d) = match t {
                    "2001" => (2001, 4, 29),
                    "2011" => (2011, 3, 27),
                    "2021" => (2021, 3, 21),
                    _ => ymd(t).ok_or_else(bad)?,
                };
                (
                    format!("{y:04}-{m:02}-{d:02}"),
                    format!("{y:04}-{m:02}-{d:02}"),
                )
            }
            PeriodType::Month => {
                let (y, m) = match t.len() {
                    7 => {
                        let (y, m) = t.split_once('-').ok_or_else(bad)?;
                        if !digits(y) || !digits(m) {
                            return Err(bad());
                        }
                        (y.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?)
                    }
                    10 => match ymd(t).ok_or_else(bad)? {
                        (y, m, 1) => (y, m),
                        _ => return Err(format!("{t:?} is not the first day of a month")),
                    },
                    _ => return Err(bad()),
                };
                if !(1..=12).contains(&m) {
                    return Err(bad());
                }
                (format!("{y:04}-{m:02}"), format!("{y:04}-{m:02}-01"))
            }
            PeriodType::CalendarYear => {
                if t.len() != 4 || !digits(t) {
                    return Err(bad());
                }
                (t.to_owned(), format!("{t}-01-01"))
            }
            PeriodType::FinancialYear => {
                let (y, yy) = t.split_once(['-', '/']).ok_or_else(bad)?;
                if y.len() != 4 || yy.len() != 2 || !digits(y) || !digits(yy) {
                    return Err(bad());
                }
                let year: u32 = y.parse().map_err(|_| bad())?;
                let next: u32 = yy.parse().map_err(|_| bad())?;
                if (year + 1) % 100 != next {
                    return Err(format!("{t:?}: a financial year spans consecutive years"));
                }
                (format!("{year}-{next:02}"), format!("{year}-04-01"))
            }
        };
        Ok(Period {
            kind: self,
            label,
            start,
        })
    }

    fn describe(self) -> &'static str {
        match self {
            PeriodType::CensusDay => "census day (YYYY-MM-DD, or a census year)",
            PeriodType::Month => "month (YYYY-MM)",
            PeriodType::CalendarYear => "calendar year (YYYY)",
            PeriodType::FinancialYear => "financial year (YYYY-YY)",
        }
    }
}

impl fmt::Display for PeriodType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for PeriodType {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        [
            PeriodType::CensusDay,
            PeriodType::Month,
            PeriodType::CalendarYear,
            PeriodType::FinancialYear,
        ]
        .into_iter()
        .find(|p| p.as_str() == s)
        .ok_or_else(|| format!("unknown period type {s:?}"))
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Period {
    pub kind: PeriodType,
    pub label: String,
    /// ISO date of the period's first day.
    pub start: String,
}

fn ymd(t: &str) -> Option<(u32, u32, u32)> {
    let mut parts = t.split('-');
    let (y, m, d) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || y.len() != 4 || m.len() != 2 || d.len() != 2 {
        return None;
    }
    let (y, m, d) = (y.parse().ok()?, m.parse().ok()?, d.parse().ok()?);
    let days = match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if y % 4 == 0 && (y % 100 != 0 || y % 400 == 0) => 29,
        2 => 28,
        _ => return None,
    };
    (1..=days).contains(&d).then_some((y, m, d))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(kind: PeriodType, text: &str, want: Result<(&str, &str), ()>) {
        let got = kind.parse(text).map(|p| (p.label, p.start)).map_err(|_| ());
        let want = want.map(|(l, s)| (l.to_owned(), s.to_owned()));
        assert_eq!(got, want, "{kind} {text:?}");
    }

    #[test]
    fn periods() {
        use PeriodType::*;
        check(CensusDay, "2021-03-21", Ok(("2021-03-21", "2021-03-21")));
        check(CensusDay, "2021-02-30", Err(()));
        check(CensusDay, "2011", Ok(("2011-03-27", "2011-03-27")));
        check(CensusDay, "2021", Ok(("2021-03-21", "2021-03-21")));
        check(CensusDay, "2020", Err(()));
        check(Month, "2017-05-01", Ok(("2017-05", "2017-05-01")));
        check(Month, "2021-01", Ok(("2021-01", "2021-01-01")));
        check(Month, "2017-05-02", Err(()));
        check(Month, "2017-13", Err(()));
        check(CalendarYear, "2021", Ok(("2021", "2021-01-01")));
        check(CalendarYear, "21", Err(()));
        check(FinancialYear, "2016-17", Ok(("2016-17", "2016-04-01")));
        check(FinancialYear, "2099/00", Ok(("2099-00", "2099-04-01")));
        check(FinancialYear, "2016-18", Err(()));
        check(FinancialYear, "2016", Err(()));
    }
}
