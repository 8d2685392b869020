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
                "{}: valid ({} teams, {} services, {} tokens)",
                args.config.display(),
                c.teams.len(),
                c.services.len(),
                c.tokens.len()
            );
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
