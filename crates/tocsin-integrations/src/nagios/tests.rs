//! The Nagios adapter against fixture notifications as Nagios 4 and Icinga 2 send them
//! through the forwarder, and against hostile input.

use super::*;
use crate::testing::{context, NOW};
use proptest::prelude::*;

const SERVICE_PROBLEM: &str = include_str!("fixtures/service_problem.json");
const SERVICE_RECOVERY: &str = include_str!("fixtures/service_recovery.json");
const SERVICE_ACK: &str = include_str!("fixtures/service_ack.json");
const SERVICE_FLAPPING: &str = include_str!("fixtures/service_flapping_start.json");
const HOST_PROBLEM: &str = include_str!("fixtures/host_problem.json");
const HOST_RECOVERY: &str = include_str!("fixtures/host_recovery.json");
const HOST_DOWNTIME: &str = include_str!("fixtures/host_downtime_start.json");
const ICINGA2_PROBLEM: &str = include_str!("fixtures/icinga2_service_problem.json");

const ALL: [&str; 8] = [
    SERVICE_PROBLEM,
    SERVICE_RECOVERY,
    SERVICE_ACK,
    SERVICE_FLAPPING,
    HOST_PROBLEM,
    HOST_RECOVERY,
    HOST_DOWNTIME,
    ICINGA2_PROBLEM,
];

/// The event as the adapter reads it: the fixtures' times are after the test clock's
/// `NOW`, which [`Adapter::parse`] would replace (plausible.rs).
fn parse(body: &str) -> Result<Event, IntakeError> {
    let ctx = IntakeContext {
        integration: "nagios-main",
        ..context(1)
    };
    let mut events = Nagios.read(&Inbound::json(body.as_bytes()), &ctx)?;
    assert_eq!(events.len(), 1);
    Ok(events.remove(0))
}

fn ok(body: &str) -> Event {
    parse(body).unwrap_or_else(|e| panic!("{e}: {body}"))
}

/// A fixture with some macros replaced (an empty value removes one).
fn with(fixture: &str, changes: &[(&str, &str)]) -> String {
    let mut map: BTreeMap<String, String> = serde_json::from_str(fixture).unwrap();
    for (k, v) in changes {
        if v.is_empty() {
            map.remove(*k);
        } else {
            map.insert(k.to_string(), v.to_string());
        }
    }
    serde_json::to_string(&map).unwrap()
}

fn err(body: &str) -> String {
    match parse(body) {
        Ok(e) => panic!("accepted: {e:?}"),
        Err(e) => e.0,
    }
}

#[test]
fn service_problem_fires() {
    let e = ok(SERVICE_PROBLEM);
    assert_eq!(e.source, "nagios");
    assert_eq!(e.integration, "nagios-main");
    assert_eq!(e.dedup_key, "gateway-sh-01!Disk /var");
    assert_eq!(e.status, Status::Firing);
    assert_eq!(e.severity, Severity::Warning);
    assert_eq!(e.name, "Disk /var");
    assert_eq!(
        e.summary,
        "Disk /var on gateway-sh-01 is WARNING: DISK WARNING - free space: /var 4200 MB (8% inode=91%)"
    );
    // Nagios escapes newlines and backslashes in long output.
    assert_eq!(
        e.description,
        "/var/log 3100 MB\n/var/lib 900 MB\n\\srv\\share"
    );
    assert_eq!(e.occurred_at, 1_772_411_821_000);
    assert_eq!(e.received_at, NOW);
    assert_eq!(e.service, None);
    assert_eq!(e.ends_at, None);
    let labels: Vec<(&str, &str)> = e
        .labels
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    assert_eq!(
        labels,
        [
            ("host", "gateway-sh-01"),
            ("host_ip", "10.0.0.94"),
            ("problem_id", "322413"),
            ("service_desc", "Disk /var"),
            ("state", "WARNING"),
        ]
    );
}

#[test]
fn recovery_finds_its_problem_and_keeps_the_problem_id() {
    let problem = ok(SERVICE_PROBLEM);
    let e = ok(SERVICE_RECOVERY);
    assert_eq!(e.status, Status::Resolved);
    assert_eq!(e.dedup_key, problem.dedup_key);
    assert_eq!(e.name, problem.name);
    assert_eq!(e.labels["problem_id"], "322413");
    assert_eq!(
        e.summary,
        "Disk /var on gateway-sh-01 is OK: DISK OK - free space: /var 9800 MB"
    );
    assert_eq!(e.description, "");
    assert_eq!(e.occurred_at, 1_772_412_167_000);
}

