//! `tocsin replay --feedback FILE`: people's corrections of the grouping, applied at points
//! of the stream through the engine path of the live server's merge and split (a
//! `LogEntry::Regroup`), so that what correlation learns from them can be measured: replay
//! with and without the file and score both.
//!
//! A line is `{"after_seq": N, "merge": [A, B]}` (right after event N is applied, the
//! incident of the alert of firing event A is merged into that of B's) or `{"after_seq": N,
//! "split": [X, ...]}` (the alerts of those firing events leave their common incident for a
//! new one). A correction that no longer fits the replay (an event not seen by then or not
//! firing, alerts already together or apart, an incident the engine will not change) is
//! noted and skipped, as a person would not have made it: a change of config must not make
//! a whole replay fail. A line that is not valid stops the replay.

use super::Feed;
use rusqlite::Connection;
use serde::Deserialize;
use std::collections::HashMap;
use std::io::BufRead;
use std::path::Path;
use tocsin_core::command::{RegroupAction, RegroupCommand};
use tocsin_core::time::Millis;
use tocsin_engine::Input;
use tocsin_store::log::LogEntry;
use tocsin_store::sqlite::queries;

/// Who made the corrections, in the incidents' timelines.
const ACTOR: &str = "feedback";

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Line {
    after_seq: u64,
    merge: Option<[u64; 2]>,
    split: Option<Vec<u64>>,
}

enum Change {
    /// The incident of the first event's alert goes into the second's.
    Merge(u64, u64),
    /// The alerts of these events leave their incident together.
    Split(Vec<u64>),
}

struct Correction {
    /// Its line number in the file, for notes.
    line: usize,
    change: Change,
    /// The line as written: the reason in the timelines.
    text: String,
}

/// How many corrections were applied, and how many skipped.
#[derive(Debug, Default, Clone, Copy)]
pub struct Tally {
    pub applied: u64,
    pub skipped: u64,
}

/// Why a correction was not applied: it no longer fits the replay (noted, skipped), or the
/// store failed (the replay stops).
enum NotApplied {
    Stale(String),
    Failed(String),
}

/// The corrections of a feedback file, by the event they follow, and what became of them.
#[derive(Default)]
pub(super) struct Feedback {
    due: HashMap<u64, Vec<Correction>>,
    pub(super) tally: Tally,
    /// The alerts of the firing events fed so far, by seq (the first `indexed` of
    /// `Feed::firing`).
    alerts: HashMap<u64, Vec<i64>>,
    indexed: usize,
    /// The replay's store, read for the incident each alert is in at the moment.
    store: Option<Connection>,
}

impl Feedback {
    /// Reads a feedback file; an invalid line is an error naming it.
    pub(super) fn parse(input: impl BufRead) -> Result<Feedback, String> {
        let mut f = Feedback::default();
        for (n, text) in input.lines().enumerate() {
            let line = n + 1;
            let text = text.map_err(|e| format!("line {line}: {e}"))?;
            let text = text.trim();
            if text.is_empty() {
                continue;
            }
            let l: Line = serde_json::from_str(text).map_err(|e| format!("line {line}: {e}"))?;
            let change = match (l.merge, l.split) {
                (Some([a, b]), None) => Change::Merge(a, b),
                (None, Some(seqs)) if !seqs.is_empty() => Change::Split(seqs),
                (None, Some(_)) => {
                    return Err(format!("line {line}: split: name at least one seq"))
                }
                _ => return Err(format!("line {line}: give one of merge and split")),
            };
            f.due.entry(l.after_seq).or_default().push(Correction {
                line,
                change,
                text: text.to_owned(),
            });
        }
        Ok(f)
    }

    /// Opens the replay's store for reading, if there is anything to correct.
    pub(super) fn open(&mut self, db: &Path) -> Result<(), String> {
        if !self.due.is_empty() {
            self.store = Some(Connection::open(db).map_err(|e| format!("{}: {e}", db.display()))?);
        }
        Ok(())
    }

    /// Whether corrections follow the event `seq`.
    pub(super) fn follows(&self, seq: u64) -> bool {
        self.due.contains_key(&seq)
    }

