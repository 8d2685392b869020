//! The HTTP edge shared by the chat, webhook and SMS channels: a request built as plain data
//! by each channel's pure builder, sent with one client, and the status classified by the
//! common rules (connection errors, timeouts, 429 and 5xx can be retried; other 4xx cannot).
//!
//! What comes back is bounded: redirects are not followed (a redirect would re-post the
//! signed body and its API key to wherever the far end points), and at most
//! [`MAX_RESPONSE`] bytes of an answer are read (a webhook answering 1 GiB took the server
//! to 2.27 GB); the rest is not read and the connection is dropped.

use crate::error::{Delivered, SendError};
use std::sync::OnceLock;
use std::time::Duration;

/// How long one request may take, connecting included: a stuck provider must not hold a
/// page back for long; the outbox retries.
const TIMEOUT: Duration = Duration::from_secs(10);
/// The most of an answer that is read: robots and SMS providers answer a few hundred bytes
/// of JSON; errors quote only the first 200.
pub const MAX_RESPONSE: usize = 64 * 1024;

/// A request as a channel's builder makes it; tests compare these directly.
#[derive(Debug, Clone, PartialEq)]
pub struct HttpRequest {
    pub method: String,
    /// Carries tokens for most robots: never put it in an error or a log.
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl HttpRequest {
    pub fn post_json(url: String, body: &serde_json::Value) -> HttpRequest {
        HttpRequest {
            method: "POST".into(),
            url,
            headers: vec![("Content-Type".into(), "application/json".into())],
            body: serde_json::to_vec(body).expect("a JSON value serialises"),
        }
    }
    /// The body as JSON, for tests and for channels that inspect what they built.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or(serde_json::Value::Null)
    }
}

/// The answer, whatever its status: some channels look into the body (robots report errors
/// in a 200, Telegram says how long to wait in a 429).
#[derive(Debug, Clone)]
pub struct HttpResponse {
    pub status: u16,
    pub retry_after: Option<Duration>,
    pub body: Vec<u8>,
}

impl HttpResponse {
    /// The common rule: any 2xx is delivered, else [`classify_status`].
    pub fn check_status(&self, host: &str) -> Result<Delivered, SendError> {
        if (200..300).contains(&self.status) {
            Ok(Delivered {
                detail: format!("HTTP {}", self.status),
            })
        } else {
            Err(classify_status(host, self.status, &self.body).after(self.retry_after))
        }
    }
    pub fn json(&self) -> Option<serde_json::Value> {
        serde_json::from_slice(&self.body).ok()
    }
}

fn client() -> &'static reqwest::Client {
    static CLIENT: OnceLock<reqwest::Client> = OnceLock::new();
    CLIENT.get_or_init(|| {
        reqwest::Client::builder()
            .timeout(TIMEOUT)
            .connect_timeout(TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("tocsin/", env!("CARGO_PKG_VERSION")))
            .build()
            .expect("the HTTP client builds")
    })
}

/// The host of a URL, the most an error may say about where it went.
pub fn host_of(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let host = &rest[..end];
    // Drop `user:password@` if someone put credentials in the URL.
    host.rsplit_once('@').map_or(host, |(_, h)| h)
}

/// Sends the request; an error means no answer came (and says whether to retry).
pub async fn send(req: HttpRequest) -> Result<HttpResponse, SendError> {
    let host = host_of(&req.url).to_string();
    let method = reqwest::Method::from_bytes(req.method.as_bytes())
        .map_err(|_| SendError::permanent(format!("bad HTTP method {:?}", req.method)))?;
    let mut builder = client().request(method, &req.url);
    for (k, v) in &req.headers {
        builder = builder.header(k, v);
    }
    let response = builder.body(req.body).send().await.map_err(|e| {
        // reqwest puts the full URL in its errors: strip it, it may carry a token.
        let e = e.without_url();
        let what = if e.is_timeout() {
            "timed out".to_string()
        } else if e.is_connect() {
            "could not connect".to_string()
        } else if e.is_builder() {
            return SendError::permanent(format!("bad request to {host}: {e}"));
        } else {
            e.to_string()
        };
        SendError::retry(format!("{host}: {what}"))
    })?;
    let status = response.status().as_u16();
    if response.status().is_redirection() {
        // Not retried: the same request gets the same answer. Where it pointed is said by
        // host only (the rest of a URL may carry a token).
        let to = response
            .headers()
            .get(reqwest::header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .map(host_of)
            .filter(|h| !h.is_empty())
            .unwrap_or(&host)
            .to_string();
        return Err(SendError::permanent(format!(
            "redirects are not followed: {host} answered HTTP {status} to {to}; configure the final URL"
        )));
    }
    let retry_after = response
        .headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(parse_retry_after);
    let body = read_capped(response, MAX_RESPONSE).await.map_err(|e| {
        SendError::retry(format!("{host}: reading the answer: {}", e.without_url()))
    })?;
    Ok(HttpResponse {
        status,
        retry_after,
        body,
    })
}

/// The first `cap` bytes of the answer's body. Dropping the response unread closes its
/// connection, so an endless answer costs no more than this.
async fn read_capped(mut response: reqwest::Response, cap: usize) -> reqwest::Result<Vec<u8>> {
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await? {
        let room = cap - body.len();
        body.extend_from_slice(&chunk[..chunk.len().min(room)]);
        if body.len() == cap {
            break;
        }
    }
    Ok(body)
}

/// 429 and 5xx (and 408) may pass later; other statuses will not.
pub fn classify_status(host: &str, status: u16, body: &[u8]) -> SendError {
    let text = String::from_utf8_lossy(&body[..body.len().min(200)]);
    let message = format!("{host} answered HTTP {status}: {}", text.trim());
    if status == 429 || status == 408 || status >= 500 {
        SendError::retry(message)
    } else {
        SendError::permanent(message)
    }
}

/// `Retry-After` is either seconds or an HTTP date.
pub fn parse_retry_after(value: &str) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(
        at.duration_since(std::time::SystemTime::now())
            .unwrap_or(Duration::ZERO),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_hide_paths_queries_and_credentials() {
        assert_eq!(
            host_of("https://oapi.dingtalk.com/robot/send?access_token=abc"),
            "oapi.dingtalk.com"
        );
        assert_eq!(host_of("http://u:p@127.0.0.1:8080/x"), "127.0.0.1:8080");
    }

    #[test]
    fn statuses_say_whether_retry_helps() {
        assert!(classify_status("h", 500, b"").retry);
        assert!(classify_status("h", 503, b"").retry);
        assert!(classify_status("h", 429, b"").retry);
        assert!(!classify_status("h", 400, b"bad").retry);
        assert!(!classify_status("h", 404, b"").retry);
    }

    #[test]
    fn retry_after_takes_seconds_or_a_date() {
        assert_eq!(parse_retry_after("7"), Some(Duration::from_secs(7)));
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon"), None);
    }
}
