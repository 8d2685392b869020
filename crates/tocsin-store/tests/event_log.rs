//! The event log survives restarts, cuts torn tails, and prunes only what is applied.

mod common;

use common::entry;

use std::sync::mpsc;
use std::time::Duration;
use tocsin_store::log::{self, encode_entry, LogEntry, LogWriter, Sink};

struct Collect(mpsc::Sender<(u64, u32)>);

impl Sink<u32> for Collect {
    fn committed(&mut self, lsn: u64, item: u32) {
        self.0.send((lsn, item)).unwrap();
    }
    fn synced(&mut self, _took: Duration, _records: usize) {}
}

fn write(dir: &std::path::Path, range: std::ops::Range<u32>) -> Vec<(u64, u32)> {
    let recovered = log::recover(dir).unwrap();
    let (tx, rx) = mpsc::channel();
    let (writer, handle) = LogWriter::start(dir.to_path_buf(), recovered, Collect(tx)).unwrap();
    let threads: Vec<_> = range
        .map(|n| {
            let w = writer.clone();
            std::thread::spawn(move || w.append_blocking(encode_entry(&entry(n)), n).unwrap())
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    drop(writer);
    handle.join().unwrap();
    rx.try_iter().collect()
}

#[test]
fn entries_come_back_in_order_after_restart() {
    let dir = tempfile::tempdir().unwrap();
    let first = write(dir.path(), 0..50);
    let second = write(dir.path(), 50..60);
    let lsns: Vec<u64> = first.iter().chain(&second).map(|(l, _)| *l).collect();
    assert_eq!(lsns, (1..=60).collect::<Vec<_>>());

    let mut seen = Vec::new();
    let mut cursor = log::LogCursor::open(dir.path().to_path_buf(), 10);
    while let Some(item) = cursor.next(60).unwrap() {
        seen.push(item);
    }
    assert_eq!(seen.len(), 50);
    assert_eq!(seen[0].0, 11);
    let by_lsn: std::collections::HashMap<u64, u32> = first.into_iter().chain(second).collect();
    for (lsn, e) in seen {
        assert_eq!(e, entry(by_lsn[&lsn]));
    }
}

#[test]
fn a_torn_tail_is_cut_and_writing_continues() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), 0..5);
    let segment = std::fs::read_dir(dir.path())
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let good_len = log::recover(dir.path()).unwrap().segment_len;
    // A crash in the middle of a write leaves part of a record behind, where the writer had
    // preallocated zeros.
    let torn = [200, 0, 0, 0, 1, 2, 3, 4, 6, 0, 0, 0, 0, 0, 0, 0, 9, 9];
    let f = std::fs::OpenOptions::new()
        .write(true)
        .open(&segment)
        .unwrap();
    std::os::unix::fs::FileExt::write_all_at(&f, &torn, good_len).unwrap();
    let recovered = log::recover(dir.path()).unwrap();
    assert_eq!(recovered.next_lsn, 6);
    assert_eq!(recovered.segment_len, good_len);
    let data = std::fs::read(&segment).unwrap();
    assert!(
        data[good_len as usize..].iter().all(|&b| b == 0),
        "the torn record is cleared"
    );
    let more = write(dir.path(), 5..7);
    assert_eq!(more.iter().map(|(l, _)| *l).min(), Some(6));
    let mut count = 0;
    let mut cursor = log::LogCursor::open(dir.path().to_path_buf(), 0);
    while cursor.next(7).unwrap().is_some() {
        count += 1;
    }
    assert!(cursor.next(8).is_err(), "record 8 was never written");
    assert_eq!(count, 7);
}

#[test]
fn prune_keeps_the_newest_segment_and_anything_unapplied() {
    let dir = tempfile::tempdir().unwrap();
    // Fake three segments by name; prune looks only at names.
    for first in [1u64, 100, 200] {
        std::fs::write(dir.path().join(format!("{first:020}.log")), b"").unwrap();
    }
    let none = std::time::Duration::ZERO;
    assert_eq!(log::prune_applied(dir.path(), 150, none, 0).unwrap(), 1);
    assert_eq!(log::prune_applied(dir.path(), 150, none, 0).unwrap(), 0);
    assert_eq!(log::prune_applied(dir.path(), 10_000, none, 0).unwrap(), 1);
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
}

