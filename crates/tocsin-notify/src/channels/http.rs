//! SMS and voice through any provider's HTTP API, described in the config by a method, URL,
//! headers and a minijinja body template.
//!
//! The body template sees `to` (the phone number), `text` (the SMS text, or for voice the
//! words to read, without URLs), `title`, `voice`, `lang`, `kind`, `recipient`, `incidents`,
//! `now_utc` (`2024-05-01T03:12:00Z`) and `nonce` (unique per request), and can call
//! `env("NAME")` (a signing key kept out of the file), `hmac_sha1_base64(key, text)` and the
//! `rfc3986` filter (percent-encoding of everything but unreserved characters): enough to
//! write a provider's signed request, such as Aliyun's RPC signature, in the template.
//!
//! Any 2xx is delivered, except a JSON answer with a top-level `Code` other than `OK`
//! (Aliyun's convention), which is retried only when it is a throttle or a server error.

use super::HttpChannel;
use crate::error::{Delivered, SendError};
use crate::http::{HttpRequest, HttpResponse};
use crate::message::{Message, Recipient};
use crate::templates::Templates;
use minijinja::{Environment, Error, ErrorKind};
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use serde_json::json;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use tocsin_core::paging::Secret;

/// RFC 3986 unreserved characters stay; everything else is encoded (space as `%20`).
const RFC3986: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

pub struct HttpApiSettings {
    pub voice: bool,
    pub method: String,
    pub url: Secret,
    pub headers: BTreeMap<String, Secret>,
    pub body: String,
    pub content_type: String,
}

pub struct HttpApi {
    settings: HttpApiSettings,
    body: Environment<'static>,
    templates: Templates,
}

impl HttpApi {
    pub fn new(settings: HttpApiSettings, templates: Templates) -> HttpApi {
        let mut body = Environment::new();
        body.add_function("env", |name: String| {
            std::env::var(&name).map_err(|_| {
                Error::new(
                    ErrorKind::InvalidOperation,
                    format!("the environment variable {name} is not set"),
                )
            })
        });
        body.add_function("hmac_sha1_base64", |key: String, text: String| {
            crate::sign::hmac_sha1_base64(&key, &text)
        });
        body.add_filter("rfc3986", |text: String| {
            utf8_percent_encode(&text, RFC3986).to_string()
        });
        // The config check already compiled it; a failure shows at send as a permanent error.
        let _ = body.add_template_owned("body", settings.body.clone());
        HttpApi {
            settings,
            body,
            templates,
        }
    }
}

/// Unique enough for a provider's replay check: the clock and a counter, hashed.
fn nonce(now_ms: i64) -> String {
    use sha2::Digest;
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let digest = sha2::Sha256::digest(format!("{now_ms}.{nanos}.{n}.{}", std::process::id()));
    digest[..16].iter().map(|b| format!("{b:02x}")).collect()
}

