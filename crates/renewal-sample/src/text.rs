//! CSV text written the way the publishers write it: byte-order mark, their line ending, their
//! quoting (only fields containing a comma or a quote), and with or without a final line end.

use std::borrow::Cow;

/// UTF-8 byte-order mark, present at the start of every published CSV we imitate.
pub(crate) const BOM: &str = "\u{feff}";

/// How lines end, and whether the last line has an ending too.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Layout {
    /// CRLF between lines, none after the last (MHCLG's IoD2019 CSVs).
    CrlfBetween,
    /// LF after every line, the last included (ONS lookups).
    LfAfterEach,
    /// CRLF after every line, the last included (police.uk).
    CrlfAfterEach,
}

impl Layout {
    fn eol(self) -> &'static str {
        match self {
            Layout::CrlfBetween | Layout::CrlfAfterEach => "\r\n",
            Layout::LfAfterEach => "\n",
        }
    }
}

/// A CSV file being written: header first, then rows.
pub(crate) struct Table {
    text: String,
    layout: Layout,
    rows: usize,
}

impl Table {
    pub(crate) fn new<S: AsRef<str>>(header: &[S], layout: Layout) -> Table {
        let mut text = String::from(BOM);
        push_fields(&mut text, header);
        Table {
            text,
            layout,
            rows: 0,
        }
    }

    /// A table without the byte-order mark, as most non-government re-publishers write.
    pub(crate) fn plain<S: AsRef<str>>(header: &[S], layout: Layout) -> Table {
        let mut table = Table::new(header, layout);
        table.text.replace_range(..BOM.len(), "");
        table
    }

    pub(crate) fn row<S: AsRef<str>>(&mut self, fields: &[S]) {
        self.text.push_str(self.layout.eol());
        push_fields(&mut self.text, fields);
        self.rows += 1;
    }

    /// The file's text and its number of data rows (the header not counted).
    pub(crate) fn finish(mut self) -> (String, usize) {
        if matches!(self.layout, Layout::LfAfterEach | Layout::CrlfAfterEach) {
            self.text.push_str(self.layout.eol());
        }
        (self.text, self.rows)
    }
}

fn push_fields<S: AsRef<str>>(text: &mut String, fields: &[S]) {
    for (i, f) in fields.iter().enumerate() {
        if i > 0 {
            text.push(',');
        }
        text.push_str(&quote(f.as_ref()));
    }
}

/// Quotes a field only when it must be, as the published files do
/// (`"Education, Skills and Training Score"`, `"Kingston upon Hull, City of"`).
pub(crate) fn quote(field: &str) -> Cow<'_, str> {
    if field.contains([',', '"', '\r', '\n']) {
        Cow::Owned(format!("\"{}\"", field.replace('"', "\"\"")))
    } else {
        Cow::Borrowed(field)
    }
}

/// `x` with exactly `decimals` decimals and never `-0.000`.
pub(crate) fn fixed(x: f64, decimals: usize) -> String {
    let s = format!("{x:.decimals$}");
    match s.strip_prefix('-') {
        Some(rest) if rest.bytes().all(|b| b == b'0' || b == b'.') => rest.to_owned(),
        _ => s,
    }
}

/// A count in the `1296.00` style of IoD2019 File 6.
pub(crate) fn count_2dp(n: u32) -> String {
    format!("{n}.00")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_only_where_needed() {
        assert_eq!(quote("Crime Score"), "Crime Score");
        assert_eq!(
            quote("Education, Skills and Training Score"),
            "\"Education, Skills and Training Score\""
        );
        assert_eq!(quote("St Anne's"), "St Anne's");
        assert_eq!(quote("a\"b"), "\"a\"\"b\"");
    }

    #[test]
    fn numbers_as_published() {
        assert_eq!(fixed(-0.0004, 3), "0.000");
        assert_eq!(fixed(-0.0, 3), "0.000");
        assert_eq!(fixed(-0.532, 3), "-0.532");
        assert_eq!(fixed(0.1, 3), "0.100");
        assert_eq!(fixed(12.34567, 3), "12.346");
        assert_eq!(count_2dp(1296), "1296.00");
    }

    #[test]
    fn layouts() {
        let mut t = Table::new(&["a", "b, c"], Layout::CrlfBetween);
        t.row(&["1", "2"]);
        t.row(&["3", "4"]);
        assert_eq!(
            t.finish(),
            ("\u{feff}a,\"b, c\"\r\n1,2\r\n3,4".to_owned(), 2)
        );
        let mut t = Table::new(&["a"], Layout::LfAfterEach);
        t.row(&["1"]);
        assert_eq!(t.finish(), ("\u{feff}a\n1\n".to_owned(), 1));
    }
}