    /// Applies the corrections that follow event `seq`, in the order of the file, at `at`;
    /// the feed must have applied everything up to that event.
    pub(super) fn apply(
        &mut self,
        seq: u64,
        feed: &mut Feed<'_>,
        at: Millis,
        lsn: &mut u64,
    ) -> Result<(), String> {
        let Some(corrections) = self.due.remove(&seq) else {
            return Ok(());
        };
        for &(seq, _, alert, _) in &feed.firing[self.indexed..] {
            // 0: the engine ignored the event.
            if alert != 0 {
                self.alerts.entry(seq).or_default().push(alert);
            }
        }
        self.indexed = feed.firing.len();
        for c in corrections {
            let outcome = match self.command(&c, at) {
                Ok(command) => {
                    *lsn += 1;
                    feed.regroup(*lsn, command)?
                }
                Err(NotApplied::Stale(why)) => Err(why),
                Err(NotApplied::Failed(e)) => return Err(e),
            };
            match outcome {
                Ok(()) => self.tally.applied += 1,
                Err(why) => self.skip(c.line, &why),
            }
        }
        Ok(())
    }

    /// Skips the corrections whose event never came.
    pub(super) fn finish(&mut self) {
        let mut left: Vec<(u64, Correction)> = self
            .due
            .drain()
            .flat_map(|(seq, cs)| cs.into_iter().map(move |c| (seq, c)))
            .collect();
        left.sort_by_key(|(_, c)| c.line);
        for (seq, c) in left {
            self.skip(c.line, &format!("after_seq {seq} is not in the stream"));
        }
    }

    fn skip(&mut self, line: usize, why: &str) {
        eprintln!("note: feedback line {line} skipped: {why}");
        self.tally.skipped += 1;
    }

    /// The engine's command for a correction.
    fn command(&self, c: &Correction, at: Millis) -> Result<RegroupCommand, NotApplied> {
        let (incident_id, action) = match &c.change {
            Change::Merge(from, into) => {
                let from = self.incident_of(self.alerts_of(*from)?[0])?;
                let into = self.incident_of(self.alerts_of(*into)?[0])?;
                (from, RegroupAction::Merge { into })
            }
            Change::Split(seqs) => {
                let mut alerts: Vec<i64> = Vec::new();
                for &seq in seqs {
                    alerts.extend(self.alerts_of(seq)?);
                }
                alerts.sort_unstable();
                alerts.dedup();
                let mut incidents = alerts
                    .iter()
                    .map(|&a| self.incident_of(a))
                    .collect::<Result<Vec<i64>, _>>()?;
                incidents.sort_unstable();
                incidents.dedup();
                let [incident] = incidents[..] else {
                    let listed: Vec<String> = incidents.iter().map(|i| format!("#{i}")).collect();
                    return Err(NotApplied::Stale(format!(
                        "the alerts are in different incidents ({})",
                        listed.join(", ")
                    )));
                };
                (incident, RegroupAction::Split { alerts })
            }
        };
        Ok(RegroupCommand {
            incident_id,
            action,
            actor: ACTOR.into(),
            reason: c.text.clone(),
            at,
        })
    }

    fn alerts_of(&self, seq: u64) -> Result<&[i64], NotApplied> {
        self.alerts.get(&seq).map(Vec::as_slice).ok_or_else(|| {
            NotApplied::Stale(format!("seq {seq} is not a firing event seen by then"))
        })
    }

    /// The incident an alert is in now.
    fn incident_of(&self, alert: i64) -> Result<i64, NotApplied> {
        let store = self
            .store
            .as_ref()
            .expect("opened when there are corrections");
        queries::get_alert(store, alert)
            .map_err(|e| NotApplied::Failed(e.to_string()))?
            .and_then(|d| d.alert.incident_id)
            .ok_or_else(|| NotApplied::Stale(format!("alert {alert} is in no incident")))
    }
}

impl Feed<'_> {
    /// Applies a merge or split as the live server does; `Err` in the outcome when the engine
    /// refused it.
    fn regroup(&mut self, lsn: u64, c: RegroupCommand) -> Result<Result<(), String>, String> {
        let (reply, mut outcome) = tokio::sync::oneshot::channel();
        self.engine.process(vec![Input {
            lsn,
            entry: LogEntry::Regroup(c),
            reply: Some(reply),
        }])?;
        // The engine answers before `process` returns.
        let outcome = outcome
            .try_recv()
            .map_err(|_| "the engine did not answer".to_string())?;
        Ok(outcome.map_err(|e| e.to_string()))
    }
}
