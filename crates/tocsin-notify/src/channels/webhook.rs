//! The generic webhook: the message as JSON, signed when a secret is set.
//!
//! Signature: `X-Tocsin-Timestamp` is the Unix time in seconds, and `X-Tocsin-Signature` is
//! `sha256=` followed by hex(HMAC-SHA256(secret, timestamp + "." + body)). The receiver
//! recomputes it over the raw body and rejects old timestamps, which stops replays.

use super::HttpChannel;
use crate::error::SendError;
use crate::http::HttpRequest;
use crate::message::{Message, Recipient};
use crate::templates::Templates;
use serde_json::json;
use std::collections::BTreeMap;
use tocsin_core::paging::Secret;

pub struct Webhook {
    url: Secret,
    secret: Option<Secret>,
    headers: BTreeMap<String, Secret>,
    templates: Templates,
}

impl Webhook {
    pub fn new(
        url: Secret,
        secret: Option<Secret>,
        headers: BTreeMap<String, Secret>,
        templates: Templates,
    ) -> Webhook {
        Webhook {
            url,
            secret,
            headers,
            templates,
        }
    }
}

impl HttpChannel for Webhook {
    fn build(&self, to: &Recipient, msg: &Message, now_ms: i64) -> Result<HttpRequest, SendError> {
        let mut body = json!({
            "version": 1,
            "kind": msg.kind,
            "title": self.templates.title(to, msg)?,
            "recipient": to,
            "incidents": msg.incidents.iter().map(|i| {
                let mut v = serde_json::to_value(i).expect("a card serialises");
                // Links as objects read better in JSON than `[text, href]` pairs.
                v["links"] = i.links.iter().map(|(text, href)| json!({"text": text, "href": href})).collect();
                v
            }).collect::<Vec<_>>(),
        });
        if let Some(h) = &msg.handoff {
            body["handoff"] = json!(h);
        }
        if let Some(s) = &msg.storm {
            body["storm"] = json!(s);
        }
        let mut req = HttpRequest::post_json(self.url.expose().to_string(), &body);
        for (k, v) in &self.headers {
            req.headers.push((k.clone(), v.expose().to_string()));
        }
        if let Some(secret) = &self.secret {
            let ts = now_ms.div_euclid(1000);
            let signature = crate::sign::webhook(secret.expose(), ts, &req.body);
            req.headers
                .push(("X-Tocsin-Timestamp".into(), ts.to_string()));
            req.headers.push(("X-Tocsin-Signature".into(), signature));
        }
        Ok(req)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{en_reader, one_incident};

    #[test]
    fn the_body_is_the_message_and_the_signature_covers_it() {
        let w = Webhook::new(
            Secret::new("http://hook/in".into()),
            Some(Secret::new("s3cret".into())),
            BTreeMap::from([("X-Team".to_string(), Secret::new("dba".into()))]),
            Templates::builtin(),
        );
        let req = w
            .build(&en_reader(), &one_incident(), 1_700_000_000_123)
            .unwrap();
        let body = req.json();
        assert_eq!(body["kind"], "new");
        assert_eq!(body["recipient"]["language"], "en");
        assert_eq!(body["incidents"][0]["id"], "INC-42");
        assert_eq!(body["incidents"][0]["links"][0]["text"], "Runbook");
        let header = |name: &str| {
            req.headers
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
        };
        assert_eq!(header("X-Team").as_deref(), Some("dba"));
        assert_eq!(header("X-Tocsin-Timestamp").as_deref(), Some("1700000000"));
        assert_eq!(
            header("X-Tocsin-Signature").unwrap(),
            crate::sign::webhook("s3cret", 1_700_000_000, &req.body)
        );
    }

    #[test]
    fn a_follow_up_says_who_when_and_what_they_wrote() {
        let w = Webhook::new(
            Secret::new("http://hook/in".into()),
            None,
            BTreeMap::new(),
            Templates::builtin(),
        );
        let mut m = one_incident();
        m.kind = crate::MessageKind::Acknowledged;
        m.incidents[0].follow_up = Some(crate::FollowUp {
            by: Some("Bob Lim".into()),
            at: "2024-05-01 03:20 CST".into(),
            comment: "on it".into(),
            open_for_s: 480,
        });
        let body = w.build(&en_reader(), &m, 0).unwrap().json();
        assert_eq!(body["kind"], "acknowledged");
        assert_eq!(body["title"], "Acknowledged: [P1] MySQL primary down <3");
        assert_eq!(
            body["incidents"][0]["follow_up"],
            serde_json::json!({"by": "Bob Lim", "at": "2024-05-01 03:20 CST",
                "comment": "on it", "open_for_s": 480})
        );
        // A page has none.
        let page = w.build(&en_reader(), &one_incident(), 0).unwrap().json();
        assert!(page["incidents"][0].get("follow_up").is_none(), "{page}");
    }

    #[test]
    fn without_a_secret_nothing_is_signed() {
        let w = Webhook::new(
            Secret::new("http://hook/in".into()),
            None,
            BTreeMap::new(),
            Templates::builtin(),
        );
        let req = w.build(&en_reader(), &one_incident(), 0).unwrap();
        assert!(req.headers.iter().all(|(k, _)| !k.starts_with("X-Tocsin")));
    }
}
