//! End to end with a real Nagios 4: its notifications, through the shipped command
//! definitions (integrations/nagios/tocsin.cfg) and forwarder, become alerts that fire, are
//! acknowledged and resolve in tocsin. And the forwarder's spool: what tocsin could not take
//! is delivered later by `tocsin-forward --flush`, in order and exactly once.
//!
//! Nagios runs in the foreground from a temporary directory with its own minimal config, as
//! the current user (root in CI: nagios_user is set to whoever runs the test), with passive
//! checks only, driven through its external command file.

mod common;

use common::*;
use serde_json::Value;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const NAGIOS: &str = "/usr/sbin/nagios4";
const KEY: &str = "nagios-e2e-key-0123456789";

fn config() -> String {
    format!("integrations:\n  - {{name: nagios-main, kind: nagios, key: \"{KEY}\"}}\n")
}

fn shipped(file: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../integrations/nagios")
        .join(file)
}

/// The forwarder's settings file, pointed at this server.
fn write_forward_conf(dir: &Path, s: &TestServer) -> PathBuf {
    let path = dir.join("forward.conf");
    let text = format!(
        "# tocsin-forward settings\nurl = {}\nkey = {KEY}\nspool = {}\ntimeout = 5\n",
        s.base,
        dir.join("spool").display()
    );
    std::fs::write(&path, text).expect("write forward.conf");
    path
}

/// Notifications waiting in the forwarder's spool (`queue` or `failed`).
fn spooled(dir: &Path, which: &str) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir.join("spool").join(which))
        .map(|entries| {
            entries
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

fn id_output(flag: &str) -> String {
    let out = Command::new("id").arg(flag).output().expect("run id");
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

/// A Nagios 4 process with one host and one service, notifying the `tocsin` contact.
struct Nagios {
    dir: PathBuf,
    child: Child,
}

impl Nagios {
    fn start(dir: &Path, forward_conf: &Path) -> Nagios {
        let var = dir.join("var");
        std::fs::create_dir_all(var.join("rw")).unwrap();
        std::fs::create_dir_all(var.join("checkresults")).unwrap();
        let commands = std::fs::read_to_string(shipped("tocsin.cfg")).unwrap();
        let installed = "/usr/local/bin/tocsin-forward";
        assert!(commands.contains(installed), "tocsin.cfg names {installed}");
        let forwarder = shipped("tocsin-forward").canonicalize().unwrap();
        std::fs::write(
            dir.join("tocsin.cfg"),
            commands.replace(installed, &forwarder.display().to_string()),
        )
        .unwrap();
        std::fs::write(dir.join("objects.cfg"), OBJECTS).unwrap();
        let main = MAIN_CFG
            .replace("@DIR@", &dir.display().to_string())
            .replace("@USER@", &id_output("-un"))
            .replace("@GROUP@", &id_output("-gn"));
        std::fs::write(dir.join("nagios.cfg"), main).unwrap();

        let child = Command::new(NAGIOS)
            .arg(dir.join("nagios.cfg"))
            .env("TOCSIN_FORWARD_CONF", forward_conf)
            .env_remove("TOCSIN_URL")
            .env_remove("TOCSIN_KEY")
            .env_remove("TOCSIN_SPOOL")
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(dir.join("nagios.out")).unwrap())
            .stderr(Stdio::inherit())
            .process_group(0)
            .spawn()
            .expect("start nagios4");
        let nagios = Nagios {
            dir: dir.to_path_buf(),
            child,
        };
        nagios.wait_log("Successfully launched command file worker");
        nagios
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("var/nagios.log")).unwrap_or_default()
    }

    #[track_caller]
    fn wait_log(&self, text: &str) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while !self.log().contains(text) {
            assert!(
                Instant::now() < deadline,
                "Nagios never logged {text:?}; its log:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// One external command, as `[time] COMMAND;args`.
    fn command(&self, line: &str) {
        // Non-blocking: opening the pipe fails at once (ENXIO), rather than hangs, while no
        // one reads it: Nagios' command file worker may not have opened it yet.
        let deadline = Instant::now() + Duration::from_secs(10);
        let mut fifo = loop {
            match std::fs::OpenOptions::new()
                .write(true)
                .custom_flags(libc::O_NONBLOCK)
                .open(self.dir.join("var/rw/nagios.cmd"))
            {
                Ok(f) => break f,
                Err(_) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(20))
                }
                Err(e) => panic!("Nagios does not read its command file: {e}"),
            }
        };
        let now = jiff::Timestamp::now().as_second();
        fifo.write_all(format!("[{now}] {line}\n").as_bytes())
            .expect("write an external command");
    }
}

impl Drop for Nagios {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("--- nagios.log ---\n{}", self.log());
        }
        // The whole process group: Nagios and its workers.
        unsafe { libc::kill(-(self.child.id() as i32), libc::SIGTERM) };
        let _ = self.child.wait();
    }
}

