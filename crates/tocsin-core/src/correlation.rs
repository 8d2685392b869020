//! Topology correlation: which recent incident a newly firing alert belongs to, decided from
//! the service catalog (hosts, the switches they hang off, service dependencies) and time.
//!
//! One fault raises a burst: the switch goes down, the hosts behind it stop answering within
//! a minute, every service on those hosts starts failing, and a minute or two later so do
//! the services that depend on them. Each step is close in time to the one before and
//! linked to it in the catalog, so an alert joins the incident where the thing it depends
//! on alerted *recently*; a link that went quiet minutes ago explains nothing, which keeps
//! an unrelated fault on the same services (or a second storm) apart.
//!
//! Everything here is pure: the engine keeps the footprints and applies the choice.

use crate::time::Millis;
use std::collections::HashMap;
use std::fmt::Write;

/// The knobs of `correlation:` in the config (see docs/noise.md).
#[derive(Debug, Clone, PartialEq)]
pub struct CorrelationSettings {
    pub enabled: bool,
    /// An incident takes correlated alerts for this long after it opened.
    pub window: Millis,
    /// ... and only while it keeps gaining new alerts at least this often.
    pub quiet: Millis,
    /// A host joins the incident of a switch (or other uplink) that went down this recently.
    pub uplink: Millis,
    /// An alert joins the incident where its own service alerted this recently.
    pub same_service: Millis,
    /// An alert joins the incident where a service it depends on alerted this recently.
    pub dependency: Millis,
    /// The same alert (same source, host and name) firing again this soon after it last
    /// fired goes back to the incident it was in, reopening it if it had resolved.
    pub recurrence: Millis,
}

impl Default for CorrelationSettings {
    /// Tuned on the shared scenario streams (docs/noise.md has the figures).
    fn default() -> Self {
        CorrelationSettings {
            enabled: true,
            window: 8 * 60_000,
            quiet: 5 * 60_000,
            uplink: 90_000,
            same_service: 90_000,
            dependency: 120_000,
            recurrence: 30 * 60_000,
        }
    }
}

/// What the correlator remembers of one incident: when it opened, when it last gained an
/// alert, and when each service and host last alerted in it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Footprint {
    pub opened: Millis,
    pub last: Millis,
    pub services: HashMap<String, Millis>,
    pub hosts: HashMap<String, Millis>,
}

impl Footprint {
    pub fn new(opened: Millis) -> Footprint {
        Footprint {
            opened,
            last: opened,
            ..Footprint::default()
        }
    }

    /// Takes correlated alerts at `now`.
    pub fn is_open_to(&self, now: Millis, s: &CorrelationSettings) -> bool {
        now.saturating_sub(self.opened) <= s.window && now.saturating_sub(self.last) <= s.quiet
    }

    pub fn record(&mut self, service: &str, host: Option<&str>, at: Millis) {
        self.last = self.last.max(at);
        self.services.insert(service.to_owned(), at);
        if let Some(h) = host {
            self.hosts.insert(h.to_owned(), at);
        }
    }
}

/// A newly firing alert, placed in the catalog.
#[derive(Debug, Clone, Copy)]
pub struct Placed<'a> {
    pub service: &'a str,
    /// Whether the service says anything about the alert: not when it is the catch-all
    /// default that alerts land on when nothing placed them (every alert of a config
    /// without a catalog would be "the same service").
    pub service_known: bool,
    pub host: Option<&'a str>,
    /// The host's uplinks, nearest first (its switch, that switch's parent ...).
    pub uplinks: &'a [String],
    /// The services the alert's service depends on.
    pub depends_on: &'a [String],
}

/// Why an alert joined an incident; said in the incident's timeline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reason {
    /// Its host hangs off `uplink`, which alerted in the incident `ago` ms before.
    BehindUplink { uplink: String, ago: Millis },
    /// Its own service alerted in the incident `ago` ms before.
    SameService { service: String, ago: Millis },
    /// Its service depends on `on`, which alerted in the incident `ago` ms before.
    Dependency {
        service: String,
        on: String,
        ago: Millis,
    },
    /// The same alert was in the incident `ago` ms before.
    Recurrence { ago: Millis },
}

