//! Shared helpers of the black-box tests: a real `tocsin serve` process on a free port with a
//! temporary data directory, HTTP requests with or without a token, and polling.
//!
//! Intake answers once events are durable in the event log; the engine applies them to the
//! store a moment later, so reads after a write poll with [`eventually`] (or wait for the
//! engine with [`TestServer::settle`]).

#![allow(dead_code)]

pub mod browser;
pub mod console;
pub mod console_configs;
pub mod raw;
pub mod receiver;
pub mod scenarios;
pub mod smtp;

use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

pub const BIN: &str = env!("CARGO_BIN_EXE_tocsin");
pub const ADMIN: &str = "test-admin-token-0123456789";
/// How long reads wait for the engine.
pub const DEADLINE: Duration = Duration::from_secs(5);

/// An HTTP answer, whatever its status.
#[derive(Debug, Clone)]
pub struct Resp {
    pub status: u16,
    pub body: String,
}

impl Resp {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| {
            panic!(
                "not JSON ({e}): status {} body {:?}",
                self.status, self.body
            )
        })
    }

    /// Asserts the status, with the body in the message when it differs.
    #[track_caller]
    pub fn expect(&self, status: u16) -> &Self {
        assert_eq!(
            self.status, status,
            "expected HTTP {status}, got {}: {}",
            self.status, self.body
        );
        self
    }

    /// Asserts an API error: the status and `{"error": {"code": code, "message": ...}}`.
    #[track_caller]
    pub fn expect_error(&self, status: u16, code: &str) -> String {
        self.expect(status);
        let v = self.json();
        assert_eq!(v["error"]["code"], json!(code), "error body: {}", self.body);
        let message = v["error"]["message"]
            .as_str()
            .unwrap_or_else(|| panic!("error without a message: {}", self.body));
        assert!(!message.is_empty(), "empty error message: {}", self.body);
        message.to_string()
    }
}

