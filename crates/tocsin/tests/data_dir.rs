//! The data directory: owner-only modes, and a real full disk (a small tmpfs, which needs
//! root: CI runs as root, and with `TOCSIN_E2E_REQUIRED=1` a failed mount fails the test).
//!
//! While the disk is full the server is read-only and says so: `/-/ready` is not ready and
//! tells why, intake and changes answer 503, reads work, the log is not flooded. SIGTERM
//! stops it; after `kill -9` it starts read-only; once there is space it goes back to normal
//! by itself. A change answered 503 is never applied, not after space returns, not after a
//! restart. The event log takes what fits on a nearly full disk and nothing of what did not.

mod common;

use common::*;
use serde_json::{json, Value};
use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;
use tocsin_core::command::{Command, IncidentAction};
use tocsin_store::log::{self, encode_entry, AppendError, LogCursor, LogEntry, LogWriter, Sink};

/// Every file and folder under `dir` that group or others may use, with its mode.
fn open_to_others(dir: &Path) -> Vec<(PathBuf, u32)> {
    let mut out = Vec::new();
    let mode = std::fs::symlink_metadata(dir).unwrap().permissions().mode();
    if mode & 0o077 != 0 {
        out.push((dir.to_path_buf(), mode & 0o777));
    }
    if dir.is_dir() {
        for entry in std::fs::read_dir(dir).unwrap() {
            out.extend(open_to_others(&entry.unwrap().path()));
        }
    }
    out
}

#[test]
fn the_data_directory_is_owner_only() {
    let mut s = new_server(None);
    // The server makes its own admin token file, as without TOCSIN_ADMIN_TOKEN.
    s.admin_from_env = false;
    s.start();
    let token = std::fs::read_to_string(s.data.join("admin-token")).unwrap();
    let r = s.post_as(
        "/api/v1/events",
        Some(token.trim()),
        &json!({"summary": "db1 down", "dedup_key": "db1"}),
    );
    r.expect(202);
    s.restart();
    let files = std::fs::read_dir(&s.data).unwrap().count();
    assert!(files >= 5, "the store, the log and the secrets are there");
    assert_eq!(open_to_others(&s.data), vec![], "after a start and intake");

    // A data directory left open (by an older version, or copied in) is tightened at start.
    s.terminate();
    for (path, mode) in [
        (s.data.clone(), 0o755),
        (s.data.join("log"), 0o755),
        (s.data.join("tocsin.db"), 0o644),
    ] {
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
    }
    s.start();
    assert_eq!(
        open_to_others(&s.data),
        vec![],
        "after a start on an open one"
    );
    assert!(
        s.stderr().contains("made owner-only"),
        "the log says so: {}",
        s.stderr()
    );
}

/// A tmpfs of a few MiB mounted on a directory, detached when dropped (lazily, so a server
/// still running there does not keep it from going).
struct Tmpfs(CString);

impl Tmpfs {
    /// Mounts one, or `None` (a skipped test) where this process may not mount.
    fn mount(dir: &Path, mib: u32) -> Option<Tmpfs> {
        std::fs::create_dir_all(dir).unwrap();
        let target = CString::new(dir.as_os_str().as_bytes()).unwrap();
        let options = CString::new(format!("size={mib}m,mode=0700")).unwrap();
        // SAFETY: valid NUL-terminated strings that outlive the call.
        let rc = unsafe {
            libc::mount(
                c"tmpfs".as_ptr(),
                target.as_ptr(),
                c"tmpfs".as_ptr(),
                0,
                options.as_ptr().cast(),
            )
        };
        if rc != 0 {
            let e = std::io::Error::last_os_error();
            assert!(
                std::env::var_os("TOCSIN_E2E_REQUIRED").is_none(),
                "cannot mount a tmpfs to fill ({e}); this test needs root"
            );
            eprintln!("skipped: cannot mount a tmpfs ({e}); this test needs root");
            return None;
        }
        Some(Tmpfs(target))
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        // SAFETY: a valid NUL-terminated path.
        unsafe { libc::umount2(self.0.as_ptr(), libc::MNT_DETACH) };
    }
}

