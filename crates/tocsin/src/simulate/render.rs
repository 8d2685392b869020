//! Each event as its tool puts it on the wire (the payload of an `events.jsonl` line, and
//! the body `send` posts): Prometheus' alert list, a Zabbix webhook media type's
//! parameters, the macros a Nagios notification command forwards, Open-Falcon's alarm
//! callback parameters. Times come through `time`, so `send` can move a stream to now.

use super::rng::stable_hash;
use super::stream::Event;
use super::vocabulary::{Severity, Tool};
use serde_json::{json, Value};
use tocsin_core::config::NETWORK_SERVICE;
use tocsin_core::time::{to_rfc3339, Millis};

/// An RFC 3339 time to the second, as the tools write it.
pub fn rfc3339(t: Millis) -> String {
    let mut s = to_rfc3339(t);
    if let Some(dot) = s.find('.') {
        s.truncate(dot);
        s.push('Z');
    }
    s
}

/// The payload for `e`, with `time` turning the stream's instants into the ones to send.
pub fn payload(e: &Event, time: &dyn Fn(Millis) -> Millis) -> Value {
    let a = &e.episode.alert;
    let (at, started) = (time(e.at), time(e.episode.started));
    // An episode's id as a tool numbers its problems: fixed for the episode, new for the next.
    let problem = stable_hash(&[&a.identity(), &e.episode.started.to_string()]);
    match a.tool {
        Tool::Prometheus => {
            let mut labels = json!({
                "alertname": a.name,
                "instance": format!("{}:9100", a.ip),
                "severity": match a.severity {
                    Severity::Critical => "critical",
                    Severity::High => "high",
                    Severity::Warning => "warning",
                    Severity::Info => "info",
                },
                "dc": a.dc,
            });
            if a.service != NETWORK_SERVICE {
                labels["service"] = json!(a.service);
                labels["job"] = json!(a.service);
            }
            let mut alert = json!({
                "labels": labels,
                "annotations": {"summary": a.text},
                "startsAt": rfc3339(started),
                "generatorURL": format!("http://prometheus-{}:9090/graph", a.dc),
            });
            if !e.firing {
                alert["endsAt"] = json!(rfc3339(at));
            }
            json!([alert])
        }
        Tool::Zabbix => {
            let (word, n) = match a.severity {
                Severity::Critical => ("Disaster", 5),
                Severity::High => ("High", 4),
                Severity::Warning => ("Warning", 2),
                Severity::Info => ("Information", 1),
            };
            let mut p = json!({
                "event_id": (problem % 100_000_000).to_string(),
                "event_value": if e.firing { "1" } else { "0" },
                "event_source": "0",
                "event_update_status": "0",
                "event_name": a.name,
                "event_severity": word,
                "event_nseverity": n.to_string(),
                "event_timestamp": (started / 1000).to_string(),
                "event_tags": format!("dc:{},service:{}", a.dc, a.service),
                "event_opdata": a.text,
                "trigger_id": (stable_hash(&[&a.name, &a.host]) % 100_000).to_string(),
                "host_name": a.host,
                "host_ip": a.ip,
            });
            if !e.firing {
                p["event_recovery_timestamp"] = json!((at / 1000).to_string());
            }
            p
        }
        Tool::Nagios => {
            let kind = if a.host_check { "HOST" } else { "SERVICE" };
            let (bad, good) = match (a.host_check, a.severity) {
                (true, _) => ("DOWN", "UP"),
                (false, Severity::Critical | Severity::High) => ("CRITICAL", "OK"),
                (false, _) => ("WARNING", "OK"),
            };
            let id = (problem % 1_000_000).to_string();
            let mut m = json!({
                "NOTIFICATIONTYPE": if e.firing { "PROBLEM" } else { "RECOVERY" },
                "HOSTNAME": a.host,
                "HOSTADDRESS": a.ip,
                "TIMET": (at / 1000).to_string(),
            });
            if !a.host_check {
                m["SERVICEDESC"] = json!(a.name);
            }
            m[format!("{kind}STATE")] = json!(if e.firing { bad } else { good });
            m[format!("{kind}OUTPUT")] = json!(if e.firing {
                a.text.clone()
            } else {
                format!("{good} - {}", a.host)
            });
            // On a recovery the problem id is 0 and the last one carries it.
            m[format!("{kind}PROBLEMID")] = json!(if e.firing { id.as_str() } else { "0" });
            m[format!("LAST{kind}PROBLEMID")] = json!(if e.firing { "0" } else { id.as_str() });
            m
        }
        Tool::OpenFalcon => {
            let priority = match a.severity {
                Severity::Critical => "0",
                Severity::High => "1",
                Severity::Warning => "3",
                Severity::Info => "5",
            };
            let time = rfc3339(at)
                .replace('T', " ")
                .trim_end_matches('Z')
                .to_string();
            json!({
                "endpoint": a.host,
                "metric": a.name,
                "tags": format!("service:{},dc:{}", a.service, a.dc),
                "status": if e.firing { "PROBLEM" } else { "OK" },
                "step": "1",
                "priority": priority,
                "time": time,
                "tpl_id": (stable_hash(&[&a.service]) % 500).to_string(),
                "exp_id": "0",
                "stra_id": (stable_hash(&[&a.name]) % 1000).to_string(),
                "left_value": (1 + problem % 99).to_string(),
            })
        }
    }
}
