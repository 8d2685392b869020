//! A local HTTP endpoint standing in for a chat robot, an SMS gateway or a webhook: it keeps
//! every request (path and body) and answers 200 with DingTalk's "ok" body, which the other
//! HTTP channels take as delivered too.

use serde_json::Value;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// One request received: its path (with the query) and its body.
#[derive(Debug, Clone)]
pub struct Request {
    pub path: String,
    pub body: String,
}

impl Request {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.body))
    }
}

pub struct Receiver {
    pub port: u16,
    got: Arc<Mutex<Vec<Request>>>,
}

impl Receiver {
    pub fn start() -> Receiver {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let got = Arc::new(Mutex::new(Vec::new()));
        let keep = got.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let mut reader = BufReader::new(stream);
                let mut line = String::new();
                reader.read_line(&mut line).unwrap_or(0);
                let path = line.split(' ').nth(1).unwrap_or_default().to_string();
                let mut len = 0;
                loop {
                    line.clear();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                        break;
                    }
                    if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                        len = v.trim().parse().unwrap_or(0);
                    }
                }
                let mut body = vec![0; len];
                let _ = reader.read_exact(&mut body);
                keep.lock().unwrap().push(Request {
                    path,
                    body: String::from_utf8_lossy(&body).into(),
                });
                let ok = r#"{"errcode":0,"errmsg":"ok"}"#;
                let _ = write!(
                    reader.into_inner(),
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{ok}",
                    ok.len()
                );
            }
        });
        Receiver { port, got }
    }

    /// The requests to paths starting with `prefix`, oldest first.
    pub fn to(&self, prefix: &str) -> Vec<Request> {
        self.got
            .lock()
            .unwrap()
            .iter()
            .filter(|r| r.path.starts_with(prefix))
            .cloned()
            .collect()
    }

    /// Waits up to 10 s for `n` requests to paths starting with `prefix`.
    pub fn wait_for(&self, prefix: &str, n: usize) -> Vec<Request> {
        let start = Instant::now();
        loop {
            let got = self.to(prefix);
            if got.len() >= n {
                return got;
            }
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "{n} request(s) to {prefix} expected, got {got:?}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}