/// Writes `path` until the filesystem is full.
fn fill(path: &Path) {
    use std::io::Write;
    let mut f = std::fs::File::create(path).unwrap();
    let chunk = vec![0xa5u8; 64 * 1024];
    loop {
        if let Err(e) = f.write_all(&chunk).and_then(|_| f.flush()) {
            assert_eq!(e.raw_os_error(), Some(libc::ENOSPC), "{e}");
            break;
        }
    }
    // What is left is less than a page, whatever the last write managed.
    let _ = f.sync_all();
}

fn ready(s: &TestServer) -> Resp {
    s.get_as("/-/ready", None)
}

/// Every silence, ended ones too.
fn silences(s: &TestServer) -> Vec<Value> {
    s.items("/api/v1/silences?all=true")
}

/// One request of many distinct alerts: applying it takes far more room in SQLite's
/// write-ahead log than a few events did, so on the full disk the engine fails to commit it
/// while the event log still has room (it keeps zeroed space ahead of its end).
fn storm(n: usize) -> Value {
    Value::Array(
        (0..n)
            .map(|i| {
                json!({"summary": format!("storm {i}"), "dedup_key": format!("storm-{i}"),
                       "description": "x".repeat(1000)})
            })
            .collect(),
    )
}

fn error_lines(s: &TestServer) -> usize {
    s.stderr().lines().filter(|l| l.contains("ERROR")).count()
}

