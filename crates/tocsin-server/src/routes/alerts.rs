//! Reading alerts.

use super::{pairs, parse_id, read, QueryPairs};
use crate::auth::authorize;
use crate::error::{ApiError, ApiResult};
use crate::query::alert_query;
use crate::state::SharedState;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::Json;
use tocsin_core::auth::Role;
use tocsin_store::sqlite::queries;
use tocsin_store::sqlite::rows::{AlertDetail, AlertRow, Page};

pub async fn list(
    State(s): State<SharedState>,
    headers: HeaderMap,
    params: QueryPairs,
) -> ApiResult<Json<Page<AlertRow>>> {
    authorize(&s, &headers, Role::Viewer)?;
    let (filter, page) = alert_query(&pairs(params)?)?;
    Ok(Json(
        read(&s, move |c| queries::list_alerts(c, &filter, page)).await?,
    ))
}

pub async fn one(
    State(s): State<SharedState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> ApiResult<Json<AlertDetail>> {
    authorize(&s, &headers, Role::Viewer)?;
    let id = parse_id(&id, "alert")?;
    read(&s, move |c| queries::get_alert(c, id))
        .await?
        .map(Json)
        .ok_or_else(|| ApiError::not_found(format!("no alert {id}")))
}
