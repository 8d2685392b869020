//! The HTTP channels against a local receiver: the bodies they post, their signatures checked
//! with the providers' published recipes (implemented here independently of the crate), and
//! how answers are classified (retry or not).

mod common;

use axum::body::Bytes;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use base64::Engine;
use common::{load_channel, message, reader};
use hmac::{Hmac, Mac};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tocsin_core::config::Language;
use tocsin_core::paging::{ChannelSettings, Secret};
use tocsin_notify::{channel_for, MessageKind};

#[derive(Debug, Clone)]
struct Seen {
    method: String,
    path: String,
    query: String,
    headers: BTreeMap<String, String>,
    body: Vec<u8>,
}

impl Seen {
    fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap()
    }
    fn query_param(&self, name: &str) -> Option<String> {
        form(&self.query).remove(name)
    }
}

/// Status, headers and body the receiver answers with.
type Answer = (u16, Vec<(String, String)>, String);

#[derive(Clone)]
struct Receiver {
    base: String,
    seen: Arc<Mutex<Vec<Seen>>>,
    answer: Arc<Mutex<Answer>>,
}

impl Receiver {
    async fn start() -> Receiver {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let r = Receiver {
            base: format!("http://{}", listener.local_addr().unwrap()),
            seen: Arc::default(),
            answer: Arc::new(Mutex::new((
                200,
                vec![],
                r#"{"errcode":0,"code":0}"#.into(),
            ))),
        };
        let state = r.clone();
        let app = axum::Router::new().fallback(
            move |method: Method, uri: Uri, headers: HeaderMap, body: Bytes| {
                let state = state.clone();
                async move {
                    state.seen.lock().unwrap().push(Seen {
                        method: method.to_string(),
                        path: uri.path().to_string(),
                        query: uri.query().unwrap_or_default().to_string(),
                        headers: headers
                            .iter()
                            .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or("").to_string()))
                            .collect(),
                        body: body.to_vec(),
                    });
                    let (status, headers, body) = state.answer.lock().unwrap().clone();
                    let mut response = axum::response::Response::new(axum::body::Body::from(body));
                    *response.status_mut() = StatusCode::from_u16(status).unwrap();
                    for (k, v) in headers {
                        response.headers_mut().insert(
                            axum::http::HeaderName::try_from(k).unwrap(),
                            v.parse().unwrap(),
                        );
                    }
                    response
                }
            },
        );
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        r
    }
    fn answer(&self, status: u16, headers: &[(&str, &str)], body: &str) {
        *self.answer.lock().unwrap() = (
            status,
            headers
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            body.into(),
        );
    }
    fn last(&self) -> Seen {
        self.seen
            .lock()
            .unwrap()
            .last()
            .cloned()
            .expect("a request arrived")
    }
}

/// `a=1&b=x%20y` as a map, percent-decoded (`+` as space, as forms write it).
fn form(text: &str) -> BTreeMap<String, String> {
    text.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            let decode = |s: &str| {
                percent_encoding::percent_decode_str(&s.replace('+', " "))
                    .decode_utf8()
                    .unwrap()
                    .to_string()
            };
            (decode(k), decode(v))
        })
        .collect()
}

