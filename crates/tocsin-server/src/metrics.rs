//! `/metrics` in the Prometheus text format.

use crate::state::AppState;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use tocsin_core::incident::IncidentState;
use tocsin_store::sqlite::paging::Backlog;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct SourceLabel {
    /// The integration that took the events in (`api`, `prometheus`, ...).
    pub source: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct StateLabel {
    pub state: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ReasonLabel {
    pub reason: &'static str,
}

/// One notification's outcome on a channel. Every value is bounded: channel ids come from
/// the config, types from the channel registry, outcomes are `sent` or `failed`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct NotificationLabels {
    pub channel: String,
    pub r#type: &'static str,
    pub outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ChannelLabel {
    pub channel: String,
}

/// Cheap to clone: every metric is a shared handle.
#[derive(Clone)]
pub struct Metrics {
    registry: Arc<Registry>,
    pub events_received: Family<SourceLabel, Counter>,
    pub intake_rejected: Family<ReasonLabel, Counter>,
    pub intake_seconds: Histogram,
    pub log_commit_seconds: Histogram,
    pub log_lsn: Gauge,
    applied_lsn: Gauge,
    alerts_firing: Gauge,
    storms_active: Gauge,
    correlation_kinds: Gauge,
    correlation_pairs: Gauge,
    alerts_total: Gauge,
    events_ignored: Gauge,
    incidents: Family<StateLabel, Gauge>,
    notifications: Family<NotificationLabels, Counter>,
    notification_retries: Family<ChannelLabel, Counter>,
    outbox_pending: Gauge,
    outbox_oldest_seconds: Gauge<f64, std::sync::atomic::AtomicU64>,
    discovered_refused: Gauge,
}

impl Metrics {
    pub fn new() -> Metrics {
        let mut r = Registry::default();
        let m = Metrics {
            registry: Arc::new(Registry::default()),
            events_received: Family::default(),
            intake_rejected: Family::default(),
            intake_seconds: Histogram::new(exponential_buckets(0.0001, 2.0, 18)),
            log_commit_seconds: Histogram::new(exponential_buckets(0.00005, 2.0, 18)),
            log_lsn: Gauge::default(),
            applied_lsn: Gauge::default(),
            alerts_firing: Gauge::default(),
            storms_active: Gauge::default(),
            correlation_kinds: Gauge::default(),
            correlation_pairs: Gauge::default(),
            alerts_total: Gauge::default(),
            events_ignored: Gauge::default(),
            incidents: Family::default(),
            notifications: Family::default(),
            notification_retries: Family::default(),
            outbox_pending: Gauge::default(),
            outbox_oldest_seconds: Gauge::default(),
            discovered_refused: Gauge::default(),
        };
        register_discovered(&mut r, &m);
        r.register(
            "tocsin_events_received",
            "Events accepted and made durable, by integration",
            m.events_received.clone(),
        );
        r.register(
            "tocsin_intake_rejected",
            "Intake requests refused, by reason",
            m.intake_rejected.clone(),
        );
        r.register(
            "tocsin_intake_duration_seconds",
            "Time from receiving an intake request to answering it",
            m.intake_seconds.clone(),
        );
        r.register(
            "tocsin_log_commit_duration_seconds",
            "Time of one event log write and fdatasync (one group commit)",
            m.log_commit_seconds.clone(),
        );
        r.register(
            "tocsin_log_lsn",
            "Last log sequence number made durable",
            m.log_lsn.clone(),
        );
        r.register(
            "tocsin_engine_applied_lsn",
            "Last log sequence number applied to the state store",
            m.applied_lsn.clone(),
        );
        r.register(
            "tocsin_alerts_active",
            "Alerts currently firing",
            m.alerts_firing.clone(),
        );
        r.register(
            "tocsin_storms_active",
            "Alert storms in progress (see docs/storms.md)",
            m.storms_active.clone(),
        );
        r.register(
            "tocsin_correlation_kinds",
            "Kinds of alert correlation has learned co-fire rates for",
            m.correlation_kinds.clone(),
        );
        r.register(
            "tocsin_correlation_pairs",
            "Pairs of alert kinds correlation has seen fire together or people split apart",
            m.correlation_pairs.clone(),
        );
        r.register(
            "tocsin_alerts",
            "Alerts known (firing or resolved)",
            m.alerts_total.clone(),
        );
        r.register(
            "tocsin_events_ignored",
            "Resolve events for alerts that were not firing",
            m.events_ignored.clone(),
        );
        r.register(
            "tocsin_incidents",
            "Incidents by state",
            m.incidents.clone(),
        );
        r.register(
            "tocsin_notifications",
            "Notifications delivery attempts were made for, by channel, channel type and outcome \
             (sent, failed); a failed one may be retried (see tocsin_notification_retries)",
            m.notifications.clone(),
        );
        r.register(
            "tocsin_notification_retries",
            "Failed notifications scheduled to be tried again, by channel",
            m.notification_retries.clone(),
        );
        r.register(
            "tocsin_outbox_pending",
            "Notifications due and not sent yet, or waiting for a retry",
            m.outbox_pending.clone(),
        );
        r.register(
            "tocsin_outbox_oldest_pending_seconds",
            "How long the oldest notification waiting in the outbox has waited (0 when none)",
            m.outbox_oldest_seconds.clone(),
        );
        Metrics {
            registry: Arc::new(r),
            ..m
        }
    }

    /// Renders every metric, reading the engine's counters and the outbox's backlog (read
    /// from the store just before) at this moment.
    pub fn render(&self, state: &AppState, outbox: Backlog) -> String {
        let now = state.clock.now();
        self.outbox_pending.set(outbox.waiting);
        self.outbox_oldest_seconds.set(
            outbox
                .oldest
                .map_or(0.0, |t| (now - t).max(0) as f64 / 1000.0),
        );
        let s = &state.stats;
        self.applied_lsn
            .set(s.applied_lsn.load(Ordering::Relaxed) as i64);
        self.alerts_firing
            .set(s.alerts_firing.load(Ordering::Relaxed));
        self.storms_active
            .set(s.storms_active.load(Ordering::Relaxed));
        self.correlation_kinds
            .set(s.correlation_kinds.load(Ordering::Relaxed));
        self.correlation_pairs
            .set(s.correlation_pairs.load(Ordering::Relaxed));
        self.alerts_total
            .set(s.alerts_total.load(Ordering::Relaxed));
        self.events_ignored
            .set(s.events_ignored.load(Ordering::Relaxed) as i64);
        self.discovered_refused
            .set(s.discovered_refused.load(Ordering::Relaxed) as i64);
        for st in IncidentState::ALL {
            self.incidents
                .get_or_create(&StateLabel { state: st.as_str() })
                .set(s.incidents_in(st));
        }
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &self.registry)
            .expect("writing to a String cannot fail");
        out
    }
}

/// The workers count each delivery attempt here.
impl tocsin_workers::DeliveryMetrics for Metrics {
    fn notification(
        &self,
        channel: &str,
        kind: &'static str,
        outcome: &'static str,
        notifications: usize,
        retried: usize,
    ) {
        self.notifications
            .get_or_create(&NotificationLabels {
                channel: channel.to_string(),
                r#type: kind,
                outcome,
            })
            .inc_by(notifications as u64);
        if retried > 0 {
            self.notification_retries
                .get_or_create(&ChannelLabel {
                    channel: channel.to_string(),
                })
                .inc_by(retried as u64);
        }
    }
}

/// Services discovered in alerts (docs/correlation.md): how many alerts named a new one
/// beyond the cap and went to the default service instead.
fn register_discovered(r: &mut Registry, m: &Metrics) {
    r.register(
        "tocsin_discovered_services_refused",
        "Alerts that named a new service beyond intake.max_discovered_services (they went to the default service)",
        m.discovered_refused.clone(),
    );
}
