//! Heartbeat monitors: each ping is remembered; when a heartbeat integration's interval
//! passes without one, the engine raises its alert itself, and the next ping resolves it.
//!
//! Monitoring starts with the first ping, so a heartbeat added to the config does not page
//! before the job it watches has ever run.

use crate::apply::HEARTBEAT;
use crate::index::Index;
use crate::pending::Pending;
use std::collections::BTreeMap;
use tocsin_core::config::Config;
use tocsin_core::event::{Event, Severity, Status};
use tocsin_core::fingerprint::alert_key;
use tocsin_core::integration::IntegrationKind;
use tocsin_core::time::{to_rfc3339, Millis};

impl Index {
    /// Records a ping; tells whether it was one (a heartbeat event through its integration).
    pub(crate) fn heartbeat_ping<'b>(&mut self, e: &'b Event, p: &mut Pending<'b>) -> bool {
        if e.integration.is_empty() || e.status != Status::Resolved {
            return false;
        }
        let last = self.heartbeats.entry(e.integration.clone()).or_insert(0);
        *last = (*last).max(e.received_at);
        p.heartbeat(&e.integration, e.received_at);
        true
    }

    /// When the next heartbeat runs out, if one is watched and not firing.
    pub(crate) fn next_heartbeat_due(&self, config: &Config) -> Option<Millis> {
        self.watched(config)
            .filter(|&(name, _)| !self.heartbeat_firing(name))
            .map(|(_, due)| due)
            .min()
    }

    /// Each pinged heartbeat integration with the instant its interval runs out.
    fn watched<'c>(&'c self, config: &'c Config) -> impl Iterator<Item = (&'c str, Millis)> {
        config
            .integrations
            .iter()
            .filter_map(|i| match (i.kind, i.interval) {
                (IntegrationKind::Heartbeat, Some(interval)) => self
                    .heartbeats
                    .get(&i.name)
                    .map(|&last| (i.name.as_str(), last + interval)),
                _ => None,
            })
    }

    fn heartbeat_firing(&self, name: &str) -> bool {
        self.alerts
            .get(&alert_key(HEARTBEAT, name))
            .is_some_and(|a| a.status == Status::Firing)
    }

    /// The alerts of heartbeats whose interval has passed by `now` without a ping and that
    /// are not firing already. Each is raised at the instant its interval ran out, so a
    /// replay raises it at the same time as the live run did.
    pub(crate) fn missed_heartbeats(&self, config: &Config, now: Millis) -> Vec<Event> {
        let mut missed = Vec::new();
        for (name, due) in self.watched(config) {
            if due > now || self.heartbeat_firing(name) {
                continue;
            }
            let last = self.heartbeats[name];
            let interval = human(due - last);
            missed.push(Event {
                source: HEARTBEAT.into(),
                integration: name.into(),
                dedup_key: name.into(),
                status: Status::Firing,
                severity: Severity::Critical,
                name: format!("Heartbeat {name}"),
                summary: format!("No heartbeat from {name} for {interval}"),
                description: format!(
                    "The last ping arrived at {}; one was expected at least every {interval}.",
                    to_rfc3339(last),
                ),
                service: None,
                labels: BTreeMap::from([("heartbeat".to_string(), name.to_string())]),
                links: Vec::new(),
                occurred_at: due,
                received_at: due,
                ends_at: None,
            });
        }
        missed.extend(self.orphaned_heartbeats(config, now));
        missed
    }

    /// Resolves for firing heartbeat alerts whose integration left the config: no ping can
    /// reach them any more. (Without an integration name they are not taken for pings.)
    fn orphaned_heartbeats(&self, config: &Config, now: Millis) -> Vec<Event> {
        let watched = |name: &str| {
            config
                .integration(name)
                .is_some_and(|i| i.kind == IntegrationKind::Heartbeat)
        };
        let mut names: Vec<&String> = self
            .heartbeats
            .keys()
            .filter(|n| !watched(n) && self.heartbeat_firing(n))
            .collect();
        names.sort();
        names
            .into_iter()
            .map(|name| Event {
                source: HEARTBEAT.into(),
                integration: String::new(),
                dedup_key: name.clone(),
                status: Status::Resolved,
                severity: Severity::Critical,
                name: format!("Heartbeat {name}"),
                summary: format!("Heartbeat {name} was removed from the config"),
                description: String::new(),
                service: None,
                labels: BTreeMap::new(),
                links: Vec::new(),
                occurred_at: now,
                received_at: now,
                ends_at: None,
            })
            .collect()
    }
}

/// `300000` -> `5m`, `5400000` -> `1h30m`.
fn human(ms: Millis) -> String {
    let s = ms / 1000;
    let (h, m, sec) = (s / 3600, s / 60 % 60, s % 60);
    let mut out = String::new();
    for (n, unit) in [(h, "h"), (m, "m"), (sec, "s")] {
        if n > 0 {
            out.push_str(&format!("{n}{unit}"));
        }
    }
    if out.is_empty() {
        out.push_str("0s");
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn durations_read_like_config() {
        assert_eq!(super::human(300_000), "5m");
        assert_eq!(super::human(5_400_000), "1h30m");
        assert_eq!(super::human(90_000), "1m30s");
    }
}
