//! Feishu / Lark custom bots: an interactive card. With "signature verification" on, the
//! body carries `timestamp` (seconds, as a string) and `sign`. Answers 200 with `code`: 0 is
//! delivered; 11232 (frequency limited) and 2200 (internal error) may pass later; others
//! (19021 bad signature, 19024 keyword, 9499 bad request) will not.

use super::HttpChannel;
use crate::error::{Delivered, SendError};
use crate::http::{HttpRequest, HttpResponse};
use crate::message::{Message, Recipient};
use crate::templates::Templates;
use serde_json::json;
use tocsin_core::paging::Secret;

const RETRY_CODES: [i64; 2] = [11232, 2200];

pub struct Feishu {
    url: Secret,
    secret: Option<Secret>,
    templates: Templates,
}

impl Feishu {
    pub fn new(url: Secret, secret: Option<Secret>, templates: Templates) -> Feishu {
        Feishu {
            url,
            secret,
            templates,
        }
    }
}

/// `<at>` by open id (`ou_...`) or by email, as lark_md writes it.
fn mention(address: &str) -> String {
    let a = address.trim();
    if a.is_empty() {
        String::new()
    } else if a.contains('@') {
        format!("<at email={a}></at>")
    } else {
        format!("<at id={a}></at>")
    }
}

impl HttpChannel for Feishu {
    fn build(&self, to: &Recipient, msg: &Message, now_ms: i64) -> Result<HttpRequest, SendError> {
        let card = self.templates.feishu_card(to, msg, &mention(&to.address))?;
        let mut body = json!({"msg_type": "interactive", "card": card});
        if let Some(secret) = &self.secret {
            let ts = now_ms.div_euclid(1000);
            body["timestamp"] = ts.to_string().into();
            body["sign"] = crate::sign::feishu(secret.expose(), ts).into();
        }
        Ok(HttpRequest::post_json(self.url.expose().to_string(), &body))
    }

    fn check(&self, host: &str, response: &HttpResponse) -> Result<Delivered, SendError> {
        super::robot_answer(host, response, "code", "msg", &RETRY_CODES)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{one_incident, response, zh_reader};

    #[test]
    fn a_signed_interactive_card() {
        let f = Feishu::new(
            Secret::new("http://feishu/hook/abc".into()),
            Some(Secret::new("fsec".into())),
            Templates::builtin(),
        );
        let mut reader = zh_reader();
        reader.address = "ou_123".into();
        let body = f
            .build(&reader, &one_incident(), 1_700_000_000_999)
            .unwrap()
            .json();
        assert_eq!(body["msg_type"], "interactive");
        assert_eq!(body["timestamp"], "1700000000");
        assert_eq!(body["sign"], crate::sign::feishu("fsec", 1_700_000_000));
        let card = &body["card"];
        assert_eq!(card["header"]["template"], "red");
        assert_eq!(
            card["header"]["title"]["content"],
            "[P1] MySQL primary down <3"
        );
        let md = card["elements"][0]["text"]["content"].as_str().unwrap();
        assert!(md.contains("**优先级**: P1"), "{md}");
        let buttons = &card["elements"][1]["actions"];
        assert_eq!(buttons[0]["text"]["content"], "认领");
        assert_eq!(buttons[0]["url"], "https://t.example/ack/INC-42?sig=a");
        assert_eq!(buttons[1]["text"]["content"], "解决");
        let last = card["elements"].as_array().unwrap().last().unwrap().clone();
        assert_eq!(last["text"]["content"], "<at id=ou_123></at>");
    }

    #[test]
    fn codes_in_a_200_say_whether_to_retry() {
        let f = Feishu::new(Secret::new("http://f".into()), None, Templates::builtin());
        assert!(f
            .check("h", &response(200, r#"{"code":0,"msg":"success"}"#))
            .is_ok());
        let limited = r#"{"code":11232,"msg":"frequency limited"}"#;
        assert!(f.check("h", &response(200, limited)).unwrap_err().retry);
        let bad = r#"{"code":19021,"msg":"sign match fail"}"#;
        assert!(!f.check("h", &response(200, bad)).unwrap_err().retry);
    }
}
