//! DingTalk group robots: a markdown message, posted to the robot's URL (which carries its
//! `access_token`), signed when the robot has "加签" on: `timestamp` (ms) and `sign` appended
//! to the query. The robot answers 200 with `errcode`: 0 is delivered, 130101 ("send too
//! fast", 20 a minute) and -1 (busy) may pass later, anything else (bad token, bad
//! signature, keyword or IP not allowed) will not.

use super::HttpChannel;
use crate::error::{Delivered, SendError};
use crate::http::{HttpRequest, HttpResponse};
use crate::message::{Message, Recipient};
use crate::templates::{Dialect, Templates};
use percent_encoding::{utf8_percent_encode, NON_ALPHANUMERIC};
use serde_json::json;
use tocsin_core::paging::Secret;

const RETRY_CODES: [i64; 2] = [130101, -1];

pub struct Dingtalk {
    url: Secret,
    secret: Option<Secret>,
    templates: Templates,
}

impl Dingtalk {
    pub fn new(url: Secret, secret: Option<Secret>, templates: Templates) -> Dingtalk {
        Dingtalk {
            url,
            secret,
            templates,
        }
    }
}

impl HttpChannel for Dingtalk {
    fn build(&self, to: &Recipient, msg: &Message, now_ms: i64) -> Result<HttpRequest, SendError> {
        // DingTalk highlights an @ only if the text also says it: `@13800000000`.
        let address = to.address.trim();
        let is_mobile = !address.is_empty()
            && address
                .trim_start_matches('+')
                .chars()
                .all(|c| c.is_ascii_digit());
        let mention = if address.is_empty() {
            String::new()
        } else {
            format!("@{}", address.trim_start_matches('+'))
        };
        let at = if address.is_empty() {
            json!({"isAtAll": false})
        } else if is_mobile {
            json!({"atMobiles": [address.trim_start_matches('+')], "isAtAll": false})
        } else {
            json!({"atUserIds": [address], "isAtAll": false})
        };
        let body = json!({
            "msgtype": "markdown",
            "markdown": {
                "title": self.templates.title(to, msg)?,
                "text": self.templates.markdown(to, msg, Dialect::Markdown, &mention)?,
            },
            "at": at,
        });
        let mut url = self.url.expose().to_string();
        if let Some(secret) = &self.secret {
            let sign = crate::sign::dingtalk(secret.expose(), now_ms);
            let sep = if url.contains('?') { '&' } else { '?' };
            let sign = utf8_percent_encode(&sign, NON_ALPHANUMERIC);
            url = format!("{url}{sep}timestamp={now_ms}&sign={sign}");
        }
        Ok(HttpRequest::post_json(url, &body))
    }

    fn check(&self, host: &str, response: &HttpResponse) -> Result<Delivered, SendError> {
        super::robot_answer(host, response, "errcode", "errmsg", &RETRY_CODES)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{one_incident, response, zh_reader};

    fn robot(secret: Option<&str>) -> Dingtalk {
        Dingtalk::new(
            Secret::new("https://oapi.dingtalk.com/robot/send?access_token=TOKEN".into()),
            secret.map(|s| Secret::new(s.into())),
            Templates::builtin(),
        )
    }

    #[test]
    fn markdown_with_the_mobile_mentioned_and_a_signed_url() {
        let req = robot(Some("SECxyz"))
            .build(&zh_reader(), &one_incident(), 1_700_000_000_000)
            .unwrap();
        let sign = crate::sign::dingtalk("SECxyz", 1_700_000_000_000);
        let encoded = utf8_percent_encode(&sign, NON_ALPHANUMERIC).to_string();
        assert_eq!(
            req.url,
            format!("https://oapi.dingtalk.com/robot/send?access_token=TOKEN&timestamp=1700000000000&sign={encoded}")
        );
        let body = req.json();
        assert_eq!(body["msgtype"], "markdown");
        assert_eq!(body["at"]["atMobiles"][0], "13800000000");
        let text = body["markdown"]["text"].as_str().unwrap();
        assert!(text.contains("**[P1] MySQL primary down <3**"), "{text}");
        assert!(
            text.contains("[认领](https://t.example/ack/INC-42?sig=a)"),
            "{text}"
        );
        assert!(text.contains("优先级: P1"), "{text}");
        assert!(text.ends_with("@13800000000"), "{text}");
    }

    #[test]
    fn errcodes_in_a_200_say_whether_to_retry() {
        let r = robot(None);
        assert!(r
            .check("h", &response(200, r#"{"errcode":0,"errmsg":"ok"}"#))
            .is_ok());
        let e = r
            .check(
                "h",
                &response(200, r#"{"errcode":130101,"errmsg":"send too fast"}"#),
            )
            .unwrap_err();
        assert!(e.retry, "{e}");
        let e = r
            .check(
                "h",
                &response(200, r#"{"errcode":310000,"errmsg":"sign not match"}"#),
            )
            .unwrap_err();
        assert!(!e.retry && e.message.contains("310000"), "{e}");
    }
}
