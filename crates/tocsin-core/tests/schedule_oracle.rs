//! On-call schedule resolution against an independent oracle (`tests/oracle/schedules.py`,
//! Python's zoneinfo and dateutil, written from the specification).
//!
//! Random schedules are written as config YAML and loaded, so parsing takes part too; they
//! aim at what is easy to get wrong: hand-offs and restriction edges inside DST gaps and
//! folds, a 30-minute DST (Lord Howe), transitions at midnight (Santiago), month ends,
//! windows wrapping midnight, overrides touching hand-offs. All cases go to the oracle in one
//! batch; it answers the shift list, the gaps, who is on call at sample instants, fairness,
//! and the iCalendar feed as parsed by the `icalendar` package. On a disagreement the case is
//! shrunk (layers, restrictions, overrides and range removed while it still disagrees) and
//! printed. `ORACLE_SEED=n` explores other cases; `ORACLE_CASES=n` sets the count per zone.

use jiff::civil::{Date, DateTime, Time};
use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan};
use serde_json::{json, Value};
use std::io::Write;
use std::process::{Command, Stdio};
use tocsin_core::config::{load_str, Config};
use tocsin_core::schedule::{self, CalendarEvent, Override, Shift};

/// Zones and the local dates of their DST changes in 2026 and 2027.
const ZONES: [(&str, [&str; 4]); 5] = [
    (
        "America/New_York",
        ["2026-03-08", "2026-11-01", "2027-03-14", "2027-11-07"],
    ),
    (
        "Europe/London",
        ["2026-03-29", "2026-10-25", "2027-03-28", "2027-10-31"],
    ),
    // 30 minutes: 02:00 -> 01:30 in April, 02:00 -> 02:30 in October.
    (
        "Australia/Lord_Howe",
        ["2026-04-05", "2026-10-04", "2027-04-04", "2027-10-03"],
    ),
    // No DST: the control.
    (
        "Asia/Shanghai",
        ["2026-03-08", "2026-10-25", "2027-02-28", "2027-12-31"],
    ),
    // At midnight: 00:00 -> 23:00 the day before in April, 00:00 -> 01:00 in September.
    (
        "America/Santiago",
        ["2026-04-05", "2026-09-06", "2027-04-04", "2027-09-05"],
    ),
];

const MONTH_ENDS: [&str; 6] = [
    "2026-01-31",
    "2026-03-31",
    "2026-05-31",
    "2026-08-31",
    "2026-12-31",
    "2027-01-30",
];

/// Ids and names; the names exercise iCalendar escaping and folding inside UTF-8.
const USERS: [(&str, &str); 6] = [
    ("alice", "Alice Wang"),
    ("bob", "Bob; \"night\" owl"),
    ("carol", "Carol, Zhang"),
    ("dan", "Dan \\ Li"),
    ("erin", "Erin"),
    ("李雷", "李雷 数据库值班 主备切换负责人"),
];

const MINUTE: i64 = 60_000;

#[derive(Debug, Clone)]
struct Case {
    zone: &'static str,
    layers: Vec<LayerSpec>,
    /// Config overrides as written: (user, from, to).
    overrides: Vec<(String, String, String)>,
    extra: Vec<Override>,
    from: i64,
    to: i64,
    user_zones: Vec<(&'static str, &'static str)>,
    /// Seeds the random sample instants, so a shrunk case keeps its own.
    seed: u64,
    ical: bool,
}

#[derive(Debug, Clone)]
struct LayerSpec {
    every: String,
    start: String,
    users: Vec<&'static str>,
    /// (days, or all when absent; from; to)
    restrictions: Vec<(Option<Vec<&'static str>>, String, String)>,
}

/// splitmix64: small, seedable, and good enough to pick test cases.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    /// Inclusive.
    fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + (self.next() % (hi - lo + 1) as u64) as i64
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
    fn pick<T: Copy>(&mut self, xs: &[T]) -> T {
        xs[self.next() as usize % xs.len()]
    }
    /// Mostly the small hours, where DST changes are, on quarter hours.
    fn wall_time(&mut self) -> Time {
        let hour = if self.chance(50) {
            self.range(0, 3)
        } else {
            self.range(0, 23)
        };
        Time::new(hour as i8, self.pick(&[0, 15, 30, 45]), 0, 0).unwrap()
    }
}

fn date(text: &str) -> Date {
    text.parse().unwrap()
}

