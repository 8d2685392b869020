//! The router: every endpoint, as listed in `endpoints::ENDPOINTS`.

pub(crate) mod act;
mod alertmanager_api;
mod alertmanager_silences;
mod alerts;
mod calendar;
pub(crate) mod catalog;
mod channels;
pub mod endpoints;
pub(crate) mod incidents;
mod intake;
mod logins;
mod ops;
mod overrides;
mod regroup;
pub(crate) mod reports;
pub(crate) mod schedules;
mod silence_input;
mod silence_view;
pub(crate) mod silences;
mod storms;
mod tokens;

use crate::error::{ApiError, ApiResult};
use crate::state::SharedState;
use axum::extract::DefaultBodyLimit;
use axum::routing::{delete, get, post};
use axum::Router;

/// Request bodies of everything but intake (which applies the configured limit itself).
const SMALL_BODY: usize = 64 * 1024;

pub fn router(state: SharedState) -> Router {
    alertmanager_api::mark_start(state.clock.now());
    let intake = Router::new()
        .route("/api/v1/events", post(intake::native))
        .route("/api/v2/alerts", post(intake::alertmanager_v2))
        .route(
            "/hooks",
            get(intake::hook_by_header).post(intake::hook_by_header),
        )
        .route(
            "/hooks/{key}",
            get(intake::hook_by_path).post(intake::hook_by_path),
        )
        .route("/v2/enqueue", post(intake::pagerduty_enqueue))
        .layer(DefaultBodyLimit::disable());
    let api = Router::new()
        .route("/api/v1/alerts", get(alerts::list))
        .route("/api/v1/alerts/{id}", get(alerts::one))
        .route("/api/v1/incidents", get(incidents::list))
        .route("/api/v1/incidents/{id}", get(incidents::one))
        .route("/api/v1/storms", get(storms::list))
        .route("/api/v1/reports", get(reports::json))
        .route("/api/v1/reports/{file}", get(reports::csv_file))
        .route("/api/v1/incidents/{id}/merge", post(regroup::merge))
        .route("/api/v1/incidents/{id}/split", post(regroup::split))
        .route("/api/v1/incidents/{id}/{action}", post(incidents::act))
        .route("/api/v1/tokens", get(tokens::list).post(tokens::create))
        .route("/api/v1/tokens/{name}", delete(tokens::remove))
        .route("/api/v1/logins", get(logins::list).post(logins::create))
        .route("/api/v1/logins/{id}", delete(logins::remove))
        .route("/api/v1/services", get(catalog::services))
        .route(
            "/api/v1/services/discovered.yaml",
            get(catalog::discovered_yaml),
        )
        .route("/api/v1/teams", get(catalog::teams))
        .route("/api/v1/channels", get(channels::list))
        .route("/api/v1/schedules", get(schedules::list))
        .route("/api/v1/schedules/{id}", get(schedules::one))
        .route("/api/v1/schedules/{id}/shifts", get(schedules::shifts))
        .route("/api/v1/schedules/{id}/oncall", get(schedules::oncall))
        .route("/api/v1/schedules/{id}/report", get(schedules::report))
        .route(
            "/api/v1/schedules/{id}/overrides",
            get(overrides::list).post(overrides::create),
        )
        .route(
            "/api/v1/schedules/{id}/overrides/{override}",
            delete(overrides::remove),
        )
        .route(
            "/api/v1/silences",
            get(silences::list).post(silences::create),
        )
        .route(
            "/api/v1/silences/{id}",
            get(silences::one).delete(silences::expire),
        )
        .route("/api/v1/users", get(schedules::users))
        .route("/api/v1/users/{id}/calendar", post(calendar::create_token))
        .route("/calendar/{token}/user.ics", get(calendar::user_feed))
        .route(
            "/calendar/{token}/schedules/{file}",
            get(calendar::schedule_feed),
        )
        .route("/act/{token}", get(act::show).post(act::perform))
        .route("/api/v1/openapi.json", get(ops::openapi))
        // The Alertmanager API v2 beside intake's POST /api/v2/alerts, for amtool and
        // other Alertmanager clients.
        .route("/api/v2/status", get(alertmanager_api::status))
        .route("/api/v2/receivers", get(alertmanager_api::receivers))
        .route("/api/v2/alerts", get(alertmanager_api::alerts))
        .route("/api/v2/alerts/groups", get(alertmanager_api::groups))
        .route(
            "/api/v2/silences",
            get(alertmanager_silences::list).post(alertmanager_silences::post),
        )
        .route(
            "/api/v2/silence/{id}",
            get(alertmanager_silences::one).delete(alertmanager_silences::expire),
        )
        .route("/-/healthy", get(ops::healthy))
        .route("/-/ready", get(ops::ready))
        .route("/-/reload", post(ops::reload))
        .route("/metrics", get(ops::metrics))
        .layer(DefaultBodyLimit::max(SMALL_BODY));
    intake
        .merge(api)
        .merge(crate::console::router().layer(DefaultBodyLimit::max(SMALL_BODY)))
        .route_layer(axum::middleware::from_fn(crate::front_door::json_only))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            crate::auth::csrf_guard,
        ))
        // Outermost: a request for another host is refused before anything else looks at it.
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            crate::front_door::guard,
        ))
        .with_state(state)
}

