//! `tocsin key`: a new random secret for an integration, with the line to
//! put in the config, so nobody invents a guessable key by hand.

use clap::Args;
use std::process::ExitCode;

#[derive(Args)]
pub struct KeyArgs {
    /// Print only the key (for scripts).
    #[arg(long)]
    quiet: bool,
}

pub fn run(args: KeyArgs) -> ExitCode {
    // As strong as an API token (32 bytes from the OS, URL-safe, so it fits a path), with
    // its own prefix, `tik_`, so a key is never mistaken for a token.
    let key = tocsin_server::generate_integration_key();
    if args.quiet {
        println!("{key}");
        return ExitCode::SUCCESS;
    }
    let sha = tocsin_core::auth::sha256_hex(&key);
    println!("key:        {key}");
    println!("key_sha256: {sha}");
    println!();
    println!("Give the key to the tool (its URL is /hooks/{key}), and put either line in");
    println!("the integration's config; key_sha256 keeps the key itself out of the file.");
    ExitCode::SUCCESS
}
