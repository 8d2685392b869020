//! The email channel against a real SMTP server (Python's aiosmtpd, started by the test), and
//! the saved message read back with Python's email parser: subject (UTF-8 encoded in the
//! header), the text and HTML parts, in Chinese; and the SMTP replies classified.
//! Skipped when python3 or aiosmtpd is missing, unless `TOCSIN_E2E_REQUIRED` is set.

mod common;

use common::{load_channel, message, reader};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use tocsin_core::config::Language;
use tocsin_notify::{channel_for, Channel, MessageKind};

fn have_aiosmtpd() -> bool {
    let found = Command::new("python3")
        .args(["-c", "import aiosmtpd"])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !found {
        assert!(
            std::env::var_os("TOCSIN_E2E_REQUIRED").is_none(),
            "python3 with aiosmtpd is not installed; scripts/test.sh installs it"
        );
        eprintln!("skipped: python3 with aiosmtpd is not installed (scripts/test.sh installs it)");
    }
    found
}

/// The SMTP server, stopped when dropped.
struct Smtp {
    child: Child,
    port: u16,
    dir: tempfile::TempDir,
}

impl Drop for Smtp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn script(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join(name)
}

fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

fn start_smtp() -> Smtp {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut child = Command::new("python3")
        .arg(script("smtp_sink.py"))
        .arg(port.to_string())
        .arg(dir.path())
        // aiosmtpd warns about its own deprecated attribute on every login.
        .env("PYTHONWARNINGS", "ignore::DeprecationWarning")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert_eq!(line.trim(), "ready", "the SMTP server did not start");
    Smtp { child, port, dir }
}

impl Smtp {
    fn channel(&self, password: &str) -> Box<dyn Channel> {
        channel_for(&load_channel(&format!(
            "{{id: mail, type: email, host: 127.0.0.1, port: {}, tls: none, username: tocsin, \
             password: {password}, from: \"tocsin <tocsin@example.com>\"}}",
            self.port
        )))
    }
    /// The saved messages, read back as JSON by Python's parser.
    fn received(&self) -> Vec<serde_json::Value> {
        let mut files: Vec<_> = std::fs::read_dir(self.dir.path())
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        files.sort();
        files
            .iter()
            .map(|f| {
                let out = Command::new("python3")
                    .arg(script("read_mail.py"))
                    .arg(f)
                    .output()
                    .unwrap();
                assert!(
                    out.status.success(),
                    "{}",
                    String::from_utf8_lossy(&out.stderr)
                );
                serde_json::from_slice(&out.stdout).unwrap()
            })
            .collect()
    }
}

#[tokio::test]
async fn a_chinese_email_arrives_with_subject_text_and_html() {
    if !have_aiosmtpd() {
        return;
    }
    let smtp = start_smtp();
    let mail = smtp.channel("letmein");
    let delivered = mail
        .send(
            &reader(Language::Zh, "wangwei@example.com"),
            &message(MessageKind::New, 2),
        )
        .await
        .unwrap();
    assert!(delivered.detail.starts_with("250"), "{}", delivered.detail);
    mail.send(
        &reader(Language::En, "alice@example.com"),
        &message(MessageKind::Resolved, 1),
    )
    .await
    .unwrap();

    let got = smtp.received();
    assert_eq!(got.len(), 2);
    let zh = &got[0];
    assert_eq!(zh["subject"], "[tocsin] order-api 有 2 个新事件");
    let raw = zh["raw_subject"].as_str().unwrap();
    assert!(raw.is_ascii() && raw.contains("=?utf-8?"), "{raw}");
    assert_eq!(zh["to"], "王伟 <wangwei@example.com>");
    assert_eq!(zh["from"], "tocsin <tocsin@example.com>");
    assert_eq!(zh["content_type"], "multipart/alternative");
    let text = zh["text"].as_str().unwrap();
    assert!(text.starts_with("王伟，您好："), "{text}");
    assert!(text.contains("1. [P1] 订单接口超时 1"), "{text}");
    assert!(
        text.contains("认领: https://t.example/ack/INC-2?sig=x"),
        "{text}"
    );
    let html = zh["html"].as_str().unwrap();
    assert!(
        html.contains("<h2") && html.contains("order-api 有 2 个新事件"),
        "{html}"
    );
    assert!(
        html.contains(">认领</a>") && html.contains("INC-1?sig=x"),
        "{html}"
    );

    let en = &got[1];
    assert_eq!(en["subject"], "[tocsin] Resolved: [P1] 订单接口超时 1");
    let text = en["text"].as_str().unwrap();
    assert!(text.starts_with("Hello Alice,"), "{text}");
    // Nothing to do about a resolved incident: no acknowledge link.
    assert!(
        !text.contains("/ack/") && text.contains("/incidents/INC-1"),
        "{text}"
    );
}

#[tokio::test]
async fn smtp_replies_say_whether_a_retry_can_help() {
    if !have_aiosmtpd() {
        return;
    }
    let smtp = start_smtp();
    let msg = message(MessageKind::New, 1);
    let mail = smtp.channel("letmein");
    let e = mail
        .send(&reader(Language::En, "bounce@example.com"), &msg)
        .await
        .unwrap_err();
    assert!(!e.retry && e.message.contains("550"), "{e}");
    let e = mail
        .send(&reader(Language::En, "busy@example.com"), &msg)
        .await
        .unwrap_err();
    assert!(e.retry && e.message.contains("451"), "{e}");
    let e = smtp
        .channel("wrong-password")
        .send(&reader(Language::En, "alice@example.com"), &msg)
        .await
        .unwrap_err();
    assert!(!e.retry && !e.message.contains("wrong-password"), "{e}");
    assert!(smtp.received().is_empty());

    // A server that is not there: worth retrying.
    drop(smtp);
    let port = free_port();
    let gone = channel_for(&load_channel(&format!(
        "{{id: m, type: email, host: 127.0.0.1, port: {port}, tls: none, from: t@example.com}}"
    )));
    let e = gone
        .send(&reader(Language::En, "alice@example.com"), &msg)
        .await
        .unwrap_err();
    assert!(e.retry, "{e}");
}
