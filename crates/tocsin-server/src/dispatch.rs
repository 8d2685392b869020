//! The dispatcher: sends the outbox's due notifications over their channels and reports
//! each outcome through the event log, where the engine records it (and falls back to the
//! person's next contact when one fails for good).
//!
//! I/O at the edge: the engine decided who hears what and when; this only delivers, as fast
//! as the channels allow. It is woken the moment the engine adds notifications, sends each
//! person's due notifications on one channel as one message (a storm is "7 new incidents",
//! not seven pages), keeps to each channel's messages a minute, and retries what a retry can
//! help with, backing off.

use crate::deliveries::Attempt;
use crate::routes::act::link_url;
use crate::state::SharedState;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;
use tocsin_core::command::{DeliveryOutcome, DeliveryReport};
use tocsin_core::config::Config;
use tocsin_core::integration::{Bucket, RateLimit};
use tocsin_core::links::LinkAction;
use tocsin_core::paging::{acting_user, FollowUpKind};
use tocsin_core::time::Millis;
use tocsin_notify::{
    channel_for, channel_with_templates, FollowUp, IncidentCard, Message, MessageKind, Recipient,
    TemplateOverride,
};
use tocsin_store::log::{encode_entry, LogEntry};
use tocsin_store::sqlite::group_timers::joined_alerts;
use tocsin_store::sqlite::paging::{due_notifications, NotificationRow};
use tocsin_store::sqlite::queries::get_incident;
use tocsin_store::sqlite::rows::{AlertRow, IncidentDetail};

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

pub fn spawn(state: SharedState, stop: Arc<tokio::sync::Notify>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(run(state, stop))
}

