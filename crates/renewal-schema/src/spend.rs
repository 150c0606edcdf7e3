//! Councils' "spend over £500" transparency files and supplier registers
//! (`datasets/spend/`, `datasets/suppliers/`).
//!
//! Every council publishes its own header, and renames columns between months, so a format names
//! each field by one or more headers (matched ignoring case and surrounding space). The word
//! lists that classify payees and normalise supplier names live in `datasets/spend/payees.toml`,
//! so a supplier key never changes by code alone.

use std::collections::{BTreeMap, BTreeSet};

use serde::Deserialize;

use crate::{SchemaError, SchemaFile};

/// How a spend file writes its dates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DateStyle {
    /// `2019-04-01`.
    Iso,
    /// `10/10/2017` (day, month, year).
    Uk,
}

/// The headers one field may have: the first as usually published, the rest aliases.
pub type Headers = Vec<String>;

/// Where the net amount comes from.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GrossLessVat {
    /// The gross (VAT-inclusive) amount.
    pub gross: Headers,
    /// The VAT included in it.
    pub vat: Headers,
}

/// Which headers hold each field of a payment.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SpendColumns {
    /// The paying body as published; absent when the format fixes [`SpendFormat::body`].
    #[serde(default)]
    pub body: Option<Headers>,
    /// Date of payment.
    pub date: Headers,
    /// Transaction or document reference.
    #[serde(default)]
    pub reference: Option<Headers>,
    /// Net amount (pounds, as published; refunds negative).
    #[serde(default)]
    pub net: Option<Headers>,
    /// For files that give only gross and VAT: net is gross less VAT.
    #[serde(default)]
    pub gross_less_vat: Option<GrossLessVat>,
    /// Supplier (beneficiary) name.
    pub supplier_name: Headers,
    /// Companies House number of the supplier, where the layout gives one.
    #[serde(default)]
    pub company_number: Option<Headers>,
    /// Charity Commission number of the supplier, where the layout gives one.
    #[serde(default)]
    pub charity_number: Option<Headers>,
    /// Service area, directorate or expense area.
    #[serde(default)]
    pub service_area: Option<Headers>,
    /// Expense type, G/L description or purpose of spend.
    #[serde(default)]
    pub expense_type: Option<Headers>,
}

/// A layout of a spend-over-£500 file. A file belongs to a format when every field the format
/// declares has one of its headers in the file (and every `recognise` header is there).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SpendFormat {
    /// Recorded as each source's format in the manifest.
    pub id: String,
    /// What files of this layout are, in a line.
    pub description: String,
    /// How the date column is written.
    pub date_style: DateStyle,
    /// The paying body, for layouts without a body column.
    #[serde(default)]
    pub body: Option<String>,
    /// The district code (GSS) of each paying body known to publish this layout, by the body
    /// as published: a layout copied by another council (or the sample's fictional one) gets
    /// no district by mistake.
    #[serde(default)]
    pub body_areas: BTreeMap<String, String>,
    /// Extra headers that must be present to claim a file.
    #[serde(default)]
    pub recognise: Vec<String>,
    pub columns: SpendColumns,
}

/// Finds `names` among `headers` ignoring case and surrounding space: the column index.
pub fn find_header(headers: &[String], names: &[String]) -> Option<usize> {
    headers.iter().position(|h| {
        let h = h.trim();
        names.iter().any(|n| n.trim().eq_ignore_ascii_case(h))
    })
}

impl SpendColumns {
    /// (field, headers) of every declared field, in a fixed order.
    pub fn declared(&self) -> Vec<(&'static str, &Headers)> {
        let (gross, vat) = match &self.gross_less_vat {
            Some(g) => (Some(&g.gross), Some(&g.vat)),
            None => (None, None),
        };
        [
            ("body", self.body.as_ref()),
            ("date", Some(&self.date)),
            ("reference", self.reference.as_ref()),
            ("net", self.net.as_ref()),
            ("gross", gross),
            ("vat", vat),
            ("supplier_name", Some(&self.supplier_name)),
            ("company_number", self.company_number.as_ref()),
            ("charity_number", self.charity_number.as_ref()),
            ("service_area", self.service_area.as_ref()),
            ("expense_type", self.expense_type.as_ref()),
        ]
        .into_iter()
        .filter_map(|(f, h)| h.map(|h| (f, h)))
        .collect()
    }
}

