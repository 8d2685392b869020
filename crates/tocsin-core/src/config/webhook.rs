//! The field mapping of a generic webhook integration: templates that read any JSON payload
//! into tocsin's event fields, compiled once when the config loads so a typo is a config
//! error with its path, and a request only renders.

use super::load::ConfigError;
use crate::event::{Severity, Status};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::sync::Arc;

/// As written in YAML: each text field is a minijinja template over one alert of the
/// payload (`{{ title }}`, `{{ tags.host }}`), with the whole body as `payload`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawMapping {
    /// Where the alerts are: a dotted path to an array in the body (`data.alerts`). Without
    /// it the body is one alert, or an array of them.
    pub items: Option<String>,
    pub summary: String,
    pub dedup_key: Option<String>,
    pub name: Option<String>,
    pub description: Option<String>,
    pub severity: Option<String>,
    /// The rendered severity, as the tool words it -> tocsin's severity.
    #[serde(default)]
    pub severity_map: BTreeMap<String, Severity>,
    pub status: Option<String>,
    /// Rendered status values (any case) that mean the condition is over.
    pub resolved_values: Option<Vec<String>>,
    /// Rendered status values (any case) that mean someone acknowledged it in the tool.
    #[serde(default)]
    pub acknowledged_values: Vec<String>,
    pub service: Option<String>,
    pub host: Option<String>,
    pub occurred_at: Option<String>,
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    /// A link back to the tool (a template for its URL).
    pub link: Option<String>,
}

/// The fields a mapping can fill, each a compiled template.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum MappedField {
    Summary,
    DedupKey,
    Name,
    Description,
    Severity,
    Status,
    Service,
    Host,
    OccurredAt,
    Link,
}

impl MappedField {
    fn key(self) -> &'static str {
        match self {
            MappedField::Summary => "summary",
            MappedField::DedupKey => "dedup_key",
            MappedField::Name => "name",
            MappedField::Description => "description",
            MappedField::Severity => "severity",
            MappedField::Status => "status",
            MappedField::Service => "service",
            MappedField::Host => "host",
            MappedField::OccurredAt => "occurred_at",
            MappedField::Link => "link",
        }
    }
}

/// One alert of a payload, as every field's template sees it. Most mappings are plain
/// paths (`{{ tags.host }}`); those are read straight from the JSON, and the alert is turned
/// into template values only for a real template, once per alert. The whole payload is
/// turned into template values at most once per request (`shared`), not once per alert.
pub struct RenderContext<'a> {
    item: &'a serde_json::Value,
    payload: &'a serde_json::Value,
    jinja: std::cell::OnceCell<minijinja::Value>,
    shared: &'a PayloadValues,
}

/// The payload as template values, made when the first real template needs it.
#[derive(Default)]
pub struct PayloadValues(std::cell::OnceCell<minijinja::Value>);

impl<'a> RenderContext<'a> {
    pub fn new(
        item: &'a serde_json::Value,
        payload: &'a serde_json::Value,
        shared: &'a PayloadValues,
    ) -> Self {
        RenderContext {
            item,
            payload,
            jinja: std::cell::OnceCell::new(),
            shared,
        }
    }

    fn jinja(&self) -> &minijinja::Value {
        self.jinja.get_or_init(|| {
            let payload = self
                .shared
                .0
                .get_or_init(|| minijinja::Value::from_serialize(self.payload))
                .clone();
            let item = minijinja::Value::from_serialize(self.item);
            if self.item.is_object() {
                minijinja::context! { payload => payload, ..item }
            } else {
                minijinja::context! { payload => payload, item => item }
            }
        })
    }

    /// The value at a dotted path: from the payload when it starts with `payload`, else
    /// from the alert; missing is empty, like a template's undefined.
    fn lookup(&self, path: &[String]) -> String {
        let (mut at, rest) = match path.split_first() {
            Some((first, rest)) if first == "payload" => (self.payload, rest),
            _ => (self.item, path),
        };
        for step in rest {
            let next = match at {
                serde_json::Value::Object(map) => map.get(step),
                serde_json::Value::Array(list) => {
                    step.parse::<usize>().ok().and_then(|i| list.get(i))
                }
                _ => None,
            };
            match next {
                Some(v) => at = v,
                None => return String::new(),
            }
        }
        match at {
            serde_json::Value::String(s) => s.trim().to_string(),
            serde_json::Value::Null => String::new(),
            other => other.to_string(),
        }
    }
}

