//! Normalisation shared by payments, supplier registers and the questions: one implementation
//! of the supplier key, the company number and the postcode (issue 16 table contract), so a
//! name or number written two ways in two files meets itself.

use renewal_schema::spend::PayeeRules;

/// The words of a name as the key sees them: Unicode lower case, `&` read as "and", every
/// character that is not alphanumeric a word break.
pub fn name_words(name: &str) -> Vec<String> {
    let lowered = name.to_lowercase().replace('&', " and ");
    let spaced: String = lowered
        .chars()
        .map(|c| if c.is_alphanumeric() { c } else { ' ' })
        .collect();
    spaced.split_whitespace().map(str::to_owned).collect()
}

/// The supplier key: the name's words ([`name_words`]) without a leading word of
/// `rules.leading_words` (`the`) and without legal-form words (`ltd`, `limited`, …) at the end,
/// dropped repeatedly. "The Keolis Amey Metrolink Limited" and "KEOLIS AMEY METROLINK LTD."
/// both give `keolis amey metrolink`. The last word is never dropped, so "Limited" alone keys
/// as `limited` rather than as nothing; an empty name keys as the empty string.
pub fn supplier_key(name: &str, rules: &PayeeRules) -> String {
    let words = name_words(name);
    let mut words: &[String] = &words;
    if words.len() > 1 && rules.leading_words.iter().any(|w| *w == words[0]) {
        words = &words[1..];
    }
    while words.len() > 1 && rules.legal_forms.iter().any(|w| Some(w) == words.last()) {
        words = &words[..words.len() - 1];
    }
    words.join(" ")
}

/// What a company or charity number cell held.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Number {
    /// A number in its canonical form.
    Given(String),
    /// The cell was empty or said there is none (`N/A`, `-`, `0`).
    Absent,
    /// Text that is not a number of that kind (`Various`, `IP29627R`): stored as null and
    /// counted in the notes.
    Unparseable,
}

impl Number {
    /// The number, if one was given.
    pub fn given(self) -> Option<String> {
        match self {
            Number::Given(n) => Some(n),
            Number::Absent | Number::Unparseable => None,
        }
    }
}

/// Cells that mean "no number".
fn says_none(squeezed: &str) -> bool {
    squeezed.is_empty()
        || matches!(squeezed, "N/A" | "NA" | "-" | "NONE")
        || squeezed.bytes().all(|b| b == b'0')
}

/// A Companies House number: spaces removed, upper case; all digits are left-padded with zeros
/// to eight (`2535986` → `02535986`); two letters and six digits are kept (`SC123456`).
pub fn company_number(text: &str) -> Number {
    let squeezed: String = text
        .chars()
        .filter(|c| !c.is_whitespace())
        .flat_map(char::to_uppercase)
        .collect();
    if says_none(&squeezed) {
        return Number::Absent;
    }
    let b = squeezed.as_bytes();
    if b.len() <= 8 && b.iter().all(u8::is_ascii_digit) {
        return Number::Given(format!("{squeezed:0>8}"));
    }
    if b.len() == 8
        && b[..2].iter().all(u8::is_ascii_uppercase)
        && b[2..].iter().all(u8::is_ascii_digit)
    {
        return Number::Given(squeezed);
    }
    Number::Unparseable
}

/// A Charity Commission number (England and Wales: digits, sometimes with a `-N` subsidiary
/// suffix; Scotland: `SC` and six digits), spaces removed, upper case.
pub fn charity_number(text: &str) -> Number {
    let squeezed: String = text
        .chars()
        .filter(|c| !c.is_whitespace())
        .flat_map(char::to_uppercase)
        .collect();
    if says_none(&squeezed) {
        return Number::Absent;
    }
    let (main, suffix) = match squeezed.split_once('-') {
        Some((m, s)) => (m, Some(s)),
        None => (squeezed.as_str(), None),
    };
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let main_ok = digits(main) || (main.len() == 8 && main.starts_with("SC") && digits(&main[2..]));
    if main_ok && suffix.is_none_or(digits) {
        Number::Given(squeezed)
    } else {
        Number::Unparseable
    }
}

/// A postcode in its canonical (`pcds`) spelling, or `None` when it is not shaped like one
/// ([`renewal_geo::postcode::normalise`]).
pub fn postcode(text: &str) -> Option<String> {
    renewal_geo::postcode::normalise(text)
}

/// Who a payment went to, as far as the published name tells.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Payee {
    /// A company or charity number is given, or the name has an organisation word.
    Organisation,
    /// The name is a redaction marker: the council withheld it (usually a person).
    Redacted,
    /// Neither: possibly a person, so never named by a question.
    Unclassified,
}

