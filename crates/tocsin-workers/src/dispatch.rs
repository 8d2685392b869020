//! The dispatcher: sends the outbox's due notifications over their channels and reports
//! each outcome through the event log, where the engine records it (and falls back to the
//! person's next contact when one fails for good).
//!
//! I/O at the edge: the engine decided who hears what and when; this only delivers, as fast
//! as the channels allow. It is woken the moment the engine adds notifications, sends each
//! person's due notifications on one channel as one message (a storm is "7 new incidents",
//! not seven pages), keeps to each channel's messages a minute, and retries what a retry can
//! help with, backing off.

use crate::card::{card, follow_up};
use crate::context::Context;
use crate::deliveries::Attempt;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;
use tocsin_core::command::{DeliveryOutcome, DeliveryReport};
use tocsin_core::config::Config;
use tocsin_core::integration::{Bucket, RateLimit};
use tocsin_core::time::Millis;
use tocsin_notify::{
    channel_for, channel_with_templates, Message, MessageKind, Recipient, TemplateOverride,
};
use tocsin_store::log::{encode_entry, LogEntry};
use tocsin_store::sqlite::group_timers::joined_alerts;
use tocsin_store::sqlite::paging::{due_notifications, NotificationRow};
use tocsin_store::sqlite::queries::get_incident;

/// How often the outbox is looked at without a wake-up (retries coming due).
const POLL: Duration = Duration::from_millis(500);
/// Notifications taken per look.
const BATCH: usize = 500;
/// Sends in flight at once: a slow mail server must not hold up the phone calls.
const CONCURRENCY: usize = 32;
/// Waits before each retry, by attempts so far; after the last, it fails for good.
const BACKOFF_S: [u64; 5] = [10, 30, 60, 120, 300];
/// A notification sent but not yet recorded by the engine is not sent again within this.
const IN_FLIGHT_MS: Millis = 120_000;
/// A person gets at most this many phone calls (and twice as many texts) a quarter hour;
/// more wait and go out together, as one bundled message, when the window allows.
const CALLS_PER_QUARTER: usize = 3;
const QUARTER_MS: Millis = 15 * 60_000;

pub fn spawn(ctx: Arc<Context>, stop: Arc<tokio::sync::Notify>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(run(ctx, stop))
}

