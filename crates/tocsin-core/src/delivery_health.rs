//! Whether each channel's deliveries get through, and when to say so in the log.
//!
//! A wrong robot secret used to fail in silence: every page failed, and only each incident's
//! timeline said so. This keeps, per channel, whether its last delivery attempt failed (the
//! definition of a *failing* channel, which the console's banner and the API show), since
//! when, and the last error; and it decides when a log line is due: one warning when a
//! channel starts failing, then at most one per [`WARN_EVERY_MS`] while it keeps failing
//! (saying how many failures there were since the last line), and one line when it recovers.
//! Pure: time comes in as an argument, so the rate limit is tested without waiting.

use crate::time::Millis;
use std::collections::BTreeMap;

/// At most one warning per channel this often: a broken robot on a busy night fails
/// hundreds of sends, and hundreds of identical lines would bury everything else.
pub const WARN_EVERY_MS: Millis = 5 * 60_000;

/// A channel whose last delivery attempt failed.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FailingChannel {
    /// The channel's id in the config.
    pub channel: String,
    /// Its type (`dingtalk`, `email`, `webhook`, ...).
    #[serde(rename = "type")]
    pub kind: String,
    /// The first failure of the current run of failures (Unix milliseconds).
    pub since: Millis,
    /// The latest failure.
    pub last_failure_at: Millis,
    /// What went wrong last time: the channel's own error, which never carries a secret.
    pub last_error: String,
    /// Failed attempts since `since`.
    pub failures: u64,
}

/// A log line that is due.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notice {
    /// The channel is failing: `failures` attempts failed since the previous warning (this
    /// one included).
    Failing {
        channel: FailingChannel,
        failures: u64,
    },
    /// The channel delivered again after `failures` failed attempts since `since`.
    Recovered {
        channel: String,
        kind: String,
        since: Millis,
        failures: u64,
    },
}

#[derive(Debug, Default)]
struct Health {
    failing: Option<FailingChannel>,
    /// When the last warning about this channel was logged; kept across a recovery, so a
    /// channel that flaps still warns at most once per [`WARN_EVERY_MS`].
    warned_at: Option<Millis>,
    /// Failures not yet counted in a warning.
    unreported: u64,
    /// A warning was logged in the current run of failures (so its recovery is worth a line).
    warned_in_run: bool,
}

/// Every channel's recent deliveries. Channels are keyed by their config id, so there are
/// as many entries as channels ever configured.
#[derive(Debug, Default)]
pub struct ChannelHealth {
    channels: BTreeMap<String, Health>,
}

impl ChannelHealth {
    /// A delivery attempt on `channel` failed with `error`; a warning, when one is due.
    pub fn failed(
        &mut self,
        channel: &str,
        kind: &str,
        error: &str,
        now: Millis,
    ) -> Option<Notice> {
        let h = self.channels.entry(channel.to_string()).or_default();
        let error = one_line(error);
        let run = h.failing.get_or_insert_with(|| FailingChannel {
            channel: channel.to_string(),
            kind: kind.to_string(),
            since: now,
            last_failure_at: now,
            last_error: String::new(),
            failures: 0,
        });
        run.kind = kind.to_string();
        run.last_failure_at = now;
        run.last_error = error;
        run.failures += 1;
        h.unreported += 1;
        if h.warned_at.is_some_and(|at| now - at < WARN_EVERY_MS) {
            return None;
        }
        h.warned_at = Some(now);
        h.warned_in_run = true;
        Some(Notice::Failing {
            channel: run.clone(),
            failures: std::mem::take(&mut h.unreported),
        })
    }

    /// A delivery attempt on `channel` got through; a line saying it recovered, when it
    /// was failing and a warning said so.
    pub fn sent(&mut self, channel: &str) -> Option<Notice> {
        let h = self.channels.get_mut(channel)?;
        let run = h.failing.take()?;
        if !std::mem::take(&mut h.warned_in_run) {
            // Its failures were not logged yet: the next warning counts them.
            return None;
        }
        Some(Notice::Recovered {
            channel: run.channel,
            kind: run.kind,
            since: run.since,
            failures: run.failures,
        })
    }

