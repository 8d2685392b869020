//! The engine's in-memory index of alerts and incidents, rebuilt from SQLite at start.
//!
//! Memory per alert is what decides how many alerts one node holds, so an alert is an 8-byte
//! key and a 40-byte [`AlertState`]; everything textual stays in SQLite.

use crate::silences::SilenceIndex;
use std::collections::{BTreeSet, HashMap};
use tocsin_core::event::Status;
use tocsin_core::fingerprint::alert_key;
use tocsin_core::time::Millis;
use tocsin_store::engine::{AlertState, EngineTx, IncidentRecord, StoreResult};

#[derive(Default)]
pub struct Index {
    pub alerts: HashMap<u64, AlertState>,
    pub incidents: HashMap<i64, IncidentRecord>,
    /// Group key -> the open incident alerts of that group join.
    pub open_groups: HashMap<String, i64>,
    /// Alerts that resolve by themselves, by when.
    pub expiries: BTreeSet<(Millis, u64)>,
    pub next_alert_id: i64,
    pub next_incident_id: i64,
    pub next_history_seq: i64,
    pub alerts_firing: i64,
    /// Heartbeat integration -> its last ping.
    pub heartbeats: HashMap<String, Millis>,
    /// The silences that are pending or active.
    pub silences: SilenceIndex,
    /// Firing alerts muted by silences -> those silences' ids (sorted). Few alerts are, so
    /// this sits beside `alerts` rather than growing every alert's state.
    pub silenced: HashMap<u64, Vec<String>>,
    /// The inhibition rules' firing sources.
    pub inhibit: crate::inhibit::Inhibition,
    /// Firing alerts muted by inhibition rules -> the source alerts' ids (sorted), beside
    /// `alerts` for the same reason as `silenced`.
    pub inhibited: HashMap<u64, Vec<i64>>,
    /// The recent state changes of alerts that changed lately, and which of them flap.
    pub flaps: crate::flapping::Flaps,
    /// What topology correlation remembers of recent incidents and alerts.
    pub correlator: crate::correlation::Correlator,
    /// Incidents whose escalation is still moving.
    pub escalations: crate::paging::Escalations,
    /// The storm detector, the storms in progress and what they touched.
    pub storms: crate::storm::Storms,
    /// Open incidents' group_wait, group_interval and repeat_interval timers.
    pub group_timers: crate::group_timing::GroupTimers,
    /// The recurring maintenance windows made at run time.
    pub windows: crate::maintenance::RuntimeWindows,
    /// Alerts a person moved (merged or split) -> the open incident they moved them into,
    /// where their re-fires go back (see `regroup.rs`).
    pub moved: HashMap<u64, i64>,
    /// The services alerts named that the catalog does not have.
    pub discovered: crate::discovered::Discovered,
}

impl Index {
    pub fn load(conn: &dyn EngineTx) -> StoreResult<Index> {
        let mut index = Index::default();
        conn.load_alerts(&mut |source, dedup_key, a, silenced_by, inhibited_by| {
            let key = alert_key(source, dedup_key);
            if !silenced_by.is_empty() {
                index.silenced.insert(key, silenced_by);
            }
            if !inhibited_by.is_empty() {
                index.inhibited.insert(key, inhibited_by);
            }
            if a.status == Status::Firing {
                index.alerts_firing += 1;
                if a.ends_at != 0 {
                    index.expiries.insert((a.ends_at, key));
                }
            }
            index.alerts.insert(key, a);
        })?;
        conn.load_flaps(&mut |row| {
            let key = alert_key(&row.source, &row.dedup_key);
            index.flaps.restore(key, row);
        })?;
        conn.load_incidents(&mut |i| {
            if i.state.is_open() {
                index.open_groups.insert(i.group_key.clone(), i.id);
            }
            index.incidents.insert(i.id, i);
        })?;
        let (alert_max, incident_max) = conn.max_ids()?;
        index.next_alert_id = alert_max + 1;
        index.next_incident_id = incident_max + 1;
        index.next_history_seq = conn.next_history_seq()?;
        index.heartbeats = conn.load_heartbeats()?.into_iter().collect();
        index.escalations = crate::paging::Escalations::load(conn)?;
        index.storms = crate::storm::Storms::load(conn)?;
        index.group_timers = crate::group_timing::GroupTimers::load(conn)?;
        for s in conn.live_silences()? {
            index.silences.insert(s);
        }
        index.windows = crate::maintenance::RuntimeWindows::load(conn)?;
        index.discovered = crate::discovered::Discovered::load(conn)?;
        conn.load_moved(&mut |source, dedup_key, incident| {
            index.moved.insert(alert_key(source, dedup_key), incident);
        })?;
        Ok(index)
    }

    /// Moves an alert's expiry; `0` means none.
    pub fn set_expiry(&mut self, key: u64, old: Millis, new: Millis) {
        if old == new {
            return;
        }
        if old != 0 {
            self.expiries.remove(&(old, key));
        }
        if new != 0 {
            self.expiries.insert((new, key));
        }
    }
}
