//! On call: for every schedule, who is on call now and who is next (the same summary as
//! `GET /api/v1/schedules`), and one schedule's calendar: day by day in the viewer's zone,
//! a row per layer, the overrides and the final result, with the overrides listed below and
//! a form that makes one through `POST /api/v1/schedules/{id}/overrides`.
//!
//! Nothing here resolves a rotation: the final row is `schedule::shifts` with the runtime
//! overrides, as the API's `/shifts`; a layer's row is the same function on the schedule
//! with that layer alone and no overrides.

use super::accounts::Viewer;
use super::{error_page, render};
use crate::routes::schedules::{overrides, summary};
use crate::state::SharedState;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan};
use minijinja::{context, Value};
use serde::Deserialize;
use serde_json::Value as Json;
use tocsin_core::config::Config;
use tocsin_core::paging::Target;
use tocsin_core::schedule::{self, Override, Schedule, Shift};
use tocsin_core::time::{to_rfc3339, Millis};
use tocsin_store::sqlite::schedules::list_overrides;

const HOUR: Millis = 3_600_000;
/// Days the calendar shows unless asked, and at most.
const DEFAULT_DAYS: i64 = 14;
const MAX_DAYS: i64 = 35;
/// User colours in the stylesheet (`.seg.u0` ... `.seg.u7`).
const COLOURS: usize = 8;

/// `GET /ui/oncall`
pub async fn index(State(s): State<SharedState>, viewer: Viewer) -> Response {
    let now = s.clock.now();
    let config = s.config.load_full();
    let mut schedules = Vec::new();
    for sc in &config.schedules {
        let extra = match overrides(&s, &sc.id, now - schedule::SHIFT_LOOK_LIMIT).await {
            Ok(x) => x,
            Err(e) => return error_page(&viewer, now, StatusCode::SERVICE_UNAVAILABLE, &e.message),
        };
        let v = summary(sc, &extra, now);
        schedules.push(context! {
            id => sc.id,
            name => sc.name,
            time_zone => sc.time_zone,
            current => shift_of(&config, &v["current_shift"]),
            next => shift_of(&config, &v["next_shift"]),
            layers => sc.layers.iter().map(|l| l.name.as_str()).collect::<Vec<_>>(),
            policies => policies_paging(&config, &sc.id),
        });
    }
    render::page(
        "oncall.html",
        &viewer,
        "oncall",
        now,
        context! { schedules => schedules },
    )
}

/// A shift of the API's summary, with the user's name.
fn shift_of(config: &Config, v: &Json) -> Value {
    let Some(user) = v["user"].as_str() else {
        return Value::from(());
    };
    context! {
        user => user,
        name => name_of(config, user),
        start => v["start"].as_str(),
        end => v["end"].as_str(),
    }
}

fn name_of(config: &Config, user: &str) -> String {
    config
        .user(user)
        .map(|u| u.name.clone())
        .unwrap_or_else(|| user.to_string())
}

/// The escalation policies with a level that pages this schedule.
fn policies_paging(config: &Config, schedule: &str) -> Vec<Value> {
    config
        .escalation_policies
        .iter()
        .filter(|p| {
            p.levels.iter().any(|l| {
                l.targets
                    .iter()
                    .any(|t| matches!(t, Target::Schedule(id) if id == schedule))
            })
        })
        .map(|p| context! { id => p.id, name => p.name })
        .collect()
}

#[derive(Debug, Default, Deserialize)]
pub struct CalendarQuery {
    /// The first day (`2026-10-31`), in the viewer's zone; today when empty.
    #[serde(default)]
    start: String,
    #[serde(default)]
    days: String,
}

