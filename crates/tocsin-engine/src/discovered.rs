//! The discovered services the engine has made (services alerts name that the catalog does
//! not have, see `tocsin_core::discovered`), loaded from the store at start. Their number is
//! capped: the names come from clients, and each one is a row, a line in the API and console,
//! and a service that grouping and correlation keep apart.

use std::collections::HashSet;
use tocsin_core::time::Millis;
use tocsin_store::engine::{EngineTx, StoreResult};

/// One warning a minute (of log time) while alerts keep naming new services beyond the cap.
const WARN_EVERY: Millis = 60_000;

#[derive(Default)]
pub struct Discovered {
    names: HashSet<String>,
    /// Alerts that named a new service beyond the cap since the runner last counted them.
    refused: u64,
    /// When the cap was last warned about.
    warned_at: Option<Millis>,
}

impl Discovered {
    pub fn load(conn: &dyn EngineTx) -> StoreResult<Discovered> {
        Ok(Discovered {
            names: conn
                .discovered_services()?
                .into_iter()
                .map(|r| r.id)
                .collect(),
            ..Discovered::default()
        })
    }

    /// Whether an alert naming `name` (seen at `at`) goes to a discovered service of that
    /// name: one exists, or there is room for one under `cap` (which it then is). Beyond the
    /// cap it is counted and warned about, and goes where the config puts it.
    pub fn admit(&mut self, name: &str, cap: usize, at: Millis) -> bool {
        if self.names.contains(name) {
            return true;
        }
        if self.names.len() < cap {
            self.names.insert(name.to_owned());
            return true;
        }
        self.refused += 1;
        if self
            .warned_at
            .is_none_or(|t| at.saturating_sub(t) >= WARN_EVERY)
        {
            self.warned_at = Some(at);
            tracing::warn!(
                service = name,
                cap,
                "alerts name more services than intake.max_discovered_services: this one goes to the default service"
            );
        }
        false
    }

    /// The refusals since the last call, for the metric.
    pub fn take_refused(&mut self) -> u64 {
        std::mem::take(&mut self.refused)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capped_but_known_names_stay_admitted() {
        let mut d = Discovered::default();
        assert!(d.admit("a", 2, 0));
        assert!(d.admit("b", 2, 0));
        assert!(!d.admit("c", 2, 0));
        assert!(!d.admit("d", 2, 10));
        assert!(d.admit("a", 2, 20));
        assert_eq!(d.take_refused(), 2);
        assert_eq!(d.take_refused(), 0);
        // Warned once in the minute.
        assert_eq!(d.warned_at, Some(0));
        assert!(!d.admit("e", 2, WARN_EVERY));
        assert_eq!(d.warned_at, Some(WARN_EVERY));
    }
}
