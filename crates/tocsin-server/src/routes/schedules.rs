//! On-call schedules over HTTP: the schedules and users of the config, who is on call, the
//! final shift list of a range, and a report of gaps and load per person. Resolution is the
//! pure function of `tocsin-core`, with the runtime overrides from the store.

use super::{pairs, read, QueryPairs};
use crate::auth::authorize;
use crate::error::{ApiError, ApiResult};
use crate::state::SharedState;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::Json;
use serde_json::{json, Value};
use std::sync::Arc;
use tocsin_core::auth::Role;
use tocsin_core::config::Config;
use tocsin_core::schedule::{self, Override, Period, Schedule};
use tocsin_core::time::Millis;
use tocsin_store::sqlite::schedules::live_overrides;

const DAY: Millis = 24 * 3_600_000;
/// Longer ranges cost more than any screen shows; a year and a day covers a yearly report.
const MAX_RANGE: Millis = 367 * DAY;

pub async fn list(State(s): State<SharedState>, headers: HeaderMap) -> ApiResult<Json<Value>> {
    authorize(&s, &headers, Role::Viewer)?;
    let config = s.config.load_full();
    let now = s.clock.now();
    let mut items = Vec::new();
    for sc in &config.schedules {
        let extra = overrides(&s, &sc.id, now - schedule::SHIFT_LOOK_LIMIT).await?;
        items.push(summary(sc, &extra, now));
    }
    Ok(Json(json!({ "items": items })))
}

pub async fn one(
    State(s): State<SharedState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    authorize(&s, &headers, Role::Viewer)?;
    let config = s.config.load_full();
    let sc = find(&config, &id)?;
    let now = s.clock.now();
    let extra = overrides(&s, &id, now - schedule::SHIFT_LOOK_LIMIT).await?;
    let mut v = summary(sc, &extra, now);
    v["layers"] = sc
        .layers
        .iter()
        .map(|l| {
            json!({
                "name": l.name,
                "every": period(l.rotation.every),
                "start": l.rotation.start.to_string(),
                "users": l.users,
                "restrictions": l.restrictions.iter().map(restriction).collect::<Vec<_>>(),
            })
        })
        .collect();
    v["overrides"] = sc
        .overrides
        .iter()
        .map(|o| {
            json!({
                "user": o.user,
                "start": sc.format_time(o.start),
                "end": sc.format_time(o.end),
                "origin": "config",
            })
        })
        .collect();
    Ok(Json(v))
}

/// `GET /api/v1/schedules/{id}/shifts?from=&to=`: the same list as `tocsin oncall shifts`.
pub async fn shifts(
    State(s): State<SharedState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    params: QueryPairs,
) -> ApiResult<Json<Value>> {
    let (config, _, _, list) = shifts_in_range(&s, &headers, &id, params).await?;
    let sc = find(&config, &id)?;
    Ok(Json(json!(list
        .iter()
        .map(|x| sc.view(x))
        .collect::<Vec<_>>())))
}

/// `GET /api/v1/schedules/{id}/oncall?at=`
pub async fn oncall(
    State(s): State<SharedState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    params: QueryPairs,
) -> ApiResult<Json<Value>> {
    authorize(&s, &headers, Role::Viewer)?;
    let config = s.config.load_full();
    let sc = find(&config, &id)?;
    let now = s.clock.now();
    let mut at = now;
    for (k, v) in pairs(params)? {
        match k.as_str() {
            "at" => {
                at = sc
                    .parse_time(&v, now)
                    .map_err(|e| ApiError::bad_request(format!("at: {e}")))?
            }
            other => {
                return Err(ApiError::bad_request(format!(
                    "unknown parameter {other:?}; use at"
                )))
            }
        }
    }
    let extra = overrides(&s, &id, at).await?;
    Ok(Json(json!({
        "schedule": sc.id,
        "at": sc.format_time(at),
        "users": schedule::on_call_at(sc, &extra, at),
    })))
}

/// `GET /api/v1/schedules/{id}/report?from=&to=`: gaps, and hours and night hours per
/// person (night is 22:00 to 07:00 in the person's zone).
pub async fn report(
    State(s): State<SharedState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    params: QueryPairs,
) -> ApiResult<Json<Value>> {
    let (config, from, to, list) = shifts_in_range(&s, &headers, &id, params).await?;
    let sc = find(&config, &id)?;
    let gaps: Vec<Value> = schedule::gaps(&list, from, to)
        .into_iter()
        .map(|(a, b)| json!({"start": sc.format_time(a), "end": sc.format_time(b)}))
        .collect();
    let load = schedule::fairness(&list, |u| config.user(u).map(|u| &u.tz).unwrap_or(&sc.tz));
    Ok(Json(json!({
        "schedule": sc.id,
        "from": sc.format_time(from),
        "to": sc.format_time(to),
        "gaps": gaps,
        "load": load,
    })))
}

