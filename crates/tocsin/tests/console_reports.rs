//! The console's Reports page end to end: a person signs in, incidents are opened,
//! acknowledged and resolved through the API, and the page shows the numbers as charts and
//! tables, in Chinese too, with CSV links that work with the session cookie alone.

mod common;

use common::*;
use serde_json::json;
use std::time::Duration;

/// A GET with the cookie: status, body and content type.
fn get(s: &TestServer, cookie: &str, path: &str) -> (u16, String, String) {
    let r = ureq::AgentBuilder::new()
        .redirects(0)
        .build()
        .get(&s.url(path))
        .set("Cookie", cookie)
        .call();
    let r = match r {
        Ok(r) => r,
        Err(ureq::Error::Status(_, r)) => r,
        Err(e) => panic!("GET {path}: {e}"),
    };
    let kind = r.content_type().to_string();
    (r.status(), kind, r.into_string().unwrap())
}

#[test]
fn the_reports_page_shows_the_numbers_in_english_and_chinese_with_csv_links() {
    let s = spawn_server(Some(console_configs::REPORTS));
    let cookie = console::sign_in(&s, "alice", "responder").cookie;

    // Nothing yet: the page draws its empty states.
    let (status, _, page) = get(&s, &cookie, "/ui/reports");
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("No incidents in this range."), "{page}");
    assert!(page.contains("Nobody was notified in this range."));

    s.send_events(&json!([
        {"summary": "slow 1", "service": "mysql", "dedup_key": "q1", "labels": {"alertname": "SlowQueries"}},
        {"summary": "slow 2", "service": "mysql", "dedup_key": "q2", "labels": {"alertname": "SlowQueries"}},
        {"summary": "replication lag", "service": "mysql", "dedup_key": "r1", "labels": {"alertname": "ReplicationLag"}},
    ]));
    let a = incident_of(&s.wait_alert("api", "q1"));
    s.wait_alert("api", "q2");
    let b = incident_of(&s.wait_alert("api", "r1"));
    std::thread::sleep(Duration::from_millis(20));
    s.act(a, "acknowledge", &json!({})).expect(200);
    s.act(a, "resolve", &json!({})).expect(200);
    s.act(b, "acknowledge", &json!({})).expect(200);
    s.settle();

    let (status, _, page) = get(&s, &cookie, "/ui/reports?range=7&bucket=day&by=team");
    assert_eq!(status, 200, "{page}");
    for text in [
        "Summary",
        "Response times",
        "Alerts and incidents",
        "Noisiest alerts",
        "On-call load",
        "Database team",
        "SlowQueries",
        "ReplicationLag",
    ] {
        assert!(page.contains(text), "no {text:?} in {page}");
    }
    assert!(
        page.contains(r#"<dd data-stat="incidents">2</dd>"#),
        "{page}"
    );
    assert!(page.contains(r#"<dd data-stat="alerts">3</dd>"#), "{page}");
    assert!(
        page.contains(r#"<dd data-stat="per-incident">1.5</dd>"#),
        "{page}"
    );
    assert!(
        page.contains(r#"<dd data-stat="reduction">33.3%</dd>"#),
        "{page}"
    );
    assert!(
        page.matches("<svg class=\"chart-svg\"").count() >= 3,
        "{page}"
    );
    assert!(page.contains("<circle class=\"dot s0\""), "{page}");

    // Each section links to its CSV with the same parameters, and the cookie is enough.
    for section in ["summary", "response", "volume", "noisy", "load"] {
        let needle = format!("href=\"/api/v1/reports/{section}.csv?");
        let at = page
            .find(&needle)
            .unwrap_or_else(|| panic!("no {section} link"));
        let href = page[at + 6..]
            .split('"')
            .next()
            .unwrap()
            .replace("&amp;", "&")
            .replace("&#x2f;", "/");
        assert!(
            href.contains("bucket=day") && href.contains("from="),
            "{href}"
        );
        // The viewer's zone (alice's in the config) is the default.
        assert!(href.contains("zone=Asia/Shanghai"), "{href}");
        let (status, kind, body) = get(&s, &cookie, &href);
        assert_eq!(status, 200, "{href}: {body}");
        assert!(kind.starts_with("text/csv"), "{kind}");
        if section == "noisy" {
            assert!(body.contains("SlowQueries,mysql,2,2,1"), "{body}");
        }
        if section == "summary" {
            assert!(
                body.lines().nth(1).unwrap().starts_with(",all,2,2,"),
                "{body}"
            );
        }
    }
    // Without the cookie the CSV is refused.
    s.get_as("/api/v1/reports/summary.csv", None).expect(401);

    // Bad input stays on the page with a message.
    let (status, _, page) = get(&s, &cookie, "/ui/reports?range=custom&from=2026-13-01");
    assert_eq!(status, 400);
    assert!(page.contains("from:") && page.contains("<form"), "{page}");

    // In Chinese.
    let r = ureq::post(&s.url("/ui/prefs"))
        .set("Cookie", &cookie)
        .set("X-CSRF-Token", &console::csrf_of(&page))
        .set("Content-Type", "application/json")
        .send_string(r#"{"language":"zh"}"#);
    assert!(r.is_ok(), "prefs: {r:?}");
    let (_, _, page) = get(&s, &cookie, "/ui/reports?range=30&bucket=week&by=service");
    for text in [
        "报表",
        "响应时间",
        "最嘈杂的告警",
        "值班负担",
        "降噪率",
        "MySQL",
    ] {
        assert!(page.contains(text), "no {text:?} in {page}");
    }
    assert!(
        page.contains(r#"<dd data-stat="incidents">2</dd>"#),
        "{page}"
    );
}