/// How many of `declared` fields and `recognise` headers a file with `headers` has, or `None`
/// when one is missing: the score of both spend and supplier formats.
fn score(
    declared: &[(&'static str, &Headers)],
    recognise: &[String],
    headers: &[String],
) -> Option<usize> {
    let all = declared
        .iter()
        .all(|(_, h)| find_header(headers, h).is_some())
        && recognise
            .iter()
            .all(|r| find_header(headers, std::slice::from_ref(r)).is_some());
    all.then_some(declared.len() + recognise.len())
}

impl SpendFormat {
    /// How many declared fields a file with these headers has, or `None` when one is missing
    /// (the format does not read the file). More fields found is a closer match.
    pub fn score(&self, headers: &[String]) -> Option<usize> {
        score(&self.columns.declared(), &self.recognise, headers)
    }

    fn check(&self, file: &str) -> Result<(), SchemaError> {
        let invalid = |message: String| SchemaError::Invalid {
            file: file.to_owned(),
            message,
        };
        let c = &self.columns;
        if c.net.is_some() == c.gross_less_vat.is_some() {
            return Err(invalid(
                "declare exactly one of columns.net and columns.gross_less_vat".into(),
            ));
        }
        if c.body.is_some() == self.body.is_some() {
            return Err(invalid(
                "declare exactly one of columns.body (a body column) and body (a fixed body)"
                    .into(),
            ));
        }
        for (body, code) in &self.body_areas {
            renewal_geo::validate_code(renewal_geo::Level::Lad, code).map_err(|e| {
                invalid(format!(
                    "body_areas: {body:?} = {code:?} is not a district code: {e}"
                ))
            })?;
        }
        let mut seen = BTreeSet::new();
        for (field, headers) in c.declared() {
            if headers.is_empty() {
                return Err(invalid(format!("columns.{field} names no header")));
            }
            for h in headers {
                if !seen.insert(h.trim().to_ascii_lowercase()) {
                    return Err(invalid(format!("header {h:?} is named twice")));
                }
            }
        }
        Ok(())
    }
}

/// Which headers hold each field of a supplier register or supplier list.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SupplierColumns {
    /// The supplier's name.
    pub supplier_name: Headers,
    /// Companies House number.
    #[serde(default)]
    pub company_number: Option<Headers>,
    /// Charity Commission number.
    #[serde(default)]
    pub charity_number: Option<Headers>,
    /// The supplier's postcode (any spelling; normalised when read).
    #[serde(default)]
    pub postcode: Option<Headers>,
    /// Whether the supplier is a small or medium enterprise.
    #[serde(default)]
    pub sme: Option<Headers>,
}

impl SupplierColumns {
    /// (field, headers) of every declared field.
    pub fn declared(&self) -> Vec<(&'static str, &Headers)> {
        [
            ("supplier_name", Some(&self.supplier_name)),
            ("company_number", self.company_number.as_ref()),
            ("charity_number", self.charity_number.as_ref()),
            ("postcode", self.postcode.as_ref()),
            ("sme", self.sme.as_ref()),
        ]
        .into_iter()
        .filter_map(|(f, h)| h.map(|h| (f, h)))
        .collect()
    }
}

/// A layout of a contract register or a supplier list: who the suppliers are and where.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SupplierFormat {
    /// Recorded as each source's format in the manifest.
    pub id: String,
    /// What files of this layout are, in a line.
    pub description: String,
    /// The body whose suppliers these are, for a register that belongs to one (names the
    /// dataset when `--dataset` is not given).
    #[serde(default)]
    pub body: Option<String>,
    /// Extra headers that must be present to claim a file.
    #[serde(default)]
    pub recognise: Vec<String>,
    /// Cell values meaning "yes, an SME" (compared ignoring case).
    #[serde(default)]
    pub sme_yes: Vec<String>,
    /// Cell values meaning "not an SME"; any other value is unknown (null).
    #[serde(default)]
    pub sme_no: Vec<String>,
    pub columns: SupplierColumns,
}

impl SupplierFormat {
    /// As [`SpendFormat::score`].
    pub fn score(&self, headers: &[String]) -> Option<usize> {
        score(&self.columns.declared(), &self.recognise, headers)
    }

    /// `Some(true)` / `Some(false)` for a declared yes / no value, else `None`.
    pub fn sme(&self, value: &str) -> Option<bool> {
        let v = value.trim();
        if self.sme_yes.iter().any(|y| y.eq_ignore_ascii_case(v)) {
            Some(true)
        } else if self.sme_no.iter().any(|n| n.eq_ignore_ascii_case(v)) {
            Some(false)
        } else {
            None
        }
    }