fn instant(tz: &TimeZone, dt: DateTime) -> i64 {
    tz.to_ambiguous_zoned(dt)
        .compatible()
        .unwrap()
        .timestamp()
        .as_millisecond()
}

fn wall(dt: DateTime) -> String {
    dt.strftime("%Y-%m-%dT%H:%M").to_string()
}

/// `2026-03-08T03:30-04:00`, for reading failures.
fn local(ms: i64, zone: &str) -> String {
    Timestamp::from_millisecond(ms)
        .unwrap()
        .to_zoned(TimeZone::get(zone).unwrap())
        .strftime("%Y-%m-%dT%H:%M:%S%.f%:z")
        .to_string()
}

fn generate(rng: &mut Rng, zone: &'static str, changes: &[&str]) -> Case {
    let tz = TimeZone::get(zone).unwrap();
    let focus = match rng.range(0, 9) {
        0..=5 => date(rng.pick(changes)),
        6 | 7 => date(rng.pick(&MONTH_ENDS)),
        _ => date("2026-01-01")
            .checked_add(rng.range(0, 729).days())
            .unwrap(),
    };
    let mut shortest_hours = i64::MAX;
    let layers = (0..rng.range(1, 3))
        .map(|_| {
            let (n, unit) = match rng.range(0, 3) {
                0 => (rng.range(1, 48), "h"),
                1 => (rng.range(1, 3), "d"),
                2 => (rng.range(1, 2), "w"),
                _ => (rng.range(1, 3), "mo"),
            };
            if unit == "h" {
                shortest_hours = shortest_hours.min(n);
            }
            // Now and then a start years back, where the slot at the range is far out.
            let back = if rng.chance(20) {
                rng.range(-800, -46)
            } else {
                rng.range(-45, 3)
            };
            let mut day = focus.checked_add(back.days()).unwrap();
            if unit == "mo" && rng.chance(50) {
                day = day
                    .last_of_month()
                    .checked_sub(rng.range(0, 2).days())
                    .unwrap();
            }
            let users = (0..rng.range(1, 4)).map(|_| rng.pick(&USERS).0).collect();
            let restrictions = if rng.chance(50) {
                Vec::new()
            } else {
                (0..rng.range(1, 3))
                    .map(|_| {
                        let days = (!rng.chance(20)).then(|| {
                            ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
                                .into_iter()
                                .filter(|_| rng.chance(60))
                                .collect()
                        });
                        let from = rng.wall_time();
                        let to = if rng.chance(15) {
                            from
                        } else {
                            rng.wall_time()
                        };
                        let hm = |t: Time| t.strftime("%H:%M").to_string();
                        (days, hm(from), hm(to))
                    })
                    .collect()
            };
            LayerSpec {
                every: format!("{n}{unit}"),
                start: wall(day.to_datetime(rng.wall_time())),
                users,
                restrictions,
            }
        })
        .collect();
    let base = instant(&tz, focus.to_datetime(Time::midnight()));
    let from = base + rng.range(-12 * 96, 2 * 96) * 15 * MINUTE;
    let longest = if shortest_hours < 4 { 12 } else { 50 };
    let to = from + rng.range(4, longest * 96) * 15 * MINUTE;
    let overrides = (0..rng.range(0, 3))
        .map(|_| {
            let user = rng.pick(&USERS).0.to_string();
            if rng.chance(50) {
                // Wall clock in the schedule's zone, perhaps in a gap or fold; two hours or
                // more apart on the wall clock is at least one hour apart in time.
                let day = focus.checked_add(rng.range(-6, 6).days()).unwrap();
                let start = day.to_datetime(rng.wall_time());
                let end = start
                    .checked_add((rng.range(8, 288) * 15).minutes())
                    .unwrap();
                (user, wall(start), wall(end))
            } else {
                let offset = jiff::tz::offset(rng.pick(&[8, -5, 0, 11]));
                let text = |ms: i64| {
                    Timestamp::from_millisecond(ms)
                        .unwrap()
                        .to_zoned(TimeZone::fixed(offset))
                        .strftime("%Y-%m-%dT%H:%M:%S%:z")
                        .to_string()
                };
                let start = from + rng.range(-96, 96 * 6) * 15 * MINUTE;
                let end = start + rng.range(1, 288) * 15 * MINUTE;
                (user, text(start), text(end))
            }
        })
        .collect();
    let extra = (0..rng.range(0, 3))
        .map(|_| {
            let start = from + rng.range(-96, (to - from) / (15 * MINUTE)) * 15 * MINUTE;
            Override {
                user: rng.pick(&USERS).0.to_string(),
                start,
                end: start + rng.range(1, 192) * 15 * MINUTE,
            }
        })
        .collect();
    let user_zones = USERS
        .iter()
        .map(|u| (u.0, rng.pick(&ZONES.map(|z| z.0))))
        .collect();
    Case {
        zone,
        layers,
        overrides,
        extra,
        from,
        to,
        user_zones,
        seed: rng.next(),
        ical: rng.chance(30),
    }
}