    /// The channels failing now (their last attempt failed), by id.
    pub fn failing(&self) -> Vec<FailingChannel> {
        self.channels
            .values()
            .filter_map(|h| h.failing.clone())
            .collect()
    }
}

/// An error as one short line: the banner and the log show the first line, at most 300
/// characters of it.
fn one_line(error: &str) -> String {
    let line = error.lines().next().unwrap_or_default().trim();
    match line.char_indices().nth(300) {
        Some((cut, _)) => format!("{}…", &line[..cut]),
        None => line.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: Millis = 60_000;

    fn failures(n: &Option<Notice>) -> Option<u64> {
        match n {
            Some(Notice::Failing { failures, .. }) => Some(*failures),
            _ => None,
        }
    }

    #[test]
    fn the_first_failure_warns_then_at_most_once_per_five_minutes_counting_the_rest() {
        let mut h = ChannelHealth::default();
        assert_eq!(
            failures(&h.failed("ding", "dingtalk", "HTTP 500", 0)),
            Some(1)
        );
        for t in 1..=4 {
            assert_eq!(h.failed("ding", "dingtalk", "HTTP 500", t * MIN), None);
        }
        // Five minutes after the first line: the next failure warns, counting the four
        // held back and itself.
        let n = h.failed("ding", "dingtalk", "timed out", 5 * MIN);
        assert_eq!(failures(&n), Some(5));
        let Some(Notice::Failing { channel, .. }) = n else {
            unreachable!()
        };
        assert_eq!(channel.since, 0, "failing since the first failure");
        assert_eq!(channel.failures, 6);
        assert_eq!(channel.last_error, "timed out");
        assert_eq!(h.failed("ding", "dingtalk", "x", 9 * MIN), None);
    }

    #[test]
    fn channels_are_limited_each_on_their_own() {
        let mut h = ChannelHealth::default();
        assert!(h.failed("ding", "dingtalk", "e", 0).is_some());
        assert!(h.failed("mail", "email", "e", MIN).is_some());
        assert!(h.failed("ding", "dingtalk", "e", 2 * MIN).is_none());
        let failing: Vec<String> = h.failing().into_iter().map(|c| c.channel).collect();
        assert_eq!(failing, ["ding", "mail"]);
    }

    #[test]
    fn a_success_ends_the_failure_with_one_line_and_the_channel_is_no_longer_failing() {
        let mut h = ChannelHealth::default();
        assert_eq!(h.sent("ding"), None, "never failed: nothing to say");
        h.failed("ding", "dingtalk", "e", MIN);
        h.failed("ding", "dingtalk", "e", 2 * MIN);
        assert_eq!(
            h.sent("ding"),
            Some(Notice::Recovered {
                channel: "ding".into(),
                kind: "dingtalk".into(),
                since: MIN,
                failures: 2
            })
        );
        assert!(h.failing().is_empty());
        assert_eq!(h.sent("ding"), None, "said once");
    }

    #[test]
    fn a_flapping_channel_still_warns_at_most_once_per_five_minutes() {
        let mut h = ChannelHealth::default();
        assert!(h.failed("ding", "dingtalk", "e", 0).is_some());
        assert!(h.sent("ding").is_some());
        // Failing again a minute later: no second warning yet, and its recovery has no
        // warning to close, so it says nothing either.
        assert!(h.failed("ding", "dingtalk", "e", 2 * MIN).is_none());
        assert_eq!(h.failing().len(), 1, "failing all the same");
        assert!(h.sent("ding").is_none());
        // The next warning counts the failure that was held back.
        assert_eq!(
            failures(&h.failed("ding", "dingtalk", "e", 6 * MIN)),
            Some(2)
        );
    }

    #[test]
    fn errors_are_one_short_line() {
        let mut h = ChannelHealth::default();
        let long = format!("{}\nsecond line", "x".repeat(400));
        h.failed("ding", "dingtalk", &long, 0);
        let e = &h.failing()[0].last_error;
        assert_eq!(e.chars().count(), 301);
        assert!(!e.contains("second line"));
    }
}
