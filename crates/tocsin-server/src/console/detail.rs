//! One incident: its facts, its alerts (with links back to the tools that sent them), its
//! timeline, who is paged next and when, and the actions responders take on it. The part
//! that changes is drawn again when the live stream says something happened.

use super::accounts::Viewer;
use super::render;
use crate::routes::incidents::{hide_addresses, urgency_of};
use crate::state::SharedState;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use minijinja::context;
use serde::{Deserialize, Serialize};
use tocsin_core::config::Config;
use tocsin_core::paging::{next_step, EscalationState, Step, Target};
use tocsin_core::schedule::on_call_at;
use tocsin_core::time::{to_rfc3339, Millis};
use tocsin_store::sqlite::paging::{self as store, EscalationRow};
use tocsin_store::sqlite::queries;
use tocsin_store::sqlite::schedules::live_overrides;

#[derive(Debug, Default, Deserialize)]
pub struct DetailQuery {
    /// `1` for the changing part alone, which the live script fetches.
    #[serde(default)]
    fragment: String,
}

/// Where the incident's escalation stands, as the page says it.
#[derive(Debug, Serialize)]
struct Paging {
    /// The policy paging for it (by name), if any.
    policy: Option<String>,
    policy_id: Option<String>,
    /// The escalation's state: `running`, `acknowledged`, `waiting`, `done`, `stopped`;
    /// `none` when it has not started.
    state: String,
    /// The level last paged (1-based) and its pass (1-based), once one was.
    level: Option<usize>,
    round: Option<u32>,
    levels: usize,
    next: Option<NextPage>,
}

/// The next level due.
#[derive(Debug, Serialize)]
struct NextPage {
    level: usize,
    round: u32,
    at: String,
    /// Seconds from the page's time until then (0 when overdue).
    in_seconds: i64,
    /// A reminder up the levels for an acknowledged incident not resolved in time.
    reminder: bool,
    /// Waiting for the service's support hours to begin.
    waiting: bool,
    targets: Vec<TargetView>,
}

#[derive(Debug, Serialize)]
struct TargetView {
    /// `user`, `schedule`, `team` or `team_turn`.
    kind: &'static str,
    id: String,
    name: String,
    /// The people it reaches at that time (id and name).
    people: Vec<Person>,
}

#[derive(Debug, Clone, Serialize)]
struct Person {
    id: String,
    name: String,
}

fn person(config: &Config, id: &str) -> Person {
    Person {
        id: id.to_string(),
        name: config
            .user(id)
            .map_or_else(|| id.to_string(), |u| u.name.clone()),
    }
}

/// The step after an escalation row, as the engine takes it when `next_at` falls due (see
/// `step_due` in tocsin-engine's paging): level one after support hours begin, the next
/// level while nobody acknowledged, a reminder while acknowledged but unresolved.
fn upcoming(
    policy: &tocsin_core::paging::EscalationPolicy,
    row: &EscalationRow,
) -> Option<(usize, u32, bool)> {
    row.next_at?;
    let state = EscalationState {
        level: row.level,
        round: row.round,
        next_at: row.next_at,
    };
    match row.state.as_str() {
        "waiting" => Some((0, 0, false)),
        "running" => match next_step(policy, &state) {
            Step::Page { level, round } => Some((level, round, false)),
            Step::Exhausted => None,
        },
        "acknowledged" => Some(match next_step(policy, &state) {
            Step::Page { level, round } => (level, round, true),
            Step::Exhausted => (row.level, row.round, true),
        }),
        _ => None,
    }
}