impl Case {
    /// The config as a user would write it; strings as JSON, which YAML reads as written.
    fn yaml(&self) -> String {
        let q = |s: &str| serde_json::to_string(s).unwrap();
        let mut y = String::from("users:\n");
        for (id, zone) in &self.user_zones {
            let name = USERS.iter().find(|u| u.0 == *id).unwrap().1;
            y += &format!(
                "  - {{id: {}, name: {}, time_zone: {zone}}}\n",
                q(id),
                q(name)
            );
        }
        y += &format!(
            "schedules:\n  - id: s\n    time_zone: {}\n    layers:\n",
            self.zone
        );
        for l in &self.layers {
            let users: Vec<String> = l.users.iter().map(|u| q(u)).collect();
            y += &format!(
                "      - rotation: {{every: {}, start: \"{}\"}}\n        users: [{}]\n",
                l.every,
                l.start,
                users.join(", ")
            );
            if !l.restrictions.is_empty() {
                y += "        restrictions:\n";
            }
            for (days, from, to) in &l.restrictions {
                let days = days
                    .as_ref()
                    .map(|d| format!("days: [{}], ", d.join(", ")))
                    .unwrap_or_default();
                y += &format!("          - {{{days}from: \"{from}\", to: \"{to}\"}}\n");
            }
        }
        if !self.overrides.is_empty() {
            y += "    overrides:\n";
        }
        for (user, from, to) in &self.overrides {
            y += &format!(
                "      - {{user: {}, from: \"{from}\", to: \"{to}\"}}\n",
                q(user)
            );
        }
        y
    }

    fn config(&self) -> Config {
        load_str(&self.yaml())
            .unwrap_or_else(|e| panic!("the generated config must load: {e:?}\n{}", self.yaml()))
    }

    /// What the oracle needs, with the instants asked about and the feed to parse.
    fn request(&self, rust: &Resolved) -> Value {
        let layers: Vec<Value> = self
            .layers
            .iter()
            .map(|l| {
                let restrictions: Vec<Value> = l
                    .restrictions
                    .iter()
                    .map(|(days, from, to)| match days {
                        Some(d) => json!({"days": d, "from": from, "to": to}),
                        None => json!({"from": from, "to": to}),
                    })
                    .collect();
                json!({"every": l.every, "start": l.start, "users": l.users,
                       "restrictions": restrictions})
            })
            .collect();
        let overrides: Vec<Value> = self
            .overrides
            .iter()
            .map(|(u, f, t)| json!({"user": u, "from": f, "to": t}))
            .collect();
        let extra: Vec<Value> = self
            .extra
            .iter()
            .map(|o| json!({"user": o.user, "start": o.start, "end": o.end}))
            .collect();
        let zones: serde_json::Map<String, Value> = self
            .user_zones
            .iter()
            .map(|(u, z)| (u.to_string(), json!(z)))
            .collect();
        json!({"zone": self.zone, "layers": layers, "overrides": overrides, "extra": extra,
               "from": self.from, "to": self.to, "samples": rust.samples,
               "user_zones": zones, "ical": rust.ical})
    }

    /// Smaller cases to try while one still disagrees.
    fn shrinks(&self) -> Vec<Case> {
        let mut out = Vec::new();
        let mut with = |f: &dyn Fn(&mut Case)| {
            let mut c = self.clone();
            f(&mut c);
            out.push(c);
        };
        for i in 0..self.layers.len() {
            if self.layers.len() > 1 {
                with(&|c| {
                    c.layers.remove(i);
                });
            }
            for j in 0..self.layers[i].restrictions.len() {
                with(&|c| {
                    c.layers[i].restrictions.remove(j);
                });
            }
            for j in 0..self.layers[i].users.len() {
                if self.layers[i].users.len() > 1 {
                    with(&|c| {
                        c.layers[i].users.remove(j);
                    });
                }
            }
        }
        for i in 0..self.overrides.len() {
            with(&|c| {
                c.overrides.remove(i);
            });
        }
        for i in 0..self.extra.len() {
            with(&|c| {
                c.extra.remove(i);
            });
        }
        if self.ical {
            with(&|c| c.ical = false);
        }
        let mid = self.from + (self.to - self.from) / 2 / MINUTE * MINUTE;
        if mid > self.from {
            with(&|c| c.to = mid);
            with(&|c| c.from = mid);
        }
        out
    }
}

