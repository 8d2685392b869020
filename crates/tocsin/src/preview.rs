//! `tocsin preview`: recent history replayed twice, with the config in use and with a new
//! one, and the difference in incidents: how many under each, per service, which incidents
//! would merge or split, and how many notifications would have been sent. It answers "what
//! would these correlation and grouping settings have changed this week?" before deploying
//! them.
//!
//! The history is what `tocsin export` writes (read the same way, beside a live server),
//! or a stream in the replay format; both replays are `tocsin replay`'s.

mod diff;
mod report;

use crate::export::{window, EventLog};
use crate::oncall::Format;
use crate::replay::{load_config, replay_stream, Firing, Replayed};
use clap::Args;
use diff::Placed;
use report::Report;
use std::collections::HashMap;
use std::io::{BufReader, BufWriter, Seek};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Args)]
pub struct PreviewArgs {
    /// The data directory of a server (running or not) whose event log is the history;
    /// nothing in it is changed.
    #[arg(long, required_unless_present = "events", conflicts_with = "events")]
    data: Option<PathBuf>,
    /// A stream in the replay format (events.jsonl) as the history instead.
    #[arg(long)]
    events: Option<PathBuf>,
    /// The new config to preview.
    #[arg(long, short)]
    config: PathBuf,
    /// The config in use (needed with --data; default with --events: the built-in one).
    #[arg(long)]
    current: Option<PathBuf>,
    /// A CMDB export (topology.json) joined into both configs' catalogs.
    #[arg(long)]
    topology: Option<PathBuf>,
    /// Only events received at or after this time: RFC 3339, or a duration ago (24h).
    #[arg(long, requires = "data")]
    since: Option<String>,
    /// Only events received before this time: RFC 3339, or a duration ago.
    #[arg(long, requires = "data")]
    until: Option<String>,
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
}

pub fn run(a: PreviewArgs) -> ExitCode {
    match preview(&a) {
        Ok(report) => {
            match a.format {
                Format::Text => print!("{report}"),
                Format::Json => println!(
                    "{}",
                    serde_json::to_string(&report).expect("a report always serializes")
                ),
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("tocsin preview: {e}");
            ExitCode::from(2)
        }
    }
}

fn preview(a: &PreviewArgs) -> Result<Report, String> {
    // A data directory does not say which config its server runs with, and comparing with
    // the built-in one instead would show differences nobody is deploying.
    if a.data.is_some() && a.current.is_none() {
        return Err(
            "--current is needed with --data: the config the server runs with \
                    (its `tocsin serve --config`; /dev/null for the built-in config)"
                .into(),
        );
    }
    let topology = a.topology.as_deref();
    let current =
        load_config(a.current.as_deref(), topology).map_err(|e| format!("--current: {e}"))?;
    let new = load_config(Some(&a.config), topology).map_err(|e| format!("--config: {e}"))?;
    let (mut history, about) = history(a)?;
    let mut replay = |config| -> Result<Replayed, String> {
        history.rewind().map_err(|e| e.to_string())?;
        replay_stream(config, BufReader::new(&mut history))
    };
    let before = Side::of(replay(current)?)?;
    let after = Side::of(replay(new)?)?;
    if before.firing.len() != after.firing.len() {
        return Err("the two configs read the stream into different events".into());
    }
    let placed: Vec<Placed> = before
        .firing
        .iter()
        .zip(&after.firing)
        .map(|(b, a)| Placed {
            alert: b.alert,
            current: b.incident,
            new: a.incident,
        })
        .collect();
    let groups = diff::changed(&placed);
    Ok(Report::new(about, &before, &after, &placed, &groups))
}

/// The history as a file to read once per replay, and a line saying what it is. A data
/// directory's log is exported into an unnamed temporary file, which is gone with it.
fn history(a: &PreviewArgs) -> Result<(std::fs::File, String), String> {
    if let Some(events) = &a.events {
        let file = std::fs::File::open(events).map_err(|e| format!("{}: {e}", events.display()))?;
        return Ok((file, format!("stream {}", events.display())));
    }
    let data = a.data.as_ref().expect("clap requires --data or --events");
    let (since, until) = window(a.since.as_deref(), a.until.as_deref())?;
    let log = EventLog::open(data)?;
    let file = tempfile::tempfile().map_err(|e| format!("a temporary file: {e}"))?;
    let mut w = BufWriter::new(file);
    let history = log.write_history(since, until, &mut w, &"a temporary file")?;
    let file = w
        .into_inner()
        .map_err(|e| format!("a temporary file: {}", e.error()))?;
    // What the history lacks goes where export says it: on standard error, so the JSON
    // on standard output stays one object.
    let notes = history.notes();
    if !notes.is_empty() {
        eprintln!("{}", notes.trim_start());
    }
    Ok((file, format!("{} of {}", history.span(), data.display())))
}

/// What a replay decided, read out of its store, which is thrown away before the next
/// replay starts: what is kept is small next to a store.
pub struct Side {
    events: u64,
    alerts: i64,
    notifications: i64,
    /// Every firing event in stream order, with its alert and incident.
    firing: Vec<Firing>,
    /// Alert id: (name, service).
    alert_names: HashMap<i64, (String, String)>,
    /// Incident id: (title, service).
    incidents: HashMap<i64, (String, String)>,
}

impl Side {
    fn of(r: Replayed) -> Result<Side, String> {
        let sql = |e: rusqlite::Error| e.to_string();
        let names = |query: &str| -> rusqlite::Result<HashMap<i64, (String, String)>> {
            let mut stmt = r.conn.prepare(query)?;
            let rows = stmt.query_map([], |row| Ok((row.get(0)?, (row.get(1)?, row.get(2)?))))?;
            rows.collect()
        };
        Ok(Side {
            events: r.events,
            alerts: r.alerts().map_err(sql)?,
            notifications: r.notifications().map_err(sql)?,
            alert_names: names("SELECT id, name, service FROM alerts").map_err(sql)?,
            incidents: names("SELECT id, title, service FROM incidents").map_err(sql)?,
            firing: r.firing,
        })
    }
}
