//! The engine's side of the store, as a trait: what the engine loads at start, reads inside a
//! batch, and writes in the batch's one transaction. The engine names only this (and the row
//! types it re-exports), never a database, so a second backend implements the same trait.
//!
//! One object is one transaction ([`EngineBatch`]): every read sees the batch's own writes,
//! and nothing is visible to readers before [`EngineBatch::commit`]. Closures stand in for
//! iterators in the loads so that a backend streams rows instead of collecting them (the
//! alerts at start can be millions).

use crate::StoreError;
use tocsin_core::correlation::cofire::{KindStats, PairStats};
use tocsin_core::event::Event;
use tocsin_core::paging::Paged;
use tocsin_core::schedule::Override;
use tocsin_core::time::Millis;

pub use crate::sqlite::cofire::Learned;
pub use crate::sqlite::discovered::DiscoveredRow;
pub use crate::sqlite::group_timers::GroupTimerRow;
pub use crate::sqlite::maintenance::WindowRow;
pub use crate::sqlite::paging::{EscalationRow, NewNotification, NotificationRow};
pub use crate::sqlite::schedules::NewOverride;
pub use crate::sqlite::silence_audit::AuditLine;
pub use crate::sqlite::silences::{FiringAlert, SilenceRecord};
pub use crate::sqlite::state::{
    AlertPlace, AlertState, FiringRow, FlapRow, IncidentRecord, Muting,
};
pub use crate::sqlite::storms::StormRow;

pub type StoreResult<T> = std::result::Result<T, StoreError>;

/// What [`EngineTx::load_alerts`] calls with each alert: its source, dedup key and state, the
/// silences that mute it, and the source alerts that inhibit it.
pub type AlertVisitor<'a> = dyn FnMut(&str, &str, AlertState, Vec<String>, Vec<i64>) + 'a;

/// Opens the engine's transactions on one backend.
pub trait EngineStore: Send {
    /// Starts a batch: one transaction, committed by [`EngineBatch::commit`] and rolled back
    /// when dropped without it.
    fn begin(&mut self) -> StoreResult<Box<dyn EngineBatch + '_>>;

    /// Makes every committed batch durable (routine commits need not be: the event log is),
    /// before the log segments they came from are deleted.
    fn make_durable(&mut self) -> StoreResult<()>;
}

/// A batch's transaction: its reads and writes, then [`EngineBatch::commit`].
pub trait EngineBatch: EngineTx {
    fn commit(self: Box<Self>) -> StoreResult<()>;
}