#[test]
fn prune_keeps_recent_applied_segments_within_the_byte_budget() {
    let dir = tempfile::tempdir().unwrap();
    for first in [1u64, 100, 200, 300] {
        std::fs::write(dir.path().join(format!("{first:020}.log")), [0u8; 10]).unwrap();
    }
    let week = std::time::Duration::from_secs(7 * 86_400);
    // Three applied segments of 10 bytes, all fresh: a budget of 25 keeps the newest two.
    assert_eq!(log::prune_applied(dir.path(), 10_000, week, 25).unwrap(), 1);
    let left: Vec<_> = log::list_segments(dir.path())
        .unwrap()
        .into_iter()
        .map(|(f, _)| f)
        .collect();
    assert_eq!(left, [100, 200, 300]);
    // A retention of zero lets every applied one go.
    assert_eq!(
        log::prune_applied(dir.path(), 10_000, std::time::Duration::ZERO, u64::MAX).unwrap(),
        2
    );
}

fn segments(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    log::list_segments(dir)
        .unwrap()
        .into_iter()
        .map(|(_, p)| p)
        .collect()
}

fn read_all(dir: &std::path::Path, upto: u64) -> Vec<(u64, LogEntry)> {
    let mut cursor = log::LogCursor::open(dir.to_path_buf(), 0);
    let mut out = Vec::new();
    while let Some(item) = cursor.next(upto).unwrap() {
        out.push(item);
    }
    out
}

#[test]
fn a_segment_starts_with_its_format() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), 0..3);
    let data = std::fs::read(&segments(dir.path())[0]).unwrap();
    assert_eq!(&data[..8], b"tocsinlg");
    assert_eq!(
        u32::from_le_bytes(data[8..12].try_into().unwrap()),
        log::FORMAT
    );
}

#[test]
fn a_segment_an_older_binary_wrote_is_read_and_left_as_it_is() {
    let dir = tempfile::tempdir().unwrap();
    let first = write(dir.path(), 0..5);
    // What a binary before format 1 wrote: the same records from byte 0, no header.
    let old = segments(dir.path()).remove(0);
    let data = std::fs::read(&old).unwrap();
    std::fs::write(&old, &data[16..]).unwrap();
    let older = std::fs::read(&old).unwrap();

    let second = write(dir.path(), 5..8);
    assert_eq!(
        second.iter().map(|(l, _)| *l).min(),
        Some(6),
        "numbering goes on"
    );
    let files = segments(dir.path());
    assert_eq!(
        files.len(),
        2,
        "new records go to a segment of the new format"
    );
    assert_eq!(
        std::fs::read(&files[0]).unwrap(),
        older,
        "the old one is untouched"
    );
    assert_eq!(&std::fs::read(&files[1]).unwrap()[..8], b"tocsinlg");

    let by_lsn: std::collections::HashMap<u64, u32> = first.into_iter().chain(second).collect();
    let seen = read_all(dir.path(), 8);
    assert_eq!(seen.len(), 8);
    for (lsn, e) in seen {
        assert_eq!(e, entry(by_lsn[&lsn]));
    }
    // A third start goes on in the format-1 segment.
    write(dir.path(), 8..9);
    assert_eq!(segments(dir.path()).len(), 2);
    assert_eq!(read_all(dir.path(), 9).len(), 9);
}

#[test]
fn a_segment_of_a_newer_format_stops_the_start_with_its_reason() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), 0..2);
    let path = segments(dir.path()).remove(0);
    let mut data = std::fs::read(&path).unwrap();
    data[8..12].copy_from_slice(&(log::FORMAT + 1).to_le_bytes());
    std::fs::write(&path, &data).unwrap();
    let err = log::recover(dir.path()).unwrap_err().to_string();
    assert!(err.contains("newer tocsin"), "{err}");
    assert_eq!(std::fs::read(&path).unwrap(), data, "nothing is changed");
    let mut cursor = log::LogCursor::open(dir.path().to_path_buf(), 0);
    assert!(cursor.next(2).is_err());
}
