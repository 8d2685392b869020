//! Escalation policies, services and teams as the config defines them, read-only, each
//! showing where it is used: a policy's levels with their targets by name and the services
//! and teams that use it; a service's team, impact, policy, dependencies, support hours,
//! correlation and open incidents; a team's members, policy and services. They link to
//! each other by `#policy-…`, `#service-…` and `#team-…` anchors. The services page also
//! lists the services discovered in alerts, marked so, with the YAML that promotes them.

use super::accounts::Viewer;
use super::render;
use crate::routes::schedules::restriction;
use crate::state::SharedState;
use axum::extract::State;
use axum::response::Response;
use minijinja::{context, Value};
use std::collections::HashMap;
use tocsin_core::config::{Config, Service};
use tocsin_core::paging::{EscalationPolicy, Target};
use tocsin_store::sqlite::discovered::{self, DiscoveredRow};

/// `GET /ui/policies`
pub async fn policies(State(s): State<SharedState>, viewer: Viewer) -> Response {
    let now = s.clock.now();
    let config = s.config.load_full();
    let items: Vec<Value> = config
        .escalation_policies
        .iter()
        .map(|p| {
            let levels: Vec<Value> = p
                .levels
                .iter()
                .map(|l| {
                    context! {
                        delay => l.delay / 1000,
                        targets => l.targets.iter().map(|t| target(&config, t)).collect::<Vec<_>>(),
                    }
                })
                .collect();
            // Services name it, or get it from their team.
            let services: Vec<Value> = config
                .services
                .iter()
                .filter(|sv| config.policy_for(sv).is_some_and(|x| x.id == p.id))
                .map(|sv| {
                    context! {
                        id => sv.id,
                        name => sv.name,
                        via_team => sv.escalation_policy.is_none(),
                    }
                })
                .collect();
            let teams: Vec<Value> = config
                .teams
                .iter()
                .filter(|t| t.escalation_policy.as_deref() == Some(p.id.as_str()))
                .map(|t| context! { id => t.id, name => t.name })
                .collect();
            context! {
                id => p.id,
                name => p.name,
                repeat => p.repeat,
                unresolved_after => p.unresolved_after.map(|ms| ms / 1000),
                levels => levels,
                services => services,
                teams => teams,
            }
        })
        .collect();
    render::page(
        "policies.html",
        &viewer,
        "policies",
        now,
        context! { policies => items },
    )
}

/// A level's target with its name and where it links.
fn target(config: &Config, t: &Target) -> Value {
    match t {
        Target::User(id) => context! {
            kind => "user",
            id => id,
            name => config.user(id).map(|u| u.name.as_str()).unwrap_or(id),
        },
        Target::Schedule(id) => context! {
            kind => "schedule",
            id => id,
            name => config.schedule(id).map(|x| x.name.as_str()).unwrap_or(id),
        },
        Target::Team { id, round_robin } => context! {
            kind => "team",
            id => id,
            name => config.teams.iter().find(|x| &x.id == id).map(|x| x.name.as_str()).unwrap_or(id),
            round_robin => round_robin,
        },
    }
}

/// `GET /ui/services`
pub async fn services(State(s): State<SharedState>, viewer: Viewer) -> Response {
    let now = s.clock.now();
    let config = s.config.load_full();
    let read = |c: &rusqlite::Connection| Ok((open_by_service(c)?, discovered::list(c)?));
    let (open, found) = match super::read(&s, &viewer, read).await {
        Ok(rows) => rows,
        Err(page) => return page,
    };
    let found = crate::routes::catalog::not_in_catalog(&config, found);
    let open_of = |id: &str| open.get(id).copied().unwrap_or(0);
    let mut items: Vec<Value> = config
        .services
        .iter()
        .map(|sv| service(&config, sv, open_of(&sv.id), None))
        .collect();
    items.extend(found.iter().map(|r| {
        let sv = config.discovered_service(&r.id);
        service(&config, &sv, open_of(&r.id), Some(r))
    }));
    let ids: Vec<&str> = found.iter().map(|r| r.id.as_str()).collect();
    let promote = (!ids.is_empty()).then(|| tocsin_core::discovered::promotion_yaml(&config, &ids));
    render::page(
        "services.html",
        &viewer,
        "services",
        now,
        context! { services => items, promote => promote },
    )
}

