//! An incident as one reader sees it in a notification: times on their clock, links signed
//! for them, its service and team by their catalog names, the hosts it is on, and for a
//! follow-up who did what and when.

use crate::context::Context;
use std::collections::HashSet;
use tocsin_core::config::Config;
use tocsin_core::links::LinkAction;
use tocsin_core::paging::{acting_user, FollowUpKind};
use tocsin_core::time::Millis;
use tocsin_notify::{FollowUp, IncidentCard};
use tocsin_store::sqlite::paging::NotificationRow;
use tocsin_store::sqlite::rows::{AlertRow, IncidentDetail};

/// One incident as this reader sees it: times on their clock, links signed for them, its
/// service and team by their catalog names, and the hosts it is on.
pub(crate) fn card(
    ctx: &Context,
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
    let now = ctx.clock.now();
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
        ack_url: Some(ctx.links.url(i.id, LinkAction::Acknowledge, &user.id, now)),
        resolve_url: Some(ctx.links.url(i.id, LinkAction::Resolve, &user.id, now)),
        // The console's incident page, only when people reach this server at a known URL.
        console_url: ctx
            .console_url
            .as_ref()
            .map(|base| format!("{base}/ui/incidents/{}", i.id)),
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
pub(crate) fn follow_up(
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
