//! Incidents: lists, one with its alerts and timeline, and the actions people take.
//! Actions go through the event log and the engine like events do, and answer with the
//! incident as it is after the action.

use super::{pairs, parse_id, read, QueryPairs};
use crate::auth::authorize;
use crate::error::{ApiError, ApiResult};
use crate::query::incident_query;
use crate::state::SharedState;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use serde::Deserialize;
use tocsin_core::auth::Role;
use tocsin_core::command::{Command, IncidentAction, ReassignTo};
use tocsin_core::config::Config;
use tocsin_core::event::Severity;
use tocsin_core::incident::StateAction;
use tocsin_core::priority::Priority;
use tocsin_engine::CommandError;
use tocsin_store::log::LogEntry;
use tocsin_store::sqlite::queries;
use tocsin_store::sqlite::rows::{IncidentDetail, IncidentRow, Page};

/// Urgency is shown from the stored worst severity with the current matrix.
pub(crate) fn urgency_of(config: &Config) -> impl Fn(&str) -> String {
    let matrix = config.priority.clone();
    move |severity: &str| {
        Severity::parse(severity)
            .map(|s| matrix.urgency_of(s).as_str().to_string())
            .unwrap_or_default()
    }
}

pub async fn list(
    State(s): State<SharedState>,
    headers: HeaderMap,
    params: QueryPairs,
) -> ApiResult<Json<Page<IncidentRow>>> {
    authorize(&s, &headers, Role::Viewer)?;
    let (filter, page) = incident_query(&pairs(params)?)?;
    let urgency = urgency_of(&s.config.load());
    Ok(Json(
        read(&s, move |c| {
            queries::list_incidents(c, &filter, page, &urgency)
        })
        .await?,
    ))
}

pub async fn one(
    State(s): State<SharedState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> ApiResult<Json<IncidentDetail>> {
    let who = authorize(&s, &headers, Role::Viewer)?;
    let id = parse_id(&id, "incident")?;
    let mut detail = fetch(&s, id).await?;
    // Phone numbers and mail addresses are personal: a viewer sees that someone was
    // called, not their number (as the users API shows contact kinds only).
    if !who.role.allows(Role::Responder) {
        hide_addresses(&mut detail);
    }
    Ok(Json(detail))
}

/// Masks contact addresses wherever the incident shows them: each notification's own, its
/// last error, and the timeline, which says how each person was reached ("notified alice
/// by sms (+8613800001234)"), in entries stored long ago as in new ones. An address that is
/// its person's user id (a chat handle) tells nothing the entry does not already name, and
/// masking it would garble the name too.
pub(crate) fn hide_addresses(detail: &mut IncidentDetail) {
    let masker = Masker::new(
        detail
            .notifications
            .iter()
            .filter(|n| n.address != n.user)
            .map(|n| n.address.as_str()),
    );
    for t in &mut detail.timeline {
        t.message = masker.hide(&t.message);
    }
    for n in &mut detail.notifications {
        n.last_error = n.last_error.as_deref().map(|e| masker.hide(e));
        n.address = mask(&n.address);
    }
}

/// Masks known addresses wherever they appear in a text.
struct Masker(Vec<String>);

impl Masker {
    fn new<'a>(addresses: impl Iterator<Item = &'a str>) -> Masker {
        let mut addresses: Vec<String> = addresses
            .filter(|a| !a.is_empty())
            .map(str::to_string)
            .collect();
        // Longest first, so an address inside another is not masked half-way.
        addresses.sort_by_key(|a| std::cmp::Reverse(a.len()));
        addresses.dedup();
        Masker(addresses)
    }

    fn hide(&self, text: &str) -> String {
        self.0
            .iter()
            .fold(text.to_string(), |t, a| t.replace(a.as_str(), &mask(a)))
    }
}

/// `+8613800001234` -> `…1234`: enough to tell two contacts apart.
fn mask(address: &str) -> String {
    let tail: String = address
        .chars()
        .rev()
        .take(4)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    format!("…{tail}")
}

pub(super) async fn fetch(s: &SharedState, id: i64) -> ApiResult<IncidentDetail> {
    let urgency = urgency_of(&s.config.load());
    read(s, move |c| queries::get_incident(c, id, &urgency))
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no incident {id}")))
}

const MAX_TEXT: usize = 16 * 1024;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ActionBody {
    #[serde(default)]
    reason: Option<String>,
    #[serde(default)]
    text: Option<String>,
    /// `null` unassigns; absent is an error for `/assign`.
    #[serde(default, deserialize_with = "present")]
    assignee: Option<Option<String>>,
    /// `null` returns to the matrix priority.
    #[serde(default, deserialize_with = "present")]
    priority: Option<Option<String>>,
    /// `/reassign`: a user id, or a schedule id (whoever is on call there).
    #[serde(default)]
    user: Option<String>,
    #[serde(default)]
    schedule: Option<String>,
}

/// Tells "field absent" (outer None) from "field is null" (Some(None)).
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
    Ok(Some(Option::deserialize(d)?))
}

pub(super) fn check_text(field: &str, text: &str) -> ApiResult<()> {
    if text.len() > MAX_TEXT {
        return Err(ApiError::bad_request(format!(
            "{field}: at most {MAX_TEXT} bytes"
        )));
    }
    Ok(())
}

