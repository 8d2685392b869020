//! Schedule overrides at run time ("I'll take tonight"): create, list and delete. Changes go
//! through the event log like incident actions, so they are durable and audited (who made
//! or deleted each one, when, and why).

use super::schedules::find;
use super::{flag, read, QueryPairs};
use crate::auth::authorize;
use crate::error::{ApiError, ApiResult};
use crate::state::SharedState;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use jiff::civil;
use jiff::tz::TimeZone;
use serde::Deserialize;
use serde_json::{json, Value};
use tocsin_core::auth::Role;
use tocsin_core::command::{OverrideAction, OverrideCommand};
use tocsin_core::schedule::Schedule;
use tocsin_core::time::parse_rfc3339;
use tocsin_engine::CommandError;
use tocsin_store::log::LogEntry;
use tocsin_store::sqlite::schedules::{get_override, list_overrides, OverrideRow};

/// An override longer than this is a change to the schedule, not an override.
const MAX_LENGTH_MS: i64 = 92 * 24 * 3_600_000;
const MAX_REASON: usize = 1024;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewOverride {
    user: String,
    from: String,
    to: String,
    #[serde(default)]
    reason: String,
    /// The IANA zone that wall-clock `from` and `to` are read in (the console sends the
    /// viewer's); without it they are on the schedule's clock. Times with an offset are
    /// instants either way.
    #[serde(default)]
    time_zone: Option<String>,
}

/// `POST /api/v1/schedules/{id}/overrides`
pub async fn create(
    State(s): State<SharedState>,
    headers: HeaderMap,
    Path(schedule): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let who = authorize(&s, &headers, Role::Responder)?;
    let body = super::body(body)?;
    let new: NewOverride = serde_json::from_slice(&body)
        .map_err(|e| ApiError::bad_request(format!("invalid override: {e}")))?;
    let config = s.config.load_full();
    let sc = find(&config, &schedule)?;
    if config.user(&new.user).is_none() {
        return Err(ApiError::bad_request(format!(
            "user: no user {:?}",
            new.user
        )));
    }
    let now = s.clock.now();
    let zone =
        match new.time_zone.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(z) => Some(TimeZone::get(z).map_err(|_| {
                ApiError::bad_request(format!("time_zone: {z:?} is not an IANA zone"))
            })?),
        };
    let time = |field: &str, text: &str| {
        let text = text.trim();
        match (&zone, text.parse::<civil::DateTime>()) {
            // A wall-clock time in the zone given: a time in a DST gap moves past it, one
            // that exists twice takes the first, as on the schedule's clock.
            (Some(tz), Ok(dt)) => tz
                .to_ambiguous_zoned(dt)
                .compatible()
                .map(|z| z.timestamp().as_millisecond())
                .map_err(|e| e.to_string()),
            _ => sc.parse_time(text, now),
        }
        .map_err(|e| ApiError::bad_request(format!("{field}: {e}")))
    };
    let (start, end) = (time("from", &new.from)?, time("to", &new.to)?);
    if end <= start {
        return Err(ApiError::bad_request("to: must be after from"));
    }
    if end <= now {
        return Err(ApiError::bad_request(
            "to: the override would be over already",
        ));
    }
    if end - start > MAX_LENGTH_MS {
        return Err(ApiError::bad_request(
            "an override may last at most 92 days; change the schedule for longer",
        ));
    }
    let reason = new.reason.trim().to_string();
    if reason.len() > MAX_REASON {
        return Err(ApiError::bad_request(format!(
            "reason: at most {MAX_REASON} bytes"
        )));
    }
    // Chosen here and logged, so a replay of the log makes the same override. 53 bits keep
    // it exact in JSON numbers.
    let id = (rand::random::<u64>() >> 11).max(1) as i64;
    let command = OverrideCommand {
        action: OverrideAction::Create {
            id,
            schedule: schedule.clone(),
            user: new.user,
            start,
            end,
            reason,
        },
        actor: who.name,
        at: now,
    };
    outcome(&s, command).await?;
    let row = read(&s, move |c| get_override(c, &schedule, id))
        .await?
        .ok_or_else(|| ApiError::internal("the override was applied but cannot be read"))?;
    Ok((StatusCode::CREATED, Json(view(sc, row))))
}

/// `GET /api/v1/schedules/{id}/overrides?deleted=true`: those not over yet, newest first.
pub async fn list(
    State(s): State<SharedState>,
    headers: HeaderMap,
    Path(schedule): Path<String>,
    params: QueryPairs,
) -> ApiResult<Json<Value>> {
    authorize(&s, &headers, Role::Viewer)?;
    let config = s.config.load_full();
    let sc = find(&config, &schedule)?;
    let deleted = flag(params, "deleted")?;
    let now = s.clock.now();
    let items = read(&s, move |c| {
        list_overrides(c, &schedule, now, deleted, 1000)
    })
    .await?;
    let items: Vec<Value> = items.into_iter().map(|row| view(sc, row)).collect();
    Ok(Json(json!({ "items": items })))
}

/// `DELETE /api/v1/schedules/{id}/overrides/{override}`
pub async fn remove(
    State(s): State<SharedState>,
    headers: HeaderMap,
    Path((schedule, id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let who = authorize(&s, &headers, Role::Responder)?;
    // An unknown schedule is answered here, before anything goes into the event log.
    find(&s.config.load_full(), &schedule)?;
    let id = super::parse_id(&id, "override")?;
    let command = OverrideCommand {
        action: OverrideAction::Delete { schedule, id },
        actor: who.name,
        at: s.clock.now(),
    };
    outcome(&s, command).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// An override as the API answers it: `start` and `end` on the schedule's clock, like
/// shifts; `created_at` and `deleted_at` (when it was made and deleted) in UTC, like the
/// rest of the API.
fn view(sc: &Schedule, row: OverrideRow) -> Value {
    let on_clock = |t: &str| {
        parse_rfc3339(t)
            .map(|ms| sc.format_time(ms))
            .unwrap_or_else(|_| t.to_string())
    };
    let (start, end) = (on_clock(&row.start), on_clock(&row.end));
    let mut v = json!(row);
    v["start"] = json!(start);
    v["end"] = json!(end);
    v
}

async fn outcome(s: &SharedState, command: OverrideCommand) -> ApiResult<()> {
    match super::submit(s, LogEntry::Override(command))
        .await
        .map_err(ApiError::from)?
    {
        Ok(()) => Ok(()),
        Err(CommandError::NotFound(id)) => Err(ApiError::not_found(format!(
            "no live override {id} on this schedule"
        ))),
        Err(CommandError::Conflict(m)) => Err(ApiError::new(StatusCode::CONFLICT, "conflict", m)),
        Err(CommandError::Store(m)) => Err(ApiError::unavailable(m)),
    }
}
