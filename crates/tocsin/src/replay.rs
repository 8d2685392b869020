//! `tocsin replay`: a recorded or generated stream of tool payloads run through the very
//! same adapters and engine as the live server, on a virtual clock, so last week's alerts can
//! be replayed against a new config before it is deployed ("what would have paged, and
//! whom"). Writes, for every firing event, the incident its alert belongs to at the end.
//!
//! The input is the `events.jsonl` of the scenario formats: one
//! `{"seq", "at", "integration", "payload"}` a line, in time order, where `payload` is what
//! the tool puts on the wire.
//!
//! With `--feedback`, people's merges and splits are applied at points of the stream
//! (`feedback`), so what correlation learns from them can be evaluated.

mod feedback;
mod score;

use arc_swap::ArcSwap;
use clap::Args;
use feedback::{Feedback, Tally};
use serde::Deserialize;
use std::collections::HashMap;
use std::io::{BufRead, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;
use tocsin_core::clock::ManualClock;
use tocsin_core::config::{load_str, merge_topology, Config};
use tocsin_core::event::Status;
use tocsin_core::fingerprint::alert_key;
use tocsin_core::integration::IntegrationKind;
use tocsin_core::time::{parse_rfc3339, Millis};
use tocsin_engine::{Engine, EngineStats, Input};
use tocsin_integrations::{adapter_for, Inbound, IntakeContext};
use tocsin_store::log::LogEntry;
use tocsin_store::sqlite::SqliteEngineStore;

#[derive(Args)]
pub struct ReplayArgs {
    /// The stream: events.jsonl.
    #[arg(long)]
    events: PathBuf,
    /// A CMDB export (topology.json) joined into the service catalog.
    #[arg(long)]
    topology: Option<PathBuf>,
    /// The config to replay against (default: the built-in one).
    #[arg(long, short)]
    config: Option<PathBuf>,
    /// Where to write `{"seq": n, "incident": ID}` for every firing event.
    #[arg(long)]
    out: PathBuf,
    /// People's corrections to apply during the replay: one `{"after_seq": N, "merge":
    /// [SEQ_A, SEQ_B]}` or `{"after_seq": N, "split": [SEQ, ...]}` a line.
    #[arg(long)]
    feedback: Option<PathBuf>,
    /// A stream's ground truth (`truth.jsonl` of `tocsin simulate write`): score the
    /// grouping against it, and against grouping by name and service.
    #[arg(long)]
    truth: Option<PathBuf>,
}

#[derive(Deserialize)]
struct Line {
    seq: u64,
    at: String,
    integration: String,
    payload: serde_json::Value,
}

/// Events a virtual second (or more, when they share one) go to the engine together, as a
/// live server batches what arrives at once.
const BATCH_EVENTS: usize = 2000;
/// How long the virtual clock runs on after the last event.
const AFTERMATH_MS: Millis = 24 * 3_600_000;

pub fn run(a: ReplayArgs) -> ExitCode {
    match replay(&a) {
        Ok(summary) => {
            println!("{summary}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("tocsin replay: {e}");
            ExitCode::from(2)
        }
    }
}

/// The config to replay against (the built-in one without a file), with a CMDB topology
/// joined into its catalog, validated as `tocsin check` does.
pub fn load_config(config: Option<&Path>, topology: Option<&Path>) -> Result<Config, String> {
    let mut text = match config {
        Some(p) => std::fs::read_to_string(p).map_err(|e| format!("{}: {e}", p.display()))?,
        None => String::new(),
    };
    if let Some(t) = topology {
        let topo = std::fs::read_to_string(t).map_err(|e| format!("{}: {e}", t.display()))?;
        text = merge_topology(&text, &topo)?;
    }
    load_str(&text).map_err(|errors| {
        let lines: Vec<String> = errors.iter().map(|e| format!("  {e}")).collect();
        format!(
            "the config has {} error(s):\n{}",
            errors.len(),
            lines.join("\n")
        )
    })
}

/// The adapter for a stream's integration name: Prometheus sends the Alertmanager API's
/// alert list.
fn kind_of(integration: &str) -> Option<IntegrationKind> {
    match integration {
        "prometheus" => Some(IntegrationKind::Alertmanager),
        other => IntegrationKind::parse(other),
    }
}

fn replay(a: &ReplayArgs) -> Result<String, String> {
    let started = Instant::now();
    let config = load_config(a.config.as_deref(), a.topology.as_deref())?;
    let file =
        std::fs::File::open(&a.events).map_err(|e| format!("{}: {e}", a.events.display()))?;
    let corrections = match &a.feedback {
        Some(p) => {
            let f = std::fs::File::open(p).map_err(|e| format!("{}: {e}", p.display()))?;
            Feedback::parse(std::io::BufReader::new(f))
                .map_err(|e| format!("{}: {e}", p.display()))?
        }
        None => Feedback::default(),
    };
    let r = replay_corrected(config, std::io::BufReader::new(file), corrections)?;
    let out = std::fs::File::create(&a.out).map_err(|e| format!("{}: {e}", a.out.display()))?;
    let mut w = BufWriter::new(out);
    let mut incidents = std::collections::HashSet::new();
    for f in &r.firing {
        let name = f
            .incident
            .map_or_else(|| "none".to_string(), |i| format!("INC-{i}"));
        incidents.insert(name.clone());
        writeln!(w, "{{\"seq\": {}, \"incident\": \"{name}\"}}", f.seq)
            .map_err(|e| e.to_string())?;
    }
    w.flush().map_err(|e| e.to_string())?;
    let alerts = r.alerts().map_err(|e| e.to_string())?;
    let notifications = r.notifications().map_err(|e| e.to_string())?;
    let storms = tocsin_store::sqlite::storms::count(&r.conn).map_err(|e| e.to_string())?;
    let whom = who_would_hear(&r.conn).map_err(|e| e.to_string())?;
    let corrected = match a.feedback {
        Some(_) => format!(
            "; feedback: {} corrections applied, {} skipped",
            r.feedback.applied, r.feedback.skipped
        ),
        None => String::new(),
    };
    let scored = match &a.truth {
        Some(path) => scored(path, &r.firing)?,
        None => String::new(),
    };
    Ok(format!(
        "replayed {} events ({} firing) into {} alerts and {} incidents; {storms} storms detected; {notifications} notifications would have been sent{corrected}; {:.1} s{whom}{scored}",
        r.events,
        r.firing.len(),
        alerts,
        incidents.len(),
        started.elapsed().as_secs_f64()
    ))
}

/// The grouping scored against a truth file, and the name-and-service baseline, as lines
/// to follow the summary.
fn scored(path: &Path, firing: &[Firing]) -> Result<String, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let truth: Vec<score::Truth> = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(n, l)| {
            serde_json::from_str(l).map_err(|e| format!("{} line {}: {e}", path.display(), n + 1))
        })
        .collect::<Result<_, _>>()?;
    let assigned: HashMap<u64, i64> = firing
        .iter()
        .filter_map(|f| Some((f.seq, f.incident?)))
        .collect();
    let at: HashMap<u64, Millis> = firing.iter().map(|f| (f.seq, f.at)).collect();
    if let Some(t) = truth.iter().find(|t| !at.contains_key(&t.seq)) {
        return Err(format!(
            "{}: seq {} is not a firing event of the stream: is it the stream's truth?",
            path.display(),
            t.seq
        ));
    }
    let ours = score::score(&truth, &assigned);
    let baseline = score::score(
        &truth,
        &score::group_by_name_and_service(&truth, &at, 5 * 60_000),
    );
    let line = |who: &str, s: &score::Score| {
        format!(
            "\n  {who:<32} B-cubed precision {:.3}, recall {:.3}, F1 {:.3}; re-fires kept {:.3}; {} incidents",
            s.precision, s.recall, s.f1, s.refire_kept, s.incidents
        )
    };
    Ok(format!(
        "\nscored against {}: {} alerts in {} true incidents{}{}",
        path.display(),
        ours.alerts,
        ours.true_incidents,
        line("tocsin:", &ours),
        line("by name and service, 5 minutes:", &baseline)
    ))
}

