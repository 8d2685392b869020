//! The console's stylesheet and script, compiled in: no build step and no files to deploy.
//! Pages ask for them with `?v=<hash of both>`, so a browser may cache them for a day and
//! still never runs an old script against a new server.

use axum::extract::Path;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use std::sync::LazyLock;

const CSS: &str = include_str!("assets/app.css");
const JS: &str = include_str!("assets/app.js");

/// A short hash of the assets, for the `?v=` in pages.
pub static VERSION: LazyLock<String> = LazyLock::new(|| {
    let hash = tocsin_core::auth::sha256_hex(&format!("{CSS}{JS}"));
    hash[..12].to_string()
});

pub async fn serve(Path(file): Path<String>) -> Response {
    let (body, kind) = match file.as_str() {
        "app.css" => (CSS, "text/css; charset=utf-8"),
        "app.js" => (JS, "text/javascript; charset=utf-8"),
        _ => return (StatusCode::NOT_FOUND, "no such file").into_response(),
    };
    (
        [
            (header::CONTENT_TYPE, kind),
            (header::CACHE_CONTROL, "public, max-age=86400"),
        ],
        body,
    )
        .into_response()
}
