//! Silences through the Alertmanager API v2: create or update (`POST /api/v2/silences`),
//! list, get one, expire (`DELETE /api/v2/silence/{id}`).
//!
//! A change is checked here with Alertmanager's rules and messages, then written to the event
//! log; the engine applies it in order (deciding whether an update happens in place) and
//! answers after its commit, so the reply reflects what the engine did.

use super::alertmanager_api::{caller, AmError, AmResult};
use super::{pairs, read, QueryPairs};
use crate::matching::off_worker;
use crate::query::am_filter;
use crate::state::SharedState;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use serde::{Deserialize, Serialize};
use tocsin_core::auth::Role;
use tocsin_core::command::{SilenceAction, SilenceCommand};
use tocsin_core::silence::{
    filter_selects, is_uuid, list_key, state_at, uuid_v4, validate, Matcher, SilenceSpec,
};
use tocsin_core::time::{parse_rfc3339, to_rfc3339, Millis};
use tocsin_engine::CommandError;
use tocsin_store::log::LogEntry;
use tocsin_store::sqlite::silences::{self, SilenceRecord};

/// Expired silences stay listed this long after they end, as Alertmanager's default
/// retention (`--data.retention=120h`) keeps them.
pub(super) const LISTED_AFTER_END: Millis = 120 * 3600 * 1000;
const MAX_TEXT: usize = 16 * 1024;

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApiMatcher {
    name: String,
    value: String,
    is_regex: bool,
    #[serde(default = "yes")]
    is_equal: bool,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct PostableSilence {
    #[serde(default)]
    id: Option<String>,
    matchers: Vec<ApiMatcher>,
    starts_at: String,
    ends_at: String,
    created_by: String,
    comment: String,
}

#[derive(Debug, Serialize)]
pub struct SilenceStatus {
    state: &'static str,
}

/// Alertmanager's `gettableSilence`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GettableSilence {
    id: String,
    status: SilenceStatus,
    updated_at: String,
    matchers: Vec<ApiMatcher>,
    starts_at: String,
    ends_at: String,
    created_by: String,
    comment: String,
}

fn gettable(r: SilenceRecord, now: Millis) -> GettableSilence {
    GettableSilence {
        status: SilenceStatus {
            state: state_at(r.spec.starts_at, r.spec.ends_at, now).as_str(),
        },
        id: r.id,
        updated_at: to_rfc3339(r.updated_at),
        matchers: r
            .spec
            .matchers
            .into_iter()
            .map(|m| ApiMatcher {
                name: m.name,
                value: m.value,
                is_regex: m.is_regex,
                is_equal: m.is_equal,
            })
            .collect(),
        starts_at: to_rfc3339(r.spec.starts_at),
        ends_at: to_rfc3339(r.spec.ends_at),
        created_by: r.spec.created_by,
        comment: r.spec.comment,
    }
}

fn time(field: &str, text: &str) -> AmResult<Millis> {
    parse_rfc3339(text).map_err(|m| AmError::bad_request(format!("{field}: {m}")))
}

fn spec_of(p: &PostableSilence) -> AmResult<SilenceSpec> {
    for (field, text) in [("createdBy", &p.created_by), ("comment", &p.comment)] {
        if text.len() > MAX_TEXT {
            return Err(AmError::bad_request(format!(
                "{field}: at most {MAX_TEXT} bytes"
            )));
        }
    }
    Ok(SilenceSpec {
        matchers: p
            .matchers
            .iter()
            .map(|m| Matcher {
                name: m.name.clone(),
                value: m.value.clone(),
                is_regex: m.is_regex,
                is_equal: m.is_equal,
            })
            .collect(),
        starts_at: time("startsAt", &p.starts_at)?,
        ends_at: time("endsAt", &p.ends_at)?,
        created_by: p.created_by.clone(),
        comment: p.comment.clone(),
    })
}