/// A stream replayed to its end: the throwaway store the engine left, and what became of
/// each firing event, for a caller to read its result from.
pub struct Replayed {
    /// The store, read after the engine has closed it.
    pub conn: rusqlite::Connection,
    /// Kept until the store has been read: dropping it deletes the store.
    _dir: tempfile::TempDir,
    /// Events read (a payload may carry several).
    pub events: u64,
    /// Every firing event, in the order of the stream.
    pub firing: Vec<Firing>,
    /// What became of the corrections of a feedback file.
    pub feedback: Tally,
}

/// A firing event of the stream and where its alert ended up.
pub struct Firing {
    /// The `seq` of its input line.
    pub seq: u64,
    /// When it came.
    pub at: Millis,
    /// Its alert's id in the replay's store.
    pub alert: i64,
    /// The incident its alert episode belongs to at the end; none while a silence or
    /// inhibition kept it out of every incident.
    pub incident: Option<i64>,
}

impl Replayed {
    /// Distinct alerts (source and dedup key): the deduplication.
    pub fn alerts(&self) -> rusqlite::Result<i64> {
        self.conn
            .query_row("SELECT count(*) FROM alerts", [], |r| r.get(0))
    }

    /// The notifications a live dispatcher would have sent (see [`WOULD_BE_SENT`]).
    pub fn notifications(&self) -> rusqlite::Result<i64> {
        self.conn.query_row(
            &format!("SELECT count(*) FROM notifications n JOIN incidents i ON i.id = n.incident_id WHERE {WOULD_BE_SENT}"),
            [],
            |r| r.get(0),
        )
    }
}

