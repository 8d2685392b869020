//! Bearer tokens and roles. Tokens are looked up by their SHA-256, so no token is ever kept
//! in memory or on disk in the clear, except the bootstrap admin token file the operator owns.

use crate::error::ApiError;
use crate::front_door::loopback;
use crate::state::AppState;
use axum::http::{header, HeaderMap, StatusCode};
use base64::Engine as _;
use std::collections::HashMap;
use std::net::SocketAddr;
use tocsin_core::auth::Role;
use tocsin_core::config::Config;
use tocsin_store::sqlite::tokens::TokenRow;

/// Who is calling.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub name: String,
    pub role: Role,
}

/// Every valid token, by hash: the admin token, config tokens and tokens made through the API.
#[derive(Debug, Default)]
pub struct TokenTable {
    by_hash: HashMap<String, Principal>,
}

impl TokenTable {
    pub fn build(admin_sha256: &str, config: &Config, stored: &[TokenRow]) -> TokenTable {
        let mut by_hash = HashMap::new();
        for t in stored {
            by_hash.insert(
                t.sha256.clone(),
                Principal {
                    name: t.name.clone(),
                    role: t.role,
                },
            );
        }
        for t in &config.tokens {
            by_hash.insert(
                t.sha256.clone(),
                Principal {
                    name: t.name.clone(),
                    role: t.role,
                },
            );
        }
        by_hash.insert(
            admin_sha256.to_string(),
            Principal {
                name: "admin".into(),
                role: Role::Admin,
            },
        );
        TokenTable { by_hash }
    }

    fn lookup(&self, token: &str) -> Option<&Principal> {
        self.by_hash.get(&sha256_hex(token))
    }
}

pub use tocsin_core::auth::sha256_hex;

/// A new random API token: 32 bytes from the OS generator, URL-safe, `tsn_...`.
pub fn generate_token() -> String {
    random_secret("tsn_")
}

/// A new random integration key, `tik_...`: the same strength as a token, with its own
/// prefix so nobody takes a key for an API token (or pastes one where the other belongs).
pub fn generate_integration_key() -> String {
    random_secret("tik_")
}

fn random_secret(prefix: &str) -> String {
    let bytes: [u8; 32] = rand::random();
    format!(
        "{prefix}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    )
}

fn unauthorized(message: &str) -> ApiError {
    ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", message)
}

pub fn bearer_or_none(headers: &HeaderMap) -> Result<Option<&str>, ApiError> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let text = value
        .to_str()
        .map_err(|_| unauthorized("the Authorization header is not readable text"))?;
    match text
        .strip_prefix("Bearer ")
        .or_else(|| text.strip_prefix("bearer "))
    {
        Some(token) if !token.trim().is_empty() => Ok(Some(token.trim())),
        _ => Err(unauthorized(
            "the Authorization header must be \"Bearer <token>\"",
        )),
    }
}

/// Checks the caller's token against the role an endpoint needs.
///
/// A console session (its cookie) counts as the signed-in person's token; the CSRF guard
/// ([`csrf_guard`]) has already refused changes that lack the session's CSRF token.
pub fn authorize(
    state: &AppState,
    headers: &HeaderMap,
    required: Role,
) -> Result<Principal, ApiError> {
    let principal = match bearer_or_none(headers)? {
        Some(token) => state
            .tokens
            .load()
            .lookup(token)
            .cloned()
            .ok_or_else(|| unauthorized("the API token is not valid"))?,
        None => session_principal(state, headers).ok_or_else(|| {
            unauthorized("an API token is required: Authorization: Bearer <token>")
        })?,
    };
    if !principal.role.allows(required) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            format!(
                "this needs the {} role; token {:?} has {}",
                required.as_str(),
                principal.name,
                principal.role.as_str()
            ),
        ));
    }
    Ok(principal)
}

/// The person signed in to the console with the request's session cookie, if any.
fn session_principal(state: &AppState, headers: &HeaderMap) -> Option<Principal> {
    let cookie = crate::console::accounts::session_cookie(headers)?;
    let viewer = state
        .console
        .resolve(&state.config.load(), cookie, state.clock.now())?;
    Some(Principal {
        name: viewer.id,
        role: viewer.role,
    })
}

/// Refuses a change (any method but GET and HEAD) made with a console session cookie and no
/// API token unless it carries the session's CSRF token in `X-CSRF-Token`: another site can
/// make a browser send the cookie, but cannot read the token from tocsin's pages.
pub async fn csrf_guard(
    axum::extract::State(state): axum::extract::State<crate::state::SharedState>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let safe = matches!(
        *request.method(),
        axum::http::Method::GET | axum::http::Method::HEAD | axum::http::Method::OPTIONS
    );
    let headers = request.headers();
    let exempt =
        safe || request.uri().path() == "/ui/login" || headers.contains_key(header::AUTHORIZATION);
    if !exempt {
        if let Some(cookie) = crate::console::accounts::session_cookie(headers) {
            let expected = state
                .console
                .resolve(&state.config.load(), cookie, state.clock.now())
                .map(|v| v.csrf);
            let given = headers.get("x-csrf-token").and_then(|v| v.to_str().ok());
            if let Some(expected) = expected {
                if given != Some(expected.as_str()) {
                    return ApiError::new(
                        StatusCode::FORBIDDEN,
                        "csrf",
                        "a change from the console needs the page's X-CSRF-Token header; reload the page",
                    )
                    .into_response();
                }
            }
        }
    }
    next.run(request).await
}

/// Intake (`POST /api/v1/events`, `POST /api/v2/alerts`) needs a responder token, except
/// from a program on this machine when `intake.loopback_without_token` is on (the built-in
/// config does, so `tocsin serve` works out of the box on one machine). Nothing else ever
/// trusts loopback: a silence or a read needs a token, so a web page, a local proxy or a
/// rebound name cannot mute a page or read alerts ([`crate::front_door::loopback`]).
pub fn authorize_intake(
    state: &AppState,
    headers: &HeaderMap,
    peer: SocketAddr,
) -> Result<Principal, ApiError> {
    let tokenless = bearer_or_none(headers)?.is_none()
        && crate::console::accounts::session_cookie(headers).is_none();
    if tokenless && state.config.load().intake.loopback_without_token {
        return match loopback::refusal(state.front_door.public_url_set, headers, peer) {
            None => Ok(Principal {
                name: "loopback".into(),
                role: Role::Responder,
            }),
            // Say why: the sender worked without a token before a proxy or --public-url.
            Some(why) => Err(unauthorized(&format!(
                "an API token is required: Authorization: Bearer <token> (sending without a \
                 token from this machine is refused here: {why})"
            ))),
        };
    }
    authorize(state, headers, Role::Responder)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_and_hash_stably() {
        let a = generate_token();
        assert!(a.starts_with("tsn_") && a.len() > 40);
        assert_ne!(a, generate_token());
        let key = generate_integration_key();
        assert!(key.starts_with("tik_") && key.len() == a.len(), "{key}");
        assert_eq!(
            sha256_hex("test"),
            "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
        );
    }
}
