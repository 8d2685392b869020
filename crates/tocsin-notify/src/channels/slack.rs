//! Slack incoming webhooks: `text` is the notification fallback, the body is one mrkdwn
//! section block. Slack answers errors with 4xx statuses (`invalid_payload`,
//! `channel_not_found`) and rate limits with 429 and `Retry-After`.

use super::HttpChannel;
use crate::error::SendError;
use crate::http::HttpRequest;
use crate::message::{Message, Recipient};
use crate::templates::{Dialect, Templates};
use serde_json::json;
use tocsin_core::paging::Secret;

/// Slack cuts a section's text at 3000 characters and rejects longer.
const SECTION_MAX: usize = 3000;

pub struct Slack {
    url: Secret,
    templates: Templates,
}

impl Slack {
    pub fn new(url: Secret, templates: Templates) -> Slack {
        Slack { url, templates }
    }
}

/// A Slack member id (`U123ABC`) becomes a mention; any other address is shown as written.
fn mention(address: &str) -> String {
    let id_like = address.len() > 1
        && address.starts_with(['U', 'W'])
        && address
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit());
    if id_like {
        format!("<@{address}>")
    } else {
        String::new()
    }
}

impl HttpChannel for Slack {
    fn build(&self, to: &Recipient, msg: &Message, _now_ms: i64) -> Result<HttpRequest, SendError> {
        let text = self
            .templates
            .markdown(to, msg, Dialect::Slack, &mention(&to.address))?;
        let body = json!({
            "text": self.templates.title(to, msg)?,
            "blocks": [{
                "type": "section",
                "text": {"type": "mrkdwn", "text": crate::truncate(&text, SECTION_MAX)},
            }],
        });
        Ok(HttpRequest::post_json(self.url.expose().to_string(), &body))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{en_reader, one_incident};

    #[test]
    fn a_section_of_mrkdwn_with_links_and_a_fallback() {
        let s = Slack::new(Secret::new("http://slack/x".into()), Templates::builtin());
        let mut reader = en_reader();
        reader.address = "U024BE7LH".into();
        let body = s.build(&reader, &one_incident(), 0).unwrap().json();
        assert_eq!(body["text"], "[P1] MySQL primary down <3");
        let text = body["blocks"][0]["text"]["text"].as_str().unwrap();
        assert!(
            text.starts_with("*[P1] MySQL primary down &lt;3*"),
            "{text}"
        );
        assert!(
            text.contains("<https://t.example/ack/INC-42?sig=a|Acknowledge>"),
            "{text}"
        );
        assert!(text.contains("<@U024BE7LH>"), "{text}");
    }
}
