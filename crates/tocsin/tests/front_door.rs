//! The front door against a real server: a web page in a browser on the same machine can
//! neither silence nor read (issue 16 item 3), a local reverse proxy does not make its
//! clients "loopback" (item 4), loopback is exactly 127.0.0.1 and ::1 (item 10), JSON
//! endpoints take only JSON, the Host must be this server's, and slow or idle clients are
//! cut or wait without taking the server down (item 5). Requests are written by hand so
//! every header is the test's choice.

mod common;

use common::raw::{exchange, parse, raw};
use common::*;
use serde_json::json;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

/// `127.0.0.1:PORT` of a server started on loopback.
fn addr(s: &TestServer) -> String {
    s.base.trim_start_matches("http://").to_string()
}

fn a_silence() -> String {
    json!({
        "matchers": [{"name": "alertname", "value": "DiskFull", "isRegex": false, "isEqual": true}],
        "startsAt": time_in(0), "endsAt": time_in(3_600_000),
        "createdBy": "a web page", "comment": "drive-by",
    })
    .to_string()
}

#[test]
fn a_web_page_can_neither_silence_nor_read_through_a_browser() {
    // The built-in config: what the README starts, with token-less loopback intake on.
    let s = spawn_server(None);
    let to = addr(&s);
    // What any page can make a browser send without a CORS preflight.
    let drive_by = raw(
        &to,
        &format!(
            "POST /api/v2/silences HTTP/1.1\r\nHost: {to}\r\nOrigin: http://attacker.example\r\nContent-Type: text/plain"
        ),
        &a_silence(),
    );
    let message = drive_by.expect_error(415, "unsupported_media_type");
    assert!(message.contains("application/json"), "{message}");
    // Even as JSON from a local program, a silence needs a token: loopback is for intake.
    let local = raw(
        &to,
        &format!("POST /api/v2/silences HTTP/1.1\r\nHost: {to}\r\nContent-Type: application/json"),
        &a_silence(),
    );
    assert_eq!(local.status, 401, "{}", local.body);
    assert!(
        local.json().as_str().unwrap().contains("token"),
        "{}",
        local.body
    );
    for read in ["/api/v2/alerts", "/api/v2/silences", "/api/v2/status"] {
        let r = raw(&to, &format!("GET {read} HTTP/1.1\r\nHost: {to}"), "");
        assert_eq!(r.status, 401, "{read}: {}", r.body);
    }
    // DNS rebinding: a name that resolves to 127.0.0.1 is not this server's name.
    for token in ["", &format!("\r\nAuthorization: Bearer {ADMIN}")] {
        let rebound = raw(
            &to,
            &format!("GET /api/v2/alerts HTTP/1.1\r\nHost: attacker.example{token}"),
            "",
        );
        let message = rebound.expect_error(421, "misdirected");
        assert!(
            message.contains("--public-url") && message.contains("--allow-host"),
            "{message}"
        );
    }
    assert_eq!(
        s.get("/api/v2/silences").json(),
        json!([]),
        "nothing stored"
    );
}

#[test]
fn intake_without_a_token_is_for_a_direct_local_program_only() {
    let s = spawn_server(None);
    let to = addr(&s);
    let send = |extra: &str, key: &str| {
        raw(
            &to,
            &format!(
                "POST /api/v1/events HTTP/1.1\r\nHost: {to}\r\nContent-Type: application/json{extra}"
            ),
            &json!({"summary": "disk full", "dedup_key": key}).to_string(),
        )
    };
    send("", "direct").expect(202);
    // What a reverse proxy on the same machine adds, or a browser page sends.
    for (header, named) in [
        ("X-Forwarded-For: 203.0.113.5", "x-forwarded-for"),
        ("Forwarded: for=203.0.113.5", "forwarded"),
        ("X-Forwarded-Host: alerts.example", "x-forwarded-host"),
        ("X-Forwarded-Proto: https", "x-forwarded-proto"),
        ("X-Real-IP: 203.0.113.5", "x-real-ip"),
        ("Origin: http://attacker.example", "browser"),
        ("Sec-Fetch-Site: cross-site", "browser"),
    ] {
        let message = send(&format!("\r\n{header}"), "refused").expect_error(401, "unauthorized");
        assert!(
            message.contains(named) && message.contains("token"),
            "{header}: {message}"
        );
    }
    let am = raw(
        &to,
        &format!("POST /api/v2/alerts HTTP/1.1\r\nHost: {to}\r\nContent-Type: application/json\r\nX-Forwarded-For: 203.0.113.5"),
        &json!([{"labels": {"alertname": "Proxied"}}]).to_string(),
    );
    assert_eq!(am.status, 401, "{}", am.body);
    // A token works through a proxy, as it does anywhere.
    send(
        &format!("\r\nX-Forwarded-For: 203.0.113.5\r\nAuthorization: Bearer {ADMIN}"),
        "token",
    )
    .expect(202);
    s.settle();
    let keys: Vec<_> = s
        .all_alerts()
        .iter()
        .map(|a| a["dedup_key"].clone())
        .collect();
    assert_eq!(keys.len(), 2, "{keys:?}");
}

