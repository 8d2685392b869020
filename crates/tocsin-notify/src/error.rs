//! The outcome of one send. A failure says whether trying again can help, as Alertmanager's
//! notifiers do, so the outbox retries a timeout but not a rejected address.

use std::time::Duration;

/// A message the channel accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivered {
    /// What the far end answered (`HTTP 200`, `250 2.0.0 Ok: queued as 1A2B`), for the log.
    pub detail: String,
}

/// A message that was not delivered.
///
/// `message` never contains a secret: no passwords, signing keys, or robot URLs (their token
/// is in the URL); it names the channel's host at most.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendError {
    /// Trying again later can succeed (timeouts, 5xx, rate limits).
    pub retry: bool,
    /// The far end said when to try again (`Retry-After`, Telegram's `retry_after`).
    pub retry_after: Option<Duration>,
    pub message: String,
}

impl SendError {
    pub fn retry(message: impl Into<String>) -> SendError {
        SendError {
            retry: true,
            retry_after: None,
            message: message.into(),
        }
    }
    pub fn permanent(message: impl Into<String>) -> SendError {
        SendError {
            retry: false,
            retry_after: None,
            message: message.into(),
        }
    }
    pub fn after(mut self, wait: Option<Duration>) -> SendError {
        self.retry_after = wait;
        self
    }
}

impl std::fmt::Display for SendError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = if self.retry { "temporary" } else { "permanent" };
        write!(f, "{kind} failure: {}", self.message)?;
        if let Some(w) = self.retry_after {
            write!(f, " (retry after {}s)", w.as_secs())?;
        }
        Ok(())
    }
}

impl std::error::Error for SendError {}