#[test]
fn nagios_notifications_fire_acknowledge_and_resolve() {
    if !have_tool(NAGIOS) || !have_tool("curl") {
        return;
    }
    let s = spawn_server(Some(&config()));
    let dir = s.root().join("nagios");
    std::fs::create_dir_all(&dir).unwrap();
    let conf = write_forward_conf(&dir, &s);
    let nagios = Nagios::start(&dir, &conf);

    // A service problem: PROBLEM notification, a firing alert.
    nagios.command("PROCESS_SERVICE_CHECK_RESULT;web-01;Disk /var;2;DISK CRITICAL - /var 98% used");
    let key = "web-01!Disk /var";
    let a = s.wait_alert("nagios", key);
    assert_eq!(a["status"], "firing");
    assert_eq!(a["severity"], "critical");
    assert_eq!(a["name"], "Disk /var");
    assert_eq!(a["integration"], "nagios-main");
    assert_eq!(
        a["summary"],
        "Disk /var on web-01 is CRITICAL: DISK CRITICAL - /var 98% used"
    );
    assert_eq!(a["labels"]["host"], "web-01");
    assert_eq!(a["labels"]["host_ip"], "192.0.2.10");
    assert_eq!(a["labels"]["service_desc"], "Disk /var");
    let problem_id = a["labels"]["problem_id"].clone();
    assert!(problem_id.is_string(), "{a}");
    let incident = incident_of(&a);

    // Acknowledged in Nagios (notify=1): the incident is acknowledged, with who and why.
    nagios.command("ACKNOWLEDGE_SVC_PROBLEM;web-01;Disk /var;2;1;0;alice;磁盘 cleanup running");
    let inc = s.wait_incident(incident, "acknowledged from Nagios", |i| {
        i["state"] == "acknowledged"
    });
    let timeline = inc["timeline"].as_array().unwrap();
    assert!(
        timeline.iter().any(|t| t["kind"] == "acknowledged"
            && t["message"]
                .as_str()
                .unwrap()
                .contains("acknowledged by alice: 磁盘 cleanup running")),
        "{timeline:?}"
    );
    // Acknowledged again by someone else: their comment is kept (issue 17 item 6).
    nagios.command("ACKNOWLEDGE_SVC_PROBLEM;web-01;Disk /var;2;1;0;bob;second look: 清理中");
    s.wait_incident(incident, "the second acknowledgement's comment", |i| {
        i["timeline"].as_array().unwrap().iter().any(|t| {
            t["kind"] == "comment"
                && t["message"]
                    .as_str()
                    .unwrap()
                    .contains("acknowledged by bob: second look: 清理中")
        })
    });

    // OK: RECOVERY notification, the same alert resolves.
    nagios.command("PROCESS_SERVICE_CHECK_RESULT;web-01;Disk /var;0;DISK OK - /var 40% used");
    let a = s.wait_alert_where("the service recovers", "nagios", key, |a| {
        a["status"] == "resolved"
    });
    assert_eq!(
        a["labels"]["problem_id"], problem_id,
        "LASTSERVICEPROBLEMID"
    );

    // The host goes DOWN and comes back UP.
    nagios.command("PROCESS_HOST_CHECK_RESULT;web-01;1;PING CRITICAL - Packet loss = 100%");
    let h = s.wait_alert("nagios", "web-01");
    assert_eq!(h["status"], "firing");
    assert_eq!(h["name"], "Host down");
    assert_eq!(h["severity"], "critical");
    assert_eq!(
        h["summary"],
        "web-01 is DOWN: PING CRITICAL - Packet loss = 100%"
    );
    assert!(h["labels"].get("service_desc").is_none(), "{h}");
    nagios.command("PROCESS_HOST_CHECK_RESULT;web-01;0;PING OK - Packet loss = 0%");
    s.wait_alert_where("the host recovers", "nagios", "web-01", |h| {
        h["status"] == "resolved"
    });

    assert_eq!(s.alert_count(), 2, "{:?}", s.all_alerts());
    // The last forwarder may still be removing its delivered notification.
    eventually("every notification delivered and unspooled", || {
        let (queue, failed) = (spooled(&dir, "queue"), spooled(&dir, "failed"));
        if queue.is_empty() && failed.is_empty() {
            Ok(())
        } else {
            Err(format!("queue {queue:?}, failed {failed:?}"))
        }
    });
    let log = nagios.log();
    for line in [
        "SERVICE NOTIFICATION: tocsin;web-01;Disk /var;CRITICAL",
        "HOST NOTIFICATION: tocsin;web-01;UP",
    ] {
        assert!(log.contains(line), "{line:?} not in:\n{log}");
    }
}

