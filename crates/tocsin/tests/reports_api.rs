//! Reports end to end: alerts fold into incidents, a person is paged, acknowledges and
//! resolves; the report then counts it all (MTTA, MTTR, alerts per incident, noisy alerts,
//! load with night pages), the CSV export quotes what it must, and bad parameters are 400s.

mod common;

use common::receiver::Receiver;
use common::*;
use serde_json::{json, Value};
use std::time::Duration;

/// An alert name a CSV must quote: a comma, quotes, and Chinese.
const NOISY: &str = "慢查询 \"slow\", db";

fn config(port: u16) -> String {
    format!(
        r#"
users:
  - {{id: alice, name: 王丽, time_zone: Asia/Shanghai, contacts: [{{type: webhook, to: alice}}]}}
teams:
  - {{id: dba, name: "DBA, core", members: [alice], escalation_policy: dba}}
  - {{id: net, name: Network}}
services:
  - {{id: mysql, name: MySQL, team: dba}}
  - {{id: switch, name: Switch, team: net}}
escalation_policies:
  - id: dba
    levels:
      - {{delay: 30m, targets: [{{user: alice}}]}}
channels:
  - {{id: hook, type: webhook, url: "http://127.0.0.1:{port}/page", secret: "s3cret-signing-key"}}
"#
    )
}

/// Four alerts: two of one name fold into one incident of dba, one more for dba, one for net
/// (whose team has no policy, so nobody is paged for it). Returns the incidents of q1 and r1.
fn fire_alerts(s: &TestServer) -> (i64, i64) {
    s.send_events(&json!([
        {"summary": "slow 1", "service": "mysql", "dedup_key": "q1", "labels": {"alertname": NOISY}},
        {"summary": "slow 2", "service": "mysql", "dedup_key": "q2", "labels": {"alertname": NOISY}},
        {"summary": "replication lag", "service": "mysql", "dedup_key": "r1"},
        {"summary": "port down", "service": "switch", "dedup_key": "p1"},
    ]));
    let q1 = incident_of(&s.wait_alert("api", "q1"));
    let q2 = incident_of(&s.wait_alert("api", "q2"));
    assert_eq!(q1, q2, "one name on one service is one incident");
    let r1 = incident_of(&s.wait_alert("api", "r1"));
    s.wait_alert("api", "p1");
    (q1, r1)
}

/// Night pages (22:00 to 07:00 in Shanghai) among the incidents' sent notifications.
fn night_pages(s: &TestServer, incidents: &[i64]) -> u64 {
    let zone = jiff::tz::TimeZone::get("Asia/Shanghai").unwrap();
    let mut night = 0;
    for id in incidents {
        for n in s.incident(*id)["notifications"].as_array().unwrap() {
            if n["state"] == "sent" {
                let at = jiff::Timestamp::from_millisecond(millis(&n["sent_at"])).unwrap();
                let hour = zone.to_datetime(at).hour();
                night += u64::from(!(7..22).contains(&hour));
            }
        }
    }
    night
}

fn pages_sent(s: &TestServer, id: i64) -> usize {
    s.incident(id)["notifications"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["state"] == "sent")
        .count()
}

