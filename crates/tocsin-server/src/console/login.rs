//! Signing in and out, and a person's language and zone.

use super::accounts::{self, Viewer, COOKIE, SESSION_TTL};
use super::{i18n, render};
use crate::error::{ApiError, ApiResult};
use crate::state::SharedState;
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Form, Json};
use minijinja::context;
use serde::Deserialize;
use tocsin_core::config::Language;
use tocsin_store::sqlite::console::Prefs;

#[derive(Deserialize, Default)]
pub struct FormQuery {
    next: Option<String>,
    lang: Option<String>,
}

/// Where to go after signing in: only a console page of this server, never elsewhere (an
/// open redirect would let a phishing link borrow tocsin's name). It becomes the `Location`
/// header, so only visible ASCII passes (a CRLF made a 500 after the cookie was issued);
/// the console's own links percent-encode everything else.
fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n)
            if n.starts_with("/ui/")
                && !n.starts_with("//")
                && n.bytes().all(|b| b.is_ascii_graphic() && b != b'\\') =>
        {
            n.to_string()
        }
        _ => "/ui/incidents".into(),
    }
}

/// The sign-in page's language: asked for, else the browser's first choice.
fn login_language(asked: Option<&str>, headers: &HeaderMap) -> Language {
    asked
        .and_then(Language::parse)
        .or_else(|| {
            let accept = headers.get(header::ACCEPT_LANGUAGE)?.to_str().ok()?;
            accept
                .trim_start()
                .starts_with("zh")
                .then_some(Language::Zh)
        })
        .unwrap_or(Language::En)
}

fn login_page(language: Language, next: &str, username: &str, error: Option<&str>) -> Response {
    render::render(
        "login.html",
        context! {
            lang => i18n::code(language),
            asset_version => &*super::assets::VERSION,
            next => next,
            username => username,
            error => error,
        },
    )
}

pub async fn form(
    headers: HeaderMap,
    q: Result<Query<FormQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let q = q.map(|Query(q)| q).unwrap_or_default();
    let language = login_language(q.lang.as_deref(), &headers);
    login_page(language, &safe_next(q.next.as_deref()), "", None)
}

#[derive(Deserialize)]
pub struct LoginForm {
    username: String,
    password: String,
    next: Option<String>,
}

/// Counts the attempt against the lockout, checks the password (argon2, on the bounded
/// password pool), then starts a session. A wrong user and a wrong password look the same
/// from outside, and take as long.
pub async fn submit(
    State(s): State<SharedState>,
    headers: HeaderMap,
    form: Result<Form<LoginForm>, axum::extract::rejection::FormRejection>,
) -> Response {
    let language = login_language(None, &headers);
    let Ok(Form(form)) = form else {
        let mut r = login_page(language, "/ui/incidents", "", Some("login.bad"));
        *r.status_mut() = StatusCode::BAD_REQUEST;
        return r;
    };
    if !same_origin(&headers) {
        return (
            StatusCode::FORBIDDEN,
            "sign-in from another site is refused",
        )
            .into_response();
    }
    let next = safe_next(form.next.as_deref());
    let user = form.username.trim().to_string();
    let now = s.clock.now();
    let fail = |key: &str, status: StatusCode| {
        let mut r = login_page(language, &next, &user, Some(key));
        *r.status_mut() = status;
        r
    };
    if user.is_empty() || user.len() > 256 || s.console.reserve(&user, now).is_err() {
        // Retry-After: the lockout's length, so a script knows when to come back.
        let mut r = fail("login.locked", StatusCode::TOO_MANY_REQUESTS);
        r.headers_mut().insert(
            header::RETRY_AFTER,
            header::HeaderValue::from(crate::console::accounts::LOCKOUT / 1000),
        );
        return r;
    }
    let hash = s
        .console
        .credentials(&s.config.load(), &user)
        .map(|c| c.password_hash);
    let Ok(matches) = s.console.check_password(form.password, hash).await else {
        // Not checked, so not counted: the person tries again in a moment.
        s.console.unreserve(&user);
        tracing::warn!(user = %user, "console sign-in refused: the password pool is busy");
        let mut r = fail("login.busy", StatusCode::SERVICE_UNAVAILABLE);
        r.headers_mut()
            .insert(header::RETRY_AFTER, header::HeaderValue::from_static("1"));
        return r;
    };
    if !matches {
        tracing::info!(user = %user, "console sign-in refused");
        return fail("login.bad", StatusCode::UNAUTHORIZED);
    }
    match s.console.start(&s.db_path, &user, now) {
        Ok(cookie) => {
            tracing::info!(user = %user, "console sign-in");
            (
                [(
                    header::SET_COOKIE,
                    cookie_header(&s, &cookie, SESSION_TTL / 1000),
                )],
                Redirect::to(&next),
            )
                .into_response()
        }
        Err(e) => (StatusCode::SERVICE_UNAVAILABLE, e).into_response(),
    }
}

