//! `tocsin export`: a data directory's event history as the `events.jsonl` that
//! `tocsin replay` reads, so last week's real alerts can be replayed against a new config.
//!
//! Each event is written as tocsin's own event JSON (`POST /api/v1/events`) under the
//! `tocsin` integration kind, whatever tool sent it: the adapter already turned the tool's
//! payload into an event, and the native format carries that event's identity (source and
//! dedup key) unchanged, so replayed alerts are the same alerts.
//!
//! It only reads: no lock is taken, so it runs beside `tocsin serve`. It stops at the last
//! entry the engine has applied to the store: the engine applies only entries that are
//! synced to disk, while the log file may already hold a group whose sync is still under
//! way (and that a failed sync would take back).

use clap::Args;
use serde::Serialize;
use std::collections::BTreeMap;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use tocsin_core::clock::{Clock, SystemClock};
use tocsin_core::config::Config;
use tocsin_core::event::{Event, Link, Severity, Status};
use tocsin_core::integration::IntegrationKind;
use tocsin_core::time::{parse_duration, parse_rfc3339, to_rfc3339, Millis};
use tocsin_integrations::{adapter_for, heartbeat, Inbound, IntakeContext};
use tocsin_store::log::{list_segments, LogCursor, LogEntry, FORMATS_READ};

/// `--help` says which event log formats this binary reads, for history an older one wrote.
fn formats_note() -> String {
    format!(
        "Reads event log segments of formats {} to {} (every release so far).",
        FORMATS_READ.start(),
        FORMATS_READ.end()
    )
}

#[derive(Args)]
#[command(after_help = formats_note())]
pub struct ExportArgs {
    /// The data directory of a server (running or not); nothing in it is changed.
    #[arg(long, env = "TOCSIN_DATA", default_value = crate::serve::DEFAULT_DATA)]
    data: PathBuf,
    /// Only events received at or after this time: RFC 3339, or a duration ago (24h, 90m).
    #[arg(long)]
    since: Option<String>,
    /// Only events received before this time: RFC 3339, or a duration ago.
    #[arg(long)]
    until: Option<String>,
    /// Where to write the stream (events.jsonl).
    #[arg(long)]
    out: PathBuf,
}

/// One event in tocsin's event format, fields in the order the API documents them.
#[derive(Serialize)]
struct Payload<'e> {
    source: &'e str,
    dedup_key: &'e str,
    status: Status,
    severity: Severity,
    summary: &'e str,
    #[serde(skip_serializing_if = "str::is_empty")]
    description: &'e str,
    #[serde(skip_serializing_if = "Option::is_none")]
    service: Option<&'e str>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    labels: BTreeMap<&'e str, &'e str>,
    #[serde(skip_serializing_if = "<[Link]>::is_empty")]
    links: &'e [Link],
    occurred_at: String,
}

/// What an export wrote and what it could not carry, for the summary.
#[derive(Default)]
struct Tally {
    events: u64,
    firing: u64,
    first: Option<Millis>,
    last: Option<Millis>,
    /// Events the native format refuses or reads back differently, and the first reason.
    skipped: u64,
    altered: u64,
    example: Option<String>,
    /// Events with an end time (Alertmanager's `endsAt`), which the native format lacks.
    ends_at: u64,
}

