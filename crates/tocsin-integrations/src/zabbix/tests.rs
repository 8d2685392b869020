//! The Zabbix adapter against payloads as the shipped media type sends them (fixtures/), one
//! problem's life: problem, acknowledgement, comment, severity change, recovery.

use super::*;
use crate::testing::{context, NOW};
use proptest::prelude::*;
use serde_json::{json, Value};

const PROBLEM: &str = include_str!("fixtures/problem.json");
const RECOVERY: &str = include_str!("fixtures/recovery.json");
const ACK: &str = include_str!("fixtures/ack.json");
const MESSAGE: &str = include_str!("fixtures/message.json");
const SEVERITY: &str = include_str!("fixtures/severity.json");
const TAGS_CHINESE: &str = include_str!("fixtures/tags_chinese.json");
/// A media type that forwards no Unix timestamps (only local dates and times, which lack a
/// time zone), tags joined with a bare ','.
const NO_TIMESTAMPS: &str = include_str!("fixtures/no_timestamps.json");
const ALL: [&str; 7] = [
    PROBLEM,
    RECOVERY,
    ACK,
    MESSAGE,
    SEVERITY,
    TAGS_CHINESE,
    NO_TIMESTAMPS,
];

fn ctx() -> IntakeContext<'static> {
    IntakeContext {
        integration: "zabbix-prod",
        ..context(10)
    }
}

/// The event as the adapter reads it: the fixtures' times are after the test clock's
/// `NOW`, which [`Adapter::parse`] would replace (plausible.rs).
fn parse(body: &str) -> Result<Event, IntakeError> {
    let mut events = Zabbix.read(&Inbound::json(body.as_bytes()), &ctx())?;
    assert_eq!(events.len(), 1);
    Ok(events.remove(0))
}

/// A fixture with some parameters replaced (`Value::Null` removes one).
fn with(fixture: &str, changes: Value) -> String {
    let mut v: Value = serde_json::from_str(fixture).unwrap();
    for (k, new) in changes.as_object().unwrap() {
        if new.is_null() {
            v.as_object_mut().unwrap().remove(k);
        } else {
            v[k] = new.clone();
        }
    }
    v.to_string()
}

#[test]
fn problem_fires_with_labels_service_and_link() {
    let e = parse(PROBLEM).unwrap();
    assert_eq!(e.source, "zabbix");
    assert_eq!(e.integration, "zabbix-prod");
    assert_eq!(e.dedup_key, "36699901");
    assert_eq!(e.status, Status::Firing);
    assert_eq!(e.severity, Severity::High);
    assert_eq!(e.name, "High memory utilization (>90% for 5m)");
    assert_eq!(
        e.summary,
        "web-bj-02: High memory utilization (>90% for 5m)"
    );
    assert_eq!(
        e.description,
        "Memory utilization on web-bj-02 is 97%\n\nThe system is running out of free memory."
    );
    assert_eq!(e.service.as_deref(), Some("web-bj"));
    let labels: Vec<(&str, &str)> = e
        .labels
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    assert_eq!(
        labels,
        [
            ("dc", "bj"),
            ("host", "web-bj-02"),
            ("host_ip", "10.0.0.101"),
            ("service", "web-bj"),
            ("trigger_id", "19937"),
        ]
    );
    assert_eq!(
        e.links,
        [Link {
            href: "https://zabbix.example.com/tr_events.php?triggerid=19937&eventid=36699901"
                .into(),
            text: "Zabbix problem".into(),
        }]
    );
    // {EVENT.TIMESTAMP}: exact, unlike the server-local {EVENT.DATE} {EVENT.TIME}.
    assert_eq!(e.occurred_at, 1_772_410_285_000);
    assert_eq!(e.received_at, NOW);
    assert_eq!(e.ends_at, None);
}

#[test]
fn recovery_resolves_the_same_identity() {
    let problem = parse(PROBLEM).unwrap();
    let e = parse(RECOVERY).unwrap();
    assert_eq!(e.status, Status::Resolved);
    assert_eq!(e.dedup_key, problem.dedup_key);
    assert_eq!(e.name, problem.name);
    assert_eq!(e.occurred_at, 1_772_410_811_000);
}

#[test]
fn acknowledgement_names_the_user_and_message() {
    let e = parse(ACK).unwrap();
    assert_eq!(e.status, Status::Acknowledged);
    assert_eq!(e.dedup_key, "36699901");
    assert_eq!(
        e.summary,
        "acknowledged by Zhang San (zhangsan): looking into it / 正在处理"
    );
    assert_eq!(e.occurred_at, 1_772_410_500_000);
}