/// The Rust side of one case.
struct Resolved {
    config: Config,
    shifts: Vec<Shift>,
    samples: Vec<i64>,
    who: Vec<Vec<String>>,
    ical: Option<String>,
}

const SUMMARY_TAIL: &str = "数据库 primary; DBA, night";

fn resolve(case: &Case) -> Resolved {
    let config = case.config();
    let s = &config.schedules[0];
    let shifts = schedule::shifts(s, &case.extra, case.from, case.to);
    // Every boundary and the instant before it, and some anywhere.
    let mut rng = Rng(case.seed);
    let mut samples: Vec<i64> = (0..8).map(|_| rng.range(case.from, case.to - 1)).collect();
    for x in shifts.iter().take(30) {
        samples.extend([x.start, x.start - 1, x.end - 1, x.end]);
    }
    samples.retain(|&t| case.from <= t && t < case.to);
    let who = samples
        .iter()
        .map(|&t| schedule::on_call_at(s, &case.extra, t))
        .collect();
    let ical = case.ical.then(|| {
        let summaries: Vec<String> = shifts
            .iter()
            .map(|x| format!("On call: {} — {SUMMARY_TAIL}", name(&x.user)))
            .collect();
        let events: Vec<CalendarEvent> = shifts
            .iter()
            .zip(&summaries)
            .enumerate()
            .map(|(i, (x, summary))| CalendarEvent {
                uid: format!("s-{i}@tocsin"),
                start: x.start,
                end: x.end,
                summary,
                description: "Schedule s\nline two, with; punctuation",
            })
            .collect();
        schedule::calendar("On-call, s; 值班", &events, case.from)
    });
    Resolved {
        config,
        shifts,
        samples,
        who,
        ical,
    }
}

fn name(id: &str) -> &'static str {
    USERS.iter().find(|u| u.0 == id).unwrap().1
}

/// The first difference between the Rust and the oracle, in words.
fn compare(case: &Case, rust: &Resolved, oracle: &Value) -> Result<(), String> {
    let z = case.zone;
    let shift = |x: &Shift| format!("{} .. {} {}", local(x.start, z), local(x.end, z), x.user);
    let theirs: Vec<Shift> = oracle["shifts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| Shift {
            start: v[0].as_i64().unwrap(),
            end: v[1].as_i64().unwrap(),
            user: v[2].as_str().unwrap().to_string(),
        })
        .collect();
    for i in 0..rust.shifts.len().max(theirs.len()) {
        let (a, b) = (rust.shifts.get(i), theirs.get(i));
        if a != b {
            return Err(format!(
                "shift {i}:\n  rust:   {}\n  oracle: {}",
                a.map(shift).unwrap_or("(none)".into()),
                b.map(shift).unwrap_or("(none)".into())
            ));
        }
    }
    let gaps: Vec<Value> = schedule::gaps(&rust.shifts, case.from, case.to)
        .into_iter()
        .map(|(a, b)| json!([a, b]))
        .collect();
    if Value::from(gaps.clone()) != oracle["gaps"] {
        return Err(format!("gaps: rust {gaps:?}, oracle {}", oracle["gaps"]));
    }
    for (i, &t) in rust.samples.iter().enumerate() {
        let want: Vec<String> = oracle["who"][i]
            .as_str()
            .map(|u| vec![u.to_string()])
            .unwrap_or_default();
        if rust.who[i] != want {
            return Err(format!(
                "on call at {}: rust {:?}, oracle {want:?}",
                local(t, z),
                rust.who[i]
            ));
        }
    }
    let load = schedule::fairness(&rust.shifts, |u| &rust.config.user(u).unwrap().tz);
    let theirs = oracle["fairness"].as_object().unwrap();
    if load.len() != theirs.len() {
        return Err(format!("fairness: rust {load:?}, oracle {theirs:?}"));
    }
    for (user, l) in &load {
        let o = &theirs[user];
        let close = |a: f64, b: &Value| (a - b.as_f64().unwrap()).abs() < 1e-6;
        if !close(l.hours, &o[0]) || !close(l.night_hours, &o[1]) || o[2] != l.shifts {
            return Err(format!("fairness of {user}: rust {l:?}, oracle {o}"));
        }
    }
    if rust.ical.is_some() {
        let parsed = &oracle["ical"];
        if parsed["name"] != "On-call, s; 值班" {
            return Err(format!("calendar name parsed as {}", parsed["name"]));
        }
        let events = parsed["events"].as_array().unwrap();
        if events.len() != rust.shifts.len() {
            return Err(format!(
                "{} events for {} shifts",
                events.len(),
                rust.shifts.len()
            ));
        }
        for (i, (e, x)) in events.iter().zip(&rust.shifts).enumerate() {
            let want = json!([
                format!("s-{i}@tocsin"),
                x.start,
                x.end,
                format!("On call: {} — {SUMMARY_TAIL}", name(&x.user)),
                "Schedule s\nline two, with; punctuation"
            ]);
            if *e != want {
                return Err(format!("event {i}: parsed {e}, want {want}"));
            }
        }
    }
    Ok(())
}

