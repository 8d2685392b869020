//! The web console: server-drawn pages under `/ui/` for the on-call engineer, in the same
//! binary as the API. Pages read the store directly; every change a page makes goes through
//! the JSON API (`/api/v1/...`) with the session cookie and its CSRF token, so the console
//! can do nothing the API would refuse.

pub mod accounts;
mod alerts;
mod assets;
mod board;
mod catalog;
mod charts;
mod detail;
mod hash_pool;
pub(crate) mod i18n;
mod live;
mod login;
mod oncall;
pub mod password;
pub(crate) mod render;
mod reports;
mod silences;

use crate::state::SharedState;
use accounts::Viewer;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;

pub fn router() -> Router<SharedState> {
    Router::new()
        .route("/", get(|| async { Redirect::to("/ui/incidents") }))
        .route("/ui", get(|| async { Redirect::to("/ui/incidents") }))
        .route("/ui/", get(|| async { Redirect::to("/ui/incidents") }))
        .route("/ui/login", get(login::form).post(login::submit))
        .route("/ui/logout", post(login::logout))
        .route("/ui/prefs", post(login::prefs))
        .route("/ui/static/{file}", get(assets::serve))
        .route("/ui/live", get(live::stream))
        .route("/ui/incidents", get(board::page))
        .route("/ui/incidents/{id}", get(detail::page))
        .route("/ui/alerts", get(alerts::explorer))
        .route("/ui/alerts/{id}", get(alerts::detail))
        .route("/ui/silences", get(silences::page))
        .route("/ui/silences/new", get(silences::new))
        .route("/ui/oncall", get(oncall::index))
        .route("/ui/oncall/{schedule}", get(oncall::calendar))
        .route("/ui/policies", get(catalog::policies))
        .route("/ui/services", get(catalog::services))
        .route("/ui/teams", get(catalog::teams))
        .route("/ui/reports", get(reports::page))
}

impl FromRequestParts<SharedState> for Viewer {
    type Rejection = Response;

    /// The signed-in person, or a way to sign in: pages redirect to the sign-in page (and
    /// come back after), parts that scripts fetch answer 401 so the script reloads the page.
    async fn from_request_parts(parts: &mut Parts, s: &SharedState) -> Result<Self, Response> {
        let found = accounts::session_cookie(&parts.headers)
            .and_then(|c| s.console.resolve(&s.config.load(), c, s.clock.now()));
        if let Some(mut viewer) = found {
            viewer.paging_trouble = s.deliveries.failing(&s.config.load());
            return Ok(viewer);
        }
        let fragment = parts.uri.query().is_some_and(|q| q.contains("fragment=1"))
            || parts.uri.path() == "/ui/live";
        if fragment {
            return Err((StatusCode::UNAUTHORIZED, "sign in again").into_response());
        }
        let next = parts
            .uri
            .path_and_query()
            .map(|p| p.as_str())
            .unwrap_or("/ui/incidents");
        let next: String = minijinja::filters::urlencode(&minijinja::Value::from(next))
            .map(|v| v.to_string())
            .unwrap_or_default();
        Err(Redirect::to(&format!("/ui/login?next={next}")).into_response())
    }
}

/// A page's answer when what it shows cannot be had: the message on an error page.
pub(crate) fn error_page(viewer: &Viewer, now: i64, status: StatusCode, message: &str) -> Response {
    let mut r = render::page(
        "error.html",
        viewer,
        "",
        now,
        minijinja::context! { message => message },
    );
    *r.status_mut() = status;
    r
}

/// Runs a store read for a page; a failure becomes an error page.
pub(crate) async fn read<R: Send + 'static>(
    s: &SharedState,
    viewer: &Viewer,
    f: impl FnOnce(&rusqlite::Connection) -> rusqlite::Result<R> + Send + 'static,
) -> Result<R, Response> {
    crate::routes::read(s, f).await.map_err(|e| {
        error_page(
            viewer,
            s.clock.now(),
            StatusCode::SERVICE_UNAVAILABLE,
            &e.message,
        )
    })
}
