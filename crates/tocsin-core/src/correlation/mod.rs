//! Correlation: which recent incident a newly firing alert belongs to, scored from the
//! service catalog (hosts, the switches they hang off, service dependencies), time, the
//! words of the alerts and what tocsin learned about which kinds of alert fire together.
//!
//! One fault raises a burst: the switch goes down, the hosts behind it stop answering within
//! a minute, every service on those hosts starts failing, and a minute or two later so do
//! the services that depend on them. Each step is close in time to the one before and
//! linked to it in the catalog, so an alert scores high with the incident where the thing it
//! depends on alerted *recently*; a link that went quiet minutes ago explains nothing, which
//! keeps an unrelated fault on the same services (or a second storm) apart. A kind of alert
//! that is known to fire alone (a disk filling up, a certificate expiring) loses points for
//! it, so it does not vanish into whatever incident happens to be open on its service; kinds
//! that are known to fire together, or texts that say the same, gain points.
//!
//! Each part of a score is kept, so the timeline can say why an alert joined ("topology:
//! ... (+0.50); co-fires with instancedown 92% of the time (+0.34); 40s after its last
//! alert (+0.08)").
//!
//! Everything here is pure: the engine keeps the footprints and the learned rates and
//! applies the choice.

pub mod cofire;
pub mod open;
pub mod text;

use crate::time::Millis;
use cofire::Cofire;
pub use open::Footprints;
use rustc_hash::FxHashMap as HashMap;
use std::fmt::Write;

/// The knobs of `correlation:` in the config (see docs/correlation.md).
#[derive(Debug, Clone, PartialEq)]
pub struct CorrelationSettings {
    pub enabled: bool,
    /// An alert joins the best incident whose score reaches this.
    pub threshold: f32,
    /// Whether co-occurrence rates are learned and used.
    pub learning: bool,
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
    /// ... and both of those only while that service's first alert in the incident is at
    /// most this old: one fault's alerts on a service come in a burst.
    pub burst: Millis,
    /// The same alert (same source, host and name) firing again this soon after it was
    /// last seen goes back to the incident it was in, reopening it if it had resolved.
    pub recurrence: Millis,
    /// Two firings this close on linked things count as firing together, for learning.
    pub cofire: Millis,
}

impl Default for CorrelationSettings {
    /// Tuned on generated scenario streams (docs/correlation.md has the figures, measured
    /// on `tocsin simulate` streams).
    fn default() -> Self {
        CorrelationSettings {
            enabled: true,
            threshold: 0.5,
            learning: true,
            window: 8 * 60_000,
            quiet: 5 * 60_000,
            uplink: 90_000,
            same_service: 90_000,
            dependency: 120_000,
            burst: 200_000,
            recurrence: 30 * 60_000,
            cofire: 120_000,
        }
    }
}

/// What a score is made of: how much each kind of evidence counts. Fixed: the threshold
/// is the one knob people turn, and these were tuned with it (docs/correlation.md).
mod weight {
    pub const UPLINK: f32 = 0.65;
    pub const SAME_SERVICE: f32 = 0.5;
    pub const DEPENDENCY: f32 = 0.45;
    /// A dependency two or three hops away: with the time part alone it cannot reach the
    /// default threshold; it takes known companions or similar words as well, because
    /// most services are that close to many others.
    pub const INDIRECT: f32 = 0.25;
    /// At most this for an incident that gained an alert just now, down to 0 at `quiet`.
    pub const TIME: f32 = 0.1;
    /// Times (rate - COFIRE_PRIOR), when above it: a known companion gains points.
    pub const COFIRE: f32 = 0.3;
    pub const COFIRE_PRIOR: f32 = 0.35;
    /// Times (alone rate - ALONE_PRIOR), when above it: a kind known to fire alone loses
    /// points, whatever incident it is scored with.
    pub const ALONE: f32 = 1.4;
    pub const ALONE_PRIOR: f32 = 0.3;
    /// Times the Jaccard similarity of the texts.
    pub const TEXT: f32 = 0.25;
}

/// The most tokens an incident keeps of its alerts' texts.
const FOOTPRINT_TOKENS: usize = 256;
/// The most kinds an incident keeps (the latest ones win).
const FOOTPRINT_KINDS: usize = 64;
const KINDS_PER_SERVICE: usize = 8;