#[test]
fn host_problem_and_recovery() {
    let down = ok(HOST_PROBLEM);
    assert_eq!(down.status, Status::Firing);
    assert_eq!(down.severity, Severity::Critical);
    assert_eq!(down.dedup_key, "k8s-node-pool-sh-04");
    assert_eq!(down.name, "Host down");
    assert_eq!(
        down.summary,
        "k8s-node-pool-sh-04 is DOWN: CRITICAL - Host Unreachable (10.0.0.48)"
    );
    assert_eq!(down.labels["problem_id"], "455792");
    assert_eq!(down.labels["host_ip"], "10.0.0.48");
    assert!(!down.labels.contains_key("service_desc"));

    let up = ok(HOST_RECOVERY);
    assert_eq!(up.status, Status::Resolved);
    assert_eq!(up.dedup_key, down.dedup_key);
    assert_eq!(up.labels["problem_id"], "455792");

    let unreachable = ok(&with(HOST_PROBLEM, &[("HOSTSTATE", "UNREACHABLE")]));
    assert_eq!(unreachable.severity, Severity::High);
    assert_eq!(unreachable.dedup_key, down.dedup_key);
}

#[test]
fn unexpanded_or_empty_service_macros_mean_a_host_notification() {
    for desc in ["$SERVICEDESC$", "", "  "] {
        let mut map: BTreeMap<String, String> = serde_json::from_str(HOST_PROBLEM).unwrap();
        map.insert("SERVICEDESC".into(), desc.into());
        let body = serde_json::to_string(&map).unwrap();
        let e = ok(&body);
        assert_eq!(e.dedup_key, "k8s-node-pool-sh-04", "{desc:?}");
        assert_eq!(e.name, "Host down");
    }
}

#[test]
fn acknowledgement_names_who_and_why() {
    let e = ok(SERVICE_ACK);
    assert_eq!(e.status, Status::Acknowledged);
    assert_eq!(e.dedup_key, "gateway-sh-01!Disk /var");
    assert_eq!(e.summary, "acknowledged by alice: rotating logs now");

    // Older notification commands pass only the acknowledgement macros.
    let legacy = ok(&with(
        SERVICE_ACK,
        &[("NOTIFICATIONAUTHOR", ""), ("NOTIFICATIONCOMMENT", "")],
    ));
    assert_eq!(legacy.summary, "acknowledged by alice: rotating logs now");
    let host = ok(&with(
        HOST_PROBLEM,
        &[
            ("NOTIFICATIONTYPE", "ACKNOWLEDGEMENT"),
            ("HOSTACKAUTHOR", "carol"),
            ("HOSTACKCOMMENT", "机房断电,正在处理"),
        ],
    ));
    assert_eq!(host.status, Status::Acknowledged);
    assert_eq!(host.summary, "acknowledged by carol: 机房断电,正在处理");
    let anonymous = ok(&with(
        SERVICE_ACK,
        &[
            ("NOTIFICATIONAUTHOR", ""),
            ("NOTIFICATIONCOMMENT", ""),
            ("SERVICEACKAUTHOR", ""),
            ("SERVICEACKCOMMENT", ""),
        ],
    ));
    assert_eq!(anonymous.summary, "acknowledged");
}

#[test]
fn flapping_and_downtime_are_notes() {
    let flap = ok(SERVICE_FLAPPING);
    assert_eq!(flap.status, Status::Note);
    assert_eq!(flap.dedup_key, "web-01!HTTP");
    assert_eq!(flap.summary, "HTTP on web-01 started flapping");
    assert_eq!(flap.labels["problem_id"], "1001");
    assert_eq!(flap.occurred_at, NOW, "no TIMET: the time it arrived");

    let downtime = ok(HOST_DOWNTIME);
    assert_eq!(downtime.status, Status::Note);
    assert_eq!(downtime.dedup_key, "db-02");
    assert_eq!(
        downtime.summary,
        "db-02 scheduled downtime started by bob: kernel upgrade"
    );

    let cases = [
        ("FLAPPINGSTOP", "HTTP on web-01 stopped flapping"),
        (
            "FLAPPINGDISABLED",
            "HTTP on web-01 flap detection was disabled",
        ),
        ("DOWNTIMEEND", "HTTP on web-01 scheduled downtime ended"),
        (
            "DOWNTIMECANCELLED",
            "HTTP on web-01 scheduled downtime was cancelled",
        ),
    ];
    for (kind, summary) in cases {
        let e = ok(&with(SERVICE_FLAPPING, &[("NOTIFICATIONTYPE", kind)]));
        assert_eq!(e.status, Status::Note, "{kind}");
        assert_eq!(e.summary, summary);
    }
    let custom = ok(&with(
        SERVICE_FLAPPING,
        &[
            ("NOTIFICATIONTYPE", "CUSTOM"),
            ("NOTIFICATIONAUTHOR", "dave"),
            ("NOTIFICATIONCOMMENT", "failover drill at 14:00"),
        ],
    ));
    assert_eq!(custom.status, Status::Note);
    assert_eq!(
        custom.summary,
        "custom notification by dave: failover drill at 14:00"
    );
}