impl Reason {
    /// A line for the timeline, e.g. `web-01 hangs off agg-sw-1, which alerted here 40s
    /// before`.
    pub fn explain(&self, host: Option<&str>) -> String {
        let mut out = String::new();
        let _ = match self {
            Reason::BehindUplink { uplink, ago } => write!(
                out,
                "topology: {} hangs off {uplink}, which alerted here {} before",
                host.unwrap_or("its host"),
                seconds(*ago)
            ),
            Reason::SameService { service, ago } => write!(
                out,
                "topology: service {service} alerted here {} before",
                seconds(*ago)
            ),
            Reason::Dependency { service, on, ago } => write!(
                out,
                "topology: {service} depends on {on}, which alerted here {} before",
                seconds(*ago)
            ),
            Reason::Recurrence { ago } => write!(
                out,
                "recurrence: the same alert was in this incident {} before",
                seconds(*ago)
            ),
        };
        out
    }
}

fn seconds(ms: Millis) -> String {
    let s = ms / 1000;
    if s < 120 {
        format!("{s}s")
    } else {
        format!("{}m", s / 60)
    }
}

/// The incident a newly firing alert joins, and why; `None` when no incident open to
/// correlation is linked to it closely enough in the catalog and in time.
///
/// The strongest link wins (an uplink that went down, then the alert's own service, then a
/// service it depends on); between equally strong links the most recent one, then the
/// lower incident id, so the choice never depends on map order and a replay decides the
/// same.
pub fn choose<'f>(
    footprints: impl IntoIterator<Item = (i64, &'f Footprint)>,
    a: &Placed<'_>,
    now: Millis,
    s: &CorrelationSettings,
) -> Option<(i64, Reason)> {
    let mut best: Option<((u8, Millis, i64), Reason)> = None;
    for (id, f) in footprints {
        if !f.is_open_to(now, s) {
            continue;
        }
        let Some((rank, at, reason)) = link(f, a, now, s) else {
            continue;
        };
        // Higher rank, then later, then lower id.
        let score = (rank, at, -id);
        if best.as_ref().is_none_or(|(b, _)| score > *b) {
            best = Some((score, reason));
        }
    }
    best.map(|((_, _, neg_id), reason)| (-neg_id, reason))
}

