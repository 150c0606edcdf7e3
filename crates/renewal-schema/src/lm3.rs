//! Layouts of Local Multiplier 3 (LM3) survey returns (`data-schemas/datasets/lm3/`): which
//! header holds each field of a supplier return (round 2) or a re-spend return (round 3), and
//! the spellings of `Yes`/`No` and of the respondent types.
//!
//! The fields themselves, and the names they are stored under, are fixed here: they are the
//! Parquet contract between `renewal ingest lm3-survey` and `renewal lm3`. What a format file
//! says is only how a layout spells them, so a council's own column names are a new TOML file,
//! not code.

use std::collections::{BTreeMap, BTreeSet};

use serde::Deserialize;

use crate::SchemaError;

/// Which table of an `lm3-survey` dataset a layout fills.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Lm3Table {
    /// Round 2: one row per surveyed supplier.
    Suppliers,
    /// Round 3: one row per re-spend respondent.
    Respend,
}

impl Lm3Table {
    /// The stored table name.
    pub fn as_str(self) -> &'static str {
        match self {
            Lm3Table::Suppliers => "suppliers",
            Lm3Table::Respend => "respend",
        }
    }

    /// The fields a layout of this table may name, in stored column order.
    pub fn fields(self) -> &'static [Lm3Field] {
        use Lm3Field::*;
        match self {
            Lm3Table::Suppliers => &[
                Supplier,
                CompanyNumber,
                Round1Spend,
                Responded,
                TotalSpend,
                LocalStaffSpend,
                LocalSupplierSpend,
            ],
            Lm3Table::Respend => &[Supplier, RespondentType, Income, LocalSpend],
        }
    }
}

/// A field of an LM3 return.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Lm3Field {
    /// The supplier's name as the body's ledger gives it.
    Supplier,
    /// Companies House number, where known.
    CompanyNumber,
    /// The body's spend with the supplier in the period (pounds).
    Round1Spend,
    /// Whether the supplier returned the survey.
    Responded,
    /// The supplier's total expenditure in the period (pounds).
    TotalSpend,
    /// The part of it paid to staff living inside the boundary (pounds).
    LocalStaffSpend,
    /// The part of it paid to suppliers based inside the boundary (pounds).
    LocalSupplierSpend,
    /// `staff` or `supplier`.
    RespondentType,
    /// What a re-spend respondent received from the supplier (pounds).
    Income,
    /// How much of that income the respondent spent inside the boundary (pounds).
    LocalSpend,
}

impl Lm3Field {
    /// The stored column name (money fields are stored in pence).
    pub fn column(self) -> &'static str {
        match self {
            Lm3Field::Supplier => "supplier",
            Lm3Field::CompanyNumber => "company_number",
            Lm3Field::Round1Spend => "round1_pence",
            Lm3Field::Responded => "responded",
            Lm3Field::TotalSpend => "total_spend_pence",
            Lm3Field::LocalStaffSpend => "local_staff_pence",
            Lm3Field::LocalSupplierSpend => "local_supplier_pence",
            Lm3Field::RespondentType => "respondent_type",
            Lm3Field::Income => "income_pence",
            Lm3Field::LocalSpend => "local_spend_pence",
        }
    }
}

/// A respondent type of the re-spend returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RespondentKind {
    /// Staff of a round-2 supplier living inside the boundary.
    Staff,
    /// A local supplier of a round-2 supplier.
    Supplier,
}

impl RespondentKind {
    /// The stored spelling (`staff`, `supplier`).
    pub fn as_str(self) -> &'static str {
        match self {
            RespondentKind::Staff => "staff",
            RespondentKind::Supplier => "supplier",
        }
    }
}

/// One header of a layout and the other spellings it is known by.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Lm3Column {
    /// The header as the layout prints it.
    pub header: String,
    /// Other spellings of the same header.
    #[serde(default)]
    pub aliases: Vec<String>,
}

impl Lm3Column {
    /// Does a file's header cell name this column (surrounding spaces and case ignored)?
    pub fn answers_to(&self, header: &str) -> bool {
        let h = header.trim();
        std::iter::once(&self.header)
            .chain(&self.aliases)
            .any(|a| a.trim().eq_ignore_ascii_case(h))
    }
}

