//! An event log written by an older tocsin, before segments carried a format header
//! (format 0), is read by this one: the engine applies it into the same incidents, `tocsin
//! export` reads it, and what arrives afterwards goes to a segment of the current format,
//! with the old file left as it was.
//!
//! The fixture `fixtures/log-format-0/` was written by the binary of commit 10fead9 with the
//! built-in config: Prometheus' InstanceDown on db1 firing, a native DiskFull
//! "磁盘即将写满" on db2, an acknowledgement of incident 1, a silence of host=db9 until
//! 2099, then InstanceDown resolved.

mod common;

use common::*;
use serde_json::json;
use std::path::{Path, PathBuf};

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/log-format-0")
}

fn segments(dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "log"))
        .collect();
    out.sort();
    out
}

#[test]
fn a_log_of_format_0_is_applied_exported_and_continued_in_the_current_format() {
    let mut s = new_server(None);
    let log_dir = s.root().join("data/log");
    std::fs::create_dir_all(&log_dir).unwrap();
    let old = fixture().join("00000000000000000001.log");
    let old_bytes = std::fs::read(&old).unwrap();
    std::fs::copy(&old, log_dir.join("00000000000000000001.log")).unwrap();
    s.start();

    // The engine applies the old records: incident 1 acknowledged, then resolved with its
    // alert; incident 2 open on the disk; the silence kept.
    let first = s.wait_incident(1, "resolved", |i| i["state"] == "resolved");
    assert_eq!(first["alerts"][0]["name"], "InstanceDown", "{first}");
    assert_eq!(first["alerts"][0]["status"], "resolved", "{first}");
    assert!(
        first["acknowledged_at"].is_string(),
        "the acknowledgement was applied: {first}"
    );
    let second = s.incident(2);
    assert_eq!(second["state"], "triggered", "{second}");
    assert_eq!(
        second["alerts"][0]["summary"], "磁盘即将写满 db2",
        "{second}"
    );
    let silences = s.items("/api/v1/silences?all=true");
    assert_eq!(silences.len(), 1, "{silences:?}");
    assert_eq!(silences[0]["matchers"][0], "host=\"db9\"", "{silences:?}");

    // New events go on in a segment of the current format; the old file is untouched.
    s.send_events(
        &json!([{"summary": "after the upgrade", "dedup_key": "after-upgrade",
                           "labels": {"alertname": "AfterUpgrade", "host": "db3"}}]),
    );
    s.wait_alert("api", "after-upgrade");
    let files = segments(&log_dir);
    assert_eq!(files.len(), 2, "{files:?}");
    assert!(files[1].ends_with("00000000000000000006.log"), "{files:?}");
    assert_eq!(std::fs::read(&files[0]).unwrap(), old_bytes);
    assert_eq!(&std::fs::read(&files[1]).unwrap()[..8], b"tocsinlg");

    // A restart reads both; export reads both.
    s.restart();
    s.wait_alert("api", "after-upgrade");
    assert_eq!(s.incident(2)["state"], "triggered");
    s.terminate();
    let out = s.root().join("export.ndjson");
    let o = tocsin(&[
        "export",
        "--data",
        s.root().join("data").to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let text = std::fs::read_to_string(&out).unwrap();
    for expected in ["InstanceDown", "磁盘即将写满", "after-upgrade"] {
        assert!(text.contains(expected), "{expected} missing from:\n{text}");
    }
    let help = tocsin(&["export", "--help"]);
    assert!(
        String::from_utf8_lossy(&help.stdout).contains("formats 0 to 1"),
        "export --help says which formats it reads"
    );
}
