//! CSV text (RFC 4180) for exports: a field with a comma, a quote or a line break is quoted,
//! its quotes doubled; lines end in CRLF; text stays UTF-8, without a byte-order mark.
//!
//! Text that a spreadsheet would run as a formula (starting with `=`, `+`, `-`, `@`, a tab
//! or a carriage return) gets a leading `'`, as OWASP advises for CSV exports: alert names
//! come from monitoring tools, and a crafted one must not become a formula on someone's
//! desktop. Numbers are written as they are.

/// One field of a row.
pub(crate) enum Field<'a> {
    Text(&'a str),
    Int(i64),
    /// Empty when there is no value.
    Num(Option<f64>),
}

impl<'a> From<&'a str> for Field<'a> {
    fn from(text: &'a str) -> Self {
        Field::Text(text)
    }
}

impl<'a> From<&'a String> for Field<'a> {
    fn from(text: &'a String) -> Self {
        Field::Text(text)
    }
}

impl From<u64> for Field<'_> {
    fn from(n: u64) -> Self {
        Field::Int(i64::try_from(n).unwrap_or(i64::MAX))
    }
}

impl From<i64> for Field<'_> {
    fn from(n: i64) -> Self {
        Field::Int(n)
    }
}

impl From<Option<f64>> for Field<'_> {
    fn from(n: Option<f64>) -> Self {
        Field::Num(n)
    }
}

/// A CSV document being written, header first.
pub(crate) struct Csv {
    out: String,
}

impl Csv {
    pub(crate) fn new(header: &[&str]) -> Csv {
        let mut csv = Csv { out: String::new() };
        csv.row(header.iter().map(|h| Field::Text(h)));
        csv
    }

    pub(crate) fn row<'a>(&mut self, fields: impl IntoIterator<Item = Field<'a>>) {
        for (i, field) in fields.into_iter().enumerate() {
            if i > 0 {
                self.out.push(',');
            }
            match field {
                Field::Text(text) => self.text(text),
                Field::Int(n) => self.out.push_str(&n.to_string()),
                Field::Num(Some(x)) => self.out.push_str(&x.to_string()),
                Field::Num(None) => {}
            }
        }
        self.out.push_str("\r\n");
    }

    fn text(&mut self, text: &str) {
        let formula = text.starts_with(['=', '+', '-', '@', '\t', '\r']);
        let quote = text.contains([',', '"', '\n', '\r']);
        if quote {
            self.out.push('"');
        }
        if formula {
            self.out.push('\'');
        }
        self.out.push_str(&text.replace('"', "\"\""));
        if quote {
            self.out.push('"');
        }
    }

    pub(crate) fn finish(self) -> String {
        self.out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_what_needs_it_and_keeps_utf8() {
        let mut csv = Csv::new(&["name", "n", "x"]);
        csv.row([
            Field::from("数据库, \"主库\"\n延迟"),
            Field::from(3u64),
            Field::from(Some(0.25)),
        ]);
        csv.row([
            Field::from("plain"),
            Field::from(-1i64),
            Field::from(None::<f64>),
        ]);
        assert_eq!(
            csv.finish(),
            "name,n,x\r\n\"数据库, \"\"主库\"\"\n延迟\",3,0.25\r\nplain,-1,\r\n"
        );
    }

    #[test]
    fn text_that_would_be_a_formula_is_defused() {
        let mut csv = Csv::new(&["name"]);
        csv.row([Field::from("=HYPERLINK(\"http://x\")")]);
        csv.row([Field::from("-rf")]);
        assert_eq!(
            csv.finish(),
            "name\r\n\"'=HYPERLINK(\"\"http://x\"\")\"\r\n'-rf\r\n"
        );
    }
}