/// Writes values the way the plain-path reader does: JSON's `true`/`false`, and nothing for
/// null, instead of Jinja's Python spellings `True`, `False` and `None`.
fn json_spelling(
    out: &mut minijinja::Output<'_>,
    state: &minijinja::State<'_, '_>,
    value: &minijinja::Value,
) -> Result<(), minijinja::Error> {
    use minijinja::value::ValueKind;
    match value.kind() {
        ValueKind::None | ValueKind::Undefined => Ok(()),
        ValueKind::Bool => {
            let text = if value.is_true() { "true" } else { "false" };
            out.write_str(text).map_err(minijinja::Error::from)
        }
        _ => minijinja::escape_formatter(out, state, value),
    }
}

/// `{{ a.b.c }}` and nothing else: a path, read without the template engine.
fn plain_path(source: &str) -> Option<Vec<String>> {
    let inner = source.trim().strip_prefix("{{")?.strip_suffix("}}")?.trim();
    let parts: Vec<String> = inner.split('.').map(str::to_owned).collect();
    let ident = |p: &String| {
        !p.is_empty()
            && p.chars().all(|c| c.is_alphanumeric() || c == '_')
            && !matches!(p.as_str(), "true" | "false" | "none" | "None")
    };
    parts.iter().all(ident).then_some(parts)
}

#[derive(Debug, Clone)]
pub struct WebhookMapping {
    pub items: Vec<String>,
    pub severity_map: BTreeMap<String, Severity>,
    /// Lower-cased.
    pub resolved_values: Vec<String>,
    /// Lower-cased.
    pub acknowledged_values: Vec<String>,
    pub label_names: Vec<String>,
    fields: Vec<MappedField>,
    /// Templates that are plain paths, by the same names as in `env`.
    paths: BTreeMap<String, Vec<String>>,
    /// Templates named by field key, or `labels.NAME`.
    env: Arc<minijinja::Environment<'static>>,
    /// The sources, for equality between configs (a reload that changes nothing).
    sources: BTreeMap<String, String>,
}

impl PartialEq for WebhookMapping {
    fn eq(&self, other: &Self) -> bool {
        self.items == other.items
            && self.severity_map == other.severity_map
            && self.resolved_values == other.resolved_values
            && self.acknowledged_values == other.acknowledged_values
            && self.sources == other.sources
    }
}

/// Words tools commonly use for "it is over" when the mapping names none.
const DEFAULT_RESOLVED: [&str; 6] = ["resolved", "ok", "recovered", "closed", "normal", "0"];

