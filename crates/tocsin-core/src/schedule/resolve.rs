//! Resolution: a schedule's layers, restrictions and overrides over a range, painted into
//! the final shift list. "Who is on call at t" is the same computation over `[t, t+1ms)`, so
//! the two can never disagree.

use super::restriction::windows;
use super::timeline::{join, overlay, Seg};
use super::{Layer, Override, Period, Schedule, Shift};
use crate::time::Millis;
use jiff::tz::TimeZone;

/// The final shifts of `[from, to)`: layers in precedence order, then the schedule's
/// overrides, then `extra` overrides (runtime ones; a later one wins where they overlap);
/// touching shifts of the same user joined. Times nobody is on call are left out.
pub fn shifts(schedule: &Schedule, extra: &[Override], from: Millis, to: Millis) -> Vec<Shift> {
    if from >= to {
        return Vec::new();
    }
    let mut names: Vec<&str> = Vec::new();
    let mut timeline: Vec<Seg> = Vec::new();
    for layer in &schedule.layers {
        let ids: Vec<u32> = layer.users.iter().map(|u| index(&mut names, u)).collect();
        let segs = layer_segments(layer, &ids, &schedule.tz, from, to);
        timeline = overlay(timeline, &segs);
    }
    for o in schedule.overrides.iter().chain(extra) {
        let (s, e) = (o.start.max(from), o.end.min(to));
        if s < e {
            timeline = overlay(
                timeline,
                &[Seg {
                    start: s,
                    end: e,
                    user: index(&mut names, &o.user),
                }],
            );
        }
    }
    join(timeline)
        .into_iter()
        .map(|s| Shift {
            start: s.start,
            end: s.end,
            user: names[s.user as usize].to_string(),
        })
        .collect()
}

const HOUR: Millis = 3_600_000;
const DAY: Millis = 24 * HOUR;

/// How far [`shift_at`] looks back and ahead at most: a shift longer than this (someone on
/// call alone for more than a year) is cut here.
pub const SHIFT_LOOK_LIMIT: Millis = 367 * DAY;

/// The shift going on at an instant and the one after it, whole: their `start` and `end`
/// are the real hand-offs, not the edges of a range.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Around {
    /// The shift with `start <= t < end`; `None` when nobody is on call at `t`.
    pub current: Option<Shift>,
    /// The first shift that starts after `t`.
    pub next: Option<Shift>,
}

/// The whole shift at `t` and the next one, as [`shifts`] would list them over a range wide
/// enough to hold both. Resolves a window around `t` of the schedule's longest rotation
/// period each way, doubled while a shift touches its edge, up to [`SHIFT_LOOK_LIMIT`] each
/// way: beyond that a shift is cut at the limit, and a next shift not starting within it is
/// `None`.
pub fn shift_at(schedule: &Schedule, extra: &[Override], t: Millis) -> Around {
    let longest = schedule
        .layers
        .iter()
        .map(|l| match l.rotation.every {
            Period::Hours(n) => n * HOUR,
            Period::Days(n) => n * DAY,
            Period::Weeks(n) => n * 7 * DAY,
            Period::Months(n) => n * 31 * DAY,
        })
        .max()
        .unwrap_or(DAY)
        .clamp(HOUR, SHIFT_LOOK_LIMIT);
    let (mut back, mut ahead) = (longest, (2 * longest).min(SHIFT_LOOK_LIMIT));
    loop {
        let (from, to) = (t.saturating_sub(back), t.saturating_add(ahead));
        let list = shifts(schedule, extra, from, to);
        let current = list.iter().find(|s| s.start <= t && t < s.end).cloned();
        let next = list.iter().find(|s| s.start > t).cloned();
        // A shift that touches an edge of the window may go on past it.
        let wider_back =
            current.as_ref().is_some_and(|s| s.start == from) && back < SHIFT_LOOK_LIMIT;
        let wider_ahead = next.as_ref().is_none_or(|s| s.end == to) && ahead < SHIFT_LOOK_LIMIT;
        if !wider_back && !wider_ahead {
            return Around { current, next };
        }
        if wider_back {
            back = back.saturating_mul(2).min(SHIFT_LOOK_LIMIT);
        }
        if wider_ahead {
            ahead = ahead.saturating_mul(2).min(SHIFT_LOOK_LIMIT);
        }
    }
}

/// A user's number within one resolution; timelines carry numbers, not strings.
fn index<'a>(names: &mut Vec<&'a str>, user: &'a str) -> u32 {
    match names.iter().position(|n| *n == user) {
        Some(i) => i as u32,
        None => {
            names.push(user);
            (names.len() - 1) as u32
        }
    }
}

/// Who is on call at `t` (empty when nobody is).
pub fn on_call_at(schedule: &Schedule, extra: &[Override], t: Millis) -> Vec<String> {
    shifts(schedule, extra, t, t + 1)
        .into_iter()
        .map(|s| s.user)
        .collect()
}

/// The parts of `[from, to)` with nobody on call.
pub fn gaps(shifts: &[Shift], from: Millis, to: Millis) -> Vec<(Millis, Millis)> {
    let mut out = Vec::new();
    let mut at = from;
    for s in shifts {
        if s.start > at {
            out.push((at, s.start.min(to)));
        }
        at = at.max(s.end);
    }
    if at < to {
        out.push((at, to));
    }
    out
}

/// One layer's segments in `[from, to)`: its rotation's slots (none before the first
/// hand-off), cut to its restriction windows when it has any.
fn layer_segments(layer: &Layer, ids: &[u32], tz: &TimeZone, from: Millis, to: Millis) -> Vec<Seg> {
    let mut slots = Vec::new();
    if ids.is_empty() {
        return slots;
    }
    let r = &layer.rotation;
    let n = ids.len() as i64;
    let mut k = r.slot_at(tz, from).max(0);
    let mut start = r.handoff(tz, k);
    while start < to {
        let end = r.handoff(tz, k + 1);
        let (s, e) = (start.max(from), end.min(to));
        if s < e {
            slots.push(Seg {
                start: s,
                end: e,
                user: ids[k.rem_euclid(n) as usize],
            });
        }
        k += 1;
        start = end;
    }
    if layer.restrictions.is_empty() {
        return slots;
    }
    let wins = windows(&layer.restrictions, tz, from, to);
    intersect(&slots, &wins)
}

/// The parts of sorted slots inside sorted windows.
fn intersect(slots: &[Seg], windows: &[(Millis, Millis)]) -> Vec<Seg> {
    let mut out = Vec::new();
    let (mut i, mut j) = (0, 0);
    while i < slots.len() && j < windows.len() {
        let (s, e) = (
            slots[i].start.max(windows[j].0),
            slots[i].end.min(windows[j].1),
        );
        if s < e {
            out.push(Seg {
                start: s,
                end: e,
                user: slots[i].user,
            });
        }
        if slots[i].end <= windows[j].1 {
            i += 1;
        } else {
            j += 1;
        }
    }
    out
}