impl Payee {
    /// The word stored in the `payee` column.
    pub fn as_str(self) -> &'static str {
        match self {
            Payee::Organisation => "organisation",
            Payee::Redacted => "redacted",
            Payee::Unclassified => "unclassified",
        }
    }
}

/// The class of a payee named `name`, `has_number` when a company or charity number was given.
/// A redaction marker is compared by supplier key; organisation words are looked for among
/// the words of the whole name, before legal forms are dropped (so "Argos Ltd", keyed
/// `argos`, is still an organisation by its `ltd`).
pub fn classify(name: &str, has_number: bool, rules: &PayeeRules) -> Payee {
    let key = supplier_key(name, rules);
    if !key.is_empty()
        && rules
            .redaction_markers
            .iter()
            .any(|m| supplier_key(m, rules) == key)
    {
        return Payee::Redacted;
    }
    if has_number
        || name_words(name)
            .iter()
            .any(|w| rules.organisation_words.iter().any(|o| o == w))
    {
        return Payee::Organisation;
    }
    Payee::Unclassified
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules() -> PayeeRules {
        renewal_schema::Catalog::embedded()
            .unwrap()
            .spend
            .payees
            .unwrap()
            .1
    }

    #[test]
    fn supplier_keys_of_the_contract() {
        let r = rules();
        for (name, want) in [
            ("The Keolis Amey Metrolink Limited", "keolis amey metrolink"),
            ("KEOLIS AMEY METROLINK LTD.", "keolis amey metrolink"),
            (
                "Randstad Public Services Limited",
                "randstad public services",
            ),
            ("Argos Ltd", "argos"),
            ("Smith & Co", "smith and"),
            ("  Barry & Son Ltd ", "barry and son"),
            ("Acme Holdings Ltd Limited", "acme holdings"),
            ("Www.Nbcolourprint.Co.U", "www nbcolourprint co u"),
            ("ÉCOLE Ltd", "école"),
            ("The", "the"),
            ("Limited", "limited"),
            ("", ""),
        ] {
            assert_eq!(supplier_key(name, &r), want, "{name:?}");
        }
    }

    #[test]
    fn company_numbers_of_the_contract() {
        for (text, want) in [
            ("2535986", Number::Given("02535986".into())),
            ("02535986", Number::Given("02535986".into())),
            (" sc123456 ", Number::Given("SC123456".into())),
            ("SC 123456", Number::Given("SC123456".into())),
            ("172081", Number::Given("00172081".into())),
            ("N/A", Number::Absent),
            ("-", Number::Absent),
            ("0", Number::Absent),
            ("", Number::Absent),
            ("Various", Number::Unparseable),
            ("IP29627R", Number::Unparseable),
            ("123456789", Number::Unparseable),
            ("S1234567", Number::Unparseable),
        ] {
            assert_eq!(company_number(text), want, "{text:?}");
        }
    }

    #[test]
    fn charity_numbers() {
        assert_eq!(charity_number("1123456"), Number::Given("1123456".into()));
        assert_eq!(
            charity_number("1123456-1"),
            Number::Given("1123456-1".into())
        );
        assert_eq!(charity_number("sc012345"), Number::Given("SC012345".into()));
        assert_eq!(charity_number(""), Number::Absent);
        assert_eq!(charity_number("pending"), Number::Unparseable);
    }

    #[test]
    fn postcodes_of_the_contract() {
        assert_eq!(postcode("m80ry").as_deref(), Some("M8 0RY"));
        assert_eq!(postcode("AL1  1AA").as_deref(), Some("AL1 1AA"));
        assert_eq!(postcode("W1K 3RH").as_deref(), Some("W1K 3RH"));
        assert_eq!(postcode("Various"), None);
        assert_eq!(postcode(""), None);
    }

    #[test]
    fn payee_classes() {
        let r = rules();
        assert_eq!(
            classify("Redacted Personal Information", false, &r),
            Payee::Redacted
        );
        assert_eq!(classify("REDACTED", false, &r), Payee::Redacted);
        assert_eq!(classify("Personal Data.", false, &r), Payee::Redacted);
        assert_eq!(classify("Argos Ltd", false, &r), Payee::Organisation);
        assert_eq!(
            classify("Salford City Council", false, &r),
            Payee::Organisation
        );
        assert_eq!(
            classify("Boothstown Junior Football Club", false, &r),
            Payee::Organisation
        );
        assert_eq!(
            classify("Kevin Booth Painting", false, &r),
            Payee::Unclassified
        );
        assert_eq!(
            classify("Kevin Booth Painting", true, &r),
            Payee::Organisation
        );
        assert_eq!(classify("", false, &r), Payee::Unclassified);
    }
}