fn utc(now_ms: i64) -> String {
    jiff::Timestamp::from_millisecond(now_ms)
        .unwrap_or(jiff::Timestamp::UNIX_EPOCH)
        .strftime("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

impl HttpChannel for HttpApi {
    fn build(&self, to: &Recipient, msg: &Message, now_ms: i64) -> Result<HttpRequest, SendError> {
        let s = &self.settings;
        let ctx = json!({
            "to": to.address.trim(),
            "text": self.templates.short(to, msg, s.voice)?,
            "title": self.templates.title(to, msg)?,
            "voice": s.voice,
            "lang": to.language.as_str(),
            "kind": msg.kind,
            "recipient": to,
            "incidents": msg.incidents,
            "now_utc": utc(now_ms),
            "nonce": nonce(now_ms),
        });
        let body = self
            .body
            .get_template("body")
            .and_then(|t| t.render(&ctx))
            .map_err(|e| SendError::permanent(format!("body template: {e}")))?;
        let mut headers = vec![("Content-Type".to_string(), s.content_type.clone())];
        for (k, v) in &s.headers {
            headers.push((k.clone(), v.expose().to_string()));
        }
        Ok(HttpRequest {
            method: s.method.clone(),
            url: s.url.expose().to_string(),
            headers,
            body: body.into_bytes(),
        })
    }

    fn check(&self, host: &str, response: &HttpResponse) -> Result<Delivered, SendError> {
        let delivered = response.check_status(host)?;
        let code = response
            .json()
            .and_then(|b| Some((b["Code"].as_str()?.to_string(), b["Message"].clone())));
        match code {
            Some((code, message)) if code != "OK" => {
                let text = format!("{host} refused the message: {code}: {message}");
                let busy = code.contains("LIMIT_CONTROL")
                    || code.starts_with("Throttling")
                    || code.starts_with("ServiceUnavailable")
                    || code.starts_with("InternalError");
                Err(if busy {
                    SendError::retry(text)
                } else {
                    SendError::permanent(text)
                })
            }
            _ => Ok(delivered),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{one_incident, response, zh_reader};

    fn api(voice: bool, body: &str) -> HttpApi {
        HttpApi::new(
            HttpApiSettings {
                voice,
                method: "POST".into(),
                url: Secret::new("https://sms.example/send".into()),
                headers: BTreeMap::from([("Authorization".into(), Secret::new("Bearer T".into()))]),
                body: body.into(),
                content_type: "application/x-www-form-urlencoded".into(),
            },
            Templates::builtin(),
        )
    }

    #[test]
    fn the_body_template_gets_the_number_and_the_text() {
        let req = api(false, "{{ {'To': to, 'Body': text}|urlencode }}")
            .build(&zh_reader(), &one_incident(), 0)
            .unwrap();
        let body = String::from_utf8(req.body).unwrap();
        assert!(body.starts_with("Body=%5Btocsin%5D%20%5BP1%5D"), "{body}");
        assert!(body.ends_with("&To=13800000000"), "{body}");
        assert!(req
            .headers
            .contains(&("Authorization".into(), "Bearer T".into())));
    }

    #[test]
    fn voice_text_has_no_urls() {
        let req = api(true, "{{ text }}")
            .build(&zh_reader(), &one_incident(), 0)
            .unwrap();
        let text = String::from_utf8(req.body).unwrap();
        assert_eq!(
            text,
            "这里是 tocsin 告警通知。[P1] MySQL primary down <3。事件 1：MySQL primary down <3，\
             服务 order-db，优先级 P1。请尽快处理。"
        );
        assert!(!text.contains("http"), "{text}");
    }

    #[test]
    fn helpers_for_signed_requests() {
        let req = api(
            false,
            "{{ now_utc }} {{ 'a b/~*'|rfc3986 }} {{ hmac_sha1_base64('k', 'm') }} {{ nonce|length }}",
        )
        .build(&zh_reader(), &one_incident(), 1_700_000_000_000)
        .unwrap();
        let text = String::from_utf8(req.body).unwrap();
        let expected = format!(
            "2023-11-14T22:13:20Z a%20b%2F~%2A {} 32",
            crate::sign::hmac_sha1_base64("k", "m")
        );
        assert_eq!(text, expected);
    }

    #[test]
    fn an_aliyun_code_in_a_200_is_a_failure() {
        let a = api(false, "x");
        assert!(a
            .check("h", &response(200, r#"{"Code":"OK","Message":"OK"}"#))
            .is_ok());
        assert!(a.check("h", &response(201, r#"{"sid":"SM1"}"#)).is_ok());
        let limited = r#"{"Code":"isv.BUSINESS_LIMIT_CONTROL","Message":"limit"}"#;
        assert!(a.check("h", &response(200, limited)).unwrap_err().retry);
        let bad = r#"{"Code":"isv.MOBILE_NUMBER_ILLEGAL","Message":"bad number"}"#;
        assert!(!a.check("h", &response(200, bad)).unwrap_err().retry);
    }
}
