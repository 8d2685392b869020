//! Telegram bots: `sendMessage` to the recipient's chat id, in Telegram's HTML parse mode.
//! Errors come as `{"ok": false, "error_code", "description"}`; a 429 says how long to wait
//! in `parameters.retry_after`.

use super::HttpChannel;
use crate::error::{Delivered, SendError};
use crate::http::{HttpRequest, HttpResponse};
use crate::message::{Message, Recipient};
use crate::templates::{Dialect, Templates};
use serde_json::json;
use std::time::Duration;
use tocsin_core::paging::Secret;

/// Telegram refuses texts over 4096 characters.
const TEXT_MAX: usize = 4096;

pub struct Telegram {
    bot_token: Secret,
    api_url: String,
    templates: Templates,
}

impl Telegram {
    pub fn new(bot_token: Secret, api_url: String, templates: Templates) -> Telegram {
        Telegram {
            bot_token,
            api_url,
            templates,
        }
    }
}

impl HttpChannel for Telegram {
    fn build(&self, to: &Recipient, msg: &Message, _now_ms: i64) -> Result<HttpRequest, SendError> {
        if to.address.trim().is_empty() {
            return Err(SendError::permanent("a telegram contact needs a chat id"));
        }
        let text = self
            .templates
            .markdown(to, msg, Dialect::TelegramHtml, "")?;
        let body = json!({
            "chat_id": to.address.trim(),
            "text": crate::truncate(&text, TEXT_MAX),
            "parse_mode": "HTML",
            "link_preview_options": {"is_disabled": true},
        });
        let url = format!(
            "{}/bot{}/sendMessage",
            self.api_url.trim_end_matches('/'),
            self.bot_token.expose()
        );
        Ok(HttpRequest::post_json(url, &body))
    }

    fn check(&self, host: &str, response: &HttpResponse) -> Result<Delivered, SendError> {
        let mut e = match response.check_status(host) {
            Ok(delivered) => return Ok(delivered),
            Err(e) => e,
        };
        if let Some(body) = response.json() {
            let description = body["description"].as_str().unwrap_or_default();
            e.message = format!("{host} answered HTTP {}: {description}", response.status);
            if let Some(secs) = body["parameters"]["retry_after"].as_u64() {
                e.retry_after = Some(Duration::from_secs(secs));
            }
        }
        Err(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{en_reader, one_incident, response};

    fn bot() -> Telegram {
        Telegram::new(
            Secret::new("123:ABC".into()),
            "https://api.telegram.org/".into(),
            Templates::builtin(),
        )
    }

    #[test]
    fn send_message_in_html() {
        let mut reader = en_reader();
        reader.address = "-100200300".into();
        let req = bot().build(&reader, &one_incident(), 0).unwrap();
        assert_eq!(req.url, "https://api.telegram.org/bot123:ABC/sendMessage");
        let body = req.json();
        assert_eq!(body["chat_id"], "-100200300");
        assert_eq!(body["parse_mode"], "HTML");
        let text = body["text"].as_str().unwrap();
        assert!(
            text.starts_with("<b>[P1] MySQL primary down &lt;3</b>"),
            "{text}"
        );
        assert!(text.contains("<a href=\"https://t.example/ack/INC-42?sig=a\">Acknowledge</a>"));
    }

    #[test]
    fn too_many_requests_waits_as_told_and_a_missing_chat_does_not_retry() {
        let limited = r#"{"ok":false,"error_code":429,"description":"Too Many Requests: retry after 17","parameters":{"retry_after":17}}"#;
        let e = bot().check("h", &response(429, limited)).unwrap_err();
        assert!(e.retry);
        assert_eq!(e.retry_after, Some(Duration::from_secs(17)));
        let missing =
            r#"{"ok":false,"error_code":400,"description":"Bad Request: chat not found"}"#;
        let e = bot().check("h", &response(400, missing)).unwrap_err();
        assert!(!e.retry && e.message.contains("chat not found"), "{e}");
    }
}
