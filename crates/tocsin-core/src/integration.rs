//! The kinds of inbound integration a config can declare, and the rate limit each key gets.
//!
//! The list is the one table of integrations (ARCHITECTURE.md, "Registries, not
//! conditionals"): each kind names an adapter module in `tocsin-integrations`.

use crate::time::Millis;

/// The tool an integration receives from; decides which adapter reads its payloads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IntegrationKind {
    /// tocsin's own event format (`POST /api/v1/events`).
    Tocsin,
    /// Alertmanager API v2 alert list, as Prometheus posts it.
    Alertmanager,
    /// An existing Alertmanager's webhook receiver (`version` "4").
    AlertmanagerWebhook,
    Zabbix,
    /// Nagios 4 and Icinga 2 through the shipped forwarder.
    Nagios,
    OpenFalcon,
    Grafana,
    Nightingale,
    /// PagerDuty Events API v2.
    Pagerduty,
    Cloudevents,
    /// Any JSON, read through a field mapping in config.
    Webhook,
    /// A dead man's switch: pinged every interval, alerts when the pings stop.
    Heartbeat,
}

impl IntegrationKind {
    pub const ALL: [IntegrationKind; 12] = [
        IntegrationKind::Tocsin,
        IntegrationKind::Alertmanager,
        IntegrationKind::AlertmanagerWebhook,
        IntegrationKind::Zabbix,
        IntegrationKind::Nagios,
        IntegrationKind::OpenFalcon,
        IntegrationKind::Grafana,
        IntegrationKind::Nightingale,
        IntegrationKind::Pagerduty,
        IntegrationKind::Cloudevents,
        IntegrationKind::Webhook,
        IntegrationKind::Heartbeat,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            IntegrationKind::Tocsin => "tocsin",
            IntegrationKind::Alertmanager => "alertmanager",
            IntegrationKind::AlertmanagerWebhook => "alertmanager-webhook",
            IntegrationKind::Zabbix => "zabbix",
            IntegrationKind::Nagios => "nagios",
            IntegrationKind::OpenFalcon => "open-falcon",
            IntegrationKind::Grafana => "grafana",
            IntegrationKind::Nightingale => "nightingale",
            IntegrationKind::Pagerduty => "pagerduty",
            IntegrationKind::Cloudevents => "cloudevents",
            IntegrationKind::Webhook => "webhook",
            IntegrationKind::Heartbeat => "heartbeat",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == text)
    }
}

/// Requests a key may send: a token bucket of `burst` requests refilled at `per_second`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RateLimit {
    pub per_second: f64,
    pub burst: f64,
}

impl Default for RateLimit {
    /// Far above what one healthy tool sends (a Zabbix server sends one request per event),
    /// low enough that a runaway script cannot starve everyone else.
    fn default() -> Self {
        RateLimit {
            per_second: 200.0,
            burst: 2000.0,
        }
    }
}

/// A token bucket, as plain data so the decision is a pure function of time.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bucket {
    tokens: f64,
    updated: Millis,
}

impl Bucket {
    pub fn full(limit: RateLimit, now: Millis) -> Bucket {
        Bucket {
            tokens: limit.burst,
            updated: now,
        }
    }

    /// Takes one request's token at `now`; when there is none, says how many milliseconds
    /// until there will be.
    pub fn take(&mut self, limit: RateLimit, now: Millis) -> Result<(), Millis> {
        let elapsed = (now - self.updated).max(0) as f64 / 1000.0;
        self.tokens = (self.tokens + elapsed * limit.per_second).min(limit.burst);
        self.updated = now.max(self.updated);
        // The epsilon absorbs rounding in the refill sum, so a token that is due is there.
        if self.tokens >= 1.0 - 1e-9 {
            self.tokens = (self.tokens - 1.0).max(0.0);
            Ok(())
        } else {
            let wait = (1.0 - self.tokens) / limit.per_second * 1000.0;
            Err((wait - 1e-6).ceil().max(1.0) as Millis)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_round_trip() {
        for k in IntegrationKind::ALL {
            assert_eq!(IntegrationKind::parse(k.as_str()), Some(k));
        }
        assert_eq!(IntegrationKind::parse("zabix"), None);
    }

    #[test]
    fn bucket_allows_a_burst_then_the_rate() {
        let limit = RateLimit {
            per_second: 2.0,
            burst: 3.0,
        };
        let mut b = Bucket::full(limit, 0);
        for _ in 0..3 {
            assert_eq!(b.take(limit, 0), Ok(()));
        }
        assert_eq!(b.take(limit, 0), Err(500));
        assert_eq!(b.take(limit, 499), Err(1));
        assert_eq!(b.take(limit, 500), Ok(()));
        // A long pause refills no further than the burst.
        let mut n = 0;
        while b.take(limit, 60_000).is_ok() {
            n += 1;
        }
        assert_eq!(n, 3);
    }
}