pub fn run(a: ExportArgs) -> ExitCode {
    match export(&a) {
        Ok(summary) => {
            eprintln!("{summary}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("tocsin export: {e}");
            ExitCode::from(2)
        }
    }
}

/// An RFC 3339 time, or a duration meaning that long before `now`.
fn parse_time(option: &str, text: &str, now: Millis) -> Result<Millis, String> {
    parse_rfc3339(text)
        .or_else(|_| parse_duration(text).map(|d| now - d))
        .map_err(|_| format!("{option} {text:?}: not an RFC 3339 time (2026-03-02T09:00:00+08:00) or a duration ago (24h, 90m)"))
}

/// The last log entry the engine has applied, from the store, read-only.
fn applied_lsn(data: &Path) -> Result<u64, String> {
    let db = data.join("tocsin.db");
    if !db.is_file() {
        return Err(format!(
            "{}: not found; is {} a tocsin data directory?",
            db.display(),
            data.display()
        ));
    }
    let flags =
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = rusqlite::Connection::open_with_flags(&db, flags)
        .and_then(|c| {
            c.busy_timeout(std::time::Duration::from_secs(10))
                .map(|_| c)
        })
        .map_err(|e| format!("{}: {e}", db.display()))?;
    tocsin_store::sqlite::state::applied_lsn(&conn).map_err(|e| format!("{}: {e}", db.display()))
}

/// `--since` and `--until`, each an RFC 3339 time or a duration ago, the first before the
/// second.
pub fn window(
    since: Option<&str>,
    until: Option<&str>,
) -> Result<(Option<Millis>, Option<Millis>), String> {
    let now = SystemClock.now();
    let since = since.map(|t| parse_time("--since", t, now)).transpose()?;
    let until = until.map(|t| parse_time("--until", t, now)).transpose()?;
    if let (Some(s), Some(u)) = (since, until) {
        if s >= u {
            return Err(format!(
                "--since {} is not before --until {}",
                to_rfc3339(s),
                to_rfc3339(u)
            ));
        }
    }
    Ok((since, until))
}

/// A data directory's history as it was written, and where its log begins.
pub struct History {
    tally: Tally,
    since: Option<Millis>,
    log_start: u64,
    /// When the oldest event still in the log was received.
    oldest: Option<Millis>,
    /// Whether the log holds entries the engine has not applied yet.
    behind: bool,
}

fn export(a: &ExportArgs) -> Result<String, String> {
    let (since, until) = window(a.since.as_deref(), a.until.as_deref())?;
    let log = EventLog::open(&a.data)?;
    let out = std::fs::File::create(&a.out).map_err(|e| format!("{}: {e}", a.out.display()))?;
    let mut w = BufWriter::new(out);
    let history = log.write_history(since, until, &mut w, &a.out.display())?;
    w.flush().map_err(|e| format!("{}: {e}", a.out.display()))?;
    Ok(format!(
        "exported {} to {}{}",
        history.span(),
        a.out.display(),
        history.notes()
    ))
}

/// A data directory's event log, up to the last entry the engine has applied.
pub struct EventLog {
    dir: PathBuf,
    /// The first entry of the oldest segment still there.
    start: u64,
    applied: u64,
}

impl EventLog {
    /// Refuses what is not a data directory before anything is written.
    pub fn open(data: &Path) -> Result<EventLog, String> {
        if !data.is_dir() {
            return Err(format!("{}: no such directory", data.display()));
        }
        let dir = data.join("log");
        let segments = list_segments(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let applied = applied_lsn(data)?;
        // Entries from the oldest segment still there: the engine deletes segments it has
        // applied and synced, so older history lives only in the store's derived state.
        let start = segments.first().map_or(1, |(first, _)| *first);
        Ok(EventLog {
            dir,
            start,
            applied,
        })
    }

    /// Writes every event received in `[since, until)` to `w` as a replay stream; `out`
    /// names `w` in errors.
    pub fn write_history(
        &self,
        since: Option<Millis>,
        until: Option<Millis>,
        w: &mut impl Write,
        out: &dyn std::fmt::Display,
    ) -> Result<History, String> {
        let log_dir = &self.dir;
        let mut tally = Tally::default();
        let config = Config::builtin();
        let mut cursor = LogCursor::open(log_dir.clone(), self.start - 1);
        let mut oldest: Option<Millis> = None;
        while let Some((_, entry)) = cursor
            .next(self.applied)
            .map_err(|e| format!("{}: {e}", log_dir.display()))?
        {
            let LogEntry::Events(events) = entry else {
                continue;
            };
            for e in &events {
                oldest.get_or_insert(e.received_at);
                let wanted = since.is_none_or(|s| e.received_at >= s)
                    && until.is_none_or(|u| e.received_at < u);
                // A heartbeat ping is not an alert; it keeps the integration it came through
                // alive, and a replay has no integrations to ping.
                if wanted && e.source != heartbeat::SOURCE {
                    write_event(w, e, &config, &mut tally)
                        .map_err(|err| format!("{out}: {err}"))?;
                }
            }
        }
        // Entries the engine has not applied yet: export again in a moment for them (a stopped
        // server applies its backlog at its next start).
        let behind = matches!(cursor.next(u64::MAX), Ok(Some(_)));
        Ok(History {
            tally,
            since,
            log_start: self.start,
            oldest,
            behind,
        })
    }
}

/// Writes one event as a replay line, after reading it back through the native adapter:
/// what that reading would change is counted here, not found later in a replay.
fn write_event(
    w: &mut impl Write,
    e: &Event,
    config: &Config,
    tally: &mut Tally,
) -> std::io::Result<()> {
    let payload = payload_of(e);
    let body = serde_json::to_vec(&payload).expect("an event always serializes");
    let ctx = IntakeContext {
        now: e.received_at,
        resolve_timeout: config.resolve_timeout,
        max_events: 1,
        integration: "",
        config,
    };
    let kind = IntegrationKind::Tocsin;
    match adapter_for(kind).parse(&Inbound::json(&body), &ctx) {
        Err(err) => {
            tally.skipped += 1;
            tally
                .example
                .get_or_insert_with(|| format!("{} {}: {err}", e.source, e.dedup_key));
            return Ok(());
        }
        Ok(back) => {
            if let Some(why) = back.first().and_then(|b| differs(e, b)) {
                tally.altered += 1;
                tally
                    .example
                    .get_or_insert_with(|| format!("{} {}: {why}", e.source, e.dedup_key));
            }
        }
    }
    tally.events += 1;
    tally.firing += u64::from(e.status == Status::Firing);
    tally.ends_at += u64::from(e.ends_at.is_some() && e.status == Status::Firing);
    tally.first.get_or_insert(e.received_at);
    tally.last = Some(e.received_at);
    write!(
        w,
        "{{\"seq\": {}, \"at\": \"{}\", \"integration\": \"{}\", \"payload\": ",
        tally.events,
        to_rfc3339(e.received_at),
        kind.as_str()
    )?;
    w.write_all(&body)?;
    w.write_all(b"}\n")
}

/// The event in tocsin's format. Its name rides in the `alertname` label when the labels
/// have none and it is not the summary, since that is where the native format takes the
/// name from (Zabbix' trigger name, Nagios' service): grouping and silences go by it.
fn payload_of(e: &Event) -> Payload<'_> {
    let mut labels: BTreeMap<&str, &str> = e
        .labels
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    if !e.name.is_empty() && e.name != e.summary {
        labels.entry("alertname").or_insert(&e.name);
    }
    Payload {
        source: &e.source,
        dedup_key: &e.dedup_key,
        status: e.status,
        severity: e.severity,
        summary: &e.summary,
        description: &e.description,
        service: e.service.as_deref(),
        labels,
        links: &e.links,
        occurred_at: to_rfc3339(e.occurred_at),
    }
}

/// What the replayed event would have different from the recorded one, among what the
/// engine decides by (the configured integration and the end time are known losses).
fn differs(e: &Event, back: &Event) -> Option<&'static str> {
    [
        (e.source != back.source, "source"),
        (e.dedup_key != back.dedup_key, "dedup_key"),
        (e.status != back.status, "status"),
        (e.severity != back.severity, "severity"),
        (e.status == Status::Firing && e.name != back.name, "name"),
        (e.summary != back.summary, "summary"),
        (e.description != back.description, "description"),
        (e.service != back.service, "service"),
        (e.links != back.links, "links"),
        (e.occurred_at != back.occurred_at, "occurred_at"),
    ]
    .into_iter()
    .find_map(|(changed, field)| changed.then_some(field))
}

