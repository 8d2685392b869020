//! The console's incident page (`/ui/incidents/{id}`) from outside: signed in with a
//! session cookie, it shows the incident, its alerts with their links, its timeline and who
//! is paged next; an action through the API with the page's CSRF token changes what it
//! shows; a change without the token is refused; unknown and malformed ids get error pages.

mod common;

use common::*;
use serde_json::json;

pub fn between<'t>(text: &'t str, start: &str, end: &str) -> Option<&'t str> {
    let from = text.find(start)? + start.len();
    let len = text[from..].find(end)?;
    Some(&text[from..from + len])
}

/// Fires an alert on the db service and returns its incident.
fn fire(s: &TestServer, key: &str, summary: &str) -> i64 {
    s.send_events(&json!({
        "source": "nagios",
        "dedup_key": key,
        "severity": "critical",
        "summary": summary,
        "service": "db",
        "labels": {"host": "db-01"},
        "links": [
            {"href": "http://grafana.example/d/db", "text": "Grafana board"},
            {"href": "javascript:alert(1)", "text": "Sneaky"}
        ]
    }));
    incident_of(&s.wait_alert("nagios", key))
}

#[test]
fn the_incident_page_shows_facts_alerts_timeline_and_who_is_paged_next() {
    let s = spawn_server(Some(console_configs::DETAIL));
    let me = console::sign_in(&s, "alice", "responder");
    let id = fire(&s, "db-disk", "Disk <full> on db-01");
    let alert = s.wait_alert("nagios", "db-disk");
    let alert_id = id_of(&alert);

    let page = eventually("the page shows level 1 paged", || {
        let r = me.get(&s, &format!("/ui/incidents/{id}"));
        (r.status == 200 && r.body.contains("level 1 of 2 paged"))
            .then_some(r.clone())
            .ok_or(r.body)
    });
    let html = &page.body;
    // The facts, escaped.
    assert!(html.contains(&format!("#{id} ")), "{html}");
    assert!(html.contains("Disk &lt;full&gt; on db-01"), "{html}");
    assert!(!html.contains("Disk <full>"), "titles are escaped");
    assert!(html.contains(">Triggered<"), "{html}");
    assert!(html.contains("Database"), "service by name");
    assert!(html.contains("Operations"), "team by name");
    assert!(
        html.contains("from impact × urgency"),
        "the matrix priority"
    );
    // The alert, linked to its page and back to the tool.
    assert!(
        html.contains(&format!(r#"href="/ui/alerts/{alert_id}""#)),
        "{html}"
    );
    // (minijinja writes `/` in attribute values as `&#x2f;`, which browsers read as `/`.)
    assert!(
        html.contains(r#"href="http:&#x2f;&#x2f;grafana.example&#x2f;d&#x2f;db" rel="noopener"#),
        "{html}"
    );
    assert!(!html.contains("javascript:"), "only web links are links");
    assert!(html.contains("Grafana board"));
    assert!(
        html.contains(&format!(r#"data-select="{alert_id}""#)),
        "split boxes"
    );
    // The timeline: the incident was triggered and the schedule paged.
    assert!(html.contains("Timeline"));
    assert!(html.contains("paged level 1 of policy ops"), "{html}");
    // Who is paged next: level 2 in 30 minutes, bob by name.
    let next = between(html, "data-next-page>", "</div>").expect("a next page");
    assert!(next.contains("level 2 (pass 1)"), "{next}");
    assert!(next.contains("Bob Li"), "{next}");
    assert!(next.contains("in 30m") || next.contains("in 29m"), "{next}");
    // A responder gets the actions; the fragment is the live part alone.
    assert!(html.contains(&format!(
        r#"data-post="/api/v1/incidents/{id}/acknowledge""#
    )));
    assert!(html.contains(&format!(
        r#"data-live="&#x2f;ui&#x2f;incidents&#x2f;{id}?fragment=1""#
    )));
    let part = me.get(&s, &format!("/ui/incidents/{id}?fragment=1"));
    part.expect(200);
    assert!(!part.body.contains("<html"), "a fragment is no page");
    assert!(part.body.contains("Disk &lt;full&gt; on db-01"));

    // Acknowledge as the page does: cookie and CSRF token.
    me.send(
        &s,
        "POST",
        &format!("/api/v1/incidents/{id}/acknowledge"),
        &json!({}),
        true,
    )
    .expect(200);
    let after = me.get(&s, &format!("/ui/incidents/{id}"));
    after.expect(200);
    assert!(after.body.contains(">Acknowledged<"), "{}", after.body);
    assert!(!after.body.contains(&format!(
        r#"data-post="/api/v1/incidents/{id}/acknowledge""#
    )));
    assert!(after.body.contains("stopped by acknowledgement"));
    assert!(after.body.contains("acknowledged by alice") || after.body.contains("alice"));

    // Comment and priority through the API show in the page.
    me.send(
        &s,
        "POST",
        &format!("/api/v1/incidents/{id}/comment"),
        &json!({"text": "looking at the disk"}),
        true,
    )
    .expect(200);
    me.send(
        &s,
        "POST",
        &format!("/api/v1/incidents/{id}/priority"),
        &json!({"priority": "P4", "reason": "only a replica"}),
        true,
    )
    .expect(200);
    let after = me.get(&s, &format!("/ui/incidents/{id}?fragment=1"));
    assert!(after.body.contains("looking at the disk"), "{}", after.body);
    assert!(after.body.contains("set by hand"));
    assert!(after.body.contains(">P4<"));

    // Without the CSRF token a change is refused, and nothing changes.
    me.send(
        &s,
        "POST",
        &format!("/api/v1/incidents/{id}/resolve"),
        &json!({}),
        false,
    )
    .expect(403);
    assert_eq!(s.incident(id)["state"], "acknowledged");
}

#[test]
fn split_selected_alerts_and_chinese_text() {
    let s = spawn_server(Some(console_configs::DETAIL));
    let me = console::sign_in(&s, "bob", "responder");
    let id = fire(&s, "db-a", "db replication lag");
    let second = fire(&s, "db-b", "db slow queries");
    assert_ne!(id, second);
    // Merge the second into the first as the page's merge form does.
    me.send(
        &s,
        "POST",
        &format!("/api/v1/incidents/{second}/merge"),
        &json!({"into": id, "reason": "same database"}),
        true,
    )
    .expect(200);
    let page = me.get(&s, &format!("/ui/incidents/{id}"));
    assert!(page.body.contains("db replication lag") && page.body.contains("db slow queries"));
    let b = id_of(&s.wait_alert("nagios", "db-b"));
    // The split body the page sends: the ticked alert ids as numbers.
    let r = me.send(
        &s,
        "POST",
        &format!("/api/v1/incidents/{id}/split"),
        &json!({"alerts": [b], "reason": "different cause"}),
        true,
    );
    r.expect(201);
    let new = id_of(&r.json());
    let page = me.get(&s, &format!("/ui/incidents/{new}"));
    assert!(page.body.contains("db slow queries"));
    assert!(!page.body.contains("db replication lag"));

    me.send(&s, "POST", "/ui/prefs", &json!({"language": "zh"}), true)
        .expect(204);
    let page = me.get(&s, &format!("/ui/incidents/{id}"));
    assert!(page.body.contains("时间线"), "{}", page.body);
    assert!(page.body.contains("已触发"));
}

#[test]
fn unknown_and_malformed_ids_get_error_pages() {
    let s = spawn_server(Some(console_configs::DETAIL));
    let me = console::sign_in(&s, "alice", "viewer");
    let r = me.get(&s, "/ui/incidents/424242");
    assert_eq!(r.status, 404);
    assert!(
        r.body.contains("There is no incident #424242"),
        "{}",
        r.body
    );
    let r = me.get(&s, "/ui/incidents/abc");
    assert_eq!(r.status, 400);
    assert!(r.body.contains("is not an incident number"), "{}", r.body);

    // A viewer sees the incident but no action buttons.
    let id = fire(&s, "db-v", "db down");
    let r = me.get(&s, &format!("/ui/incidents/{id}"));
    r.expect(200);
    assert!(r.body.contains("db down"));
    assert!(!r.body.contains("data-post="), "{}", r.body);
    assert!(!r.body.contains("data-select="));

    // Not signed in: to the sign-in page, and back here after.
    let anon = ureq::AgentBuilder::new().redirects(0).build();
    let r = anon
        .get(&s.url(&format!("/ui/incidents/{id}")))
        .call()
        .expect("answer");
    assert_eq!(r.status(), 303);
    let to = r.header("location").unwrap_or_default().to_string();
    assert!(to.starts_with("/ui/login?next="), "{to}");
    assert!(
        to.contains("incidents") && to.ends_with(&id.to_string()),
        "{to}"
    );
}

fn id_of(v: &serde_json::Value) -> i64 {
    v["id"].as_i64().expect("an id")
}