/// A connection to the server from `source` (another loopback address).
fn connect_from(source: &str, to: &str) -> TcpStream {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .build()
        .unwrap();
    let stream = runtime.block_on(async {
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket
            .bind(source.parse().unwrap())
            .expect("bind 127.0.0.2");
        socket.connect(to.parse().unwrap()).await.expect("connect")
    });
    let stream = stream.into_std().unwrap();
    stream.set_nonblocking(false).unwrap();
    stream
}

#[test]
fn loopback_is_127_0_0_1_not_all_of_127_8_and_includes_mapped_ipv4() {
    let s = spawn_server(None);
    let to = addr(&s);
    let head =
        format!("POST /api/v1/events HTTP/1.1\r\nHost: {to}\r\nContent-Type: application/json");
    let event = json!({"summary": "from 127.0.0.2"}).to_string();
    let r = exchange(connect_from("127.0.0.2:0", &to), &head, &event);
    assert_eq!(r.status, 401, "{}", r.body);
    assert!(r.body.contains("127.0.0.2"), "{}", r.body);

    // A dual-stack listener sees 127.0.0.1 as ::ffff:127.0.0.1.
    let mut s = new_server(None);
    s.listen = "[::]:0".into();
    s.start();
    let port = s.base.rsplit(':').next().unwrap().to_string();
    let to = format!("127.0.0.1:{port}");
    let head =
        format!("POST /api/v1/events HTTP/1.1\r\nHost: {to}\r\nContent-Type: application/json");
    raw(&to, &head, &json!({"summary": "mapped"}).to_string()).expect(202);
}

#[test]
fn a_public_url_pins_the_host_and_turns_token_less_loopback_off() {
    let mut s = new_server(None);
    s.args = [
        "--public-url",
        "https://tocsin.example.com/",
        "--allow-host",
        "alerts.internal",
    ]
    .map(String::from)
    .to_vec();
    s.start();
    let to = addr(&s);
    let r = raw(
        &to,
        &format!("POST /api/v1/events HTTP/1.1\r\nHost: {to}\r\nContent-Type: application/json"),
        &json!({"summary": "anonymous"}).to_string(),
    );
    let message = r.expect_error(401, "unauthorized");
    assert!(message.contains("--public-url"), "{message}");
    let auth = format!("\r\nAuthorization: Bearer {ADMIN}");
    for (host, status) in [
        ("tocsin.example.com", 200),
        ("TOCSIN.example.com:443", 200),
        ("localhost:1", 200),
        ("alerts.internal:7600", 200),
        ("attacker.example", 421),
    ] {
        let r = raw(
            &to,
            &format!("GET /api/v1/alerts HTTP/1.1\r\nHost: {host}{auth}"),
            "",
        );
        assert_eq!(r.status, status, "{host}: {}", r.body);
    }
}

