//! tocsin's own silences API: `GET`/`POST /api/v1/silences`, `GET` and `DELETE
//! /api/v1/silences/{id}`. One-off silences are the same records the Alertmanager API
//! shows; a `recurrence` makes a weekly maintenance window instead, listed here beside the
//! config's windows. Changes go through the event log, so they are durable and audited.

use super::alertmanager_silences::LISTED_AFTER_END;
use super::silence_input::{check, Checked, NewSilence};
use super::silence_view::{one_off, recurring, Origin};
use super::{flag, pairs, read, QueryPairs};
use crate::auth::authorize;
use crate::error::{ApiError, ApiResult};
use crate::matching::off_worker;
use crate::state::SharedState;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use serde_json::{json, Value};
use tocsin_core::auth::Role;
use tocsin_core::command::{MaintenanceAction, MaintenanceCommand, SilenceAction, SilenceCommand};
use tocsin_core::config::maintenance::{window, MaintenanceWindow};
use tocsin_core::silence::{list_key, state_at, SilenceState, MAX_LIVE_SILENCES};
use tocsin_core::time::to_rfc3339;
use tocsin_engine::CommandError;
use tocsin_store::log::LogEntry;
use tocsin_store::sqlite::maintenance::{self as windows, WindowRow};
use tocsin_store::sqlite::silence_audit;
use tocsin_store::sqlite::silences::{self, SilenceRecord};

/// `POST /api/v1/silences`: 201 with the new silence or recurring silence.
pub async fn create(
    State(s): State<SharedState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let who = authorize(&s, &headers, Role::Responder)?;
    let body = super::body(body)?;
    let new: NewSilence = serde_json::from_slice(&body)
        .map_err(|e| ApiError::bad_request(format!("invalid silence: {e}")))?;
    let at = s.clock.now();
    room_for_one_more(&s, at)
        .await?
        .map_err(ApiError::bad_request)?;
    // Off the async worker: the matchers' regexes compile in milliseconds each at the limit.
    let caller = who.name.clone();
    let id = match off_worker(move || check(new, &caller, at)).await?? {
        Checked::OneOff { id, action } => {
            let actor = who.name;
            submit(&s, LogEntry::Silence(SilenceCommand { action, actor, at })).await?;
            id
        }
        Checked::Recurring { id, action } => {
            let actor = who.name;
            let command = MaintenanceCommand { action, actor, at };
            submit(&s, LogEntry::Maintenance(command)).await?;
            id
        }
    };
    let found = find(&s, &id).await?;
    Ok((StatusCode::CREATED, Json(view(&s, found).await?)))
}

/// `GET /api/v1/silences?all=true`: recurring silences first (the config's, then those made
/// through the API), then one-off ones as Alertmanager orders them. Without `all`, only
/// those not over; with it, also those that ended within 120 hours and deleted windows.
pub async fn list(
    State(s): State<SharedState>,
    headers: HeaderMap,
    params: QueryPairs,
) -> ApiResult<Json<Value>> {
    authorize(&s, &headers, Role::Viewer)?;
    let all = flag(params, "all")?;
    let items = listing(&s, all).await?;
    Ok(Json(json!({ "items": items })))
}

/// The silences `GET /api/v1/silences` lists, in its order (the console's silences page
/// shows the same).
pub(crate) async fn listing(s: &SharedState, all: bool) -> ApiResult<Vec<Value>> {
    let now = s.clock.now();
    let since = if all { now - LISTED_AFTER_END } else { now };
    let (mut rows, window_rows) = read(s, move |c| {
        Ok((silences::list(c, since)?, windows::list(c, all)?))
    })
    .await?;
    let config = s.config.load_full();
    let mut items: Vec<Value> = config
        .maintenance_windows
        .iter()
        .map(|w| recurring(w, Origin::Config, now))
        .collect();
    for row in &window_rows {
        items.extend(parsed(row).map(|w| recurring(&w, Origin::Api(row), now)));
    }
    rows.retain(|r| {
        all || state_at(r.spec.starts_at, r.spec.ends_at, now) != SilenceState::Expired
    });
    rows.sort_by_key(|r| list_key(r.spec.starts_at, r.spec.ends_at, now));
    items.extend(rows.iter().map(|r| one_off(r, now)));
    Ok(items)
}

/// `GET /api/v1/silences/{id}`: one silence or recurring silence, with its audit trail.
pub async fn one(
    State(s): State<SharedState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    authorize(&s, &headers, Role::Viewer)?;
    let found = find(&s, &id).await?;
    Ok(Json(view(&s, found).await?))
}

