//! Email over SMTP (lettre): STARTTLS, TLS from the first byte, or plain for a local relay;
//! login when a username is set. Each message is `multipart/alternative` with a text and an
//! HTML part; non-ASCII subjects and names are encoded by lettre (RFC 2047).
//!
//! The SMTP reply decides retries: 4xx (mailbox busy, greylisting) and connection problems
//! may pass later; 5xx (no such user, relaying denied) and unusable addresses will not.

use super::{Channel, SendFuture};
use crate::error::{Delivered, SendError};
use crate::message::{Message, Recipient};
use crate::templates::Templates;
use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use std::time::Duration;
use tocsin_core::paging::{Secret, SmtpTls};

/// Each SMTP step's limit (lettre's own timeout).
const TIMEOUT: Duration = Duration::from_secs(10);
/// The whole conversation's limit: lettre's step timeout does not stop a server that stays
/// silent after a command (seen on a failed AUTH), and a page must not wait minutes.
const SEND_TIMEOUT: Duration = Duration::from_secs(30);

/// The SMTP settings of an email channel.
#[derive(Debug, Clone)]
pub struct Smtp {
    pub host: String,
    pub port: u16,
    pub tls: SmtpTls,
    pub username: Option<String>,
    pub password: Option<Secret>,
    pub from: String,
}

pub struct Email {
    id: String,
    smtp: Smtp,
    /// Built once so connections are pooled; an error (bad TLS setup) shows at each send.
    transport: Result<AsyncSmtpTransport<Tokio1Executor>, String>,
    templates: Templates,
}

impl Email {
    pub fn new(id: &str, smtp: Smtp, templates: Templates) -> Email {
        Email {
            id: id.to_string(),
            transport: transport(&smtp),
            smtp,
            templates,
        }
    }

    /// The message as it will be sent; pure, for tests.
    pub fn build(&self, to: &Recipient, msg: &Message) -> Result<lettre::Message, SendError> {
        let from: Mailbox = self
            .smtp
            .from
            .parse()
            .map_err(|e| SendError::permanent(format!("bad from address: {e}")))?;
        let address = to
            .address
            .trim()
            .parse()
            .map_err(|e| SendError::permanent(format!("bad address {:?}: {e}", to.address)))?;
        let parts = self.templates.email(to, msg)?;
        let message_id = message_id(from.email.domain());
        lettre::Message::builder()
            .message_id(Some(message_id))
            .from(from)
            .to(Mailbox::new(Some(to.name.clone()), address))
            .subject(parts.subject)
            .multipart(MultiPart::alternative_plain_html(parts.text, parts.html))
            .map_err(|e| SendError::permanent(format!("cannot build the email: {e}")))
    }
}

/// A `Message-ID` in the sender's domain: without one, spam filters score the mail down and
/// threads cannot refer to it (issue 17 item 6). Unique without a random source: the time
/// in nanoseconds, a counter for two mails in one nanosecond, and the process id for two
/// servers on one host.
fn message_id(domain: &str) -> String {
    static SENT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let n = SENT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    format!("<tocsin.{nanos}.{n}.{}@{domain}>", std::process::id())
}

fn transport(smtp: &Smtp) -> Result<AsyncSmtpTransport<Tokio1Executor>, String> {
    type T = AsyncSmtpTransport<Tokio1Executor>;
    let builder = match smtp.tls {
        SmtpTls::StartTls => T::starttls_relay(&smtp.host).map_err(|e| e.to_string())?,
        SmtpTls::Tls => T::relay(&smtp.host).map_err(|e| e.to_string())?,
        SmtpTls::None => T::builder_dangerous(&smtp.host),
    };
    let mut builder = builder.port(smtp.port).timeout(Some(TIMEOUT));
    if let Some(user) = &smtp.username {
        let password = smtp
            .password
            .as_ref()
            .map(|p| p.expose().to_string())
            .unwrap_or_default();
        builder = builder.credentials(Credentials::new(user.clone(), password));
    }
    Ok(builder.build())
}