async fn find(s: &SharedState, id: &str) -> AmResult<SilenceRecord> {
    if !is_uuid(id) {
        return Err(AmError::bad_request(format!(
            "silenceID in path must be of type uuid: {id:?}"
        )));
    }
    let key = id.to_string();
    read(s, move |c| silences::get(c, &key))
        .await?
        .ok_or_else(|| AmError::not_found("silence not found"))
}

/// Logs a silence command and waits until the engine has applied it.
async fn submit(s: &SharedState, command: SilenceCommand) -> AmResult<()> {
    let unavailable = |m: String| AmError {
        status: StatusCode::SERVICE_UNAVAILABLE,
        message: m,
    };
    match super::submit(s, LogEntry::Silence(command))
        .await
        .map_err(|e| AmError {
            status: e.status(),
            message: e.message().to_string(),
        })? {
        Ok(()) => Ok(()),
        Err(CommandError::Store(m)) => Err(unavailable(m)),
        Err(e) => Err(AmError::bad_request(e.to_string())),
    }
}

pub async fn post(
    State(s): State<SharedState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> AmResult<Json<serde_json::Value>> {
    let who = caller(&s, &headers, Role::Responder)?;
    let body = super::body(body)?;
    let posted: PostableSilence = serde_json::from_slice(&body)
        .map_err(|e| AmError::bad_request(format!("invalid silence: {e}")))?;
    let spec = spec_of(&posted)?;
    let now = s.clock.now();
    // Off the async worker: up to 32 regexes to compile, milliseconds each at the limit.
    let spec = off_worker(move || validate(&spec, now).map(|()| spec))
        .await?
        .map_err(AmError::bad_request)?;
    let id = posted.id.filter(|id| !id.is_empty());
    match &id {
        // An update replaces a silence: the number of live ones stays the same.
        Some(id) => {
            find(&s, id).await?;
        }
        None => super::silences::room_for_one_more(&s, now)
            .await?
            .map_err(|m| AmError::bad_request(format!("silence invalid: {m}")))?,
    }
    let new_id = uuid_v4(rand::random());
    submit(
        &s,
        SilenceCommand {
            action: SilenceAction::Set {
                id: id.clone(),
                new_id: new_id.clone(),
                silence: spec,
            },
            actor: who.name,
            at: now,
        },
    )
    .await?;
    // The engine either changed `id` in place or made `new_id`.
    let key = new_id.clone();
    let made = read(&s, move |c| silences::get(c, &key)).await?.is_some();
    let silence_id = if made { new_id } else { id.unwrap_or(new_id) };
    Ok(Json(serde_json::json!({ "silenceID": silence_id })))
}

pub async fn list(
    State(s): State<SharedState>,
    headers: HeaderMap,
    params: QueryPairs,
) -> AmResult<Json<Vec<GettableSilence>>> {
    caller(&s, &headers, Role::Viewer)?;
    let params = pairs(params)?;
    let filter = off_worker(move || am_filter(&params))
        .await?
        .map_err(AmError::bad_request)?;
    let now = s.clock.now();
    let since = now - LISTED_AFTER_END;
    let rows = read(&s, move |c| silences::list(c, since)).await?;
    let mut rows: Vec<SilenceRecord> = rows
        .into_iter()
        .filter(|r| filter_selects(&filter, &r.spec.matchers))
        .collect();
    rows.sort_by_key(|r| list_key(r.spec.starts_at, r.spec.ends_at, now));
    Ok(Json(rows.into_iter().map(|r| gettable(r, now)).collect()))
}

pub async fn one(
    State(s): State<SharedState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> AmResult<Json<GettableSilence>> {
    caller(&s, &headers, Role::Viewer)?;
    let record = find(&s, &id).await?;
    Ok(Json(gettable(record, s.clock.now())))
}

pub async fn expire(
    State(s): State<SharedState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> AmResult<StatusCode> {
    let who = caller(&s, &headers, Role::Responder)?;
    find(&s, &id).await?;
    submit(
        &s,
        SilenceCommand {
            action: SilenceAction::Expire { id },
            actor: who.name,
            at: s.clock.now(),
        },
    )
    .await?;
    Ok(StatusCode::OK)
}