#[test]
fn the_report_counts_response_volume_noise_and_load() {
    let port = Receiver::start().port;
    let s = spawn_server(Some(&config(port)));
    let (a, b) = fire_alerts(&s);
    eventually("alice is paged for both dba incidents", || {
        let sent = (pages_sent(&s, a), pages_sent(&s, b));
        (sent == (1, 1)).then_some(()).ok_or(format!("{sent:?}"))
    });
    // Long enough that a response time in seconds is above 0 however fast the machine.
    std::thread::sleep(Duration::from_millis(20));
    s.act(a, "acknowledge", &json!({})).expect(200);
    s.act(a, "resolve", &json!({})).expect(200);
    s.act(b, "acknowledge", &json!({})).expect(200);

    let r = s.get("/api/v1/reports");
    r.expect(200);
    let report = r.json();
    assert_eq!(
        (&report["bucket"], &report["by"], &report["zone"]),
        (&json!("day"), &json!("team"), &json!("UTC"))
    );
    let all = &report["summary"]["all"];
    assert_eq!(all["incidents"], 3, "{all}");
    assert_eq!(
        (&all["acknowledged"], &all["resolved"]),
        (&json!(2), &json!(1))
    );
    assert!(all["mtta_mean_seconds"].as_f64().unwrap() > 0.0, "{all}");
    assert!(all["mtta_median_seconds"].as_f64().unwrap() > 0.0, "{all}");
    assert!(all["mttr_mean_seconds"].as_f64().unwrap() > 0.0, "{all}");
    assert_eq!(all["alerts"], 4);
    assert_eq!(all["alerts_per_incident"], 1.3333);
    assert_eq!(all["noise_reduction"], 0.25);
    assert_eq!(all["notifications"], 2);
    assert_eq!(all["night_notifications"], night_pages(&s, &[a, b]));

    let groups: Vec<(Value, Value, Value, Value)> = report["summary"]["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| {
            (
                g["group"].clone(),
                g["name"].clone(),
                g["incidents"].clone(),
                g["alerts"].clone(),
            )
        })
        .collect();
    assert_eq!(
        groups,
        [
            (json!("dba"), json!("DBA, core"), json!(2), json!(3)),
            (json!("net"), json!("Network"), json!(1), json!(1)),
        ]
    );
    let sum = |section: &str, field: &str| -> i64 {
        report[section]
            .as_array()
            .unwrap()
            .iter()
            .map(|row| row[field].as_i64().unwrap())
            .sum()
    };
    assert_eq!(sum("response", "incidents"), 3);
    assert_eq!(sum("volume", "alerts"), 4);
    assert_eq!(report["noisy"][0]["name"], NOISY);
    assert_eq!(
        (
            &report["noisy"][0]["firings"],
            &report["noisy"][0]["alerts"],
            &report["noisy"][0]["incidents"]
        ),
        (&json!(2), &json!(2), &json!(1))
    );
    let load = report["load"].as_array().unwrap();
    assert_eq!(load.len(), 1, "{load:?}");
    assert_eq!(
        (&load[0]["user"], &load[0]["name"], &load[0]["time_zone"]),
        (&json!("alice"), &json!("王丽"), &json!("Asia/Shanghai"))
    );
    assert_eq!(
        (&load[0]["notifications"], &load[0]["incidents"]),
        (&json!(2), &json!(2))
    );

    // By service, within one team.
    let r = s.get("/api/v1/reports?by=service&team=dba").json();
    let groups: Vec<&Value> = r["summary"]["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| &g["group"])
        .collect();
    assert_eq!(groups, [&json!("mysql")]);
    assert_eq!(r["summary"]["all"]["incidents"], 2);
    let r = s.get("/api/v1/reports?service=switch").json();
    assert_eq!(
        (
            &r["summary"]["all"]["incidents"],
            &r["summary"]["all"]["notifications"]
        ),
        (&json!(1), &json!(0))
    );
    assert_eq!(r["summary"]["all"]["mtta_mean_seconds"], Value::Null);

    // Weeks on Shanghai's calendar start on a local Monday midnight.
    let r = s
        .get("/api/v1/reports?bucket=week&zone=Asia/Shanghai")
        .json();
    let start = r["buckets"][0]["start"].as_str().unwrap();
    assert!(start.ends_with("T00:00:00+08:00"), "{start}");
    let date: jiff::civil::Date = start[..10].parse().unwrap();
    assert_eq!(date.weekday(), jiff::civil::Weekday::Monday);

    // A viewer may read reports.
    let made = s.post("/api/v1/tokens", &json!({"name": "wall", "role": "viewer"}));
    made.expect(201);
    let viewer = made.json()["token"].as_str().unwrap().to_string();
    s.get_as("/api/v1/reports", Some(&viewer)).expect(200);
    s.get_as("/api/v1/reports", None)
        .expect_error(401, "unauthorized");
}

/// A CSV answer with its headers.
struct CsvAnswer {
    content_type: String,
    disposition: String,
    body: String,
}

fn get_csv(s: &TestServer, path: &str) -> CsvAnswer {
    let r = ureq::get(&s.url(path))
        .set("Authorization", &format!("Bearer {ADMIN}"))
        .call()
        .unwrap_or_else(|e| panic!("{path}: {e}"));
    CsvAnswer {
        content_type: r.header("Content-Type").unwrap_or("").to_string(),
        disposition: r.header("Content-Disposition").unwrap_or("").to_string(),
        body: r.into_string().unwrap(),
    }
}

/// RFC 4180 rows: quoted fields may hold commas, doubled quotes and line breaks.
fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let (mut rows, mut row, mut field) = (Vec::new(), Vec::new(), String::new());
    let mut chars = text.chars().peekable();
    let mut quoted = false;
    while let Some(ch) = chars.next() {
        match (quoted, ch) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            (true, '"') => quoted = false,
            (true, _) => field.push(ch),
            (false, '"') => quoted = true,
            (false, ',') => row.push(std::mem::take(&mut field)),
            (false, '\r') => {}
            (false, '\n') => {
                row.push(std::mem::take(&mut field));
                rows.push(std::mem::take(&mut row));
            }
            (false, _) => field.push(ch),
        }
    }
    assert!(
        field.is_empty() && row.is_empty(),
        "the last line has no line break"
    );
    rows
}

