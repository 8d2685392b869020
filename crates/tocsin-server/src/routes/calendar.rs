//! iCalendar feeds of on-call shifts that Google Calendar, Outlook and Thunderbird subscribe
//! to. Calendar apps cannot send a bearer token, so each user has an unguessable feed token
//! in the URL instead (only its SHA-256 is stored); an admin makes or replaces it.

use super::read;
use super::schedules::overrides;
use crate::auth::{authorize, generate_token, sha256_hex};
use crate::error::{ApiError, ApiResult};
use crate::state::SharedState;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};
use tocsin_core::auth::Role;
use tocsin_core::schedule::{
    calendar, shift_at, shifts, CalendarEvent, Override, Schedule, Shift, SHIFT_LOOK_LIMIT,
};
use tocsin_core::time::Millis;
use tocsin_store::sqlite::{self, schedules as store};

const DAY: Millis = 24 * 3_600_000;
/// What a feed holds: the shifts of the last month, for "who had it", and half a year ahead.
const PAST: Millis = 31 * DAY;
const AHEAD: Millis = 183 * DAY;

/// The whole shifts that overlap `[now - PAST, now + AHEAD)`: the first and last are not cut
/// at the window's edges, so an event keeps its times (and UID) from one fetch to the next
/// and only ever leaves the feed whole. The runtime overrides are those that end after
/// `now - PAST - SHIFT_LOOK_LIMIT`, how far back the first shift may have begun.
async fn feed_shifts(s: &SharedState, sc: &Schedule, now: Millis) -> ApiResult<Vec<Shift>> {
    let (from, to) = (now - PAST, now + AHEAD);
    let extra: Vec<Override> = overrides(s, &sc.id, from - SHIFT_LOOK_LIMIT).await?;
    let lo = shift_at(sc, &extra, from)
        .current
        .map_or(from, |x| x.start.min(from));
    let hi = shift_at(sc, &extra, to - 1)
        .current
        .map_or(to, |x| x.end.max(to));
    Ok(shifts(sc, &extra, lo, hi))
}

/// Stable across fetches: the schedule, the user and when the shift begins.
fn uid(sc: &Schedule, x: &Shift) -> String {
    format!("{}-{}-{}@tocsin", sc.id, x.user, x.start)
}

/// `POST /api/v1/users/{id}/calendar`: a new feed token for the user (the old one stops
/// working), with the feed paths.
pub async fn create_token(
    State(s): State<SharedState>,
    headers: HeaderMap,
    Path(user): Path<String>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let who = authorize(&s, &headers, Role::Admin)?;
    let config = s.config.load_full();
    if config.user(&user).is_none() {
        return Err(ApiError::not_found(format!("no user {user:?}")));
    }
    let token = generate_token();
    let hash = sha256_hex(&token);
    let now = s.clock.now();
    let (state, u) = (s.clone(), user.clone());
    tokio::task::spawn_blocking(move || {
        let conn = sqlite::open_admin(&state.db_path)?;
        store::set_calendar_token(&conn, &u, &hash, now, &who.name)
    })
    .await
    .map_err(|e| ApiError::internal(e.to_string()))??;
    tracing::info!(%user, "calendar feed token made");
    let schedules: serde_json::Map<String, Value> = config
        .schedules
        .iter()
        .map(|sc| {
            (
                sc.id.clone(),
                json!(format!("/calendar/{token}/schedules/{}.ics", sc.id)),
            )
        })
        .collect();
    Ok((
        StatusCode::CREATED,
        Json(json!({
            "user": user,
            "token": token,
            "user_feed": format!("/calendar/{token}/user.ics"),
            "schedule_feeds": schedules,
        })),
    ))
}

/// `GET /calendar/{token}/user.ics`: the user's shifts in every schedule.
pub async fn user_feed(State(s): State<SharedState>, Path(token): Path<String>) -> Response {
    match user_events(&s, &token).await {
        Ok(body) => ics(body),
        Err(e) => e.into_response(),
    }
}

/// `GET /calendar/{token}/schedules/{id}.ics`: everyone's shifts in one schedule.
pub async fn schedule_feed(
    State(s): State<SharedState>,
    Path((token, file)): Path<(String, String)>,
) -> Response {
    match schedule_events(&s, &token, &file).await {
        Ok(body) => ics(body),
        Err(e) => e.into_response(),
    }
}

fn ics(body: String) -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/calendar; charset=utf-8"),
            (header::CACHE_CONTROL, "private, max-age=300"),
        ],
        body,
    )
        .into_response()
}

/// The user a feed token belongs to; an unknown token is "not found", saying no more.
async fn owner(s: &SharedState, token: &str) -> ApiResult<String> {
    let hash = sha256_hex(token);
    read(s, move |c| store::calendar_user(c, &hash))
        .await?
        .ok_or_else(|| ApiError::not_found("no such calendar"))
}

async fn user_events(s: &SharedState, token: &str) -> ApiResult<String> {
    let user = owner(s, token).await?;
    let config = s.config.load_full();
    let now = s.clock.now();
    let mut found = Vec::new();
    for sc in &config.schedules {
        for x in feed_shifts(s, sc, now)
            .await?
            .into_iter()
            .filter(|x| x.user == user)
        {
            found.push((sc, x));
        }
    }
    found.sort_by_key(|(_, x)| x.start);
    let summaries: Vec<String> = found
        .iter()
        .map(|(sc, _)| format!("On call: {}", sc.name))
        .collect();
    let events: Vec<CalendarEvent<'_>> = found
        .iter()
        .zip(&summaries)
        .map(|((sc, x), summary)| CalendarEvent {
            uid: uid(sc, x),
            start: x.start,
            end: x.end,
            summary,
            description: "",
        })
        .collect();
    let name = config.user(&user).map(|u| u.name.as_str()).unwrap_or(&user);
    Ok(calendar(&format!("On call: {name}"), &events, now))
}

async fn schedule_events(s: &SharedState, token: &str, file: &str) -> ApiResult<String> {
    owner(s, token).await?;
    let id = file
        .strip_suffix(".ics")
        .ok_or_else(|| ApiError::not_found("no such calendar"))?;
    let config = s.config.load_full();
    let sc = config
        .schedule(id)
        .ok_or_else(|| ApiError::not_found(format!("no schedule {id:?}")))?;
    let now = s.clock.now();
    let list = feed_shifts(s, sc, now).await?;
    let summaries: Vec<String> = list
        .iter()
        .map(|x| {
            let name = config
                .user(&x.user)
                .map(|u| u.name.as_str())
                .unwrap_or(&x.user);
            format!("{name} on call ({})", sc.name)
        })
        .collect();
    let events: Vec<CalendarEvent<'_>> = list
        .iter()
        .zip(&summaries)
        .map(|(x, summary)| CalendarEvent {
            uid: uid(sc, x),
            start: x.start,
            end: x.end,
            summary,
            description: "",
        })
        .collect();
    Ok(calendar(&format!("{} on call", sc.name), &events, now))
}
