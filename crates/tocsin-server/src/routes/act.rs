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

struct Words {
    ack: &'static str,
    resolve: &'static str,
    confirm: &'static str,
    done: &'static str,
    expired: &'static str,
    invalid: &'static str,
    already_acknowledged: &'static str,
    already_resolved: &'static str,
    not_found: &'static str,
    pending: &'static str,
    refused: &'static str,
}

const EN: Words = Words {
    ack: "Acknowledge",
    resolve: "Resolve",
    confirm: "incident",
    done: "Done",
    expired: "This link has expired. Open tocsin or use the CLI.",
    invalid: "This link is not valid.",
    already_acknowledged: "Nothing to do: the incident is already acknowledged.",
    already_resolved: "Nothing to do: the incident is already resolved.",
    not_found: "This incident no longer exists.",
    pending: "Received: tocsin is busy and will apply it in a moment. No need to press again.",
    refused:
        "tocsin cannot record it right now (its disk is full). Try again later or use the CLI.",
};

const ZH: Words = Words {
    ack: "认领",
    resolve: "解决",
    confirm: "事件",
    done: "已完成",
    expired: "此链接已过期，请打开 tocsin 或使用命令行。",
    invalid: "此链接无效。",
    already_acknowledged: "无需操作：此事件已被认领。",
    already_resolved: "无需操作：此事件已解决。",
    not_found: "此事件已不存在。",
    pending: "已收到：tocsin 正忙，稍后即会处理，无需再次点击。",
    refused: "tocsin 暂时无法记录（磁盘已满），请稍后重试或使用命令行。",
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
    s.links.verify(token, s.clock.now()).map_err(|e| {
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
        actor: tocsin_core::links::actor(&link.user),
        reason: String::new(),
        at: s.clock.now(),
    };
    let title = format!("{} {} #{}", verb(w, link.action), w.confirm, link.incident);
    match submit(&s, LogEntry::Command(command)).await {
        Ok(Ok(())) => page(StatusCode::OK, &title, &format!("<p>{}</p>", w.done)),
        // Already acknowledged or resolved by someone else: say so, in the reader's
        // language; it is not an error worth alarming anyone at 03:00.
        Ok(Err(CommandError::Conflict(m))) => {
            let text = match incident_state(&s, link.incident).await.as_deref() {
                Some("acknowledged") => w.already_acknowledged.to_string(),
                Some("resolved") => w.already_resolved.to_string(),
                _ => m,
            };
            page(
                StatusCode::CONFLICT,
                &title,
                &format!("<p>{}</p>", escape(&text)),
            )
        }
        Ok(Err(CommandError::NotFound(_))) => page(
            StatusCode::NOT_FOUND,
            &title,
            &format!("<p>{}</p>", w.not_found),
        ),
        // The store refused the batch (a full disk): never applied.
        Ok(Err(CommandError::Store(_))) => page(
            StatusCode::SERVICE_UNAVAILABLE,
            &title,
            &format!("<p>{}</p>", w.refused),
        ),
        Err(e) => {
            let text = match e {
                super::NotApplied::Pending(_) => w.pending,
                super::NotApplied::Refused(_) => w.refused,
            };
            page(e.status(), &title, &format!("<p>{text}</p>"))
        }
    }
}

/// The incident's state now, for saying why an action had nothing to do.
async fn incident_state(s: &SharedState, id: i64) -> Option<String> {
    let found = super::read(s, move |c| {
        tocsin_store::sqlite::queries::get_incident(c, id, &|_| String::new())
    })
    .await
    .ok()??;
    Some(found.incident.state)
}
