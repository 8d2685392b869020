//! The profiles: four short stories that each show one thing tocsin does, and mixtures of
//! everything over hours or days for measuring correlation quality.

use super::faults::{drawn_duration, World};
use super::rng::Rng;
use super::stream::{Event, Stream};
use super::topology::{Size, Topology};
use super::vocabulary::{Tool, Vocabulary};
use clap::ValueEnum;
use tocsin_core::time::Millis;

/// Where every stream starts: 2026-03-02T00:00:00Z.
pub const T0: Millis = 1_772_409_600_000;
const SECOND: Millis = 1000;
const MINUTE: Millis = 60 * SECOND;
const HOUR: Millis = 60 * MINUTE;

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Profile {
    /// A core switch fails: it, dozens of hosts behind it and their services alert within
    /// two minutes; a disk filling up elsewhere meanwhile is another incident (2 in all).
    SwitchStorm,
    /// A deploy breaks a service: errors and latency on its hosts, then failing calls in
    /// the services that depend on it (1 incident).
    BadDeploy,
    /// One check fires and resolves a dozen times in an hour (1 incident).
    FlappingCheck,
    /// Twenty unrelated one-off alerts over two hours (20 incidents).
    Noise,
    /// A day of everything: faults, a switch storm, noise and flapping checks.
    Mixed,
    /// Three hours with two big switch storms, bigger racks, and a fault during each.
    Storm,
    /// Three days of everything at a larger company.
    Large,
}

/// A mixture's dials.
struct Mix {
    hours: i64,
    faults: usize,
    noise_per_hour: i64,
    flapping: usize,
    storms: usize,
}

/// A generated stream and the company it happened at.
pub struct Simulation {
    pub topology: Topology,
    pub events: Vec<Event>,
}

pub fn simulate(profile: Profile, seed: u64, vocab: &Vocabulary, tools: &[Tool]) -> Simulation {
    let mut rng = Rng::new(seed);
    let size = match profile {
        Profile::SwitchStorm => Size {
            datacenters: 2,
            host_scale: 2,
        },
        Profile::BadDeploy | Profile::FlappingCheck | Profile::Noise => Size {
            datacenters: 1,
            host_scale: 1,
        },
        Profile::Mixed => Size {
            datacenters: 2,
            host_scale: 1,
        },
        Profile::Storm => Size {
            datacenters: 2,
            host_scale: 6,
        },
        Profile::Large => Size {
            datacenters: 3,
            host_scale: 3,
        },
    };
    let topo = Topology::build(&mut rng, vocab, &size);
    let mut w = World {
        rng,
        vocab,
        topo,
        stream: Stream::default(),
        tools,
    };
    let start = T0 + MINUTE;
    match profile {
        Profile::SwitchStorm => {
            let duration = w.rng.range(15, 25) * MINUTE;
            w.switch_down("core-dc1-down", start, duration, "core-dc1");
            let elsewhere: Vec<String> = w
                .topo
                .hosts
                .iter()
                .filter(|(_, h)| h.dc != "dc1")
                .map(|(n, _)| n.clone())
                .collect();
            let host = w.rng.pick(&elsewhere).clone();
            let t = start + w.rng.range(4, 8) * MINUTE;
            w.host_trouble(&format!("disk-{host}"), t, 30 * MINUTE, &host, "host-disk");
        }
        Profile::BadDeploy => {
            // The service with the most dependents shows the spread best.
            let service = w
                .topo
                .services
                .keys()
                .max_by_key(|s| w.topo.dependents.get(*s).map_or(0, Vec::len))
                .expect("a vocabulary has services")
                .clone();
            w.service_trouble(&format!("deploy-{service}"), start, 20 * MINUTE, &service);
        }
        Profile::FlappingCheck => {
            let hosts: Vec<String> = w.topo.hosts.keys().cloned().collect();
            let host = w.rng.pick(&hosts).clone();
            w.flapping(&format!("flapping-{host}"), start, HOUR, &host, 11);
        }
        Profile::Noise => {
            let hosts: Vec<String> = w.topo.hosts.keys().cloned().collect();
            for i in 1..=20 {
                let host = w.rng.pick(&hosts).clone();
                let t = start + w.rng.range(0, 2 * HOUR / SECOND) * SECOND;
                let duration = w.rng.range(2, 30) * MINUTE;
                w.noise(&format!("noise-{i}"), t, duration, &host);
            }
        }
        Profile::Mixed => mix(
            &mut w,
            &Mix {
                hours: 24,
                faults: 30,
                noise_per_hour: 10,
                flapping: 6,
                storms: 1,
            },
        ),
        Profile::Storm => mix(
            &mut w,
            &Mix {
                hours: 3,
                faults: 6,
                noise_per_hour: 8,
                flapping: 2,
                storms: 2,
            },
        ),
        Profile::Large => mix(
            &mut w,
            &Mix {
                hours: 72,
                faults: 120,
                noise_per_hour: 25,
                flapping: 20,
                storms: 4,
            },
        ),
    }
    Simulation {
        topology: w.topo,
        events: w.stream.finish(),
    }
}

