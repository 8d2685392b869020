//! Heartbeat monitors (dead man's switch): any request to the integration's URL is a ping.
//! The body is not read, so anything can ping: `curl`, a cron job, or Alertmanager's
//! Watchdog route posting its webhook. The engine raises the alert when pings stop.

use crate::{Adapter, Inbound, IntakeContext, IntakeError};
use std::collections::BTreeMap;
use tocsin_core::event::{Event, Severity, Status};

pub struct Heartbeat;

/// The `source` of heartbeat events; the engine watches these.
pub const SOURCE: &str = "heartbeat";

impl Adapter for Heartbeat {
    fn name(&self) -> &'static str {
        SOURCE
    }

    fn read(&self, _req: &Inbound<'_>, ctx: &IntakeContext<'_>) -> Result<Vec<Event>, IntakeError> {
        if ctx.integration.is_empty() {
            return Err(IntakeError(
                "a heartbeat is pinged through its integration's URL".into(),
            ));
        }
        Ok(vec![ping(ctx.integration, ctx.now)])
    }
}

/// A ping: the heartbeat is alive. Its identity is the integration name.
pub fn ping(integration: &str, now: tocsin_core::time::Millis) -> Event {
    Event {
        source: SOURCE.into(),
        integration: integration.into(),
        dedup_key: integration.into(),
        status: Status::Resolved,
        severity: Severity::Critical,
        name: format!("Heartbeat {integration}"),
        summary: format!("Heartbeat {integration} is alive again"),
        description: String::new(),
        service: None,
        labels: BTreeMap::from([("heartbeat".to_string(), integration.to_string())]),
        links: Vec::new(),
        occurred_at: now,
        received_at: now,
        ends_at: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn any_request_is_a_ping_of_its_integration() {
        let ctx = IntakeContext {
            integration: "nightly-backup",
            ..crate::testing::context(1)
        };
        let events = Heartbeat
            .parse(&Inbound::json(b"\xff not json"), &ctx)
            .unwrap();
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].dedup_key, "nightly-backup");
        assert_eq!(events[0].status, Status::Resolved);
        assert!(Heartbeat
            .parse(&Inbound::json(b""), &crate::testing::context(1))
            .is_err());
    }
}
