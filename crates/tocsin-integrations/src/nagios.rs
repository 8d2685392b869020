//! Nagios 4 and Icinga 2, through the shipped forwarder (`integrations/nagios/tocsin-forward`),
//! which posts one notification's macros by name, without `$` (`NOTIFICATIONTYPE=PROBLEM`,
//! `HOSTNAME=web-01`, ...), as a form body or a JSON object. Icinga 2's notification commands
//! pass its runtime macros under the same Nagios names, so one adapter reads both.
//!
//! Identity is the host plus the service description (`web-01!Disk /var`, Icinga 2's own
//! notation; `!` cannot occur in either name), or the host alone for host notifications, so
//! a RECOVERY finds its PROBLEM. Nagios' problem ids change on every new problem and are 0
//! on a recovery, so they are kept as a label only. Documented in docs/integrations/nagios.md.

use crate::limits::{MAX_SHORT, MAX_SUMMARY};
use crate::params::flat_params;
use crate::{Adapter, Inbound, IntakeContext, IntakeError};
use std::collections::BTreeMap;
use tocsin_core::event::{Event, Severity, Status};
use tocsin_core::time::Millis;

pub struct Nagios;

/// The `source` of Nagios and Icinga 2 events alike: the integration name tells them apart,
/// and one source keeps a host's alerts one identity when a site moves from one to the other.
pub const SOURCE: &str = "nagios";

impl Adapter for Nagios {
    fn name(&self) -> &'static str {
        SOURCE
    }

    fn read(&self, req: &Inbound<'_>, ctx: &IntakeContext<'_>) -> Result<Vec<Event>, IntakeError> {
        let macros = Macros(flat_params(req)?);
        Ok(vec![convert(&macros, ctx)?])
    }
}

/// What a notification type does in tocsin.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Problem,
    Recovery,
    Acknowledgement,
    /// A line in the incident timeline; the text says what happened.
    Note(&'static str),
    Custom,
}

/// Nagios' `$NOTIFICATIONTYPE$` words and Icinga 2's (`FlappingEnd`, `DowntimeRemoved`),
/// in any case, with or without underscores.
fn kind(text: &str) -> Option<Kind> {
    let word: String = text
        .chars()
        .filter(|c| *c != '_' && *c != ' ')
        .collect::<String>()
        .to_ascii_uppercase();
    Some(match word.as_str() {
        "PROBLEM" => Kind::Problem,
        "RECOVERY" => Kind::Recovery,
        "ACKNOWLEDGEMENT" => Kind::Acknowledgement,
        "FLAPPINGSTART" => Kind::Note("started flapping"),
        "FLAPPINGSTOP" | "FLAPPINGEND" => Kind::Note("stopped flapping"),
        "FLAPPINGDISABLED" => Kind::Note("flap detection was disabled"),
        "DOWNTIMESTART" => Kind::Note("scheduled downtime started"),
        "DOWNTIMEEND" => Kind::Note("scheduled downtime ended"),
        "DOWNTIMECANCELLED" | "DOWNTIMEREMOVED" => Kind::Note("scheduled downtime was cancelled"),
        "CUSTOM" => Kind::Custom,
        _ => return None,
    })
}

/// CRITICAL and DOWN page as critical; UNREACHABLE is high because the cause is usually a
/// parent host or network, which alerts by itself; WARNING and UNKNOWN (the check could not
/// tell) are warnings; OK and UP, on recoveries, are info. A service state on a host
/// notification (or the reverse) is a broken command definition, so it is refused.
fn severity(state: &str, service: bool) -> Option<Severity> {
    Some(match (state, service) {
        ("CRITICAL", true) | ("DOWN", false) => Severity::Critical,
        ("UNREACHABLE", false) => Severity::High,
        ("WARNING" | "UNKNOWN", true) => Severity::Warning,
        ("OK", true) | ("UP", false) => Severity::Info,
        _ => return None,
    })
}

/// The macros of one notification.
struct Macros(BTreeMap<String, String>);

