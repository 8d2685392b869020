//! [`EngineStore`] on SQLite: one writer connection, a batch per transaction, each method
//! one of this module's queries.

use super::state::BatchWriter;
use super::{
    cofire, discovered, group_timers, maintenance, paging, schedules, silence_audit, silences,
    state, storms,
};
use crate::engine::*;
use rusqlite::{Connection, Transaction};
use std::path::Path;
use tocsin_core::correlation::cofire::{KindStats, PairStats};
use tocsin_core::event::Event;
use tocsin_core::paging::Paged;
use tocsin_core::schedule::Override;
use tocsin_core::time::Millis;

/// The engine's connection to the SQLite store.
pub struct SqliteEngineStore {
    conn: Connection,
}

impl SqliteEngineStore {
    /// Opens (creating and migrating) the store at `path`; see [`super::open_writer`].
    pub fn open(path: &Path) -> StoreResult<SqliteEngineStore> {
        Ok(SqliteEngineStore {
            conn: super::open_writer(path)?,
        })
    }
}

impl EngineStore for SqliteEngineStore {
    fn begin(&mut self) -> StoreResult<Box<dyn EngineBatch + '_>> {
        Ok(Box::new(SqliteBatch(self.conn.transaction()?)))
    }

    fn make_durable(&mut self) -> StoreResult<()> {
        // Routine commits run with synchronous=NORMAL (see `open_writer`); a commit under
        // FULL syncs the write-ahead log, and with it every commit before.
        self.conn.execute_batch(
            "PRAGMA synchronous=FULL; BEGIN IMMEDIATE;
             UPDATE meta SET value = value WHERE key = 'applied_lsn';
             COMMIT; PRAGMA synchronous=NORMAL;",
        )?;
        Ok(())
    }
}

struct SqliteBatch<'c>(Transaction<'c>);

impl SqliteBatch<'_> {
    fn w(&self) -> BatchWriter<'_, '_> {
        BatchWriter::new(&self.0)
    }
}

impl EngineBatch for SqliteBatch<'_> {
    fn commit(self: Box<Self>) -> StoreResult<()> {
        self.0.commit()?;
        Ok(())
    }
}