fn classify(host: &str, e: lettre::transport::smtp::Error) -> SendError {
    let message = format!("{host}: {e}");
    if e.is_permanent() || e.is_client() {
        SendError::permanent(message)
    } else {
        SendError::retry(message)
    }
}

impl Channel for Email {
    fn id(&self) -> &str {
        &self.id
    }

    fn send<'a>(&'a self, to: &'a Recipient, msg: &'a Message) -> SendFuture<'a> {
        Box::pin(async move {
            let transport = self
                .transport
                .as_ref()
                .map_err(|e| SendError::permanent(format!("{}: {e}", self.smtp.host)))?;
            let mail = self.build(to, msg)?;
            let host = &self.smtp.host;
            let response = tokio::time::timeout(SEND_TIMEOUT, transport.send(mail))
                .await
                .map_err(|_| SendError::retry(format!("{host}: no answer in time")))?
                .map_err(|e| classify(host, e))?;
            let text = response.message().next().unwrap_or_default().to_string();
            Ok(Delivered {
                detail: format!("{} {text}", response.code()),
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{bundle, en_reader, one_incident, zh_reader};

    fn email(from: &str) -> Email {
        Email::new(
            "mail",
            Smtp {
                host: "localhost".into(),
                port: 25,
                tls: SmtpTls::None,
                username: None,
                password: None,
                from: from.into(),
            },
            Templates::builtin(),
        )
    }

    #[test]
    fn subject_text_and_html_with_encoded_chinese() {
        let mut reader = zh_reader();
        reader.address = "wangwei@example.com".into();
        let mail = email("tocsin <tocsin@example.com>")
            .build(&reader, &bundle(2))
            .unwrap();
        let raw = String::from_utf8(mail.formatted()).unwrap();
        // RFC 2047: the Chinese subject is encoded, never raw in the header.
        let subject = raw.lines().find(|l| l.starts_with("Subject:")).unwrap();
        assert!(subject.contains("=?utf-8?"), "{subject}");
        assert!(raw.contains("multipart/alternative"));
        assert!(raw.contains("text/plain") && raw.contains("text/html"));
        // A Message-ID in the sender's domain, different for every mail.
        let id = |raw: &str| {
            raw.lines()
                .find_map(|l| l.strip_prefix("Message-ID: "))
                .map(str::to_string)
        };
        let first = id(&raw).unwrap_or_else(|| panic!("no Message-ID in {raw}"));
        assert!(
            first.starts_with("<tocsin.") && first.ends_with("@example.com>"),
            "{first}"
        );
        let again = email("tocsin <tocsin@example.com>")
            .build(&reader, &bundle(2))
            .unwrap();
        assert_ne!(
            id(&String::from_utf8(again.formatted()).unwrap()),
            Some(first)
        );
    }

    #[test]
    fn html_escapes_what_the_incident_says() {
        let parts = Templates::builtin()
            .email(&en_reader(), &one_incident())
            .unwrap();
        assert_eq!(parts.subject, "[tocsin] [P1] MySQL primary down <3");
        assert!(parts.html.contains("MySQL primary down &lt;3"));
        // minijinja writes `/` as `&#x2f;` in HTML, which every mail client reads back.
        assert!(parts
            .html
            .contains("href=\"https:&#x2f;&#x2f;t.example&#x2f;ack&#x2f;INC-42?sig=a\""));
        assert!(parts
            .text
            .contains("Acknowledge: https://t.example/ack/INC-42?sig=a"));
    }

    #[test]
    fn unusable_addresses_do_not_retry() {
        let mut reader = en_reader();
        reader.address = "not an address".into();
        let e = email("t@example.com")
            .build(&reader, &one_incident())
            .unwrap_err();
        assert!(!e.retry);
        let e = email("").build(&en_reader(), &one_incident()).unwrap_err();
        assert!(!e.retry && e.message.contains("from"), "{e}");
    }
}
