//! The gate in front of the log: closed while the state store cannot be written (a full
//! disk), so new requests are refused before they are logged. It also tells readiness when
//! the log itself could not be written.
//!
//! Why refuse what the log could still hold: an entry logged while the engine cannot apply it
//! pages nobody, and a person's change answered 503 must never be applied later. Refused at
//! the gate, nothing is written, and the sender knows to try again. Entries logged before the
//! gate closed were acknowledged and stay; the engine applies them once the store is writable.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

#[derive(Debug, Default)]
pub struct WriteGate {
    /// Read on every append; the reason is only read once this is set.
    closed: AtomicBool,
    reason: Mutex<String>,
    /// Why the last write of the log failed, until one succeeds. Not a reason to refuse
    /// appends (the writer must go on trying them), but one to say the server is not ready.
    log_failure: Mutex<Option<String>>,
}

impl WriteGate {
    /// Refuses appends from now on, saying why.
    pub fn close(&self, reason: &str) {
        *self.reason.lock().unwrap() = reason.to_string();
        self.closed.store(true, Ordering::SeqCst);
    }

    /// Accepts appends again.
    pub fn open(&self) {
        self.closed.store(false, Ordering::SeqCst);
    }

    /// Why appends are refused, or `None` while they are accepted.
    pub fn refusal(&self) -> Option<String> {
        if !self.closed.load(Ordering::SeqCst) {
            return None;
        }
        Some(self.reason.lock().unwrap().clone())
    }

    /// Records the outcome of a log write.
    pub(crate) fn log_written(&self, outcome: Result<(), String>) {
        let mut failure = self.log_failure.lock().unwrap();
        *failure = outcome.err();
    }

    /// Why the server takes nothing new, if it does not: the gate is closed, or the last
    /// log write failed.
    pub fn unready(&self) -> Option<String> {
        self.refusal().or_else(|| {
            let failure = self.log_failure.lock().unwrap();
            failure
                .as_ref()
                .map(|e| format!("the event log cannot be written ({e})"))
        })
    }
}