/// One layout of LM3 survey returns (`datasets/lm3/*.toml`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Lm3Format {
    /// Unique among all formats; recorded in provenance.
    pub id: String,
    /// One line for humans.
    pub description: String,
    /// The table this layout fills.
    pub table: Lm3Table,
    /// The header of each field.
    pub columns: BTreeMap<Lm3Field, Lm3Column>,
    /// Fields a file of this layout may leave out.
    #[serde(default)]
    pub optional: Vec<Lm3Field>,
    /// Headers known and deliberately not stored.
    #[serde(default)]
    pub ignore: Vec<String>,
    /// Spellings of "responded" (supplier returns), compared ignoring case.
    #[serde(default)]
    pub yes: Vec<String>,
    /// Spellings of "did not respond" (supplier returns), compared ignoring case.
    #[serde(default)]
    pub no: Vec<String>,
    /// Spellings of each respondent type (re-spend returns), compared ignoring case.
    #[serde(default)]
    pub respondent_types: BTreeMap<RespondentKind, Vec<String>>,
}

impl Lm3Format {
    /// Does a file with these headers belong to this layout: every field it requires is there
    /// and every other header is one it names or ignores?
    pub fn matches(&self, headers: &[String]) -> bool {
        let required = self
            .columns
            .iter()
            .filter(|(f, _)| !self.optional.contains(f))
            .all(|(_, c)| headers.iter().any(|h| c.answers_to(h)));
        let known = headers.iter().filter(|h| !h.trim().is_empty()).all(|h| {
            self.columns.values().any(|c| c.answers_to(h))
                || self
                    .ignore
                    .iter()
                    .any(|i| i.trim().eq_ignore_ascii_case(h.trim()))
        });
        required && known
    }

    /// The position of each field's column in `headers` (absent optional fields are left out).
    pub fn positions(&self, headers: &[String]) -> BTreeMap<Lm3Field, usize> {
        self.columns
            .iter()
            .filter_map(|(f, c)| {
                headers
                    .iter()
                    .position(|h| c.answers_to(h))
                    .map(|i| (*f, i))
            })
            .collect()
    }

    /// Whether `text` means "responded" (`Some(true)`), "did not respond" (`Some(false)`) or
    /// neither.
    pub fn response(&self, text: &str) -> Option<bool> {
        let t = text.trim();
        if self.yes.iter().any(|y| y.eq_ignore_ascii_case(t)) {
            Some(true)
        } else if self.no.iter().any(|n| n.eq_ignore_ascii_case(t)) {
            Some(false)
        } else {
            None
        }
    }

    /// The respondent type `text` spells, if any.
    pub fn respondent_kind(&self, text: &str) -> Option<RespondentKind> {
        let t = text.trim();
        self.respondent_types
            .iter()
            .find(|(_, spellings)| spellings.iter().any(|s| s.eq_ignore_ascii_case(t)))
            .map(|(k, _)| *k)
    }

    pub(crate) fn check(&self, path: &str) -> Result<(), SchemaError> {
        let invalid = |message: String| SchemaError::Invalid {
            file: path.to_owned(),
            message,
        };
        let allowed: BTreeSet<Lm3Field> = self.table.fields().iter().copied().collect();
        if let Some(f) = self.columns.keys().find(|f| !allowed.contains(f)) {
            return Err(invalid(format!(
                "{} is not a field of the {} table",
                f.column(),
                self.table.as_str()
            )));
        }
        // Every field but the company number is needed by the calculation.
        let may_be_missing = [Lm3Field::CompanyNumber];
        for f in self.table.fields() {
            let named = self.columns.contains_key(f);
            if !named && !may_be_missing.contains(f) {
                return Err(invalid(format!("no header for {}", f.column())));
            }
            if self.optional.contains(f) && !may_be_missing.contains(f) {
                return Err(invalid(format!("{} cannot be optional", f.column())));
            }
        }
        match self.table {
            Lm3Table::Suppliers => {
                if self.yes.is_empty() || self.no.is_empty() {
                    return Err(invalid(
                        "supplier returns need `yes` and `no` spellings".into(),
                    ));
                }
                if let Some(w) = self.yes.iter().find(|y| self.response_is_no(y)) {
                    return Err(invalid(format!("{w:?} is in both `yes` and `no`")));
                }
                if !self.respondent_types.is_empty() {
                    return Err(invalid(
                        "respondent_types belong to re-spend returns".into(),
                    ));
                }
            }
            Lm3Table::Respend => {
                for k in [RespondentKind::Staff, RespondentKind::Supplier] {
                    if self.respondent_types.get(&k).is_none_or(Vec::is_empty) {
                        return Err(invalid(format!(
                            "no spellings for respondent type {}",
                            k.as_str()
                        )));
                    }
                }
                if !self.yes.is_empty() || !self.no.is_empty() {
                    return Err(invalid("yes/no belong to supplier returns".into()));
                }
            }
        }
        Ok(())
    }