/// The people behind a level's targets at `at`, read only: whoever is on call then
/// (overrides included), a team's members, or the member whose turn it is.
fn resolve(
    conn: &rusqlite::Connection,
    config: &Config,
    targets: &[Target],
    at: Millis,
) -> rusqlite::Result<Vec<TargetView>> {
    let mut out = Vec::new();
    for t in targets {
        out.push(match t {
            Target::User(u) => TargetView {
                kind: "user",
                id: u.clone(),
                name: person(config, u).name,
                people: vec![person(config, u)],
            },
            Target::Schedule(s) => {
                let people = match config.schedule(s) {
                    Some(schedule) => {
                        let extra = live_overrides(conn, s, at)?;
                        on_call_at(schedule, &extra, at)
                            .iter()
                            .map(|u| person(config, u))
                            .collect()
                    }
                    None => Vec::new(),
                };
                TargetView {
                    kind: "schedule",
                    id: s.clone(),
                    name: config
                        .schedule(s)
                        .map_or_else(|| s.clone(), |x| x.name.clone()),
                    people,
                }
            }
            Target::Team { id, round_robin } => {
                let team = config.teams.iter().find(|x| &x.id == id);
                let members = team.map(|t| t.members.as_slice()).unwrap_or_default();
                let people = if *round_robin && !members.is_empty() {
                    let turn = store::peek_team_turn(conn, id)?;
                    let u = &members[turn.rem_euclid(members.len() as i64) as usize];
                    vec![person(config, u)]
                } else {
                    members.iter().map(|u| person(config, u)).collect()
                };
                TargetView {
                    kind: if *round_robin { "team_turn" } else { "team" },
                    id: id.clone(),
                    name: team.map_or_else(|| id.clone(), |t| t.name.clone()),
                    people,
                }
            }
        });
    }
    Ok(out)
}

/// What the incident's escalation will do next, read from the engine's row.
fn paging(
    conn: &rusqlite::Connection,
    config: &Config,
    incident_id: i64,
    service: &str,
    open: bool,
    now: Millis,
) -> rusqlite::Result<Paging> {
    let row = store::escalation(conn, incident_id)?;
    let policy = match &row {
        Some(r) => config.escalation_policy(&r.policy),
        None => config.service(service).and_then(|s| config.policy_for(s)),
    };
    let mut out = Paging {
        policy: policy.map(|p| p.name.clone()),
        policy_id: policy.map(|p| p.id.clone()),
        state: row
            .as_ref()
            .map_or_else(|| "none".into(), |r| r.state.clone()),
        level: row
            .as_ref()
            .filter(|r| r.state != "waiting")
            .map(|r| r.level + 1),
        round: row
            .as_ref()
            .filter(|r| r.state != "waiting")
            .map(|r| r.round + 1),
        levels: policy.map_or(0, |p| p.levels.len()),
        next: None,
    };
    let (Some(row), Some(policy), true) = (row, policy, open) else {
        return Ok(out);
    };
    if let Some((level, round, reminder)) = upcoming(policy, &row) {
        let at = row.next_at.unwrap_or_default();
        let targets = match policy.levels.get(level) {
            Some(l) => resolve(conn, config, &l.targets, at)?,
            None => Vec::new(),
        };
        out.next = Some(NextPage {
            level: level + 1,
            round: round + 1,
            at: to_rfc3339(at),
            in_seconds: ((at - now) / 1000).max(0),
            reminder,
            waiting: row.state == "waiting",
            targets,
        });
    }
    Ok(out)
}

