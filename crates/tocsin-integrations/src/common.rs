//! What several adapters share. Alertmanager-shaped alerts (the API v2 list, an
//! Alertmanager's webhook, Grafana's webhook) all become events the same way: the label set
//! is the identity, the `severity` label the severity, annotations the text; so an alert
//! seen directly and through an Alertmanager is one alert. The other helpers are for
//! adapters that build their own text and labels: links, summaries cut to the limit, and
//! the machine a tool names.

use crate::limits::*;
use crate::plausible::note_adjusted;
use crate::{IntakeContext, IntakeError};
use std::collections::BTreeMap;
use tocsin_core::event::{Event, Link, Severity, Status};
use tocsin_core::fingerprint::label_fingerprint;
use tocsin_core::time::{parse_rfc3339, Millis};

/// Reads an optional Alertmanager time; empty or Go's zero time means unset.
pub(crate) fn go_time(
    path: &str,
    field: &str,
    value: Option<&str>,
) -> Result<Option<Millis>, IntakeError> {
    match value {
        None | Some("") => Ok(None),
        Some(text) => {
            let ms =
                parse_rfc3339(text).map_err(|m| IntakeError(format!("{path}.{field}: {m}")))?;
            // Anything in year 1 is Go's zero time.
            Ok((ms > -62_135_596_800_000 + 366 * 86_400_000).then_some(ms))
        }
    }
}

/// An Alertmanager alert's end, moved to its start when it is before it (Alertmanager
/// refuses such an alert; tocsin keeps it, see plausible.rs), and whether it was moved.
pub(crate) fn end_not_before_start(
    starts_at: Option<Millis>,
    ends_at: Option<Millis>,
) -> (Option<Millis>, bool) {
    match (starts_at, ends_at) {
        (Some(s), Some(e)) if e < s => (Some(s), true),
        _ => (ends_at, false),
    }
}

/// Prometheus rules name severities freely; map the common spellings.
pub fn severity_of(label: Option<&str>) -> Severity {
    // Lower-cased in a stack buffer: this runs for every alert, and no spelling below is
    // longer than the buffer, so a longer label can only be the default.
    let mut buf = [0; 16];
    let lower = match label {
        Some(l) if l.len() <= buf.len() => {
            let buf = &mut buf[..l.len()];
            buf.copy_from_slice(l.as_bytes());
            buf.make_ascii_lowercase();
            std::str::from_utf8(buf).ok()
        }
        _ => None,
    };
    match lower {
        Some("critical" | "crit" | "page" | "p1" | "emergency" | "fatal" | "disaster") => {
            Severity::Critical
        }
        Some("high" | "error" | "major" | "p2") => Severity::High,
        Some("info" | "informational" | "none" | "low" | "p4" | "p5" | "notice") => Severity::Info,
        _ => Severity::Warning,
    }
}

/// An alert in Alertmanager's shape whose status and times its adapter has decided.
pub(crate) struct LabeledAlert {
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
    pub status: Status,
    pub occurred_at: Millis,
    pub ends_at: Option<Millis>,
    /// Links the payload carries besides the `runbook_url` annotation, which is added here.
    pub links: Vec<Link>,
    /// Whether `endsAt` was before `startsAt` and moved to it ([`end_not_before_start`]).
    pub adjusted: bool,
}

impl LabeledAlert {
    /// The event: identity the label set, severity the `severity` label, service the
    /// `service` label, name `alertname`, summary the `summary` annotation.
    pub(crate) fn into_event(
        self,
        source: &str,
        path: &str,
        ctx: &IntakeContext,
    ) -> Result<Event, IntakeError> {
        let LabeledAlert {
            labels,
            mut annotations,
            status,
            occurred_at,
            ends_at,
            mut links,
            adjusted,
        } = self;
        check_labels(path, &labels)?;
        for (k, v) in &annotations {
            // The path is only formatted for a refusal: this runs for every annotation.
            if v.len() > MAX_DESCRIPTION {
                check_len(&format!("{path}.annotations"), k, v, MAX_DESCRIPTION)?;
            }
        }
        links.extend(link(
            path,
            "annotations.runbook_url",
            annotations.get("runbook_url").map(String::as_str),
            "Runbook",
        )?);
        let name = labels.get("alertname").cloned().unwrap_or_default();
        // The annotations are dropped after this, so the summary is moved out rather than
        // copied (measured cheaper than the copy); `description` leaves `summary` out anyway.
        let summary = match annotations.remove("summary") {
            Some(summary) => summary,
            None => annotations
                .get("description")
                .cloned()
                .unwrap_or_else(|| name.clone()),
        };
        let mut event = Event {
            source: source.into(),
            integration: ctx.integration.to_string(),
            dedup_key: label_fingerprint("", &labels),
            status,
            severity: severity_of(labels.get("severity").map(String::as_str)),
            name,
            summary: fit(summary, MAX_SUMMARY),
            description: description(&annotations),
            service: labels.get("service").cloned(),
            occurred_at,
            received_at: ctx.now,
            ends_at,
            labels,
            links,
        };
        if adjusted {
            note_adjusted(&mut event, "ends_at");
        }
        Ok(event)
    }
}

/// The `description` annotation, followed by the annotations tocsin has no field for, one
/// `name: value` line each, so nothing a rule author wrote is lost.
fn description(annotations: &BTreeMap<String, String>) -> String {
    let mut text = annotations.get("description").cloned().unwrap_or_default();
    for (k, v) in annotations {
        if !matches!(k.as_str(), "summary" | "description" | "runbook_url") {
            push_line(&mut text, &format!("{k}: {v}"));
        }
    }
    text
}