async fn run(ctx: Arc<Context>, stop: Arc<tokio::sync::Notify>) {
    let sends = Arc::new(tokio::sync::Semaphore::new(CONCURRENCY));
    let mut in_flight: HashMap<i64, Millis> = HashMap::new();
    let mut buckets: HashMap<String, Bucket> = HashMap::new();
    let mut calls: HashMap<(String, &'static str), Vec<Millis>> = HashMap::new();
    loop {
        tokio::select! {
            _ = ctx.stats.outbox.notified() => {}
            _ = tokio::time::sleep(POLL) => {}
            _ = stop.notified() => return,
        }
        let now = ctx.clock.now();
        let due = match ctx.read(move |c| due_notifications(c, now, BATCH)).await {
            Ok(d) => d,
            Err(error) => {
                tracing::warn!(%error, "the outbox could not be read");
                continue;
            }
        };
        let pending: HashSet<i64> = due.iter().map(|n| n.id).collect();
        in_flight.retain(|id, at| pending.contains(id) && now - *at < IN_FLIGHT_MS);
        let config = ctx.config.load_full();
        for group in groups(due.into_iter().filter(|n| !in_flight.contains_key(&n.id))) {
            let channel = group[0].channel.clone();
            if let Some(per_minute) = config
                .channels
                .iter()
                .find(|c| c.id == channel)
                .and_then(|c| c.per_minute)
            {
                let limit = RateLimit {
                    per_second: f64::from(per_minute) / 60.0,
                    burst: f64::from(per_minute),
                };
                let bucket = buckets
                    .entry(channel.clone())
                    .or_insert_with(|| Bucket::full(limit, now));
                if bucket.take(limit, now).is_err() {
                    // Over the channel's limit: it stays pending for a later look.
                    continue;
                }
            }
            if throttled(&mut calls, &group[0], now) {
                continue;
            }
            for n in &group {
                in_flight.insert(n.id, now);
            }
            let (ctx, config, permit) = (ctx.clone(), config.clone(), sends.clone());
            tokio::spawn(async move {
                let _permit = permit.acquire_owned().await;
                deliver(&ctx, &config, group).await;
            });
        }
    }
}

/// Whether this person has had their share of calls (or texts) this quarter hour; if not,
/// counts this send.
fn throttled(
    calls: &mut HashMap<(String, &'static str), Vec<Millis>>,
    n: &NotificationRow,
    now: Millis,
) -> bool {
    let (kind, limit) = match n.contact_type.as_str() {
        "voice" => ("voice", CALLS_PER_QUARTER),
        "sms" => ("sms", 2 * CALLS_PER_QUARTER),
        _ => return false,
    };
    let sent = calls.entry((n.user.clone(), kind)).or_default();
    sent.retain(|&t| now - t < QUARTER_MS);
    if sent.len() >= limit {
        return true;
    }
    sent.push(now);
    false
}

/// Due notifications to one person at one address on one channel, together.
fn groups(due: impl Iterator<Item = NotificationRow>) -> Vec<Vec<NotificationRow>> {
    let mut out: Vec<Vec<NotificationRow>> = Vec::new();
    let mut index: HashMap<(String, String, String, String), usize> = HashMap::new();
    for n in due {
        // Updates and repeats say something else than a page: they are not bundled with one.
        let key = (
            n.user.clone(),
            n.channel.clone(),
            n.address.clone(),
            n.kind.clone(),
        );
        match index.get(&key) {
            Some(&i) => out[i].push(n),
            None => {
                index.insert(key, out.len());
                out.push(vec![n]);
            }
        }
    }
    out
}

async fn deliver(ctx: &Context, config: &Arc<Config>, group: Vec<NotificationRow>) {
    let first = &group[0];
    let Some(spec) = config.channels.iter().find(|c| c.id == first.channel) else {
        let error = format!("channel {:?} is no longer in the config", first.channel);
        return report_all(ctx, &group, |_| DeliveryOutcome::Failed {
            error: error.clone(),
        })
        .await;
    };
    let Some(user) = config.user(&first.user) else {
        let error = format!("user {:?} is no longer in the config", first.user);
        return report_all(ctx, &group, |_| DeliveryOutcome::Failed {
            error: error.clone(),
        })
        .await;
    };
    let mut cards = Vec::new();
    let mut seen = HashSet::new();
    for n in &group {
        if !seen.insert(n.incident_id) {
            continue;
        }
        let id = n.incident_id;
        let urgency = {
            let matrix = config.priority.clone();
            move |s: &str| {
                tocsin_core::event::Severity::parse(s)
                    .map(|s| matrix.urgency_of(s).as_str().to_string())
                    .unwrap_or_default()
            }
        };
        if let Ok(Some(detail)) = ctx.read(move |c| get_incident(c, id, &urgency)).await {
            let mut card = card(ctx, config, &detail, user);
            card.follow_up = follow_up(config, n, &detail, user);
            if let Some(since) = n.since {
                let until = n.due_ms;
                card.new_alerts = ctx
                    .read(move |c| joined_alerts(c, id, since, until))
                    .await
                    .unwrap_or_default();
            }
            cards.push(card);
        }
    }
    if cards.is_empty() {
        return report_all(ctx, &group, |_| DeliveryOutcome::Failed {
            error: "the incident is gone".into(),
        })
        .await;
    }
    let escalated = group
        .iter()
        .any(|n| n.level.unwrap_or(0) > 0 || n.round.unwrap_or(0) > 0);
    let message = Message {
        kind: match first.kind.as_str() {
            "update" => MessageKind::Update,
            "repeat" => MessageKind::Reminder,
            "acknowledged" => MessageKind::Acknowledged,
            "resolved" => MessageKind::Resolved,
            _ if escalated => MessageKind::Escalated,
            _ => MessageKind::New,
        },
        incidents: cards,
        handoff: None,
        storm: None,
    };
    let message = crate::storm_message::with_summary(ctx, &group, message).await;
    let to = Recipient {
        user_id: user.id.clone(),
        name: user.name.clone(),
        language: user.language,
        address: first.address.clone(),
    };
    let channel = match &spec.template {
        None => channel_for(spec),
        Some(t) => {
            let over = TemplateOverride {
                title: t.title.clone(),
                text: t.text.clone(),
            };
            // Checked when the config loaded; a template that fails anyway falls back to
            // the built-in one rather than leave the page unsent.
            channel_with_templates(spec, &over).unwrap_or_else(|e| {
                tracing::warn!(channel = %spec.id, error = %e, "template refused; using the built-in one");
                channel_for(spec)
            })
        }
    };
    let result = channel.send(&to, &message).await;
    let now = ctx.clock.now();
    let kind = spec.settings.contact_type();
    match result {
        Ok(_) => {
            ctx.deliveries
                .record(now, &spec.id, kind, group.len(), Attempt::Sent);
            report_all(ctx, &group, |_| DeliveryOutcome::Sent).await
        }
        Err(e) => {
            let retried = group.iter().filter(|n| retry_wait(&e, n).is_some()).count();
            let error = &e.message;
            ctx.deliveries.record(
                now,
                &spec.id,
                kind,
                group.len(),
                Attempt::Failed { error, retried },
            );
            report_all(ctx, &group, |n| match retry_wait(&e, n) {
                Some(wait) => DeliveryOutcome::Retry {
                    retry_at: now + wait.as_millis() as Millis,
                    error: e.message.clone(),
                },
                None => DeliveryOutcome::Failed {
                    error: e.message.clone(),
                },
            })
            .await
        }
    }
}

/// How long to wait before trying a failed notification again; `None` when a retry cannot
/// help or its retries are used up.
fn retry_wait(e: &tocsin_notify::SendError, n: &NotificationRow) -> Option<Duration> {
    let attempt = n.attempts as usize;
    (e.retry && attempt < BACKOFF_S.len()).then(|| {
        e.retry_after
            .unwrap_or_default()
            .max(Duration::from_secs(BACKOFF_S[attempt]))
    })
}

/// Logs the outcome of each notification of a group; the engine applies them in order.
async fn report_all(
    ctx: &Context,
    group: &[NotificationRow],
    outcome: impl Fn(&NotificationRow) -> DeliveryOutcome,
) {
    let at = ctx.clock.now();
    for n in group {
        let entry = LogEntry::Delivery(DeliveryReport {
            notification_id: n.id,
            outcome: outcome(n),
            at,
        });
        if let Err(e) = ctx.writer.append(encode_entry(&entry), None).await {
            // Not logged: the notification stays pending and is sent again later, which is
            // better than a page that is never recorded.
            tracing::warn!(notification = n.id, error = %e, "a delivery report could not be logged");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(id: i64, user: &str, kind: &str) -> NotificationRow {
        NotificationRow {
            id,
            incident_id: id,
            user: user.into(),
            contact: 0,
            contact_type: kind.into(),
            address: "+1".into(),
            channel: kind.into(),
            level: Some(0),
            round: Some(0),
            reason: String::new(),
            due_ms: 0,
            due_at: String::new(),
            state: "pending".into(),
            attempts: 0,
            last_error: None,
            sent_at: None,
            kind: "page".into(),
            since: None,
            actor: None,
            comment: None,
            created_ms: 0,
        }
    }

    #[test]
    fn calls_are_throttled_per_person_per_quarter_hour() {
        let mut calls = HashMap::new();
        for i in 0..3 {
            assert!(!throttled(&mut calls, &row(i, "alice", "voice"), 1_000 * i));
        }
        assert!(throttled(&mut calls, &row(9, "alice", "voice"), 5_000));
        assert!(
            !throttled(&mut calls, &row(9, "bob", "voice"), 5_000),
            "per person"
        );
        assert!(
            !throttled(&mut calls, &row(9, "alice", "email"), 5_000),
            "mail is not a call"
        );
        assert!(!throttled(
            &mut calls,
            &row(9, "alice", "voice"),
            QUARTER_MS + 1
        ));
    }

    #[test]
    fn one_person_on_one_channel_is_one_message() {
        let due = vec![
            row(1, "alice", "sms"),
            row(2, "bob", "sms"),
            row(3, "alice", "sms"),
        ];
        let g = groups(due.into_iter());
        let ids: Vec<Vec<i64>> = g.iter().map(|g| g.iter().map(|n| n.id).collect()).collect();
        assert_eq!(ids, [vec![1, 3], vec![2]]);
    }
}