/// A mixture: faults of every kind at random times, storms with a fault during each that
/// must stay its own incident, noise, and flapping checks.
fn mix(w: &mut World, m: &Mix) {
    let span = m.hours * HOUR;
    let at = |w: &mut World, from: Millis, room: Millis| {
        T0 + w.rng.range(from / SECOND, (span - room) / SECOND) * SECOND
    };
    let hosts: Vec<String> = w.topo.hosts.keys().cloned().collect();
    let services: Vec<String> = w.topo.services.keys().cloned().collect();
    let tors: Vec<String> = w
        .topo
        .switches
        .iter()
        .filter(|(_, s)| s.parent.is_some())
        .map(|(n, _)| n.clone())
        .collect();
    let cores: Vec<String> = w
        .topo
        .switches
        .iter()
        .filter(|(_, s)| s.parent.is_none())
        .map(|(n, _)| n.clone())
        .collect();
    for i in 1..=m.faults {
        let t = at(w, 0, 30 * MINUTE);
        let duration = drawn_duration(&mut w.rng);
        let id = format!("fault-{i}");
        match w.rng.below(5) {
            0 | 1 => {
                let host = w.rng.pick(&hosts).clone();
                let symptom = *w
                    .rng
                    .pick(&["host-down", "host-disk", "host-memory", "host-cpu"]);
                w.host_trouble(&id, t, duration, &host, symptom);
            }
            2 | 3 => {
                let service = w.rng.pick(&services).clone();
                w.service_trouble(&id, t, duration, &service);
            }
            _ => {
                let tor = w.rng.pick(&tors).clone();
                w.switch_down(&id, t, duration, &tor);
            }
        }
    }
    for i in 1..=m.storms {
        let t = at(w, 10 * MINUTE, 30 * MINUTE);
        let duration = drawn_duration(&mut w.rng);
        let core = w.rng.pick(&cores).clone();
        w.switch_down(&format!("storm-{i}"), t, duration, &core);
        let service = w.rng.pick(&services).clone();
        let during = t + w.rng.range(30, 300) * SECOND;
        let duration = drawn_duration(&mut w.rng);
        w.service_trouble(&format!("storm-{i}-bystander"), during, duration, &service);
    }
    for i in 1..=(m.noise_per_hour * m.hours) {
        let t = at(w, 0, 10 * MINUTE);
        let host = w.rng.pick(&hosts).clone();
        let duration = w.rng.range(2, 30) * MINUTE;
        w.noise(&format!("noise-{i}"), t, duration, &host);
    }
    for i in 1..=m.flapping {
        let t = T0 + w.rng.range(0, span / 2 / SECOND) * SECOND;
        let host = w.rng.pick(&hosts).clone();
        let duration = w.rng.range(2, (m.hours / 2).max(3)) * HOUR;
        let flaps = w.rng.range(6, 20) as u32;
        w.flapping(&format!("flapping-{i}"), t, duration, &host, flaps);
    }
}
