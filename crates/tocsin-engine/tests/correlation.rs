//! What correlation learns survives a restart: the co-fire rates are saved with each batch
//! and read back at start, so the first alert after a restart is decided as it would have
//! been without one, and a log tail that reached the log but not the store (a crash) is
//! learned from once when it is applied again.

mod common;

use common::{event, Harness, HOUR, MIN, SEC, T0};
use tocsin_core::config::load_str;
use tocsin_core::correlation::cofire::Cofire;
use tocsin_core::correlation::text;
use tocsin_core::event::{Event, Status};
use tocsin_store::log::{self, encode_entry, LogEntry, LogWriter, Sink};

/// api depends on db, so correlation is on; firings 30 s apart or less on linked services
/// count as firing together.
const CONFIG: &str = r#"
correlation: {cofire: 30s}
services: [{id: db}, {id: api, depends_on: [db]}]
"#;

const DB: &str = "DbDown";
const API: &str = "HighErrorRate";

/// The alert `name` of `service` in episode `n`, with `status`, at `t`.
fn alert(service: &str, name: &str, n: i64, status: Status, t: i64) -> Event {
    Event {
        dedup_key: format!("{name}-{n}"),
        service: Some(service.into()),
        ..event(name, status, t)
    }
}

/// The events of one fault: db goes down, api's errors follow 10 s later (so they are
/// learned as firing together), both resolve 20 minutes on.
fn fault(n: i64, t: i64) -> Vec<Event> {
    vec![
        alert("db", DB, n, Status::Firing, t),
        alert("api", API, n, Status::Firing, t + 10 * SEC),
        alert("db", DB, n, Status::Resolved, t + 20 * MIN),
        alert("api", API, n, Status::Resolved, t + 20 * MIN),
    ]
}

/// Five faults, two hours apart: api's errors come with db's outage every time.
const FAULTS: i64 = 5;

fn kind(name: &str) -> u64 {
    text::kind("test", name, None).0
}

/// What a learner knows of the two kinds: (kinds, pairs), and both rates.
fn learned(c: &Cofire) -> ((usize, usize), Option<f32>, Option<f32>) {
    (
        c.len(),
        c.rate(kind(API), kind(DB)),
        c.rate(kind(DB), kind(API)),
    )
}

/// Where every alert went (dedup key, incident) and each incident's timeline (kind,
/// message), newest first: what correlation decided, with its explanations.
type Decisions = (Vec<(String, Option<i64>)>, Vec<Vec<(String, String)>>);

impl Harness {
    fn feed(&mut self, events: Vec<Event>) {
        for e in events {
            self.clock.set(e.received_at);
            self.events(vec![e]);
        }
    }

    fn decisions(&self) -> Decisions {
        let alerts = self
            .alerts()
            .into_iter()
            .map(|a| (a.dedup_key, a.incident_id));
        let timelines = self.incidents().into_iter().map(|i| self.timeline(i.id));
        (alerts.collect(), timelines.collect())
    }
}

/// The faults, then db down once more and, a minute later (too late to count as firing
/// together, soon enough to correlate), api's errors; `restart` in between.
fn run(restart: bool) -> Harness {
    let mut h = Harness::new(CONFIG);
    for n in 0..FAULTS {
        h.feed(fault(n, T0 + n * 2 * HOUR));
    }
    let t = T0 + FAULTS * 2 * HOUR;
    h.feed(vec![alert("db", DB, FAULTS, Status::Firing, t)]);
    if restart {
        let before = learned(h.engine().learned());
        assert_eq!(before, ((2, 1), Some(1.0), Some(5.0 / 6.0)));
        h.restart();
        assert_eq!(learned(h.engine().learned()), before);
    }
    h.feed(vec![alert("api", API, FAULTS, Status::Firing, t + MIN)]);
    h
}

#[test]
fn learned_rates_survive_a_restart_and_decide_the_same() {
    let mut once = run(false);
    let mut restarted = run(true);
    let last = FAULTS.to_string();
    let (alerts, timelines) = restarted.decisions();
    let incident_of = |name: &str| {
        alerts
            .iter()
            .find(|(key, _)| *key == format!("{name}-{last}"))
            .unwrap()
            .1
    };
    assert_eq!(
        incident_of(API),
        incident_of(DB),
        "api's errors join db's outage"
    );
    assert_eq!((alerts, timelines), once.decisions());
    assert_eq!(
        learned(restarted.engine().learned()),
        learned(once.engine().learned())
    );
}

/// Drops what the log writer reports.
struct Quiet;
impl Sink<u32> for Quiet {
    fn committed(&mut self, _: u64, _: u32) {}
    fn synced(&mut self, _: std::time::Duration, _: usize) {}
}

#[test]
fn a_log_tail_applied_again_after_a_crash_is_learned_once() {
    let config = load_str(CONFIG).unwrap();
    let mut h = Harness::with_config(config.clone());
    for n in 0..FAULTS - 1 {
        h.feed(fault(n, T0 + n * 2 * HOUR));
    }
    // The last fault reached the log but not the store. The harness numbered its entries
    // itself and the real log starts empty: placeholders stand for what the store has.
    let (applied, dir) = (h.lsn, h.dir);
    let log_dir = dir.path().join("log");
    let (writer, thread) =
        LogWriter::start(log_dir.clone(), log::recover(&log_dir).unwrap(), Quiet).unwrap();
    for _ in 0..applied {
        let placeholder = encode_entry(&LogEntry::Events(vec![]));
        writer.append_blocking(placeholder, 0).unwrap();
    }
    let tail = fault(FAULTS - 1, T0 + (FAULTS - 1) * 2 * HOUR);
    for e in &tail {
        let entry = LogEntry::Events(vec![e.clone()]);
        writer.append_blocking(encode_entry(&entry), 0).unwrap();
    }
    drop(writer);
    thread.join().unwrap();

    let mut recovered = Harness::in_dir(dir, config);
    assert_eq!(
        recovered.engine().applied_lsn(),
        applied + tail.len() as u64
    );
    let mut once = Harness::new(CONFIG);
    for n in 0..FAULTS {
        once.feed(fault(n, T0 + n * 2 * HOUR));
    }
    let expected = ((2, 1), Some(1.0), Some(1.0));
    assert_eq!(learned(once.engine().learned()), expected);
    assert_eq!(learned(recovered.engine().learned()), expected);
    // And the store has it as the engine does: a restart now reads back the same.
    recovered.restart();
    assert_eq!(learned(recovered.engine().learned()), expected);
}
