//! Page rendering: the compiled-in minijinja templates, the context every page gets (who is
//! signed in, their language and zone, the CSRF token) and the filters that show times in
//! the viewer's zone.

use super::accounts::Viewer;
use super::i18n;
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use jiff::tz::TimeZone;
use jiff::Timestamp;
use minijinja::{context, Environment, State, Value};
use std::sync::LazyLock;
use tocsin_core::config::Language;

/// Every template, compiled in; HTML auto-escaping applies by the `.html` name.
pub const TEMPLATES: &[(&str, &str)] = &[
    ("layout.html", include_str!("templates/layout.html")),
    ("login.html", include_str!("templates/login.html")),
    ("error.html", include_str!("templates/error.html")),
    ("board.html", include_str!("templates/board.html")),
    ("board_rows.html", include_str!("templates/board_rows.html")),
    ("detail.html", include_str!("templates/detail.html")),
    (
        "detail_live.html",
        include_str!("templates/detail_live.html"),
    ),
    ("alerts.html", include_str!("templates/alerts.html")),
    ("alert.html", include_str!("templates/alert.html")),
    ("silences.html", include_str!("templates/silences.html")),
    (
        "silence_new.html",
        include_str!("templates/silence_new.html"),
    ),
    ("oncall.html", include_str!("templates/oncall.html")),
    (
        "oncall_calendar.html",
        include_str!("templates/oncall_calendar.html"),
    ),
    ("policies.html", include_str!("templates/policies.html")),
    ("services.html", include_str!("templates/services.html")),
    ("teams.html", include_str!("templates/teams.html")),
    ("reports.html", include_str!("templates/reports.html")),
];

static ENV: LazyLock<Environment<'static>> = LazyLock::new(|| {
    let mut env = Environment::new();
    for (name, source) in TEMPLATES {
        env.add_template(name, source)
            .unwrap_or_else(|e| panic!("console template {name}: {e}"));
    }
    env.add_function("t", |state: &State, key: &str| {
        i18n::text(language_of(state), key)
    });
    env.add_filter("when", when);
    env.add_filter("ago", ago);
    env.add_filter("duration", duration);
    env
});

fn language_of(state: &State) -> Language {
    match state.lookup("lang").as_ref().and_then(Value::as_str) {
        Some("zh-CN") => Language::Zh,
        _ => Language::En,
    }
}

/// A time (RFC 3339 text or Unix milliseconds) as it is now in the viewer's zone.
fn instant(value: &Value) -> Option<Timestamp> {
    if let Some(text) = value.as_str() {
        return text.parse().ok();
    }
    i64::try_from(value.clone())
        .ok()
        .and_then(|ms| Timestamp::from_millisecond(ms).ok())
}

fn zone_of(state: &State) -> TimeZone {
    state
        .lookup("zone")
        .as_ref()
        .and_then(Value::as_str)
        .and_then(|z| TimeZone::get(z).ok())
        .unwrap_or(TimeZone::UTC)
}

/// `2026-11-27 03:12` in the viewer's zone (with seconds when `seconds` is true).
fn when(state: &State, value: Value, seconds: Option<bool>) -> String {
    let Some(t) = instant(&value) else {
        return String::new();
    };
    let format = if seconds.unwrap_or(false) {
        "%Y-%m-%d %H:%M:%S"
    } else {
        "%Y-%m-%d %H:%M"
    };
    t.to_zoned(zone_of(state)).strftime(format).to_string()
}

/// How long before the page's `now` a time was: `45s`, `12m`, `3h 5m`, `2d 4h`.
fn ago(state: &State, value: Value) -> String {
    let now = state
        .lookup("now_ms")
        .and_then(|v| i64::try_from(v).ok())
        .unwrap_or(0);
    match instant(&value) {
        Some(t) => short_duration((now - t.as_millisecond()).max(0) / 1000),
        None => String::new(),
    }
}

