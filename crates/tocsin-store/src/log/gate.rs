//! The gate in front of the log: closed while the state store cannot be written (a full
//! disk), so new requests are refused before they are logged.
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
}