/// One run of the oracle over many cases.
fn oracle(requests: Vec<Value>) -> Vec<Value> {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/oracle/schedules.py");
    let mut child = Command::new("python3")
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3 runs the oracle (scripts/test.sh installs what it needs)");
    let input = serde_json::to_vec(&json!({ "cases": requests })).unwrap();
    let mut stdin = child.stdin.take().unwrap();
    // Written from another thread: the oracle may fill its output pipe before reading all.
    let writer = std::thread::spawn(move || stdin.write_all(&input));
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap().unwrap();
    assert!(
        out.status.success(),
        "the oracle failed (python-dateutil and icalendar installed?):\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let answer: Value = serde_json::from_slice(&out.stdout).unwrap();
    answer["results"].as_array().unwrap().clone()
}

/// Cases that disagree, each with its difference, and how many shifts and samples were
/// compared.
fn check(cases: &[Case]) -> (Vec<(usize, String)>, usize, usize) {
    let resolved: Vec<Resolved> = cases.iter().map(resolve).collect();
    let requests = cases
        .iter()
        .zip(&resolved)
        .map(|(c, r)| c.request(r))
        .collect();
    let answers = oracle(requests);
    assert_eq!(answers.len(), cases.len());
    let failures = cases
        .iter()
        .zip(&resolved)
        .zip(&answers)
        .enumerate()
        .filter_map(|(i, ((c, r), a))| compare(c, r, a).err().map(|e| (i, e)))
        .collect();
    let shifts = resolved.iter().map(|r| r.shifts.len()).sum();
    let samples = resolved.iter().map(|r| r.samples.len()).sum();
    (failures, shifts, samples)
}

/// A smaller case with a difference; each round tries every shrink in one oracle run.
fn shrink(mut case: Case, mut why: String) -> (Case, String) {
    for _ in 0..60 {
        let candidates = case.shrinks();
        match check(&candidates).0.into_iter().next() {
            Some((i, e)) => (case, why) = (candidates[i].clone(), e),
            None => break,
        }
    }
    (case, why)
}

#[test]
fn resolution_agrees_with_the_oracle() {
    let env = |name: &str, default: u64| {
        std::env::var(name)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    };
    let seed = env("ORACLE_SEED", 2026);
    let per_zone = env("ORACLE_CASES", 300);
    let mut rng = Rng(seed);
    let mut cases = Vec::new();
    for (zone, changes) in ZONES {
        for _ in 0..per_zone {
            cases.push(generate(&mut rng, zone, &changes));
        }
    }
    let (failures, shifts, samples) = check(&cases);
    eprintln!(
        "seed {seed}: {} schedules, {shifts} shifts, {samples} instants, {} disagreements",
        cases.len(),
        failures.len()
    );
    if let Some((i, why)) = failures.first() {
        let (case, why) = shrink(cases[*i].clone(), why.clone());
        let extra: Vec<String> = case
            .extra
            .iter()
            .map(|o| {
                let z = case.zone;
                format!("{} {} .. {}", o.user, local(o.start, z), local(o.end, z))
            })
            .collect();
        panic!(
            "{} of {} schedules disagree with the oracle (seed {seed}); case {i}, shrunk:\n\
             {}range: {} .. {}\nextra overrides: {extra:?}\n{why}",
            failures.len(),
            cases.len(),
            case.yaml(),
            local(case.from, case.zone),
            local(case.to, case.zone),
        );
    }
}
