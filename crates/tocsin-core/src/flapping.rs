//! Flapping: an alert that changes state (fires, resolves) too often in a window. While it
//! flaps its resolves do not close its incident, so its re-fires rejoin that incident and page
//! nobody again; it stops flapping after a quiet spell without a change.
//!
//! Plain functions over an alert's recent change times, so the engine, replay and the tests
//! decide alike.

use crate::time::Millis;

/// The `flapping:` config: `transitions` changes within `window` make an alert flap; `quiet`
/// without a change ends it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FlapPolicy {
    pub transitions: u32,
    pub window: Millis,
    pub quiet: Millis,
}

pub const DEFAULT_TRANSITIONS: u32 = 4;
pub const DEFAULT_WINDOW: Millis = 30 * 60 * 1000;
pub const DEFAULT_QUIET: Millis = 30 * 60 * 1000;

impl Default for FlapPolicy {
    fn default() -> Self {
        FlapPolicy {
            transitions: DEFAULT_TRANSITIONS,
            window: DEFAULT_WINDOW,
            quiet: DEFAULT_QUIET,
        }
    }
}

impl FlapPolicy {
    /// Adds a change at `at` to `changes` (oldest first) and tells whether the alert now has
    /// `transitions` changes within the window. Only what can still count is kept: changes
    /// inside the window, at most `transitions` of them, so the history stays small.
    pub fn record(&self, changes: &mut Vec<Millis>, at: Millis) -> bool {
        // Log order is the truth; a change stamped earlier than the last one counts as then.
        let at = changes.last().map_or(at, |&last| at.max(last));
        changes.push(at);
        self.prune(changes, at);
        let keep = self.transitions.max(1) as usize;
        if changes.len() > keep {
            changes.drain(..changes.len() - keep);
        }
        changes.len() >= keep
    }

    /// Drops the changes that have left the window by `now`.
    pub fn prune(&self, changes: &mut Vec<Millis>, now: Millis) {
        let from = changes.partition_point(|&t| !self.in_window(t, now));
        changes.drain(..from);
    }

    /// Whether a change at `t` still counts at `now`.
    pub fn in_window(&self, t: Millis, now: Millis) -> bool {
        t > now - self.window
    }

    /// When a flapping alert whose last change was at `last` stops flapping.
    pub fn calm_at(&self, last: Millis) -> Millis {
        last + self.quiet
    }

    /// When the history of an alert that does not flap, last changed at `last`, is all out of
    /// the window and can be forgotten.
    pub fn stale_at(&self, last: Millis) -> Millis {
        last + self.window
    }
}

/// A duration as people write it in the config: `30m`, `1h30m`, `90s`.
pub fn describe(ms: Millis) -> String {
    let secs = ms / 1000;
    let (h, m, s) = (secs / 3600, secs / 60 % 60, secs % 60);
    let mut out = String::new();
    for (n, unit) in [(h, "h"), (m, "m"), (s, "s")] {
        if n != 0 {
            out.push_str(&format!("{n}{unit}"));
        }
    }
    if out.is_empty() {
        out = format!("{ms}ms");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const MIN: Millis = 60_000;

    #[test]
    fn four_changes_in_thirty_minutes_flap() {
        let p = FlapPolicy::default();
        let mut changes = Vec::new();
        assert!(!p.record(&mut changes, 0));
        assert!(!p.record(&mut changes, 2 * MIN));
        assert!(!p.record(&mut changes, 4 * MIN));
        assert!(p.record(&mut changes, 6 * MIN));
        assert_eq!(changes, vec![0, 2 * MIN, 4 * MIN, 6 * MIN]);
        assert_eq!(p.calm_at(6 * MIN), 36 * MIN);
    }

    #[test]
    fn changes_spread_wider_than_the_window_do_not() {
        let p = FlapPolicy::default();
        let mut changes = Vec::new();
        for i in 0..20 {
            assert!(!p.record(&mut changes, i * 11 * MIN), "change {i}");
        }
        // A change exactly one window old no longer counts.
        assert!(changes.len() <= 3);
        let mut edge = vec![0, 10 * MIN, 20 * MIN];
        assert!(!p.record(&mut edge, 30 * MIN));
        assert_eq!(edge, vec![10 * MIN, 20 * MIN, 30 * MIN]);
    }

    #[test]
    fn out_of_order_times_count_at_the_last_change() {
        let p = FlapPolicy::default();
        let mut changes = vec![5 * MIN];
        p.record(&mut changes, 4 * MIN);
        assert_eq!(changes, vec![5 * MIN, 5 * MIN]);
    }

    #[test]
    fn durations_read_as_written() {
        assert_eq!(describe(30 * MIN), "30m");
        assert_eq!(describe(90 * MIN), "1h30m");
        assert_eq!(describe(1000), "1s");
        assert_eq!(describe(500), "500ms");
    }

    proptest! {
        /// The decision equals counting, over every change so far, those within the window of
        /// the latest; and the kept history never outgrows `transitions`.
        #[test]
        fn record_matches_a_plain_count(
            gaps in proptest::collection::vec(0i64..20 * MIN, 1..60),
            transitions in 2u32..8,
            window_min in 1i64..60,
        ) {
            let p = FlapPolicy { transitions, window: window_min * MIN, quiet: MIN };
            let (mut kept, mut all, mut t) = (Vec::new(), Vec::new(), 0);
            for gap in gaps {
                t += gap;
                all.push(t);
                let flapping = p.record(&mut kept, t);
                let count = all.iter().filter(|&&c| p.in_window(c, t)).count();
                prop_assert_eq!(flapping, count >= transitions as usize);
                prop_assert!(kept.len() <= transitions as usize);
                prop_assert!(kept.windows(2).all(|w| w[0] <= w[1]));
            }
        }
    }
}
