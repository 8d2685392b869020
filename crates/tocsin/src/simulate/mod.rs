//! `tocsin simulate`: tocsin's own scenario generator. A profile (a switch storm, a bad
//! deploy, a flapping check, noise, or hours of everything) at a seed becomes a stream of
//! the payloads real monitoring tools send, with the company's topology and the ground
//! truth of which alerts are one incident. `write` saves it for `tocsin replay` (and
//! `replay --truth` scores the grouping); `send` plays it against a running server now.
//! The same profile, seed, vocabulary and tools always give byte-identical files.

mod faults;
mod profiles;
mod render;
mod rng;
mod send;
mod stream;
mod topology;
mod vocabulary;

use clap::{Args, Subcommand, ValueEnum};
use profiles::{simulate, Profile, Simulation};
use serde::Serialize;
use std::collections::BTreeSet;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use vocabulary::{Tool, Vocabulary};

#[derive(Subcommand)]
pub enum SimulateCommand {
    /// Write a stream `tocsin replay` reads: events.jsonl, topology.json and truth.jsonl.
    Write(WriteArgs),
    /// Play a stream against a running server now, as the monitoring tools would send it.
    Send(send::SendArgs),
}

/// What to simulate.
#[derive(Args)]
pub struct Scenario {
    #[arg(long, value_enum, default_value = "switch-storm")]
    profile: Profile,
    /// The same seed always gives the same stream.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Alert names and texts: en, zh, or a JSON file of the same shape.
    #[arg(long, default_value = "en")]
    vocabulary: String,
}

#[derive(Args)]
pub struct WriteArgs {
    #[command(flatten)]
    scenario: Scenario,
    /// The tools the company uses (default: all); a symptom none of them watches is sent
    /// by the first.
    #[arg(long, value_enum, value_delimiter = ',')]
    tools: Vec<Tool>,
    /// The folder to write into (made if missing).
    #[arg(long)]
    out: PathBuf,
}

pub fn run(cmd: SimulateCommand) -> ExitCode {
    let result = match cmd {
        SimulateCommand::Write(a) => write(&a),
        SimulateCommand::Send(a) => send::run(&a),
    };
    match result {
        Ok(summary) => {
            println!("{summary}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("tocsin simulate: {e}");
            ExitCode::from(2)
        }
    }
}

const ALL_TOOLS: [Tool; 4] = [
    Tool::Prometheus,
    Tool::Zabbix,
    Tool::Nagios,
    Tool::OpenFalcon,
];

impl Scenario {
    /// How it is named on the command line (`switch-storm seed 1`).
    fn name(&self) -> String {
        let profile = self
            .profile
            .to_possible_value()
            .expect("no profile is skipped");
        format!("{} seed {}", profile.get_name(), self.seed)
    }

    fn generate(&self, tools: &[Tool]) -> Result<Simulation, String> {
        let vocab = Vocabulary::load(&self.vocabulary)?;
        let tools = if tools.is_empty() {
            &ALL_TOOLS[..]
        } else {
            tools
        };
        Ok(simulate(self.profile, self.seed, &vocab, tools))
    }
}

#[derive(Serialize)]
struct EventLine<'a> {
    seq: usize,
    at: String,
    integration: &'a str,
    payload: serde_json::Value,
}

#[derive(Serialize)]
struct TruthLine<'a> {
    seq: usize,
    incident: &'a str,
    alert: String,
    name: &'a str,
    service: &'a str,
}

fn write(a: &WriteArgs) -> Result<String, String> {
    let sim = a.scenario.generate(&a.tools)?;
    std::fs::create_dir_all(&a.out).map_err(|e| format!("{}: {e}", a.out.display()))?;
    let (mut events, mut truth) = (file(&a.out, "events.jsonl")?, file(&a.out, "truth.jsonl")?);
    let mut incidents = BTreeSet::new();
    let mut firing = 0;
    for (i, e) in sim.events.iter().enumerate() {
        let alert = &e.episode.alert;
        let line = EventLine {
            seq: i + 1,
            at: render::rfc3339(e.at),
            integration: alert.tool.name(),
            payload: render::payload(e, &|t| t),
        };
        put(&mut events, &line)?;
        if e.firing {
            firing += 1;
            incidents.insert(alert.incident.as_str());
            let t = TruthLine {
                seq: i + 1,
                incident: &alert.incident,
                alert: alert.identity(),
                name: &alert.name,
                service: &alert.service,
            };
            put(&mut truth, &t)?;
        }
    }
    let topo = serde_json::to_string_pretty(&sim.topology).map_err(|e| e.to_string())?;
    std::fs::write(a.out.join("topology.json"), topo + "\n").map_err(|e| e.to_string())?;
    for mut f in [events, truth] {
        f.flush().map_err(|e| e.to_string())?;
    }
    Ok(format!(
        "{}, {firing} firing, {} -> {}",
        count(sim.events.len(), "event", "events"),
        count(incidents.len(), "true incident", "true incidents"),
        a.out.display()
    ))
}

/// `n` and the noun in the singular or the plural, as the CLI's other summaries count.
fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

fn file(dir: &Path, name: &str) -> Result<BufWriter<std::fs::File>, String> {
    let path = dir.join(name);
    std::fs::File::create(&path)
        .map(BufWriter::new)
        .map_err(|e| format!("{}: {e}", path.display()))
}

/// One JSON line.
fn put(w: &mut impl Write, value: &impl Serialize) -> Result<(), String> {
    serde_json::to_writer(&mut *w, value).map_err(|e| e.to_string())?;
    w.write_all(b"\n").map_err(|e| e.to_string())
}
