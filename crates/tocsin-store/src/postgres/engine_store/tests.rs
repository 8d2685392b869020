//! What could differ from SQLite in the PostgreSQL forms of the engine's queries: types
//! narrower than BIGINT and enums as text coming back whole, SQLite's NULL-propagating
//! `max`, ids the store numbers after ids written explicitly, byte-order sorting, and the
//! batch as one transaction.

use super::*;
use crate::postgres::testing::TestDb;
use tocsin_core::correlation::cofire::{KindStats, PairStats};
use tocsin_core::event::{Event, Severity, Status};
use tocsin_core::incident::IncidentState;
use tocsin_core::priority::{Level, Priority};
use tocsin_core::time::Millis;

fn open(db: &TestDb) -> PostgresEngineStore {
    PostgresEngineStore::open(&db.config()).unwrap()
}

/// Runs `f` in a batch and commits it.
fn batch<T>(store: &mut PostgresEngineStore, f: impl FnOnce(&dyn EngineTx) -> T) -> T {
    let b = store.begin().unwrap();
    let out = f(&*b);
    b.commit().unwrap();
    out
}

fn incident(id: i64, state: IncidentState, severity: Severity, priority: u8) -> IncidentRecord {
    IncidentRecord {
        id,
        title: format!("incident {id}"),
        service: "db".into(),
        team: "ops".into(),
        state,
        priority: Priority::new(priority).unwrap(),
        priority_manual: id % 2 == 0,
        impact: [Level::Low, Level::Medium, Level::High][id as usize % 3],
        severity,
        group_key: "k".into(),
        assignee: (id % 2 == 1).then(|| "alice".into()),
        alert_count: id,
        firing_count: 0,
        created_at: 1_000 + id,
        updated_at: 2_000 + id,
        acknowledged_at: None,
        resolved_at: Some(3_000 + id),
        closed_at: None,
        last_alert_at: 1_500,
    }
}

fn event(key: &str, status: Status, at: Millis) -> Event {
    Event {
        source: "test".into(),
        integration: String::new(),
        dedup_key: key.into(),
        status,
        severity: Severity::Warning,
        name: key.into(),
        summary: String::new(),
        description: String::new(),
        service: None,
        labels: [("host".to_string(), "db1".to_string())].into(),
        links: vec![],
        occurred_at: at,
        received_at: at,
        ends_at: None,
    }
}

fn alert(id: i64, status: Status, episode: u32) -> AlertState {
    AlertState {
        id,
        incident_id: 1,
        ends_at: 0,
        occurrences: u32::MAX,
        episode,
        status,
        severity: Severity::Warning,
    }
}

