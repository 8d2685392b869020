//! What every adapter's events go through last: times that are well-formed but cannot be
//! right are replaced rather than refused, so a sender with a wrong clock or a zero time
//! still pages, and the event says so in its `tocsin_time_adjusted` label. (A malformed
//! time is refused by the adapter, naming the field.) Documented in docs/api.md ("Times
//! tocsin adjusts").

use tocsin_core::event::{Event, Status};
use tocsin_core::time::Millis;

/// 2000-01-01T00:00:00Z: no monitoring tool tocsin reads sends older events; older ones are
/// zero or uninitialised times (`0001-01-01`, Unix 0).
pub const EARLIEST: Millis = 946_684_800_000;

/// How far ahead of tocsin's clock a sender's clock may run before its times are not
/// believed: the skew of machines that sync their clocks, with room to spare.
pub const MAX_FUTURE_MS: Millis = 5 * 60 * 1000;

/// The label that names the fields tocsin replaced, space-separated (`occurred_at ends_at`).
/// Added after the identity is computed, so it never changes which alert an event is.
pub const ADJUSTED_LABEL: &str = "tocsin_time_adjusted";

/// Replaces implausible times of an event received at `now`:
/// - `occurred_at` before [`EARLIEST`] or more than [`MAX_FUTURE_MS`] ahead: `now`;
/// - a resolved event's `occurred_at` ahead of `now` (it cannot have ended later): `now`,
///   noted only beyond the clock skew allowed;
/// - `ends_at` before `occurred_at`: `occurred_at`.
pub fn adjust_times(e: &mut Event, now: Millis) {
    if e.occurred_at < EARLIEST || e.occurred_at > now.saturating_add(MAX_FUTURE_MS) {
        e.occurred_at = now;
        note_adjusted(e, "occurred_at");
    } else if e.status == Status::Resolved && e.occurred_at > now {
        e.occurred_at = now;
    }
    if e.ends_at.is_some_and(|end| end < e.occurred_at) {
        e.ends_at = Some(e.occurred_at);
        note_adjusted(e, "ends_at");
    }
}

/// Adds `field` to the event's [`ADJUSTED_LABEL`].
pub fn note_adjusted(e: &mut Event, field: &str) {
    let value = e.labels.entry(ADJUSTED_LABEL.to_string()).or_default();
    if !value.split(' ').any(|f| f == field) {
        if !value.is_empty() {
            value.push(' ');
        }
        value.push_str(field);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tocsin_core::event::Severity;

    const NOW: Millis = crate::testing::NOW;

    fn event(status: Status, occurred_at: Millis, ends_at: Option<Millis>) -> Event {
        Event {
            source: "api".into(),
            integration: String::new(),
            dedup_key: "k".into(),
            status,
            severity: Severity::Warning,
            name: "n".into(),
            summary: "s".into(),
            description: String::new(),
            service: None,
            labels: Default::default(),
            links: Vec::new(),
            occurred_at,
            received_at: NOW,
            ends_at,
        }
    }

    fn adjusted(mut e: Event) -> (Millis, Option<Millis>, Option<String>) {
        adjust_times(&mut e, NOW);
        (
            e.occurred_at,
            e.ends_at,
            e.labels.get(ADJUSTED_LABEL).cloned(),
        )
    }

    #[test]
    fn implausible_times_become_the_receive_time_and_say_so() {
        let year_1 = -62_135_596_800_000;
        let note = |f: &str| Some(f.to_string());
        let firing = Status::Firing;
        let resolved = Status::Resolved;
        // Plausible times are kept, a little clock skew included.
        assert_eq!(
            adjusted(event(firing, NOW - 1000, None)),
            (NOW - 1000, None, None)
        );
        assert_eq!(
            adjusted(event(firing, NOW + 60_000, None)),
            (NOW + 60_000, None, None)
        );
        assert_eq!(
            adjusted(event(firing, EARLIEST, None)),
            (EARLIEST, None, None)
        );
        // Zero times, and clocks far ahead.
        assert_eq!(
            adjusted(event(firing, year_1, None)),
            (NOW, None, note("occurred_at"))
        );
        assert_eq!(
            adjusted(event(firing, 0, None)),
            (NOW, None, note("occurred_at"))
        );
        let ahead = NOW + MAX_FUTURE_MS + 1;
        assert_eq!(
            adjusted(event(firing, ahead, None)),
            (NOW, None, note("occurred_at"))
        );
        // An alert cannot have ended after it was reported ended.
        assert_eq!(
            adjusted(event(resolved, NOW + 60_000, None)),
            (NOW, None, None)
        );
        assert_eq!(
            adjusted(event(resolved, ahead, None)),
            (NOW, None, note("occurred_at"))
        );
        // An end before the start becomes the start.
        assert_eq!(
            adjusted(event(firing, NOW - 60_000, Some(NOW - 120_000))),
            (NOW - 60_000, Some(NOW - 60_000), note("ends_at"))
        );
        assert_eq!(
            adjusted(event(firing, 0, Some(NOW - 120_000))),
            (NOW, Some(NOW), note("occurred_at ends_at"))
        );
    }

    #[test]
    fn each_field_is_noted_once() {
        let mut e = event(Status::Firing, NOW, None);
        note_adjusted(&mut e, "ends_at");
        note_adjusted(&mut e, "ends_at");
        note_adjusted(&mut e, "occurred_at");
        assert_eq!(e.labels[ADJUSTED_LABEL], "ends_at occurred_at");
    }
}
