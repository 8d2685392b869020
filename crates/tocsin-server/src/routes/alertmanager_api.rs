//! The read side of the Alertmanager API v2 (`/api/v2/status`, `/receivers`, `/alerts`,
//! `/alerts/groups`), enough for `amtool` and other Alertmanager clients unchanged. Intake
//! (`POST /api/v2/alerts`) is in `intake.rs`; silences in `alertmanager_silences.rs`.
//!
//! Errors answer as Alertmanager's do, a JSON string, so clients print the message.

use super::{pairs, QueryPairs};
use crate::am_view::{self, AlertGroup, GettableAlert, Receiver};
use crate::auth::authorize;
use crate::error::ApiError;
use crate::matching::{off_worker, Budget, MATCH_BUDGET};
use crate::query::{am_alert_query, AmAlertQuery};
use crate::state::SharedState;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::OnceLock;
use tocsin_core::auth::Role;
use tocsin_core::silence::matches_all;
use tocsin_core::time::{parse_rfc3339, to_rfc3339, Millis};
use tocsin_store::sqlite::queries;
use tocsin_store::sqlite::rows::AlertRow;

/// An error as Alertmanager answers it: a status and a JSON string.
#[derive(Debug)]
pub struct AmError {
    pub status: StatusCode,
    pub message: String,
}

impl AmError {
    pub fn bad_request(message: impl Into<String>) -> Self {
        AmError {
            status: StatusCode::BAD_REQUEST,
            message: message.into(),
        }
    }
    pub fn not_found(message: impl Into<String>) -> Self {
        AmError {
            status: StatusCode::NOT_FOUND,
            message: message.into(),
        }
    }
}

impl From<ApiError> for AmError {
    fn from(e: ApiError) -> Self {
        AmError {
            status: e.status,
            message: e.message,
        }
    }
}

impl IntoResponse for AmError {
    fn into_response(self) -> Response {
        (self.status, Json(Value::String(self.message))).into_response()
    }
}

pub type AmResult<T> = Result<T, AmError>;

/// When this server started, for `uptime`.
static STARTED: OnceLock<Millis> = OnceLock::new();

pub fn mark_start(now: Millis) {
    let _ = STARTED.set(now);
}

/// Checks the caller: a token (or console session) with `role`. Never loopback without a
/// token: a web page can make a browser call 127.0.0.1, and these read alerts and make
/// silences.
pub fn caller(
    s: &SharedState,
    headers: &HeaderMap,
    role: Role,
) -> AmResult<crate::auth::Principal> {
    authorize(s, headers, role).map_err(AmError::from)
}

pub async fn status(State(s): State<SharedState>, headers: HeaderMap) -> AmResult<Json<Value>> {
    caller(&s, &headers, Role::Viewer)?;
    let config = s.config.load();
    let started = STARTED.get().copied().unwrap_or_else(|| s.clock.now());
    Ok(Json(json!({
        "cluster": {"name": "tocsin", "status": "ready", "peers": []},
        "versionInfo": {
            "version": env!("CARGO_PKG_VERSION"),
            "revision": "",
            "branch": "",
            "buildUser": "",
            "buildDate": "",
            "goVersion": "none (tocsin is not written in Go)",
        },
        "config": {"original": am_view::config_yaml(&config)},
        "uptime": to_rfc3339(started),
    })))
}

pub async fn receivers(
    State(s): State<SharedState>,
    headers: HeaderMap,
) -> AmResult<Json<Vec<Receiver>>> {
    caller(&s, &headers, Role::Viewer)?;
    Ok(Json(am_view::receivers(&s.config.load())))
}

/// The firing alerts the query selects, with their stored rows (for grouping). Parsing, the
/// read and the matching run on a blocking thread, the matching within `MATCH_BUDGET`: the
/// filters are a client's regexes, and an async worker held by them would hold up every
/// other request, intake included.
async fn selected(s: &SharedState, params: QueryPairs) -> AmResult<Vec<(AlertRow, GettableAlert)>> {
    let params = pairs(params)?;
    let s = s.clone();
    off_worker(move || select_blocking(&s, &params)).await?
}

fn select_blocking(
    s: &SharedState,
    params: &[(String, String)],
) -> AmResult<Vec<(AlertRow, GettableAlert)>> {
    let q: AmAlertQuery = am_alert_query(params).map_err(AmError::bad_request)?;
    let rows = s
        .pool
        .with(queries::firing_alerts)
        .map_err(ApiError::from)?;
    let config = s.config.load();
    let now = s.clock.now();
    // Inhibiting sources are firing alerts themselves, so their fingerprints are all here.
    let fingerprints: HashMap<i64, String> = rows
        .iter()
        .map(|r| (r.id, am_view::fingerprint(r)))
        .collect();
    let budget = Budget::start(MATCH_BUDGET);
    let mut out = budget
        .filter_map(rows, |row| {
            // As Alertmanager: an alert past its end is over, even before tocsin resolves it.
            let ended = row
                .ends_at
                .as_deref()
                .and_then(|t| parse_rfc3339(t).ok())
                .is_some_and(|t| t < now);
            if ended || !matches_all(&q.filter, &am_view::labels_of(&row)) {
                return None;
            }
            let inhibited_by = row
                .inhibited_by
                .iter()
                .filter_map(|id| fingerprints.get(id).cloned())
                .collect();
            let alert = am_view::gettable(&config, &row, inhibited_by, now);
            let silenced = !alert.status.silenced_by.is_empty();
            let inhibited = !alert.status.inhibited_by.is_empty();
            // Alertmanager's filter: `active` selects alerts nothing mutes; `silenced` and
            // `inhibited` drop the alerts muted that way when false.
            if (silenced && !q.silenced)
                || (inhibited && !q.inhibited)
                || (!silenced && !inhibited && !q.active)
            {
                return None;
            }
            if let Some(r) = &q.receiver {
                if !alert.receivers.iter().any(|x| r.is_match(&x.name)) {
                    return None;
                }
            }
            Some((row, alert))
        })
        .map_err(|message| AmError {
            status: StatusCode::SERVICE_UNAVAILABLE,
            message,
        })?;
    out.sort_by(|a, b| a.1.fingerprint.cmp(&b.1.fingerprint));
    Ok(out)
}

pub async fn alerts(
    State(s): State<SharedState>,
    headers: HeaderMap,
    params: QueryPairs,
) -> AmResult<Json<Vec<GettableAlert>>> {
    caller(&s, &headers, Role::Viewer)?;
    let alerts = selected(&s, params).await?;
    Ok(Json(alerts.into_iter().map(|(_, a)| a).collect()))
}

pub async fn groups(
    State(s): State<SharedState>,
    headers: HeaderMap,
    params: QueryPairs,
) -> AmResult<Json<Vec<AlertGroup>>> {
    caller(&s, &headers, Role::Viewer)?;
    let alerts = selected(&s, params).await?;
    Ok(Json(am_view::groups(&s.config.load(), alerts)))
}