/// Runs a stream in the `events.jsonl` format through the adapters and an engine on a
/// virtual clock, with `config`, and a day past its last event.
pub fn replay_stream(config: Config, input: impl BufRead) -> Result<Replayed, String> {
    replay_corrected(config, input, Feedback::default())
}

/// [`replay_stream`] with people's corrections applied as their events come.
fn replay_corrected(
    config: Config,
    input: impl BufRead,
    mut feedback: Feedback,
) -> Result<Replayed, String> {
    // The replay's store is thrown away at the end: in memory (tmpfs) when the machine has
    // one, so a replay waits on no disk.
    let shm = std::path::Path::new("/dev/shm");
    let dir = if shm.is_dir() {
        tempfile::tempdir_in(shm).or_else(|_| tempfile::tempdir())
    } else {
        tempfile::tempdir()
    }
    .map_err(|e| e.to_string())?;
    let clock = Arc::new(ManualClock::new(0));
    let shared = Arc::new(ArcSwap::from_pointee(config));
    let db = dir.path().join("tocsin.db");
    let store =
        SqliteEngineStore::open(&db).map_err(|e| format!("opening {}: {e}", db.display()))?;
    let engine = Engine::open(
        Box::new(store),
        &dir.path().join("log"),
        0,
        shared.clone(),
        clock.clone(),
        Arc::new(EngineStats::default()),
    )?;
    feedback.open(&dir.path().join("tocsin.db"))?;
    let config = shared.load_full();
    let mut feed = Feed {
        engine,
        clock: &clock,
        batch: Vec::new(),
        unapplied: Vec::new(),
        firing: Vec::new(),
    };
    let (mut events, mut lsn, mut batch_events, mut batch_second) = (0u64, 0u64, 0usize, i64::MIN);
    let mut last_at: Millis = 0;
    for (n, line) in input.lines().enumerate() {
        let line = line.map_err(|e| format!("line {}: {e}", n + 1))?;
        if line.trim().is_empty() {
            continue;
        }
        let l: Line = serde_json::from_str(&line).map_err(|e| format!("line {}: {e}", n + 1))?;
        let at = parse_rfc3339(&l.at).map_err(|e| format!("line {}: at: {e}", n + 1))?;
        let kind = kind_of(&l.integration)
            .ok_or_else(|| format!("line {}: unknown integration {:?}", n + 1, l.integration))?;
        let body = serde_json::to_vec(&l.payload).map_err(|e| e.to_string())?;
        let ctx = IntakeContext {
            now: at,
            resolve_timeout: config.resolve_timeout,
            max_events: usize::MAX,
            integration: "",
            config: &config,
        };
        let parsed = adapter_for(kind)
            .parse(&Inbound::json(&body), &ctx)
            .map_err(|e| format!("line {} (seq {}): {e}", n + 1, l.seq))?;
        events += parsed.len() as u64;
        if at / 1000 != batch_second || batch_events >= BATCH_EVENTS {
            feed.flush(last_at)?;
            batch_second = at / 1000;
            batch_events = 0;
        }
        // After the flush above: these are applied with the next one.
        for e in &parsed {
            if e.status == Status::Firing {
                feed.unapplied
                    .push((l.seq, at, alert_key(&e.source, &e.dedup_key)));
            }
        }
        batch_events += parsed.len();
        lsn += 1;
        feed.batch.push(Input {
            lsn,
            entry: LogEntry::Events(parsed),
            reply: None,
        });
        last_at = last_at.max(at);
        if feedback.follows(l.seq) {
            // The corrections see the stream up to and including this event.
            feed.flush(last_at)?;
            feedback.apply(l.seq, &mut feed, last_at, &mut lsn)?;
        }
    }
    feed.flush(last_at)?;
    feedback.finish();
    // A day past the last event, so escalations the stream started play out (what would
    // have paged, and whom) and alerts without an end time expire.
    feed.flush(last_at + AFTERMATH_MS)?;
    let Feed { engine, firing, .. } = feed;
    drop(engine);

    let conn =
        rusqlite::Connection::open(dir.path().join("tocsin.db")).map_err(|e| e.to_string())?;
    let incident_of = episode_incidents(&conn).map_err(|e| e.to_string())?;
    let firing = firing
        .into_iter()
        .map(|(seq, at, alert, episode)| Firing {
            seq,
            at,
            alert,
            incident: incident_of.get(&(alert, episode)).copied(),
        })
        .collect();
    Ok(Replayed {
        conn,
        _dir: dir,
        events,
        firing,
        feedback: feedback.tally,
    })
}