    fn response_is_no(&self, text: &str) -> bool {
        self.no.iter().any(|n| n.eq_ignore_ascii_case(text.trim()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Catalog;

    fn headers(h: &[&str]) -> Vec<String> {
        h.iter().map(|s| s.to_string()).collect()
    }

    /// The two shipped layouts read the headers their comments document, and only those.
    #[test]
    fn shipped_layouts_recognise_their_headers() {
        let catalog = Catalog::embedded().unwrap();
        let suppliers = headers(&[
            "Supplier",
            "Company Number",
            "Round 1 Spend",
            "Responded",
            "Total Spend",
            "Local Staff Spend",
            "Local Supplier Spend",
        ]);
        let respend = headers(&["Supplier", "Respondent Type", "Income", "Local Spend"]);
        let matching = |h: &[String]| -> Vec<&str> {
            catalog
                .lm3
                .iter()
                .filter(|(_, f)| f.matches(h))
                .map(|(_, f)| f.id.as_str())
                .collect()
        };
        assert_eq!(matching(&suppliers), ["lm3-supplier-returns"]);
        assert_eq!(matching(&respend), ["lm3-respend-returns"]);
        // The company number may be left out; any other field may not.
        assert_eq!(
            matching(
                &suppliers[..1]
                    .iter()
                    .chain(&suppliers[2..])
                    .cloned()
                    .collect::<Vec<_>>()
            ),
            ["lm3-supplier-returns"]
        );
        assert!(matching(&suppliers[..6]).is_empty());
        // An unknown column is not silently dropped.
        let mut extra = respend.clone();
        extra.push("Postcode".into());
        assert!(matching(&extra).is_empty());

        let (_, s) = catalog
            .lm3
            .iter()
            .find(|(_, f)| f.table == Lm3Table::Suppliers)
            .unwrap();
        assert_eq!(s.response(" yes "), Some(true));
        assert_eq!(s.response("N"), Some(false));
        assert_eq!(s.response("maybe"), None);
        let (_, r) = catalog
            .lm3
            .iter()
            .find(|(_, f)| f.table == Lm3Table::Respend)
            .unwrap();
        assert_eq!(r.respondent_kind("Staff"), Some(RespondentKind::Staff));
        assert_eq!(
            r.respondent_kind("Local supplier"),
            Some(RespondentKind::Supplier)
        );
        assert_eq!(r.respondent_kind("director"), None);
        let pos = r.positions(&respend);
        assert_eq!(pos[&Lm3Field::LocalSpend], 3);
    }

    #[test]
    fn checks_refuse_incomplete_layouts() {
        let file = |text: &str| {
            Catalog::from_files([("datasets/lm3/x.toml".to_owned(), text.to_owned())])
                .unwrap_err()
                .to_string()
        };
        let err = file(
            "id = \"x\"\ndescription = \"d\"\ntable = \"respend\"\n\
             [columns]\nsupplier = { header = \"S\" }\nincome = { header = \"I\" }\n\
             respondent_type = { header = \"T\" }\n\
             [respondent_types]\nstaff = [\"staff\"]\nsupplier = [\"supplier\"]\n",
        );
        assert!(err.contains("no header for local_spend_pence"), "{err}");
        let err = file(
            "id = \"x\"\ndescription = \"d\"\ntable = \"respend\"\n\
             [columns]\nsupplier = { header = \"S\" }\nincome = { header = \"I\" }\n\
             respondent_type = { header = \"T\" }\nlocal_spend = { header = \"L\" }\n\
             responded = { header = \"R\" }\n\
             [respondent_types]\nstaff = [\"staff\"]\nsupplier = [\"supplier\"]\n",
        );
        assert!(
            err.contains("responded is not a field of the respend table"),
            "{err}"
        );
        let err = file(
            "id = \"x\"\ndescription = \"d\"\ntable = \"respend\"\n\
             [columns]\nsupplier = { header = \"S\" }\nincome = { header = \"I\" }\n\
             respondent_type = { header = \"T\" }\nlocal_spend = { header = \"L\" }\n\
             [respondent_types]\nstaff = [\"staff\"]\n",
        );
        assert!(err.contains("respondent type supplier"), "{err}");
    }
}
