//! Zabbix event tags as labels. `{EVENT.TAGSJSON}` (a JSON array of `{tag, value}`) is
//! unambiguous and preferred. `{EVENT.TAGS}` is `tag1:value1, tag2, tag3:value3`: Zabbix joins
//! tags with ", " and leaves the value out when it is empty, so a value that itself holds ", "
//! cannot be told from the next tag. That form is read as well as it can be.

use crate::IntakeError;
use serde::Deserialize;
use std::collections::BTreeMap;

#[derive(Deserialize)]
struct Tag {
    tag: String,
    #[serde(default)]
    value: String,
}

/// Tags from `{EVENT.TAGSJSON}`.
pub fn from_json(field: &str, text: &str) -> Result<Vec<(String, String)>, IntakeError> {
    let tags: Vec<Tag> = serde_json::from_str(text).map_err(|e| {
        IntakeError(format!(
            "{field}: must be {{EVENT.TAGSJSON}}, a JSON array of {{\"tag\", \"value\"}} objects: {e}"
        ))
    })?;
    Ok(tags.into_iter().map(|t| (t.tag, t.value)).collect())
}

/// Tags from `{EVENT.TAGS}`. Real Zabbix separates tags with ", "; senders that join with a
/// bare "," (scripts, simulators) are read too, but only when the text has no ", " at all, so
/// that a value holding a bare comma survives a real Zabbix's list. The name ends at the
/// first ':' (values may hold more: URLs, times).
pub fn from_text(text: &str) -> Vec<(String, String)> {
    let separator = if text.contains(", ") { ", " } else { "," };
    text.split(separator)
        .map(|part| match part.split_once(':') {
            Some((tag, value)) => (tag.trim().to_string(), value.trim().to_string()),
            None => (part.trim().to_string(), String::new()),
        })
        .collect()
}

/// Adds tags to labels. A label the adapter set itself (`host`, `host_ip`, ...) is kept: those
/// name the machine for the service catalog and a tag must not redirect the alert. Zabbix
/// allows one tag name with several values (`scope:availability, scope:performance`); they
/// are joined with ", " in the order sent.
pub fn add_to_labels(
    tags: Vec<(String, String)>,
    reserved: &[&str],
    labels: &mut BTreeMap<String, String>,
) {
    for (tag, value) in tags {
        if tag.is_empty() || reserved.contains(&tag.as_str()) {
            continue;
        }
        match labels.get_mut(&tag) {
            Some(existing) if existing.split(", ").any(|v| v == value) => {}
            Some(existing) if existing.is_empty() => *existing = value,
            Some(existing) if !value.is_empty() => {
                existing.push_str(", ");
                existing.push_str(&value);
            }
            Some(_) => {}
            None => {
                labels.insert(tag, value);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn zabbix_text_form_with_odd_values() {
        assert_eq!(
            from_text("class:os, component:cpu, target:linux, url:http://wiki/a,b, 机房:北京"),
            pairs(&[
                ("class", "os"),
                ("component", "cpu"),
                ("target", "linux"),
                ("url", "http://wiki/a,b"),
                ("机房", "北京"),
            ])
        );
        assert_eq!(
            from_text("dc:bj,service:web-bj,maintenance"),
            pairs(&[("dc", "bj"), ("service", "web-bj"), ("maintenance", "")])
        );
        assert_eq!(from_text("time:10:30"), pairs(&[("time", "10:30")]));
    }

    #[test]
    fn json_form_is_exact() {
        let tags = from_json(
            "event_tags_json",
            r#"[{"tag":"note","value":"a, b: c"},{"tag":"solo","value":""},{"tag":"x"}]"#,
        )
        .unwrap();
        assert_eq!(tags, pairs(&[("note", "a, b: c"), ("solo", ""), ("x", "")]));
        for bad in ["{}", "[1]", r#"[{"value":"v"}]"#, "not json"] {
            let err = from_json("event_tags_json", bad).unwrap_err();
            assert!(err.0.starts_with("event_tags_json: "), "{err}");
        }
    }

    #[test]
    fn repeated_names_join_and_reserved_names_are_kept() {
        let mut labels = BTreeMap::from([("host".to_string(), "web-01".to_string())]);
        add_to_labels(
            pairs(&[
                ("scope", "availability"),
                ("scope", "performance"),
                ("scope", "availability"),
                ("host", "evil"),
                ("", "nameless"),
                ("flag", ""),
                ("flag", "on"),
            ]),
            &["host"],
            &mut labels,
        );
        assert_eq!(labels["scope"], "availability, performance");
        assert_eq!(labels["host"], "web-01");
        assert_eq!(labels["flag"], "on");
        assert_eq!(labels.len(), 3);
    }
}
