//! API tokens made at run time by an admin. The token is shown once, in the answer to its
//! creation; only its hash is stored.

use super::read;
use crate::auth::{authorize, generate_token, sha256_hex};
use crate::error::{ApiError, ApiResult};
use crate::state::SharedState;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use tocsin_core::auth::Role;
use tocsin_store::sqlite::{self, tokens};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewToken {
    name: String,
    role: Role,
}

pub async fn list(State(s): State<SharedState>, headers: HeaderMap) -> ApiResult<Json<Value>> {
    authorize(&s, &headers, Role::Admin)?;
    let stored = read(&s, tokens::list).await?;
    let config: Vec<Value> = s
        .config
        .load()
        .tokens
        .iter()
        .map(|t| json!({"name": t.name, "role": t.role, "from": "config"}))
        .collect();
    Ok(Json(json!({"items": stored, "config": config})))
}

pub async fn create(
    State(s): State<SharedState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let who = authorize(&s, &headers, Role::Admin)?;
    let body = super::body(body)?;
    let new: NewToken = serde_json::from_slice(&body)
        .map_err(|e| ApiError::bad_request(format!("invalid token request: {e}")))?;
    let valid_name = !new.name.is_empty()
        && new.name.len() <= 64
        && new
            .name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if !valid_name || new.name == "admin" || new.name == "loopback" {
        return Err(ApiError::bad_request(
            "name: 1 to 64 letters, digits, '-', '_' or '.', not \"admin\" or \"loopback\"",
        ));
    }
    if s.config.load().tokens.iter().any(|t| t.name == new.name) {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "conflict",
            format!("a config token is named {:?}", new.name),
        ));
    }
    let token = generate_token();
    let hash = sha256_hex(&token);
    let now = s.clock.now();
    let state = s.clone();
    let name = new.name.clone();
    let created = tokio::task::spawn_blocking(move || {
        let conn = sqlite::open_admin(&state.db_path)?;
        tokens::create(&conn, &name, new.role, &hash, now, &who.name)
    })
    .await
    .map_err(|e| ApiError::internal(e.to_string()))??;
    if !created {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "conflict",
            format!("a token named {:?} exists", new.name),
        ));
    }
    crate::server::refresh_tokens(&s).await?;
    tracing::info!(name = %new.name, role = new.role.as_str(), "API token created");
    Ok((
        StatusCode::CREATED,
        Json(json!({"name": new.name, "role": new.role, "token": token})),
    ))
}

pub async fn remove(
    State(s): State<SharedState>,
    headers: HeaderMap,
    Path(name): Path<String>,
) -> ApiResult<StatusCode> {
    authorize(&s, &headers, Role::Admin)?;
    let state = s.clone();
    let n = name.clone();
    let removed = tokio::task::spawn_blocking(move || {
        let conn = sqlite::open_admin(&state.db_path)?;
        tokens::delete(&conn, &n)
    })
    .await
    .map_err(|e| ApiError::internal(e.to_string()))??;
    if !removed {
        return Err(ApiError::not_found(format!(
            "no API-made token {name:?} (config tokens are removed in the config)"
        )));
    }
    crate::server::refresh_tokens(&s).await?;
    tracing::info!(%name, "API token deleted");
    Ok(StatusCode::NO_CONTENT)
}