#[test]
fn enums_and_narrow_numbers_come_back_whole() {
    let db = TestDb::new();
    let mut store = open(&db);
    let mut written = Vec::new();
    let mut id = 0;
    for state in IncidentState::ALL {
        for severity in Severity::ALL {
            id += 1;
            written.push(incident(id, state, severity, (id % 5 + 1) as u8));
        }
    }
    let a = alert(7, Status::Firing, u32::MAX - 1);
    let (big, small) = (u64::MAX - 7, 3);
    batch(&mut store, |b| {
        for i in &written {
            b.upsert_incident(i).unwrap();
        }
        let muting = Muting {
            silenced_by: Some(r#"["s1"]"#),
            inhibited_by: Some("[4]"),
        };
        let e = event("Disk", Status::Firing, 1_000);
        b.upsert_alert(&a, "db", Some("db1"), &e, muting).unwrap();
        let kinds = [(
            big,
            KindStats {
                name: "Disk".into(),
                fired: 5.0,
                linked: 2.5,
            },
        )];
        let pairs = [(
            (small, big),
            PairStats {
                together: 4.0,
                apart: 1.0,
            },
        )];
        b.learned(&kinds, &pairs).unwrap();
        b.set_progress(u64::from(u32::MAX) + 5, 42).unwrap();
    });
    batch(&mut store, |b| {
        let mut read = Vec::new();
        b.load_incidents(&mut |i| read.push(i)).unwrap();
        assert_eq!(read, written);
        let mut alerts = Vec::new();
        b.load_alerts(&mut |source, key, state, silenced, inhibited| {
            alerts.push((
                source.to_string(),
                key.to_string(),
                state,
                silenced,
                inhibited,
            ))
        })
        .unwrap();
        assert_eq!(
            alerts,
            [(
                "test".into(),
                "Disk".into(),
                a,
                vec!["s1".to_string()],
                vec![4]
            )]
        );
        let firing = b.firing_alert(7).unwrap().unwrap();
        assert_eq!(
            (firing.severity, firing.labels["host"].as_str()),
            (Severity::Warning, "db1")
        );
        let (kinds, pairs) = b.load_learned().unwrap();
        assert_eq!((kinds[0].0, kinds[0].1.linked), (big, 2.5));
        assert_eq!(pairs[0].0, (small, big));
        assert_eq!(b.applied_lsn().unwrap(), u64::from(u32::MAX) + 5);
        assert_eq!(b.next_history_seq().unwrap(), 42);
        assert_eq!(b.max_ids().unwrap(), (7, id));
    });
}

#[test]
fn an_unknown_enum_in_the_store_is_an_error_not_a_guess() {
    let db = TestDb::new();
    let mut store = open(&db);
    batch(&mut store, |b| {
        b.upsert_incident(&incident(1, IncidentState::Triggered, Severity::High, 2))
            .unwrap()
    });
    db.client()
        .execute("UPDATE incidents SET state = 'snoozed'", &[])
        .unwrap();
    let b = store.begin().unwrap();
    let e = b.load_incidents(&mut |_| {}).unwrap_err();
    assert_eq!(
        e.to_string(),
        "unknown incident state \"snoozed\" in the store"
    );
}

/// SQLite's `max(?, started_at)` is NULL when the argument is; `GREATEST` alone would give
/// `started_at` and show a firing alert as resolved.
#[test]
fn a_resolve_time_is_null_or_no_earlier_than_the_start() {
    let db = TestDb::new();
    let mut store = open(&db);
    let resolved_at = |db: &TestDb| -> Option<i64> {
        db.client()
            .query_one("SELECT resolved_at FROM alerts WHERE id = 1", &[])
            .unwrap()
            .get(0)
    };
    batch(&mut store, |b| {
        let e = event("Disk", Status::Firing, 5_000);
        let a = alert(1, Status::Firing, 1);
        b.upsert_alert(&a, "db", None, &e, Muting::default())
            .unwrap();
        let resolved = alert(1, Status::Resolved, 1);
        b.update_alert_state(&resolved, Some(4_000), Some(6_000), Muting::default())
            .unwrap();
    });
    assert_eq!(resolved_at(&db), Some(5_000), "not before it started");
    batch(&mut store, |b| {
        b.update_alert_state(&alert(1, Status::Firing, 2), None, None, Muting::default())
            .unwrap()
    });
    assert_eq!(resolved_at(&db), None);
    let last_seen: i64 = db
        .client()
        .query_one("SELECT last_seen FROM alerts WHERE id = 1", &[])
        .unwrap()
        .get(0);
    assert_eq!(last_seen, 6_000, "kept when no event came");
}

fn page(incident_id: i64) -> NewNotification<'static> {
    NewNotification {
        incident_id,
        user: "alice",
        contact: 0,
        contact_type: "webhook",
        address: "a",
        channel: "hook",
        level: Some(0),
        round: Some(0),
        reason: "test",
        due_at: 1_000,
        only_if_unacked: true,
        at: 1_000,
        kind: "page",
        since: None,
        actor: None,
        comment: None,
    }
}