pub async fn users(State(s): State<SharedState>, headers: HeaderMap) -> ApiResult<Json<Value>> {
    authorize(&s, &headers, Role::Viewer)?;
    let config = s.config.load_full();
    let items: Vec<Value> = config
        .users
        .iter()
        .map(|u| {
            let schedules: Vec<&str> = config
                .schedules
                .iter()
                .filter(|sc| sc.layers.iter().any(|l| l.users.contains(&u.id)))
                .map(|sc| sc.id.as_str())
                .collect();
            json!({
                "id": u.id, "name": u.name, "time_zone": u.time_zone,
                "language": u.language.as_str(),
                "contacts": u.contacts.iter().map(|c| c.kind.as_str()).collect::<Vec<_>>(),
                "schedules": schedules,
            })
        })
        .collect();
    Ok(Json(json!({ "items": items })))
}

/// Who is on call now, the whole shift going on (when it began and when it ends) and the
/// whole shift after it. `extra` must hold the runtime overrides that end after
/// `now - SHIFT_LOOK_LIMIT`, since one that is over may have begun the current shift.
pub(crate) fn summary(sc: &Schedule, extra: &[Override], now: Millis) -> Value {
    let around = schedule::shift_at(sc, extra, now);
    json!({
        "id": sc.id,
        "name": sc.name,
        "time_zone": sc.time_zone,
        "on_call_now": around.current.as_ref().map(|x| vec![x.user.clone()]).unwrap_or_default(),
        "current_shift": around.current.as_ref().map(|x| sc.view(x)),
        "next_shift": around.next.as_ref().map(|x| sc.view(x)),
    })
}

/// The checks and the resolution the range endpoints share: the caller may read, the
/// schedule exists, the range is valid, and its final shifts with runtime overrides.
async fn shifts_in_range(
    s: &SharedState,
    headers: &HeaderMap,
    id: &str,
    params: QueryPairs,
) -> ApiResult<(Arc<Config>, Millis, Millis, Vec<schedule::Shift>)> {
    authorize(s, headers, Role::Viewer)?;
    let config = s.config.load_full();
    let sc = find(&config, id)?;
    let (from, to) = range(sc, &pairs(params)?, s.clock.now())?;
    let extra = overrides(s, id, from).await?;
    let list = schedule::shifts(sc, &extra, from, to);
    Ok((config, from, to, list))
}

/// A layer's restriction (or a recurring silence's weekly window): its days and times.
pub(crate) fn restriction(r: &tocsin_core::schedule::Restriction) -> Value {
    const DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
    let days: Vec<&str> = DAYS
        .iter()
        .zip(r.days)
        .filter(|(_, on)| *on)
        .map(|(d, _)| *d)
        .collect();
    json!({
        "days": days,
        "from": r.from.strftime("%H:%M").to_string(),
        "to": r.to.strftime("%H:%M").to_string(),
    })
}

fn period(p: Period) -> String {
    match p {
        Period::Hours(n) => format!("{n}h"),
        Period::Days(n) => format!("{n}d"),
        Period::Weeks(n) => format!("{n}w"),
        Period::Months(n) => format!("{n}mo"),
    }
}

pub(crate) fn find<'c>(config: &'c Arc<Config>, id: &str) -> ApiResult<&'c Schedule> {
    config
        .schedule(id)
        .ok_or_else(|| ApiError::not_found(format!("no schedule {id:?}")))
}

/// `from` (default now) and `to` (default a week later), checked.
fn range(sc: &Schedule, params: &[(String, String)], now: Millis) -> ApiResult<(Millis, Millis)> {
    let (mut from, mut to) = (None, None);
    for (k, v) in params {
        let t = sc
            .parse_time(v, now)
            .map_err(|e| ApiError::bad_request(format!("{k}: {e}")));
        match k.as_str() {
            "from" => from = Some(t?),
            "to" => to = Some(t?),
            other => {
                return Err(ApiError::bad_request(format!(
                    "unknown parameter {other:?}; use from, to"
                )))
            }
        }
    }
    let from = from.unwrap_or(now);
    let to = to.unwrap_or(from + 7 * DAY);
    if to <= from {
        return Err(ApiError::bad_request("to: must be after from"));
    }
    if to - from > MAX_RANGE {
        return Err(ApiError::bad_request("the range may be at most 367 days"));
    }
    Ok((from, to))
}

/// The live runtime overrides of a schedule that end after `from`.
pub(crate) async fn overrides(s: &SharedState, id: &str, from: Millis) -> ApiResult<Vec<Override>> {
    let id = id.to_string();
    read(s, move |c| live_overrides(c, &id, from)).await
}
