//! Microsoft Teams through a Workflows webhook ("Post to a channel when a webhook request is
//! received"): an Adaptive Card in the `attachments` envelope. The flow answers 202.

use super::HttpChannel;
use crate::error::SendError;
use crate::http::HttpRequest;
use crate::message::{Message, Recipient};
use crate::templates::Templates;
use tocsin_core::paging::Secret;

pub struct Teams {
    url: Secret,
    templates: Templates,
}

impl Teams {
    pub fn new(url: Secret, templates: Templates) -> Teams {
        Teams { url, templates }
    }
}

impl HttpChannel for Teams {
    fn build(&self, to: &Recipient, msg: &Message, _now_ms: i64) -> Result<HttpRequest, SendError> {
        let card = self.templates.teams_card(to, msg)?;
        Ok(HttpRequest::post_json(self.url.expose().to_string(), &card))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{bundle, zh_reader};

    #[test]
    fn an_adaptive_card_in_the_attachments_envelope() {
        let t = Teams::new(Secret::new("http://teams/x".into()), Templates::builtin());
        let body = t.build(&zh_reader(), &bundle(3), 0).unwrap().json();
        assert_eq!(body["type"], "message");
        let a = &body["attachments"][0];
        assert_eq!(a["contentType"], "application/vnd.microsoft.card.adaptive");
        let card = &a["content"];
        assert_eq!(card["type"], "AdaptiveCard");
        assert_eq!(card["body"][0]["text"], "order-api 有 3 个新事件");
        let actions: Vec<_> = card["body"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|b| b["type"] == "ActionSet")
            .collect();
        assert_eq!(actions.len(), 3);
        assert_eq!(actions[0]["actions"][0]["title"], "认领");
        assert_eq!(actions[0]["actions"][0]["type"], "Action.OpenUrl");
    }
}
