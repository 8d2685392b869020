//! Zabbix 6.0+ through the shipped webhook media type (`integrations/zabbix/`): the script
//! posts one parameter per macro (`{EVENT.ID}` -> `event_id` ...) as a JSON object of strings.
//!
//! Zabbix's own semantics, kept as they are:
//! - identity is the problem's `event_id`; its recovery and its updates carry the same id, and
//!   a new occurrence of the same trigger is a new problem with a new id;
//! - `event_value` 1 is a problem (firing), 0 its recovery (resolved);
//! - `event_update_status` 1 is a problem update made by a person: an acknowledgement
//!   acknowledges the incident, anything else (comment, severity change, unacknowledge,
//!   close) is a line in its timeline. A severity change does not change the alert's
//!   severity: notes never touch alert state, and a re-sent "firing" could reopen an alert
//!   whose recovery crossed the update on the way;
//! - severity from `event_nseverity` 0-5, see [`severity`].
//!
//! Zabbix leaves a macro it cannot expand as its own text (`{EVENT.RECOVERY.DATE}` in a
//! problem message, `{$ZABBIX.URL}` when the global macro is not set) or writes `*UNKNOWN*`:
//! such values read as absent.

mod tags;
#[cfg(test)]
mod tests;

use crate::limits::*;
use crate::params::flat_params;
use crate::{Adapter, Inbound, IntakeContext, IntakeError};
use std::collections::BTreeMap;
use tocsin_core::event::{Event, Link, Severity, Status};
use tocsin_core::time::Millis;

pub struct Zabbix;

pub const SOURCE: &str = "zabbix";

/// Every parameter the adapter reads. The shipped media type sends each (a test checks it);
/// other parameters are ignored, so a media type may carry more.
pub const PARAMETERS: [&str; 23] = [
    "event_id",
    "event_value",
    "event_nseverity",
    "event_name",
    "event_source",
    "event_update_status",
    "event_ack_status",
    "event_update_action",
    "event_update_message",
    "event_update_user",
    "event_update_nseverity",
    "event_timestamp",
    "event_recovery_timestamp",
    "event_update_timestamp",
    "event_opdata",
    "event_tags",
    "event_tags_json",
    "trigger_id",
    "trigger_description",
    "trigger_url",
    "host_name",
    "host_ip",
    // The Zabbix frontend's address (`{$ZABBIX.URL}`), for the link back to the problem.
    "zabbix_url",
];

/// Labels the adapter sets itself; tags of these names are not copied over them.
const OWN_LABELS: [&str; 3] = ["host", "host_ip", "trigger_id"];

impl Adapter for Zabbix {
    fn name(&self) -> &'static str {
        SOURCE
    }

    fn read(&self, req: &Inbound<'_>, ctx: &IntakeContext<'_>) -> Result<Vec<Event>, IntakeError> {
        let params = flat_params(req)?;
        convert(&Macros(&params), ctx).map(|e| vec![e])
    }
}

/// The posted parameters, each read as absent when Zabbix could not expand its macro.
struct Macros<'a>(&'a BTreeMap<String, String>);

impl Macros<'_> {
    fn get(&self, name: &str) -> Option<&str> {
        debug_assert!(
            PARAMETERS.contains(&name),
            "{name} is read but not listed in PARAMETERS"
        );
        let v = self.0.get(name)?.trim();
        (!v.is_empty() && !unexpanded(v)).then_some(v)
    }

    /// A parameter the event cannot do without; the message says which macro it takes.
    fn required(&self, name: &str, macro_name: &str) -> Result<&str, IntakeError> {
        self.get(name).ok_or_else(|| {
            let sent = self.0.get(name).map(|v| v.trim()).unwrap_or("");
            if sent.is_empty() {
                IntakeError(format!(
                    "{name}: missing; the media type must send it as {macro_name}"
                ))
            } else {
                IntakeError(format!(
                    "{name}: Zabbix did not expand {sent:?}; it must be {macro_name} in a trigger action"
                ))
            }
        })
    }
}