    fn check(&self, file: &str) -> Result<(), SchemaError> {
        if self.columns.sme.is_some() && (self.sme_yes.is_empty() || self.sme_no.is_empty()) {
            return Err(SchemaError::Invalid {
                file: file.to_owned(),
                message: "columns.sme needs sme_yes and sme_no values".into(),
            });
        }
        Ok(())
    }
}

/// `datasets/spend/payees.toml`: the words that normalise supplier names and classify payees.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PayeeRules {
    /// Names that stand for a withheld payee ("Redacted Personal Information"), compared by
    /// supplier key.
    pub redaction_markers: Vec<String>,
    /// Whole words that make a payee an organisation (`ltd`, `council`, `trust`, …), looked
    /// for among the words of the normalised name.
    pub organisation_words: Vec<String>,
    /// Legal-form words dropped from the end of a supplier key (`ltd`, `limited`, `plc`, …).
    pub legal_forms: Vec<String>,
    /// Leading words dropped from a supplier key (`the`).
    pub leading_words: Vec<String>,
}

impl PayeeRules {
    fn check(&self, file: &str) -> Result<(), SchemaError> {
        let lists = [
            ("organisation_words", &self.organisation_words),
            ("legal_forms", &self.legal_forms),
            ("leading_words", &self.leading_words),
        ];
        for (name, list) in lists {
            if let Some(w) = list.iter().find(|w| {
                w.is_empty() || w.chars().any(|c| !c.is_alphanumeric() || c.is_uppercase())
            }) {
                return Err(SchemaError::Invalid {
                    file: file.to_owned(),
                    message: format!("{name}: {w:?} must be one lower-case word"),
                });
            }
        }
        if self.redaction_markers.is_empty() {
            return Err(SchemaError::Invalid {
                file: file.to_owned(),
                message: "redaction_markers is empty".into(),
            });
        }
        Ok(())
    }
}

/// The spend and supplier formats of a catalog.
#[derive(Debug, Clone, Default)]
pub struct SpendCatalog {
    /// `datasets/spend/*.toml` other than the payee word lists.
    pub spend: Vec<(SchemaFile, SpendFormat)>,
    /// `datasets/suppliers/*.toml`.
    pub suppliers: Vec<(SchemaFile, SupplierFormat)>,
    /// `datasets/spend/payees.toml`, with its hash (it shapes every key and class).
    pub payees: Option<(SchemaFile, PayeeRules)>,
}

/// The file name, under `datasets/spend/`, of the payee word lists.
pub const PAYEES_FILE: &str = "payees.toml";

impl SpendCatalog {
    /// Parses one file of `datasets/spend/` (`family = "spend"`) or `datasets/suppliers/`;
    /// returns the id it claims.
    pub(crate) fn load(
        &mut self,
        family: &str,
        name: &str,
        text: &str,
        file: SchemaFile,
    ) -> Result<String, SchemaError> {
        let toml_err = |source| SchemaError::Toml {
            file: file.path.clone(),
            source: Box::new(source),
        };
        if family == "spend" && name == PAYEES_FILE {
            let rules: PayeeRules = toml::from_str(text).map_err(toml_err)?;
            rules.check(&file.path)?;
            self.payees = Some((file, rules));
            return Ok("spend payees".into());
        }
        if family == "spend" {
            let format: SpendFormat = toml::from_str(text).map_err(toml_err)?;
            format.check(&file.path)?;
            let id = format.id.clone();
            self.spend.push((file, format));
            Ok(id)
        } else {
            let format: SupplierFormat = toml::from_str(text).map_err(toml_err)?;
            format.check(&file.path)?;
            let id = format.id.clone();
            self.suppliers.push((file, format));
            Ok(id)
        }
    }

    /// Every schema file of these formats.
    pub fn files(&self) -> impl Iterator<Item = &SchemaFile> {
        self.spend
            .iter()
            .map(|(f, _)| f)
            .chain(self.suppliers.iter().map(|(f, _)| f))
            .chain(self.payees.iter().map(|(f, _)| f))
    }
}

#[cfg(test)]
mod tests {
    use crate::Catalog;

    fn headers(line: &str) -> Vec<String> {
        line.split(',').map(str::to_owned).collect()
    }