/// Percent-encodes a query-string value.
pub fn enc(text: &str) -> String {
    let mut out = String::new();
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Polls `f` until it returns `Ok`, for at most [`DEADLINE`]; panics with the last reason.
#[track_caller]
pub fn eventually<T>(what: &str, mut f: impl FnMut() -> Result<T, String>) -> T {
    let deadline = Instant::now() + DEADLINE;
    loop {
        match f() {
            Ok(v) => return v,
            Err(e) if Instant::now() >= deadline => {
                panic!("{what}: still not so after {DEADLINE:?}: {e}")
            }
            Err(_) => std::thread::sleep(Duration::from_millis(20)),
        }
    }
}

/// A `tocsin serve` process. Killed when dropped; its temporary directory goes with it.
pub struct TestServer {
    root: tempfile::TempDir,
    pub data: PathBuf,
    /// The config file, when the server was started with one (tests may rewrite it).
    pub config: Option<PathBuf>,
    /// `http://127.0.0.1:PORT`; changes on restart.
    pub base: String,
    child: Option<Child>,
    agent: ureq::Agent,
    starts: usize,
    /// Pass the admin token in TOCSIN_ADMIN_TOKEN (else the server makes DATA/admin-token).
    pub admin_from_env: bool,
    /// `--listen` (`127.0.0.1:0` unless a test changes it before starting).
    pub listen: String,
    /// More `tocsin serve` flags.
    pub args: Vec<String>,
}

/// Starts a server on a fresh data directory, with this YAML config or the built-in one.
pub fn spawn_server(config: Option<&str>) -> TestServer {
    let mut s = new_server(config);
    s.start();
    s
}

/// A server not started yet, for tests that change how it starts.
pub fn new_server(config: Option<&str>) -> TestServer {
    let root = tempfile::Builder::new()
        .prefix("tocsin-test-")
        .tempdir()
        .expect("temp dir");
    let data = root.path().join("data");
    let config = config.map(|text| {
        let path = root.path().join("config.yaml");
        std::fs::write(&path, text).expect("write config");
        path
    });
    TestServer {
        data,
        config,
        base: String::new(),
        child: None,
        // A fresh connection per request: a POST on a pooled connection the server has just
        // closed would fail without a retry, and that is not what these tests are about.
        agent: ureq::AgentBuilder::new()
            .timeout(Duration::from_secs(20))
            .max_idle_connections(0)
            .build(),
        starts: 0,
        admin_from_env: true,
        listen: "127.0.0.1:0".into(),
        args: Vec::new(),
        root,
    }
}

impl TestServer {
    pub fn root(&self) -> &Path {
        self.root.path()
    }

    /// Starts the process (again) on the same data directory and config file.
    pub fn start(&mut self) {
        assert!(self.child.is_none(), "the server is running already");
        self.starts += 1;
        let log_path = self.root.path().join(format!("stderr-{}.log", self.starts));
        let stderr = std::fs::File::create(&log_path).expect("stderr log");
        let mut cmd = Command::new(BIN);
        cmd.arg("serve")
            .arg("--data")
            .arg(&self.data)
            .arg("--listen")
            .arg(&self.listen)
            .args(&self.args)
            .env("TOCSIN_LOG", "info")
            .env_remove("TOCSIN_CONFIG")
            .env_remove("TOCSIN_DATA")
            .env_remove("TOCSIN_LISTEN")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(stderr);
        if let Some(c) = &self.config {
            cmd.arg("--config").arg(c);
        }
        if self.admin_from_env {
            cmd.env("TOCSIN_ADMIN_TOKEN", ADMIN);
        } else {
            cmd.env_remove("TOCSIN_ADMIN_TOKEN");
        }
        let mut child = cmd.spawn().expect("spawn tocsin serve");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut lines = BufReader::new(stdout).lines();
            for line in lines.by_ref() {
                let Ok(line) = line else { break };
                if let Some(addr) = line.strip_prefix("tocsin listening on ") {
                    let _ = tx.send(addr.trim().to_string());
                    break;
                }
            }
            // Keep reading so the server never writes into a closed pipe.
            for _ in lines {}
        });
        match rx.recv_timeout(Duration::from_secs(15)) {
            Ok(base) => self.base = base,
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                let log = std::fs::read_to_string(&log_path).unwrap_or_default();
                panic!("tocsin serve did not report its address; stderr:\n{log}");
            }
        }
        self.child = Some(child);
    }

    pub fn pid(&self) -> i32 {
        self.child.as_ref().expect("the server is running").id() as i32
    }

    pub fn signal(&self, sig: i32) {
        let rc = unsafe { libc::kill(self.pid(), sig) };
        assert_eq!(rc, 0, "kill({sig}) failed");
    }

    /// The exit status if the process has exited (without waiting).
    pub fn exit_status(&mut self) -> Option<ExitStatus> {
        let child = self.child.as_mut().expect("the server is running");
        let status = child.try_wait().expect("try_wait");
        if status.is_some() {
            self.child = None;
        }
        status
    }

    /// Waits for the process to exit, at most `timeout`.
    pub fn wait_exit(&mut self, timeout: Duration) -> ExitStatus {
        let child = self.child.as_mut().expect("the server is running");
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = child.try_wait().expect("try_wait") {
                self.child = None;
                return status;
            }
            if Instant::now() >= deadline {
                let _ = child.kill();
                let _ = child.wait();
                self.child = None;
                panic!(
                    "tocsin did not exit within {timeout:?}; stderr:\n{}",
                    self.stderr()
                );
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// SIGTERM, and the exit status of the graceful stop.
    pub fn terminate(&mut self) -> ExitStatus {
        self.signal(libc::SIGTERM);
        self.wait_exit(Duration::from_secs(15))
    }

    /// `kill -9`: no chance to flush or clean up.
    pub fn kill9(&mut self) {
        self.signal(libc::SIGKILL);
        let status = self.wait_exit(Duration::from_secs(10));
        assert!(!status.success());
    }

    /// Graceful stop (must exit 0), then start again on the same data directory.
    pub fn restart(&mut self) {
        let status = self.terminate();
        assert_eq!(
            status.code(),
            Some(0),
            "exit status {status:?}; stderr:\n{}",
            self.stderr()
        );
        self.start();
    }

    /// What the current (or last) process wrote to stderr.
    pub fn stderr(&self) -> String {
        std::fs::read_to_string(self.root.path().join(format!("stderr-{}.log", self.starts)))
            .unwrap_or_default()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Any request; `token` None sends no Authorization header.
    pub fn request(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<&[u8]>,
    ) -> Resp {
        let mut req = self.agent.request(method, &self.url(path));
        if let Some(t) = token {
            req = req.set("Authorization", &format!("Bearer {t}"));
        }
        let result = match body {
            Some(b) => req.set("Content-Type", "application/json").send_bytes(b),
            None => req.call(),
        };
        into_resp(result)
    }

    /// Sends a body with chunked transfer encoding (no Content-Length).
    pub fn post_chunked(&self, path: &str, token: Option<&str>, body: Vec<u8>) -> Resp {
        let mut req = self
            .agent
            .request("POST", &self.url(path))
            .set("Content-Type", "application/json");
        if let Some(t) = token {
            req = req.set("Authorization", &format!("Bearer {t}"));
        }
        into_resp(req.send(std::io::Cursor::new(body)))
    }

    /// GET with the admin token.
    pub fn get(&self, path: &str) -> Resp {
        self.request("GET", path, Some(ADMIN), None)
    }

    pub fn get_as(&self, path: &str, token: Option<&str>) -> Resp {
        self.request("GET", path, token, None)
    }

    /// POST JSON with the admin token.
    pub fn post(&self, path: &str, body: &Value) -> Resp {
        self.post_as(path, Some(ADMIN), body)
    }

    pub fn post_as(&self, path: &str, token: Option<&str>, body: &Value) -> Resp {
        self.request("POST", path, token, Some(body.to_string().as_bytes()))
    }

    pub fn post_raw(&self, path: &str, token: Option<&str>, body: &[u8]) -> Resp {
        self.request("POST", path, token, Some(body))
    }

    /// Posts tocsin events with the admin token and expects them accepted.
    #[track_caller]
    pub fn send_events(&self, events: &Value) -> Value {
        let r = self.post("/api/v1/events", events);
        r.expect(202);
        let n = if events.is_array() {
            events.as_array().unwrap().len()
        } else {
            1
        };
        assert_eq!(r.json(), json!({ "accepted": n }));
        r.json()
    }

    /// Posts an Alertmanager v2 list with the admin token and expects 200 with no body.
    #[track_caller]
    pub fn send_am(&self, alerts: &Value) {
        let r = self.post("/api/v2/alerts", alerts);
        r.expect(200);
        assert_eq!(r.body, "", "Alertmanager intake answers with an empty body");
    }

    /// One incident action with the admin token.
    pub fn act(&self, incident: i64, verb: &str, body: &Value) -> Resp {
        self.post(&format!("/api/v1/incidents/{incident}/{verb}"), body)
    }

    /// One page of a list, as a JSON value.
    #[track_caller]
    pub fn page(&self, path: &str) -> Value {
        let r = self.get(path);
        r.expect(200);
        r.json()
    }

    /// The items of one page.
    #[track_caller]
    pub fn items(&self, path: &str) -> Vec<Value> {
        self.page(path)["items"].as_array().cloned().unwrap()
    }

    /// Every alert, paging with the largest limit.
    pub fn all_alerts(&self) -> Vec<Value> {
        self.all("/api/v1/alerts", "")
    }

    /// Every item of a list endpoint with extra query parameters (`a=b&c=d`).
    pub fn all(&self, path: &str, query: &str) -> Vec<Value> {
        let mut out = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let mut url = format!("{path}?limit=1000");
            if !query.is_empty() {
                url.push('&');
                url.push_str(query);
            }
            if let Some(c) = &cursor {
                url.push_str(&format!("&cursor={}", enc(c)));
            }
            let page = self.page(&url);
            out.extend(page["items"].as_array().cloned().unwrap());
            match page["next_cursor"].as_str() {
                Some(c) => cursor = Some(c.to_string()),
                None => return out,
            }
        }
    }

    pub fn alert_count(&self) -> usize {
        self.all_alerts().len()
    }

    /// The alert with this source and dedup key, once the engine has stored it.
    #[track_caller]
    pub fn wait_alert(&self, source: &str, dedup_key: &str) -> Value {
        eventually(&format!("alert {source}/{dedup_key} stored"), || {
            self.all_alerts()
                .into_iter()
                .find(|a| a["source"] == json!(source) && a["dedup_key"] == json!(dedup_key))
                .ok_or_else(|| "not found".to_string())
        })
    }

    /// Polls an alert until `pred` holds, returning it.
    #[track_caller]
    pub fn wait_alert_where(
        &self,
        what: &str,
        source: &str,
        dedup_key: &str,
        pred: impl Fn(&Value) -> bool,
    ) -> Value {
        eventually(what, || {
            let a = self
                .all_alerts()
                .into_iter()
                .find(|a| a["source"] == json!(source) && a["dedup_key"] == json!(dedup_key))
                .ok_or_else(|| "not found".to_string())?;
            if pred(&a) {
                Ok(a)
            } else {
                Err(a.to_string())
            }
        })
    }

    #[track_caller]
    pub fn incident(&self, id: i64) -> Value {
        let r = self.get(&format!("/api/v1/incidents/{id}"));
        r.expect(200);
        r.json()
    }

    /// Polls an incident until `pred` holds.
    #[track_caller]
    pub fn wait_incident(&self, id: i64, what: &str, pred: impl Fn(&Value) -> bool) -> Value {
        eventually(what, || {
            let r = self.get(&format!("/api/v1/incidents/{id}"));
            if r.status != 200 {
                return Err(format!("HTTP {}: {}", r.status, r.body));
            }
            let v = r.json();
            if pred(&v) {
                Ok(v)
            } else {
                Err(v.to_string())
            }
        })
    }

    /// A metric's value from `/metrics` (the first sample whose name and labels start so).
    pub fn metric(&self, prefix: &str) -> Option<f64> {
        let r = self.get_as("/metrics", None);
        r.expect(200);
        r.body
            .lines()
            .filter(|l| !l.starts_with('#'))
            .find(|l| {
                l.starts_with(prefix) && matches!(l.as_bytes().get(prefix.len()), Some(b' ' | b'{'))
            })
            .and_then(|l| l.rsplit(' ').next())
            .and_then(|v| v.parse().ok())
    }

    /// Waits until the engine has applied everything the log has made durable, so that a
    /// read now sees every request answered before.
    pub fn settle(&self) {
        eventually("the engine catches up with the event log", || {
            let logged = self.metric("tocsin_log_lsn").unwrap_or(0.0);
            let applied = self.metric("tocsin_engine_applied_lsn").unwrap_or(0.0);
            if applied >= logged {
                Ok(())
            } else {
                Err(format!("log at {logged}, applied {applied}"))
            }
        })
    }

    /// `tocsin` CLI against this server.
    pub fn cli(&self, token: Option<&str>, args: &[&str]) -> Output {
        let mut cmd = Command::new(BIN);
        cmd.args(args)
            .env("TOCSIN_URL", &self.base)
            .env("TOCSIN_DATA", self.root.path().join("no-such-dir"))
            .env_remove("TOCSIN_TOKEN")
            .stdin(Stdio::null());
        if let Some(t) = token {
            cmd.env("TOCSIN_TOKEN", t);
        }
        cmd.output().expect("run tocsin")
    }
}

impl TestServer {
    /// `tocsin` CLI with no token given, pointed at this server's data directory.
    pub fn cli_with_data_dir(&self, args: &[&str]) -> Output {
        Command::new(BIN)
            .args(args)
            .env("TOCSIN_URL", &self.base)
            .env("TOCSIN_DATA", &self.data)
            .env_remove("TOCSIN_TOKEN")
            .stdin(Stdio::null())
            .output()
            .expect("run tocsin")
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn into_resp(result: Result<ureq::Response, ureq::Error>) -> Resp {
    let (status, resp) = match result {
        Ok(r) => (r.status(), r),
        Err(ureq::Error::Status(code, r)) => (code, r),
        Err(e) => panic!("request failed: {e}"),
    };
    let mut body = String::new();
    resp.into_reader()
        .read_to_string(&mut body)
        .expect("read body");
    Resp { status, body }
}

/// Runs `tocsin` with arguments and no server.
pub fn tocsin(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run tocsin")
}

/// Lower-case hex SHA-256, as config tokens are declared.
pub fn sha256_hex(text: &str) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The incident id an alert belongs to.
pub fn incident_of(alert: &Value) -> i64 {
    alert["incident_id"].as_i64().expect("incident_id")
}

pub fn id(v: &Value) -> i64 {
    v["id"].as_i64().expect("id")
}

/// Now plus `ms` milliseconds (negative for the past), as RFC 3339.
pub fn time_in(ms: i64) -> String {
    let t = jiff::Timestamp::now() + jiff::SignedDuration::from_millis(ms);
    format!("{t:.3}")
}

/// Parses an RFC 3339 time from the API into Unix milliseconds.
pub fn millis(text: &Value) -> i64 {
    text.as_str()
        .unwrap_or_else(|| panic!("not a time: {text}"))
        .parse::<jiff::Timestamp>()
        .unwrap_or_else(|e| panic!("not a time {text}: {e}"))
        .as_millisecond()
}

/// Whether a real external tool (an end-to-end test's peer) is installed. Without it the
/// test is skipped with a note, unless `TOCSIN_E2E_REQUIRED` is set (`scripts/test.sh`
/// installs every tool and sets it), where a missing tool fails the test.
pub fn have_tool(program: &str) -> bool {
    let found = if program.contains('/') {
        Path::new(program).exists()
    } else {
        std::env::var_os("PATH").is_some_and(|paths| {
            std::env::split_paths(&paths).any(|dir| dir.join(program).is_file())
        })
    };
    if !found {
        assert!(
            std::env::var_os("TOCSIN_E2E_REQUIRED").is_none(),
            "{program} is not installed; scripts/test.sh installs it"
        );
        eprintln!("skipped: {program} is not installed (scripts/test.sh installs it)");
    }
    found
}
