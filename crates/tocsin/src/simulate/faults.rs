//! The fault model: what breaks, and which alerts follow. A failed switch takes the hosts
//! racked under it down; a host or service in trouble shows its symptoms; and trouble
//! spreads to the services that depend on an affected one, a hop at a time, later and
//! thinner with each hop. Every alert a fault causes carries the fault's id as its true
//! incident.

use super::rng::Rng;
use super::stream::{Alert, Stream};
use super::topology::Topology;
use super::vocabulary::{fill, Fill, Phrase, Tool, Vocabulary};
use tocsin_core::config::NETWORK_SERVICE;
use tocsin_core::time::Millis;

const SECOND: Millis = 1000;
const MINUTE: Millis = 60 * SECOND;

/// Everything a fault needs to raise alerts.
pub struct World<'a> {
    pub rng: Rng,
    pub vocab: &'a Vocabulary,
    pub topo: Topology,
    pub stream: Stream,
    /// The tools the company uses.
    pub tools: &'a [Tool],
}

/// How long a fault lasts when a story does not say.
pub fn drawn_duration(rng: &mut Rng) -> Millis {
    rng.range(8, 70) * MINUTE
}

impl World<'_> {
    /// `phrase` raised on `host` from `start` to `end`.
    #[allow(clippy::too_many_arguments)]
    fn raise(
        &mut self,
        phrase: Phrase,
        host: &str,
        service: &str,
        peer: &str,
        incident: &str,
        (start, end): (Millis, Millis),
        flaps: u32,
        host_check: bool,
    ) {
        let ip = self.topo.ip(host).to_string();
        let f = Fill {
            host,
            ip: &ip,
            service,
            peer,
        };
        let alert = Alert {
            tool: phrase.tool,
            name: fill(&phrase.name, &f, &mut self.rng),
            severity: phrase.severity,
            text: fill(&phrase.text, &f, &mut self.rng),
            host: host.to_string(),
            dc: self.topo.dc(host).to_string(),
            ip,
            service: service.to_string(),
            host_check,
            incident: incident.to_string(),
        };
        self.stream.add(&mut self.rng, alert, start, end, flaps);
    }

    /// A symptom of a fault: the tool that watches it on that host reports it, and now and
    /// then it flaps once.
    fn symptom(
        &mut self,
        symptom: &str,
        host: &str,
        service: &str,
        peer: &str,
        incident: &str,
        span: (Millis, Millis),
    ) {
        let phrase = self.vocab.phrase(symptom, host, self.tools);
        let flaps = u32::from(self.rng.chance(0.12));
        self.raise(
            phrase,
            host,
            service,
            peer,
            incident,
            span,
            flaps,
            symptom == "host-down",
        );
    }

    /// When an alert of a fault ending at `end` resolves: not all at once.
    fn until(&mut self, end: Millis) -> Millis {
        end + self.rng.range(-1, 4) * MINUTE
    }

    /// `switch` fails at `t` for `duration`: its port goes down, every host under it stops
    /// answering within about a minute, and their services' dependents feel it.
    pub fn switch_down(&mut self, incident: &str, t: Millis, duration: Millis, switch: &str) {
        let end = t + duration;
        let port = format!("Ethernet1/{}", self.rng.range(1, 48));
        let until = self.until(end);
        self.symptom(
            "network-link",
            switch,
            NETWORK_SERVICE,
            &port,
            incident,
            (t, until),
        );
        let mut services = Vec::new();
        for host in self
            .topo
            .hosts_under(switch)
            .into_iter()
            .map(str::to_string)
            .collect::<Vec<_>>()
        {
            let service = self.topo.hosts[&host].service.clone();
            let start = t + self.rng.range(5, 70) * SECOND;
            let until = self.until(end);
            self.symptom("host-down", &host, &service, "", incident, (start, until));
            if !services.contains(&service) {
                services.push(service);
            }
        }
        services.sort();
        let hop1: Vec<(String, u32)> = services.into_iter().map(|s| (s, 1)).collect();
        self.spread(incident, t, end, hop1);
    }

    /// A host's `symptom` from `t`: a host down, a disk, memory or CPU; the first three
    /// hurt its service too.
    pub fn host_trouble(
        &mut self,
        incident: &str,
        t: Millis,
        duration: Millis,
        host: &str,
        symptom: &str,
    ) {
        let end = t + duration;
        let service = self.topo.hosts[host].service.clone();
        let until = self.until(end);
        self.symptom(symptom, host, &service, "", incident, (t, until));
        if symptom != "host-cpu" {
            self.spread(incident, t, end, vec![(service, 1)]);
        }
    }

    /// `service` itself degrades at `t` (a bad deploy, an overload): its own symptoms on
    /// most of its hosts, then its dependents'.
    pub fn service_trouble(&mut self, incident: &str, t: Millis, duration: Millis, service: &str) {
        self.spread(incident, t, t + duration, vec![(service.to_string(), 0)]);
    }

    /// Trouble moving up the dependencies from `affected` (service, hop): hop 0 is the
    /// service at fault, showing its tier's symptoms; later hops see errors, slowness and
    /// failing calls, a little later and on fewer hosts each hop, for three hops at most.
    fn spread(&mut self, incident: &str, t: Millis, end: Millis, affected: Vec<(String, u32)>) {
        let mut seen: Vec<String> = affected.iter().map(|(s, _)| s.clone()).collect();
        let mut queue = std::collections::VecDeque::from(affected);
        while let Some((service, hop)) = queue.pop_front() {
            let start =
                t + (i64::from(hop) * self.rng.range(20, 80) + self.rng.range(0, 30)) * SECOND;
            if start >= end {
                continue;
            }
            let share = [0.9, 0.7, 0.5, 0.3][hop.min(3) as usize];
            let (hosts, own, deps) = {
                let s = &self.topo.services[&service];
                (s.hosts.clone(), s.symptoms.clone(), s.depends_on.clone())
            };
            let felt = ["service-errors", "service-upstream", "service-latency"].map(String::from);
            for host in &hosts {
                if !self.rng.chance(share) {
                    continue;
                }
                let symptom = if hop == 0 {
                    self.rng.pick(&own).clone()
                } else {
                    self.rng.pick(&felt).clone()
                };
                let peer = if deps.is_empty() {
                    "upstream".to_string()
                } else {
                    self.rng.pick(&deps).clone()
                };
                let from = start + self.rng.range(0, 40) * SECOND;
                let until = self.until(end);
                self.symptom(&symptom, host, &service, &peer, incident, (from, until));
            }
            if hop < 3 {
                let next = self
                    .topo
                    .dependents
                    .get(&service)
                    .cloned()
                    .unwrap_or_default();
                for dependent in next {
                    if !seen.contains(&dependent)
                        && self.rng.chance(if hop == 0 { 0.8 } else { 0.5 })
                    {
                        seen.push(dependent.clone());
                        queue.push_back((dependent, hop + 1));
                    }
                }
            }
        }
    }

    /// A one-off alert on `host` that belongs to no fault.
    pub fn noise(&mut self, incident: &str, t: Millis, duration: Millis, host: &str) {
        // A check that flaps no more times: the same draws, so streams stay as they were.
        self.flapping(incident, t, duration, host, 0);
    }

    /// A check on `host` that fires and resolves `flaps` more times within `duration`.
    pub fn flapping(
        &mut self,
        incident: &str,
        t: Millis,
        duration: Millis,
        host: &str,
        flaps: u32,
    ) {
        let phrase = self.vocab.noise(&mut self.rng, self.tools);
        let service = self.topo.hosts[host].service.clone();
        self.raise(
            phrase,
            host,
            &service,
            "",
            incident,
            (t, t + duration),
            flaps,
            false,
        );
    }
}