#[test]
fn other_updates_are_notes() {
    let e = parse(MESSAGE).unwrap();
    // Acknowledged earlier ({EVENT.ACK.STATUS} is still Yes), but this update only comments.
    assert_eq!(e.status, Status::Note);
    assert_eq!(
        e.summary,
        "commented by Admin (Zabbix Administrator): restarted the cache node"
    );

    let e = parse(SEVERITY).unwrap();
    assert_eq!(e.status, Status::Note);
    assert_eq!(e.severity, Severity::Critical);
    assert_eq!(
        e.summary,
        "changed severity from Average to Disaster by Admin (Zabbix Administrator)"
    );

    let unack = with(
        MESSAGE,
        json!({"event_update_action": "unacknowledged", "event_ack_status": "No",
               "event_update_message": "", "event_update_user": null}),
    );
    let e = parse(&unack).unwrap();
    assert_eq!(e.status, Status::Note);
    assert_eq!(e.summary, "unacknowledged in Zabbix");
}

#[test]
fn without_the_update_action_the_ack_status_decides() {
    let bare = json!({"event_update_action": null, "event_update_message": "ok"});
    let e = parse(&with(ACK, bare.clone())).unwrap();
    assert_eq!(e.status, Status::Acknowledged);
    assert_eq!(e.summary, "acknowledged by Zhang San (zhangsan): ok");
    let not_acked = with(
        ACK,
        json!({"event_update_action": null, "event_ack_status": "No"}),
    );
    assert_eq!(parse(&not_acked).unwrap().status, Status::Note);
}

#[test]
fn text_tags_with_odd_characters_and_chinese() {
    let e = parse(TAGS_CHINESE).unwrap();
    assert_eq!(e.name, "磁盘空间不足: /data 使用率 96%");
    assert_eq!(e.summary, "数据库-01: 磁盘空间不足: /data 使用率 96%");
    assert_eq!(e.description, "已用 96%\n\n磁盘将满，请清理日志");
    assert_eq!(e.labels["host"], "数据库-01");
    assert_eq!(e.labels["note"], "see http://wiki/x?a=1,b=2");
    assert_eq!(e.labels["scope"], "availability, capacity");
    assert_eq!(e.labels["机房"], "北京");
    assert_eq!(e.service, None);
}