async fn method_not_allowed(method: axum::http::Method, uri: axum::http::Uri) -> ApiError {
    ApiError::new(
        axum::http::StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        format!("{method} is not allowed on {}", uri.path()),
    )
}

/// A request body, or axum's refusal as a JSON error (413 past the limit).
pub(crate) fn body(
    b: Result<axum::body::Bytes, axum::extract::rejection::BytesRejection>,
) -> ApiResult<axum::body::Bytes> {
    b.map_err(|r| {
        if r.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(
                r.status(),
                "too_large",
                format!("the body is larger than {SMALL_BODY} bytes"),
            )
        } else {
            ApiError::new(r.status(), "bad_request", r.body_text())
        }
    })
}

/// Query parameters as pairs (repeatable keys), or a JSON error.
pub(crate) type QueryPairs =
    Result<axum::extract::Query<Vec<(String, String)>>, axum::extract::rejection::QueryRejection>;

pub(crate) fn pairs(q: QueryPairs) -> ApiResult<Vec<(String, String)>> {
    q.map(|axum::extract::Query(p)| p)
        .map_err(|r| ApiError::bad_request(format!("invalid query string: {}", r.body_text())))
}

/// The one flag a query string may carry, `name`: `true` or `false` (the last one given
/// counts), false when absent; any other parameter or value is a 400.
pub(crate) fn flag(q: QueryPairs, name: &str) -> ApiResult<bool> {
    let mut on = false;
    for (k, v) in pairs(q)? {
        if k != name {
            return Err(ApiError::bad_request(format!(
                "unknown parameter {k:?}; use {name}"
            )));
        }
        on = match v.as_str() {
            "true" => true,
            "false" => false,
            other => {
                return Err(ApiError::bad_request(format!(
                    "{name}: {other:?} is not true or false"
                )))
            }
        };
    }
    Ok(on)
}

async fn not_found(uri: axum::http::Uri) -> ApiError {
    ApiError::not_found(format!("no such endpoint: {}", uri.path()))
}

/// How long a person's action waits for the engine to apply it.
pub(crate) const COMMAND_WAIT: std::time::Duration = std::time::Duration::from_secs(30);

/// Why a person's change has no outcome to report yet. The two differ for the client: a
/// refused change is gone (send it again), a pending one is durable and will be applied (send
/// it again and it happens twice), so they answer 503 and 202.
#[derive(Debug)]
pub(crate) enum NotApplied {
    /// Not in the log (the writer refused it, e.g. the disk is full), or marked refused by
    /// the engine: it will never be applied.
    Refused(String),
    /// In the log, but the engine did not answer within [`COMMAND_WAIT`] or stopped first:
    /// it will be applied, later or at restart.
    Pending(String),
}

