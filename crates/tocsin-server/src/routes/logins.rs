//! Console accounts made at run time by an admin: `GET/POST /api/v1/logins`,
//! `DELETE /api/v1/logins/{id}`. The password is hashed (argon2) before it is stored and
//! never shown again; config users sign in with the hash in their `console` entry instead.

use super::read;
use crate::auth::authorize;
use crate::console::password;
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
use tocsin_store::sqlite::{self, console};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewLogin {
    id: String,
    name: Option<String>,
    role: Role,
    password: String,
    /// Set a new password and role for an account that exists.
    #[serde(default)]
    replace: bool,
}

pub async fn list(State(s): State<SharedState>, headers: HeaderMap) -> ApiResult<Json<Value>> {
    authorize(&s, &headers, Role::Admin)?;
    let stored = read(&s, console::logins).await?;
    let config: Vec<Value> = s
        .config
        .load()
        .users
        .iter()
        .filter_map(|u| {
            let c = u.console.as_ref()?;
            Some(json!({"id": u.id, "name": u.name, "role": c.role, "from": "config"}))
        })
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
    let new: NewLogin = serde_json::from_slice(&body)
        .map_err(|e| ApiError::bad_request(format!("invalid account: {e}")))?;
    let valid_id = !new.id.is_empty()
        && new.id.len() <= 64
        && new
            .id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '@'));
    if !valid_id {
        return Err(ApiError::bad_request(
            "id: 1 to 64 letters, digits, '-', '_', '.' or '@'",
        ));
    }
    let name = new.name.unwrap_or_else(|| new.id.clone());
    if name.trim().is_empty() || name.len() > 256 {
        return Err(ApiError::bad_request("name: 1 to 256 bytes"));
    }
    if let Some(why) = password::weakness(&new.password) {
        return Err(ApiError::bad_request(why));
    }
    if s.config
        .load()
        .user(&new.id)
        .is_some_and(|u| u.console.is_some())
    {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "conflict",
            format!(
                "{:?} signs in with the login in the config; change it there",
                new.id
            ),
        ));
    }
    let state = s.clone();
    let id = new.id.clone();
    let (role, replace, pass) = (new.role, new.replace, new.password);
    let stored = tokio::task::spawn_blocking(move || -> Result<bool, String> {
        let row = console::LoginRow {
            id,
            name,
            role,
            password_hash: password::hash(&pass),
            created_at: String::new(),
            created_by: who.name,
        };
        let conn = sqlite::open_admin(&state.db_path).map_err(|e| e.to_string())?;
        let done = console::put_login(&conn, &row, state.clock.now(), replace)
            .map_err(|e| e.to_string())?;
        state.console.reload(&conn)?;
        Ok(done)
    })
    .await
    .map_err(|e| ApiError::internal(e.to_string()))?
    .map_err(ApiError::unavailable)?;
    if !stored {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "conflict",
            format!(
                "an account {:?} exists; send \"replace\": true to change it",
                new.id
            ),
        ));
    }
    tracing::info!(id = %new.id, role = role.as_str(), "console account saved");
    Ok((
        StatusCode::CREATED,
        Json(json!({"id": new.id, "role": role})),
    ))
}

pub async fn remove(
    State(s): State<SharedState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    authorize(&s, &headers, Role::Admin)?;
    let state = s.clone();
    let target = id.clone();
    let removed = tokio::task::spawn_blocking(move || -> Result<bool, String> {
        let conn = sqlite::open_admin(&state.db_path).map_err(|e| e.to_string())?;
        let removed = console::delete_login(&conn, &target).map_err(|e| e.to_string())?;
        state.console.forget(&target);
        state.console.reload(&conn)?;
        Ok(removed)
    })
    .await
    .map_err(|e| ApiError::internal(e.to_string()))?
    .map_err(ApiError::unavailable)?;
    if !removed {
        return Err(ApiError::not_found(format!(
            "no account {id:?} made through the API (config logins are removed in the config)"
        )));
    }
    tracing::info!(%id, "console account removed");
    Ok(StatusCode::NO_CONTENT)
}