/// Appends a line, with a line break before it unless the text is empty.
pub(crate) fn push_line(text: &mut String, line: &str) {
    if !text.is_empty() {
        text.push('\n');
    }
    text.push_str(line);
}

/// A link from a URL the payload carries; none when it is missing or empty. An owned URL
/// becomes the link's without a copy.
pub(crate) fn link<U: AsRef<str> + Into<String>>(
    path: &str,
    field: &str,
    url: Option<U>,
    text: &str,
) -> Result<Option<Link>, IntakeError> {
    let Some(url) = url.filter(|u| !u.as_ref().is_empty()) else {
        return Ok(None);
    };
    let len = url.as_ref().len();
    if len > MAX_HREF {
        return Err(IntakeError(format!(
            "{}: {len} bytes, at most {MAX_HREF} are allowed",
            field_path(path, field),
        )));
    }
    Ok(Some(Link {
        href: url.into(),
        text: text.to_string(),
    }))
}

/// `path.field`, or `field` alone at the top of a payload.
pub(crate) fn field_path(path: &str, field: &str) -> String {
    if path.is_empty() {
        field.to_string()
    } else {
        format!("{path}.{field}")
    }
}

/// Cuts text an adapter composed (or a summary a tool does not bound) to `max` bytes, at a
/// character boundary: a long title is still worth keeping, unlike a long identity.
pub(crate) fn fit(mut text: String, max: usize) -> String {
    if text.len() > max {
        let mut cut = max;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        text.truncate(cut);
    }
    text
}

/// Records the machine a tool names: an address as `host_ip`, a name as `host`, the labels
/// the service catalog looks up.
pub(crate) fn machine_label(labels: &mut BTreeMap<String, String>, machine: &str) {
    let machine = machine.trim();
    if machine.is_empty() {
        return;
    }
    let key = if machine.parse::<std::net::IpAddr>().is_ok() {
        "host_ip"
    } else {
        "host"
    };
    labels.insert(key.to_string(), machine.to_string());
}

/// A Unix time in seconds as milliseconds; zero or less means unset.
pub(crate) fn unix_seconds(
    path: &str,
    field: &str,
    seconds: i64,
) -> Result<Option<Millis>, IntakeError> {
    if seconds <= 0 {
        return Ok(None);
    }
    seconds.checked_mul(1000).map(Some).ok_or_else(|| {
        IntakeError(format!(
            "{path}.{field}: {seconds} is not a Unix time in seconds"
        ))
    })
}

/// What the adapters' property tests share: whatever the bytes, parsing returns events or
/// an error that says something, and never panics.
#[cfg(test)]
pub(crate) mod fuzz {
    use crate::{Adapter, Inbound, Method};

    /// A fixture with one byte replaced.
    pub fn mutate(fixture: &str, at: usize, byte: u8) -> Vec<u8> {
        let mut body = fixture.as_bytes().to_vec();
        body[at] = byte;
        body
    }

    pub fn parse_json(adapter: &dyn Adapter, body: &[u8]) {
        check(adapter, &Inbound::json(body));
    }

    /// Also as a form body and as a query string, for adapters that read parameters.
    pub fn parse_params(adapter: &dyn Adapter, body: &[u8]) {
        parse_json(adapter, body);
        let headers = [("content-type", "application/x-www-form-urlencoded")];
        check(
            adapter,
            &Inbound {
                headers: &headers,
                ..Inbound::json(body)
            },
        );
        let query = String::from_utf8_lossy(body);
        check(
            adapter,
            &Inbound {
                method: Method::Get,
                query: &query,
                ..Inbound::json(b"")
            },
        );
    }

    fn check(adapter: &dyn Adapter, req: &Inbound<'_>) {
        if let Err(e) = adapter.parse(req, &crate::testing::context(100)) {
            assert!(!e.0.trim().is_empty(), "an error without a message");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn helpers() {
        assert_eq!(fit("日本語".into(), 4), "日");
        assert_eq!(fit("abc".into(), 4), "abc");
        let mut labels = BTreeMap::new();
        machine_label(&mut labels, "10.0.3.4");
        machine_label(&mut labels, " web-01 ");
        machine_label(&mut labels, "");
        assert_eq!(labels["host_ip"], "10.0.3.4");
        assert_eq!(labels["host"], "web-01");
        assert_eq!(labels.len(), 2);
        assert_eq!(go_time("", "t", Some("0001-01-01T00:00:00Z")), Ok(None));
        assert_eq!(unix_seconds("", "t", 0), Ok(None));
        assert_eq!(unix_seconds("", "t", 2), Ok(Some(2000)));
        assert!(unix_seconds("x", "t", i64::MAX)
            .unwrap_err()
            .0
            .starts_with("x.t:"));
        assert_eq!(severity_of(Some("Critical")), Severity::Critical);
        assert_eq!(severity_of(Some("error")), Severity::High);
        assert_eq!(severity_of(Some("info")), Severity::Info);
        assert_eq!(severity_of(None), Severity::Warning);
        assert_eq!(severity_of(Some("INFORMATIONAL")), Severity::Info);
        assert_eq!(severity_of(Some("critical but longer")), Severity::Warning);
        assert_eq!(severity_of(Some("Émergency")), Severity::Warning);
    }
}
