//! `GET /api/v1/channels`: every configured channel and whether its deliveries get
//! through, with the outbox's backlog, so a script (or a status page) sees what the
//! console's banner says.

use crate::auth::authorize;
use crate::error::ApiResult;
use crate::state::SharedState;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::Json;
use serde_json::{json, Value};
use tocsin_core::auth::Role;
use tocsin_core::time::to_rfc3339;
use tocsin_store::sqlite::paging::backlog;

/// `GET /api/v1/channels`
pub async fn list(State(s): State<SharedState>, headers: HeaderMap) -> ApiResult<Json<Value>> {
    authorize(&s, &headers, Role::Viewer)?;
    let config = s.config.load_full();
    let now = s.clock.now();
    let outbox = crate::routes::read(&s, move |c| backlog(c, now)).await?;
    let failing = s.deliveries.failing(&config);
    let items: Vec<Value> = config
        .channels
        .iter()
        .map(|c| match failing.iter().find(|f| f.channel == c.id) {
            Some(f) => json!({
                "id": c.id,
                "type": c.settings.contact_type(),
                "state": "failing",
                "failing_since": to_rfc3339(f.since),
                "last_failure_at": to_rfc3339(f.last_failure_at),
                "failures": f.failures,
                "last_error": f.last_error,
            }),
            None => json!({"id": c.id, "type": c.settings.contact_type(), "state": "ok"}),
        })
        .collect();
    Ok(Json(json!({
        "items": items,
        "outbox": {
            "pending": outbox.waiting,
            "oldest_pending_at": outbox.oldest.map(to_rfc3339),
        },
    })))
}