impl NotApplied {
    pub(crate) fn status(&self) -> axum::http::StatusCode {
        match self {
            NotApplied::Refused(_) => axum::http::StatusCode::SERVICE_UNAVAILABLE,
            NotApplied::Pending(_) => axum::http::StatusCode::ACCEPTED,
        }
    }
    pub(crate) fn message(&self) -> &str {
        match self {
            NotApplied::Refused(m) | NotApplied::Pending(m) => m,
        }
    }
}

impl From<NotApplied> for ApiError {
    fn from(e: NotApplied) -> ApiError {
        match e {
            NotApplied::Refused(m) => ApiError::unavailable(m),
            NotApplied::Pending(m) => ApiError::new(axum::http::StatusCode::ACCEPTED, "pending", m),
        }
    }
}

/// Logs a command (an incident action, a silence or an override change) and waits until the
/// engine has applied it: its outcome, or why it cannot be told now ([`NotApplied`]).
pub(crate) async fn submit(
    s: &SharedState,
    entry: tocsin_store::log::LogEntry,
) -> Result<Result<(), tocsin_engine::CommandError>, NotApplied> {
    let payload = tocsin_store::log::encode_entry(&entry);
    let (reply, outcome) = tokio::sync::oneshot::channel();
    s.writer
        .append(payload, Some(reply))
        .await
        .map_err(|e| NotApplied::Refused(e.to_string()))?;
    // The engine answers within a batch; a long wait means it is far behind the log (a
    // storm): the change is durable and will be applied, so say so rather than hang.
    match tokio::time::timeout(COMMAND_WAIT, outcome).await {
        Err(_) => Err(NotApplied::Pending(format!(
            "the change is logged but not applied within {COMMAND_WAIT:?}; the engine is behind and will apply it: do not send it again"
        ))),
        Ok(Err(_)) => Err(NotApplied::Pending(
            "the engine stopped before applying the change; it is logged and will be applied at restart: do not send it again".into(),
        )),
        Ok(Ok(outcome)) => Ok(outcome),
    }
}

/// Runs a store read on a blocking thread with a pooled connection.
pub(crate) async fn read<R: Send + 'static>(
    state: &SharedState,
    f: impl FnOnce(&rusqlite::Connection) -> rusqlite::Result<R> + Send + 'static,
) -> ApiResult<R> {
    state
        .pool
        .clone()
        .read(f)
        .await
        .map_err(|e| ApiError::internal(format!("read task failed: {e}")))?
        .map_err(ApiError::from)
}

/// Parses an id from the path with a JSON error, not axum's plain-text one.
pub(crate) fn parse_id(text: &str, what: &str) -> ApiResult<i64> {
    text.parse::<i64>()
        .ok()
        .filter(|id| *id > 0)
        .ok_or_else(|| {
            ApiError::bad_request(format!("{what} id {text:?} is not a positive number"))
        })
}

pub(crate) async fn read_tokens(
    state: &SharedState,
) -> ApiResult<Vec<tocsin_store::sqlite::tokens::TokenRow>> {
    read(state, tocsin_store::sqlite::tokens::list).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::StatusCode;

    /// A pending change must not look like a refusal: a client that retries a 503 would
    /// apply it twice (issue 16, item 13).
    #[test]
    fn a_pending_change_is_202_and_a_refused_one_503() {
        let pending = ApiError::from(NotApplied::Pending("later".into()));
        assert_eq!(
            (pending.status, pending.code),
            (StatusCode::ACCEPTED, "pending")
        );
        let refused = ApiError::from(NotApplied::Refused("full".into()));
        assert_eq!(refused.status, StatusCode::SERVICE_UNAVAILABLE);
    }
}
