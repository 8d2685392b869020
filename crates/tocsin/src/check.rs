//! `tocsin check`: validate a config without starting anything.

use clap::Args;
use std::path::PathBuf;
use std::process::ExitCode;
use tocsin_server::ConfigSource;

#[derive(Args)]
pub struct CheckArgs {
    /// The YAML config file to validate.
    #[arg(long, short)]
    config: PathBuf,
}

pub fn run(args: CheckArgs) -> ExitCode {
    match ConfigSource::File(args.config.clone()).load() {
        Ok(c) => {
            println!(
                "{}: valid ({} teams, {} services, {} hosts, {} integrations, {} users, {} schedules, {} tokens)",
                args.config.display(),
                c.teams.len(),
                c.services.len(),
                c.hosts.len(),
                c.integrations.len(),
                c.users.len(),
                c.schedules.len(),
                c.tokens.len()
            );
            for i in &c.integrations {
                let to = i.service.as_deref().unwrap_or("placed by the catalog");
                println!("  integration {} ({}) -> {to}", i.name, i.kind.as_str());
            }
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