/// `DELETE /api/v1/silences/{id}?comment=...`: expires a silence, or deletes a recurring one
/// made through the API (and expires its occurrence open now). Answers the result.
pub async fn expire(
    State(s): State<SharedState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    params: QueryPairs,
) -> ApiResult<Json<Value>> {
    let who = authorize(&s, &headers, Role::Responder)?;
    let mut comment = String::new();
    for (k, v) in pairs(params)? {
        match k.as_str() {
            "comment" => comment = v.trim().to_string(),
            other => {
                return Err(ApiError::bad_request(format!(
                    "unknown parameter {other:?}; use comment"
                )))
            }
        }
    }
    if comment.len() > super::silence_input::MAX_COMMENT_BYTES {
        return Err(ApiError::bad_request("comment: at most 4096 bytes"));
    }
    let at = s.clock.now();
    let actor = who.name;
    let conflict = |m: String| ApiError::new(StatusCode::CONFLICT, "conflict", m);
    let entry = match find(&s, &id).await? {
        Found::Silence(r) => {
            if state_at(r.spec.starts_at, r.spec.ends_at, at) == SilenceState::Expired {
                return Err(conflict(format!("silence {id} has ended already")));
            }
            let action = SilenceAction::ExpireNoted {
                id: id.clone(),
                comment,
            };
            LogEntry::Silence(SilenceCommand { action, actor, at })
        }
        Found::Window(row) => {
            if row.deleted_at.is_some() {
                return Err(conflict(format!(
                    "recurring silence {id} is deleted already"
                )));
            }
            let action = MaintenanceAction::Delete {
                id: id.clone(),
                comment,
            };
            LogEntry::Maintenance(MaintenanceCommand { action, actor, at })
        }
        Found::Config(_) => {
            return Err(conflict(format!(
            "recurring silence {id} is the config's maintenance window; remove it from the config"
        )))
        }
    };
    submit(&s, entry).await?;
    let found = find(&s, &id).await?;
    Ok(Json(view(&s, found).await?))
}

enum Found {
    Silence(SilenceRecord),
    Window(WindowRow),
    Config(MaintenanceWindow),
}

/// A silence by id; else a recurring one made through the API; else a config window by name.
/// Whether one more silence stays within [`MAX_LIVE_SILENCES`]; the refusal's text if not.
/// Counted from the store before the change is logged, so two made at the same instant can
/// both pass: the cap bounds the engine's work, it is not an exact quota.
pub(super) async fn room_for_one_more(
    s: &SharedState,
    now: tocsin_core::time::Millis,
) -> ApiResult<Result<(), String>> {
    let live = read(s, move |c| silences::count_live(c, now)).await?;
    Ok(if live >= MAX_LIVE_SILENCES {
        Err(format!(
            "too many silences: {live} are not over, at most {MAX_LIVE_SILENCES} are allowed; expire some first"
        ))
    } else {
        Ok(())
    })
}

async fn find(s: &SharedState, id: &str) -> ApiResult<Found> {
    let key = id.to_string();
    let (silence, row) = read(s, move |c| {
        Ok((silences::get(c, &key)?, windows::get(c, &key)?))
    })
    .await?;
    if let Some(r) = silence {
        return Ok(Found::Silence(r));
    }
    if let Some(row) = row {
        return Ok(Found::Window(row));
    }
    let config = s.config.load_full();
    match config.maintenance_windows.iter().find(|w| w.name == id) {
        Some(w) => Ok(Found::Config(w.clone())),
        None => Err(ApiError::not_found(format!("no silence {id:?}"))),
    }
}

/// The answer for one silence or recurring silence, with its audit trail.
async fn view(s: &SharedState, found: Found) -> ApiResult<Value> {
    let now = s.clock.now();
    let (mut v, id) = match &found {
        Found::Silence(r) => (one_off(r, now), r.id.clone()),
        Found::Window(row) => {
            let w = parsed(row)
                .ok_or_else(|| ApiError::internal("the stored window does not parse"))?;
            (recurring(&w, Origin::Api(row), now), w.name)
        }
        Found::Config(w) => (recurring(w, Origin::Config, now), w.name.clone()),
    };
    let audit = read(s, move |c| silence_audit::of(c, &id)).await?;
    let lines: Vec<Value> = audit
        .into_iter()
        .map(|a| json!({"at": to_rfc3339(a.at), "actor": a.actor, "action": a.action, "comment": a.comment}))
        .collect();
    v["audit"] = json!(lines);
    Ok(v)
}

/// A stored window parsed with the config's code (the engine skips one that fails too).
fn parsed(row: &WindowRow) -> Option<MaintenanceWindow> {
    window(&mut Vec::new(), "", row.spec.clone())
}

/// Logs a change and waits until the engine has applied it.
async fn submit(s: &SharedState, entry: LogEntry) -> ApiResult<()> {
    match super::submit(s, entry).await.map_err(ApiError::from)? {
        Ok(()) => Ok(()),
        Err(CommandError::Conflict(m)) => Err(ApiError::new(StatusCode::CONFLICT, "conflict", m)),
        Err(CommandError::NotFound(id)) => Err(ApiError::not_found(format!("no silence {id}"))),
        Err(CommandError::Store(m)) => Err(ApiError::unavailable(m)),
    }
}
