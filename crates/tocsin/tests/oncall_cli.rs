//! `tocsin oncall who|shifts` against the schedules issue's example config, as a user runs
//! them: ids one a line, JSON shift lists, gap warnings, and exit codes.

mod common;

use common::tocsin;
use serde_json::{json, Value};

const EXAMPLE: &str = r#"
users:
  - {id: alice, name: Alice Wang, time_zone: Asia/Shanghai}
  - {id: bob, name: Bob Li, time_zone: Asia/Shanghai}
  - {id: carol, name: Carol Zhang, time_zone: Europe/London}
schedules:
  - id: dba-primary
    time_zone: Asia/Shanghai
    layers:
      - name: weekly
        rotation: {every: 1w, start: "2026-03-02T09:00"}
        users: [alice, bob, carol]
      - name: weeknights
        rotation: {every: 1d, start: "2026-03-02T20:00"}
        users: [bob, carol]
        restrictions:
          - {days: [mon, tue, wed, thu, fri], from: "20:00", to: "08:00"}
    overrides:
      - {user: carol, from: "2026-03-10T00:00:00+08:00", to: "2026-03-11T00:00:00+08:00"}
"#;

fn config() -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tocsin.yaml");
    std::fs::write(&path, EXAMPLE).unwrap();
    let p = path.to_str().unwrap().to_string();
    (dir, p)
}

#[test]
fn who_prints_the_user_ids() {
    let (_dir, c) = config();
    for (at, want) in [
        ("2026-03-03T12:00:00+08:00", "alice\n"),
        ("2026-03-03T02:00", "bob\n"),
        ("2026-03-03T14:30:00Z", "carol\n"),
        ("2026-03-10T12:00", "carol\n"),
    ] {
        let out = tocsin(&["oncall", "who", "-c", &c, "-s", "dba-primary", "--at", at]);
        assert!(
            out.status.success(),
            "{at}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(String::from_utf8(out.stdout).unwrap(), want, "at {at}");
    }
    let nobody = tocsin(&[
        "oncall",
        "who",
        "-c",
        &c,
        "-s",
        "dba-primary",
        "--at",
        "2026-01-01T00:00",
    ]);
    assert_eq!(nobody.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&nobody.stderr).contains("nobody is on call"));
}

#[test]
fn shifts_print_json_and_warn_about_gaps() {
    let (_dir, c) = config();
    let out = tocsin(&[
        "oncall",
        "shifts",
        "-c",
        &c,
        "-s",
        "dba-primary",
        "--from",
        "2026-03-02T00:00",
        "--to",
        "2026-03-03T09:00",
        "--format",
        "json",
    ]);
    assert!(out.status.success());
    let list: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        list,
        json!([
            {"start": "2026-03-02T09:00:00+08:00", "end": "2026-03-02T20:00:00+08:00", "user": "alice"},
            {"start": "2026-03-02T20:00:00+08:00", "end": "2026-03-03T08:00:00+08:00", "user": "bob"},
            {"start": "2026-03-03T08:00:00+08:00", "end": "2026-03-03T09:00:00+08:00", "user": "alice"},
        ])
    );
    let warning = String::from_utf8(out.stderr).unwrap();
    assert!(
        warning.contains(
            "nobody is on call from 2026-03-02T00:00:00+08:00 to 2026-03-02T09:00:00+08:00"
        ),
        "{warning}"
    );
}

#[test]
fn mistakes_exit_2_with_a_message() {
    let (_dir, c) = config();
    let cases: [(&[&str], &str); 4] = [
        (
            &["oncall", "who", "-c", &c, "-s", "nope"],
            "no schedule \"nope\"",
        ),
        (
            &[
                "oncall",
                "who",
                "-c",
                &c,
                "-s",
                "dba-primary",
                "--at",
                "tomorrow",
            ],
            "--at: \"tomorrow\" is not a time",
        ),
        (
            &[
                "oncall",
                "shifts",
                "-c",
                &c,
                "-s",
                "dba-primary",
                "--from",
                "2026-03-03T00:00",
                "--to",
                "2026-03-02T00:00",
            ],
            "--to must be after --from",
        ),
        (
            &["oncall", "who", "-c", "/nonexistent.yaml", "-s", "x"],
            "/nonexistent.yaml",
        ),
    ];
    for (args, needle) in cases {
        let out = tocsin(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(needle), "{args:?}: {err}");
    }
}

#[test]
fn check_warns_about_gaps_ahead() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tocsin.yaml");
    // Weekdays 09:00-17:00 only: nights and weekends have nobody.
    std::fs::write(
        &path,
        r#"
users: [{id: a}]
schedules:
  - id: office
    time_zone: Europe/London
    layers:
      - rotation: {every: 1w, start: "2026-01-05T09:00"}
        users: [a]
        restrictions: [{days: [mon, tue, wed, thu, fri], from: "09:00", to: "17:00"}]
  - id: always
    time_zone: UTC
    layers:
      - {rotation: {every: 1d, start: "2026-01-01T00:00"}, users: [a]}
"#,
    )
    .unwrap();
    let out = tocsin(&["check", "-c", path.to_str().unwrap()]);
    assert!(out.status.success(), "gaps are a warning, not an error");
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains("warning: schedule office has nobody on call"),
        "{err}"
    );
    assert!(!err.contains("schedule always"), "{err}");
}
