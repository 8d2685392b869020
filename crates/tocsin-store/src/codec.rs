//! The stored text forms of values, shared by the backends: enums kept as their names and
//! silences' matchers kept as JSON read and write the same on SQLite and PostgreSQL, and a
//! value this binary does not know fails the same way on both.

use tocsin_core::silence::Matcher;

/// A stored value this binary cannot read (an enum name it does not know, JSON that does not
/// parse): the store was written by something else, and guessing could lose data.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct BadValue(String);

/// Parses the stored text form of an enum, or says which value of what is unknown.
pub fn parse_or<V: std::fmt::Debug + Copy, T>(
    value: V,
    parse: impl Fn(V) -> Option<T>,
    what: &str,
) -> Result<T, BadValue> {
    parse(value).ok_or_else(|| BadValue(format!("unknown {what} {value:?} in the store")))
}

/// A JSON column that must parse (a maintenance window's spec): `what` names it in the error.
pub fn json_from<T: serde::de::DeserializeOwned>(text: &str, what: &str) -> Result<T, BadValue> {
    serde_json::from_str(text).map_err(|e| BadValue(format!("stored {what} does not parse: {e}")))
}

/// A value as its JSON column.
pub fn to_json<T: serde::Serialize>(value: &T, what: &str) -> Result<String, BadValue> {
    serde_json::to_string(value).map_err(|e| BadValue(format!("{what} cannot be stored: {e}")))
}

/// JSON form of matchers in the store (Alertmanager's field names).
#[derive(serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct StoredMatcher {
    name: String,
    value: String,
    is_regex: bool,
    is_equal: bool,
}

/// A silence's matchers as stored.
pub fn matchers_json(matchers: &[Matcher]) -> String {
    let stored: Vec<StoredMatcher> = matchers
        .iter()
        .map(|m| StoredMatcher {
            name: m.name.clone(),
            value: m.value.clone(),
            is_regex: m.is_regex,
            is_equal: m.is_equal,
        })
        .collect();
    serde_json::to_string(&stored).unwrap_or_else(|_| "[]".into())
}

/// A silence's matchers read back.
pub fn matchers_from(text: &str) -> Result<Vec<Matcher>, BadValue> {
    let stored: Vec<StoredMatcher> = json_from(text, "matchers")?;
    Ok(stored
        .into_iter()
        .map(|m| Matcher {
            name: m.name,
            value: m.value,
            is_regex: m.is_regex,
            is_equal: m.is_equal,
        })
        .collect())
}

/// A JSON column that defaults when absent or unreadable (labels, links, the ids that mute
/// an alert): what the SQLite store has always done with them.
pub fn json_or_default<T: serde::de::DeserializeOwned + Default>(text: Option<&str>) -> T {
    text.and_then(|t| serde_json::from_str(t).ok())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use tocsin_core::event::Severity;

    #[test]
    fn an_unknown_enum_name_says_what_and_which() {
        assert_eq!(
            parse_or("high", Severity::parse, "severity").unwrap(),
            Severity::High
        );
        let e = parse_or("dire", Severity::parse, "severity").unwrap_err();
        assert_eq!(e.to_string(), "unknown severity \"dire\" in the store");
    }

    #[test]
    fn matchers_go_round_in_alertmanagers_field_names() {
        let m = vec![Matcher {
            name: "job".into(),
            value: "api|web".into(),
            is_regex: true,
            is_equal: false,
        }];
        let text = matchers_json(&m);
        assert_eq!(
            text,
            r#"[{"name":"job","value":"api|web","isRegex":true,"isEqual":false}]"#
        );
        assert_eq!(matchers_from(&text).unwrap(), m);
        assert!(matchers_from("{").is_err());
    }
}
