//! Bounds on what a sender controls, so one client cannot make an alert unbounded.
//! Documented in docs/api.md ("Limits").

use crate::IntakeError;
use std::collections::BTreeMap;

pub const MAX_SHORT: usize = 512;
pub const MAX_SUMMARY: usize = 2048;
pub const MAX_DESCRIPTION: usize = 64 * 1024;
pub const MAX_LABELS: usize = 128;
pub const MAX_LABEL_KEY: usize = 256;
pub const MAX_LABEL_VALUE: usize = 4096;
pub const MAX_LINKS: usize = 16;
pub const MAX_HREF: usize = 2048;

pub fn check_len(path: &str, field: &str, value: &str, max: usize) -> Result<(), IntakeError> {
    if value.len() > max {
        return Err(IntakeError(format!(
            "{path}.{field}: {} bytes, at most {max} are allowed",
            value.len()
        )));
    }
    Ok(())
}

pub fn check_labels(path: &str, labels: &BTreeMap<String, String>) -> Result<(), IntakeError> {
    if labels.len() > MAX_LABELS {
        return Err(IntakeError(format!(
            "{path}.labels: {} labels, at most {MAX_LABELS} are allowed",
            labels.len()
        )));
    }
    // This runs for every label of every event: the message is only formatted on failure.
    for (k, v) in labels {
        if k.is_empty() {
            return Err(IntakeError(format!("{path}.labels: a label name is empty")));
        }
        if k.len() > MAX_LABEL_KEY {
            let shown: String = k.chars().take(40).collect();
            return Err(IntakeError(format!(
                "{path}.labels: the label name {shown:?}... is {} bytes, at most {MAX_LABEL_KEY} are allowed",
                k.len()
            )));
        }
        // A control character in a name is a sender's bug (a NUL from C, a stray newline)
        // that would show as nothing or break a line wherever labels are read or matched.
        if k.chars().any(char::is_control) {
            return Err(IntakeError(format!(
                "{path}.labels: the label name {k:?} has a control character"
            )));
        }
        // Values may hold tabs and line breaks (a command's output), but never a NUL.
        if v.contains('\0') {
            return Err(IntakeError(format!(
                "{path}.labels.{k}: the value has a NUL character"
            )));
        }
        if v.len() > MAX_LABEL_VALUE {
            return Err(IntakeError(format!(
                "{path}.labels.{k}: {} bytes, at most {MAX_LABEL_VALUE} are allowed",
                v.len()
            )));
        }
    }
    Ok(())
}