#[test]
fn json_endpoints_take_only_json() {
    let s = spawn_server(None);
    let to = addr(&s);
    let silence = json!({"matchers": ["alertname=\"DiskFull\""], "duration": "1h", "comment": "c"})
        .to_string();
    let post = |path: &str, content_type: &str, body: &str| {
        raw(
            &to,
            &format!(
                "POST {path} HTTP/1.1\r\nHost: {to}\r\nAuthorization: Bearer {ADMIN}{content_type}"
            ),
            body,
        )
    };
    for content_type in [
        "\r\nContent-Type: text/plain",
        "\r\nContent-Type: application/x-www-form-urlencoded",
        "",
    ] {
        let message = post("/api/v1/silences", content_type, &silence)
            .expect_error(415, "unsupported_media_type");
        assert!(
            message.contains("POST /api/v1/silences takes JSON"),
            "{message}"
        );
        post("/api/v1/events", content_type, r#"{"summary": "x"}"#)
            .expect_error(415, "unsupported_media_type");
    }
    post(
        "/api/v1/silences",
        "\r\nContent-Type: Application/JSON; charset=utf-8",
        &silence,
    )
    .expect(201);
    // No body, no type needed: 404 for the missing incident, not 415.
    post("/api/v1/incidents/999/acknowledge", "", "").expect(404);
    // Integrations keep their own formats.
    assert_eq!(s.items("/api/v1/silences").len(), 1, "nothing else stored");
}

#[test]
fn a_slowloris_client_and_an_idle_connection_are_cut_after_the_header_timeout() {
    let mut s = new_server(None);
    s.args = vec!["--header-timeout".into(), "1s".into()];
    s.start();
    let to = addr(&s);
    let closed_within = |mut stream: TcpStream, sent: &str| {
        stream
            .set_read_timeout(Some(Duration::from_secs(15)))
            .unwrap();
        stream.write_all(sent.as_bytes()).unwrap();
        let started = Instant::now();
        let mut buf = Vec::new();
        // The server closes (an answer or none): read_to_end returns, it does not time out.
        match stream.read_to_end(&mut buf) {
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => {}
            Err(e) => panic!("still open after {:?}: {e}", started.elapsed()),
        }
        started.elapsed()
    };
    let half = TcpStream::connect(&to).unwrap();
    let took = closed_within(half, "GET /api/v1/alerts HTTP/1.1\r\nHost: 127.0.0.1\r\n");
    assert!(took < Duration::from_secs(10), "{took:?}");
    let idle = TcpStream::connect(&to).unwrap();
    let took = closed_within(idle, "");
    assert!(took < Duration::from_secs(10), "{took:?}");
    // Kept alive after a whole request, then idle: closed too.
    let kept = TcpStream::connect(&to).unwrap();
    let took = closed_within(
        kept,
        &format!("GET /-/healthy HTTP/1.1\r\nHost: {to}\r\n\r\n"),
    );
    assert!(took < Duration::from_secs(10), "{took:?}");
    s.get("/-/healthy").expect(200);
}

#[test]
fn a_body_that_trickles_ends_with_408() {
    let mut s = new_server(None);
    s.args = vec!["--body-timeout".into(), "1s".into()];
    s.start();
    let to = addr(&s);
    let mut stream = TcpStream::connect(&to).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(15)))
        .unwrap();
    let head = format!(
        "POST /api/v1/silences HTTP/1.1\r\nHost: {to}\r\nAuthorization: Bearer {ADMIN}\r\nContent-Type: application/json\r\nContent-Length: 200\r\n\r\n{{\"matchers\""
    );
    stream.write_all(head.as_bytes()).unwrap();
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    let message = parse(&answer).expect_error(408, "timeout");
    assert!(message.contains("within 1s"), "{message}");
    assert_eq!(s.items("/api/v1/silences").len(), 0, "nothing stored");
}

#[test]
fn connections_past_the_limit_wait_and_are_served_when_others_go() {
    let mut s = new_server(None);
    s.args = vec![
        "--max-connections".into(),
        "4".into(),
        "--header-timeout".into(),
        "30s".into(),
    ];
    s.start();
    let to = addr(&s);
    // Four kept-alive connections, each known to be accepted (it was answered), now idle.
    let held: Vec<TcpStream> = (0..4)
        .map(|_| {
            let mut c = TcpStream::connect(&to).unwrap();
            c.write_all(format!("GET /-/healthy HTTP/1.1\r\nHost: {to}\r\n\r\n").as_bytes())
                .unwrap();
            let mut buf = [0u8; 512];
            assert!(c.read(&mut buf).unwrap() > 0);
            c
        })
        .collect();
    // More than the limit, idle: they wait in the listen backlog.
    let crowd: Vec<TcpStream> = (0..50).map(|_| TcpStream::connect(&to).unwrap()).collect();
    let (tx, rx) = std::sync::mpsc::channel();
    let waiting = to.clone();
    std::thread::spawn(move || {
        let r = raw(
            &waiting,
            &format!("GET /-/healthy HTTP/1.1\r\nHost: {waiting}"),
            "",
        );
        let _ = tx.send(r.status);
    });
    assert!(
        rx.recv_timeout(Duration::from_millis(500)).is_err(),
        "served past the limit of 4"
    );
    drop(held);
    drop(crowd);
    assert_eq!(rx.recv_timeout(Duration::from_secs(15)), Ok(200));
    s.get("/-/healthy").expect(200);
    let log = s.stderr();
    assert!(log.contains("at most 4 at once"), "{log}");
    assert!(!log.contains("Too many open files"), "{log}");
}

#[test]
fn more_connections_than_files_is_refused_at_start() {
    let data = tempfile::tempdir().unwrap();
    let data = data.path().join("data");
    let out = tocsin(&[
        "serve",
        "--data",
        data.to_str().unwrap(),
        "--listen",
        "127.0.0.1:0",
        "--max-connections",
        "100000000",
    ]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("--max-connections") && err.contains("LimitNOFILE"),
        "{err}"
    );
}