#[test]
fn csv_exports_each_section_quoted_and_in_utf8() {
    let port = Receiver::start().port;
    let s = spawn_server(Some(&config(port)));
    let (a, b) = fire_alerts(&s);
    eventually("the pages are sent", || {
        (pages_sent(&s, a) + pages_sent(&s, b) == 2)
            .then_some(())
            .ok_or("not yet".to_string())
    });
    let range = format!(
        "from={}&to={}",
        enc(&time_in(-86_400_000)),
        enc(&time_in(86_400_000))
    );

    let summary = get_csv(&s, &format!("/api/v1/reports/summary.csv?{range}"));
    assert_eq!(summary.content_type, "text/csv; charset=utf-8");
    assert!(
        summary
            .disposition
            .starts_with("attachment; filename=\"tocsin-summary-")
            && summary.disposition.ends_with(".csv\""),
        "{}",
        summary.disposition
    );
    let rows = parse_csv(&summary.body);
    assert_eq!(rows[0][..4], ["group", "name", "incidents", "acknowledged"]);
    assert!(rows.iter().all(|r| r.len() == rows[0].len()), "{rows:?}");
    let column = |name: &str| rows[0].iter().position(|h| h == name).unwrap();
    assert_eq!((rows[1][0].as_str(), rows[1][1].as_str()), ("", "all"));
    assert_eq!(rows[1][column("incidents")], "3");
    assert_eq!(rows[1][column("alerts_per_incident")], "1.3333");
    assert_eq!(
        rows[1][column("mtta_mean_seconds")],
        "",
        "no acknowledgement: empty, not 0"
    );
    assert_eq!(rows[2][1], "DBA, core");
    assert!(summary.body.contains("\"DBA, core\""), "{}", summary.body);

    let noisy = get_csv(&s, &format!("/api/v1/reports/noisy.csv?{range}"));
    let rows = parse_csv(&noisy.body);
    assert_eq!(
        rows[0],
        [
            "name",
            "service",
            "firings",
            "alerts",
            "incidents",
            "occurrences"
        ]
    );
    assert_eq!(rows[1], [NOISY, "mysql", "2", "2", "1", "2"]);
    assert!(
        noisy.body.contains("\"慢查询 \"\"slow\"\", db\""),
        "{}",
        noisy.body
    );

    let load = parse_csv(&get_csv(&s, &format!("/api/v1/reports/load.csv?{range}")).body);
    assert_eq!(load[1][..4], ["alice", "王丽", "Asia/Shanghai", "2"]);

    for section in ["response", "volume"] {
        let rows = parse_csv(&get_csv(&s, &format!("/api/v1/reports/{section}.csv?{range}")).body);
        assert_eq!(rows[0][..2], ["group", "bucket"]);
        assert!(
            rows.len() >= 3,
            "{section}: a row per team at least: {rows:?}"
        );
        assert!(rows.iter().all(|r| r.len() == rows[0].len()), "{rows:?}");
    }

    s.get("/api/v1/reports/nope.csv")
        .expect_error(404, "not_found");
    s.get("/api/v1/reports/summary.json")
        .expect_error(404, "not_found");
    let m = s
        .get("/api/v1/reports/noisy.csv?bucket=month")
        .expect_error(400, "bad_request");
    assert!(m.contains("bucket"), "{m}");
}

#[test]
fn every_parameter_is_checked() {
    let s = spawn_server(Some(&config(9)));
    let now = time_in(0);
    let cases = [
        ("nope=1", "unknown parameter \"nope\""),
        (
            "zone=Mars/Olympus",
            "zone: \"Mars/Olympus\" is not an IANA time zone",
        ),
        ("zone=", "zone"),
        ("bucket=month", "bucket: \"month\" is not day or week"),
        ("by=host", "by: \"host\" is not team or service"),
        ("team=nope", "team: no team \"nope\""),
        ("service=nope", "service: no service \"nope\""),
        ("from=yesterday", "from: not an RFC 3339 time"),
        ("to=2026-03-02T09:00", "to: not an RFC 3339 time"),
        ("by=team&by=service", "by: given more than once"),
    ];
    for (query, expected) in cases {
        let m = s
            .get(&format!("/api/v1/reports?{query}"))
            .expect_error(400, "bad_request");
        assert!(m.contains(expected), "{query}: {m}");
    }
    let same = format!("from={}&to={}", enc(&now), enc(&now));
    let m = s
        .get(&format!("/api/v1/reports?{same}"))
        .expect_error(400, "bad_request");
    assert!(m.contains("from: must be before to"), "{m}");
    let future = format!("from={}", enc(&time_in(3_600_000)));
    s.get(&format!("/api/v1/reports?{future}"))
        .expect_error(400, "bad_request");
    let long = format!("from={}&to={}", enc(&time_in(-367 * 86_400_000)), enc(&now));
    let m = s
        .get(&format!("/api/v1/reports?{long}"))
        .expect_error(400, "bad_request");
    assert!(m.contains("366 days"), "{m}");
    let year = format!("from={}&to={}", enc(&time_in(-366 * 86_400_000)), enc(&now));
    s.get(&format!("/api/v1/reports?{year}&bucket=week"))
        .expect(200);
}
