use super::*;
use crate::sqlite::{open_writer, ReadPool};
use std::time::Instant;
use tocsin_core::config::load_str;
use tocsin_core::reports::{report, Bucket, GroupBy, Scope};

const MINUTE: Millis = 60_000;
const DAY: Millis = 24 * 60 * MINUTE;
/// 2026-03-01T00:00:00Z: the seeded store's history spans the 60 days before it.
const END: Millis = 1_772_323_200_000;
const INCIDENTS: i64 = 10_000;
const ALERTS: i64 = 100_000;

/// What a query of the last 30 days must find in the seeded store.
#[derive(Default, Debug, PartialEq)]
struct Expected {
    incidents: usize,
    firings: usize,
    pages: usize,
}

/// Seeds the busy store of the issue straight into the tables: 10,000 incidents and 100,000
/// alerts over 60 days (every tenth alert fired twice), three notifications per incident of
/// which two were sent.
fn seed(conn: &mut Connection, from: Millis) -> Expected {
    let mut expected = Expected::default();
    let inside = |t: Millis| t >= from && t < END;
    let tx = conn.transaction().unwrap();
    {
        let mut incident = tx
            .prepare(
                "INSERT INTO incidents (id, title, service, team, state, priority,
                     priority_manual, impact, severity, group_key, alert_count, firing_count,
                     created_at, updated_at, acknowledged_at, resolved_at, last_alert_at)
                 VALUES (?1, 'disk full', ?2, ?3, 'resolved', 3, 0, 'medium', 'high', 'g',
                     10, 0, ?4, ?4, ?5, ?6, ?4)",
            )
            .unwrap();
        let mut notification = tx
            .prepare(
                "INSERT INTO notifications (incident_id, user_id, contact, contact_type,
                     address, channel, reason, due_at, only_if_unacked, state, created_at,
                     sent_at)
                 VALUES (?1, ?2, 0, 'sms', '+100', 'sms', 'level 1', ?3, 1, ?4, ?3, ?5)",
            )
            .unwrap();
        for id in 1..=INCIDENTS {
            let created = END - 60 * DAY + id * (60 * DAY / INCIDENTS);
            let (service, team) = [("mysql", "dba"), ("switch", "net")][(id % 2) as usize];
            let acked = (id % 5 != 0).then_some(created + (id % 10 + 1) * MINUTE);
            let resolved = (id % 3 != 0).then_some(created + (id % 7 + 1) * 60 * MINUTE);
            incident
                .execute(params![id, service, team, created, acked, resolved])
                .unwrap();
            expected.incidents += usize::from(inside(created));
            for (n, state) in ["sent", "sent", "cancelled"].iter().enumerate() {
                let sent = created + (n as i64 + 1) * MINUTE;
                let sent_at = (*state == "sent").then_some(sent);
                let user = ["alice", "bob"][n % 2];
                notification
                    .execute(params![id, user, created, state, sent_at])
                    .unwrap();
                expected.pages += usize::from(sent_at.is_some_and(inside));
            }
        }
        let mut alert = tx
            .prepare(
                "INSERT INTO alerts (id, source, dedup_key, name, service, status, severity,
                     summary, description, labels, links, episode, occurrences, first_seen,
                     last_seen, started_at, resolved_at, incident_id)
                 VALUES (?1, 'prometheus', ?2, ?3, ?4, 'resolved', 'high', 's', '', '{}', '[]',
                     ?5, ?6, ?7, ?8, ?7, ?8, ?9)",
            )
            .unwrap();
        let mut history = tx
            .prepare(
                "INSERT INTO alert_history (alert_id, seq, episode, incident_id, kind, at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )
            .unwrap();
        let mut seq = 0;
        for id in 1..=ALERTS {
            let incident_id = (id - 1) / (ALERTS / INCIDENTS) + 1;
            let first = END - 60 * DAY + id * (60 * DAY / ALERTS);
            let service = ["mysql", "switch"][(incident_id % 2) as usize];
            let episodes = if id % 10 == 0 { 2 } else { 1 };
            let mut at = first;
            for episode in 1..=episodes {
                for (kind, t) in [("fired", at), ("resolved", at + 5 * MINUTE)] {
                    seq += 1;
                    history
                        .execute(params![id, seq, episode, incident_id, kind, t])
                        .unwrap();
                }
                expected.firings += usize::from(inside(at));
                at += 3 * DAY;
            }
            alert
                .execute(params![
                    id,
                    format!("key-{id}"),
                    format!("Alert{}", id % 500),
                    service,
                    episodes,
                    episodes * 4,
                    first,
                    at,
                    incident_id
                ])
                .unwrap();
        }
    }
    tx.commit().unwrap();
    expected
}

