//! Users and on-call schedules as written in YAML, and their checks: known zones and users,
//! well-formed rotations, restriction windows and overrides, every error with its path.

use super::load::ConfigError;
use super::validate::check_id;
use super::{ConsoleLogin, Contact, Language, User};
use crate::auth::Role;
use crate::schedule::{Layer, Override, Period, Restriction, Rotation, Schedule};
use crate::time::Millis;
use jiff::civil;
use jiff::tz::TimeZone;
use serde::Deserialize;
use std::collections::HashSet;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawUser {
    pub id: String,
    pub name: Option<String>,
    pub time_zone: Option<String>,
    pub language: Option<String>,
    #[serde(default)]
    pub contacts: Vec<RawContact>,
    #[serde(default)]
    pub notification_rules: Vec<super::paging::RawRule>,
    pub quiet_hours: Option<super::paging::RawQuiet>,
    pub console: Option<RawConsoleLogin>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawConsoleLogin {
    pub role: Option<String>,
    pub password_hash: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawContact {
    #[serde(rename = "type")]
    pub kind: String,
    pub to: String,
    /// Which channel reaches it, when several of its type are configured.
    pub channel: Option<String>,
    /// `[acknowledged, resolved]`, `[]` ...: instead of its channel's.
    pub follow_ups: Option<Vec<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSchedule {
    pub id: String,
    pub name: Option<String>,
    pub time_zone: String,
    #[serde(default)]
    pub layers: Vec<RawLayer>,
    #[serde(default)]
    pub overrides: Vec<RawOverride>,
    /// How long before a shift its person is reminded (`15m`).
    pub remind_before: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawLayer {
    pub name: Option<String>,
    pub rotation: RawRotation,
    pub users: Vec<String>,
    #[serde(default)]
    pub restrictions: Vec<RawRestriction>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRotation {
    pub every: String,
    pub start: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRestriction {
    pub days: Option<Vec<String>>,
    pub from: String,
    pub to: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawOverride {
    pub user: String,
    pub from: String,
    pub to: String,
}

/// Where a contact can be reached; the channels that send to them come with notifications.
pub const CONTACT_TYPES: [&str; 10] = [
    "email", "sms", "voice", "slack", "teams", "dingtalk", "wecom", "feishu", "telegram", "webhook",
];

pub(super) fn users(errors: &mut Vec<ConfigError>, raw: Vec<(usize, RawUser)>) -> Vec<User> {
    let mut out: Vec<User> = Vec::new();
    let mut seen = HashSet::new();
    for (i, u) in raw {
        let path = format!("users[{i}]");
        check_id(errors, &format!("{path}.id"), &u.id);
        if !seen.insert(u.id.clone()) {
            errors.push(ConfigError::new(
                format!("{path}.id"),
                format!("duplicate user {:?}", u.id),
            ));
        }
        let time_zone = u.time_zone.unwrap_or_else(|| "UTC".into());
        let tz = zone(errors, &format!("{path}.time_zone"), &time_zone);
        let language = match u.language.as_deref() {
            None => Language::En,
            Some(text) => Language::parse(text).unwrap_or_else(|| {
                errors.push(ConfigError::new(
                    format!("{path}.language"),
                    format!("{text:?} is not a language tocsin speaks; use en or zh"),
                ));
                Language::En
            }),
        };
        let mut contacts = Vec::new();
        for (j, c) in u.contacts.into_iter().enumerate() {
            if !CONTACT_TYPES.contains(&c.kind.as_str()) {
                errors.push(ConfigError::new(
                    format!("{path}.contacts[{j}].type"),
                    format!(
                        "unknown contact type {:?}; use one of {}",
                        c.kind,
                        CONTACT_TYPES.join(", ")
                    ),
                ));
            }
            if c.to.trim().is_empty() {
                errors.push(ConfigError::new(
                    format!("{path}.contacts[{j}].to"),
                    "must not be empty",
                ));
            }
            let follow_ups = c.follow_ups.as_deref().map(|kinds| {
                super::paging::follow_ups(errors, &format!("{path}.contacts[{j}]"), kinds)
            });
            contacts.push(Contact {
                kind: c.kind,
                to: c.to,
                channel: c.channel,
                follow_ups,
            });
        }
        let notification_rules =
            super::paging::rules(errors, &path, &contacts, u.notification_rules);
        let quiet_hours = super::paging::quiet_hours(errors, &path, u.quiet_hours);
        let console = u.console.map(|c| console_login(errors, &path, c));
        out.push(User {
            name: u.name.unwrap_or_else(|| u.id.clone()),
            id: u.id,
            time_zone,
            tz,
            language,
            contacts,
            notification_rules,
            quiet_hours,
            console,
        });
    }
    out
}

/// A console sign-in: a known role (responder when unsaid) and an argon2 PHC hash, so a
/// password pasted in the clear is refused instead of silently never matching.
fn console_login(errors: &mut Vec<ConfigError>, path: &str, c: RawConsoleLogin) -> ConsoleLogin {
    let role = match c.role.as_deref() {
        None => Role::Responder,
        Some(text) => Role::parse(text).unwrap_or_else(|| {
            errors.push(ConfigError::new(
                format!("{path}.console.role"),
                format!("{text:?} is not a role; use admin, responder or viewer"),
            ));
            Role::Viewer
        }),
    };
    if !c.password_hash.starts_with("$argon2") || c.password_hash.split('$').count() < 5 {
        errors.push(ConfigError::new(
            format!("{path}.console.password_hash"),
            "must be an argon2 hash such as `tocsin user hash-password` prints ($argon2id$...), not a password",
        ));
    }
    ConsoleLogin {
        role,
        password_hash: c.password_hash,
    }
}

pub(super) fn schedules(
    errors: &mut Vec<ConfigError>,
    raw: Vec<(usize, RawSchedule)>,
    users: &[User],
) -> Vec<Schedule> {
    let known = |id: &str| users.iter().any(|u| u.id == id);
    let mut out: Vec<Schedule> = Vec::new();
    let mut seen = HashSet::new();
    for (i, s) in raw {
        let path = format!("schedules[{i}]");
        check_id(errors, &format!("{path}.id"), &s.id);
        if !seen.insert(s.id.clone()) {
            errors.push(ConfigError::new(
                format!("{path}.id"),
                format!("duplicate schedule {:?}", s.id),
            ));
        }
        let tz = zone(errors, &format!("{path}.time_zone"), &s.time_zone);
        if s.layers.is_empty() {
            errors.push(ConfigError::new(
                format!("{path}.layers"),
                "a schedule needs at least one layer",
            ));
        }
        let mut layers = Vec::new();
        for (j, l) in s.layers.into_iter().enumerate() {
            let lp = format!("{path}.layers[{j}]");
            let every = Period::parse(&l.rotation.every).unwrap_or_else(|e| {
                errors.push(ConfigError::new(format!("{lp}.rotation.every"), e));
                Period::Days(1)
            });
            let rotation = civil_or_instant(&l.rotation.start, &tz)
                .map(|t| match t {
                    When::Civil(dt) => Rotation::new(every, dt, &tz),
                    When::Instant(ms) => Rotation::from_instant(every, ms, &tz),
                })
                .unwrap_or_else(|e| {
                    errors.push(ConfigError::new(format!("{lp}.rotation.start"), e));
                    Rotation::new(every, civil::DateTime::default(), &tz)
                });
            if l.users.is_empty() {
                errors.push(ConfigError::new(
                    format!("{lp}.users"),
                    "a layer needs at least one user",
                ));
            }
            for (k, u) in l.users.iter().enumerate() {
                if !known(u) {
                    errors.push(ConfigError::new(
                        format!("{lp}.users[{k}]"),
                        format!("unknown user {u:?}"),
                    ));
                }
            }
            let mut restrictions = Vec::new();
            for (k, r) in l.restrictions.into_iter().enumerate() {
                if let Some(r) = restriction(errors, &format!("{lp}.restrictions[{k}]"), r) {
                    restrictions.push(r);
                }
            }
            layers.push(Layer {
                name: l.name.unwrap_or_else(|| format!("layer {}", j + 1)),
                rotation,
                users: l.users,
                restrictions,
            });
        }
        let mut overrides = Vec::new();
        for (j, o) in s.overrides.into_iter().enumerate() {
            let op = format!("{path}.overrides[{j}]");
            if !known(&o.user) {
                errors.push(ConfigError::new(
                    format!("{op}.user"),
                    format!("unknown user {:?}", o.user),
                ));
            }
            let from = at(errors, &format!("{op}.from"), &o.from, &tz);
            let to = at(errors, &format!("{op}.to"), &o.to, &tz);
            if let (Some(from), Some(to)) = (from, to) {
                if to <= from {
                    errors.push(ConfigError::new(format!("{op}.to"), "must be after `from`"));
                }
                overrides.push(Override {
                    user: o.user,
                    start: from,
                    end: to,
                });
            }
        }
        let remind_before =
            s.remind_before
                .as_deref()
                .and_then(|text| match crate::time::parse_duration(text) {
                    Ok(ms) if ms > 0 && ms <= 7 * 24 * 3_600_000 => Some(ms),
                    Ok(_) => {
                        errors.push(ConfigError::new(
                            format!("{path}.remind_before"),
                            "must be between 1s and 7 days",
                        ));
                        None
                    }
                    Err(e) => {
                        errors.push(ConfigError::new(format!("{path}.remind_before"), e));
                        None
                    }
                });
        out.push(Schedule {
            name: s.name.unwrap_or_else(|| s.id.clone()),
            id: s.id,
            time_zone: s.time_zone,
            tz,
            layers,
            overrides,
            remind_before,
        });
    }
    out
}

pub(super) fn zone(errors: &mut Vec<ConfigError>, path: &str, name: &str) -> TimeZone {
    TimeZone::get(name).unwrap_or_else(|e| {
        errors.push(ConfigError::new(
            path,
            format!("unknown time zone {name:?} (use an IANA name like Asia/Shanghai): {e}"),
        ));
        TimeZone::UTC
    })
}

enum When {
    Civil(civil::DateTime),
    Instant(Millis),
}

/// `2026-03-02T09:00` (the schedule's wall clock) or `2026-03-02T09:00:00+08:00` (an
/// instant).
fn civil_or_instant(text: &str, _tz: &TimeZone) -> Result<When, String> {
    if let Ok(ts) = text.parse::<jiff::Timestamp>() {
        return Ok(When::Instant(ts.as_millisecond()));
    }
    text.parse::<civil::DateTime>().map(When::Civil).map_err(|_| {
        format!("{text:?} is not a time like 2026-03-02T09:00 (the schedule's zone) or 2026-03-02T09:00:00+08:00")
    })
}

fn at(errors: &mut Vec<ConfigError>, path: &str, text: &str, tz: &TimeZone) -> Option<Millis> {
    match civil_or_instant(text, tz) {
        Ok(When::Instant(ms)) => Some(ms),
        Ok(When::Civil(dt)) => Some(crate::schedule::instant(tz, dt)),
        Err(e) => {
            errors.push(ConfigError::new(path, e));
            None
        }
    }
}

pub(super) fn restriction(
    errors: &mut Vec<ConfigError>,
    path: &str,
    r: RawRestriction,
) -> Option<Restriction> {
    let mut days = [r.days.is_none(); 7];
    for (k, d) in r.days.iter().flatten().enumerate() {
        match weekday(d) {
            Some(i) => days[i] = true,
            None => errors.push(ConfigError::new(
                format!("{path}.days[{k}]"),
                format!("{d:?} is not a day; use mon, tue, wed, thu, fri, sat or sun"),
            )),
        }
    }
    let time = |field: &str, text: &str, errors: &mut Vec<ConfigError>| {
        text.parse::<civil::Time>()
            .ok()
            .filter(|t| t.subsec_nanosecond() == 0)
            .or_else(|| {
                errors.push(ConfigError::new(
                    format!("{path}.{field}"),
                    format!("{text:?} is not a time of day like 20:00"),
                ));
                None
            })
    };
    let from = time("from", &r.from, errors)?;
    let to = time("to", &r.to, errors)?;
    Some(Restriction { days, from, to })
}

fn weekday(text: &str) -> Option<usize> {
    let t = text.to_ascii_lowercase();
    ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
        .iter()
        .position(|d| t == *d || (t.len() > 3 && t.starts_with(d) && full_day(&t)))
}

fn full_day(t: &str) -> bool {
    [
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
        "sunday",
    ]
    .contains(&t)
}
