//! WeCom (WeChat Work) group robots: a markdown message posted to the robot's URL (its `key`
//! is in the query). Answers 200 with `errcode`: 45009 (over the 20-a-minute limit) and -1
//! (busy) may pass later; others (93000 bad key, 40058 bad content) will not.

use super::HttpChannel;
use crate::error::{Delivered, SendError};
use crate::http::{HttpRequest, HttpResponse};
use crate::message::{Message, Recipient};
use crate::templates::{Dialect, Templates};
use serde_json::json;
use tocsin_core::paging::Secret;

const RETRY_CODES: [i64; 2] = [45009, -1];
/// WeCom refuses markdown content over 4096 bytes.
const CONTENT_MAX_BYTES: usize = 4096;

pub struct Wecom {
    url: Secret,
    templates: Templates,
}

impl Wecom {
    pub fn new(url: Secret, templates: Templates) -> Wecom {
        Wecom { url, templates }
    }
}

impl HttpChannel for Wecom {
    fn build(&self, to: &Recipient, msg: &Message, _now_ms: i64) -> Result<HttpRequest, SendError> {
        // WeCom markdown mentions members by their userid.
        let mention = match to.address.trim() {
            "" => String::new(),
            id => format!("<@{id}>"),
        };
        let text = self
            .templates
            .markdown(to, msg, Dialect::Markdown, &mention)?;
        let body = json!({
            "msgtype": "markdown",
            "markdown": {"content": crate::truncate_bytes(&text, CONTENT_MAX_BYTES)},
        });
        Ok(HttpRequest::post_json(self.url.expose().to_string(), &body))
    }

    fn check(&self, host: &str, response: &HttpResponse) -> Result<Delivered, SendError> {
        super::robot_answer(host, response, "errcode", "errmsg", &RETRY_CODES)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{bundle, en_reader, response};

    #[test]
    fn markdown_content_with_the_member_mentioned() {
        let w = Wecom::new(
            Secret::new("http://wecom/x?key=K".into()),
            Templates::builtin(),
        );
        let mut reader = en_reader();
        reader.address = "zhangsan".into();
        let body = w.build(&reader, &bundle(7), 0).unwrap().json();
        assert_eq!(body["msgtype"], "markdown");
        let text = body["markdown"]["content"].as_str().unwrap();
        assert!(
            text.starts_with("**7 new incidents in order-api**"),
            "{text}"
        );
        assert!(text.contains("7. **[P2] Disk full on db-7**"), "{text}");
        assert!(text.ends_with("<@zhangsan>"), "{text}");
    }

    #[test]
    fn rate_limits_retry_and_bad_keys_do_not() {
        let w = Wecom::new(Secret::new("http://wecom/x".into()), Templates::builtin());
        let limited = r#"{"errcode":45009,"errmsg":"api freq out of limit"}"#;
        assert!(w.check("h", &response(200, limited)).unwrap_err().retry);
        let bad = r#"{"errcode":93000,"errmsg":"invalid webhook url"}"#;
        assert!(!w.check("h", &response(200, bad)).unwrap_err().retry);
    }
}
