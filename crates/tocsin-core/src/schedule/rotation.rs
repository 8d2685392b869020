//! Hand-offs of a rotation: the k-th is computed from the first, never by stepping from the
//! previous one, so a month-end start (Jan 31 -> Feb 28 -> Mar 31) and DST shifts never
//! accumulate drift.

use super::{instant, Period, Rotation};
use crate::time::Millis;
use jiff::tz::TimeZone;
use jiff::Span;

const HOUR: Millis = 3_600_000;

impl Rotation {
    /// The k-th hand-off (0 is the first).
    pub fn handoff(&self, tz: &TimeZone, k: i64) -> Millis {
        let step = |span: Span| {
            self.start
                .checked_add(span)
                .map(|dt| instant(tz, dt))
                .unwrap_or(if k > 0 {
                    Millis::MAX / 2
                } else {
                    Millis::MIN / 2
                })
        };
        match self.every {
            Period::Hours(n) => self.first.saturating_add(k.saturating_mul(n * HOUR)),
            // The first is kept as given; later ones are calendar steps on the wall clock.
            _ if k == 0 => self.first,
            Period::Days(n) => step(Span::new().days(k * n)),
            Period::Weeks(n) => step(Span::new().days(k * n * 7)),
            Period::Months(n) => step(Span::new().months(k * n)),
        }
    }

    /// The index of the hand-off in force at `t`: the largest k with `handoff(k) <= t`
    /// (negative before the first).
    pub fn slot_at(&self, tz: &TimeZone, t: Millis) -> i64 {
        let first = self.first;
        let approx: Millis = match self.every {
            Period::Hours(n) => n * HOUR,
            Period::Days(n) => n * 24 * HOUR,
            Period::Weeks(n) => n * 7 * 24 * HOUR,
            // The mean month of the Gregorian calendar.
            Period::Months(n) => n * 2_629_746_000,
        };
        let mut k = (t - first).div_euclid(approx);
        // The estimate is off by at most one or two steps (DST, month lengths).
        while self.handoff(tz, k) > t {
            k -= 1;
        }
        while self.handoff(tz, k + 1) <= t {
            k += 1;
        }
        k
    }
}