#[test]
fn json_tags_win_over_text_tags() {
    let body = with(
        PROBLEM,
        json!({"event_tags": "a:1, b:2",
               "event_tags_json": r#"[{"tag":"a","value":"x, y: z"},{"tag":"host","value":"other"}]"#}),
    );
    let e = parse(&body).unwrap();
    assert_eq!(e.labels["a"], "x, y: z");
    assert!(!e.labels.contains_key("b"));
    assert_eq!(
        e.labels["host"], "web-bj-02",
        "a tag does not rename the host"
    );
}

#[test]
fn payloads_without_timestamps_fall_back_to_arrival_time() {
    let e = parse(NO_TIMESTAMPS).unwrap();
    assert_eq!(e.status, Status::Firing);
    assert_eq!(e.occurred_at, NOW);
    assert_eq!(e.labels["service"], "web-bj");
    assert_eq!(e.labels["dc"], "bj");
    assert!(e.links.is_empty());
}

#[test]
fn severity_table() {
    for (n, want) in [
        ("0", Severity::Info),
        ("1", Severity::Info),
        ("2", Severity::Warning),
        ("3", Severity::High),
        ("4", Severity::High),
        ("5", Severity::Critical),
    ] {
        assert_eq!(severity(n), Some(want), "{n}");
        let e = parse(&with(PROBLEM, json!({"event_nseverity": n}))).unwrap();
        assert_eq!(e.severity, want);
    }
    assert_eq!(severity("6"), None);
}

#[test]
fn form_bodies_read_like_json() {
    let headers = [("content-type", "application/x-www-form-urlencoded")];
    let req = Inbound {
        headers: &headers,
        ..Inbound::json(b"event_id=7&event_value=0&event_nseverity=4&event_name=Disk+full")
    };
    let e = &Zabbix.parse(&req, &ctx()).unwrap()[0];
    assert_eq!((e.dedup_key.as_str(), e.status), ("7", Status::Resolved));
}

#[test]
fn missing_and_invalid_parameters_are_named() {
    for (changes, expect) in [
        (json!({"event_id": null}), "event_id: missing"),
        (
            json!({"event_id": "{EVENT.ID}"}),
            "event_id: Zabbix did not expand",
        ),
        (json!({"event_id": "12a"}), "event_id: \"12a\" is not"),
        (json!({"event_value": null}), "event_value: missing"),
        (json!({"event_value": "2"}), "event_value: \"2\" is not 1"),
        (
            json!({"event_nseverity": "High"}),
            "event_nseverity: \"High\"",
        ),
        (json!({"event_nseverity": ""}), "event_nseverity: missing"),
        (json!({"event_name": null}), "event_name: missing"),
        (
            json!({"event_update_status": "yes"}),
            "event_update_status:",
        ),
        (json!({"event_source": "1"}), "event_source: \"1\""),
        (json!({"event_timestamp": "yesterday"}), "event_timestamp:"),
        (json!({"event_timestamp": "-5"}), "event_timestamp:"),
        (json!({"event_tags_json": "[1,2]"}), "event_tags_json:"),
        (
            json!({"host_name": {"nested": 1}}),
            "host_name: must be text",
        ),
    ] {
        let err = parse(&with(PROBLEM, changes.clone())).unwrap_err();
        assert!(err.0.starts_with(expect), "{changes}: {err}");
    }
    for (body, expect) in [("", "empty"), ("[]", "JSON object"), ("{", "invalid JSON")] {
        let err = parse(body).unwrap_err();
        assert!(err.0.contains(expect), "{body:?}: {err}");
    }
}

#[test]
fn unexpanded_macros_read_as_absent() {
    assert!(unexpanded("{EVENT.RECOVERY.DATE}"));
    assert!(unexpanded("{$ZABBIX.URL}"));
    assert!(unexpanded("{EVENT.TAGS.\"a b\"}"));
    assert!(unexpanded("*UNKNOWN*"));
    assert!(!unexpanded("{json: 1}"));
    assert!(!unexpanded("{}"));
    assert!(!unexpanded("web-01"));
    let e = parse(&with(
        PROBLEM,
        json!({"zabbix_url": "{$ZABBIX.URL}", "host_ip": "*UNKNOWN*",
               "event_timestamp": "{EVENT.TIMESTAMP}"}),
    ))
    .unwrap();
    assert!(e.links.is_empty());
    assert!(!e.labels.contains_key("host_ip"));
    assert_eq!(e.occurred_at, NOW);
}

#[test]
fn long_text_is_cut_not_refused() {
    let long = "磁".repeat(1200);
    let e = parse(&with(PROBLEM, json!({"event_name": long}))).unwrap();
    assert!(e.name.len() <= MAX_SHORT && e.name.ends_with('…'));
    assert!(e.summary.len() <= MAX_SUMMARY);
    assert!(e.summary.starts_with("web-bj-02: 磁磁"));
}

/// A fixture cut short at a byte, or with that byte replaced.
fn mutate(fixture: &str, at: usize, byte: u8, cut: bool) -> Vec<u8> {
    let mut bytes = fixture.as_bytes().to_vec();
    let at = at % bytes.len();
    if cut {
        bytes.truncate(at);
    } else {
        bytes[at] = byte;
    }
    bytes
}

/// A refusal is a sender's mistake (HTTP 400), so it must say something and name no Rust
/// internals.
fn is_client_message(e: &IntakeError) -> bool {
    !e.0.is_empty() && !e.0.contains("panicked") && e.0.len() < 4096 + 512
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(body in proptest::collection::vec(any::<u8>(), 0..512)) {
        if let Err(e) = Zabbix.parse(&Inbound::json(&body), &ctx()) {
            prop_assert!(is_client_message(&e), "{e}");
        }
    }

    #[test]
    fn mutated_fixtures_never_panic(
        which in 0..ALL.len(),
        at in any::<usize>(),
        byte in any::<u8>(),
        cut in any::<bool>(),
    ) {
        let body = mutate(ALL[which], at, byte, cut);
        if let Err(e) = Zabbix.parse(&Inbound::json(&body), &ctx()) {
            prop_assert!(is_client_message(&e), "{e}");
        }
    }

    /// Any text in any parameter gives an event or a clear refusal; and whatever tags are
    /// sent as JSON come back as labels exactly.
    #[test]
    fn any_parameter_values(
        field in proptest::sample::select(PARAMETERS.to_vec()),
        value in "\\PC{0,40}",
        tags in proptest::collection::btree_map("[a-z机房]{1,6}", "\\PC{0,12}", 0..5),
    ) {
        let body = with(PROBLEM, json!({ field: value }));
        match parse(&body) {
            Ok(e) => prop_assert!(!e.dedup_key.is_empty()),
            Err(e) => prop_assert!(e.0.starts_with(field), "{field}: {e}"),
        }
        let list: Vec<Value> = tags.iter().map(|(k, v)| json!({"tag": k, "value": v})).collect();
        let body = with(PROBLEM, json!({"event_tags_json": Value::Array(list).to_string()}));
        let e = parse(&body).unwrap();
        for (k, v) in &tags {
            if !OWN_LABELS.contains(&k.as_str()) {
                prop_assert_eq!(&e.labels[k], v);
            }
        }
    }
}