/// The notifications a live dispatcher would have sent: nothing sends during a replay, so
/// a page stays pending until a resolve (or, for steps that wait for one, an acknowledgement)
/// cancels it; one that fell due before that moment would have gone out.
const WOULD_BE_SENT: &str = "n.state != 'cancelled'
    OR n.due_at < CASE WHEN n.only_if_unacked
                       THEN min(coalesce(i.acknowledged_at, i.resolved_at), coalesce(i.resolved_at, i.acknowledged_at))
                       ELSE i.resolved_at END";

/// "What would have paged, and whom": a line per person with their notifications by
/// contact type (`\nalice: 12 (voice 2, sms 4, slack 6)`), empty when nobody was.
fn who_would_hear(conn: &rusqlite::Connection) -> rusqlite::Result<String> {
    let mut stmt = conn.prepare(&format!(
        "SELECT n.user_id, n.contact_type, count(*)
             FROM notifications n JOIN incidents i ON i.id = n.incident_id WHERE {WOULD_BE_SENT}
             GROUP BY n.user_id, n.contact_type ORDER BY n.user_id, n.contact_type"
    ))?;
    let rows = stmt.query_map([], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, i64>(2)?,
        ))
    })?;
    let mut people: Vec<(String, i64, Vec<String>)> = Vec::new();
    for row in rows {
        let (user, kind, n) = row?;
        if people.last().is_none_or(|(u, _, _)| *u != user) {
            people.push((user, 0, Vec::new()));
        }
        let person = people.last_mut().expect("just pushed");
        person.1 += n;
        person.2.push(format!("{kind} {n}"));
    }
    Ok(people
        .iter()
        .map(|(user, total, kinds)| format!("\n{user}: {total} ({})", kinds.join(", ")))
        .collect())
}

/// The engine, the batch being gathered for it, and what became of the firing events fed.
struct Feed<'c> {
    engine: Engine,
    clock: &'c ManualClock,
    batch: Vec<Input>,
    /// Firing events of the batch not applied yet: (seq, at, alert key).
    unapplied: Vec<(u64, Millis, u64)>,
    /// Every firing event applied: (seq, at, alert id, episode). An alert that fires again
    /// later is a new episode, and the episode is what belongs to an incident.
    firing: Vec<(u64, Millis, i64, i64)>,
}

impl Feed<'_> {
    /// Applies the gathered batch (if any) at `at`, then moves the clock on there.
    fn flush(&mut self, at: Millis) -> Result<(), String> {
        self.clock.set(at);
        self.engine.process(std::mem::take(&mut self.batch))?;
        for (seq, at, key) in self.unapplied.drain(..) {
            let (id, episode) = self.engine.alert_episode(key).unwrap_or((0, 0));
            self.firing.push((seq, at, id, episode));
        }
        Ok(())
    }
}

/// Each alert episode's incident at the end (none while a silence kept it out of one):
/// the last history entry of the episode that names one.
fn episode_incidents(conn: &rusqlite::Connection) -> rusqlite::Result<HashMap<(i64, i64), i64>> {
    let mut stmt = conn.prepare(
        "SELECT alert_id, episode, incident_id FROM alert_history WHERE incident_id > 0
         ORDER BY alert_id, seq",
    )?;
    let rows = stmt.query_map([], |r| Ok(((r.get(0)?, r.get(1)?), r.get(2)?)))?;
    rows.collect()
}
