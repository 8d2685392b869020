//! Fairness over a range: hours on call per person, and the night hours among them (in the
//! person's own zone, where being woken is what hurts).

use super::{instant, Shift};
use crate::time::Millis;
use jiff::civil::Time;
use jiff::tz::TimeZone;
use jiff::ToSpan;
use std::collections::BTreeMap;

/// Night is 22:00 to 07:00 on the person's wall clock.
pub const NIGHT_START_HOUR: i8 = 22;
pub const NIGHT_END_HOUR: i8 = 7;

#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct Load {
    pub hours: f64,
    pub night_hours: f64,
    pub shifts: usize,
}

/// Load per user over the given shifts; `zone_of` gives each user's zone.
pub fn fairness<'z>(
    shifts: &[Shift],
    zone_of: impl Fn(&str) -> &'z TimeZone,
) -> BTreeMap<String, Load> {
    let mut out: BTreeMap<String, Load> = BTreeMap::new();
    for s in shifts {
        let load = out.entry(s.user.clone()).or_default();
        load.shifts += 1;
        load.hours += (s.end - s.start) as f64 / 3_600_000.0;
        load.night_hours += night_ms(zone_of(&s.user), s.start, s.end) as f64 / 3_600_000.0;
    }
    out
}

/// Milliseconds of `[start, end)` that fall in the night on `tz`'s wall clock.
fn night_ms(tz: &TimeZone, start: Millis, end: Millis) -> Millis {
    let mut total = 0;
    let Ok(mut day) = super::civil_at(tz, start).date().yesterday() else {
        return 0;
    };
    let last = super::civil_at(tz, end).date();
    while day <= last {
        let from = instant(
            tz,
            day.to_datetime(Time::constant(NIGHT_START_HOUR, 0, 0, 0)),
        );
        let Ok(next) = day.checked_add(1.day()) else {
            break;
        };
        let to = instant(
            tz,
            next.to_datetime(Time::constant(NIGHT_END_HOUR, 0, 0, 0)),
        );
        total += (end.min(to) - start.max(from)).max(0);
        day = next;
    }
    total
}