/// What the correlator remembers of one incident: when it opened, when it last gained an
/// alert, when each service, host and kind last alerted in it, and the words of its alerts.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Footprint {
    pub opened: Millis,
    pub last: Millis,
    /// When each service first and last alerted in it.
    pub services: HashMap<String, Span>,
    pub hosts: HashMap<String, Millis>,
    pub kinds: HashMap<u64, Millis>,
    /// The latest kinds of alert of each service in it (at most [`KINDS_PER_SERVICE`]): a
    /// link through a service is judged by what fired there, not by everything a big
    /// incident holds.
    pub service_kinds: HashMap<String, Vec<u64>>,
    /// Sorted, distinct, at most [`FOOTPRINT_TOKENS`].
    pub tokens: Vec<u32>,
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

    pub fn record(&mut self, a: &Placed<'_>, at: Millis) {
        self.record_evicting(a, at);
    }

    /// [`Footprint::record`], returning the kind it forgot to make room, if any.
    fn record_evicting(&mut self, a: &Placed<'_>, at: Millis) -> Option<u64> {
        let mut evicted = None;
        self.last = self.last.max(at);
        match self.services.get_mut(a.service) {
            // min and max: a footprint rebuilt at start may see its alerts out of order.
            Some(span) => {
                span.first = span.first.min(at);
                span.last = span.last.max(at);
            }
            None => {
                let span = Span {
                    first: at,
                    last: at,
                };
                self.services.insert(a.service.to_owned(), span);
            }
        }
        if let Some(h) = a.host {
            set(&mut self.hosts, h, at);
        }
        if a.kind != 0 {
            if self.kinds.len() >= FOOTPRINT_KINDS && !self.kinds.contains_key(&a.kind) {
                if let Some((&oldest, _)) = self.kinds.iter().min_by_key(|(k, t)| (**t, **k)) {
                    self.kinds.remove(&oldest);
                    evicted = Some(oldest);
                }
            }
            self.kinds.insert(a.kind, at);
            if !self.service_kinds.contains_key(a.service) {
                self.service_kinds.insert(a.service.to_owned(), Vec::new());
            }
            let list = self
                .service_kinds
                .get_mut(a.service)
                .expect("inserted above");
            if !list.contains(&a.kind) {
                if list.len() >= KINDS_PER_SERVICE {
                    list.remove(0);
                }
                list.push(a.kind);
            }
        }
        if self.tokens.len() < FOOTPRINT_TOKENS && !a.tokens.is_empty() {
            self.tokens = union(&self.tokens, a.tokens, FOOTPRINT_TOKENS);
        }
        evicted
    }
}

/// When something first and last alerted in an incident.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Span {
    pub first: Millis,
    pub last: Millis,
}

/// `map[name] = at`, copying the name only when it is new (most alerts land on names the
/// incident already holds).
fn set(map: &mut HashMap<String, Millis>, name: &str, at: Millis) {
    match map.get_mut(name) {
        Some(t) => *t = at,
        None => {
            map.insert(name.to_owned(), at);
        }
    }
}

/// The first `max` of the union of two sorted, distinct token lists, sorted: a merge,
/// where sorting the two together cost several times more on every recorded alert.
fn union(a: &[u32], b: &[u32], max: usize) -> Vec<u32> {
    let mut out = Vec::with_capacity((a.len() + b.len()).min(max));
    let (mut i, mut j) = (0, 0);
    while out.len() < max {
        let next = match (a.get(i), b.get(j)) {
            (Some(&x), Some(&y)) => {
                i += (x <= y) as usize;
                j += (y <= x) as usize;
                x.min(y)
            }
            (Some(&x), None) => {
                i += 1;
                x
            }
            (None, Some(&y)) => {
                j += 1;
                y
            }
            (None, None) => break,
        };
        out.push(next);
    }
    out
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
    /// The services it depends on through others (two or three hops away), nearest first.
    pub indirect: &'a [String],
    /// Its kind ([`text::kind`]), 0 when unknown.
    pub kind: u64,
    /// Its word tokens ([`text::tokens`]: sorted, distinct).
    pub tokens: &'a [u32],
    /// The score it needs to join (its service's threshold, else the global one).
    pub threshold: f32,
}

