//! The event log table: appends are group-committed and come back once each, in an order
//! that never changes, also when two writers commit out of sequence order; a restarted
//! reader goes on after its position; a lost connection is made again.

mod common;

use common::entry;

use postgres::Client;
use std::collections::HashMap;
use std::sync::mpsc;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tocsin_store::log::{encode_entry, LogEntry, LogWriter, Sink, WriteGate, FORMAT};
use tocsin_store::postgres::log::{start_writer, LogPosition, LogTail, ReadError};
use tocsin_store::postgres::migrate::migrate;
use tocsin_store::postgres::testing::TestDb;

/// What the writer reports: each entry's seq with its item, and each group's size.
#[derive(Clone)]
struct Collect {
    committed: mpsc::Sender<(u64, u32)>,
    groups: mpsc::Sender<usize>,
}

impl Sink<u32> for Collect {
    fn committed(&mut self, lsn: u64, item: u32) {
        self.committed.send((lsn, item)).unwrap();
    }
    fn synced(&mut self, _took: Duration, records: usize) {
        self.groups.send(records).unwrap();
    }
}

struct Reports {
    committed: mpsc::Receiver<(u64, u32)>,
    groups: mpsc::Receiver<usize>,
}

fn migrated() -> TestDb {
    let db = TestDb::new();
    migrate(&mut db.client()).unwrap();
    db
}

fn writer(db: &TestDb) -> (LogWriter<u32>, std::thread::JoinHandle<()>, Reports) {
    let (committed, committed_rx) = mpsc::channel();
    let (groups, groups_rx) = mpsc::channel();
    let (writer, thread) = start_writer(
        &db.config(),
        Collect { committed, groups },
        Arc::new(WriteGate::default()),
    )
    .unwrap();
    let reports = Reports {
        committed: committed_rx,
        groups: groups_rx,
    };
    (writer, thread, reports)
}

/// Appends `range` from one thread each, all at once; returns each one's seq.
fn append_all(writer: &LogWriter<u32>, range: std::ops::Range<u32>) -> HashMap<u32, u64> {
    let threads: Vec<_> = range
        .map(|n| {
            let w = writer.clone();
            std::thread::spawn(move || (n, w.append_blocking(encode_entry(&entry(n)), n).unwrap()))
        })
        .collect();
    threads.into_iter().map(|t| t.join().unwrap()).collect()
}

/// Reads until `count` entries came back (never more, in small batches), or fails after a
/// while. Another test's open transaction may hold the reader back for a moment, so one read
/// is not enough.
fn read_n(tail: &mut LogTail, client: &mut Client, count: usize) -> Vec<(LogPosition, LogEntry)> {
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut seen = Vec::new();
    while seen.len() < count {
        assert!(
            Instant::now() < deadline,
            "only {} of {count} entries came back",
            seen.len()
        );
        let batch = tail.read(client, (count - seen.len()).min(7)).unwrap();
        if batch.is_empty() {
            std::thread::sleep(Duration::from_millis(20));
        }
        seen.extend(batch);
    }
    seen
}

fn positions(seen: &[(LogPosition, LogEntry)]) -> Vec<LogPosition> {
    seen.iter().map(|(p, _)| *p).collect()
}

#[test]
fn appended_entries_come_back_once_each_and_decode_the_same() {
    let db = migrated();
    let (writer, thread, reports) = writer(&db);
    let seqs = append_all(&writer, 0..40);
    drop(writer);
    thread.join().unwrap();

    let mut client = db.client();
    let mut tail = LogTail::after(LogPosition::START);
    let seen = read_n(&mut tail, &mut client, 40);
    assert!(tail.read(&mut client, 100).unwrap().is_empty());
    // Sorted, no repeats, and what each seq holds is the entry appended under it.
    let order = positions(&seen);
    assert!(order.windows(2).all(|w| w[0] < w[1]), "{order:?}");
    let by_seq: HashMap<u64, u32> = seqs.iter().map(|(n, seq)| (*seq, *n)).collect();
    assert_eq!(by_seq.len(), 40);
    for (at, got) in &seen {
        assert_eq!(*got, entry(by_seq[&(at.seq as u64)]), "{at}");
    }
    // The sink heard every entry with the seq its sender got.
    let mut committed: Vec<(u64, u32)> = reports.committed.try_iter().collect();
    committed.sort();
    let mut answered: Vec<(u64, u32)> = seqs.iter().map(|(n, s)| (*s, *n)).collect();
    answered.sort();
    assert_eq!(committed, answered);
    // The bytes in the table are the file log's encoding, in the current format.
    let row = client
        .query_one(
            "SELECT format, payload FROM event_log ORDER BY seq LIMIT 1",
            &[],
        )
        .unwrap();
    assert_eq!(row.get::<_, i32>(0), FORMAT as i32);
    let n = by_seq[&(seen.iter().map(|(p, _)| p.seq).min().unwrap() as u64)];
    assert_eq!(row.get::<_, Vec<u8>>(1), encode_entry(&entry(n)));
}