fn hmac_sha256(key: &[u8], msg: &[u8]) -> Vec<u8> {
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(key).unwrap();
    mac.update(msg);
    mac.finalize().into_bytes().to_vec()
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

#[tokio::test]
async fn dingtalk_is_signed_as_dingtalk_checks_it() {
    let rx = Receiver::start().await;
    let spec = load_channel(&format!(
        "{{id: ding, type: dingtalk, url: \"{}/robot/send?access_token=TOKEN123\", secret: SEC-ding}}",
        rx.base
    ));
    let delivered = channel_for(&spec)
        .send(
            &reader(Language::Zh, "13800000000"),
            &message(MessageKind::New, 1),
        )
        .await
        .unwrap();
    assert_eq!(delivered.detail, "HTTP 200");
    let seen = rx.last();
    assert_eq!(seen.path, "/robot/send");
    assert_eq!(
        seen.query_param("access_token").as_deref(),
        Some("TOKEN123")
    );
    // The published recipe: sign = base64(HMAC-SHA256(secret, timestamp + "\n" + secret)).
    let ts = seen.query_param("timestamp").unwrap();
    let age = now_ms() - ts.parse::<i64>().unwrap();
    assert!(
        (0..60_000).contains(&age),
        "timestamp is in ms and fresh: {ts}"
    );
    let expected = b64(&hmac_sha256(
        b"SEC-ding",
        format!("{ts}\nSEC-ding").as_bytes(),
    ));
    assert_eq!(seen.query_param("sign").unwrap(), expected);
    let body = seen.json();
    assert_eq!(body["msgtype"], "markdown");
    assert_eq!(body["at"]["atMobiles"][0], "13800000000");
    assert!(body["markdown"]["text"]
        .as_str()
        .unwrap()
        .contains("[认领]("));
}

#[tokio::test]
async fn feishu_is_signed_as_feishu_checks_it() {
    let rx = Receiver::start().await;
    let spec = load_channel(&format!(
        "{{id: fs, type: feishu, url: \"{}/open-apis/bot/v2/hook/HOOK\", secret: SEC-fs}}",
        rx.base
    ));
    rx.answer(200, &[], r#"{"code":0,"msg":"success","data":{}}"#);
    channel_for(&spec)
        .send(
            &reader(Language::En, "ou_abc"),
            &message(MessageKind::Escalated, 3),
        )
        .await
        .unwrap();
    let body = rx.last().json();
    // The published recipe: sign = base64(HMAC-SHA256(key = timestamp + "\n" + secret, "")).
    let ts = body["timestamp"].as_str().unwrap();
    let age = now_ms() / 1000 - ts.parse::<i64>().unwrap();
    assert!(
        (0..60).contains(&age),
        "timestamp is in seconds and fresh: {ts}"
    );
    let expected = b64(&hmac_sha256(format!("{ts}\nSEC-fs").as_bytes(), b""));
    assert_eq!(body["sign"], expected);
    assert_eq!(body["msg_type"], "interactive");
    assert_eq!(
        body["card"]["header"]["title"]["content"],
        "3 incidents escalated in order-api"
    );
}

#[tokio::test]
async fn webhook_signature_verifies_over_the_raw_body() {
    let rx = Receiver::start().await;
    let spec = load_channel(&format!(
        "{{id: hook, type: webhook, url: \"{}/hook\", secret: whsec, headers: {{X-Env: prod}}}}",
        rx.base
    ));
    channel_for(&spec)
        .send(
            &reader(Language::En, "ops"),
            &message(MessageKind::Resolved, 2),
        )
        .await
        .unwrap();
    let seen = rx.last();
    assert_eq!(seen.headers["x-env"], "prod");
    assert_eq!(seen.headers["content-type"], "application/json");
    let ts = &seen.headers["x-tocsin-timestamp"];
    let mut signed = format!("{ts}.").into_bytes();
    signed.extend_from_slice(&seen.body);
    let hex: String = hmac_sha256(b"whsec", &signed)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(seen.headers["x-tocsin-signature"], format!("sha256={hex}"));
    let body = seen.json();
    assert_eq!(body["kind"], "resolved");
    assert_eq!(body["incidents"].as_array().unwrap().len(), 2);
    assert_eq!(body["recipient"]["address"], "ops");
}

#[tokio::test]
async fn slack_teams_wecom_and_telegram_post_their_formats() {
    let rx = Receiver::start().await;
    let send = |yaml: String, to: &'static str| async move {
        channel_for(&load_channel(&yaml))
            .send(&reader(Language::Zh, to), &message(MessageKind::New, 1))
            .await
    };
    send(
        format!("{{id: s, type: slack, url: \"{}/slack\"}}", rx.base),
        "U1",
    )
    .await
    .unwrap();
    assert!(rx.last().json()["blocks"][0]["text"]["text"]
        .as_str()
        .unwrap()
        .contains("|认领>"));
    send(
        format!("{{id: t, type: teams, url: \"{}/teams\"}}", rx.base),
        "",
    )
    .await
    .unwrap();
    assert_eq!(
        rx.last().json()["attachments"][0]["content"]["type"],
        "AdaptiveCard"
    );
    send(
        format!("{{id: w, type: wecom, url: \"{}/wecom?key=K\"}}", rx.base),
        "lisi",
    )
    .await
    .unwrap();
    assert!(rx.last().json()["markdown"]["content"]
        .as_str()
        .unwrap()
        .ends_with("<@lisi>"));
    rx.answer(200, &[], r#"{"ok":true,"result":{}}"#);
    send(
        format!(
            "{{id: tg, type: telegram, bot_token: \"42:XYZ\", api_url: \"{}\"}}",
            rx.base
        ),
        "-1001",
    )
    .await
    .unwrap();
    let seen = rx.last();
    assert_eq!(seen.path, "/bot42:XYZ/sendMessage");
    assert_eq!(seen.json()["parse_mode"], "HTML");
}

#[tokio::test]
async fn answers_say_whether_a_retry_can_help_and_never_leak_the_token() {
    let rx = Receiver::start().await;
    let url = format!("{}/robot/send?access_token=TOPSECRET", rx.base);
    let ding = channel_for(&load_channel(&format!(
        "{{id: d, type: dingtalk, url: \"{url}\"}}"
    )));
    let to = reader(Language::En, "");
    let msg = message(MessageKind::New, 1);

    rx.answer(500, &[], "oops");
    let e = ding.send(&to, &msg).await.unwrap_err();
    assert!(e.retry, "{e}");
    assert!(
        !e.to_string().contains("TOPSECRET") && e.message.contains("127.0.0.1"),
        "{e}"
    );

    rx.answer(400, &[], "bad request");
    assert!(!ding.send(&to, &msg).await.unwrap_err().retry);

    rx.answer(429, &[("Retry-After", "30")], "slow down");
    let e = ding.send(&to, &msg).await.unwrap_err();
    assert!(e.retry);
    assert_eq!(e.retry_after, Some(Duration::from_secs(30)));

    rx.answer(
        200,
        &[],
        r#"{"errcode":130101,"errmsg":"send too fast, exceed 20 times per minute"}"#,
    );
    assert!(ding.send(&to, &msg).await.unwrap_err().retry);

    rx.answer(
        200,
        &[],
        r#"{"errcode":300001,"errmsg":"token is not exist"}"#,
    );
    let e = ding.send(&to, &msg).await.unwrap_err();
    assert!(!e.retry && e.message.contains("300001"), "{e}");
    assert!(!e.to_string().contains("TOPSECRET"));

    // Nothing listens on the port any more: a connection error, worth retrying.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let gone = channel_for(&load_channel(&format!(
        "{{id: g, type: slack, url: \"http://127.0.0.1:{port}/hooks/SECRETPATH\"}}"
    )));
    let e = gone.send(&to, &msg).await.unwrap_err();
    assert!(e.retry && !e.message.contains("SECRETPATH"), "{e}");
}

