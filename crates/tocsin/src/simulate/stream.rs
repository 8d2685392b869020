//! Alerts placed on the timeline: each alert's episodes (firing to resolved, several when it
//! flaps), Prometheus re-sending a firing alert every minute, and the events that result, in
//! time order. One alert identity never has two episodes at once, as a real check cannot.

use super::rng::Rng;
use super::vocabulary::{Severity, Tool};
use std::collections::HashMap;
use std::rc::Rc;
use tocsin_core::time::Millis;

/// An alert the company's tools raise, and the true incident it belongs to.
pub struct Alert {
    pub tool: Tool,
    pub name: String,
    pub severity: Severity,
    pub text: String,
    /// A host, or a switch.
    pub host: String,
    pub ip: String,
    pub dc: String,
    /// `network` for a switch.
    pub service: String,
    /// Whether it is a host check (Nagios sends those without a service description).
    pub host_check: bool,
    pub incident: String,
}

impl Alert {
    /// What makes it one alert to its tool (the truth file's `alert`).
    pub fn identity(&self) -> String {
        format!("{}|{}|{}", self.tool.name(), self.host, self.name)
    }
}

/// One firing-to-resolved span of an alert.
pub struct Episode {
    pub alert: Rc<Alert>,
    pub started: Millis,
}

pub struct Event {
    pub at: Millis,
    pub firing: bool,
    pub episode: Rc<Episode>,
}

#[derive(Default)]
pub struct Stream {
    /// (at, order of adding, event): the order keeps events of one second stable.
    events: Vec<(Millis, u64, Event)>,
    busy: HashMap<String, Vec<(Millis, Millis)>>,
}

/// Prometheus evaluates and re-sends every firing alert this often.
const RESEND_MS: Millis = 60_000;

impl Stream {
    /// Adds `alert` firing from `start` to `end`, resolving and firing again `flaps` times
    /// in between; false (and nothing added) when the same alert is already firing then.
    pub fn add(
        &mut self,
        rng: &mut Rng,
        alert: Alert,
        start: Millis,
        end: Millis,
        flaps: u32,
    ) -> bool {
        let spans = self.busy.entry(alert.identity()).or_default();
        if spans.iter().any(|&(s, e)| start <= e && s <= end) {
            return false;
        }
        spans.push((start, end));
        let alert = Rc::new(alert);
        let span = end - start;
        let starts: Vec<Millis> = (0..=i64::from(flaps))
            .map(|k| start + span * k / (i64::from(flaps) + 1) / 1000 * 1000)
            .collect();
        for (i, &t) in starts.iter().enumerate() {
            // A flap resolves a little before it fires again.
            let stop = match starts.get(i + 1) {
                Some(next) => next - rng.range(20, 90) * 1000,
                None => end,
            };
            let episode = Rc::new(Episode {
                alert: alert.clone(),
                started: t,
            });
            self.push(t, true, &episode);
            if alert.tool == Tool::Prometheus {
                let mut again = t + RESEND_MS;
                while again < stop {
                    self.push(again, true, &episode);
                    again += RESEND_MS;
                }
            }
            if stop > t {
                self.push(stop, false, &episode);
            }
        }
        true
    }

    fn push(&mut self, at: Millis, firing: bool, episode: &Rc<Episode>) {
        let order = self.events.len() as u64;
        self.events.push((
            at,
            order,
            Event {
                at,
                firing,
                episode: episode.clone(),
            },
        ));
    }

    /// The events in time order.
    pub fn finish(mut self) -> Vec<Event> {
        self.events.sort_by_key(|(at, order, _)| (*at, *order));
        self.events.into_iter().map(|(_, _, e)| e).collect()
    }
}