async fn run(state: SharedState, stop: Arc<tokio::sync::Notify>) {
    let sends = Arc::new(tokio::sync::Semaphore::new(CONCURRENCY));
    let mut in_flight: HashMap<i64, Millis> = HashMap::new();
    let mut buckets: HashMap<String, Bucket> = HashMap::new();
    let mut calls: HashMap<(String, &'static str), Vec<Millis>> = HashMap::new();
    loop {
        tokio::select! {
            _ = state.stats.outbox.notified() => {}
            _ = tokio::time::sleep(POLL) => {}
            _ = stop.notified() => return,
        }
        let now = state.clock.now();
        let due = match crate::routes::read(&state, move |c| due_notifications(c, now, BATCH)).await
        {
            Ok(d) => d,
            Err(e) => {
                tracing::warn!(error = %e.message, "the outbox could not be read");
                continue;
            }
        };
        let pending: HashSet<i64> = due.iter().map(|n| n.id).collect();
        in_flight.retain(|id, at| pending.contains(id) && now - *at < IN_FLIGHT_MS);
        let config = state.config.load_full();
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
            let (state, config, permit) = (state.clone(), config.clone(), sends.clone());
            tokio::spawn(async move {
                let _permit = permit.acquire_owned().await;
                deliver(&state, &config, group).await;
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

async fn deliver(state: &SharedState, config: &Arc<Config>, group: Vec<NotificationRow>) {
    let first = &group[0];
    let Some(spec) = config.channels.iter().find(|c| c.id == first.channel) else {
        let error = format!("channel {:?} is no longer in the config", first.channel);
        return report_all(state, &group, |_| DeliveryOutcome::Failed {
            error: error.clone(),
        })
        .await;
    };
    let Some(user) = config.user(&first.user) else {
        let error = format!("user {:?} is no longer in the config", first.user);
        return report_all(state, &group, |_| DeliveryOutcome::Failed {
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
        if let Ok(Some(detail)) =
            crate::routes::read(state, move |c| get_incident(c, id, &urgency)).await
        {
            let mut card = card(state, config, &detail, user);
            card.follow_up = follow_up(config, n, &detail, user);
            if let Some(since) = n.since {
                let until = n.due_ms;
                card.new_alerts =
                    crate::routes::read(state, move |c| joined_alerts(c, id, since, until))
                        .await
                        .unwrap_or_default();
            }
            cards.push(card);
        }
    }
    if cards.is_empty() {
        return report_all(state, &group, |_| DeliveryOutcome::Failed {
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
    let message = crate::storm_message::with_summary(state, &group, message).await;
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
    let now = state.clock.now();
    let kind = spec.settings.contact_type();
    match result {
        Ok(_) => {
            crate::deliveries::record(state, &spec.id, kind, group.len(), Attempt::Sent);
            report_all(state, &group, |_| DeliveryOutcome::Sent).await
        }
        Err(e) => {
            let retried = group.iter().filter(|n| retry_wait(&e, n).is_some()).count();
            let error = &e.message;
            crate::deliveries::record(
                state,
                &spec.id,
                kind,
                group.len(),
                Attempt::Failed { error, retried },
            );
            report_all(state, &group, |n| match retry_wait(&e, n) {
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

/// One incident as this reader sees it: times on their clock, links signed for them, its
/// service and team by their catalog names, and the hosts it is on.
fn card(
    state: &SharedState,
    config: &Config,
    d: &IncidentDetail,
    user: &tocsin_core::config::User,
) -> IncidentCard {
    let i = &d.incident;
    // A service or team no longer (or never) in the catalog is shown by its id.
    let service_name = config
        .service(&i.service)
        .map_or(&i.service, |s| &s.name)
        .clone();
    let team_name = config
        .teams
        .iter()
        .find(|t| t.id == i.team)
        .map_or(&i.team, |t| &t.name)
        .clone();
    let hosts = hosts_of(&d.alerts);
    let created_at = tocsin_core::time::parse_rfc3339(&i.created_at)
        .ok()
        .and_then(|ms| on_clock(ms, user))
        .unwrap_or_else(|| i.created_at.clone());
    let summary = d
        .alerts
        .first()
        .map(|a| {
            if a.description.is_empty() {
                a.summary.clone()
            } else {
                a.description.clone()
            }
        })
        .unwrap_or_default();
    let links = d
        .alerts
        .iter()
        .flat_map(|a| a.links.iter())
        .take(5)
        .map(|l| {
            (
                if l.text.is_empty() {
                    l.href.clone()
                } else {
                    l.text.clone()
                },
                l.href.clone(),
            )
        })
        .collect();
    IncidentCard {
        id: i.id.to_string(),
        title: i.title.clone(),
        priority: i.priority.clone(),
        state: i.state.clone(),
        service: i.service.clone(),
        team: i.team.clone(),
        service_name,
        team_name,
        host_count: hosts.len() as u32,
        hosts: hosts.into_iter().take(IncidentCard::HOSTS_KEPT).collect(),
        severity: i.severity.clone(),
        urgency: i.urgency.clone(),
        alert_count: i.alert_count.max(0) as u32,
        created_at,
        summary,
        links,
        ack_url: Some(link_url(state, i.id, LinkAction::Acknowledge, &user.id)),
        resolve_url: Some(link_url(state, i.id, LinkAction::Resolve, &user.id)),
        // The console's incident page, only when people reach this server at a known URL:
        // the listen address (127.0.0.1 by default) means nothing on a phone.
        console_url: state
            .front_door
            .public_url_set
            .then(|| format!("{}/ui/incidents/{}", state.public_url, i.id)),
        new_alerts: Vec::new(),
        follow_up: None,
    }
}

/// A time as the reader reads it: `2024-05-01 03:12 CST` in their zone.
fn on_clock(ms: Millis, reader: &tocsin_core::config::User) -> Option<String> {
    let ts = jiff::Timestamp::from_millisecond(ms).ok()?;
    Some(
        ts.to_zoned(reader.tz.clone())
            .strftime("%Y-%m-%d %H:%M %Z")
            .to_string(),
    )
}

/// For a follow-up (`acknowledged`, `resolved`): who did it (a person by their name, else
/// the token or tool as the timeline names it; nobody when its alerts resolved it), when on
/// the reader's clock, what they wrote, and how long the incident had been open. The engine
/// wrote the row when it happened, so `created_ms` is that moment.
fn follow_up(
    config: &Config,
    n: &NotificationRow,
    d: &IncidentDetail,
    reader: &tocsin_core::config::User,
) -> Option<FollowUp> {
    FollowUpKind::parse(&n.kind)?;
    let opened = tocsin_core::time::parse_rfc3339(&d.incident.created_at).unwrap_or(n.created_ms);
    Some(FollowUp {
        by: n.actor.as_deref().map(|actor| {
            config
                .user(acting_user(actor))
                .map_or(actor, |u| &u.name)
                .to_string()
        }),
        at: on_clock(n.created_ms, reader).unwrap_or_default(),
        comment: n.comment.clone().unwrap_or_default(),
        open_for_s: u64::try_from(n.created_ms - opened).unwrap_or(0) / 1000,
    })
}

/// The distinct machines of an incident's alerts, in their order. Placement already named
/// each alert's host: the catalog's name, else what the alert gave (`host`, Prometheus
/// `instance` without its port ...).
fn hosts_of(alerts: &[AlertRow]) -> Vec<String> {
    let mut seen = HashSet::new();
    alerts
        .iter()
        .filter_map(|a| a.host.as_deref())
        .filter(|h| seen.insert(*h))
        .map(str::to_owned)
        .collect()
}

/// Logs the outcome of each notification of a group; the engine applies them in order.
async fn report_all(
    state: &SharedState,
    group: &[NotificationRow],
    outcome: impl Fn(&NotificationRow) -> DeliveryOutcome,
) {
    let at = state.clock.now();
    for n in group {
        let entry = LogEntry::Delivery(DeliveryReport {
            notification_id: n.id,
            outcome: outcome(n),
            at,
        });
        if let Err(e) = state.writer.append(encode_entry(&entry), None).await {
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