/// `{EVENT.RECOVERY.DATE}`, `{$ZABBIX.URL}`, `{EVENT.TAGS."a b"}`: a macro left as written.
fn unexpanded(v: &str) -> bool {
    if v == "*UNKNOWN*" {
        return true;
    }
    let Some(inner) = v.strip_prefix('{').and_then(|s| s.strip_suffix('}')) else {
        return false;
    };
    let name = inner.strip_prefix('$').unwrap_or(inner);
    let head = name.split(['.', ':']).next().unwrap_or("");
    !head.is_empty() && head.chars().all(|c| c.is_ascii_uppercase() || c == '_')
}

fn convert(m: &Macros, ctx: &IntakeContext) -> Result<Event, IntakeError> {
    let event_id = m.required("event_id", "{EVENT.ID}")?;
    if event_id.len() > 20 || !event_id.bytes().all(|b| b.is_ascii_digit()) {
        return Err(IntakeError(format!(
            "event_id: {event_id:?} is not a Zabbix event id (digits, from {{EVENT.ID}})"
        )));
    }
    if let Some(source) = m.get("event_source") {
        // Problems and recoveries exist for triggers (0) and internal events (3); discovery
        // and autoregistration events have no recovery, so they could never resolve.
        if source != "0" && source != "3" {
            return Err(IntakeError(format!(
                "event_source: {source:?} is not 0 (triggers) or 3 (internal); use this media \
                 type in trigger actions"
            )));
        }
    }
    let problem = match m.required("event_value", "{EVENT.VALUE}")? {
        "1" => true,
        "0" => false,
        other => {
            return Err(IntakeError(format!(
                "event_value: {other:?} is not 1 (problem) or 0 (recovery)"
            )))
        }
    };
    let nseverity = m.required("event_nseverity", "{EVENT.NSEVERITY}")?;
    let mut sev = severity(nseverity).ok_or_else(|| {
        IntakeError(format!(
            "event_nseverity: {nseverity:?} is not a Zabbix severity 0-5"
        ))
    })?;
    let updated = match m.get("event_update_status") {
        None | Some("0") => false,
        Some("1") => true,
        Some(other) => {
            return Err(IntakeError(format!(
                "event_update_status: {other:?} is not 0 (problem or recovery) or 1 (update)"
            )))
        }
    };
    let event_name = m.required("event_name", "{EVENT.NAME}")?;
    let host = m.get("host_name");

    let (status, summary, occurred_field) = if updated {
        let u = update(m);
        if let Some(new) = m.get("event_update_nseverity").and_then(severity) {
            sev = new;
        }
        let status = if u.acknowledged {
            Status::Acknowledged
        } else {
            Status::Note
        };
        (status, u.summary, "event_update_timestamp")
    } else {
        let summary = match host {
            Some(h) => format!("{h}: {event_name}"),
            None => event_name.to_string(),
        };
        if problem {
            (Status::Firing, summary, "event_timestamp")
        } else {
            (Status::Resolved, summary, "event_recovery_timestamp")
        }
    };
    let occurred_at = match m.get(occurred_field) {
        Some(t) => unix_seconds(occurred_field, t)?,
        // {EVENT.DATE} and {EVENT.TIME} are the Zabbix server's local time with no zone, so
        // they cannot be placed on the timeline; the time of arrival is the honest fallback.
        None => ctx.now,
    };

    let mut labels = BTreeMap::new();
    if let Some(h) = host {
        labels.insert("host".to_string(), h.to_string());
    }
    if let Some(ip) = m.get("host_ip") {
        labels.insert("host_ip".to_string(), ip.to_string());
    }
    if let Some(t) = m.get("trigger_id") {
        labels.insert("trigger_id".to_string(), t.to_string());
    }
    let tag_list = match (m.get("event_tags_json"), m.get("event_tags")) {
        (Some(json), _) => tags::from_json("event_tags_json", json)?,
        (None, Some(text)) => tags::from_text(text),
        (None, None) => Vec::new(),
    };
    tags::add_to_labels(tag_list, &OWN_LABELS, &mut labels);
    check_labels("", &labels).map_err(|e| IntakeError(e.0.trim_start_matches('.').into()))?;
    let service = labels.get("service").filter(|s| !s.is_empty()).cloned();

    let description = [m.get("event_opdata"), m.get("trigger_description")]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join("\n\n");

    Ok(Event {
        source: SOURCE.to_string(),
        integration: ctx.integration.to_string(),
        dedup_key: event_id.to_string(),
        status,
        severity: sev,
        // Zabbix names may be longer than tocsin keeps; cutting keeps the alert rather than
        // refusing it, which Zabbix would only retry in vain.
        name: truncate(event_name, MAX_SHORT),
        summary: truncate(&summary, MAX_SUMMARY),
        description: truncate(&description, MAX_DESCRIPTION),
        service,
        labels,
        links: links(m, event_id),
        occurred_at,
        received_at: ctx.now,
        ends_at: None,
    })
}