impl<'a> Placed<'a> {
    /// An alert known only by its service and host: no catalog links, kind or words.
    pub fn bare(service: &'a str, host: Option<&'a str>) -> Placed<'a> {
        Placed {
            service,
            service_known: true,
            host,
            uplinks: &[],
            depends_on: &[],
            indirect: &[],
            kind: 0,
            tokens: &[],
            threshold: CorrelationSettings::default().threshold,
        }
    }
}

/// A topology link from an alert to an incident.
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
    /// Its service depends, through others, on `on`, which alerted in the incident `ago`
    /// ms before.
    IndirectDependency {
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
        self.write_to(&mut out, host);
        out
    }

    /// [`Reason::explain`], onto the end of `out`.
    fn write_to(&self, out: &mut String, host: Option<&str>) {
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
            Reason::IndirectDependency { service, on, ago } => write!(
                out,
                "topology: {service} depends on {on} through another service, which alerted here {} before",
                seconds(*ago)
            ),
            Reason::Recurrence { ago } => write!(
                out,
                "recurrence: the same alert was in this incident {} before",
                seconds(*ago)
            ),
        };
    }
}

/// One part of a score.
#[derive(Debug, Clone, PartialEq)]
pub enum Part {
    Topology(Reason),
    /// Fires together with `with` (a kind in the incident) at this rate.
    Cofire {
        with: String,
        rate: f32,
    },
    /// Its kind fires alone (no other alert close by) at this rate.
    Alone {
        rate: f32,
    },
    /// The texts are this alike (Jaccard of their words).
    Text {
        similarity: f32,
    },
    /// The incident gained its last alert this long before.
    Time {
        ago: Millis,
    },
}

/// Why an alert joined an incident: the score, the threshold it reached and its parts with
/// the points each gave.
#[derive(Debug, Clone, PartialEq)]
pub struct Scored {
    pub score: f32,
    pub threshold: f32,
    pub parts: Vec<(Part, f32)>,
}

impl Scored {
    /// The timeline line: `score 0.92 (needs 0.50): topology: ... (+0.50); co-fires with
    /// instancedown 92% of the time (+0.34); 40s after its last alert (+0.08)`.
    pub fn explain(&self, host: Option<&str>) -> String {
        // Room for a typical line, so it is not grown part by part.
        let mut out = String::with_capacity(192);
        let _ = write!(out, "score {:.2} (needs {:.2})", self.score, self.threshold);
        for (i, (part, points)) in self.parts.iter().enumerate() {
            out.push_str(if i == 0 { ": " } else { "; " });
            match part {
                Part::Topology(r) => r.write_to(&mut out, host),
                Part::Cofire { with, rate } => {
                    let _ = write!(out, "co-fires with {with} {:.0}% of the time", rate * 100.0);
                }
                Part::Alone { rate } => {
                    let _ = write!(out, "fires alone {:.0}% of the time", rate * 100.0);
                }
                Part::Text { similarity } => {
                    let _ = write!(out, "texts {:.0}% alike", similarity * 100.0);
                }
                Part::Time { ago } => {
                    let _ = write!(out, "{} after its last alert", seconds(*ago));
                }
            }
            let _ = write!(out, " ({points:+.2})");
        }
        out
    }
}

/// A time for an explanation: `40s`, `10m`.
fn seconds(ms: Millis) -> Seconds {
    Seconds(ms / 1000)
}

/// Written where it is used rather than into a `String` of its own.
struct Seconds(Millis);

impl std::fmt::Display for Seconds {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.0 < 120 {
            write!(f, "{}s", self.0)
        } else {
            write!(f, "{}m", self.0 / 60)
        }
    }
}