/// Points a loaded example at the local receiver.
fn redirect(
    mut spec: tocsin_core::paging::ChannelSpec,
    to: &str,
) -> tocsin_core::paging::ChannelSpec {
    if let ChannelSettings::Http { url, .. } = &mut spec.settings {
        *url = Secret::new(to.into());
    }
    spec
}

#[tokio::test]
async fn twilio_examples_send_forms_with_basic_auth() {
    let rx = Receiver::start().await;
    rx.answer(201, &[], r#"{"sid":"SM123","status":"queued"}"#);
    let sms = redirect(
        common::example("twilio-sms.yaml"),
        &format!("{}/Messages.json", rx.base),
    );
    channel_for(&sms)
        .send(
            &reader(Language::En, "+14155550100"),
            &message(MessageKind::New, 1),
        )
        .await
        .unwrap();
    let seen = rx.last();
    assert_eq!(seen.method, "POST");
    assert_eq!(seen.headers["authorization"], common::TWILIO_AUTH);
    assert_eq!(
        seen.headers["content-type"],
        "application/x-www-form-urlencoded"
    );
    let f = form(std::str::from_utf8(&seen.body).unwrap());
    assert_eq!(f["To"], "+14155550100");
    assert!(
        f["Body"].contains("Acknowledge: https://t.example/ack/INC-1"),
        "{f:?}"
    );

    let voice = redirect(
        common::example("twilio-voice.yaml"),
        &format!("{}/Calls.json", rx.base),
    );
    channel_for(&voice)
        .send(
            &reader(Language::Zh, "+8613800000000"),
            &message(MessageKind::New, 1),
        )
        .await
        .unwrap();
    let f = form(std::str::from_utf8(&rx.last().body).unwrap());
    let twiml = &f["Twiml"];
    assert!(
        twiml.starts_with("<Response><Say language=\"zh-CN\">这里是 tocsin 告警通知。"),
        "{twiml}"
    );
    assert!(!twiml.contains("http"), "{twiml}");
}

#[tokio::test]
async fn aliyun_examples_carry_a_valid_rpc_signature() {
    let rx = Receiver::start().await;
    for (file, action) in [
        ("aliyun-sms.yaml", "SendSms"),
        ("aliyun-voice.yaml", "SingleCallByTts"),
    ] {
        let spec = redirect(common::example(file), &format!("{}/", rx.base));
        rx.answer(200, &[], r#"{"Code":"OK","Message":"OK","RequestId":"r"}"#);
        channel_for(&spec)
            .send(
                &reader(Language::Zh, "13800000000"),
                &message(MessageKind::New, 1),
            )
            .await
            .unwrap();
        let mut params = form(std::str::from_utf8(&rx.last().body).unwrap());
        assert_eq!(params["Action"], action);
        assert_eq!(params["AccessKeyId"], common::ALIYUN_KEY_ID);
        // Aliyun's recipe: sort, percent-encode (RFC 3986), sign "POST&%2F&" + encoded query
        // with HMAC-SHA1 keyed by the secret and "&".
        let signature = params.remove("Signature").unwrap();
        let enc = |s: &str| {
            percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC)
                .to_string()
                .replace("%2D", "-")
                .replace("%5F", "_")
                .replace("%2E", ".")
                .replace("%7E", "~")
        };
        let query: Vec<String> = params
            .iter()
            .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
            .collect();
        let to_sign = format!("POST&%2F&{}", enc(&query.join("&")));
        let mut mac = Hmac::<sha1::Sha1>::new_from_slice(
            format!("{}&", common::ALIYUN_KEY_SECRET).as_bytes(),
        )
        .unwrap();
        mac.update(to_sign.as_bytes());
        assert_eq!(signature, b64(&mac.finalize().into_bytes()), "{file}");
    }
    // Aliyun's own error code in a 200: throttling retries, a bad number does not.
    let spec = redirect(common::example("aliyun-sms.yaml"), &format!("{}/", rx.base));
    let sms = channel_for(&spec);
    let to = reader(Language::Zh, "13800000000");
    let msg = message(MessageKind::New, 1);
    rx.answer(
        200,
        &[],
        r#"{"Code":"isv.BUSINESS_LIMIT_CONTROL","Message":"触发分钟级流控"}"#,
    );
    assert!(sms.send(&to, &msg).await.unwrap_err().retry);
    rx.answer(
        200,
        &[],
        r#"{"Code":"isv.MOBILE_NUMBER_ILLEGAL","Message":"非法手机号"}"#,
    );
    assert!(!sms.send(&to, &msg).await.unwrap_err().retry);
}

#[tokio::test]
async fn webhook_headers_read_their_values_from_the_environment() {
    std::env::set_var("TOCSIN_TEST_WEBHOOK_API_KEY", "key-from-the-environment");
    let rx = Receiver::start().await;
    let spec = load_channel(&format!(
        "{{id: hook, type: webhook, url: \"{}/hook\", headers: {{X-Api-Key: \"${{TOCSIN_TEST_WEBHOOK_API_KEY}}\"}}}}",
        rx.base
    ));
    channel_for(&spec)
        .send(&reader(Language::En, "ops"), &message(MessageKind::New, 1))
        .await
        .unwrap();
    assert_eq!(rx.last().headers["x-api-key"], "key-from-the-environment");
}

#[tokio::test]
async fn a_redirect_is_a_failure_and_the_second_host_receives_nothing() {
    let first = Receiver::start().await;
    let second = Receiver::start().await;
    first.answer(302, &[("Location", &format!("{}/steal", second.base))], "");
    std::env::set_var("TOCSIN_TEST_REDIRECT_API_KEY", "key-not-to-leak");
    let spec = load_channel(&format!(
        "{{id: hook, type: webhook, url: \"{}/hook\", secret: whsec, headers: {{X-Api-Key: \"${{TOCSIN_TEST_REDIRECT_API_KEY}}\"}}}}",
        first.base
    ));
    let e = channel_for(&spec)
        .send(&reader(Language::En, "ops"), &message(MessageKind::New, 1))
        .await
        .unwrap_err();
    assert!(!e.retry, "the same request gets the same answer: {e}");
    assert!(
        e.message.contains("redirects are not followed") && e.message.contains("HTTP 302"),
        "{e}"
    );
    assert_eq!(first.seen.lock().unwrap().len(), 1);
    assert!(
        second.seen.lock().unwrap().is_empty(),
        "the signed body and the key went to the redirect's host"
    );
}

#[tokio::test]
async fn an_endless_answer_is_read_up_to_the_cap_and_the_connection_dropped() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    // Answers 200 and then a body without end (no length: it lasts until the close).
    let written = tokio::spawn(async move {
        let (mut stream, _) = listener.accept().await.unwrap();
        let mut request = vec![0; 64 * 1024];
        let _ = stream.read(&mut request).await;
        let _ = stream
            .write_all(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n",
            )
            .await;
        let chunk = vec![b' '; 64 * 1024];
        let mut total = 0usize;
        while stream.write_all(&chunk).await.is_ok() {
            total += chunk.len();
        }
        total
    });
    let spec = load_channel(&format!(
        "{{id: hook, type: webhook, url: \"{base}/hook\"}}"
    ));
    let channel = channel_for(&spec);
    let to = reader(Language::En, "ops");
    let msg = message(MessageKind::New, 1);
    let sent = tokio::time::timeout(Duration::from_secs(8), channel.send(&to, &msg))
        .await
        .expect("the send ends without reading the whole answer");
    assert_eq!(sent.unwrap().detail, "HTTP 200");
    // The client hung up: the server's writes fail after what the socket buffers hold.
    let total = tokio::time::timeout(Duration::from_secs(8), written)
        .await
        .expect("the connection was dropped")
        .unwrap();
    assert!(total < 64 * 1024 * 1024, "{total} bytes were taken");
}