impl WebhookMapping {
    pub(super) fn compile(
        errors: &mut Vec<ConfigError>,
        path: &str,
        raw: RawMapping,
    ) -> WebhookMapping {
        let mut env = minijinja::Environment::new();
        // Missing fields render empty: payloads leave out what they do not have.
        env.set_undefined_behavior(minijinja::UndefinedBehavior::Chainable);
        // Templates are named after fields (`labels.html` is a label, not an HTML page).
        env.set_auto_escape_callback(|_| minijinja::AutoEscape::None);
        env.set_formatter(json_spelling);
        let mut sources = BTreeMap::new();
        let mut fields = Vec::new();
        let given = [
            (MappedField::Summary, Some(raw.summary)),
            (MappedField::DedupKey, raw.dedup_key),
            (MappedField::Name, raw.name),
            (MappedField::Description, raw.description),
            (MappedField::Severity, raw.severity),
            (MappedField::Status, raw.status),
            (MappedField::Service, raw.service),
            (MappedField::Host, raw.host),
            (MappedField::OccurredAt, raw.occurred_at),
            (MappedField::Link, raw.link),
        ];
        let mut paths = BTreeMap::new();
        let mut add = |env: &mut minijinja::Environment<'static>, key: String, source: String| {
            if let Some(path) = plain_path(&source) {
                paths.insert(key.clone(), path);
                sources.insert(key, source);
                return true;
            }
            match env.add_template_owned(key.clone(), source.clone()) {
                Ok(()) => {
                    sources.insert(key, source);
                    true
                }
                Err(e) => {
                    errors.push(ConfigError::new(
                        format!("{path}.{key}"),
                        format!("invalid template: {e}"),
                    ));
                    false
                }
            }
        };
        for (field, source) in given {
            if let Some(source) = source {
                if add(&mut env, field.key().to_string(), source) {
                    fields.push(field);
                }
            }
        }
        let mut label_names = Vec::new();
        for (name, source) in raw.labels {
            if add(&mut env, format!("labels.{name}"), source) {
                label_names.push(name);
            }
        }
        let lower = |v: Vec<String>| v.into_iter().map(|s| s.to_lowercase()).collect();
        WebhookMapping {
            items: raw
                .items
                .map(|p| {
                    p.split('.')
                        .filter(|s| !s.is_empty())
                        .map(str::to_owned)
                        .collect()
                })
                .unwrap_or_default(),
            severity_map: raw
                .severity_map
                .into_iter()
                .map(|(k, v)| (k.to_lowercase(), v))
                .collect(),
            resolved_values: lower(
                raw.resolved_values
                    .unwrap_or_else(|| DEFAULT_RESOLVED.map(String::from).to_vec()),
            ),
            acknowledged_values: lower(raw.acknowledged_values),
            label_names,
            fields,
            paths,
            env: Arc::new(env),
            sources,
        }
    }

    pub fn has(&self, field: MappedField) -> bool {
        self.fields.contains(&field)
    }

    /// Renders a field for one alert; `None` when the mapping does not set it.
    pub fn render(
        &self,
        field: MappedField,
        ctx: &RenderContext<'_>,
    ) -> Option<Result<String, String>> {
        self.has(field).then(|| self.render_named(field.key(), ctx))
    }

    pub fn render_label(&self, name: &str, ctx: &RenderContext<'_>) -> Result<String, String> {
        self.render_named(&format!("labels.{name}"), ctx)
    }

    fn render_named(&self, key: &str, ctx: &RenderContext<'_>) -> Result<String, String> {
        if let Some(path) = self.paths.get(key) {
            return Ok(ctx.lookup(path));
        }
        let template = self.env.get_template(key).map_err(|e| e.to_string())?;
        template
            .render(ctx.jinja())
            .map(|s| s.trim().to_string())
            .map_err(|e| format!("mapping.{key}: {e}"))
    }

    /// What a rendered status means: resolved, acknowledged, else firing.
    pub fn status_of(&self, rendered: &str) -> Status {
        let v = rendered.trim().to_lowercase();
        if self.resolved_values.contains(&v) {
            Status::Resolved
        } else if self.acknowledged_values.contains(&v) {
            Status::Acknowledged
        } else {
            Status::Firing
        }
    }

    /// What a rendered severity means: the map first, then tocsin's and common words.
    pub fn severity_of(&self, rendered: &str) -> Option<Severity> {
        let v = rendered.trim().to_lowercase();
        self.severity_map.get(&v).copied().or_else(|| {
            Severity::parse(&v).or(match v.as_str() {
                "disaster" | "fatal" | "emergency" | "p1" => Some(Severity::Critical),
                "error" | "major" | "p2" => Some(Severity::High),
                "warn" | "minor" | "average" | "p3" => Some(Severity::Warning),
                "information" | "informational" | "ok" | "low" | "p4" | "p5" => {
                    Some(Severity::Info)
                }
                _ => None,
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use crate::config::load_str;

    #[test]
    fn template_errors_name_the_field() {
        let errors = load_str(
            r#"
integrations:
  - name: w
    kind: webhook
    key: 0123456789abcdef0
    mapping: {summary: "{{ title ", labels: {env: "{% if %}"}}
  - {name: x, kind: webhook, key: 0123456789abcdef1}
  - {name: y, kind: zabbix, key: 0123456789abcdef2, mapping: {summary: x}}
"#,
        )
        .unwrap_err();
        let all: Vec<String> = errors.iter().map(|e| e.to_string()).collect();
        let all = all.join("\n");
        for needle in [
            "integrations[0].mapping.summary: invalid template",
            "integrations[0].mapping.labels.env: invalid template",
            "integrations[1].mapping: a webhook integration needs a mapping",
            "integrations[2].mapping: only webhook integrations have a mapping",
        ] {
            assert!(all.contains(needle), "missing {needle:?} in\n{all}");
        }
    }
}
