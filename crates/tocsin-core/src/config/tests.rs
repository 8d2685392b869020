use super::*;
use crate::event::Severity;

#[test]
fn builtin_has_one_default_service_every_alert_maps_to() {
    let c = Config::builtin();
    assert_eq!(c.services.len(), 1);
    assert_eq!(c.service_for(Some("anything")).id, "default");
    assert_eq!(c.service_for(None).id, "default");
    assert!(c.intake.loopback_without_token);
    assert_eq!(c.resolve_timeout, 300_000);
}

#[test]
fn full_config_loads() {
    let c = load_str(
        r#"
teams:
  - {id: dba, name: DBA}
  - {id: net}
services:
  - {id: mysql, team: dba, impact: high}
  - {id: core-switch, team: net, impact: low}
default_service: mysql
incidents: {group_by: [service, labels.host], auto_resolve: false}
priority:
  urgency: {warning: high}
  matrix: {low: {high: P2}}
alertmanager: {resolve_timeout: 2m}
intake: {max_body_bytes: 1000, max_events_per_request: 5}
tokens:
  - {name: ci, role: viewer, sha256: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"}
"#,
    )
    .unwrap();
    assert_eq!(c.service_for(Some("core-switch")).team, "net");
    assert_eq!(c.service_for(Some("nope")).id, "mysql");
    assert_eq!(
        c.priority
            .for_alert(Level::Low, Severity::Warning)
            .to_string(),
        "P2"
    );
    assert!(!c.incidents.auto_resolve);
    assert_eq!(c.resolve_timeout, 120_000);
    assert_eq!(c.tokens[0].role, crate::auth::Role::Viewer);
}

#[test]
fn every_error_is_reported_with_its_path() {
    let errors = load_str(
        r#"
teams: [{id: a}, {id: a}, {idd: b}]
services:
  - {id: s1, team: missing}
  - {id: s2, team: a, impact: huge}
default_service: nowhere
incidents: {group_by: [service, colour]}
priority: {matrix: {high: {high: P9}}}
alertmanager: {resolve_timeout: soon}
intake: {max_body_bytes: 0}
tokens: [{name: t, role: god, sha256: x}]
colour: blue
"#,
    )
    .unwrap_err();
    let paths: Vec<&str> = errors.iter().map(|e| e.path.as_str()).collect();
    for expected in [
        "teams[1].id",
        "teams[2].idd",
        "services[0].team",
        "services[1].impact",
        "default_service",
        "incidents.group_by[1]",
        "priority.matrix.high.high",
        "alertmanager.resolve_timeout",
        "intake.max_body_bytes",
        "tokens[0].role",
        "colour",
    ] {
        assert!(paths.contains(&expected), "{expected} missing in {paths:?}");
    }
}

#[test]
fn yaml_syntax_errors_are_reported() {
    let errors = load_str("teams: [").unwrap_err();
    assert!(errors[0].message.contains("not valid YAML"));
    assert!(load_str("- a\n- b").is_err());
    assert!(load_str("").is_ok());
}

#[test]
fn inhibit_rules_load_in_alertmanager_shape() {
    let c = load_str(
        r#"
inhibit_rules:
  - source_matchers: ["alertname=NodeDown"]
    target_matchers: ['severity=~"warning|info"']
    equal: [host]
"#,
    )
    .unwrap();
    assert_eq!(c.inhibit_rules.len(), 1);
    let r = &c.inhibit_rules[0];
    assert_eq!(r.source_matchers[0].to_string(), r#"alertname="NodeDown""#);
    assert_eq!(
        r.target_matchers[0].to_string(),
        r#"severity=~"warning|info""#
    );
    assert_eq!(r.equal, vec!["host".to_string()]);
}

#[test]
fn inhibit_rule_errors_have_their_paths() {
    let errors = load_str(
        r#"
inhibit_rules:
  - source_matchers: ["alertname=NodeDown", "host"]
    target_matchers: ['severity=~"("']
    equal: [host, "1x"]
  - source_matchers: []
    target_matchers: [a=b]
  - source_matchers: [a=b]
    target_match: {a: b}
"#,
    )
    .unwrap_err();
    let paths: Vec<&str> = errors.iter().map(|e| e.path.as_str()).collect();
    for expected in [
        "inhibit_rules[0].source_matchers[1]",
        "inhibit_rules[0].target_matchers[0]",
        "inhibit_rules[0].equal[1]",
        "inhibit_rules[1].source_matchers",
        "inhibit_rules[2].target_match",
    ] {
        assert!(paths.contains(&expected), "{expected} missing in {paths:?}");
    }
}

#[test]
fn the_event_log_keeps_a_bounded_history() {
    let c = load_str("").unwrap();
    assert_eq!(c.intake.log_retention, 7 * 24 * 3_600_000);
    assert_eq!(c.intake.log_max_bytes, 1 << 30);
    let c = load_str("intake: {log_retention: 168h, log_max_bytes: 4294967296}").unwrap();
    assert_eq!(c.intake.log_retention, 7 * 24 * 3_600_000);
    assert_eq!(c.intake.log_max_bytes, 4 << 30);
    let errors = load_str("intake: {log_retention: forever}").unwrap_err();
    assert!(
        errors[0]
            .to_string()
            .starts_with("intake.log_retention: not a duration"),
        "{errors:?}"
    );
}

#[test]
fn config_regexes_have_the_limits_of_silences_with_their_paths() {
    let errors = load_str(
        r#"
services:
  - {id: web, team: default}
service_rules:
  - {service: web, match_re: {host: "(.{0,100}){0,100}x"}}
inhibit_rules:
  - source_matchers: ["alertname=NodeDown"]
    target_matchers: ['host=~"(.{0,100}){0,100}x"']
"#,
    )
    .unwrap_err();
    let text: Vec<String> = errors.iter().map(|e| e.to_string()).collect();
    let too_large =
        "the regular expression is too large (compiled size over 524288 bytes); simplify it";
    for want in [
        format!("service_rules[0].match_re.host: {too_large}"),
        format!("inhibit_rules[0].target_matchers[0]: invalid matcher host=~\"(.{{0,100}}){{0,100}}x\": {too_large}"),
    ] {
        assert!(text.contains(&want), "{want:?} missing in {text:#?}");
    }
}
