//! `tocsin check`: validate a config without starting anything.

use clap::Args;
use std::path::PathBuf;
use std::process::ExitCode;
use tocsin_core::config::Config;
use tocsin_core::schedule::{gaps, shifts};
use tocsin_server::ConfigSource;

#[derive(Args)]
pub struct CheckArgs {
    /// The YAML config file to validate.
    #[arg(long, short)]
    config: PathBuf,
}

/// How far ahead `check` looks for times nobody is on call.
const GAP_HORIZON: i64 = 28 * 24 * 3_600_000;

/// Warns (on standard error; the config is still valid) about each schedule that leaves
/// nobody on call in the next four weeks: a page then reaches no one from that schedule.
fn warn_gaps(c: &Config) {
    use tocsin_core::clock::Clock;
    let now = tocsin_core::clock::SystemClock.now();
    for s in &c.schedules {
        let list = shifts(s, &[], now, now + GAP_HORIZON);
        let holes = gaps(&list, now, now + GAP_HORIZON);
        let Some(&(first_start, first_end)) = holes.first() else {
            continue;
        };
        let hours: i64 = holes.iter().map(|(a, b)| b - a).sum::<i64>() / 3_600_000;
        eprintln!(
            "warning: schedule {} has nobody on call for {hours} h of the next 4 weeks in {} gap(s); the first from {} to {}",
            s.id,
            holes.len(),
            s.format_time(first_start),
            s.format_time(first_end)
        );
    }
}

/// Names the environment variables the config reads: they were set in this shell, but the
/// server reads its own environment, fixed when it started, so a config that checks here can
/// still be refused on reload (issue 17 item 8).
fn note_environment(path: &std::path::Path) {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let names = tocsin_core::config::env_references(&text);
    if names.is_empty() {
        return;
    }
    println!(
        "  reads the environment: {} (set here); the server needs them in its own environment, fixed when it starts (systemd: Environment= or EnvironmentFile=), and a reload does not change it",
        names.join(", ")
    );
}

pub fn run(args: CheckArgs) -> ExitCode {
    match ConfigSource::File(args.config.clone()).load() {
        Ok(c) => {
            let counts = [
                (c.teams.len(), "team", "teams"),
                (c.services.len(), "service", "services"),
                (c.hosts.len(), "host", "hosts"),
                (c.integrations.len(), "integration", "integrations"),
                (c.users.len(), "user", "users"),
                (c.schedules.len(), "schedule", "schedules"),
                (c.tokens.len(), "token", "tokens"),
            ]
            .map(|(n, one, many)| format!("{n} {}", if n == 1 { one } else { many }));
            println!("{}: valid ({})", args.config.display(), counts.join(", "));
            for i in &c.integrations {
                let to = i.service.as_deref().unwrap_or("placed by the catalog");
                println!("  integration {} ({}) -> {to}", i.name, i.kind.as_str());
            }
            note_environment(&args.config);
            warn_gaps(&c);
            ExitCode::SUCCESS
        }
        Err(errors) => {
            eprintln!("{}: {} error(s)", args.config.display(), errors.len());
            for e in errors {
                eprintln!("  {e}");
            }
            ExitCode::from(2)
        }
    }
}
