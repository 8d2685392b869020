//! Recurring maintenance windows in the engine: each window's current (or next)
//! occurrence becomes a silence, `maintenance-NAME-START`, made by tocsin itself. From there
//! the silence machinery does the rest: it mutes what the window matches from its start,
//! lets it go at its end, and lists it with the other silences (Alertmanager API included).
//! Occurrences are derived from the config and the engine's time horizon, so a replay makes
//! the same ones.

use crate::index::Index;
use crate::pending::Pending;
use rusqlite::Connection;
use tocsin_core::config::Config;
use tocsin_core::silence::{SilenceSpec, SilenceState};
use tocsin_core::time::Millis;
use tocsin_store::sqlite::silences::{self, SilenceRecord};

impl Index {
    /// Makes sure every window's occurrence open at `now`, or next, is a silence.
    pub(crate) fn schedule_maintenance(
        &mut self,
        config: &Config,
        now: Millis,
        conn: &Connection,
        p: &mut Pending<'_>,
    ) -> rusqlite::Result<()> {
        for w in &config.maintenance_windows {
            let Some((start, end)) = w.occurrence(now) else {
                continue;
            };
            let id = format!("maintenance-{}-{start}", w.name);
            // Already made (live, or ended early by someone through the API).
            if self.silences.contains(&id) || silences::get(conn, &id)?.is_some() {
                continue;
            }
            let comment = if w.comment.is_empty() {
                format!("maintenance window {}", w.name)
            } else {
                format!("maintenance window {}: {}", w.name, w.comment)
            };
            let record = SilenceRecord {
                id,
                spec: SilenceSpec {
                    matchers: w.matchers.clone(),
                    starts_at: start,
                    ends_at: end,
                    created_by: "tocsin".into(),
                    comment,
                },
                updated_at: now,
                actor: "tocsin".into(),
                expired_by: None,
                replaced_by: None,
                // Pending even when already open: the next silence transition starts it,
                // marking what it matches, like any silence reaching its start.
                engine_state: SilenceState::Pending,
            };
            p.silence(record.clone());
            self.silences.insert(record);
        }
        Ok(())
    }
}
