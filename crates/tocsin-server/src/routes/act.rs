//! Acknowledge or resolve from the message itself: the signed, expiring links in
//! notifications. Opening a link (GET) only shows what it will do, with one button; the
//! button (POST) does it. Mail scanners and chat previews open links, and must not
//! acknowledge a page nobody has seen.

use super::submit;
use crate::state::SharedState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use tocsin_core::command::{Command, IncidentAction};
use tocsin_core::config::Language;
use tocsin_core::incident::StateAction;
use tocsin_core::links::{ActionLink, LinkAction, LinkError};
use tocsin_engine::CommandError;
use tocsin_store::log::LogEntry;

/// How long a link in a notification works.
pub const LINK_LIFETIME_MS: i64 = 24 * 3_600_000;

/// The URL of a signed link, for the dispatcher to put in messages.
pub fn link_url(s: &SharedState, incident: i64, action: LinkAction, user: &str) -> String {
    let link = ActionLink {
        incident,
        action,
        user: user.to_string(),
        expires: s.clock.now() + LINK_LIFETIME_MS,
    };
    format!("{}/act/{}", s.public_url, link.sign(&s.link_secret))
}

struct Words {
    ack: &'static str,
    resolve: &'static str,
    confirm: &'static str,
    done: &'static str,
    expired: &'static str,
    invalid: &'static str,
}

const EN: Words = Words {
    ack: "Acknowledge",
    resolve: "Resolve",
    confirm: "incident",
    done: "Done",
    expired: "This link has expired. Open tocsin or use the CLI.",
    invalid: "This link is not valid.",
};

const ZH: Words = Words {
    ack: "认领",
    resolve: "解决",
    confirm: "事件",
    done: "已完成",
    expired: "此链接已过期，请打开 tocsin 或使用命令行。",
    invalid: "此链接无效。",
};

fn words(s: &SharedState, user: &str) -> &'static Words {
    match s.config.load().user(user).map(|u| u.language) {
        Some(Language::Zh) => &ZH,
        _ => &EN,
    }
}

fn page(status: StatusCode, title: &str, body: &str) -> Response {
    let html = format!(
        "<!doctype html><html><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{t}</title></head><body style=\"font-family:sans-serif;max-width:32em;margin:2em auto;padding:0 1em\">\
         <h1>{t}</h1>{body}</body></html>",
        t = escape(title)
    );
    (status, Html(html)).into_response()
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The link's contents, or the page that says why it does not work (in both languages:
/// a link that fails verification names no one whose language could be chosen).
fn check(s: &SharedState, token: &str) -> Result<ActionLink, Box<Response>> {
    ActionLink::verify(token, &s.link_secret, s.clock.now()).map_err(|e| {
        let (status, en, zh) = match e {
            LinkError::Expired => (StatusCode::GONE, EN.expired, ZH.expired),
            LinkError::Malformed | LinkError::BadSignature => {
                (StatusCode::NOT_FOUND, EN.invalid, ZH.invalid)
            }
        };
        Box::new(page(status, "tocsin", &format!("<p>{en}</p><p>{zh}</p>")))
    })
}

fn verb(w: &Words, a: LinkAction) -> &'static str {
    match a {
        LinkAction::Acknowledge => w.ack,
        LinkAction::Resolve => w.resolve,
    }
}

/// `GET /act/{token}`: what the link will do, and the button that does it.
pub async fn show(State(s): State<SharedState>, Path(token): Path<String>) -> Response {
    let link = match check(&s, &token) {
        Ok(l) => l,
        Err(r) => return *r,
    };
    let w = words(&s, &link.user);
    let title = format!("{} {} #{}", verb(w, link.action), w.confirm, link.incident);
    page(
        StatusCode::OK,
        &title,
        &format!(
            "<form method=\"post\"><button type=\"submit\" style=\"font-size:1.3em;padding:.6em 1.4em\">{}</button></form>",
            escape(verb(w, link.action))
        ),
    )
}

/// `POST /act/{token}`: does it, as the person the link was sent to.
pub async fn perform(State(s): State<SharedState>, Path(token): Path<String>) -> Response {
    let link = match check(&s, &token) {
        Ok(l) => l,
        Err(r) => return *r,
    };
    let w = words(&s, &link.user);
    let action = match link.action {
        LinkAction::Acknowledge => StateAction::Acknowledge,
        LinkAction::Resolve => StateAction::Resolve,
    };
    let command = Command {
        incident_id: link.incident,
        action: IncidentAction::State(action),
        actor: format!("{} (link)", link.user),
        reason: String::new(),
        at: s.clock.now(),
    };
    let title = format!("{} {} #{}", verb(w, link.action), w.confirm, link.incident);
    match submit(&s, LogEntry::Command(command)).await {
        Ok(Ok(())) => page(StatusCode::OK, &title, &format!("<p>{}</p>", w.done)),
        // Already acknowledged or resolved by someone else: say so, it is not an error
        // worth alarming anyone at 03:00.
        Ok(Err(CommandError::Conflict(m))) => page(
            StatusCode::CONFLICT,
            &title,
            &format!("<p>{}</p>", escape(&m)),
        ),
        Ok(Err(e)) => page(
            StatusCode::NOT_FOUND,
            &title,
            &format!("<p>{}</p>", escape(&e.to_string())),
        ),
        Err(e) => page(
            e.status(),
            &title,
            &format!("<p>{}</p>", escape(e.message())),
        ),
    }
}
