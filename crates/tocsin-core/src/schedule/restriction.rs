//! Restriction windows as instants: each configured day's window in the schedule's zone,
//! over a range, merged into a sorted list without overlaps.

use super::{instant, Restriction};
use crate::time::Millis;
use jiff::civil::{Date, Time};
use jiff::tz::TimeZone;
use jiff::ToSpan;

/// The windows of all `restrictions` that overlap `[from, to)`, clipped to it, sorted and
/// merged.
pub(crate) fn windows(
    restrictions: &[Restriction],
    tz: &TimeZone,
    from: Millis,
    to: Millis,
) -> Vec<(Millis, Millis)> {
    let mut out = Vec::new();
    if from >= to {
        return out;
    }
    // A window belongs to the day it starts and may end the next day, so the day before the
    // range can reach into it.
    let first = super::civil_at(tz, from)
        .date()
        .yesterday()
        .unwrap_or(Date::MIN);
    let last = super::civil_at(tz, to).date();
    let mut day = first;
    while day <= last {
        let weekday = day.weekday().to_monday_zero_offset() as usize;
        for r in restrictions.iter().filter(|r| r.days[weekday]) {
            let (s, e) = window(tz, day, r.from, r.to);
            let (s, e) = (s.max(from), e.min(to));
            if s < e {
                out.push((s, e));
            }
        }
        match day.checked_add(1.day()) {
            Ok(next) => day = next,
            Err(_) => break,
        }
    }
    out.sort_unstable();
    merge(out)
}

/// One day's window: `to` not after `from` wraps to the next day.
fn window(tz: &TimeZone, day: Date, from: Time, to: Time) -> (Millis, Millis) {
    let end_day = if to > from {
        day
    } else {
        day.tomorrow().unwrap_or(day)
    };
    (
        instant(tz, day.to_datetime(from)),
        instant(tz, end_day.to_datetime(to)),
    )
}

/// Joins overlapping or touching windows of a sorted list.
fn merge(sorted: Vec<(Millis, Millis)>) -> Vec<(Millis, Millis)> {
    let mut out: Vec<(Millis, Millis)> = Vec::with_capacity(sorted.len());
    for (s, e) in sorted {
        match out.last_mut() {
            Some(last) if s <= last.1 => last.1 = last.1.max(e),
            _ => out.push((s, e)),
        }
    }
    out
}

/// Whether `t` falls in any of the windows (on `tz`'s clock).
pub(crate) fn contains(restrictions: &[Restriction], tz: &TimeZone, t: Millis) -> bool {
    !windows(restrictions, tz, t, t + 1).is_empty()
}
