//! tocsin as an Alertmanager sees it: receivers, alerts, groups and a generated config, for
//! the Alertmanager API v2 (`amtool`, Grafana's Alertmanager data source).
//!
//! Receivers are tocsin's teams: an alert's receiver is the team that owns its service, which
//! is who tocsin pages for it. Every alert is shown, not only Prometheus' ones; its labels
//! are completed with `alertname`, `service`, `severity` and `host` as silences see them.

use serde::Serialize;
use std::collections::BTreeMap;
use tocsin_core::config::Config;
use tocsin_core::fingerprint::alert_key;
use tocsin_core::grouping::GroupField;
use tocsin_core::silence::alert_labels;
use tocsin_core::time::{to_rfc3339, Millis};
use tocsin_store::sqlite::rows::AlertRow;

#[derive(Debug, Clone, Serialize, PartialEq, Eq, PartialOrd, Ord)]
pub struct Receiver {
    pub name: String,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AlertStatus {
    /// `active`, or `suppressed` while a silence or an inhibition rule mutes it.
    pub state: &'static str,
    pub silenced_by: Vec<String>,
    pub inhibited_by: Vec<String>,
}

/// Alertmanager's `gettableAlert`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GettableAlert {
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
    pub starts_at: String,
    pub ends_at: String,
    pub updated_at: String,
    pub fingerprint: String,
    pub receivers: Vec<Receiver>,
    pub status: AlertStatus,
    #[serde(rename = "generatorURL", skip_serializing_if = "Option::is_none")]
    pub generator_url: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct AlertGroup {
    pub labels: BTreeMap<String, String>,
    pub receiver: Receiver,
    pub alerts: Vec<GettableAlert>,
}

/// The team that owns a catalog service (the default service's, for one no longer in the
/// config).
pub fn receiver_of(config: &Config, service: &str) -> Receiver {
    let service = config
        .service(service)
        .unwrap_or_else(|| config.service_for(None));
    Receiver {
        name: service.team.clone(),
    }
}

pub fn receivers(config: &Config) -> Vec<Receiver> {
    config
        .teams
        .iter()
        .map(|t| Receiver { name: t.id.clone() })
        .collect()
}

/// The labels silences and filters see for a stored alert.
pub fn labels_of(a: &AlertRow) -> BTreeMap<String, String> {
    alert_labels(
        &a.labels,
        &a.name,
        &a.service,
        &a.severity,
        a.host.as_deref(),
    )
}

/// An alert's fingerprint as the Alertmanager API shows it.
pub fn fingerprint(a: &AlertRow) -> String {
    format!("{:016x}", alert_key(&a.source, &a.dedup_key))
}

/// A firing alert as Alertmanager shows it. One without an end time of its own ends, as far
/// as the client can tell, `resolve_timeout` from now, as Alertmanager would say of an alert
/// sent without `endsAt`. `inhibited_by` are the fingerprints of the source alerts that
/// inhibit it (tocsin stores their ids; Alertmanager shows fingerprints).
pub fn gettable(
    config: &Config,
    a: &AlertRow,
    inhibited_by: Vec<String>,
    now: Millis,
) -> GettableAlert {
    let mut annotations = BTreeMap::new();
    for (k, v) in [("summary", &a.summary), ("description", &a.description)] {
        if !v.is_empty() {
            annotations.insert(k.to_string(), v.clone());
        }
    }
    for link in &a.links {
        if link.text == "Runbook" {
            annotations.insert("runbook_url".into(), link.href.clone());
        }
    }
    let suppressed = !a.silenced_by.is_empty() || !inhibited_by.is_empty();
    GettableAlert {
        labels: labels_of(a),
        annotations,
        starts_at: a.started_at.clone(),
        ends_at: a
            .ends_at
            .clone()
            .unwrap_or_else(|| to_rfc3339(now + config.resolve_timeout)),
        updated_at: a.last_seen.clone(),
        fingerprint: fingerprint(a),
        receivers: vec![receiver_of(config, &a.service)],
        status: AlertStatus {
            state: if suppressed { "suppressed" } else { "active" },
            silenced_by: a.silenced_by.clone(),
            inhibited_by,
        },
        generator_url: a
            .links
            .iter()
            .find(|l| l.text != "Runbook")
            .map(|l| l.href.clone()),
    }
}

/// The label an `incidents.group_by` field is shown as, and its value for an alert.
fn group_label(field: &GroupField, a: &AlertRow) -> (String, String) {
    let value = match field {
        GroupField::Service => a.service.clone(),
        GroupField::Name => a.name.clone(),
        GroupField::Source => a.source.clone(),
        GroupField::Severity => a.severity.clone(),
        GroupField::Host => a.host.clone().unwrap_or_default(),
        GroupField::Label(k) => a.labels.get(k).cloned().unwrap_or_default(),
    };
    (group_by_name(field), value)
}

/// A group's labels, in `group_by` order.
type GroupLabels = Vec<(String, String)>;

/// Groups alerts as tocsin groups them into incidents (`incidents.group_by`), per receiver.
pub fn groups(config: &Config, alerts: Vec<(AlertRow, GettableAlert)>) -> Vec<AlertGroup> {
    let mut by_key: BTreeMap<(Receiver, GroupLabels), Vec<GettableAlert>> = BTreeMap::new();
    for (row, alert) in alerts {
        let labels: GroupLabels = config
            .incidents
            .group_by
            .iter()
            .map(|f| group_label(f, &row))
            .collect();
        by_key
            .entry((receiver_of(config, &row.service), labels))
            .or_default()
            .push(alert);
    }
    by_key
        .into_iter()
        .map(|((receiver, labels), alerts)| AlertGroup {
            labels: labels.into_iter().collect(),
            receiver,
            alerts,
        })
        .collect()
}

/// YAML strings written as JSON strings, which YAML reads as double-quoted scalars.
fn quoted(text: &str) -> String {
    serde_json::to_string(text).unwrap_or_default()
}

fn group_by_name(field: &GroupField) -> String {
    match field {
        GroupField::Service => "service".into(),
        GroupField::Name => "alertname".into(),
        GroupField::Source => "source".into(),
        GroupField::Severity => "severity".into(),
        GroupField::Host => "host".into(),
        GroupField::Label(k) => k.clone(),
    }
}

/// An Alertmanager-style config that describes how tocsin routes alerts: one receiver per
/// team, a route per team matching its services, grouping as incidents group. It is a view
/// for `amtool config show`, not a config tocsin reads.
pub fn config_yaml(config: &Config) -> String {
    let mut y = String::new();
    y.push_str("# Generated by tocsin: how tocsin routes alerts, in Alertmanager's terms.\n");
    y.push_str("# Receivers are tocsin teams; an alert goes to the team that owns its service.\n");
    y.push_str("global:\n");
    y.push_str(&format!(
        "  resolve_timeout: {}s\n",
        config.resolve_timeout / 1000
    ));
    y.push_str("route:\n");
    let default_team = &config.service_for(None).team;
    y.push_str(&format!("  receiver: {}\n", quoted(default_team)));
    let group_by: Vec<String> = config
        .incidents
        .group_by
        .iter()
        .map(|f| quoted(&group_by_name(f)))
        .collect();
    y.push_str(&format!("  group_by: [{}]\n", group_by.join(", ")));
    let routes: Vec<(String, Vec<String>)> = config
        .teams
        .iter()
        .map(|t| {
            let services = config
                .services
                .iter()
                .filter(|s| s.team == t.id)
                .map(|s| regex::escape(&s.id))
                .collect::<Vec<_>>();
            (t.id.clone(), services)
        })
        .filter(|(_, services)| !services.is_empty())
        .collect();
    if !routes.is_empty() {
        y.push_str("  routes:\n");
        for (team, services) in routes {
            y.push_str(&format!("    - receiver: {}\n", quoted(&team)));
            let matcher = format!("service=~{}", quoted(&services.join("|")));
            y.push_str(&format!("      matchers: [{}]\n", quoted(&matcher)));
        }
    }
    y.push_str("receivers:\n");
    for t in &config.teams {
        y.push_str(&format!("  - name: {}\n", quoted(&t.id)));
    }
    y
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_view_names_every_team_and_routes_services() {
        let config = tocsin_core::config::load_str(
            "teams: [{id: dba}, {id: web}]\nservices: [{id: mysql, team: dba}, {id: shop, team: web}]\ndefault_service: shop\n",
        )
        .unwrap();
        let y = config_yaml(&config);
        assert!(y.contains("receiver: \"web\"\n  group_by"), "{y}");
        assert!(
            y.contains("- name: \"dba\"") && y.contains("- name: \"web\""),
            "{y}"
        );
        assert!(y.contains(r#"matchers: ["service=~\"mysql\""]"#), "{y}");
        assert_eq!(receivers(&config).len(), 2);
        assert_eq!(receiver_of(&config, "mysql").name, "dba");
        assert_eq!(receiver_of(&config, "gone").name, "web");
    }
}
