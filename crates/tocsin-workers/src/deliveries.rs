//! Every delivery attempt, seen from outside: counted in `/metrics`, kept as its channel's
//! health (for the console's banner and the API) and logged as that health says: a warning
//! when a channel starts failing, at most one per five minutes after that, and a line when
//! it delivers again. Before this a wrong robot secret failed every page without a word.

use std::sync::{Arc, Mutex};
use tocsin_core::config::Config;
use tocsin_core::delivery_health::{ChannelHealth, FailingChannel, Notice};
use tocsin_core::time::{to_rfc3339, Millis};

/// What one attempt on a channel did, for the notifications it carried.
pub(crate) enum Attempt<'a> {
    Sent,
    /// `retried` of the notifications are tried again later; the rest failed for good.
    Failed {
        error: &'a str,
        retried: usize,
    },
}

/// Where delivery attempts are counted: the server's `/metrics`.
pub trait DeliveryMetrics: Send + Sync {
    /// Counts the `notifications` one attempt over `channel` (of type `kind`) carried, with
    /// its `outcome` (`sent` or `failed`), and those of them that are tried again.
    fn notification(
        &self,
        channel: &str,
        kind: &'static str,
        outcome: &'static str,
        notifications: usize,
        retried: usize,
    );
}

/// The channels' health, shared by the dispatcher, the reminders and the pages.
pub struct Deliveries {
    health: Mutex<ChannelHealth>,
    metrics: Arc<dyn DeliveryMetrics>,
}

impl Deliveries {
    pub fn new(metrics: Arc<dyn DeliveryMetrics>) -> Deliveries {
        Deliveries {
            health: Mutex::default(),
            metrics,
        }
    }

    /// The channels of this config whose last delivery attempt failed (one taken out of
    /// the config pages nobody any more).
    pub fn failing(&self, config: &Config) -> Vec<FailingChannel> {
        let mut failing = self.health.lock().expect("channel health lock").failing();
        failing.retain(|f| config.channels.iter().any(|c| c.id == f.channel));
        failing
    }

    /// Records an attempt over `channel` (of type `kind`) that carried `notifications`,
    /// made at `now`.
    pub(crate) fn record(
        &self,
        now: Millis,
        channel: &str,
        kind: &'static str,
        notifications: usize,
        attempt: Attempt<'_>,
    ) {
        let notice = {
            let mut health = self.health.lock().expect("channel health lock");
            match attempt {
                Attempt::Sent => health.sent(channel),
                Attempt::Failed { error, .. } => health.failed(channel, kind, error, now),
            }
        };
        let (outcome, retried) = match attempt {
            Attempt::Sent => ("sent", 0),
            Attempt::Failed { retried, .. } => ("failed", retried),
        };
        self.metrics
            .notification(channel, kind, outcome, notifications, retried);
        log(notice);
    }
}

/// Says what a change in a channel's health means.
fn log(notice: Option<Notice>) {
    match notice {
        Some(Notice::Failing {
            channel: c,
            failures,
        }) => tracing::warn!(
            channel = %c.channel,
            channel_type = %c.kind,
            error = ?c.last_error,
            failures_since_last_warning = failures,
            failing_since = %to_rfc3339(c.since),
            "a notification channel is failing: messages over it are not getting through \
             (warned at most once per channel every 5 minutes)"
        ),
        Some(Notice::Recovered {
            channel,
            kind,
            since,
            failures,
        }) => tracing::info!(
            channel = %channel,
            channel_type = %kind,
            failed_attempts = failures,
            failing_since = %to_rfc3339(since),
            "a notification channel delivers again"
        ),
        None => {}
    }
}
