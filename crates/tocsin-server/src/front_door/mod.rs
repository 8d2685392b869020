//! The front door: what every request meets before a handler. Connections are counted and
//! timed (`accept`), the `Host` must be this server's (`host`), a body must arrive in time
//! (`deadline`), a JSON endpoint takes only JSON, and a request without a token is
//! "loopback" only when nothing says a proxy or a browser sent it (`loopback`).

pub(crate) mod accept;
mod deadline;
pub(crate) mod host;
pub(crate) mod loopback;
pub(crate) mod nofile;

use crate::error::ApiError;
use crate::routes::endpoints::{self, BodyKind};
use crate::state::SharedState;
use axum::body::HttpBody;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use host::HostPolicy;
use std::sync::atomic::Ordering;
use std::time::Duration;

/// How long clients get and how many may be connected (`tocsin serve` flags).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// To send a request's headers, and to start the next request on a kept-alive
    /// connection: an idle connection is closed after this.
    pub header_timeout: Duration,
    /// To send a whole request body.
    pub body_timeout: Duration,
    /// Connections served at once; `None`: what the open-file limit allows.
    pub max_connections: Option<usize>,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            header_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(60),
            max_connections: None,
        }
    }
}

/// What the guards need to know about how this server is reached.
#[derive(Debug)]
pub struct FrontDoor {
    pub hosts: HostPolicy,
    /// `--public-url` was given: people reach the server through it, not from loopback.
    pub public_url_set: bool,
    pub body_timeout: Duration,
}

/// Refuses a request for another host (421), and answers 408 when the body was cut by its
/// deadline, whatever the handler made of the read error.
pub async fn guard(State(s): State<SharedState>, request: Request, next: Next) -> Response {
    let host = request
        .headers()
        .get(header::HOST)
        .map(|v| v.to_str().unwrap_or("(not text)"));
    if !s.front_door.hosts.allows(host) {
        let host = host.unwrap_or_default();
        return ApiError::new(
            StatusCode::MISDIRECTED_REQUEST,
            "misdirected",
            format!(
                "this server does not answer for Host {host:?}; if it is reached by that \
                 name, start it with --public-url http(s)://{host} (how people reach it) or \
                 --allow-host {host} (another name, for programs)"
            ),
        )
        .into_response();
    }
    let limit = s.front_door.body_timeout;
    let (parts, body) = request.into_parts();
    let (body, cut) = deadline::with_deadline(body, limit);
    let response = next.run(Request::from_parts(parts, body)).await;
    if cut.load(Ordering::Relaxed) {
        return ApiError::new(
            StatusCode::REQUEST_TIMEOUT,
            "timeout",
            format!("the body did not arrive within {limit:?}"),
        )
        .into_response();
    }
    response
}

/// A body sent to a JSON endpoint must say `Content-Type: application/json` (parameters
/// such as `charset` allowed): a web page can make a browser send `text/plain` or a form
/// anywhere without asking, but not JSON.
pub async fn json_only(request: Request, next: Next) -> Response {
    let json_endpoint = request
        .extensions()
        .get::<MatchedPath>()
        .and_then(|p| endpoints::find(request.method().as_str(), p.as_str()))
        .is_some_and(|e| e.body == BodyKind::Json);
    if json_endpoint && !request.body().is_end_stream() && !is_json(&request) {
        let given = request
            .headers()
            .get(header::CONTENT_TYPE)
            .map_or("none".into(), |v| format!("{v:?}"));
        return ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            format!(
                "{} {} takes JSON: send Content-Type: application/json (the request had {given})",
                request.method(),
                request.uri().path()
            ),
        )
        .into_response();
    }
    next.run(request).await
}

fn is_json(request: &Request) -> bool {
    request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|media| media.trim().eq_ignore_ascii_case("application/json"))
}
