//! Reports for the console's Reports page and its CSV export: how fast people respond (MTTA,
//! MTTR), how many alerts fold into how few incidents, which alerts are the noisiest and who
//! gets interrupted, per local day or week and per team or service.
//!
//! A pure function over the rows the store fetched for a range `[from, to)`. Each incident
//! counts in the bucket of its creation; each alert firing (an episode starting: a first
//! firing, or a re-fire after it resolved) in the bucket it fired in, muted or not; each
//! notification in the bucket it was sent in. Incidents keep the team and service they were
//! opened with; alerts do not record a team, so theirs is their service's owner in the
//! config now.

mod buckets;
mod output;
#[cfg(test)]
mod tests;

use buckets::Buckets;
pub use output::*;

use crate::config::Config;
use crate::schedule::{NIGHT_END_HOUR, NIGHT_START_HOUR};
use crate::time::Millis;
use jiff::tz::TimeZone;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap, HashSet};

/// How many of the noisiest alerts a report lists.
pub const TOP_NOISY: usize = 20;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Bucket {
    Day,
    /// An ISO week, Monday to Monday.
    Week,
}

impl Bucket {
    pub fn parse(text: &str) -> Option<Bucket> {
        match text {
            "day" => Some(Bucket::Day),
            "week" => Some(Bucket::Week),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum GroupBy {
    Team,
    Service,
}

impl GroupBy {
    pub fn parse(text: &str) -> Option<GroupBy> {
        match text {
            "team" => Some(GroupBy::Team),
            "service" => Some(GroupBy::Service),
            _ => None,
        }
    }
}

/// What a report covers: a range cut into buckets of `zone`'s calendar, grouped `by`, and
/// only what belongs to `team` and `service` when they are given.
#[derive(Debug, Clone)]
pub struct Scope {
    pub from: Millis,
    pub to: Millis,
    pub bucket: Bucket,
    pub zone: TimeZone,
    pub by: GroupBy,
    pub team: Option<String>,
    pub service: Option<String>,
}

impl Scope {
    fn admits(&self, team: &str, service: &str) -> bool {
        self.team.as_deref().is_none_or(|t| t == team)
            && self.service.as_deref().is_none_or(|s| s == service)
    }

    fn group<'a>(&self, team: &'a str, service: &'a str) -> &'a str {
        match self.by {
            GroupBy::Team => team,
            GroupBy::Service => service,
        }
    }
}

/// An incident, with the team and service it was opened with.
#[derive(Debug, Clone, PartialEq)]
pub struct IncidentFact {
    pub id: i64,
    pub team: String,
    pub service: String,
    pub created_at: Millis,
    pub acknowledged_at: Option<Millis>,
    pub resolved_at: Option<Millis>,
}

/// An alert firing: one episode of an alert starting.
#[derive(Debug, Clone, PartialEq)]
pub struct FiringFact {
    pub alert_id: i64,
    pub name: String,
    pub service: String,
    /// 0 when a silence or an inhibition muted it.
    pub incident_id: i64,
    pub at: Millis,
    /// Events the alert received over its whole life (the store keeps a count per alert,
    /// not the time of each event).
    pub occurrences: i64,
}

/// A notification that was sent to a person, with the team and service of its incident.
#[derive(Debug, Clone, PartialEq)]
pub struct PageFact {
    pub user: String,
    pub incident_id: i64,
    pub team: String,
    pub service: String,
    pub sent_at: Millis,
}

/// The rows of a range, as the store fetched them.
#[derive(Debug, Clone, Default)]
pub struct Facts {
    pub incidents: Vec<IncidentFact>,
    pub firings: Vec<FiringFact>,
    pub pages: Vec<PageFact>,
}

/// What one group gathers in one bucket (or the whole range).
#[derive(Default)]
struct Cell {
    incidents: u64,
    to_ack: Vec<Millis>,
    to_resolve: Vec<Millis>,
    alerts: u64,
    notifications: u64,
    night: u64,
}

impl Cell {
    fn incident(&mut self, i: &IncidentFact) {
        self.incidents += 1;
        if let Some(at) = i.acknowledged_at {
            self.to_ack.push(at - i.created_at);
        }
        if let Some(at) = i.resolved_at {
            self.to_resolve.push(at - i.created_at);
        }
    }

    fn response(&mut self) -> Response {
        let (mtta_mean_seconds, mtta_median_seconds) = mean_median(&mut self.to_ack);
        let (mttr_mean_seconds, mttr_median_seconds) = mean_median(&mut self.to_resolve);
        Response {
            incidents: self.incidents,
            acknowledged: self.to_ack.len() as u64,
            mtta_mean_seconds,
            mtta_median_seconds,
            resolved: self.to_resolve.len() as u64,
            mttr_mean_seconds,
            mttr_median_seconds,
        }
    }

    fn noise(&self) -> Noise {
        let (alerts, incidents) = (self.alerts as f64, self.incidents as f64);
        Noise {
            alerts: self.alerts,
            alerts_per_incident: (self.incidents > 0).then(|| round(alerts / incidents, 4)),
            noise_reduction: (self.alerts > 0).then(|| round(1.0 - incidents / alerts, 4)),
        }
    }

    fn totals(&mut self) -> Totals {
        Totals {
            response: self.response(),
            noise: self.noise(),
            notifications: self.notifications,
            night_notifications: self.night,
        }
    }
}

#[derive(Default)]
struct NoisyKind {
    firings: u64,
    alerts: HashSet<i64>,
    incidents: HashSet<i64>,
    occurrences: i64,
}

#[derive(Default)]
struct Person {
    notifications: u64,
    incidents: HashSet<i64>,
    night: u64,
}

/// The report of `scope` over `facts`; rows outside the range or the scope's team and
/// service are left out. `config` names groups and people and gives people's zones.
pub fn report(scope: &Scope, facts: &Facts, config: &Config) -> Report {
    let buckets = Buckets::new(scope.bucket, &scope.zone, scope.from, scope.to);
    let mut all = Cell::default();
    let mut groups: BTreeMap<&str, Cell> = BTreeMap::new();
    let mut cells: BTreeMap<(&str, usize), Cell> = BTreeMap::new();
    let mut noisy: HashMap<(&str, &str), NoisyKind> = HashMap::new();
    let mut people: BTreeMap<&str, Person> = BTreeMap::new();

    for i in &facts.incidents {
        let Some(b) = buckets.index(i.created_at) else {
            continue;
        };
        if !scope.admits(&i.team, &i.service) {
            continue;
        }
        let group = scope.group(&i.team, &i.service);
        all.incident(i);
        groups.entry(group).or_default().incident(i);
        cells.entry((group, b)).or_default().incident(i);
    }
    for f in &facts.firings {
        let Some(b) = buckets.index(f.at) else {
            continue;
        };
        let team = config.service(&f.service).map_or("", |s| s.team.as_str());
        if !scope.admits(team, &f.service) {
            continue;
        }
        let group = scope.group(team, &f.service);
        all.alerts += 1;
        groups.entry(group).or_default().alerts += 1;
        cells.entry((group, b)).or_default().alerts += 1;
        let kind = noisy.entry((&f.name, &f.service)).or_default();
        kind.firings += 1;
        if kind.alerts.insert(f.alert_id) {
            kind.occurrences += f.occurrences;
        }
        if f.incident_id != 0 {
            kind.incidents.insert(f.incident_id);
        }
    }
    for p in &facts.pages {
        if buckets.index(p.sent_at).is_none() || !scope.admits(&p.team, &p.service) {
            continue;
        }
        let night = u64::from(is_night(zone_of(config, &p.user), p.sent_at));
        let group = groups.entry(scope.group(&p.team, &p.service)).or_default();
        for cell in [&mut all, group] {
            cell.notifications += 1;
            cell.night += night;
        }
        let person = people.entry(&p.user).or_default();
        person.notifications += 1;
        person.night += night;
        person.incidents.insert(p.incident_id);
    }

    let bucket_start = |i: usize| buckets.format(buckets.span(i).0);
    let mut response = Vec::new();
    let mut volume = Vec::new();
    for ((group, b), cell) in &mut cells {
        if cell.incidents > 0 {
            response.push(ResponseRow {
                group: group.to_string(),
                bucket: bucket_start(*b),
                response: cell.response(),
            });
        }
        volume.push(VolumeRow {
            group: group.to_string(),
            bucket: bucket_start(*b),
            incidents: cell.incidents,
            noise: cell.noise(),
        });
    }
    Report {
        from: buckets.format(scope.from),
        to: buckets.format(scope.to),
        zone: scope.zone.iana_name().unwrap_or("UTC").to_string(),
        bucket: scope.bucket,
        by: scope.by,
        team: scope.team.clone(),
        service: scope.service.clone(),
        buckets: (0..buckets.len())
            .map(|i| {
                let (start, end) = buckets.span(i);
                Span {
                    start: buckets.format(start),
                    end: buckets.format(end),
                }
            })
            .collect(),
        summary: Summary {
            all: all.totals(),
            groups: groups
                .into_iter()
                .map(|(group, mut cell)| GroupTotals {
                    group: group.to_string(),
                    name: group_name(config, scope.by, group),
                    totals: cell.totals(),
                })
                .collect(),
        },
        response,
        volume,
        noisy: top_noisy(noisy),
        load: load(config, people),
    }
}

fn top_noisy(kinds: HashMap<(&str, &str), NoisyKind>) -> Vec<NoisyRow> {
    let mut rows: Vec<NoisyRow> = kinds
        .into_iter()
        .map(|((name, service), k)| NoisyRow {
            name: name.to_string(),
            service: service.to_string(),
            firings: k.firings,
            alerts: k.alerts.len() as u64,
            incidents: k.incidents.len() as u64,
            occurrences: k.occurrences,
        })
        .collect();
    rows.sort_by(|a, b| {
        (b.firings, b.occurrences, &a.name, &a.service).cmp(&(
            a.firings,
            a.occurrences,
            &b.name,
            &b.service,
        ))
    });
    rows.truncate(TOP_NOISY);
    rows
}

fn load(config: &Config, people: BTreeMap<&str, Person>) -> Vec<LoadRow> {
    let mut rows: Vec<LoadRow> = people
        .into_iter()
        .map(|(id, p)| {
            let user = config.user(id);
            LoadRow {
                user: id.to_string(),
                name: user.map_or(id, |u| u.name.as_str()).to_string(),
                time_zone: user.map_or("UTC", |u| u.time_zone.as_str()).to_string(),
                notifications: p.notifications,
                incidents: p.incidents.len() as u64,
                night_notifications: p.night,
            }
        })
        .collect();
    // Most interrupted first; the sort is stable, so ties stay in id order.
    rows.sort_by_key(|r| std::cmp::Reverse(r.notifications));
    rows
}

fn group_name(config: &Config, by: GroupBy, id: &str) -> String {
    let name = match by {
        GroupBy::Team => config.teams.iter().find(|t| t.id == id).map(|t| &t.name),
        GroupBy::Service => config.service(id).map(|s| &s.name),
    };
    name.map_or(id, |n| n.as_str()).to_string()
}

/// A person's zone; people no longer in the config are counted on UTC.
fn zone_of<'c>(config: &'c Config, user: &str) -> &'c TimeZone {
    static UTC: TimeZone = TimeZone::UTC;
    config.user(user).map_or(&UTC, |u| &u.tz)
}

/// Whether `t` is night (22:00 to 07:00) on `zone`'s clock.
fn is_night(zone: &TimeZone, t: Millis) -> bool {
    let Ok(ts) = jiff::Timestamp::from_millisecond(t) else {
        return false;
    };
    let hour = zone.to_datetime(ts).hour();
    !(NIGHT_END_HOUR..NIGHT_START_HOUR).contains(&hour)
}

/// Mean and median of durations in milliseconds, as seconds to the millisecond.
fn mean_median(ms: &mut [Millis]) -> (Option<f64>, Option<f64>) {
    if ms.is_empty() {
        return (None, None);
    }
    ms.sort_unstable();
    let n = ms.len();
    let mean = ms.iter().map(|&d| d as f64).sum::<f64>() / n as f64;
    let median = if n % 2 == 1 {
        ms[n / 2] as f64
    } else {
        (ms[n / 2 - 1] as f64 + ms[n / 2] as f64) / 2.0
    };
    (
        Some(round(mean / 1000.0, 3)),
        Some(round(median / 1000.0, 3)),
    )
}

fn round(x: f64, places: i32) -> f64 {
    let scale = 10f64.powi(places);
    (x * scale).round() / scale
}