/// A form posted from a page of another site carries its `Origin`; refuse it (the session
/// cookie is `SameSite=Lax`, this guards the sign-in itself).
fn same_origin(headers: &HeaderMap) -> bool {
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
        return true;
    };
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    origin
        .split_once("://")
        .is_some_and(|(_, rest)| rest.trim_end_matches('/') == host)
}

/// `Secure` when the console is reached over HTTPS (its public URL says so); `Lax` so a
/// link from a chat message or a mail opens the page signed in, while every change needs
/// the CSRF token anyway.
fn cookie_header(s: &SharedState, value: &str, max_age: i64) -> String {
    let secure = if s.public_url.starts_with("https://") {
        "; Secure"
    } else {
        ""
    };
    format!("{COOKIE}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}")
}

pub async fn logout(State(s): State<SharedState>, headers: HeaderMap) -> Response {
    if let Some(cookie) = accounts::session_cookie(&headers) {
        if let Err(e) = s.console.end(&s.db_path, cookie) {
            return (StatusCode::SERVICE_UNAVAILABLE, e).into_response();
        }
    }
    (
        [(header::SET_COOKIE, cookie_header(&s, "", 0))],
        StatusCode::NO_CONTENT,
    )
        .into_response()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PrefsBody {
    language: Option<String>,
    time_zone: Option<String>,
}

/// Saves the viewer's language or zone (the CSRF guard has checked the token).
pub async fn prefs(
    State(s): State<SharedState>,
    viewer: Viewer,
    body: Result<Json<PrefsBody>, axum::extract::rejection::JsonRejection>,
) -> ApiResult<StatusCode> {
    let Json(body) = body.map_err(|e| ApiError::bad_request(e.body_text()))?;
    let mut prefs: Prefs = s.console.prefs(&viewer.id);
    if let Some(l) = body.language {
        let language = Language::parse(&l)
            .ok_or_else(|| ApiError::bad_request(format!("language: {l:?}; use en or zh")))?;
        prefs.language = Some(i18n::code(language)[..2].to_string());
    }
    if let Some(z) = body.time_zone {
        jiff::tz::TimeZone::get(&z)
            .map_err(|_| ApiError::bad_request(format!("time_zone: {z:?} is not an IANA zone")))?;
        prefs.time_zone = Some(z);
    }
    let state = s.clone();
    tokio::task::spawn_blocking(move || {
        state.console.set_prefs(&state.db_path, &viewer.id, &prefs)
    })
    .await
    .map_err(|e| ApiError::internal(e.to_string()))?
    .map_err(ApiError::unavailable)?;
    Ok(StatusCode::NO_CONTENT)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_console_pages_are_followed_after_sign_in() {
        assert_eq!(safe_next(Some("/ui/incidents/4")), "/ui/incidents/4");
        assert_eq!(safe_next(Some("https://evil.example/ui/")), "/ui/incidents");
        assert_eq!(safe_next(Some("//evil.example/ui/")), "/ui/incidents");
        assert_eq!(safe_next(Some("/api/v1/tokens")), "/ui/incidents");
        assert_eq!(safe_next(None), "/ui/incidents");
        assert_eq!(safe_next(Some("/ui/\\evil.example")), "/ui/incidents");
        assert_eq!(safe_next(Some("/ui/x\r\nSet-Cookie: a=b")), "/ui/incidents");
        assert_eq!(safe_next(Some("/ui/x\ty")), "/ui/incidents");
        assert_eq!(safe_next(Some("/ui/事件")), "/ui/incidents");
        assert_eq!(
            safe_next(Some("/ui/incidents?state=open&q=%E4%BA%8B")),
            "/ui/incidents?state=open&q=%E4%BA%8B"
        );
    }

    #[test]
    fn origins_must_match_the_host() {
        let mut h = HeaderMap::new();
        assert!(same_origin(&h));
        h.insert(header::HOST, "127.0.0.1:8080".parse().unwrap());
        h.insert(header::ORIGIN, "http://127.0.0.1:8080".parse().unwrap());
        assert!(same_origin(&h));
        h.insert(header::ORIGIN, "https://evil.example".parse().unwrap());
        assert!(!same_origin(&h));
    }
}