/// Zabbix severities to tocsin's:
///
/// | `event_nseverity` | Zabbix | tocsin |
/// |---|---|---|
/// | 5 | Disaster | critical |
/// | 4 | High | high |
/// | 3 | Average | high |
/// | 2 | Warning | warning |
/// | 1 | Information | info |
/// | 0 | Not classified | info |
///
/// Average maps to high, not warning: Zabbix templates use it for "needs attention soon"
/// (a service down on one node, memory nearly full), which is worth a page.
pub fn severity(nseverity: &str) -> Option<Severity> {
    match nseverity {
        "5" => Some(Severity::Critical),
        "4" | "3" => Some(Severity::High),
        "2" => Some(Severity::Warning),
        "1" | "0" => Some(Severity::Info),
        _ => None,
    }
}

struct Update {
    acknowledged: bool,
    summary: String,
}

/// What a person did in a problem update. `{EVENT.UPDATE.ACTION}` names every action of the
/// update ("acknowledged, commented", "changed severity from Warning to High"); without it,
/// `{EVENT.ACK.STATUS}` tells only whether the problem is acknowledged now, so a later
/// comment on an acknowledged problem reads as an acknowledgement (tocsin ignores the repeat).
fn update(m: &Macros) -> Update {
    let action = m.get("event_update_action");
    let acknowledged = match action {
        Some(a) => a
            .split(|c: char| !c.is_alphabetic())
            .any(|word| word.eq_ignore_ascii_case("acknowledged")),
        None => m
            .get("event_ack_status")
            .is_some_and(|s| s.eq_ignore_ascii_case("yes")),
    };
    let what = if acknowledged {
        "acknowledged"
    } else {
        action.unwrap_or("updated")
    };
    let mut summary = match m.get("event_update_user") {
        Some(user) => format!("{what} by {user}"),
        None => format!("{what} in Zabbix"),
    };
    if let Some(message) = m.get("event_update_message") {
        summary.push_str(": ");
        summary.push_str(message);
    }
    Update {
        acknowledged,
        summary,
    }
}

fn unix_seconds(field: &str, text: &str) -> Result<Millis, IntakeError> {
    text.parse::<i64>()
        .ok()
        .filter(|s| *s > 0)
        .and_then(|s| s.checked_mul(1000))
        .ok_or_else(|| {
            IntakeError(format!(
                "{field}: {text:?} is not a Unix time in seconds (a {{EVENT.*TIMESTAMP}} macro)"
            ))
        })
}

/// Back to Zabbix: the problem's page when `{$ZABBIX.URL}` is set, and the trigger's own URL.
fn links(m: &Macros, event_id: &str) -> Vec<Link> {
    let web =
        |u: &str| (u.starts_with("http://") || u.starts_with("https://")) && u.len() <= MAX_HREF;
    let mut links = Vec::new();
    if let (Some(base), Some(trigger)) = (m.get("zabbix_url"), m.get("trigger_id")) {
        let href = format!(
            "{}/tr_events.php?triggerid={trigger}&eventid={event_id}",
            base.trim_end_matches('/')
        );
        if web(&href) && trigger.bytes().all(|b| b.is_ascii_digit()) {
            links.push(Link {
                href,
                text: "Zabbix problem".into(),
            });
        }
    }
    if let Some(url) = m.get("trigger_url").filter(|u| web(u)) {
        links.push(Link {
            href: url.to_string(),
            text: "Trigger URL".into(),
        });
    }
    links
}

/// At most `max` bytes, cut at a character boundary.
fn truncate(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_string();
    }
    let mut end = max - '…'.len_utf8();
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end])
}
