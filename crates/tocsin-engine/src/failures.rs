//! Repeated failures to write the state store (a full disk): when to retry, and what to log
//! without flooding it. The engine retries every batch that failed; logging each attempt
//! wrote an ERROR every 210 ms while a disk stayed full. Now the first failure is logged,
//! then a summary with a count every [`SUMMARY_EVERY`], and the recovery once.

use std::time::{Duration, Instant};

/// How often, at most, a failure that goes on is logged again, with how many attempts
/// failed since the last report.
pub const SUMMARY_EVERY: Duration = Duration::from_secs(30);
/// The first retry comes after this; each next one waits twice as long, up to
/// [`RETRY_MAX`]: a full disk is seldom freed within seconds, and each retry reloads the
/// engine's index from the store.
const RETRY_FIRST: Duration = Duration::from_millis(200);
const RETRY_MAX: Duration = Duration::from_secs(2);

/// What to log about a failure.
#[derive(Debug, PartialEq, Eq)]
pub enum Report {
    /// The first of a run of failures.
    First,
    /// Still failing: `failed` attempts since the last report, `since` the first failure.
    Summary { failed: u64, since: Duration },
}

#[derive(Debug, Default)]
pub struct Failures {
    /// When the run of failures began, and when it was last reported.
    run: Option<(Instant, Instant)>,
    /// Failed attempts in the run, and since the last report.
    total: u64,
    unreported: u64,
}

impl Failures {
    /// Counts a failed attempt; tells what to log, if anything.
    pub fn failed(&mut self, now: Instant) -> Option<Report> {
        self.total += 1;
        let Some((began, reported)) = self.run else {
            self.run = Some((now, now));
            return Some(Report::First);
        };
        self.unreported += 1;
        if now.duration_since(reported) < SUMMARY_EVERY {
            return None;
        }
        self.run = Some((began, now));
        let failed = std::mem::take(&mut self.unreported);
        Some(Report::Summary {
            failed,
            since: now.duration_since(began),
        })
    }

    /// How long to wait before the next attempt.
    pub fn retry_in(&self) -> Duration {
        let doublings = self.total.saturating_sub(1).min(16) as u32;
        (RETRY_FIRST * 2u32.pow(doublings)).min(RETRY_MAX)
    }

    /// An attempt succeeded: ends the run, telling how many attempts failed over how long.
    pub fn succeeded(&mut self, now: Instant) -> Option<(u64, Duration)> {
        let (began, _) = self.run.take()?;
        let failed = std::mem::take(&mut self.total);
        self.unreported = 0;
        Some((failed, now.duration_since(began)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A disk full for two minutes, retried as the engine does: a handful of lines, not one
    /// per attempt.
    #[test]
    fn a_long_failure_is_logged_first_then_summarised() {
        let start = Instant::now();
        let mut f = Failures::default();
        let mut now = start;
        let mut reports = Vec::new();
        let mut attempts = 0;
        while now < start + Duration::from_secs(120) {
            attempts += 1;
            if let Some(r) = f.failed(now) {
                reports.push(r);
            }
            now += f.retry_in();
        }
        assert!(attempts > 50, "{attempts} attempts");
        assert_eq!(reports[0], Report::First);
        // The first, then one at 30 s, 60 s and 90 s.
        assert_eq!(reports.len(), 4, "{reports:?}");
        let summarised: u64 = reports[1..]
            .iter()
            .map(|r| match r {
                Report::Summary { failed, .. } => *failed,
                Report::First => panic!("one first report: {reports:?}"),
            })
            .sum();
        assert!(summarised < attempts);
        let (failed, over) = f.succeeded(now).expect("a run ended");
        assert_eq!(failed, attempts);
        assert!(over >= Duration::from_secs(120));
        // A new run starts over, logged and retried quickly again.
        assert_eq!(f.succeeded(now), None);
        assert_eq!(f.failed(now), Some(Report::First));
        assert_eq!(f.retry_in(), RETRY_FIRST);
    }
}