/// The incident a newly firing alert joins, and why; `None` when no incident open to
/// correlation scores at least the alert's threshold.
///
/// The highest score wins; between equal scores the incident that gained an alert last,
/// then the lower id, so the choice never depends on map order and a replay decides the
/// same.
pub fn choose<'f>(
    footprints: impl IntoIterator<Item = (i64, &'f Footprint)>,
    a: &Placed<'_>,
    now: Millis,
    s: &CorrelationSettings,
    learned: Option<&Cofire>,
) -> Option<(i64, Scored)> {
    let mut best: Option<(Rank, Scored)> = None;
    for (id, f) in footprints {
        if !f.is_open_to(now, s) {
            continue;
        }
        let scored = score(f, a, now, s, learned);
        if scored.score < a.threshold {
            continue;
        }
        let rank = (scored.score, f.last, -id);
        let better = best.as_ref().is_none_or(|(b, _)| outranks(&rank, b));
        if better {
            best = Some((rank, scored));
        }
    }
    best.map(|((_, _, neg_id), scored)| (-neg_id, scored))
}

/// An incident's rank while choosing: its score, when it last gained an alert, minus its id.
type Rank = (f32, Millis, i64);

/// Whether rank `x` beats `y`: the higher score, then the incident that gained an alert
/// last, then the lower id. [`choose`] and [`Footprints::choose`] both decide by it, so
/// the indexed choice stays the full scan's.
fn outranks(x: &Rank, y: &Rank) -> bool {
    x.0 > y.0 || (x.0 == y.0 && (x.1, x.2) > (y.1, y.2))
}

/// How well an alert fits one incident, part by part.
pub fn score(
    f: &Footprint,
    a: &Placed<'_>,
    now: Millis,
    s: &CorrelationSettings,
    learned: Option<&Cofire>,
) -> Scored {
    let learned = learned.filter(|_| a.kind != 0);
    let linked = link(f, a, now, s);
    let learn = learned.map(|c| {
        // The kind it fires together with most.
        let kinds: Box<dyn Iterator<Item = u64>> = match through(f, linked.as_ref()) {
            Some(list) => Box::new(list.iter().copied()),
            None => Box::new(f.kinds.keys().copied()),
        };
        let best = kinds
            .filter_map(|k| c.rate(a.kind, k).map(|r| (r, k)))
            .max_by(strongest)
            .filter(|b| b.0 > weight::COFIRE_PRIOR);
        (best, alone(c, a.kind))
    });
    let lite = score_lite(f, a, now, s, linked, learn);
    lite.scored(a, learned)
}

/// The order of co-fire candidates (rate, kind): the higher rate, then the lower kind.
fn strongest(x: &(f32, u64), y: &(f32, u64)) -> std::cmp::Ordering {
    x.0.total_cmp(&y.0).then(y.1.cmp(&x.1))
}

/// How often a kind fires alone, when that costs it points.
fn alone(c: &Cofire, kind: u64) -> Option<f32> {
    c.alone_rate(kind).filter(|r| *r > weight::ALONE_PRIOR)
}

/// The points a kind that fires alone at `rate` loses.
fn alone_points(rate: f32) -> f32 {
    -weight::ALONE * (rate - weight::ALONE_PRIOR)
}

/// A score before its explanation is written: kinds as ids, reasons borrowed, so scoring
/// many incidents allocates nothing and only the winner's parts become strings.
#[derive(Debug, Clone, Copy)]
struct Lite<'a> {
    score: f32,
    link: Option<Link<'a>>,
    /// (kind, rate, points).
    cofire: Option<(u64, f32, f32)>,
    /// (rate, points).
    alone: Option<(f32, f32)>,
    /// (similarity, points).
    text: Option<(f32, f32)>,
    /// (ago, points).
    time: Option<(Millis, f32)>,
}

impl Lite<'_> {
    fn scored(&self, a: &Placed<'_>, learned: Option<&Cofire>) -> Scored {
        let mut parts: Vec<(Part, f32)> = Vec::with_capacity(4);
        if let Some(l) = &self.link {
            parts.push((Part::Topology(l.reason(a)), l.points()));
        }
        if let Some((k, rate, points)) = self.cofire {
            let with = learned.and_then(|c| c.name(k)).unwrap_or("?").to_owned();
            parts.push((Part::Cofire { with, rate }, points));
        }
        if let Some((rate, points)) = self.alone {
            parts.push((Part::Alone { rate }, points));
        }
        if let Some((similarity, points)) = self.text {
            parts.push((Part::Text { similarity }, points));
        }
        if let Some((ago, points)) = self.time {
            parts.push((Part::Time { ago }, points));
        }
        Scored {
            score: self.score,
            threshold: a.threshold,
            parts,
        }
    }
}