    /// Each shared council header (first lines of ../shared/data/spend/, BOMs removed) is
    /// claimed by exactly one built-in spend format, and the closest one wins.
    #[test]
    fn every_shared_layout_has_one_format() {
        let catalog = Catalog::embedded().unwrap();
        for (line, want) in [
            (
                "Authority Name,Date of Payment,SAP Document Number,Gross,VAT,Net,Supplier Name,Directorate,G/L description.",
                "spend-salford-sap",
            ),
            (
                "Authority Name,Date of Payment,SAP Document Number,Gross,VAT,Net,Supplier Name,Directorate,G/L descript",
                "spend-salford-sap",
            ),
            (
                "Authority Name,Date of Payment,DocumentNo,Gross,VAT,Net,Vendor Name,Service Area,GL Description",
                "spend-salford-vendor",
            ),
            (
                "Authority Name,Date of Payment,Document Number,Gross,VAT,Net,Vendor Name,Service Area,GL Description",
                "spend-salford-vendor",
            ),
            (
                "Body Name,Service Area,Expenses Type,Invoice Payment Date,Transaction Number,Net Amount,Supplier Name",
                "spend-manchester",
            ),
            (
                "Body,Organisation Name,Date,Internal Ref Number,Invoice Number,Net Amount,Irrecoverable VAT,Supplier(Beneficiary) Name,Supplier Registered Company Number,Supplier Registered Charity Number,Supplier ID,VAT Registration Number,Expense Area,Procurement Classification: Council's Procurement Category Name,Expense Code,BVACOP,Proclass,Extended Description,Source,Subsource,Definition,Purpose of Spend (Summary),Voluntary Community and Social Enterprise Supplier",
                "spend-lgtc",
            ),
            (
                "Client,Service Area,Expenditure Category,Expenditure Code,Paid Date,Trans No,Amount,Type of Expenditure,Supplier ID,Supplier Name",
                "spend-oxford",
            ),
        ] {
            let h = headers(line);
            let scored: Vec<(usize, &str)> = catalog
                .spend
                .spend
                .iter()
                .filter_map(|(_, f)| f.score(&h).map(|s| (s, f.id.as_str())))
                .collect();
            assert_eq!(scored.len(), 1, "{line}: {scored:?}");
            assert_eq!(scored[0].1, want, "{line}");
        }
        // Case and surrounding space do not matter.
        let h = headers(
            " body name ,SERVICE AREA,Expenses Type,invoice payment date,Transaction Number,Net Amount,Supplier Name",
        );
        assert!(
            catalog
                .spend
                .spend
                .iter()
                .any(|(_, f)| f.id == "spend-manchester" && f.score(&h).is_some())
        );
        let register = headers(
            "Directorate Name,Process Used,Purchasing Body,Contract Reference,Supplier Company Name,Supplier Postcode,SME Supplier?,Company Number",
        );
        let found: Vec<&str> = catalog
            .spend
            .suppliers
            .iter()
            .filter(|(_, f)| f.score(&register).is_some())
            .map(|(_, f)| f.id.as_str())
            .collect();
        assert_eq!(found, ["suppliers-salford-register"]);
        let rules = &catalog.spend.payees.as_ref().unwrap().1;
        assert!(rules.legal_forms.iter().any(|w| w == "ltd"));
    }

    #[test]
    fn a_format_gives_one_amount_and_one_body() {
        let both = r#"
            id = "x"
            description = "d"
            date_style = "iso"
            body = "Vale Council"
            [columns]
            date = ["Date"]
            net = ["Net"]
            gross_less_vat = { gross = ["Gross"], vat = ["VAT"] }
            supplier_name = ["Supplier"]
        "#;
        let err = Catalog::from_files([("datasets/spend/x.toml".into(), both.into())])
            .unwrap_err()
            .to_string();
        assert!(err.contains("exactly one of columns.net"), "{err}");
        let no_body = both.replace("body = \"Vale Council\"", "").replace(
            "gross_less_vat = { gross = [\"Gross\"], vat = [\"VAT\"] }",
            "",
        );
        let err = Catalog::from_files([("datasets/spend/x.toml".into(), no_body)])
            .unwrap_err()
            .to_string();
        assert!(err.contains("columns.body"), "{err}");
        let bad_area = r#"
            id = "x"
            description = "d"
            date_style = "iso"
            body = "Vale Council"
            [body_areas]
            "Vale Council" = "Vale"
            [columns]
            date = ["Date"]
            net = ["Net"]
            supplier_name = ["Supplier"]
        "#;
        let err = Catalog::from_files([("datasets/spend/x.toml".into(), bad_area.into())])
            .unwrap_err()
            .to_string();
        assert!(err.contains("not a district code"), "{err}");
        let unknown = "id = \"x\"\nsurprise = 1\n";
        let err = Catalog::from_files([("datasets/suppliers/x.toml".into(), unknown.into())])
            .unwrap_err()
            .to_string();
        assert!(err.contains("surprise") || err.contains("missing"), "{err}");
    }
}