impl Macros {
    /// A macro's value; empty and unexpanded ones (`$SERVICEDESC$` left as is by a command
    /// that used it where it does not apply) count as not sent.
    fn get(&self, name: &str) -> Option<&str> {
        let v = self.0.get(name)?.trim();
        let unexpanded = v.len() > 1 && v.starts_with('$') && v.ends_with('$');
        (!v.is_empty() && !unexpanded).then_some(v)
    }

    fn require(&self, name: &str) -> Result<&str, IntakeError> {
        self.get(name).ok_or_else(|| {
            IntakeError(format!(
                "{name}: missing; the notification command must pass {name}=${name}$"
            ))
        })
    }

    /// The first of these that was sent.
    fn first(&self, names: &[&str]) -> Option<&str> {
        names.iter().find_map(|n| self.get(n))
    }
}

/// Host macros or service macros: the same questions, different names.
struct Subject<'m> {
    host: &'m str,
    service: Option<&'m str>,
    /// `SERVICE` or `HOST`: the prefix of this notification's macros.
    prefix: &'static str,
}

impl Subject<'_> {
    fn macro_name(&self, suffix: &str) -> String {
        format!("{}{suffix}", self.prefix)
    }

    fn describe(&self) -> String {
        match self.service {
            Some(s) => format!("{s} on {}", self.host),
            None => self.host.to_string(),
        }
    }
}

fn convert(m: &Macros, ctx: &IntakeContext<'_>) -> Result<Event, IntakeError> {
    let type_text = m.require("NOTIFICATIONTYPE")?;
    let kind = kind(type_text).ok_or_else(|| {
        IntakeError(format!(
            "NOTIFICATIONTYPE: {type_text:?} is not a Nagios or Icinga 2 notification type \
             (PROBLEM, RECOVERY, ACKNOWLEDGEMENT, FLAPPINGSTART, DOWNTIMESTART, CUSTOM, ...)"
        ))
    })?;
    let host = short("HOSTNAME", m.require("HOSTNAME")?)?;
    let service = match m.get("SERVICEDESC") {
        Some(s) => Some(short("SERVICEDESC", s)?),
        None => None,
    };
    let subject = Subject {
        host,
        service,
        prefix: if service.is_some() { "SERVICE" } else { "HOST" },
    };

    let state_macro = subject.macro_name("STATE");
    let state = m.get(&state_macro).map(str::to_ascii_uppercase);
    let severity = match &state {
        Some(s) => severity(s, service.is_some()).ok_or_else(|| {
            IntakeError(format!(
                "{state_macro}: {s:?} is not a {} state ({})",
                subject.prefix.to_ascii_lowercase(),
                if service.is_some() {
                    "OK, WARNING, CRITICAL or UNKNOWN"
                } else {
                    "UP, DOWN or UNREACHABLE"
                }
            ))
        })?,
        // A problem says how bad it is; the other types only refer to a known alert.
        None if kind == Kind::Problem => {
            return Err(IntakeError(format!(
                "{state_macro}: missing; a PROBLEM must say its state: \
                 {state_macro}=${state_macro}$"
            )))
        }
        None => Severity::Info,
    };

    let (output, description) = output(m, &subject);
    let (status, summary) = match kind {
        Kind::Problem | Kind::Recovery => {
            let status = if kind == Kind::Problem {
                Status::Firing
            } else {
                Status::Resolved
            };
            let state = state
                .as_deref()
                .unwrap_or(if service.is_some() { "OK" } else { "UP" });
            let mut summary = format!("{} is {state}", subject.describe());
            if !output.is_empty() {
                summary.push_str(": ");
                summary.push_str(output);
            }
            (status, summary)
        }
        Kind::Acknowledgement => (
            Status::Acknowledged,
            format!("acknowledged{}", by_whom(m, &subject)),
        ),
        Kind::Note(what) => (
            Status::Note,
            format!("{} {what}{}", subject.describe(), by_whom(m, &subject)),
        ),
        Kind::Custom => (
            Status::Note,
            format!("custom notification{}", by_whom(m, &subject)),
        ),
    };

    let mut labels = BTreeMap::from([("host".to_string(), host.to_string())]);
    if let Some(ip) = m.get("HOSTADDRESS") {
        labels.insert("host_ip".into(), ip.to_string());
    }
    if let Some(s) = service {
        labels.insert("service_desc".into(), s.to_string());
    }
    if let Some(s) = &state {
        labels.insert("state".into(), s.clone());
    }
    // On a recovery the current id is 0 and the last one is the problem's.
    let problem_id = [
        subject.macro_name("PROBLEMID"),
        format!("LAST{}PROBLEMID", subject.prefix),
    ]
    .into_iter()
    .find_map(|n| m.get(&n).filter(|v| *v != "0"));
    if let Some(id) = problem_id {
        labels.insert("problem_id".into(), id.to_string());
    }

    Ok(Event {
        source: SOURCE.into(),
        integration: ctx.integration.to_string(),
        dedup_key: match service {
            Some(s) => format!("{host}!{s}"),
            None => host.to_string(),
        },
        status,
        severity,
        name: service.unwrap_or("Host down").to_string(),
        summary: truncate(summary, MAX_SUMMARY),
        description,
        service: None,
        labels,
        links: Vec::new(),
        occurred_at: occurred_at(m, ctx.now)?,
        received_at: ctx.now,
        ends_at: None,
    })
}