/// The kinds to judge an incident's co-fire part with: those of the service the alert is
/// linked through, else (`None`) all its kinds.
fn through<'f>(f: &'f Footprint, linked: Option<&Link<'_>>) -> Option<&'f [u64]> {
    match linked {
        Some(Link::Same(service, _)) | Some(Link::Dependency(service, _)) => {
            f.service_kinds.get(*service).map(|v| v.as_slice())
        }
        _ => None,
    }
}

/// Scores one incident given its topology link (`link`) and, when learning counts, its
/// strongest companion kind (rate, kind; among [`through`], only rates above
/// `COFIRE_PRIOR`) and the alert kind's alone rate (when above `ALONE_PRIOR`).
#[allow(clippy::type_complexity)]
fn score_lite<'a>(
    f: &Footprint,
    a: &Placed<'a>,
    now: Millis,
    s: &CorrelationSettings,
    linked: Option<Link<'a>>,
    learn: Option<(Option<(f32, u64)>, Option<f32>)>,
) -> Lite<'a> {
    let mut points = [0.0f32; 5];
    let mut n = 0;
    let mut push = |p: f32| {
        points[n] = p;
        n += 1;
    };
    if let Some(l) = &linked {
        push(l.points());
    }
    let (mut cofire, mut lone) = (None, None);
    if let Some((best, alone_rate)) = learn {
        if let Some((rate, k)) = best {
            let p = weight::COFIRE * (rate - weight::COFIRE_PRIOR);
            push(p);
            cofire = Some((k, rate, p));
        }
        if let Some(rate) = alone_rate {
            let p = alone_points(rate);
            push(p);
            lone = Some((rate, p));
        }
    }
    let similarity = text::similarity(a.tokens, &f.tokens);
    let text = (similarity > 0.0).then(|| {
        let p = weight::TEXT * similarity;
        push(p);
        (similarity, p)
    });
    let ago = now.saturating_sub(f.last);
    let fresh = 1.0 - (ago as f32 / s.quiet.max(1) as f32).min(1.0);
    let time = (fresh > 0.0).then(|| {
        let p = weight::TIME * fresh;
        push(p);
        (ago, p)
    });
    Lite {
        score: points[..n].iter().sum(),
        link: linked,
        cofire,
        alone: lone,
        text,
        time,
    }
}

/// A topology link from an alert to an incident, borrowing the alert's names: the link
/// names the alert's uplink, its service, or the dependency.
#[derive(Debug, Clone, Copy)]
enum Link<'a> {
    Uplink(&'a str, Millis),
    Same(&'a str, Millis),
    Dependency(&'a str, Millis),
    Indirect(&'a str, Millis),
}

impl Link<'_> {
    fn points(&self) -> f32 {
        match self {
            Link::Uplink(..) => weight::UPLINK,
            Link::Same(..) => weight::SAME_SERVICE,
            Link::Dependency(..) => weight::DEPENDENCY,
            Link::Indirect(..) => weight::INDIRECT,
        }
    }

    fn reason(&self, a: &Placed<'_>) -> Reason {
        match *self {
            Link::Uplink(u, ago) => Reason::BehindUplink {
                uplink: u.to_owned(),
                ago,
            },
            Link::Same(service, ago) => Reason::SameService {
                service: service.to_owned(),
                ago,
            },
            Link::Dependency(on, ago) => Reason::Dependency {
                service: a.service.to_owned(),
                on: on.to_owned(),
                ago,
            },
            Link::Indirect(on, ago) => Reason::IndirectDependency {
                service: a.service.to_owned(),
                on: on.to_owned(),
                ago,
            },
        }
    }
}

/// The strongest topology link from an alert to one incident.
fn link<'a>(
    f: &Footprint,
    a: &Placed<'a>,
    now: Millis,
    s: &CorrelationSettings,
) -> Option<Link<'a>> {
    let recent = |at: Millis, within: Millis| now.saturating_sub(at) <= within;
    let uplink = a
        .uplinks
        .iter()
        .filter_map(|u| f.hosts.get(u).map(|&at| (at, u)))
        .filter(|&(at, _)| recent(at, s.uplink))
        .max_by_key(|&(at, _)| at);
    if let Some((at, u)) = uplink {
        return Some(Link::Uplink(u, now.saturating_sub(at)));
    }
    // A service links while it alerted recently and its burst in the incident is young: a
    // service's alerts in one fault come together, so one that starts alerting again
    // minutes after its first alert here is more likely a new fault on it.
    let linkable =
        |span: &Span, within: Millis| recent(span.last, within) && recent(span.first, s.burst);
    if let Some(span) = f.services.get(a.service).filter(|_| a.service_known) {
        if linkable(span, s.same_service) {
            return Some(Link::Same(a.service, now.saturating_sub(span.last)));
        }
    }
    // The dependency that alerted most recently, among the direct ones, else among those
    // further away.
    let latest = |deps: &'a [String]| {
        deps.iter()
            .filter_map(|d| f.services.get(d).map(|span| (span, d.as_str())))
            .filter(|&(span, _)| linkable(span, s.dependency))
            .map(|(span, d)| (span.last, d))
            .max_by_key(|&(at, _)| at)
            .map(|(at, d)| (d, now.saturating_sub(at)))
    };
    if let Some((d, ago)) = latest(a.depends_on) {
        return Some(Link::Dependency(d, ago));
    }
    latest(a.indirect).map(|(d, ago)| Link::Indirect(d, ago))
}