#[test]
fn icinga2_types_in_any_case() {
    let e = ok(ICINGA2_PROBLEM);
    assert_eq!(e.status, Status::Firing);
    assert_eq!(e.severity, Severity::Critical);
    assert_eq!(e.dedup_key, "mail.example.org!smtp");
    // Icinga 2 sends the whole output: its first line is the summary.
    assert_eq!(
        e.summary,
        "smtp on mail.example.org is CRITICAL: connect to address 2001:db8::25 and port 25: \
         Connection refused"
    );
    assert_eq!(e.description, "retried 3 times");
    assert_eq!(e.labels["state"], "CRITICAL");
    assert_eq!(e.labels["host_ip"], "2001:db8::25");
    assert!(!e.labels.contains_key("problem_id"));

    let cases = [
        ("Problem", Status::Firing),
        ("Recovery", Status::Resolved),
        ("Acknowledgement", Status::Acknowledged),
        ("FlappingStart", Status::Note),
        ("FlappingEnd", Status::Note),
        ("DowntimeStart", Status::Note),
        ("DowntimeEnd", Status::Note),
        ("DowntimeRemoved", Status::Note),
        ("Custom", Status::Note),
        ("recovery", Status::Resolved),
        ("FLAPPING_END", Status::Note),
    ];
    for (kind, status) in cases {
        let e = ok(&with(ICINGA2_PROBLEM, &[("NOTIFICATIONTYPE", kind)]));
        assert_eq!(e.status, status, "{kind}");
        assert_eq!(e.dedup_key, "mail.example.org!smtp");
    }
}

#[test]
fn severity_table() {
    let cases = [
        ("CRITICAL", Severity::Critical),
        ("WARNING", Severity::Warning),
        ("UNKNOWN", Severity::Warning),
        ("OK", Severity::Info),
    ];
    for (state, want) in cases {
        let e = ok(&with(SERVICE_PROBLEM, &[("SERVICESTATE", state)]));
        assert_eq!(e.severity, want, "{state}");
    }
    let cases = [
        ("DOWN", Severity::Critical),
        ("UNREACHABLE", Severity::High),
        ("UP", Severity::Info),
    ];
    for (state, want) in cases {
        let e = ok(&with(HOST_PROBLEM, &[("HOSTSTATE", state)]));
        assert_eq!(e.severity, want, "{state}");
    }
}

#[test]
fn chinese_output_in_a_form_body() {
    let body = "NOTIFICATIONTYPE=PROBLEM&HOSTNAME=db-%E4%B8%8A%E6%B5%B7-01&HOSTADDRESS=10.0.0.7\
                &SERVICEDESC=%E7%A3%81%E7%9B%98&SERVICESTATE=CRITICAL\
                &SERVICEOUTPUT=%E7%A3%81%E7%9B%98%E5%B0%86%E6%BB%A1+%2Fvar+98%25\
                &LONGSERVICEOUTPUT=&TIMET=1772411821";
    let headers = [("content-type", "application/x-www-form-urlencoded")];
    let req = Inbound {
        headers: &headers,
        ..Inbound::json(body.as_bytes())
    };
    let e = Nagios.parse(&req, &context(1)).unwrap().remove(0);
    assert_eq!(e.dedup_key, "db-上海-01!磁盘");
    assert_eq!(e.name, "磁盘");
    assert_eq!(
        e.summary,
        "磁盘 on db-上海-01 is CRITICAL: 磁盘将满 /var 98%"
    );
    assert_eq!(e.labels["host"], "db-上海-01");
}

#[test]
fn long_output_is_cut_at_a_character_boundary() {
    // 1365 three-byte characters: just under the 4096 bytes a parameter may have.
    let long = "磁".repeat(1365);
    let e = ok(&with(SERVICE_PROBLEM, &[("SERVICEOUTPUT", &long)]));
    assert!(e.summary.len() <= crate::limits::MAX_SUMMARY);
    assert!(e.summary.ends_with('…'), "{}", e.summary);
}