/// The strongest link from an alert to one incident: (rank, when the linked thing alerted,
/// why).
fn link(
    f: &Footprint,
    a: &Placed<'_>,
    now: Millis,
    s: &CorrelationSettings,
) -> Option<(u8, Millis, Reason)> {
    let recent = |at: Millis, within: Millis| now.saturating_sub(at) <= within;
    let uplink = a
        .uplinks
        .iter()
        .filter_map(|u| f.hosts.get(u).map(|&at| (at, u)))
        .filter(|&(at, _)| recent(at, s.uplink))
        .max_by_key(|&(at, _)| at);
    if let Some((at, u)) = uplink {
        let reason = Reason::BehindUplink {
            uplink: u.clone(),
            ago: now.saturating_sub(at),
        };
        return Some((3, at, reason));
    }
    if let Some(&at) = f.services.get(a.service).filter(|_| a.service_known) {
        if recent(at, s.same_service) {
            let reason = Reason::SameService {
                service: a.service.to_owned(),
                ago: now.saturating_sub(at),
            };
            return Some((2, at, reason));
        }
    }
    let dependency = a
        .depends_on
        .iter()
        .filter_map(|d| f.services.get(d).map(|&at| (at, d)))
        .filter(|&(at, _)| recent(at, s.dependency))
        .max_by_key(|&(at, _)| at);
    dependency.map(|(at, d)| {
        let reason = Reason::Dependency {
            service: a.service.to_owned(),
            on: d.clone(),
            ago: now.saturating_sub(at),
        };
        (1, at, reason)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: Millis = 1000;

    fn placed<'a>(service: &'a str, uplinks: &'a [String], deps: &'a [String]) -> Placed<'a> {
        Placed {
            service,
            service_known: true,
            host: Some("h"),
            uplinks,
            depends_on: deps,
        }
    }

    fn footprint(opened: Millis, entries: &[(&str, Option<&str>, Millis)]) -> Footprint {
        let mut f = Footprint::new(opened);
        for (svc, host, at) in entries {
            f.record(svc, *host, *at);
        }
        f
    }

    #[test]
    fn a_host_behind_a_switch_that_just_went_down_joins_its_incident() {
        let sw = footprint(0, &[("network", Some("agg-sw-1"), 0)]);
        let ups = ["agg-sw-1".to_string(), "core-sw".to_string()];
        let s = CorrelationSettings::default();
        let got = choose([(7, &sw)], &placed("web", &ups, &[]), 30 * S, &s);
        assert_eq!(
            got,
            Some((
                7,
                Reason::BehindUplink {
                    uplink: "agg-sw-1".into(),
                    ago: 30 * S
                }
            ))
        );
        // Two minutes on, the switch explains nothing new.
        assert_eq!(
            choose([(7, &sw)], &placed("web", &ups, &[]), 120 * S, &s),
            None
        );
    }

    #[test]
    fn a_dependent_service_joins_where_its_dependency_alerted_most_recently() {
        let older = footprint(0, &[("db", None, 0)]);
        let newer = footprint(50 * S, &[("db", None, 60 * S)]);
        let deps = ["db".to_string()];
        let s = CorrelationSettings::default();
        let got = choose(
            [(1, &older), (2, &newer)],
            &placed("api", &[], &deps),
            90 * S,
            &s,
        );
        assert_eq!(got.map(|g| g.0), Some(2));
        // Unrelated services do not join.
        assert_eq!(
            choose([(1, &older)], &placed("mail", &[], &[]), 10 * S, &s),
            None
        );
    }

    #[test]
    fn stronger_links_win_over_more_recent_ones() {
        let same = footprint(0, &[("api", None, 10 * S)]);
        let dep = footprint(0, &[("db", None, 20 * S)]);
        let deps = ["db".to_string()];
        let s = CorrelationSettings::default();
        let got = choose(
            [(2, &dep), (1, &same)],
            &placed("api", &[], &deps),
            30 * S,
            &s,
        );
        assert_eq!(got.map(|g| g.0), Some(1));
    }

    #[test]
    fn the_catch_all_service_links_nothing() {
        let f = footprint(0, &[("default", None, 10 * S)]);
        let s = CorrelationSettings::default();
        let mut p = placed("default", &[], &[]);
        assert!(choose([(1, &f)], &p, 20 * S, &s).is_some());
        p.service_known = false;
        assert_eq!(choose([(1, &f)], &p, 20 * S, &s), None);
    }

    #[test]
    fn incidents_close_to_correlation_when_old_or_quiet() {
        let s = CorrelationSettings::default();
        let mut f = footprint(0, &[("api", None, 0)]);
        assert!(f.is_open_to(s.quiet, &s));
        assert!(!f.is_open_to(s.quiet + 1, &s));
        // Busy, but past the window since it opened.
        for t in (0..=s.window + S).step_by(60_000) {
            f.record("api", None, t as Millis);
        }
        assert!(!f.is_open_to(s.window + S, &s));
    }

    #[test]
    fn ties_go_to_the_lower_id_whatever_the_order() {
        let a = footprint(0, &[("api", None, 5 * S)]);
        let b = footprint(0, &[("api", None, 5 * S)]);
        let s = CorrelationSettings::default();
        let p = placed("api", &[], &[]);
        assert_eq!(
            choose([(4, &a), (3, &b)], &p, 9 * S, &s).map(|g| g.0),
            Some(3)
        );
        assert_eq!(
            choose([(3, &b), (4, &a)], &p, 9 * S, &s).map(|g| g.0),
            Some(3)
        );
    }

    #[test]
    fn reasons_read_well() {
        let r = Reason::Dependency {
            service: "api".into(),
            on: "db".into(),
            ago: 40 * S,
        };
        assert_eq!(
            r.explain(None),
            "topology: api depends on db, which alerted here 40s before"
        );
        let r = Reason::Recurrence { ago: 600 * S };
        assert_eq!(
            r.explain(None),
            "recurrence: the same alert was in this incident 10m before"
        );
    }
}