fn action_of(verb: &str, body: &ActionBody) -> ApiResult<IncidentAction> {
    let state = |a| Ok(IncidentAction::State(a));
    match verb {
        "acknowledge" => state(StateAction::Acknowledge),
        "resolve" => state(StateAction::Resolve),
        "close" => state(StateAction::Close),
        "reopen" => state(StateAction::Reopen),
        "comment" => match body.text.as_deref().map(str::trim) {
            Some(t) if !t.is_empty() => Ok(IncidentAction::Comment(t.to_string())),
            _ => Err(ApiError::bad_request("text: a comment needs text")),
        },
        "assign" => match &body.assignee {
            Some(Some(who)) if who.trim().is_empty() || who.len() > 256 => {
                Err(ApiError::bad_request("assignee: 1 to 256 bytes, or null to unassign"))
            }
            Some(who) => Ok(IncidentAction::Assign(who.clone())),
            None => Err(ApiError::bad_request("assignee: required (a user id, or null to unassign)")),
        },
        "priority" => match &body.priority {
            Some(Some(p)) => {
                let p = Priority::parse(p)
                    .ok_or_else(|| ApiError::bad_request(format!("priority: {p:?} is not P1 to P5")))?;
                if body.reason.as_deref().is_none_or(|r| r.trim().is_empty()) {
                    return Err(ApiError::bad_request("reason: changing a priority needs a reason"));
                }
                Ok(IncidentAction::SetPriority(Some(p)))
            }
            Some(None) => Ok(IncidentAction::SetPriority(None)),
            None => Err(ApiError::bad_request("priority: required (P1 to P5, or null for the matrix priority)")),
        },
        "escalate" => Ok(IncidentAction::Escalate),
        "reassign" => match (&body.user, &body.schedule) {
            (Some(u), None) if !u.trim().is_empty() => {
                Ok(IncidentAction::Reassign(ReassignTo::User(u.trim().to_string())))
            }
            (None, Some(s)) if !s.trim().is_empty() => {
                Ok(IncidentAction::Reassign(ReassignTo::Schedule(s.trim().to_string())))
            }
            _ => Err(ApiError::bad_request(
                "reassign needs exactly one of user or schedule",
            )),
        },
        other => Err(ApiError::not_found(format!(
            "no incident action {other:?}; use acknowledge, resolve, close, reopen, comment, assign, priority, escalate or reassign"
        ))),
    }
}

pub async fn act(
    State(s): State<SharedState>,
    headers: HeaderMap,
    Path((id, verb)): Path<(String, String)>,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Json<IncidentDetail>> {
    let who = authorize(&s, &headers, Role::Responder)?;
    let body = super::body(body)?;
    let id = parse_id(&id, "incident")?;
    let body: ActionBody = if body.iter().all(u8::is_ascii_whitespace) {
        ActionBody::default()
    } else {
        serde_json::from_slice(&body)
            .map_err(|e| ApiError::bad_request(format!("invalid JSON body: {e}")))?
    };
    let action = action_of(&verb, &body)?;
    // Someone to reassign to who is not in the config is a mistake in the request, not a
    // conflict with the incident's state.
    if let IncidentAction::Reassign(to) = &action {
        let config = s.config.load();
        match to {
            ReassignTo::User(u) if config.user(u).is_none() => {
                return Err(ApiError::bad_request(format!("user: no user {u:?}")))
            }
            ReassignTo::Schedule(x) if config.schedule(x).is_none() => {
                return Err(ApiError::bad_request(format!(
                    "schedule: no schedule {x:?}"
                )))
            }
            _ => {}
        }
    }
    let reason = body.reason.unwrap_or_default().trim().to_string();
    check_text("reason", &reason)?;
    if let IncidentAction::Comment(t) = &action {
        check_text("text", t)?;
    }
    let command = Command {
        incident_id: id,
        action,
        actor: who.name,
        reason,
        at: s.clock.now(),
    };
    let outcome = super::submit(&s, LogEntry::Command(command))
        .await
        .map_err(ApiError::from)?;
    applied(outcome)?;
    fetch(&s, id).await.map(Json)
}

/// The engine's answer to a person's action on incidents, as the API says it.
pub(super) fn applied(outcome: Result<(), CommandError>) -> ApiResult<()> {
    match outcome {
        Ok(()) => Ok(()),
        Err(CommandError::NotFound(id)) => Err(ApiError::not_found(format!("no incident {id}"))),
        Err(CommandError::Conflict(m)) => Err(ApiError::new(StatusCode::CONFLICT, "conflict", m)),
        Err(CommandError::Store(m)) => Err(ApiError::unavailable(m)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_masked_wherever_a_text_repeats_them() {
        let masker = Masker::new(
            [
                "+8613800001234",
                "ops@example.com",
                "",
                "ops@example.com.cn",
            ]
            .into_iter(),
        );
        assert_eq!(
            masker.hide("notified alice by sms (+8613800001234)"),
            "notified alice by sms (…1234)"
        );
        assert_eq!(
            masker.hide("550 <ops@example.com.cn> and <ops@example.com> rejected"),
            "550 <…m.cn> and <….com> rejected"
        );
        assert_eq!(masker.hide("paged level 1"), "paged level 1");
    }
}
