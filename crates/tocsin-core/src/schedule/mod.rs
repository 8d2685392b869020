//! On-call schedules: who is on call when, as pure functions of a schedule and a time range.
//!
//! A schedule has layers; each layer is a rotation of users handing off at fixed points
//! (exact hours, or calendar days, weeks or months at a local wall-clock time in the
//! schedule's zone), optionally shown only inside restriction windows. A later layer wins
//! where it has someone; overrides win over every layer. [`shifts`] gives the final list for
//! a range, [`on_call_at`] the users at an instant, [`shift_at`] the whole shift at an
//! instant and the next one, [`gaps`] the times nobody is on call.
//!
//! Civil times that do not exist (a DST gap) move forward past the gap; times that exist
//! twice (a DST fold) take the first, as RFC 5545 and most calendars do.

mod fairness;
mod ical;
mod resolve;
pub(crate) mod restriction;
mod rotation;
mod timeline;

pub use fairness::{fairness, Load, NIGHT_END_HOUR, NIGHT_START_HOUR};
pub use ical::{calendar, CalendarEvent};
pub use resolve::{gaps, on_call_at, shift_at, shifts, Around, SHIFT_LOOK_LIMIT};

use crate::time::Millis;
use jiff::civil;
use jiff::tz::TimeZone;

#[derive(Debug, Clone, PartialEq)]
pub struct Schedule {
    pub id: String,
    pub name: String,
    /// IANA name, as configured (`Asia/Shanghai`).
    pub time_zone: String,
    pub tz: TimeZone,
    /// In precedence order: a later layer wins where it has someone.
    pub layers: Vec<Layer>,
    /// From the config; runtime overrides are passed to [`shifts`] beside these.
    pub overrides: Vec<Override>,
    /// Remind each person this long before their shift starts (`None`: no reminders).
    pub remind_before: Option<Millis>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Layer {
    pub name: String,
    pub rotation: Rotation,
    pub users: Vec<String>,
    /// When non-empty, the layer shows only inside these windows.
    pub restrictions: Vec<Restriction>,
}

/// How often the layer hands off, from its first hand-off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Period {
    /// Exact durations: the wall-clock time of a hand-off moves across a DST change.
    Hours(i64),
    /// Calendar steps in the schedule's zone: the hand-off stays at its wall-clock time.
    Days(i64),
    Weeks(i64),
    Months(i64),
}

impl Period {
    /// `12h`, `1d`, `2w`, `1mo`.
    pub fn parse(text: &str) -> Result<Period, String> {
        let t = text.trim();
        let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
        let (n, unit) = t.split_at(split);
        let n: i64 = n
            .parse()
            .ok()
            .filter(|&n| n > 0 && n <= 10_000)
            .ok_or_else(|| {
                format!("{text:?}: use a whole number from 1 then h, d, w or mo (12h, 1d, 2w, 1mo)")
            })?;
        match unit {
            "h" => Ok(Period::Hours(n)),
            "d" => Ok(Period::Days(n)),
            "w" => Ok(Period::Weeks(n)),
            "mo" => Ok(Period::Months(n)),
            _ => Err(format!(
                "{text:?}: the unit must be h (hours), d (days), w (weeks) or mo (months)"
            )),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Rotation {
    pub every: Period,
    /// The first hand-off, on the schedule's wall clock.
    pub start: civil::DateTime,
    /// The first hand-off as an instant: exact even when `start` exists twice (a DST fold)
    /// and the config named the second one with its offset.
    pub first: Millis,
}

impl Rotation {
    /// A rotation whose first hand-off is a wall-clock time in `tz`.
    pub fn new(every: Period, start: civil::DateTime, tz: &TimeZone) -> Rotation {
        Rotation {
            every,
            start,
            first: instant(tz, start),
        }
    }

    /// A rotation whose first hand-off is an instant (a start written with its offset).
    pub fn from_instant(every: Period, first: Millis, tz: &TimeZone) -> Rotation {
        Rotation {
            every,
            start: civil_at(tz, first),
            first,
        }
    }
}

/// A window on given weekdays, from one wall-clock time to another in the schedule's zone.
/// A window whose end is not after its start wraps midnight and belongs to the day it
/// starts; equal times mean the whole day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Restriction {
    /// Monday first.
    pub days: [bool; 7],
    pub from: civil::Time,
    pub to: civil::Time,
}

/// Someone on call instead of whoever the layers say, from `start` until `end`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Override {
    pub user: String,
    pub start: Millis,
    pub end: Millis,
}

/// One person on call without a break, `[start, end)`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Shift {
    pub start: Millis,
    pub end: Millis,
    pub user: String,
}

/// A shift as the API and the CLI show it: times on the schedule's wall clock.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ShiftView {
    pub start: String,
    pub end: String,
    pub user: String,
}

impl Schedule {
    pub fn view(&self, shift: &Shift) -> ShiftView {
        ShiftView {
            start: self.format_time(shift.start),
            end: self.format_time(shift.end),
            user: shift.user.clone(),
        }
    }

    /// An instant as RFC 3339 on the schedule's wall clock (`2026-03-02T09:00:00+08:00`),
    /// how shift lists show times.
    pub fn format_time(&self, t: Millis) -> String {
        jiff::Timestamp::from_millisecond(t)
            .map(|ts| {
                ts.to_zoned(self.tz.clone())
                    .strftime("%Y-%m-%dT%H:%M:%S%:z")
                    .to_string()
            })
            .unwrap_or_default()
    }

    /// `now`, an RFC 3339 instant, or a wall-clock time on the schedule's clock
    /// (`2026-03-02T09:00`).
    pub fn parse_time(&self, text: &str, now: Millis) -> Result<Millis, String> {
        if text == "now" {
            return Ok(now);
        }
        if let Ok(ts) = text.parse::<jiff::Timestamp>() {
            return Ok(ts.as_millisecond());
        }
        text.parse::<civil::DateTime>()
            .map(|dt| instant(&self.tz, dt))
            .map_err(|_| {
                format!(
                    "{text:?} is not a time: use now, 2026-03-02T09:00:00+08:00, or \
                     2026-03-02T09:00 on the schedule's clock ({})",
                    self.time_zone
                )
            })
    }
}

/// A wall-clock time in a zone as an instant: a time in a gap moves forward past it, a time
/// that exists twice takes the first.
pub(crate) fn instant(tz: &TimeZone, dt: civil::DateTime) -> Millis {
    tz.to_ambiguous_zoned(dt)
        .compatible()
        .map(|z| z.timestamp().as_millisecond())
        // Only dates outside jiff's range (years beyond ±9999) fail; clamp to the ends.
        .unwrap_or(if dt.year() > 0 {
            Millis::MAX / 2
        } else {
            Millis::MIN / 2
        })
}

/// The wall-clock time of an instant in a zone.
pub(crate) fn civil_at(tz: &TimeZone, t: Millis) -> civil::DateTime {
    jiff::Timestamp::from_millisecond(t)
        .map(|ts| tz.to_datetime(ts))
        .unwrap_or(civil::DateTime::MIN)
}

#[cfg(test)]
mod tests;
