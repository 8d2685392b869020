//! Recurring maintenance windows in the engine, from the config and made at run time: each
//! window's current (or next) occurrence becomes a silence, `maintenance-NAME-START`. From
//! there the silence machinery does the rest: it mutes what the window matches from its
//! start, lets it go at its end, and lists it with the other silences (Alertmanager API
//! included). Occurrences are derived from the windows and the engine's time horizon, and
//! runtime windows are made and deleted in log order, so a replay makes the same ones.

use crate::commands::CommandError;
use crate::index::Index;
use crate::pending::Pending;
use crate::silences::audit;
use std::collections::BTreeMap;
use tocsin_core::command::{MaintenanceAction, MaintenanceCommand};
use tocsin_core::config::maintenance::{occurrence_id, window, window_of, MaintenanceWindow};
use tocsin_core::config::Config;
use tocsin_core::silence::{SilenceSpec, SilenceState};
use tocsin_core::time::Millis;
use tocsin_store::engine::{EngineTx, SilenceRecord, StoreResult, WindowRow};

/// Config windows' occurrences are made by tocsin itself.
const CONFIG_AUTHOR: &str = "tocsin";

/// The runtime windows that are not deleted, by id, with their authors.
#[derive(Default)]
pub struct RuntimeWindows {
    live: BTreeMap<String, (MaintenanceWindow, String)>,
}

impl RuntimeWindows {
    pub fn load(conn: &dyn EngineTx) -> StoreResult<RuntimeWindows> {
        let mut out = RuntimeWindows::default();
        for row in conn.maintenance_windows(false)? {
            out.add(row);
        }
        Ok(out)
    }

    /// Parses a stored window with the config's code. One that no longer parses (a zone a
    /// newer tz database dropped) is left out, with a warning, rather than guessed at.
    fn add(&mut self, row: WindowRow) -> Option<&MaintenanceWindow> {
        let id = row.spec.name.clone();
        let mut errors = Vec::new();
        let Some(w) = window(&mut errors, "", row.spec) else {
            tracing::warn!(window = %id, errors = ?errors, "maintenance window ignored: it no longer parses");
            return None;
        };
        self.live.insert(id.clone(), (w, row.author));
        self.live.get(&id).map(|(w, _)| w)
    }
}

impl Index {
    /// Whether any window, from the config or made at run time, needs looking after.
    pub(crate) fn has_maintenance(&self, config: &Config) -> bool {
        !config.maintenance_windows.is_empty() || !self.windows.live.is_empty()
    }

    /// Makes sure every window's occurrence open at `now`, or next, is a silence.
    pub(crate) fn schedule_maintenance(
        &mut self,
        config: &Config,
        now: Millis,
        conn: &dyn EngineTx,
        p: &mut Pending<'_>,
    ) -> StoreResult<()> {
        let windows = config
            .maintenance_windows
            .iter()
            .map(|w| (w, CONFIG_AUTHOR))
            .chain(self.windows.live.values().map(|(w, a)| (w, a.as_str())));
        let mut due = Vec::new();
        for (w, author) in windows {
            let Some((start, end)) = w.occurrence(now) else {
                continue;
            };
            let id = occurrence_id(&w.name, start);
            // Already made (live, or ended early by someone through the API).
            if self.silences.contains(&id) || conn.silence(&id)?.is_some() {
                continue;
            }
            let comment = if w.comment.is_empty() {
                format!("maintenance window {}", w.name)
            } else {
                format!("maintenance window {}: {}", w.name, w.comment)
            };
            due.push(SilenceRecord {
                id,
                spec: SilenceSpec {
                    matchers: w.matchers.clone(),
                    starts_at: start,
                    ends_at: end,
                    created_by: author.to_string(),
                    comment,
                },
                updated_at: now,
                actor: CONFIG_AUTHOR.into(),
                expired_by: None,
                replaced_by: None,
                // Pending even when already open: the next silence transition starts it,
                // marking what it matches, like any silence reaching its start.
                engine_state: SilenceState::Pending,
            });
        }
        for record in due {
            p.silence(record.clone());
            self.silences.insert(record);
        }
        Ok(())
    }

    /// Makes or deletes a runtime window. `conn` sees everything applied before it (the
    /// runner writes the batch so far first): an occurrence open now starts at once and
    /// reads the firing alerts it mutes.
    pub(crate) fn apply_maintenance(
        &mut self,
        config: &Config,
        c: &MaintenanceCommand,
        conn: &dyn EngineTx,
        p: &mut Pending<'_>,
    ) -> StoreResult<Result<(), CommandError>> {
        let conflict = |m: String| Ok(Err(CommandError::Conflict(m)));
        match &c.action {
            MaintenanceAction::Create { window, author } => {
                let id = window.name.clone();
                if config.maintenance_windows.iter().any(|w| w.name == id) {
                    return conflict(format!("the config has a maintenance window {id:?}"));
                }
                let row = WindowRow {
                    spec: window.clone(),
                    author: author.clone(),
                    created_at: c.at,
                    created_by: c.actor.clone(),
                    deleted_at: None,
                    deleted_by: None,
                };
                if !conn.insert_window(&row)? {
                    return conflict(format!("a maintenance window {id:?} exists already"));
                }
                let comment = window.comment.clone();
                if self.windows.add(row).is_none() {
                    return conflict(format!("maintenance window {id:?} does not parse"));
                }
                audit(conn, &id, c.at, &c.actor, "create", comment)?;
                self.schedule_maintenance(config, c.at, conn, p)?;
                if self.silences.next_due().is_some_and(|due| due <= c.at) {
                    self.silence_transitions(config, c.at, conn, p)?;
                }
                tracing::info!(window = %id, by = %c.actor, "maintenance window created");
                Ok(Ok(()))
            }
            MaintenanceAction::Delete { id, comment } => {
                if self.windows.live.remove(id).is_none() {
                    return conflict(format!("no live maintenance window {id:?}"));
                }
                conn.delete_window(id, c.at, &c.actor)?;
                audit(conn, id, c.at, &c.actor, "delete", comment.clone())?;
                // Its occurrence open now (or next) goes with it.
                let theirs = self.silences.ids_where(|s| window_of(s) == Some(id));
                for occurrence in theirs {
                    self.end_silence(config, &occurrence, c.at, &c.actor, None, conn, p)?;
                }
                tracing::info!(window = %id, by = %c.actor, "maintenance window deleted");
                Ok(Ok(()))
            }
        }
    }
}