#[test]
fn a_busy_store_reports_a_month_in_one_pass_per_table() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.db");
    let mut writer = open_writer(&path).unwrap();
    let from = END - 30 * DAY;
    let expected = seed(&mut writer, from);
    let pool = ReadPool::new(path);

    let started = Instant::now();
    let facts = pool.with(|c| facts(c, from, END)).unwrap();
    let fetched = started.elapsed();
    let found = Expected {
        incidents: facts.incidents.len(),
        firings: facts.firings.len(),
        pages: facts.pages.len(),
    };
    assert_eq!(found, expected);
    assert!(expected.incidents > 4_000 && expected.firings > 50_000);
    let refire = facts
        .firings
        .iter()
        .filter(|f| f.alert_id % 10 == 0)
        .count();
    assert!(refire > 0 && facts.firings.iter().all(|f| f.occurrences > 0));

    let config = load_str(
        "teams: [{id: dba}, {id: net}]\n\
         services: [{id: mysql, team: dba}, {id: switch, team: net}]\n\
         users: [{id: alice, time_zone: Asia/Shanghai}, {id: bob, time_zone: America/New_York}]\n",
    )
    .unwrap();
    let scope = Scope {
        from,
        to: END,
        bucket: Bucket::Day,
        // The store does not depend on jiff: a zone from the config.
        zone: config.user("bob").unwrap().tz.clone(),
        by: GroupBy::Team,
        team: None,
        service: None,
    };
    let started = Instant::now();
    let r = report(&scope, &facts, &config);
    let computed = started.elapsed();
    assert_eq!(r.summary.all.response.incidents, expected.incidents as u64);
    assert_eq!(r.summary.all.noise.alerts, expected.firings as u64);
    assert_eq!(r.summary.all.notifications, expected.pages as u64);
    assert_eq!(r.summary.groups.len(), 2);
    assert_eq!(r.noisy.len(), tocsin_core::reports::TOP_NOISY);
    assert_eq!(r.load.len(), 2);

    let plans: Vec<String> = pool
        .with(|c| {
            let mut out = Vec::new();
            for sql in [
                "SELECT 1 FROM incidents WHERE created_at >= 0 AND created_at < 1",
                "SELECT 1 FROM alert_history h JOIN alerts a ON a.id = h.alert_id
                  WHERE h.kind = 'fired' AND h.at >= 0 AND h.at < 1",
                "SELECT 1 FROM notifications n JOIN incidents i ON i.id = n.incident_id
                  WHERE n.state = 'sent' AND n.sent_at >= 0 AND n.sent_at < 1",
            ] {
                let mut stmt = c.prepare(&format!("EXPLAIN QUERY PLAN {sql}"))?;
                let steps: Vec<String> = stmt
                    .query_map([], |r| r.get::<_, String>(3))?
                    .collect::<rusqlite::Result<_>>()?;
                out.push(steps.join("; "));
            }
            Ok(out)
        })
        .unwrap();
    println!(
        "report of 30 days in a store of {INCIDENTS} incidents and {ALERTS} alerts: \
         {} incidents, {} firings, {} notifications fetched in {fetched:?}, computed in \
         {computed:?} ({} build)\nplans:\n  {}",
        expected.incidents,
        expected.firings,
        expected.pages,
        if cfg!(debug_assertions) {
            "debug"
        } else {
            "release"
        },
        plans.join("\n  ")
    );
}