/// `GET /ui/oncall/{schedule}?start=&days=`
pub async fn calendar(
    State(s): State<SharedState>,
    viewer: Viewer,
    Path(id): Path<String>,
    q: Result<Query<CalendarQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let now = s.clock.now();
    let config = s.config.load_full();
    let Some(sc) = config.schedule(&id) else {
        let message = format!("no schedule {id:?}");
        return error_page(&viewer, now, StatusCode::NOT_FOUND, &message);
    };
    let q = q.map(|Query(q)| q).unwrap_or_default();
    let tz = TimeZone::get(&viewer.zone).unwrap_or(TimeZone::UTC);
    let (first, days) = match range(&q, &tz, now) {
        Ok(r) => r,
        Err(m) => return error_page(&viewer, now, StatusCode::BAD_REQUEST, &m),
    };
    let Some(bounds) = day_bounds(first, days, &tz) else {
        return error_page(&viewer, now, StatusCode::BAD_REQUEST, "start: out of range");
    };
    let (from, to) = (bounds[0], bounds[bounds.len() - 1]);
    // The same resolution as `GET /api/v1/schedules/{id}/shifts?from=&to=`.
    let extra = match overrides(&s, &id, from).await {
        Ok(x) => x,
        Err(e) => return error_page(&viewer, now, StatusCode::SERVICE_UNAVAILABLE, &e.message),
    };
    let listed = {
        let id = id.clone();
        match super::read(&s, &viewer, move |c| {
            list_overrides(c, &id, now, false, 1000)
        })
        .await
        {
            Ok(rows) => rows,
            Err(page) => return page,
        }
    };
    let final_shifts = schedule::shifts(sc, &extra, from, to);
    let all_overrides: Vec<Override> = sc.overrides.iter().chain(&extra).cloned().collect();

    let mut rows: Vec<(String, &str, Vec<Part>)> = Vec::new();
    for (i, layer) in sc.layers.iter().enumerate() {
        let alone = Schedule {
            layers: vec![layer.clone()],
            overrides: Vec::new(),
            ..sc.clone()
        };
        let parts = schedule::shifts(&alone, &[], from, to)
            .into_iter()
            .map(|x| Part::of(x, false))
            .collect();
        rows.push((format!("{} {}", i + 1, layer.name), "layer", parts));
    }
    let override_parts: Vec<Part> = all_overrides
        .iter()
        .filter(|o| o.start < to && o.end > from)
        .map(|o| Part {
            start: o.start.max(from),
            end: o.end.min(to),
            user: o.user.clone(),
            ovr: true,
        })
        .collect();
    if !override_parts.is_empty() {
        rows.push((String::new(), "overrides", override_parts));
    }
    rows.push((
        String::new(),
        "final",
        marked(&final_shifts, &all_overrides),
    ));

    let colour = |user: &str| {
        config
            .users
            .iter()
            .position(|u| u.id == user)
            .unwrap_or(COLOURS - 1)
            % COLOURS
    };
    let day_list: Vec<Value> = bounds
        .windows(2)
        .enumerate()
        .map(|(i, w)| {
            let (start, end) = (w[0], w[1]);
            let date = first.checked_add((i as i64).days()).unwrap_or(first);
            let at = |t: Millis| format!("{:.3}%", (t - start) as f64 * 100.0 / (end - start) as f64);
            let ticks: Vec<Value> = (0..(end - start + HOUR - 1) / HOUR)
                .map(|k| {
                    let t = start + k * HOUR;
                    let hour = zoned(t, &tz).map(|z| z.hour()).unwrap_or(0);
                    context! {
                        x => at(t),
                        label => (hour % 3 == 0).then(|| format!("{hour:02}")),
                    }
                })
                .collect();
            let day_rows: Vec<Value> = rows
                .iter()
                .map(|(label, kind, parts)| {
                    let segs: Vec<Value> = parts
                        .iter()
                        .filter(|p| p.start < end && p.end > start)
                        .map(|p| {
                            let (a, b) = (p.start.max(start), p.end.min(end));
                            context! {
                                x => at(a),
                                w => format!("{:.3}%", (b - a) as f64 * 100.0 / (end - start) as f64),
                                user => p.user,
                                name => name_of(&config, &p.user),
                                colour => colour(&p.user),
                                ovr => p.ovr,
                                start => to_rfc3339(p.start),
                                end => to_rfc3339(p.end),
                            }
                        })
                        .collect();
                    context! { label => label, kind => kind, segs => segs }
                })
                .collect();
            context! {
                date => date.to_string(),
                weekday => date.weekday().to_monday_one_offset(),
                odd => end - start != 24 * HOUR,
                hours => if (end - start) % HOUR == 0 {
                    ((end - start) / HOUR).to_string()
                } else {
                    format!("{:.1}", (end - start) as f64 / HOUR as f64)
                },
                ticks => ticks,
                now_x => (start <= now && now < end).then(|| at(now)),
                rows => day_rows,
            }
        })
        .collect();

    let config_overrides: Vec<Value> = sc
        .overrides
        .iter()
        .filter(|o| o.end > now)
        .map(|o| {
            context! {
                user => o.user,
                name => name_of(&config, &o.user),
                start => to_rfc3339(o.start),
                end => to_rfc3339(o.end),
            }
        })
        .collect();
    let api_overrides: Vec<Value> = listed
        .iter()
        .map(|o| {
            context! {
                id => o.id.to_string(),
                user => o.user,
                name => name_of(&config, &o.user),
                start => o.start,
                end => o.end,
                reason => o.reason,
                created_by => o.created_by,
                created_at => o.created_at,
            }
        })
        .collect();
    let in_schedule: Vec<&str> = {
        let mut ids: Vec<&str> = Vec::new();
        for u in sc.layers.iter().flat_map(|l| &l.users) {
            if !ids.contains(&u.as_str()) {
                ids.push(u);
            }
        }
        ids
    };
    let person = |id: &str| context! { id => id, name => name_of(&config, id) };
    let members: Vec<Value> = in_schedule.iter().map(|u| person(u)).collect();
    let others: Vec<Value> = config
        .users
        .iter()
        .filter(|u| !in_schedule.contains(&u.id.as_str()))
        .map(|u| person(&u.id))
        .collect();
    let step = |n: i64| {
        first
            .checked_add(n.days())
            .map(|d| d.to_string())
            .unwrap_or_default()
    };
    let (default_from, default_to) = default_times(now, &tz);
    let ctx = context! {
        schedule => context! {
            id => sc.id,
            name => sc.name,
            time_zone => sc.time_zone,
            layers => sc.layers.iter().map(|l| context! {
                name => l.name,
                users => l.users.iter().map(|u| name_of(&config, u)).collect::<Vec<_>>(),
            }).collect::<Vec<_>>(),
        },
        start => first.to_string(),
        days => days,
        prev => step(-days),
        next => step(days),
        day_list => day_list,
        shifts => final_shifts.iter().map(|x| context! {
            name => name_of(&config, &x.user),
            start => to_rfc3339(x.start),
            end => to_rfc3339(x.end),
        }).collect::<Vec<_>>(),
        config_overrides => config_overrides,
        api_overrides => api_overrides,
        members => members,
        others => others,
        default_from => default_from,
        default_to => default_to,
    };
    render::page("oncall_calendar.html", &viewer, "oncall", now, ctx)
}

