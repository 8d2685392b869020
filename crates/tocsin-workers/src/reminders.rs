//! Hand-off reminders: "you are on call in dba-primary from 09:00", sent to a schedule's
//! next person `remind_before` their shift starts, over their first contact that a channel
//! reaches.
//!
//! Reminders are not engine state (nothing about an incident depends on them), so they are
//! sent from here directly rather than through the outbox. Which were sent is kept in
//! memory: a restart inside the reminder window may remind someone a second time, which is
//! better than not at all.

use crate::context::Context;
use crate::deliveries::Attempt;
use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;
use tocsin_core::config::Config;
use tocsin_core::schedule::{shift_at, Schedule, Shift};
use tocsin_core::time::Millis;
use tocsin_notify::{channel_for, Handoff, Message, MessageKind, Recipient};
use tocsin_store::sqlite::schedules::live_overrides;

/// How often schedules are looked at; a reminder goes out at most this late.
const CHECK: Duration = Duration::from_secs(30);

pub fn spawn(ctx: Arc<Context>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(run(ctx))
}

async fn run(ctx: Arc<Context>) {
    // (schedule, user, shift start) already reminded.
    let mut sent: HashSet<(String, String, Millis)> = HashSet::new();
    let mut first = true;
    loop {
        // The first look is at once, so a shift about to start when tocsin starts is not
        // missed by half a minute.
        if !std::mem::take(&mut first) {
            tokio::time::sleep(CHECK).await;
        }
        let now = ctx.clock.now();
        let config = ctx.config.load_full();
        for sc in config
            .schedules
            .iter()
            .filter(|s| s.remind_before.is_some())
        {
            let id = sc.id.clone();
            let Ok(extra) = ctx.read(move |c| live_overrides(c, &id, now)).await else {
                continue;
            };
            let Some(next) = shift_at(sc, &extra, now).next else {
                continue;
            };
            let lead = sc.remind_before.unwrap_or(0);
            if next.start > now + lead
                || !sent.insert((sc.id.clone(), next.user.clone(), next.start))
            {
                continue;
            }
            remind(&ctx, &config, sc, &next).await;
        }
        // Forget shifts long started.
        sent.retain(|(_, _, start)| *start > now - 24 * 3_600_000);
    }
}

async fn remind(ctx: &Context, config: &Arc<Config>, sc: &Schedule, shift: &Shift) {
    let Some(user) = config.user(&shift.user) else {
        return;
    };
    let Some((contact, spec)) = user
        .contacts
        .iter()
        .find_map(|c| config.channel_for(c).map(|ch| (c, ch)))
    else {
        tracing::info!(schedule = %sc.id, user = %user.id, "no contact a channel reaches: hand-off reminder not sent");
        return;
    };
    let local = |t: Millis| {
        jiff::Timestamp::from_millisecond(t)
            .map(|ts| {
                ts.to_zoned(user.tz.clone())
                    .strftime("%m-%d %H:%M %Z")
                    .to_string()
            })
            .unwrap_or_default()
    };
    let message = Message {
        kind: MessageKind::Handoff,
        incidents: Vec::new(),
        handoff: Some(Handoff {
            schedule: sc.name.clone(),
            start: local(shift.start),
            end: local(shift.end),
        }),
        storm: None,
    };
    let to = Recipient {
        user_id: user.id.clone(),
        name: user.name.clone(),
        language: user.language,
        address: contact.to.clone(),
    };
    let kind = spec.settings.contact_type();
    match channel_for(spec).send(&to, &message).await {
        Ok(_) => {
            ctx.deliveries
                .record(ctx.clock.now(), &spec.id, kind, 1, Attempt::Sent);
            tracing::info!(schedule = %sc.id, user = %user.id, channel = %spec.id, "hand-off reminder sent")
        }
        Err(e) => {
            // Not retried: the reminder is late soon, and the shift starts anyway.
            let error = &e.message;
            ctx.deliveries.record(
                ctx.clock.now(),
                &spec.id,
                kind,
                1,
                Attempt::Failed { error, retried: 0 },
            );
            tracing::warn!(schedule = %sc.id, user = %user.id, channel = %spec.id, error = %e, "hand-off reminder not delivered")
        }
    }
}
