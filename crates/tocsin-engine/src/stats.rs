//! Counters the engine keeps for `/metrics` and readiness.

use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use tocsin_core::incident::IncidentState;

#[derive(Debug, Default)]
pub struct EngineStats {
    pub alerts_firing: AtomicI64,
    pub alerts_total: AtomicI64,
    /// Indexed like [`IncidentState::ALL`].
    pub incidents: [AtomicI64; 4],
    pub applied_lsn: AtomicU64,
    pub events_applied: AtomicU64,
    /// Resolves for alerts that were not firing.
    pub events_ignored: AtomicU64,
    /// Alerts that named a new service beyond `intake.max_discovered_services`.
    pub discovered_refused: AtomicU64,
    /// Storms in progress.
    pub storms_active: AtomicI64,
    /// What correlation has learned: kinds of alert, and pairs of them seen together.
    pub correlation_kinds: AtomicI64,
    pub correlation_pairs: AtomicI64,
    /// Woken when the outbox gained notifications, so the dispatcher sends them at once.
    pub outbox: tokio::sync::Notify,
    /// Closed by the engine while the state store cannot be written: the log writer then
    /// refuses new entries, and readiness says why.
    pub gate: std::sync::Arc<tocsin_store::log::WriteGate>,
}

impl EngineStats {
    pub fn incidents_in(&self, state: IncidentState) -> i64 {
        self.incidents[state_index(state)].load(Ordering::Relaxed)
    }
}

pub(crate) fn state_index(state: IncidentState) -> usize {
    IncidentState::ALL
        .iter()
        .position(|s| *s == state)
        .expect("every state is in ALL")
}