/// A bar on a row: someone from `start` to `end`, `ovr` when an override put them there.
struct Part {
    start: Millis,
    end: Millis,
    user: String,
    ovr: bool,
}

impl Part {
    fn of(x: Shift, ovr: bool) -> Part {
        Part {
            start: x.start,
            end: x.end,
            user: x.user,
            ovr,
        }
    }
}

/// The final shifts cut where an override of the same person begins or ends, the parts
/// inside one marked, so the final row shows which stretches an override made.
fn marked(shifts: &[Shift], overrides: &[Override]) -> Vec<Part> {
    let mut out = Vec::new();
    for x in shifts {
        let mine: Vec<&Override> = overrides
            .iter()
            .filter(|o| o.user == x.user && o.start < x.end && o.end > x.start)
            .collect();
        let mut cuts: Vec<Millis> = vec![x.start, x.end];
        for o in &mine {
            cuts.extend(
                [o.start, o.end]
                    .into_iter()
                    .filter(|t| *t > x.start && *t < x.end),
            );
        }
        cuts.sort_unstable();
        cuts.dedup();
        for w in cuts.windows(2) {
            let ovr = mine.iter().any(|o| o.start <= w[0] && w[1] <= o.end);
            match out.last_mut() {
                Some(Part {
                    end, user, ovr: o, ..
                }) if *end == w[0] && *user == x.user && *o == ovr => *end = w[1],
                _ => out.push(Part {
                    start: w[0],
                    end: w[1],
                    user: x.user.clone(),
                    ovr,
                }),
            }
        }
    }
    out
}