/// While the first group waits for a lock on the table, the others queue; once it is
/// released they go in together, in one transaction.
#[test]
fn requests_that_queue_during_a_commit_share_the_next_one() {
    let db = migrated();
    let (writer, thread, reports) = writer(&db);
    let mut blocker = db.client();
    let mut lock = blocker.transaction().unwrap();
    lock.batch_execute("LOCK TABLE event_log IN EXCLUSIVE MODE")
        .unwrap();

    let first = {
        let w = writer.clone();
        std::thread::spawn(move || w.append_blocking(encode_entry(&entry(0)), 0).unwrap())
    };
    // Wait until the writer is blocked on the lock, so the next ones must queue.
    let mut watcher = db.client();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let waiting: i64 = watcher
            .query_one(
                "SELECT count(*) FROM pg_stat_activity
                 WHERE application_name = 'tocsin-log' AND datname = $1
                   AND wait_event_type = 'Lock'",
                &[&db.name()],
            )
            .unwrap()
            .get(0);
        if waiting == 1 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the writer never waited for the lock"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    let rest: Vec<_> = (1..=50)
        .map(|n| {
            let w = writer.clone();
            std::thread::spawn(move || w.append_blocking(encode_entry(&entry(n)), n).unwrap())
        })
        .collect();
    std::thread::sleep(Duration::from_millis(300));
    lock.commit().unwrap();
    first.join().unwrap();
    for t in rest {
        t.join().unwrap();
    }
    drop(writer);
    thread.join().unwrap();

    let groups: Vec<usize> = reports.groups.try_iter().collect();
    assert_eq!(groups.iter().sum::<usize>(), 51);
    assert_eq!(groups[0], 1, "{groups:?}");
    assert!(
        groups.len() <= 4,
        "51 requests took {} commits: {groups:?}",
        groups.len()
    );
    let transactions: i64 = watcher
        .query_one("SELECT count(DISTINCT tx) FROM event_log", &[])
        .unwrap()
        .get(0);
    assert_eq!(transactions as usize, groups.len());
}

/// Inserts one entry as a writer does, inside the caller's transaction; returns its seq.
fn insert(tx: &mut postgres::Transaction<'_>, n: u32) -> i64 {
    tx.query_one(
        "INSERT INTO event_log (seq, format, payload)
         VALUES (nextval('event_log_seq'), $1, $2) RETURNING seq",
        &[&(FORMAT as i32), &encode_entry(&entry(n))],
    )
    .unwrap()
    .get(0)
}

/// The case a sequence cursor gets wrong: writer A takes the lower seq, writer B the higher
/// one and commits first. A reader must wait for A rather than move past B.
#[test]
fn a_lower_sequence_committed_after_a_higher_one_is_not_skipped() {
    let db = migrated();
    let (mut a, mut b, mut reader) = (db.client(), db.client(), db.client());
    let mut tail = LogTail::after(LogPosition::START);

    let mut tx_a = a.transaction().unwrap();
    let a1 = insert(&mut tx_a, 1);
    let mut tx_b = b.transaction().unwrap();
    let b1 = insert(&mut tx_b, 2);
    tx_b.commit().unwrap();
    assert!(a1 < b1);

    // A cursor on seq alone would now see b1 and move past a1 for good.
    let by_seq: Vec<i64> = reader
        .query("SELECT seq FROM event_log ORDER BY seq", &[])
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(by_seq, [b1]);
    // This reader waits: A, older and still open, may yet add rows before B's.
    assert!(tail.read(&mut reader, 100).unwrap().is_empty());

    let a2 = insert(&mut tx_a, 3);
    assert!(a2 > b1);
    tx_a.commit().unwrap();

    let seen = read_n(&mut tail, &mut reader, 3);
    let seqs: Vec<i64> = seen.iter().map(|(p, _)| p.seq).collect();
    assert_eq!(
        seqs,
        [a1, a2, b1],
        "A's transaction began first, so it is read first"
    );
    assert_eq!(
        seen.iter().map(|(_, e)| e.clone()).collect::<Vec<_>>(),
        [entry(1), entry(3), entry(2)]
    );
    assert!(tail.read(&mut reader, 100).unwrap().is_empty());
}

