//! `tocsin simulate send`: a stream played against a running server now, through the
//! endpoints the real tools use. Prometheus' alerts go to `/api/v2/alerts`, which takes an
//! API token, or none from this machine with the built-in config, so a fresh `tocsin serve`
//! needs nothing more; Zabbix, Nagios and Open-Falcon go to `/hooks/KEY` with the key of an
//! integration of their kind (`--key zabbix=KEY`). The company uses Prometheus and the
//! tools there is a key for, so without keys every alert comes from Prometheus.
//!
//! Times move to now, compressed by `--speed` (by default a story plays in about a
//! minute), or the events go out at `--rate` a second regardless of their spacing.

use super::render::payload;
use super::vocabulary::Tool;
use super::{count, Scenario};
use crate::client::{Client, ClientArgs};
use clap::Args;
use std::time::Duration;
use tocsin_core::clock::{Clock, SystemClock};
use tocsin_core::time::Millis;

#[derive(Args)]
pub struct SendArgs {
    #[command(flatten)]
    scenario: Scenario,
    #[command(flatten)]
    client: ClientArgs,
    /// TOOL=KEY: the key of an integration of that kind in the server's config (zabbix,
    /// nagios, open-falcon); repeat for more.
    #[arg(long = "key", value_parser = parse_key)]
    keys: Vec<(Tool, String)>,
    /// How many times faster than real time (default: the whole stream in about a minute).
    #[arg(long, conflicts_with = "rate")]
    speed: Option<f64>,
    /// Events a second, evenly, whatever their spacing in the stream.
    #[arg(long)]
    rate: Option<f64>,
}

fn parse_key(text: &str) -> Result<(Tool, String), String> {
    let (tool, key) = text
        .split_once('=')
        .ok_or_else(|| format!("{text:?} is not TOOL=KEY"))?;
    let tool = match tool {
        "zabbix" => Tool::Zabbix,
        "nagios" => Tool::Nagios,
        "open-falcon" => Tool::OpenFalcon,
        other => {
            return Err(format!(
                "{other:?}: a key is for zabbix, nagios or open-falcon (Prometheus sends to /api/v2/alerts)"
            ))
        }
    };
    Ok((tool, key.to_string()))
}

/// How long a stream takes at the default speed.
const DEFAULT_PLAY_MS: f64 = 60_000.0;
/// How often progress is printed.
const PROGRESS_MS: Millis = 5_000;

pub fn run(a: &SendArgs) -> Result<String, String> {
    let mut tools = vec![Tool::Prometheus];
    tools.extend(a.keys.iter().map(|(t, _)| *t));
    let sim = a.scenario.generate(&tools)?;
    let (Some(first), Some(last)) = (sim.events.first(), sim.events.last()) else {
        return Err("the stream is empty".into());
    };
    let (first, span) = (first.at, (last.at - first.at).max(1) as f64);
    let n = sim.events.len();
    let speed = match (a.speed, a.rate) {
        (Some(s), _) if s > 0.0 => s,
        (Some(_), _) => return Err("--speed must be above zero".into()),
        (None, Some(r)) if r > 0.0 => span / (n as f64 * 1000.0 / r),
        (None, Some(_)) => return Err("--rate must be above zero".into()),
        (None, None) => (span / DEFAULT_PLAY_MS).max(1.0),
    };
    let clock = SystemClock;
    let start = clock.now();
    let time = |t: Millis| start + ((t - first) as f64 / speed) as Millis;
    let due = |i: usize, t: Millis| match a.rate {
        Some(r) => start + (i as f64 * 1000.0 / r) as Millis,
        None => time(t),
    };
    println!(
        "sending {} of {} at {speed:.0}x real time to {}",
        count(n, "event", "events"),
        a.scenario.name(),
        a.client.url
    );
    let client = Client::new(&a.client);
    let agent = ureq::AgentBuilder::new()
        .timeout(Duration::from_secs(30))
        .build();
    let base = a.client.url.trim_end_matches('/');
    let (mut accepted, mut refused, mut first_refusal) = (0usize, 0usize, None);
    let mut next_progress = start + PROGRESS_MS;
    for (i, e) in sim.events.iter().enumerate() {
        let wait = due(i, e.at) - clock.now();
        if wait > 0 {
            std::thread::sleep(Duration::from_millis(wait as u64));
        }
        let body = payload(e, &time);
        let tool = e.episode.alert.tool;
        let result = match a.keys.iter().find(|(t, _)| *t == tool) {
            None => client.post("/api/v2/alerts", &body).map(drop),
            Some((Tool::OpenFalcon, key)) => {
                // Open-Falcon's alarm callback is a GET with the event as query parameters.
                let mut req = agent.get(&format!("{base}/hooks/{key}"));
                for (k, v) in body.as_object().into_iter().flatten() {
                    req = req.query(k, v.as_str().unwrap_or_default());
                }
                req.call().map(drop).map_err(|e| e.to_string())
            }
            Some((_, key)) => agent
                .post(&format!("{base}/hooks/{key}"))
                .send_json(&body)
                .map(drop)
                .map_err(|e| e.to_string()),
        };
        match result {
            Ok(()) => accepted += 1,
            Err(e)
                if e.contains("cannot reach the server") || e.starts_with("Connection Failed") =>
            {
                return Err(format!(
                    "{e} (is `tocsin serve` running at {}?)",
                    a.client.url
                ))
            }
            Err(e) => {
                refused += 1;
                first_refusal.get_or_insert(format!("{} event seq {}: {e}", tool.name(), i + 1));
            }
        }
        if clock.now() >= next_progress {
            println!("  {}/{n} sent, {accepted} accepted", i + 1);
            next_progress += PROGRESS_MS;
        }
    }
    let refusals = match first_refusal {
        Some(why) => format!(", {refused} refused (the first: {why})"),
        None => String::new(),
    };
    Ok(format!(
        "sent {} in {:.1} s: {accepted} accepted{refusals}\nsee the incidents: {base}/ui/",
        count(n, "event", "events"),
        (clock.now() - start) as f64 / 1000.0
    ))
}
