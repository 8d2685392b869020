//! A real SMTP server for the black-box tests: the aiosmtpd sink of tocsin-notify's email
//! tests (`crates/tocsin-notify/tests/smtp_sink.py`), saving each message it receives as a
//! file, and the saved messages read back with their quoted-printable text decoded.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The SMTP server, stopped when dropped.
pub struct Smtp {
    child: Child,
    pub port: u16,
    dir: tempfile::TempDir,
}

impl Drop for Smtp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts the sink on a free port; fails the test when python3 or aiosmtpd is missing.
pub fn start() -> Smtp {
    let ok = Command::new("python3")
        .args(["-c", "import aiosmtpd"])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    assert!(
        ok,
        "python3 with aiosmtpd is not installed; scripts/test.sh installs it"
    );
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dir = tempfile::tempdir().unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tocsin-notify/tests/smtp_sink.py");
    let mut child = Command::new("python3")
        .arg(script)
        .arg(port.to_string())
        .arg(dir.path())
        .env("PYTHONWARNINGS", "ignore::DeprecationWarning")
        .stdout(Stdio::piped())
        .spawn()
        .expect("run python3");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert_eq!(line.trim(), "ready", "the SMTP server did not start");
    Smtp { child, port, dir }
}

impl Smtp {
    /// Every message received so far, oldest first, with quoted-printable undone.
    pub fn messages(&self) -> Vec<String> {
        let mut names: Vec<_> = std::fs::read_dir(self.dir.path())
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        names.sort();
        names
            .iter()
            .map(|p| unquote(&String::from_utf8_lossy(&std::fs::read(p).unwrap())))
            .collect()
    }

    /// Waits up to 10 s for a message containing `text`.
    pub fn wait_for(&self, text: &str) -> String {
        let start = Instant::now();
        loop {
            if let Some(m) = self.messages().into_iter().find(|m| m.contains(text)) {
                return m;
            }
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "no mail with {text:?}; got {:?}",
                self.messages()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// Undoes quoted-printable (soft line breaks and `=XX`), leaving other text as it is: the
/// tests look for words and links in the text part, not for the exact MIME structure.
fn unquote(raw: &str) -> String {
    let joined = raw.replace("=\r\n", "").replace("=\n", "");
    let bytes = joined.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .filter(|h| {
                h.bytes()
                    .all(|b| b.is_ascii_digit() || (b'A'..=b'F').contains(&b))
            })
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'=', Some(b)) => {
                out.push(b);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}