/// Many writers committing in every order while a reader tails them: each row is read
/// exactly once, and the order read is the final order of the table.
#[test]
fn a_reader_racing_many_writers_reads_every_row_once_in_final_order() {
    let db = migrated();
    const WRITERS: u32 = 4;
    const TRANSACTIONS: u32 = 25;
    let writers: Vec<_> = (0..WRITERS)
        .map(|w| {
            let mut client = db.client();
            std::thread::spawn(move || {
                for t in 0..TRANSACTIONS {
                    let mut tx = client.transaction().unwrap();
                    for r in 0..=(t + w) % 3 {
                        insert(&mut tx, w * 10_000 + t * 10 + r);
                        // Uneven pauses make transactions overlap and commit out of order.
                        std::thread::sleep(Duration::from_millis(((t * 7 + w * 3 + r) % 5) as u64));
                    }
                    tx.commit().unwrap();
                }
            })
        })
        .collect();
    let total: usize = (0..WRITERS)
        .flat_map(|w| (0..TRANSACTIONS).map(move |t| ((t + w) % 3 + 1) as usize))
        .sum();

    let mut reader = db.client();
    let mut tail = LogTail::after(LogPosition::START);
    let seen = read_n(&mut tail, &mut reader, total);
    for w in writers {
        w.join().unwrap();
    }
    assert!(tail.read(&mut reader, 1000).unwrap().is_empty());
    let read = positions(&seen);
    let table: Vec<LogPosition> = reader
        .query("SELECT tx, seq FROM event_log ORDER BY tx, seq", &[])
        .unwrap()
        .iter()
        .map(|r| LogPosition {
            tx: r.get(0),
            seq: r.get(1),
        })
        .collect();
    assert_eq!(read, table);
    // The race was real: some transaction committed a seq below one committed earlier.
    let out_of_seq_order = table.windows(2).filter(|w| w[0].seq > w[1].seq).count();
    assert!(out_of_seq_order > 0, "no writer overlapped another");
}

#[test]
fn a_restarted_reader_goes_on_after_its_position() {
    let db = migrated();
    let (writer, thread, _reports) = writer(&db);
    append_all(&writer, 0..10);
    drop(writer);
    thread.join().unwrap();

    let mut client = db.client();
    let mut tail = LogTail::after(LogPosition::START);
    let first = read_n(&mut tail, &mut client, 4);
    let kept = tail.position();
    assert_eq!(kept, first[3].0);
    let rest_before: Vec<_> = read_n(&mut tail, &mut client, 6);

    // The process restarts: a new writer appends more, a new reader starts at the kept
    // position.
    let (writer, thread, _reports) = self::writer(&db);
    append_all(&writer, 10..15);
    drop(writer);
    thread.join().unwrap();
    let mut client = db.client();
    let mut tail = LogTail::after(kept);
    let rest = read_n(&mut tail, &mut client, 11);
    assert!(tail.read(&mut client, 100).unwrap().is_empty());
    assert_eq!(positions(&rest[..6]), positions(&rest_before));
    let mut items: Vec<u32> = rest[6..]
        .iter()
        .map(|(_, e)| match e {
            LogEntry::Command(c) => c.incident_id as u32,
            other => panic!("{other:?}"),
        })
        .collect();
    items.sort();
    assert_eq!(items, (10..15).collect::<Vec<_>>());
}

#[test]
fn a_connection_the_server_closed_is_made_again() {
    let db = migrated();
    let (writer, thread, _reports) = writer(&db);
    writer.append_blocking(encode_entry(&entry(1)), 1).unwrap();
    let ended: i64 = db
        .client()
        .query_one(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
             WHERE application_name = 'tocsin-log' AND datname = $1",
            &[&db.name()],
        )
        .unwrap()
        .get(0);
    assert_eq!(ended, 1);
    // Give the server a moment to close the socket; the next group finds it closed.
    std::thread::sleep(Duration::from_millis(200));
    writer.append_blocking(encode_entry(&entry(2)), 2).unwrap();
    drop(writer);
    thread.join().unwrap();
    let rows: i64 = db
        .client()
        .query_one("SELECT count(*) FROM event_log", &[])
        .unwrap()
        .get(0);
    assert_eq!(rows, 2);
}

#[test]
fn an_entry_of_an_unknown_format_stops_the_reader_with_its_position() {
    let db = migrated();
    let mut client = db.client();
    client
        .execute(
            "INSERT INTO event_log (seq, format, payload) VALUES (nextval('event_log_seq'), 99, '\\x00')",
            &[],
        )
        .unwrap();
    let mut tail = LogTail::after(LogPosition::START);
    let deadline = Instant::now() + Duration::from_secs(20);
    let err = loop {
        match tail.read(&mut client, 10) {
            Err(e) => break e,
            Ok(batch) => assert!(batch.is_empty()),
        }
        assert!(Instant::now() < deadline, "the entry was never read");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(matches!(err, ReadError::Entry { .. }), "{err:?}");
    assert!(err.to_string().contains("format 99"), "{err}");
    assert_eq!(tail.position(), LogPosition::START);
}

#[test]
fn a_writer_cannot_start_without_its_database() {
    let mut config = postgres::Config::new();
    config.host("127.0.0.1").port(1).user("postgres");
    config.connect_timeout(Duration::from_secs(2));
    let (committed, _) = mpsc::channel();
    let (groups, _) = mpsc::channel();
    let started = start_writer::<u32>(
        &config,
        Collect { committed, groups },
        Arc::new(WriteGate::default()),
    );
    let err = started.map(|_| ()).unwrap_err();
    assert!(
        err.to_string().starts_with("PostgreSQL cannot be reached"),
        "{err}"
    );
}