#[cfg(test)]
mod tests {
    use super::cofire::Firing;
    use super::*;

    const S: Millis = 1000;

    fn placed<'a>(service: &'a str, uplinks: &'a [String], deps: &'a [String]) -> Placed<'a> {
        Placed {
            uplinks,
            depends_on: deps,
            ..Placed::bare(service, Some("h"))
        }
    }

    fn footprint(opened: Millis, entries: &[(&str, Option<&str>, Millis)]) -> Footprint {
        let mut f = Footprint::new(opened);
        for (svc, host, at) in entries {
            f.record(&Placed::bare(svc, *host), *at);
        }
        f
    }

    fn pick(
        fs: &[(i64, &Footprint)],
        a: &Placed<'_>,
        now: Millis,
        learned: Option<&Cofire>,
    ) -> Option<i64> {
        let s = CorrelationSettings::default();
        choose(fs.iter().map(|(i, f)| (*i, *f)), a, now, &s, learned).map(|g| g.0)
    }

    #[test]
    fn a_dependency_further_away_needs_more_than_the_link_and_time() {
        let mut f = Footprint::new(0);
        let words = [1u32, 2, 3];
        f.record(
            &Placed {
                tokens: &words,
                ..Placed::bare("db", Some("db-1"))
            },
            0,
        );
        let indirect = ["db".to_string()];
        let web = Placed {
            indirect: &indirect,
            ..placed("web", &[], &[])
        };
        // The link and the time part alone stay below the threshold ...
        assert_eq!(pick(&[(3, &f)], &web, 10 * S, None), None);
        // ... the same words on top take it there, and the explanation says how it is linked.
        let alike = Placed {
            tokens: &words,
            ..web
        };
        let s = CorrelationSettings::default();
        let (id, scored) = choose([(3, &f)], &alike, 10 * S, &s, None).unwrap();
        assert_eq!(id, 3);
        assert_eq!(
            scored.parts[0].0,
            Part::Topology(Reason::IndirectDependency {
                service: "web".into(),
                on: "db".into(),
                ago: 10 * S
            })
        );
        // A direct dependency comes first when both alerted.
        let direct = ["db".to_string()];
        let both = Placed {
            depends_on: &direct,
            ..alike
        };
        let (_, scored) = choose([(3, &f)], &both, 10 * S, &s, None).unwrap();
        assert!(matches!(
            scored.parts[0].0,
            Part::Topology(Reason::Dependency { .. })
        ));
    }

    #[test]
    fn a_service_links_only_while_its_burst_in_the_incident_is_young() {
        // web alerted here at 0 and again at 150 s; api depends on web.
        let f = footprint(
            0,
            &[("web", Some("web-1"), 0), ("web", Some("web-2"), 150 * S)],
        );
        let deps = ["web".to_string()];
        for (service, deps) in [("web", &[][..]), ("api", &deps[..])] {
            let a = placed(service, &[], deps);
            // 190 s after web's first alert here: it links (recently alerted, young burst).
            assert_eq!(pick(&[(1, &f)], &a, 190 * S, None), Some(1), "{service}");
            // 210 s: web alerted 60 s before, but its burst here began 210 s before, past
            // `burst`: more likely a new fault on web.
            assert_eq!(pick(&[(1, &f)], &a, 210 * S, None), None, "{service}");
        }
    }

    #[test]
    fn a_host_behind_a_switch_that_just_went_down_joins_its_incident() {
        let sw = footprint(0, &[("network", Some("agg-sw-1"), 0)]);
        let ups = ["agg-sw-1".to_string(), "core-sw".to_string()];
        let s = CorrelationSettings::default();
        let (id, scored) = choose([(7, &sw)], &placed("web", &ups, &[]), 30 * S, &s, None).unwrap();
        assert_eq!(id, 7);
        assert_eq!(
            scored.parts[0].0,
            Part::Topology(Reason::BehindUplink {
                uplink: "agg-sw-1".into(),
                ago: 30 * S
            })
        );
        // Two minutes on, the switch explains nothing new.
        assert_eq!(
            pick(&[(7, &sw)], &placed("web", &ups, &[]), 120 * S, None),
            None
        );
    }

    #[test]
    fn a_dependent_service_joins_where_its_dependency_alerted_most_recently() {
        // A dependency alone is weak evidence (it joins at once or not at all): here the
        // words agree too.
        let words = text::tokens(&["connection refused"], None);
        let mut older = Footprint::new(0);
        let mut newer = Footprint::new(50 * S);
        let db = Placed {
            tokens: &words,
            ..Placed::bare("db", None)
        };
        older.record(&db, 0);
        newer.record(&db, 60 * S);
        let deps = ["db".to_string()];
        let a = Placed {
            tokens: &words,
            ..placed("api", &[], &deps)
        };
        assert_eq!(pick(&[(1, &older), (2, &newer)], &a, 70 * S, None), Some(2));
        // Unrelated services do not join.
        assert_eq!(
            pick(&[(1, &older)], &placed("mail", &[], &[]), 10 * S, None),
            None
        );
    }

    #[test]
    fn stronger_links_win_over_more_recent_ones() {
        let same = footprint(0, &[("api", None, 10 * S)]);
        let dep = footprint(0, &[("db", None, 20 * S)]);
        let deps = ["db".to_string()];
        let a = placed("api", &[], &deps);
        assert_eq!(pick(&[(2, &dep), (1, &same)], &a, 30 * S, None), Some(1));
    }

    #[test]
    fn the_catch_all_service_links_nothing() {
        let f = footprint(0, &[("default", None, 10 * S)]);
        let mut p = placed("default", &[], &[]);
        assert!(pick(&[(1, &f)], &p, 20 * S, None).is_some());
        p.service_known = false;
        assert_eq!(pick(&[(1, &f)], &p, 20 * S, None), None);
    }

    #[test]
    fn incidents_close_to_correlation_when_old_or_quiet() {
        let s = CorrelationSettings::default();
        let mut f = footprint(0, &[("api", None, 0)]);
        assert!(f.is_open_to(s.quiet, &s));
        assert!(!f.is_open_to(s.quiet + 1, &s));
        // Busy, but past the window since it opened.
        for t in (0..=s.window + S).step_by(60_000) {
            f.record(&Placed::bare("api", None), t as Millis);
        }
        assert!(!f.is_open_to(s.window + S, &s));
    }

    #[test]
    fn ties_go_to_the_lower_id_whatever_the_order() {
        let a = footprint(0, &[("api", None, 5 * S)]);
        let b = footprint(0, &[("api", None, 5 * S)]);
        let p = placed("api", &[], &[]);
        assert_eq!(pick(&[(4, &a), (3, &b)], &p, 9 * S, None), Some(3));
        assert_eq!(pick(&[(3, &b), (4, &a)], &p, 9 * S, None), Some(3));
    }

    /// Teaches `c` that kinds 1 and 2 fire together on `api` and kind 3 fires alone.
    fn taught() -> Cofire {
        let mut c = Cofire::default();
        let fire = |c: &mut Cofire, kind, host, at| {
            let name = ["", "errors", "latency", "disk"][kind as usize];
            c.observe(
                &Firing {
                    kind,
                    name,
                    service: "api",
                    host: Some(host),
                    uplinks: &[],
                    depends_on: &[],
                    at,
                },
                120 * S,
            )
        };
        for i in 0..10 {
            let t = i * 3600 * S;
            fire(&mut c, 1, "api-1", t);
            fire(&mut c, 2, "api-2", t + 20 * S);
            fire(&mut c, 3, "api-3", t + 1800 * S);
        }
        c
    }

    #[test]
    fn a_known_loner_stays_out_of_an_incident_on_its_service() {
        let c = taught();
        let mut f = Footprint::new(0);
        f.record(
            &Placed {
                kind: 1,
                ..Placed::bare("api", Some("api-1"))
            },
            0,
        );
        let disk = Placed {
            kind: 3,
            ..placed("api", &[], &[])
        };
        let latency = Placed { kind: 2, ..disk };
        assert_eq!(
            pick(&[(1, &f)], &disk, 30 * S, None),
            Some(1),
            "rules alone"
        );
        let s = CorrelationSettings::default();
        let out = score(&f, &disk, 30 * S, &s, Some(&c));
        assert!(out.score < 0.5, "{out:?}");
        assert_eq!(
            out.explain(Some("api-3")),
            "score -0.39 (needs 0.50): topology: service api alerted here 30s before (+0.50); \
             fires alone 100% of the time (-0.98); 30s after its last alert (+0.09)"
        );
        let (id, scored) = choose([(1, &f)], &latency, 30 * S, &s, Some(&c)).unwrap();
        assert_eq!(id, 1);
        assert_eq!(
            scored.explain(Some("api-2")),
            "score 0.78 (needs 0.50): topology: service api alerted here 30s before (+0.50); \
             co-fires with errors 100% of the time (+0.20); 30s after its last alert (+0.09)"
        );
    }

    #[test]
    fn similar_words_and_known_companions_join_without_a_topology_link() {
        let c = taught();
        let words = text::tokens(&["api: p99 latency is high, upstream errors"], None);
        let mut f = Footprint::new(0);
        f.record(
            &Placed {
                kind: 1,
                tokens: &words,
                ..Placed::bare("api", Some("api-1"))
            },
            0,
        );
        // Another service, no dependency declared: only what was learned links them.
        let a = Placed {
            kind: 2,
            tokens: &words,
            ..placed("checkout", &[], &[])
        };
        assert_eq!(pick(&[(1, &f)], &a, 10 * S, None), None);
        assert_eq!(pick(&[(1, &f)], &a, 10 * S, Some(&c)), Some(1));
        // A stricter threshold keeps it apart.
        let strict = Placed {
            threshold: 0.8,
            ..a
        };
        assert_eq!(pick(&[(1, &f)], &strict, 10 * S, Some(&c)), None);
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
        let r = Reason::IndirectDependency {
            service: "web".into(),
            on: "db".into(),
            ago: 65 * S,
        };
        assert_eq!(
            r.explain(None),
            "topology: web depends on db through another service, which alerted here 65s before"
        );
        let r = Reason::Recurrence { ago: 600 * S };
        assert_eq!(
            r.explain(None),
            "recurrence: the same alert was in this incident 10m before"
        );
    }

    proptest::proptest! {
        /// The merge keeps what sorting the two lists together kept.
        #[test]
        fn union_is_the_sorted_distinct_concatenation(
            a in proptest::collection::btree_set(0u32..400, 0..300),
            b in proptest::collection::btree_set(0u32..400, 0..60),
            max in 0usize..300,
        ) {
            let (a, b): (Vec<u32>, Vec<u32>) = (a.into_iter().collect(), b.into_iter().collect());
            let mut want = [a.clone(), b.clone()].concat();
            want.sort_unstable();
            want.dedup();
            want.truncate(max);
            proptest::prop_assert_eq!(union(&a, &b, max), want);
        }
    }
}