pub async fn page(
    State(s): State<SharedState>,
    viewer: Viewer,
    Path(id): Path<String>,
    q: Result<Query<DetailQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let now = s.clock.now();
    let Some(id) = id.parse::<i64>().ok().filter(|id| *id > 0) else {
        let message = render_text(&viewer, "detail.bad_id").replace("{id}", &id);
        return super::error_page(&viewer, now, StatusCode::BAD_REQUEST, &message);
    };
    let fragment = q.is_ok_and(|Query(q)| q.fragment == "1");
    let config = s.config.load_full();
    let urgency = urgency_of(&config);
    let cfg = config.clone();
    let found = super::read(&s, &viewer, move |c| {
        let Some(detail) = queries::get_incident(c, id, &urgency)? else {
            return Ok(None);
        };
        let i = &detail.incident;
        let open = matches!(i.state.as_str(), "triggered" | "acknowledged");
        let paging = paging(c, &cfg, id, &i.service, open, now)?;
        Ok(Some((detail, paging)))
    })
    .await;
    let (mut detail, paging) = match found {
        Ok(Some(found)) => found,
        Ok(None) => {
            let message = render_text(&viewer, "detail.not_found").replace("{id}", &id.to_string());
            return super::error_page(&viewer, now, StatusCode::NOT_FOUND, &message);
        }
        Err(page) => return page,
    };
    // The page shows who was reached and how, never where (for every role, as its
    // notification list does): not in the timeline either.
    hide_addresses(&mut detail);
    let i = &detail.incident;
    let service_name = config
        .service(&i.service)
        .map_or_else(|| i.service.clone(), |x| x.name.clone());
    let team_name = config
        .teams
        .iter()
        .find(|t| t.id == i.team)
        .map_or_else(|| i.team.clone(), |t| t.name.clone());
    let assignee = i.assignee.as_deref().map(|a| person(&config, a));
    // Who each notification went (or goes) to, by name; addresses stay out of the page.
    let notifications: Vec<_> = detail
        .notifications
        .iter()
        .map(|n| {
            context! {
                who => person(&config, &n.user),
                contact_type => n.contact_type,
                channel => n.channel,
                kind => n.kind,
                level => n.level.map(|l| l + 1),
                round => n.round.map(|r| r + 1),
                reason => n.reason,
                due_at => n.due_at,
                sent_at => n.sent_at,
                state => n.state,
                attempts => n.attempts,
                last_error => n.last_error,
            }
        })
        .collect();
    let pending: Vec<_> = detail
        .notifications
        .iter()
        .filter(|n| n.state == "pending")
        .map(|n| {
            context! {
                who => person(&config, &n.user),
                contact_type => n.contact_type,
                due_at => n.due_at,
            }
        })
        .collect();
    let ctx = context! {
        incident => i,
        service_name => service_name,
        team_name => team_name,
        assignee => assignee,
        alerts => detail.alerts,
        timeline => detail.timeline,
        notifications => notifications,
        pending => pending,
        paging => paging,
        fragment_url => format!("/ui/incidents/{id}?fragment=1"),
        users => config.users.iter().map(|u| context!{ id => u.id, name => u.name }).collect::<Vec<_>>(),
    };
    let template = if fragment {
        "detail_live.html"
    } else {
        "detail.html"
    };
    render::page(template, &viewer, "incidents", now, ctx)
}

/// A text of the page in the viewer's language, for messages built here.
fn render_text(viewer: &Viewer, key: &str) -> String {
    super::i18n::text(viewer.language, key)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tocsin_core::paging::{EscalationLevel, EscalationPolicy};

    fn policy(levels: usize, repeat: u32) -> EscalationPolicy {
        EscalationPolicy {
            id: "p".into(),
            name: "p".into(),
            levels: (0..levels)
                .map(|_| EscalationLevel {
                    delay: 60_000,
                    targets: vec![],
                })
                .collect(),
            repeat,
            unresolved_after: None,
        }
    }

    fn row(state: &str, level: usize, round: u32, next_at: Option<Millis>) -> EscalationRow {
        EscalationRow {
            incident_id: 1,
            policy: "p".into(),
            level,
            round,
            next_at,
            state: state.into(),
            started_at: 0,
        }
    }

    #[test]
    fn the_next_step_follows_the_engine() {
        let p = policy(2, 0);
        assert_eq!(
            upcoming(&p, &row("running", 0, 0, Some(5))),
            Some((1, 0, false))
        );
        assert_eq!(upcoming(&p, &row("running", 1, 0, None)), None);
        assert_eq!(
            upcoming(&p, &row("waiting", 0, 0, Some(5))),
            Some((0, 0, false))
        );
        assert_eq!(
            upcoming(&p, &row("acknowledged", 1, 0, Some(5))),
            Some((1, 0, true))
        );
        assert_eq!(upcoming(&p, &row("acknowledged", 0, 0, None)), None);
        assert_eq!(upcoming(&p, &row("stopped", 0, 0, Some(5))), None);
        assert_eq!(
            upcoming(&policy(2, 1), &row("running", 1, 0, Some(5))),
            Some((0, 1, false))
        );
    }
}