/// Everything the engine does to the store inside a transaction.
pub trait EngineTx {
    // --- at start: the in-memory index, loaded once ---
    /// The last log entry applied.
    fn applied_lsn(&self) -> StoreResult<u64>;
    fn next_history_seq(&self) -> StoreResult<i64>;
    /// The highest alert and incident ids.
    fn max_ids(&self) -> StoreResult<(i64, i64)>;
    fn load_heartbeats(&self) -> StoreResult<Vec<(String, Millis)>>;
    /// Every alert.
    fn load_alerts(&self, f: &mut AlertVisitor<'_>) -> StoreResult<()>;
    fn load_flaps(&self, f: &mut dyn FnMut(FlapRow)) -> StoreResult<()>;
    fn load_incidents(&self, f: &mut dyn FnMut(IncidentRecord)) -> StoreResult<()>;
    /// The alerts that fired into incidents since `since`, oldest first.
    fn load_firings_since(&self, since: Millis, f: &mut dyn FnMut(FiringRow)) -> StoreResult<()>;
    fn last_history_at(&self) -> StoreResult<Millis>;
    /// Alerts people moved between incidents: source, dedup key, incident.
    fn load_moved(&self, f: &mut dyn FnMut(&str, &str, i64)) -> StoreResult<()>;
    fn load_learned(&self) -> StoreResult<Learned>;
    fn live_silences(&self) -> StoreResult<Vec<SilenceRecord>>;
    fn load_escalations(&self) -> StoreResult<Vec<EscalationRow>>;
    fn load_group_timers(&self) -> StoreResult<Vec<GroupTimerRow>>;
    fn active_storms(&self) -> StoreResult<Vec<StormRow>>;
    fn max_storm_id(&self) -> StoreResult<i64>;
    fn load_storm_rates(&self) -> StoreResult<Vec<(String, String)>>;
    fn storm_incidents(&self, storm_id: i64) -> StoreResult<Vec<(i64, bool)>>;
    fn maintenance_windows(&self, deleted: bool) -> StoreResult<Vec<WindowRow>>;
    fn discovered_services(&self) -> StoreResult<Vec<DiscoveredRow>>;

    // --- the batch's writes of alerts and incidents (see the engine's `pending.rs`) ---
    fn upsert_alert(
        &self,
        a: &AlertState,
        service: &str,
        host: Option<&str>,
        e: &Event,
        muting: Muting<'_>,
    ) -> StoreResult<()>;
    fn update_alert_state(
        &self,
        a: &AlertState,
        resolved_at: Option<Millis>,
        seen: Option<Millis>,
        muting: Muting<'_>,
    ) -> StoreResult<()>;
    fn alert_flaps(
        &self,
        alert_id: i64,
        changes: Option<&[Millis]>,
        flapping: bool,
    ) -> StoreResult<()>;
    fn heartbeat(&self, name: &str, last_ping: Millis) -> StoreResult<()>;
    fn alert_history(
        &self,
        alert_id: i64,
        seq: i64,
        episode: u32,
        incident_id: i64,
        kind: &str,
        at: Millis,
    ) -> StoreResult<()>;
    fn move_alert(&self, alert_id: i64, incident_id: i64) -> StoreResult<()>;
    fn upsert_incident(&self, i: &IncidentRecord) -> StoreResult<()>;
    fn timeline(
        &self,
        incident_id: i64,
        at: Millis,
        actor: &str,
        kind: &str,
        message: &str,
    ) -> StoreResult<()>;
    fn discovered_seen(&self, id: &str, first: Millis, last: Millis) -> StoreResult<()>;
    fn learned(
        &self,
        kinds: &[(u64, KindStats)],
        pairs: &[((u64, u64), PairStats)],
    ) -> StoreResult<()>;
    /// The log position this batch reached, and the next history number.
    fn set_progress(&self, lsn: u64, history_seq: i64) -> StoreResult<()>;

    // --- reads inside a batch ---
    fn alert_place(&self, id: i64) -> StoreResult<Option<AlertPlace>>;
    fn firing_alerts(&self) -> StoreResult<Vec<FiringAlert>>;
    fn firing_alert(&self, id: i64) -> StoreResult<Option<FiringAlert>>;

    // --- silences and maintenance windows ---
    fn silence(&self, id: &str) -> StoreResult<Option<SilenceRecord>>;
    fn upsert_silence(&self, s: &SilenceRecord) -> StoreResult<()>;
    fn silence_audit(&self, line: &AuditLine) -> StoreResult<()>;
    /// False when a window of that id exists.
    fn insert_window(&self, w: &WindowRow) -> StoreResult<bool>;
    /// False when there is no such live window.
    fn delete_window(&self, id: &str, at: Millis, by: &str) -> StoreResult<bool>;

    // --- schedules' overrides ---
    fn live_overrides(&self, schedule: &str, from: Millis) -> StoreResult<Vec<Override>>;
    fn insert_override(&self, o: &NewOverride<'_>) -> StoreResult<bool>;
    fn delete_override(&self, schedule: &str, id: i64, at: Millis, by: &str) -> StoreResult<bool>;

    // --- paging: escalations, the outbox ---
    fn escalation(&self, incident_id: i64) -> StoreResult<Option<EscalationRow>>;
    fn save_escalation(&self, e: &EscalationRow) -> StoreResult<()>;
    /// The team's round-robin turn, moved on.
    fn take_team_turn(&self, team: &str) -> StoreResult<i64>;
    fn insert_notification(&self, n: &NewNotification<'_>) -> StoreResult<i64>;
    /// Cancels an incident's pending pages; returns how many.
    fn cancel_notifications(&self, incident_id: i64, only_unacked_ones: bool)
        -> StoreResult<usize>;
    fn notification(&self, id: i64) -> StoreResult<Option<NotificationRow>>;
    fn user_notifications(
        &self,
        incident_id: i64,
        user: &str,
    ) -> StoreResult<Vec<(usize, i64, String, Millis)>>;
    fn bring_forward(&self, id: i64, at: Millis) -> StoreResult<()>;
    fn record_attempt(
        &self,
        id: i64,
        state: &str,
        retry_at: Option<Millis>,
        error: Option<&str>,
        at: Millis,
    ) -> StoreResult<()>;
    /// Who was paged for an incident, by which contact.
    fn paged_contacts(&self, incident_id: i64) -> StoreResult<Vec<Paged>>;
    fn save_group_timers(&self, t: &GroupTimerRow) -> StoreResult<()>;
    fn paged_people(&self, incident_id: i64, at: Millis) -> StoreResult<Vec<(String, usize)>>;
    fn last_page_at(&self, incident_id: i64) -> StoreResult<Option<Millis>>;
    fn escalation_level(&self, incident_id: i64) -> StoreResult<Option<(String, usize, String)>>;

    // --- storms ---
    fn save_storm(&self, s: &StormRow) -> StoreResult<()>;
    fn link_storm_incident(&self, storm_id: i64, incident_id: i64, held: bool) -> StoreResult<()>;
    fn save_storm_rate(&self, scope: &str, state: Option<&str>) -> StoreResult<()>;
    fn last_notification_id(&self) -> StoreResult<i64>;
    fn mark_storm_summaries(
        &self,
        incident_id: i64,
        after: i64,
        storm_id: i64,
        summary: i64,
    ) -> StoreResult<usize>;
}