#[test]
fn errors_name_the_macro() {
    let missing = |name: &str| err(&with(SERVICE_PROBLEM, &[(name, "")]));
    assert!(missing("NOTIFICATIONTYPE").starts_with("NOTIFICATIONTYPE: missing"));
    assert!(missing("HOSTNAME").starts_with("HOSTNAME: missing"));
    assert!(missing("SERVICESTATE").starts_with("SERVICESTATE: missing"));
    assert!(
        err(&with(HOST_PROBLEM, &[("HOSTSTATE", "")])).starts_with("HOSTSTATE: missing"),
        "a host problem needs HOSTSTATE"
    );

    let bad = err(&with(SERVICE_PROBLEM, &[("NOTIFICATIONTYPE", "PROBLEMO")]));
    assert!(
        bad.starts_with("NOTIFICATIONTYPE: \"PROBLEMO\" is not"),
        "{bad}"
    );
    let bad = err(&with(SERVICE_PROBLEM, &[("SERVICESTATE", "DOWN")]));
    assert!(
        bad.starts_with("SERVICESTATE: \"DOWN\" is not a service state"),
        "{bad}"
    );
    let bad = err(&with(HOST_PROBLEM, &[("HOSTSTATE", "CRIT")]));
    assert!(
        bad.starts_with("HOSTSTATE: \"CRIT\" is not a host state"),
        "{bad}"
    );
    for t in ["yesterday", "-5", "99999999999999999999"] {
        let bad = err(&with(SERVICE_PROBLEM, &[("TIMET", t)]));
        assert!(bad.starts_with("TIMET: "), "{bad}");
    }
    let bad = err(&with(SERVICE_PROBLEM, &[("HOSTNAME", &"h".repeat(600))]));
    assert!(bad.starts_with("HOSTNAME: 600 bytes"), "{bad}");

    // A recovery or note without a state is still understood.
    let e = ok(&with(SERVICE_RECOVERY, &[("SERVICESTATE", "")]));
    assert_eq!(
        e.summary,
        "Disk /var on gateway-sh-01 is OK: DISK OK - free space: /var 9800 MB"
    );
    assert!(err("[]").contains("JSON object"));
}

/// A fixture mutation: replace, remove or add a macro.
fn mutation() -> impl Strategy<Value = (usize, Vec<(String, Option<String>)>)> {
    let names = prop::sample::select(vec![
        "NOTIFICATIONTYPE",
        "HOSTNAME",
        "HOSTADDRESS",
        "HOSTSTATE",
        "HOSTOUTPUT",
        "SERVICEDESC",
        "SERVICESTATE",
        "SERVICEOUTPUT",
        "LONGSERVICEOUTPUT",
        "SERVICEPROBLEMID",
        "LASTSERVICEPROBLEMID",
        "NOTIFICATIONAUTHOR",
        "TIMET",
        "X",
    ]);
    let value = prop::option::of(prop_oneof![
        "\\PC{0,30}",
        Just("$SERVICEDESC$".to_string()),
        Just("0".to_string()),
        Just("9223372036854775807".to_string()),
        "(problem|recovery|Acknowledgement|DOWN|UNREACHABLE|critical)",
    ]);
    (
        0..ALL.len(),
        prop::collection::vec((names.prop_map(String::from), value), 1..6),
    )
}

proptest! {
    /// Whatever arrives, as JSON or as a form, the adapter answers; it never panics.
    #[test]
    fn arbitrary_bytes_never_panic(body in prop::collection::vec(any::<u8>(), 0..512)) {
        let _ = Nagios.parse(&Inbound::json(&body), &context(1));
        let headers = [("content-type", "application/x-www-form-urlencoded")];
        let form = Inbound { headers: &headers, ..Inbound::json(&body) };
        let _ = Nagios.parse(&form, &context(1));
    }

    /// Real notifications with macros changed, removed or added: events or an error, and
    /// an accepted one always has an identity and a bounded summary.
    #[test]
    fn mutated_fixtures_never_panic((fixture, changes) in mutation()) {
        let mut map: BTreeMap<String, String> = serde_json::from_str(ALL[fixture]).unwrap();
        for (k, v) in changes {
            match v {
                Some(v) => map.insert(k, v),
                None => map.remove(&k),
            };
        }
        let body = serde_json::to_string(&map).unwrap();
        if let Ok(e) = parse(&body) {
            prop_assert!(!e.dedup_key.is_empty());
            prop_assert!(e.summary.len() <= crate::limits::MAX_SUMMARY);
            prop_assert_eq!(&e.labels["host"], map["HOSTNAME"].trim());
        }
    }
}