impl History {
    /// What was written: `9 events (8 firing) received FIRST .. LAST`.
    pub fn span(&self) -> String {
        let t = &self.tally;
        let span = match (t.first, t.last) {
            (Some(f), Some(l)) => format!(" received {} .. {}", to_rfc3339(f), to_rfc3339(l)),
            _ => String::new(),
        };
        format!("{} events ({} firing){span}", t.events, t.firing)
    }

    /// What the history lacks, a `note:` or `warning:` line each, each after a newline.
    pub fn notes(&self) -> String {
        let t = &self.tally;
        let mut s = String::new();
        if let (Some(o), true) = (self.oldest, self.log_start > 1) {
            if self.since.is_none_or(|s| s < o) {
                s += &format!(
                    "\nnote: the event log begins at {}; older events were deleted from it once the store had applied them",
                    to_rfc3339(o)
                );
            }
        }
        if t.skipped + t.altered > 0 {
            s += &format!(
                "\nwarning: {} events left out and {} changed by tocsin's event format (first: {})",
                t.skipped,
                t.altered,
                t.example.as_deref().unwrap_or("")
            );
        }
        if t.ends_at > 0 {
            s += &format!(
                "\nnote: {} firing events had an end time (Alertmanager endsAt) that the event format does not carry; in a replay those alerts stay firing until resolved",
                t.ends_at
            );
        }
        if self.behind {
            s += "\nnote: the log holds newer entries the server has not applied yet; export again in a moment for them";
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(name: &str, labels: &[(&str, &str)]) -> Event {
        Event {
            source: "zabbix".into(),
            integration: "zbx-prod".into(),
            dedup_key: "zbx:10042".into(),
            status: Status::Firing,
            severity: Severity::High,
            name: name.into(),
            summary: "Disk /var almost full on db-01".into(),
            description: "used 91%".into(),
            service: Some("db".into()),
            labels: labels
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            links: vec![Link {
                href: "https://zabbix.example/tr?id=1".into(),
                text: "trigger".into(),
            }],
            occurred_at: 1_772_400_000_123,
            received_at: 1_772_400_001_456,
            ends_at: None,
        }
    }

    fn round_trip(e: &Event) -> (Tally, Event) {
        let config = Config::builtin();
        let mut tally = Tally::default();
        let mut out = Vec::new();
        write_event(&mut out, e, &config, &mut tally).unwrap();
        let line: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(line["seq"], 1);
        assert_eq!(line["at"], "2026-03-01T21:20:01.456Z");
        let kind = IntegrationKind::parse(line["integration"].as_str().unwrap()).unwrap();
        let body = serde_json::to_vec(&line["payload"]).unwrap();
        let ctx = IntakeContext {
            now: parse_rfc3339(line["at"].as_str().unwrap()).unwrap(),
            resolve_timeout: config.resolve_timeout,
            max_events: 1,
            integration: "",
            config: &config,
        };
        let back = adapter_for(kind)
            .parse(&Inbound::json(&body), &ctx)
            .unwrap();
        (tally, back.into_iter().next().unwrap())
    }

    #[test]
    fn an_event_reads_back_as_itself() {
        let e = event("Disk almost full", &[("host", "db-01")]);
        let (tally, back) = round_trip(&e);
        assert_eq!((tally.events, tally.altered, tally.skipped), (1, 0, 0));
        assert_eq!(differs(&e, &back), None);
        assert_eq!(back.received_at, e.received_at);
        // The name travels as the alertname label, the one change to the labels.
        assert_eq!(
            back.labels.get("alertname").map(String::as_str),
            Some("Disk almost full")
        );
        assert_eq!(back.labels.len(), 2);
    }

    #[test]
    fn an_alertname_label_is_kept_and_a_conflicting_one_is_reported() {
        let e = event("Down", &[("alertname", "Down")]);
        assert_eq!(round_trip(&e).0.altered, 0);
        let e = event("Disk almost full", &[("alertname", "Other")]);
        let (tally, back) = round_trip(&e);
        assert_eq!(tally.altered, 1);
        assert_eq!(back.name, "Other");
        assert!(tally.example.unwrap().ends_with(": name"));
    }

    #[test]
    fn what_the_format_refuses_is_left_out_and_counted() {
        let mut e = event("x", &[]);
        e.summary = String::new();
        let config = Config::builtin();
        let mut tally = Tally::default();
        let mut out = Vec::new();
        write_event(&mut out, &e, &config, &mut tally).unwrap();
        assert!(out.is_empty());
        assert_eq!((tally.events, tally.skipped), (0, 1));
        assert!(tally.example.unwrap().contains("summary"));
    }

    #[test]
    fn times_are_rfc3339_or_a_duration_ago() {
        let now = 1_772_400_000_000;
        assert_eq!(parse_time("--since", "90m", now), Ok(now - 5_400_000));
        assert_eq!(
            parse_time("--since", "2026-03-02T09:00:00+08:00", now),
            Ok(1_772_413_200_000)
        );
        let err = parse_time("--until", "last tuesday", now).unwrap_err();
        assert!(
            err.starts_with("--until \"last tuesday\": not an RFC 3339"),
            "{err}"
        );
    }
}