/// Rows copied in with their ids (a store moved to PostgreSQL) do not move an identity's
/// counter: without the catch-up at open, the next notification would get id 1 and collide.
#[test]
fn ids_the_store_numbers_go_on_after_ids_written_explicitly() {
    let db = TestDb::new();
    drop(open(&db));
    db.client()
        .batch_execute(
            "INSERT INTO notifications (id, incident_id, user_id, contact, contact_type,
                 address, channel, reason, due_at, only_if_unacked, state, created_at)
             VALUES (1, 1, 'bob', 0, 'webhook', 'b', 'hook', 'r', 0, FALSE, 'sent', 0),
                    (41, 1, 'bob', 0, 'webhook', 'b', 'hook', 'r', 0, FALSE, 'sent', 0);
             INSERT INTO incident_timeline (id, incident_id, at, actor, kind, message)
             VALUES (7, 1, 0, 'tocsin', 'triggered', '')",
        )
        .unwrap();
    let mut store = open(&db);
    let (id, last) = batch(&mut store, |b| {
        b.timeline(1, 10, "alice", "comment", "hi").unwrap();
        b.silence_audit(&AuditLine {
            target: "s1".into(),
            at: 10,
            actor: "alice".into(),
            action: "create",
            comment: String::new(),
        })
        .unwrap();
        let id = b.insert_notification(&page(1)).unwrap();
        (id, b.last_notification_id().unwrap())
    });
    assert_eq!((id, last), (42, 42));
    let ids = |sql: &str| -> Vec<i64> {
        let rows = db.client().query(sql, &[]).unwrap();
        rows.iter().map(|r| r.get(0)).collect()
    };
    assert_eq!(ids("SELECT id FROM incident_timeline ORDER BY id"), [7, 8]);
    assert_eq!(
        ids("SELECT seq FROM silence_audit"),
        [1],
        "an empty table starts at 1"
    );
}

#[test]
fn text_sorts_byte_by_byte_whatever_the_locale() {
    let db = TestDb::new();
    let mut store = open(&db);
    let mut ids = [
        "b",
        "B",
        "\u{e9}t\u{e9}",
        "a",
        "Z",
        "\u{e4}",
        "a-b",
        "a_b",
        "ab",
    ];
    batch(&mut store, |b| {
        for id in ids {
            b.discovered_seen(id, 1, 2).unwrap();
        }
    });
    let read: Vec<String> = batch(&mut store, |b| {
        b.discovered_services()
            .unwrap()
            .into_iter()
            .map(|d| d.id)
            .collect()
    });
    ids.sort();
    assert_eq!(read, ids);
}

#[test]
fn a_batch_is_one_transaction_and_reads_its_own_writes() {
    let db = TestDb::new();
    let mut store = open(&db);
    {
        let b = store.begin().unwrap();
        b.upsert_incident(&incident(1, IncidentState::Triggered, Severity::High, 1))
            .unwrap();
        assert_eq!(b.max_ids().unwrap(), (0, 1), "seen inside the batch");
        assert_eq!(b.take_team_turn("ops").unwrap(), 0);
        assert_eq!(b.take_team_turn("ops").unwrap(), 1);
        // Dropped without a commit: rolled back.
    }
    batch(&mut store, |b| {
        assert_eq!(b.max_ids().unwrap(), (0, 0));
        assert_eq!(
            b.take_team_turn("ops").unwrap(),
            0,
            "the turns were rolled back too"
        );
        let id = b.insert_notification(&page(1)).unwrap();
        assert_eq!(b.cancel_notifications(1, true).unwrap(), 1);
        assert_eq!(b.notification(id).unwrap().unwrap().state, "cancelled");
    });
    store.make_durable().unwrap();
}

/// The server closed the engine's connection (a restart, an operator): the batch then fails,
/// and the next one runs on a new connection with its statements prepared again.
#[test]
fn a_connection_the_server_closed_is_replaced_at_the_next_batch() {
    let db = TestDb::new();
    let mut store = open(&db);
    batch(&mut store, |b| b.heartbeat("cron", 1).unwrap());
    let ended: bool = db
        .client()
        .query_one(
            "SELECT bool_and(pg_terminate_backend(pid)) FROM pg_stat_activity
             WHERE datname = current_database() AND application_name = 'tocsin-engine'",
            &[],
        )
        .unwrap()
        .get(0);
    assert!(ended);
    let failed = store.begin().and_then(|b| {
        b.heartbeat("cron", 2)?;
        b.commit()
    });
    assert!(failed.is_err(), "the batch on the closed connection fails");
    batch(&mut store, |b| b.heartbeat("cron", 3).unwrap());
    let pings = batch(&mut store, |b| b.load_heartbeats().unwrap());
    assert_eq!(pings, [("cron".to_string(), 3)]);
}