/// A service's card; `seen` is set for a discovered one.
fn service(config: &Config, sv: &Service, open: i64, seen: Option<&DiscoveredRow>) -> Value {
    let policy = config.policy_for(sv).map(policy_link);
    let team = config.teams.iter().find(|t| t.id == sv.team);
    let support = sv.support_hours.as_ref().map(|h| {
        let w = restriction(&h.window);
        context! {
            days => w["days"].as_array().map(|d| d.iter().filter_map(|x| x.as_str()).collect::<Vec<_>>().join(", ")),
            from => w["from"].as_str(),
            to => w["to"].as_str(),
            time_zone => h.time_zone,
        }
    });
    let correlation = if !config.correlation.enabled {
        context! { off => true, global => true }
    } else {
        match sv.correlation_threshold {
            Some(x) if !x.is_finite() => context! { off => true, global => false },
            Some(x) => context! { threshold => format!("{x:.2}"), global => false },
            None => context! {
                threshold => format!("{:.2}", config.correlation.threshold),
                global => true,
            },
        }
    };
    let depends_on: Vec<Value> = sv
        .depends_on
        .iter()
        .map(|id| context! { id => id, name => config.service(id).map(|x| x.name.as_str()).unwrap_or(id) })
        .collect();
    let needed_by: Vec<Value> = config
        .services
        .iter()
        .filter(|x| x.depends_on.contains(&sv.id))
        .map(|x| context! { id => x.id, name => x.name })
        .collect();
    context! {
        id => sv.id,
        name => sv.name,
        team => context! { id => sv.team, name => team.map(|t| t.name.as_str()).unwrap_or(&sv.team) },
        impact => sv.impact.as_str(),
        policy => policy,
        policy_via_team => sv.escalation_policy.is_none(),
        depends_on => depends_on,
        needed_by => needed_by,
        support => support,
        correlation => correlation,
        labels => sv.labels,
        open => open,
        default => sv.id == config.default_service && seen.is_none(),
        discovered => seen.map(|r| context! { first_seen => r.first_seen, last_seen => r.last_seen }),
    }
}

fn policy_link(p: &EscalationPolicy) -> Value {
    context! { id => p.id, name => p.name }
}

/// Open (triggered or acknowledged) incidents per service: one grouped count.
fn open_by_service(c: &rusqlite::Connection) -> rusqlite::Result<HashMap<String, i64>> {
    let mut stmt = c.prepare_cached(
        "SELECT service, COUNT(*) FROM incidents
         WHERE state IN ('triggered', 'acknowledged') GROUP BY service",
    )?;
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
    rows.collect()
}

/// `GET /ui/teams`
pub async fn teams(State(s): State<SharedState>, viewer: Viewer) -> Response {
    let now = s.clock.now();
    let config = s.config.load_full();
    let items: Vec<Value> = config
        .teams
        .iter()
        .map(|t| {
            let members: Vec<Value> = t
                .members
                .iter()
                .map(|id| context! { id => id, name => config.user(id).map(|u| u.name.as_str()).unwrap_or(id) })
                .collect();
            let services: Vec<Value> = config
                .services
                .iter()
                .filter(|sv| sv.team == t.id)
                .map(|sv| context! { id => sv.id, name => sv.name })
                .collect();
            let policy = t
                .escalation_policy
                .as_deref()
                .and_then(|id| config.escalation_policy(id))
                .map(policy_link);
            context! {
                id => t.id,
                name => t.name,
                members => members,
                services => services,
                policy => policy,
            }
        })
        .collect();
    render::page(
        "teams.html",
        &viewer,
        "teams",
        now,
        context! { teams => items },
    )
}