#[test]
fn a_full_disk_makes_the_server_read_only_until_there_is_space() {
    let mut s = new_server(None);
    let Some(_tmpfs) = Tmpfs::mount(&s.data, 32) else {
        return;
    };
    s.start();
    s.send_events(&json!({"summary": "before", "dedup_key": "before"}));
    let before = s.wait_alert("api", "before");
    let incident = incident_of(&before);
    let filler = s.data.join("filler");
    fill(&filler);

    // Logged (the log has room) but not applicable; a silence and an acknowledgement sent
    // meanwhile are answered 503, whether the engine or the gate refused them.
    s.send_events(&storm(2000));
    let silence = json!({"matchers": ["alertname=\"never\""], "duration": "2h",
                         "comment": "answered 503"});
    let r = s.post("/api/v1/silences", &silence);
    let refused = r.expect_error(503, "unavailable");
    println!("the silence was refused: {refused}");
    let ack = s.act(incident, "acknowledge", &json!({"reason": "answered 503"}));
    ack.expect(503);

    let why = eventually("/-/ready says read-only", || {
        let r = ready(&s);
        match r.status {
            503 => Ok(r.body),
            _ => Err(format!("HTTP {}: {}", r.status, r.body)),
        }
    });
    assert!(why.contains("read-only") && why.contains("full"), "{why}");
    let r = s.post(
        "/api/v1/events",
        &json!({"summary": "during", "dedup_key": "during"}),
    );
    let message = r.expect_error(503, "unavailable");
    assert!(
        message.contains("read-only") && message.contains("nothing was stored"),
        "{message}"
    );
    s.post("/api/v1/silences", &silence).expect(503);
    assert!(s.get("/api/v1/alerts").status == 200, "reads work");

    // Retries go on, their errors do not flood the log (one every 210 ms before).
    let errors = error_lines(&s);
    std::thread::sleep(Duration::from_secs(3));
    let more = error_lines(&s) - errors;
    assert!(more <= 1, "{more} ERROR lines in 3 s:\n{}", s.stderr());

    // SIGTERM stops it (SIGKILL was needed before).
    let status = s.terminate();
    assert_eq!(status.code(), Some(0), "{}", s.stderr());
    // It starts on the full disk, read-only; and again after kill -9.
    for round in ["after SIGTERM", "after kill -9"] {
        s.start();
        let r = ready(&s);
        assert_eq!(r.status, 503, "{round}: {}", r.body);
        assert!(r.body.contains("full"), "{round}: {}", r.body);
        assert!(
            s.stderr().contains("read-only"),
            "{round}: the log says so:\n{}",
            s.stderr()
        );
        assert_eq!(s.get("/api/v1/alerts").status, 200, "{round}: reads work");
        s.post(
            "/api/v1/events",
            &json!({"summary": "during", "dedup_key": "during"}),
        )
        .expect(503);
        if round == "after SIGTERM" {
            s.kill9();
        }
    }

    // Space again: back to normal without a restart; what was acknowledged is applied,
    // what was refused is not.
    std::fs::remove_file(&filler).unwrap();
    // The engine retries every 2 s at most, then applies the storm: allow for a busy machine.
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while ready(&s).status != 200 {
        assert!(
            std::time::Instant::now() < deadline,
            "not ready 20 s after space was freed: {}\n{}",
            ready(&s).body,
            s.stderr()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(
        s.stderr().contains("can be written again"),
        "{}",
        s.stderr()
    );
    s.send_events(&json!({"summary": "after", "dedup_key": "after"}));
    s.settle();
    assert_eq!(s.alert_count(), 2002, "before, the storm and after");
    let check = |s: &TestServer, when: &str| {
        assert_eq!(silences(s), Vec::<Value>::new(), "{when}");
        let inc = s.incident(incident);
        assert_eq!(inc["state"], "triggered", "{when}: {}", inc["timeline"]);
    };
    check(&s, "once there is space");
    s.restart();
    check(&s, "after a restart");
    s.post("/api/v1/silences", &silence).expect(201);
    assert_eq!(silences(&s).len(), 1);
}

/// Filled before the event log ever needed room: intake fails at the log, the engine has
/// nothing to write, and readiness still says why (it said `OK` while refusing everything).
#[test]
fn a_full_disk_under_the_event_log_is_not_ready() {
    let mut s = new_server(None);
    let Some(_tmpfs) = Tmpfs::mount(&s.data, 16) else {
        return;
    };
    s.start();
    fill(&s.data.join("filler"));
    // Larger than the page the segment's header already holds, so it needs new space.
    let event = json!({"summary": "first", "dedup_key": "first",
                       "description": "x".repeat(16 * 1024)});
    let message = s
        .post("/api/v1/events", &event)
        .expect_error(503, "unavailable");
    assert!(message.contains("could not be written"), "{message}");
    let r = ready(&s);
    assert_eq!(r.status, 503, "{}", r.body);
    assert!(
        r.body.contains("event log cannot be written") && r.body.contains("No space left"),
        "{}",
        r.body
    );
    std::fs::remove_file(s.data.join("filler")).unwrap();
    s.send_events(&event);
    assert_eq!(ready(&s).status, 200);
    s.wait_alert("api", "first");
}

fn note(text: String) -> LogEntry {
    LogEntry::Command(Command {
        incident_id: 1,
        action: IncidentAction::Comment(text),
        actor: "test".into(),
        reason: String::new(),
        at: 1,
    })
}

struct Quiet;

impl Sink<()> for Quiet {
    fn committed(&mut self, _lsn: u64, _item: ()) {}
    fn synced(&mut self, _took: Duration, _records: usize) {}
}

/// The event log on a nearly full disk (2 MiB, less than the 8 MiB of room the writer keeps
/// ahead): what fits is taken, what does not is refused and leaves nothing behind, and once
/// there is space again appends go on; reading the log back gives exactly what was taken.
#[test]
fn the_event_log_takes_what_fits_refuses_the_rest_and_goes_on_with_space() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("log");
    let Some(_tmpfs) = Tmpfs::mount(&dir, 2) else {
        return;
    };
    let (writer, thread) = LogWriter::start(dir.clone(), log::recover(&dir).unwrap(), Quiet)
        .expect("the writer starts");
    let append = |entry: &LogEntry| writer.append_blocking(encode_entry(entry), ());
    assert_eq!(
        append(&note("fits".into())),
        Ok(1),
        "no room for 8 MiB ahead"
    );
    fill(&dir.join("filler"));
    let big = note("x".repeat(1 << 20));
    assert!(matches!(append(&big), Err(AppendError::Io(_))));
    std::fs::remove_file(dir.join("filler")).unwrap();
    assert_eq!(append(&note("after".into())), Ok(2));
    drop(writer);
    thread.join().unwrap();

    let mut cursor = LogCursor::open(dir.clone(), 0);
    let mut read = Vec::new();
    while let Some(record) = cursor.next(2).unwrap() {
        read.push(record);
    }
    assert_eq!(
        read,
        vec![(1, note("fits".into())), (2, note("after".into()))]
    );
    assert_eq!(log::recover(&dir).unwrap().next_lsn, 3);
}