impl EngineTx for SqliteBatch<'_> {
    fn applied_lsn(&self) -> StoreResult<u64> {
        Ok(state::applied_lsn(&self.0)?)
    }
    fn next_history_seq(&self) -> StoreResult<i64> {
        Ok(state::next_history_seq(&self.0)?)
    }
    fn max_ids(&self) -> StoreResult<(i64, i64)> {
        Ok(state::max_ids(&self.0)?)
    }
    fn load_heartbeats(&self) -> StoreResult<Vec<(String, Millis)>> {
        Ok(state::load_heartbeats(&self.0)?)
    }
    fn load_alerts(&self, f: &mut AlertVisitor<'_>) -> StoreResult<()> {
        Ok(state::load_alerts(&self.0, f)?)
    }
    fn load_flaps(&self, f: &mut dyn FnMut(FlapRow)) -> StoreResult<()> {
        Ok(state::load_flaps(&self.0, f)?)
    }
    fn load_incidents(&self, f: &mut dyn FnMut(IncidentRecord)) -> StoreResult<()> {
        Ok(state::load_incidents(&self.0, f)?)
    }
    fn load_firings_since(&self, since: Millis, f: &mut dyn FnMut(FiringRow)) -> StoreResult<()> {
        Ok(state::load_firings_since(&self.0, since, f)?)
    }
    fn last_history_at(&self) -> StoreResult<Millis> {
        Ok(state::last_history_at(&self.0)?)
    }
    fn load_moved(&self, f: &mut dyn FnMut(&str, &str, i64)) -> StoreResult<()> {
        Ok(state::load_moved(&self.0, f)?)
    }
    fn load_learned(&self) -> StoreResult<Learned> {
        Ok(cofire::load(&self.0)?)
    }
    fn live_silences(&self) -> StoreResult<Vec<SilenceRecord>> {
        Ok(silences::load_live(&self.0)?)
    }
    fn load_escalations(&self) -> StoreResult<Vec<EscalationRow>> {
        Ok(paging::load_escalations(&self.0)?)
    }
    fn load_group_timers(&self) -> StoreResult<Vec<GroupTimerRow>> {
        Ok(group_timers::load(&self.0)?)
    }
    fn active_storms(&self) -> StoreResult<Vec<StormRow>> {
        Ok(storms::load_active(&self.0)?)
    }
    fn max_storm_id(&self) -> StoreResult<i64> {
        Ok(storms::max_id(&self.0)?)
    }
    fn load_storm_rates(&self) -> StoreResult<Vec<(String, String)>> {
        Ok(storms::load_rates(&self.0)?)
    }
    fn storm_incidents(&self, storm_id: i64) -> StoreResult<Vec<(i64, bool)>> {
        Ok(storms::incidents_of(&self.0, storm_id)?)
    }
    fn maintenance_windows(&self, deleted: bool) -> StoreResult<Vec<WindowRow>> {
        Ok(maintenance::list(&self.0, deleted)?)
    }
    fn discovered_services(&self) -> StoreResult<Vec<DiscoveredRow>> {
        Ok(discovered::list(&self.0)?)
    }

    fn upsert_alert(
        &self,
        a: &AlertState,
        service: &str,
        host: Option<&str>,
        e: &Event,
        muting: Muting<'_>,
    ) -> StoreResult<()> {
        Ok(self.w().upsert_alert(a, service, host, e, muting)?)
    }
    fn update_alert_state(
        &self,
        a: &AlertState,
        resolved_at: Option<Millis>,
        seen: Option<Millis>,
        muting: Muting<'_>,
    ) -> StoreResult<()> {
        Ok(self.w().update_alert_state(a, resolved_at, seen, muting)?)
    }
    fn alert_flaps(
        &self,
        alert_id: i64,
        changes: Option<&[Millis]>,
        flapping: bool,
    ) -> StoreResult<()> {
        Ok(self.w().alert_flaps(alert_id, changes, flapping)?)
    }
    fn heartbeat(&self, name: &str, last_ping: Millis) -> StoreResult<()> {
        Ok(self.w().heartbeat(name, last_ping)?)
    }
    fn alert_history(
        &self,
        alert_id: i64,
        seq: i64,
        episode: u32,
        incident_id: i64,
        kind: &str,
        at: Millis,
    ) -> StoreResult<()> {
        Ok(self
            .w()
            .alert_history(alert_id, seq, episode, incident_id, kind, at)?)
    }
    fn move_alert(&self, alert_id: i64, incident_id: i64) -> StoreResult<()> {
        Ok(self.w().move_alert(alert_id, incident_id)?)
    }
    fn upsert_incident(&self, i: &IncidentRecord) -> StoreResult<()> {
        Ok(self.w().upsert_incident(i)?)
    }
    fn timeline(
        &self,
        incident_id: i64,
        at: Millis,
        actor: &str,
        kind: &str,
        message: &str,
    ) -> StoreResult<()> {
        Ok(self.w().timeline(incident_id, at, actor, kind, message)?)
    }
    fn discovered_seen(&self, id: &str, first: Millis, last: Millis) -> StoreResult<()> {
        Ok(self.w().discovered_seen(id, first, last)?)
    }
    fn learned(
        &self,
        kinds: &[(u64, KindStats)],
        pairs: &[((u64, u64), PairStats)],
    ) -> StoreResult<()> {
        Ok(self.w().learned(kinds, pairs)?)
    }
    fn set_progress(&self, lsn: u64, history_seq: i64) -> StoreResult<()> {
        Ok(self.w().set_progress(lsn, history_seq)?)
    }

    fn alert_place(&self, id: i64) -> StoreResult<Option<AlertPlace>> {
        Ok(state::alert_place(&self.0, id)?)
    }
    fn firing_alerts(&self) -> StoreResult<Vec<FiringAlert>> {
        Ok(silences::firing_alerts(&self.0)?)
    }
    fn firing_alert(&self, id: i64) -> StoreResult<Option<FiringAlert>> {
        Ok(silences::alert_by_id(&self.0, id)?)
    }

    fn silence(&self, id: &str) -> StoreResult<Option<SilenceRecord>> {
        Ok(silences::get(&self.0, id)?)
    }
    fn upsert_silence(&self, s: &SilenceRecord) -> StoreResult<()> {
        Ok(self.w().upsert_silence(s)?)
    }
    fn silence_audit(&self, line: &AuditLine) -> StoreResult<()> {
        Ok(silence_audit::record(&self.0, line)?)
    }
    fn insert_window(&self, w: &WindowRow) -> StoreResult<bool> {
        Ok(maintenance::insert(&self.0, w)?)
    }
    fn delete_window(&self, id: &str, at: Millis, by: &str) -> StoreResult<bool> {
        Ok(maintenance::mark_deleted(&self.0, id, at, by)?)
    }

    fn live_overrides(&self, schedule: &str, from: Millis) -> StoreResult<Vec<Override>> {
        Ok(schedules::live_overrides(&self.0, schedule, from)?)
    }
    fn insert_override(&self, o: &NewOverride<'_>) -> StoreResult<bool> {
        Ok(schedules::insert_override(&self.0, o)?)
    }
    fn delete_override(&self, schedule: &str, id: i64, at: Millis, by: &str) -> StoreResult<bool> {
        Ok(schedules::delete_override(&self.0, schedule, id, at, by)?)
    }

    fn escalation(&self, incident_id: i64) -> StoreResult<Option<EscalationRow>> {
        Ok(paging::escalation(&self.0, incident_id)?)
    }
    fn save_escalation(&self, e: &EscalationRow) -> StoreResult<()> {
        Ok(paging::save_escalation(&self.0, e)?)
    }
    fn take_team_turn(&self, team: &str) -> StoreResult<i64> {
        Ok(paging::take_team_turn(&self.0, team)?)
    }
    fn insert_notification(&self, n: &NewNotification<'_>) -> StoreResult<i64> {
        Ok(paging::insert_notification(&self.0, n)?)
    }
    fn cancel_notifications(
        &self,
        incident_id: i64,
        only_unacked_ones: bool,
    ) -> StoreResult<usize> {
        Ok(paging::cancel_notifications(
            &self.0,
            incident_id,
            only_unacked_ones,
        )?)
    }
    fn notification(&self, id: i64) -> StoreResult<Option<NotificationRow>> {
        Ok(paging::notification(&self.0, id)?)
    }
    fn user_notifications(
        &self,
        incident_id: i64,
        user: &str,
    ) -> StoreResult<Vec<(usize, i64, String, Millis)>> {
        Ok(paging::user_notifications(&self.0, incident_id, user)?)
    }
    fn bring_forward(&self, id: i64, at: Millis) -> StoreResult<()> {
        Ok(paging::bring_forward(&self.0, id, at)?)
    }
    fn record_attempt(
        &self,
        id: i64,
        state: &str,
        retry_at: Option<Millis>,
        error: Option<&str>,
        at: Millis,
    ) -> StoreResult<()> {
        Ok(paging::record_attempt(
            &self.0, id, state, retry_at, error, at,
        )?)
    }
    fn paged_contacts(&self, incident_id: i64) -> StoreResult<Vec<Paged>> {
        Ok(paging::paged_contacts(&self.0, incident_id)?)
    }
    fn save_group_timers(&self, t: &GroupTimerRow) -> StoreResult<()> {
        Ok(group_timers::save(&self.0, t)?)
    }
    fn paged_people(&self, incident_id: i64, at: Millis) -> StoreResult<Vec<(String, usize)>> {
        Ok(group_timers::paged_people(&self.0, incident_id, at)?)
    }
    fn last_page_at(&self, incident_id: i64) -> StoreResult<Option<Millis>> {
        Ok(group_timers::last_page_at(&self.0, incident_id)?)
    }
    fn escalation_level(&self, incident_id: i64) -> StoreResult<Option<(String, usize, String)>> {
        Ok(group_timers::escalation_level(&self.0, incident_id)?)
    }

    fn save_storm(&self, s: &StormRow) -> StoreResult<()> {
        Ok(storms::save_storm(&self.0, s)?)
    }
    fn link_storm_incident(&self, storm_id: i64, incident_id: i64, held: bool) -> StoreResult<()> {
        Ok(storms::link_incident(&self.0, storm_id, incident_id, held)?)
    }
    fn save_storm_rate(&self, scope: &str, state: Option<&str>) -> StoreResult<()> {
        Ok(storms::save_rate(&self.0, scope, state)?)
    }
    fn last_notification_id(&self) -> StoreResult<i64> {
        Ok(storms::last_notification_id(&self.0)?)
    }
    fn mark_storm_summaries(
        &self,
        incident_id: i64,
        after: i64,
        storm_id: i64,
        summary: i64,
    ) -> StoreResult<usize> {
        Ok(storms::mark_summaries(
            &self.0,
            incident_id,
            after,
            storm_id,
            summary,
        )?)
    }
}
