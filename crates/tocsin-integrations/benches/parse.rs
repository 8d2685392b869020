//! Parse cost per alert of each adapter, without HTTP or the event log: the same alerts in
//! each tool's wire format, parsed many times on one core. Complements bench/adapters.py
//! (which measures the whole intake path) with figures free of the machine's noise.
//!
//!     cargo bench -p tocsin-integrations --bench parse

use std::time::Instant;
use tocsin_core::config::load_str;
use tocsin_core::integration::IntegrationKind;
use tocsin_integrations::{adapter_for, Inbound, IntakeContext};

const BATCH: usize = 100;

fn am_alert(n: usize) -> String {
    format!(
        r#"{{"status":"firing","labels":{{"alertname":"BenchCheck{}","instance":"node-{n}.bench:9100","severity":"warning","service":"svc-{}"}},"annotations":{{"summary":"bench check failing on node-{n}"}},"startsAt":"2026-01-01T00:00:00Z","endsAt":"0001-01-01T00:00:00Z","generatorURL":"http://prometheus.bench:9090/graph","fingerprint":"f{n}"}}"#,
        n % 25,
        n % 50
    )
}

fn many(f: impl Fn(usize) -> String) -> String {
    format!("[{}]", (0..BATCH).map(f).collect::<Vec<_>>().join(","))
}

fn bodies() -> Vec<(IntegrationKind, usize, String, &'static str)> {
    let am = many(am_alert);
    vec![
        (IntegrationKind::Alertmanager, BATCH, am.clone(), "application/json"),
        (
            IntegrationKind::AlertmanagerWebhook,
            BATCH,
            format!(r#"{{"version":"4","groupKey":"{{}}:{{}}","status":"firing","receiver":"tocsin","groupLabels":{{}},"commonLabels":{{}},"commonAnnotations":{{}},"externalURL":"http://am:9093","truncatedAlerts":0,"alerts":{am}}}"#),
            "application/json",
        ),
        (
            IntegrationKind::Grafana,
            BATCH,
            format!(r#"{{"receiver":"tocsin","status":"firing","orgId":1,"groupLabels":{{}},"commonLabels":{{}},"commonAnnotations":{{}},"externalURL":"http://grafana:3000/","version":"1","groupKey":"{{}}:{{}}","truncatedAlerts":0,"title":"bench","state":"alerting","message":"bench","alerts":{am}}}"#),
            "application/json",
        ),
        (
            IntegrationKind::Tocsin,
            BATCH,
            many(|n| format!(r#"{{"summary":"bench check failing on node-{n}","severity":"warning","labels":{{"alertname":"BenchCheck{}","host":"node-{n}"}}}}"#, n % 25)),
            "application/json",
        ),
        (
            IntegrationKind::Nightingale,
            BATCH,
            many(|n| format!(r#"{{"id":{n},"hash":"h{n}","rule_id":7,"rule_name":"BenchCheck{}","severity":2,"is_recovered":false,"target_ident":"node-{n}","tags":["ident=node-{n}"],"tags_map":{{"ident":"node-{n}"}},"trigger_value":"93.2","trigger_time":1767225600,"first_trigger_time":1767225600,"group_name":"bench","rule_note":"bench check failing"}}"#, n % 25)),
            "application/json",
        ),
        (
            IntegrationKind::Zabbix,
            1,
            r#"{"event_id":"12345","event_value":"1","event_source":"0","event_update_status":"0","event_ack_status":"No","event_name":"High load on node-1","trigger_id":"1","event_severity":"Average","event_nseverity":"3","host_name":"node-1","host_ip":"10.0.0.1","event_date":"2026.01.01","event_time":"00:00:00","event_tags":"service:svc-1","event_opdata":"load 9.1"}"#.into(),
            "application/json",
        ),
        (
            IntegrationKind::Nagios,
            1,
            "NOTIFICATIONTYPE=PROBLEM&HOSTNAME=node-1&HOSTADDRESS=10.0.0.1&SERVICEDESC=Disk+%2Fvar&SERVICESTATE=CRITICAL&SERVICEOUTPUT=DISK+CRITICAL&SERVICEPROBLEMID=1&LASTSERVICEPROBLEMID=0&TIMET=1767225600".into(),
            "application/x-www-form-urlencoded",
        ),
        (
            IntegrationKind::Pagerduty,
            1,
            r#"{"routing_key":"k","event_action":"trigger","dedup_key":"bench-1","payload":{"summary":"bench check failing on node-1","source":"node-1","severity":"warning"}}"#.into(),
            "application/json",
        ),
    ]
}

fn main() {
    let config = load_str("").unwrap();
    let ctx = IntakeContext {
        now: 1_767_225_600_000,
        resolve_timeout: 300_000,
        max_events: 10_000,
        integration: "",
        config: &config,
    };
    let reps: usize = std::env::var("REPS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(200_000);
    println!(
        "{:<22} {:>10} {:>14}",
        "adapter", "ns/alert", "alerts/s/core"
    );
    for (kind, per, body, content_type) in bodies() {
        let headers = [("content-type", content_type)];
        let req = Inbound {
            headers: &headers,
            ..Inbound::json(body.as_bytes())
        };
        let adapter = adapter_for(kind);
        assert_eq!(
            adapter.parse(&req, &ctx).unwrap().len(),
            per,
            "{}",
            kind.as_str()
        );
        let n = (reps / per).max(1);
        let t = Instant::now();
        for _ in 0..n {
            std::hint::black_box(adapter.parse(&req, &ctx).unwrap());
        }
        let ns = t.elapsed().as_nanos() as f64 / (n * per) as f64;
        println!("{:<22} {:>10.0} {:>14.0}", kind.as_str(), ns, 1e9 / ns);
    }
}