fn duration(seconds: Value) -> String {
    match f64::try_from(seconds) {
        Ok(s) if s.is_finite() => short_duration(s.round() as i64),
        _ => "–".into(),
    }
}

pub fn short_duration(seconds: i64) -> String {
    let (d, h, m, s) = (
        seconds / 86_400,
        seconds % 86_400 / 3600,
        seconds % 3600 / 60,
        seconds % 60,
    );
    match (d, h, m) {
        (0, 0, 0) => format!("{s}s"),
        (0, 0, _) => format!("{m}m"),
        (0, _, 0) => format!("{h}h"),
        (0, _, _) => format!("{h}h {m}m"),
        (_, 0, _) => format!("{d}d"),
        _ => format!("{d}d {h}h"),
    }
}

/// Renders a page for a signed-in viewer; `page` is the nav entry to mark as current.
pub fn page(template: &str, viewer: &Viewer, page: &str, now_ms: i64, ctx: Value) -> Response {
    let full = context! {
        lang => i18n::code(viewer.language),
        zone => viewer.zone,
        now_ms => now_ms,
        page => page,
        viewer => context! {
            id => viewer.id,
            name => viewer.name,
            role => viewer.role.as_str(),
            can_act => viewer.role != tocsin_core::auth::Role::Viewer,
            is_admin => viewer.role == tocsin_core::auth::Role::Admin,
        },
        paging_trouble => viewer.paging_trouble,
        csrf => viewer.csrf,
        asset_version => &*super::assets::VERSION,
        ..ctx
    };
    render(template, full)
}

/// Renders any template with the context given (the sign-in page has no viewer).
pub fn render(template: &str, ctx: Value) -> Response {
    match ENV.get_template(template).and_then(|t| t.render(ctx)) {
        Ok(html) => (
            [
                (header::CACHE_CONTROL, "no-store"),
                (header::X_FRAME_OPTIONS, "DENY"),
                (
                    header::CONTENT_SECURITY_POLICY,
                    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'; form-action 'self'",
                ),
                (header::REFERRER_POLICY, "same-origin"),
            ],
            Html(html),
        )
            .into_response(),
        Err(e) => {
            tracing::error!(template, error = %e, "console template failed");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("the page could not be drawn: {e}"),
            )
                .into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_short() {
        assert_eq!(short_duration(5), "5s");
        assert_eq!(short_duration(125), "2m");
        assert_eq!(short_duration(3 * 3600 + 300), "3h 5m");
        assert_eq!(short_duration(7200), "2h");
        assert_eq!(short_duration(2 * 86_400 + 4 * 3600 + 9), "2d 4h");
    }

    #[test]
    fn times_show_in_the_viewers_zone_across_dst() {
        let env = &*ENV;
        let tpl = "{{ t | when }}";
        let render = |zone: &str, t: &str| {
            env.render_str(tpl, context! { zone => zone, t => t })
                .unwrap()
        };
        assert_eq!(
            render("Asia/Shanghai", "2026-11-27T19:12:00Z"),
            "2026-11-28 03:12"
        );
        // New York leaves daylight time on 2026-11-01 at 02:00 local.
        assert_eq!(
            render("America/New_York", "2026-11-01T05:30:00Z"),
            "2026-11-01 01:30"
        );
        assert_eq!(
            render("America/New_York", "2026-11-01T06:30:00Z"),
            "2026-11-01 01:30"
        );
        assert_eq!(
            render("America/New_York", "2026-11-01T07:30:00Z"),
            "2026-11-01 02:30"
        );
        assert_eq!(
            render("Nowhere/Bad", "2026-11-27T19:12:00Z"),
            "2026-11-27 19:12"
        );
    }

    #[test]
    fn text_follows_the_language() {
        let out = |lang: &str| {
            ENV.render_str("{{ t('nav.incidents') }}", context! { lang => lang })
                .unwrap()
        };
        assert_eq!(out("en"), "Incidents");
        assert_eq!(out("zh-CN"), "事件");
    }
}
