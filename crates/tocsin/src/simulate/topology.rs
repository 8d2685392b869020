//! The simulated company: datacenters, each with a core switch and top-of-rack switches
//! under it; services from the vocabulary's tiers with their hosts racked under those
//! switches; and dependencies from each tier on the ones below it. Written out as the
//! `topology.json` a CMDB export gives `tocsin replay --topology`.

use super::rng::Rng;
use super::vocabulary::Vocabulary;
use serde::Serialize;
use std::collections::BTreeMap;

#[derive(Serialize)]
pub struct Service {
    pub tier: String,
    pub dc: String,
    pub hosts: Vec<String>,
    pub depends_on: Vec<String>,
    /// What it shows when it fails itself (the tier's symptoms); not in the CMDB export.
    #[serde(skip)]
    pub symptoms: Vec<String>,
}

#[derive(Serialize)]
pub struct Host {
    pub service: String,
    pub ip: String,
    pub switch: String,
    pub dc: String,
}

#[derive(Serialize)]
pub struct Switch {
    pub dc: String,
    pub parent: Option<String>,
    pub ip: String,
}

#[derive(Serialize)]
pub struct Topology {
    pub services: BTreeMap<String, Service>,
    pub hosts: BTreeMap<String, Host>,
    pub switches: BTreeMap<String, Switch>,
    /// Who depends on each service.
    #[serde(skip)]
    pub dependents: BTreeMap<String, Vec<String>>,
}

/// How big the company is.
pub struct Size {
    pub datacenters: usize,
    /// Multiplies every service's host count (storm profiles rack more hosts per switch).
    pub host_scale: i64,
}

impl Topology {
    pub fn build(rng: &mut Rng, vocab: &Vocabulary, size: &Size) -> Topology {
        let mut t = Topology {
            services: BTreeMap::new(),
            hosts: BTreeMap::new(),
            switches: BTreeMap::new(),
            dependents: BTreeMap::new(),
        };
        let dcs: Vec<String> = (1..=size.datacenters).map(|d| format!("dc{d}")).collect();
        let mut racks: BTreeMap<&str, Vec<String>> = BTreeMap::new();
        for (d, dc) in dcs.iter().enumerate() {
            let core = format!("core-{dc}");
            t.switches.insert(
                core.clone(),
                Switch {
                    dc: dc.clone(),
                    parent: None,
                    ip: format!("10.{}.0.1", d + 1),
                },
            );
            for r in 1..=rng.range(2, 4) {
                let tor = format!("tor-{dc}-{r}");
                t.switches.insert(
                    tor.clone(),
                    Switch {
                        dc: dc.clone(),
                        parent: Some(core.clone()),
                        ip: format!("10.{}.0.{}", d + 1, r + 1),
                    },
                );
                racks.entry(dc).or_default().push(tor);
            }
        }
        let mut next_ip: BTreeMap<&str, u32> = BTreeMap::new();
        let mut by_tier: Vec<Vec<String>> = Vec::new();
        for tier in &vocab.tiers {
            let mut names = tier.services.clone();
            rng.shuffle(&mut names);
            // Not every company runs every service of the vocabulary.
            let keep = (names.len() * rng.range(60, 100) as usize / 100).max(2);
            let mut ids = Vec::new();
            for name in names.into_iter().take(keep) {
                let d = rng.below(dcs.len());
                let dc = &dcs[d];
                let n = rng.range(tier.hosts[0], tier.hosts[1]) * size.host_scale;
                let mut hosts = Vec::new();
                for i in 1..=n {
                    let host = format!("{name}{i:02}-{dc}");
                    let k = next_ip.entry(dc).or_insert(0);
                    *k += 1;
                    t.hosts.insert(
                        host.clone(),
                        Host {
                            service: name.clone(),
                            ip: format!("10.{}.{}.{}", d + 1, 1 + *k / 250, 1 + *k % 250),
                            switch: rng.pick(&racks[dc.as_str()]).clone(),
                            dc: dc.clone(),
                        },
                    );
                    hosts.push(host);
                }
                t.services.insert(
                    name.clone(),
                    Service {
                        tier: tier.tier.clone(),
                        dc: dc.clone(),
                        hosts,
                        depends_on: Vec::new(),
                        symptoms: tier.symptoms.clone(),
                    },
                );
                ids.push(name);
            }
            by_tier.push(ids);
        }
        // Each service calls one to three services below it; the top tier also calls its
        // own kind (a storefront calls checkout).
        let top = by_tier.len() - 1;
        for (i, ids) in by_tier.iter().enumerate() {
            for id in ids {
                let mut pool: Vec<&String> = by_tier[..i].iter().flatten().collect();
                if i == top {
                    pool.extend(ids.iter().filter(|s| *s != id));
                }
                rng.shuffle(&mut pool);
                let k = pool.len().min(rng.range(1, 3) as usize);
                let mut deps: Vec<String> = pool[..k].iter().map(|s| (*s).clone()).collect();
                deps.sort();
                for d in &deps {
                    t.dependents.entry(d.clone()).or_default().push(id.clone());
                }
                t.services.get_mut(id).expect("just added").depends_on = deps;
            }
        }
        for list in t.dependents.values_mut() {
            list.sort();
        }
        t
    }

    /// A host's or switch's IP.
    pub fn ip(&self, host: &str) -> &str {
        self.hosts
            .get(host)
            .map(|h| h.ip.as_str())
            .or_else(|| self.switches.get(host).map(|s| s.ip.as_str()))
            .unwrap_or("")
    }

    /// A host's or switch's datacenter.
    pub fn dc(&self, host: &str) -> &str {
        self.hosts
            .get(host)
            .map(|h| h.dc.as_str())
            .or_else(|| self.switches.get(host).map(|s| s.dc.as_str()))
            .unwrap_or("")
    }

    /// The hosts racked under `switch` or any switch below it.
    pub fn hosts_under(&self, switch: &str) -> Vec<&str> {
        self.hosts
            .iter()
            .filter(|(_, h)| {
                h.switch == switch || self.switches[&h.switch].parent.as_deref() == Some(switch)
            })
            .map(|(name, _)| name.as_str())
            .collect()
    }
}
