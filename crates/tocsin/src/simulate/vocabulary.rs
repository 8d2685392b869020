//! What the simulated company's alerts are called: its services by tier, and for every
//! symptom the alerts that report it, each with the tool that sends it. `en` (the default,
//! which correlation was tuned on) and `zh` are built in; a JSON file of the same shape
//! gives another, such as the held-out ones in `bench/vocabularies/`.
//!
//! Texts may hold `{host}`, `{ip}`, `{service}`, `{peer}` (the other end: a dependency or a
//! switch port), `{pct}` and `{value}`, filled in per alert.

use super::rng::Rng;
use clap::ValueEnum;
use serde::Deserialize;
use std::collections::BTreeMap;

/// The monitoring tools the simulator speaks as; each sends its own payload (`render`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Deserialize, ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum Tool {
    Prometheus,
    Zabbix,
    Nagios,
    OpenFalcon,
}

impl Tool {
    /// The integration name of `events.jsonl` (and of the `--key` option).
    pub fn name(self) -> &'static str {
        match self {
            Tool::Prometheus => "prometheus",
            Tool::Zabbix => "zabbix",
            Tool::Nagios => "nagios",
            Tool::OpenFalcon => "open-falcon",
        }
    }
}

/// One scale for every vocabulary; each tool says it in its own words (`render`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Critical,
    High,
    Warning,
    Info,
}

/// An alert as a tool reports it: its name, severity and text.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Phrase {
    pub tool: Tool,
    pub name: String,
    pub severity: Severity,
    pub text: String,
}

/// A tier of services; services depend on services of the tiers listed before theirs.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tier {
    pub tier: String,
    pub services: Vec<String>,
    /// How many hosts a service has: `[fewest, most]`.
    pub hosts: [i64; 2],
    /// The symptoms a failing service of this tier shows itself (keys of `symptoms`).
    pub symptoms: Vec<String>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Vocabulary {
    #[serde(default, rename = "about")]
    _about: String,
    /// From the bottom (storage) up.
    pub tiers: Vec<Tier>,
    pub symptoms: BTreeMap<String, Vec<Phrase>>,
    /// One-off alerts that belong to no fault.
    pub noise: Vec<Phrase>,
}

/// The symptoms the fault model uses; a vocabulary must phrase each.
const REQUIRED: [&str; 8] = [
    "host-down",
    "host-cpu",
    "host-memory",
    "host-disk",
    "service-errors",
    "service-latency",
    "service-upstream",
    "network-link",
];

impl Vocabulary {
    /// `en`, `zh`, or the path of a JSON file.
    pub fn load(which: &str) -> Result<Vocabulary, String> {
        let (text, from) = match which {
            "en" => (include_str!("vocab/en.json").to_string(), "en".to_string()),
            "zh" => (include_str!("vocab/zh.json").to_string(), "zh".to_string()),
            path => (
                std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))?,
                path.to_string(),
            ),
        };
        let v: Vocabulary =
            serde_json::from_str(&text).map_err(|e| format!("vocabulary {from}: {e}"))?;
        v.check().map_err(|e| format!("vocabulary {from}: {e}"))?;
        Ok(v)
    }

    /// Everything the generator will look up is there, so it never fails half-way.
    fn check(&self) -> Result<(), String> {
        let mut wanted: Vec<&str> = REQUIRED.to_vec();
        for t in &self.tiers {
            if t.services.len() < 2 || t.hosts[0] < 1 || t.hosts[1] < t.hosts[0] {
                return Err(format!(
                    "tier {}: needs two services or more and hosts [fewest, most] of 1 or more",
                    t.tier
                ));
            }
            wanted.extend(t.symptoms.iter().map(String::as_str));
        }
        if self.tiers.is_empty() || self.noise.is_empty() {
            return Err("needs tiers and noise".into());
        }
        for key in wanted {
            if self.symptoms.get(key).is_none_or(Vec::is_empty) {
                return Err(format!("symptoms: no phrase for {key:?}"));
            }
        }
        Ok(())
    }

    /// The phrase that reports `symptom` on `host`: a company watches one thing with one
    /// tool, so the choice is fixed per host and symptom. With `tools`, only phrases of
    /// those tools; when none is, the phrase is sent by the first of them.
    pub fn phrase(&self, symptom: &str, host: &str, tools: &[Tool]) -> Phrase {
        let all = &self.symptoms[symptom];
        choose(all, super::rng::stable_hash(&[host, symptom]), tools)
    }

    /// A noise phrase, drawn.
    pub fn noise(&self, rng: &mut Rng, tools: &[Tool]) -> Phrase {
        choose(&self.noise, rng.next_u64(), tools)
    }
}

fn choose(all: &[Phrase], n: u64, tools: &[Tool]) -> Phrase {
    let allowed: Vec<&Phrase> = all.iter().filter(|p| tools.contains(&p.tool)).collect();
    if allowed.is_empty() {
        let mut p = all[(n % all.len() as u64) as usize].clone();
        p.tool = tools[0];
        p
    } else {
        allowed[(n % allowed.len() as u64) as usize].clone()
    }
}

/// What a phrase's placeholders stand for in one alert.
pub struct Fill<'a> {
    pub host: &'a str,
    pub ip: &'a str,
    pub service: &'a str,
    pub peer: &'a str,
}

/// `text` with its placeholders filled in; `{pct}` and `{value}` are drawn.
pub fn fill(text: &str, f: &Fill, rng: &mut Rng) -> String {
    const PCT: [u32; 7] = [87, 89, 92, 94, 96, 98, 99];
    const VALUE: [u32; 8] = [15, 40, 90, 160, 420, 800, 1800, 5000];
    let mut out = text
        .replace("{host}", f.host)
        .replace("{ip}", f.ip)
        .replace("{service}", f.service)
        .replace("{peer}", f.peer);
    if out.contains("{pct}") {
        out = out.replace("{pct}", &rng.pick(&PCT).to_string());
    }
    if out.contains("{value}") {
        out = out.replace("{value}", &rng.pick(&VALUE).to_string());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_built_in_vocabularies_load() {
        for v in ["en", "zh"] {
            let voc = Vocabulary::load(v).unwrap();
            let p = voc.phrase("host-down", "web-01", &[Tool::Zabbix]);
            assert_eq!(p.tool, Tool::Zabbix, "{v}: only the tools allowed");
        }
        let e = Vocabulary::load("/nonexistent.json").unwrap_err();
        assert!(e.starts_with("/nonexistent.json: "), "{e}");
    }

    #[test]
    fn a_vocabulary_without_a_symptom_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v.json");
        let phrase = r#"{"tool": "nagios", "name": "x", "severity": "info", "text": "t"}"#;
        std::fs::write(
            &path,
            format!(
                r#"{{"tiers": [{{"tier": "app", "services": ["a", "b"], "hosts": [1, 2], "symptoms": []}}],
                    "symptoms": {{"host-down": [{phrase}]}}, "noise": [{phrase}]}}"#
            ),
        )
        .unwrap();
        let e = Vocabulary::load(path.to_str().unwrap()).unwrap_err();
        assert!(e.ends_with("symptoms: no phrase for \"host-cpu\""), "{e}");
    }
}