/// ` by AUTHOR: COMMENT` from the notification's author and comment (Nagios 4 and Icinga 2
/// set them for acknowledgements, downtimes and custom notifications), else from the
/// acknowledgement macros; empty when neither was sent.
fn by_whom(m: &Macros, s: &Subject<'_>) -> String {
    let author = m.first(&["NOTIFICATIONAUTHOR", &s.macro_name("ACKAUTHOR")]);
    let comment = m.first(&["NOTIFICATIONCOMMENT", &s.macro_name("ACKCOMMENT")]);
    match (author, comment) {
        (Some(a), Some(c)) => format!(" by {a}: {c}"),
        (Some(a), None) => format!(" by {a}"),
        (None, Some(c)) => format!(": {c}"),
        (None, None) => String::new(),
    }
}

/// The first line of the check's output, for the summary, and the rest, for the
/// description. Nagios splits them itself (`LONGSERVICEOUTPUT`, with newlines and
/// backslashes escaped as `\n` and `\\`); Icinga 2's `$service.output$` is the whole text.
fn output<'m>(m: &'m Macros, s: &Subject<'_>) -> (&'m str, String) {
    let full = m.get(&s.macro_name("OUTPUT")).unwrap_or("");
    let (first, rest) = full.split_once('\n').unwrap_or((full, ""));
    let long = match m.get(&format!("LONG{}OUTPUT", s.prefix)) {
        Some(long) => unescape(long),
        None => rest.trim().to_string(),
    };
    (first.trim_end(), long)
}

/// Undoes Nagios' escaping of long output: `\n` is a newline, `\\` a backslash.
fn unescape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('\\') => out.push('\\'),
            Some(other) => {
                out.push('\\');
                out.push(other);
            }
            None => out.push('\\'),
        }
    }
    out
}

/// `TIMET` (Unix seconds, Nagios and Icinga 2's `$icinga.timet$`) when sent, else now.
fn occurred_at(m: &Macros, now: Millis) -> Result<Millis, IntakeError> {
    let Some(text) = m.get("TIMET") else {
        return Ok(now);
    };
    text.parse::<i64>()
        .ok()
        .filter(|s| *s >= 0)
        .and_then(|s| s.checked_mul(1000))
        .ok_or_else(|| IntakeError(format!("TIMET: {text:?} is not a Unix time in seconds")))
}

/// Names become the alert identity: bounded like every other key.
fn short<'m>(name: &str, value: &'m str) -> Result<&'m str, IntakeError> {
    if value.len() > MAX_SHORT {
        return Err(IntakeError(format!(
            "{name}: {} bytes, at most {MAX_SHORT} are allowed",
            value.len()
        )));
    }
    Ok(value)
}

/// Check output can be longer than a summary may be: its start is kept rather than the
/// notification refused, which the forwarder could only file as failed.
fn truncate(mut text: String, max: usize) -> String {
    if text.len() > max {
        let mut cut = max - '…'.len_utf8();
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        text.truncate(cut);
        text.push('…');
    }
    text
}

#[cfg(test)]
mod tests;
