//! `tocsin oncall`: who is on call and the final shift list of a schedule, straight from a
//! config file, with no server: the same pure resolution the server uses. Runtime overrides
//! live on a server: `tocsin oncall override` ([`crate::oncall_override`]).

use clap::{Args, Subcommand, ValueEnum};
use std::path::PathBuf;
use std::process::ExitCode;
use tocsin_core::config::Config;
use tocsin_core::schedule::{gaps, on_call_at, shifts, Schedule};
use tocsin_server::ConfigSource;

#[derive(Subcommand)]
pub enum OncallCommand {
    /// Print who is on call (user ids, one a line).
    Who(WhoArgs),
    /// Print the final shifts of a range (layers, restrictions and overrides applied).
    Shifts(ShiftsArgs),
    /// Add, list or delete runtime overrides on a running server.
    #[command(subcommand)]
    Override(crate::oncall_override::OverrideCommand),
}

#[derive(Args)]
pub struct Target {
    /// The YAML config that defines the schedule.
    #[arg(long, short)]
    config: PathBuf,
    /// The schedule id.
    #[arg(long, short)]
    schedule: String,
}

#[derive(Args)]
pub struct WhoArgs {
    #[command(flatten)]
    target: Target,
    /// When: now (default), 2026-03-02T09:00:00+08:00, or 2026-03-02T09:00 on the
    /// schedule's clock.
    #[arg(long, default_value = "now")]
    at: String,
}

#[derive(Args)]
pub struct ShiftsArgs {
    #[command(flatten)]
    target: Target,
    #[arg(long)]
    from: String,
    #[arg(long)]
    to: String,
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
}

/// `--format` of the commands that print text or JSON.
#[derive(Clone, Copy, ValueEnum)]
pub enum Format {
    Text,
    Json,
}

pub fn run(cmd: OncallCommand) -> ExitCode {
    match cmd {
        OncallCommand::Who(a) => who(a),
        OncallCommand::Shifts(a) => list(a),
        OncallCommand::Override(c) => crate::oncall_override::run(c),
    }
}

fn load(t: &Target) -> Result<(Config, usize), ExitCode> {
    let config = ConfigSource::File(t.config.clone())
        .load()
        .map_err(|errors| {
            eprintln!("{}: {} error(s)", t.config.display(), errors.len());
            for e in errors {
                eprintln!("  {e}");
            }
            ExitCode::from(2)
        })?;
    let index = config
        .schedules
        .iter()
        .position(|s| s.id == t.schedule)
        .ok_or_else(|| {
            let known: Vec<&str> = config.schedules.iter().map(|s| s.id.as_str()).collect();
            eprintln!(
                "no schedule {:?} in {}; it has: {}",
                t.schedule,
                t.config.display(),
                if known.is_empty() {
                    "none".to_string()
                } else {
                    known.join(", ")
                }
            );
            ExitCode::from(2)
        })?;
    Ok((config, index))
}

fn now() -> i64 {
    use tocsin_core::clock::Clock;
    tocsin_core::clock::SystemClock.now()
}

fn time(s: &Schedule, text: &str, what: &str) -> Result<i64, ExitCode> {
    s.parse_time(text, now()).map_err(|e| {
        eprintln!("--{what}: {e}");
        ExitCode::from(2)
    })
}

fn who(a: WhoArgs) -> ExitCode {
    let (config, i) = match load(&a.target) {
        Ok(v) => v,
        Err(code) => return code,
    };
    let s = &config.schedules[i];
    let at = match time(s, &a.at, "at") {
        Ok(t) => t,
        Err(code) => return code,
    };
    let users = on_call_at(s, &[], at);
    if users.is_empty() {
        eprintln!("nobody is on call in {} at {}", s.id, s.format_time(at));
        return ExitCode::from(1);
    }
    for u in users {
        println!("{u}");
    }
    ExitCode::SUCCESS
}

fn list(a: ShiftsArgs) -> ExitCode {
    let (config, i) = match load(&a.target) {
        Ok(v) => v,
        Err(code) => return code,
    };
    let s = &config.schedules[i];
    let (from, to) = match (time(s, &a.from, "from"), time(s, &a.to, "to")) {
        (Ok(f), Ok(t)) => (f, t),
        (Err(code), _) | (_, Err(code)) => return code,
    };
    if to <= from {
        eprintln!("--to must be after --from");
        return ExitCode::from(2);
    }
    // A year of hourly hand-offs is about 9,000 shifts; longer ranges are a mistake.
    if to - from > 366 * 24 * 3_600_000 * 2 {
        eprintln!("the range is longer than two years; ask for less");
        return ExitCode::from(2);
    }
    let list = shifts(s, &[], from, to);
    for (gs, ge) in gaps(&list, from, to) {
        eprintln!(
            "warning: nobody is on call from {} to {}",
            s.format_time(gs),
            s.format_time(ge)
        );
    }
    match a.format {
        Format::Json => {
            let items: Vec<_> = list.iter().map(|x| s.view(x)).collect();
            println!("{}", serde_json::to_string(&items).unwrap_or_default());
        }
        Format::Text => {
            for x in &list {
                println!(
                    "{}  {}  {}",
                    s.format_time(x.start),
                    s.format_time(x.end),
                    x.user
                );
            }
        }
    }
    ExitCode::SUCCESS
}