/// The first day and how many days: `start` or today in the viewer's zone, `days` 1 to 35.
fn range(q: &CalendarQuery, tz: &TimeZone, now: Millis) -> Result<(Date, i64), String> {
    let first = match q.start.trim() {
        "" => zoned(now, tz)
            .map(|z| z.date())
            .ok_or_else(|| "now: out of range".to_string())?,
        text => text
            .parse::<Date>()
            .map_err(|_| format!("start: {text:?} is not a date like 2026-10-31"))?,
    };
    let days = match q.days.trim() {
        "" => DEFAULT_DAYS,
        text => text
            .parse::<i64>()
            .ok()
            .filter(|d| (1..=MAX_DAYS).contains(d))
            .ok_or_else(|| format!("days: {text:?} is not a whole number from 1 to {MAX_DAYS}"))?,
    };
    Ok((first, days))
}

/// The instants at which each day from `first` begins in `tz`, and the end of the last:
/// `days + 1` of them. A day is 23 or 25 hours long when the clocks change in it.
fn day_bounds(first: Date, days: i64, tz: &TimeZone) -> Option<Vec<Millis>> {
    (0..=days)
        .map(|i| {
            let d = first.checked_add(i.days()).ok()?;
            let z = d.to_zoned(tz.clone()).ok()?;
            Some(z.timestamp().as_millisecond())
        })
        .collect()
}

fn zoned(t: Millis, tz: &TimeZone) -> Option<jiff::Zoned> {
    Timestamp::from_millisecond(t)
        .ok()
        .map(|ts| ts.to_zoned(tz.clone()))
}

/// The override form's first guess: from the next full hour for twelve hours, as
/// `datetime-local` values in the viewer's zone.
fn default_times(now: Millis, tz: &TimeZone) -> (String, String) {
    let start = (now / HOUR + 1) * HOUR;
    let local = |t: Millis| {
        zoned(t, tz)
            .map(|z| z.strftime("%Y-%m-%dT%H:%M").to_string())
            .unwrap_or_default()
    };
    (local(start), local(start + 12 * HOUR))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_are_23_or_25_hours_when_the_clocks_change() {
        let tz = TimeZone::get("America/New_York").unwrap();
        let first: Date = "2026-10-31".parse().unwrap();
        let b = day_bounds(first, 3, &tz).unwrap();
        let hours: Vec<i64> = b.windows(2).map(|w| (w[1] - w[0]) / HOUR).collect();
        assert_eq!(hours, vec![24, 25, 24]);
        let spring: Date = "2026-03-08".parse().unwrap();
        let b = day_bounds(spring, 1, &tz).unwrap();
        assert_eq!((b[1] - b[0]) / HOUR, 23);
    }

    #[test]
    fn overridden_parts_of_a_final_shift_are_marked() {
        let shift = |start, end, user: &str| Shift {
            start,
            end,
            user: user.into(),
        };
        let o = Override {
            user: "bob".into(),
            start: 10,
            end: 20,
        };
        let parts = marked(&[shift(0, 30, "bob"), shift(30, 40, "amy")], &[o]);
        let got: Vec<(Millis, Millis, bool)> =
            parts.iter().map(|p| (p.start, p.end, p.ovr)).collect();
        assert_eq!(
            got,
            vec![
                (0, 10, false),
                (10, 20, true),
                (20, 30, false),
                (30, 40, false)
            ]
        );
    }

    #[test]
    fn the_range_is_checked() {
        let q = |start: &str, days: &str| CalendarQuery {
            start: start.into(),
            days: days.into(),
        };
        let tz = TimeZone::UTC;
        assert_eq!(
            range(&q("2026-10-31", "3"), &tz, 0).unwrap(),
            ("2026-10-31".parse().unwrap(), 3)
        );
        assert_eq!(range(&q("", ""), &tz, 0).unwrap().1, 14);
        assert!(range(&q("", "36"), &tz, 0).is_err());
        assert!(range(&q("tomorrow", ""), &tz, 0).is_err());
    }
}
