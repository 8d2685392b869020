//! The final shift list for one year of 1,000 schedules, on one core.
//!
//! Each schedule has eight people in two or three layers (a weekly rotation, a daily one
//! shown on weeknights, and in every other schedule a weekly one shown at weekends) and 50
//! overrides, in one of four zones (three with DST). Run with
//! `cargo bench -p tocsin-core --bench schedules`; prints the total per repeat and the
//! median time of one schedule.

use jiff::civil::{date, time, DateTime};
use jiff::tz::TimeZone;
use std::hint::black_box;
use std::time::{Duration, Instant};
use tocsin_core::schedule::{shifts, Layer, Override, Period, Restriction, Rotation, Schedule};

const SCHEDULES: usize = 1_000;
const REPEATS: usize = 5;
const ZONES: [&str; 4] = [
    "America/New_York",
    "Europe/London",
    "Australia/Lord_Howe",
    "Asia/Shanghai",
];
const HOUR: i64 = 3_600_000;

fn main() {
    let schedules: Vec<Schedule> = (0..SCHEDULES).map(schedule).collect();
    let tz = TimeZone::UTC;
    let at = |dt: DateTime| tz.to_zoned(dt).unwrap().timestamp().as_millisecond();
    let (from, to) = (
        at(date(2026, 1, 1).at(0, 0, 0, 0)),
        at(date(2027, 1, 1).at(0, 0, 0, 0)),
    );

    let mut totals = Vec::new();
    let mut each = Vec::new();
    let mut count = 0;
    for _ in 0..REPEATS {
        let started = Instant::now();
        count = 0;
        for s in &schedules {
            let one = Instant::now();
            count += black_box(shifts(black_box(s), &[], from, to)).len();
            each.push(one.elapsed());
        }
        totals.push(started.elapsed());
    }
    totals.sort();
    each.sort();
    println!(
        "{SCHEDULES} schedules x 1 year ({count} shifts): total {:.1} ms median of {REPEATS} \
         (min {:.1}, max {:.1}); one schedule: median {:.0} us, p99 {:.0} us",
        ms(totals[REPEATS / 2]),
        ms(totals[0]),
        ms(totals[REPEATS - 1]),
        ms(each[each.len() / 2]) * 1000.0,
        ms(each[each.len() * 99 / 100]) * 1000.0,
    );
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn schedule(i: usize) -> Schedule {
    let mut seed = i as u64 * 7919 + 1;
    let mut rand = move |n: i64| {
        // An LCG is plenty to scatter overrides.
        seed = seed
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        ((seed >> 33) % n as u64) as i64
    };
    let people: Vec<String> = (0..8).map(|p| format!("user{i}-{p}")).collect();
    let zone = ZONES[i % ZONES.len()];
    let tz = TimeZone::get(zone).unwrap();
    let weeknights = Restriction {
        days: [true, true, true, true, true, false, false],
        from: time(20, 0, 0, 0),
        to: time(8, 0, 0, 0),
    };
    let weekends = Restriction {
        days: [false, false, false, false, false, true, true],
        from: time(9, 0, 0, 0),
        to: time(21, 0, 0, 0),
    };
    let layer = |name: &str, every, start: DateTime, users: &[String], r: Vec<Restriction>| Layer {
        name: name.into(),
        rotation: Rotation::new(every, start, &tz),
        users: users.to_vec(),
        restrictions: r,
    };
    let mut layers = vec![
        layer(
            "weekly",
            Period::Weeks(1),
            date(2025, 12, 29).at(9, 0, 0, 0),
            &people,
            vec![],
        ),
        layer(
            "weeknights",
            Period::Days(1),
            date(2025, 12, 29).at(20, 0, 0, 0),
            &people[..4],
            vec![weeknights],
        ),
    ];
    if i % 2 == 1 {
        layers.push(layer(
            "weekends",
            Period::Weeks(1),
            date(2026, 1, 3).at(9, 0, 0, 0),
            &people[4..],
            vec![weekends],
        ));
    }
    let year_start = tz
        .to_zoned(date(2026, 1, 1).at(0, 0, 0, 0))
        .unwrap()
        .timestamp()
        .as_millisecond();
    let overrides = (0..50)
        .map(|_| {
            let start = year_start + rand(365 * 24) * HOUR;
            Override {
                user: people[rand(8) as usize].clone(),
                start,
                end: start + (1 + rand(72)) * HOUR,
            }
        })
        .collect();
    Schedule {
        id: format!("s{i}"),
        name: format!("schedule {i}"),
        time_zone: zone.into(),
        tz,
        layers,
        overrides,
        remind_before: None,
    }
}
