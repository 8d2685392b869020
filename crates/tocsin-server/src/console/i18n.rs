//! Console text in English and Chinese. Each page keeps its words in its own YAML file under
//! `text/` (`key: {en: ..., zh: ...}`); they are compiled in and checked by a test, so a key
//! missing a language fails the build's tests rather than showing a key to someone at 03:00.

use std::collections::HashMap;
use std::sync::LazyLock;
use tocsin_core::config::Language;

/// Every text file, compiled in.
const FILES: &[(&str, &str)] = &[
    ("common", include_str!("text/common.yaml")),
    ("board", include_str!("text/board.yaml")),
    ("detail", include_str!("text/detail.yaml")),
    ("alerts", include_str!("text/alerts.yaml")),
    ("silences", include_str!("text/silences.yaml")),
    ("oncall", include_str!("text/oncall.yaml")),
    ("catalog", include_str!("text/catalog.yaml")),
    ("reports", include_str!("text/reports.yaml")),
];

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    en: String,
    zh: String,
}

static TEXT: LazyLock<HashMap<String, Entry>> = LazyLock::new(|| {
    let mut all = HashMap::new();
    for (file, yaml) in FILES {
        let entries: HashMap<String, Entry> = serde_yaml_ng::from_str(yaml)
            .unwrap_or_else(|e| panic!("console text {file}.yaml: {e}"));
        for (key, entry) in entries {
            if all.insert(key.clone(), entry).is_some() {
                panic!("console text key {key:?} is in two files");
            }
        }
    }
    all
});

/// The text for `key` in `language`; the key itself when unknown (a test keeps that from
/// happening on any page).
pub fn text(language: Language, key: &str) -> String {
    match TEXT.get(key) {
        Some(e) => match language {
            Language::En => e.en.clone(),
            Language::Zh => e.zh.clone(),
        },
        None => key.to_string(),
    }
}

/// The language's code in pages (`<html lang>`, the switcher).
pub fn code(language: Language) -> &'static str {
    match language {
        Language::En => "en",
        Language::Zh => "zh-CN",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn known(key: &str) -> bool {
        TEXT.contains_key(key)
    }

    #[test]
    fn every_entry_has_both_languages() {
        assert!(!TEXT.is_empty());
        for (key, e) in TEXT.iter() {
            assert!(!e.en.trim().is_empty(), "{key}: no English");
            assert!(!e.zh.trim().is_empty(), "{key}: no Chinese");
        }
    }

    #[test]
    fn every_key_a_template_uses_exists() {
        let re = regex::Regex::new(r#"t\(["']([a-z0-9_.]+)["']\)"#).unwrap();
        for (name, source) in super::super::render::TEMPLATES {
            for c in re.captures_iter(source) {
                assert!(
                    known(&c[1]),
                    "template {name} uses unknown text {:?}",
                    &c[1]
                );
            }
        }
    }
}