/// Runs the forwarder with these macros (or `--flush`), returning its exit code and stderr.
fn forward(conf: &Path, args: &[&str]) -> (i32, String) {
    let out = Command::new(shipped("tocsin-forward"))
        .args(args)
        .env("TOCSIN_FORWARD_CONF", conf)
        .env_remove("TOCSIN_URL")
        .env_remove("TOCSIN_KEY")
        .env_remove("TOCSIN_SPOOL")
        .stdin(Stdio::null())
        .output()
        .expect("run tocsin-forward");
    let code = out.status.code().expect("exit code");
    (code, String::from_utf8_lossy(&out.stderr).into_owned())
}

fn service(kind: &str, desc: &str, state: &str) -> Vec<String> {
    [
        format!("NOTIFICATIONTYPE={kind}"),
        "HOSTNAME=db-01".into(),
        "HOSTADDRESS=192.0.2.20".into(),
        format!("SERVICEDESC={desc}"),
        format!("SERVICESTATE={state}"),
        format!("SERVICEOUTPUT={desc} is {state}"),
        "LONGSERVICEOUTPUT=".into(),
    ]
    .into()
}

#[test]
fn spooled_notifications_are_flushed_in_order_exactly_once() {
    if !have_tool("curl") {
        return;
    }
    let mut s = spawn_server(Some(&config()));
    let dir = s.root().join("forward");
    std::fs::create_dir_all(&dir).unwrap();
    let conf = write_forward_conf(&dir, &s);
    assert_eq!(s.terminate().code(), Some(0));

    // tocsin is down: each notification is spooled, and Nagios hears success.
    let sends = [
        service("PROBLEM", "MySQL", "CRITICAL"),
        service("PROBLEM", "Swap", "WARNING"),
        service("RECOVERY", "Swap", "OK"),
    ];
    for args in &sends {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let (code, stderr) = forward(&conf, &args);
        assert_eq!(code, 0, "{stderr}");
        assert!(stderr.contains("stays spooled"), "{stderr}");
    }
    assert_eq!(spooled(&dir, "queue").len(), 3);

    // Back up (on a new port), the cron flush delivers them oldest first.
    s.start();
    let conf = write_forward_conf(&dir, &s);
    let (code, stderr) = forward(&conf, &["--flush"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(stderr, "");
    assert!(spooled(&dir, "queue").is_empty());
    assert!(!dir.join("spool/lock").exists(), "the lock is released");

    let mysql = s.wait_alert("nagios", "db-01!MySQL");
    assert_eq!(mysql["status"], "firing");
    // The recovery came after its problem, so the alert is resolved, not left firing.
    s.wait_alert_where("Swap resolved", "nagios", "db-01!Swap", |a| {
        a["status"] == "resolved"
    });

    // Flushing again sends nothing twice.
    assert_eq!(forward(&conf, &["--flush"]).0, 0);
    s.settle();
    let alerts: Vec<Value> = s.all_alerts();
    assert_eq!(alerts.len(), 2, "{alerts:?}");
    let occurrences =
        |key: &str| alerts.iter().find(|a| a["dedup_key"] == key).unwrap()["occurrences"].clone();
    assert_eq!(occurrences("db-01!MySQL"), 1);
    assert_eq!(occurrences("db-01!Swap"), 2, "a problem and its recovery");

    // A refusal is permanent: filed under failed/, not retried forever.
    let (code, stderr) = forward(&conf, &["NOTIFICATIONTYPE=PROBLEM", "HOSTNAME=db-01"]);
    assert_eq!(code, 0);
    assert!(
        stderr.contains("HTTP 400") && stderr.contains("HOSTSTATE"),
        "{stderr}"
    );
    assert_eq!(spooled(&dir, "failed").len(), 1);
    assert!(spooled(&dir, "queue").is_empty());
}

/// The main config: everything under the test's directory, passive checks only, the
/// external command file polled continuously so a test waits for nothing.
const MAIN_CFG: &str = "\
log_file=@DIR@/var/nagios.log
cfg_file=@DIR@/objects.cfg
cfg_file=@DIR@/tocsin.cfg
object_cache_file=@DIR@/var/objects.cache
precached_object_file=@DIR@/var/objects.precache
status_file=@DIR@/var/status.dat
retain_state_information=0
state_retention_file=@DIR@/var/retention.dat
lock_file=@DIR@/var/nagios.lock
temp_file=@DIR@/var/nagios.tmp
temp_path=@DIR@/var
check_result_path=@DIR@/var/checkresults
command_file=@DIR@/var/rw/nagios.cmd
query_socket=@DIR@/var/rw/nagios.qh
nagios_user=@USER@
nagios_group=@GROUP@
check_external_commands=1
command_check_interval=-1
execute_service_checks=0
execute_host_checks=0
accept_passive_service_checks=1
accept_passive_host_checks=1
passive_host_checks_are_soft=0
enable_notifications=1
enable_flap_detection=0
notification_timeout=30
illegal_macro_output_chars=`~$&|'\"<>
use_syslog=0
log_notifications=1
log_passive_checks=1
";

const OBJECTS: &str = "\
define timeperiod {
    timeperiod_name 24x7
    alias           always
    sunday          00:00-24:00
    monday          00:00-24:00
    tuesday         00:00-24:00
    wednesday       00:00-24:00
    thursday        00:00-24:00
    friday          00:00-24:00
    saturday        00:00-24:00
}
define command {
    command_name    passive-only
    command_line    /bin/true
}
define host {
    host_name               web-01
    address                 192.0.2.10
    check_command           passive-only
    active_checks_enabled   0
    passive_checks_enabled  1
    max_check_attempts      1
    check_period            24x7
    notification_period     24x7
    notification_interval   0
    notification_options    d,u,r,f,s
    contacts                tocsin
}
define service {
    host_name               web-01
    service_description     Disk /var
    check_command           passive-only
    active_checks_enabled   0
    passive_checks_enabled  1
    max_check_attempts      1
    check_interval          1
    retry_interval          1
    check_period            24x7
    notification_period     24x7
    notification_interval   0
    notification_options    w,u,c,r,f,s
    contacts                tocsin
}
";
