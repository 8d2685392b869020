//! The `tocsin` binary: the server and the command-line client in one.

mod check;
mod client;
mod export;
mod incident;
mod key;
mod oncall;
mod oncall_override;
mod preview;
mod replay;
mod send;
mod serve;
mod silence;
mod simulate;
mod user;

use clap::{Parser, Subcommand};

/// mimalloc instead of the system allocator: intake allocates and frees many small strings
/// per alert, and glibc malloc took about a third of the request threads' time under load.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
use std::process::ExitCode;

/// tocsin: every monitoring tool reports to one place; duplicates and storms fold into
/// incidents; the right person is paged.
#[derive(Parser)]
#[command(name = "tocsin", version, about, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server (embedded store, built-in config unless --config is given).
    Serve(serve::ServeArgs),
    /// Validate a config file and print every error with its path.
    Check(check::CheckArgs),
    /// Make a new random integration key and print it with its SHA-256 for the config.
    Key(key::KeyArgs),
    /// Write a data directory's events as a stream `replay` reads (works while serving).
    Export(export::ExportArgs),
    /// Replay a recorded stream through the adapters and engine on a virtual clock.
    Replay(replay::ReplayArgs),
    /// Replay recent history with the current and a new config; show how incidents differ.
    Preview(preview::PreviewArgs),
    /// Generate alert streams (a switch storm, a bad deploy, ...): write them for replay
    /// with their ground truth, or send them to a running server.
    #[command(subcommand)]
    Simulate(simulate::SimulateCommand),
    /// Send an event to a server, like `amtool alert add`.
    Send(send::SendArgs),
    /// Who is on call, and the final shifts of a schedule, from a config file.
    #[command(subcommand)]
    Oncall(oncall::OncallCommand),
    /// List, show, acknowledge and resolve incidents.
    #[command(subcommand)]
    Incident(incident::IncidentCommand),
    /// Add, list and expire silences, one-off or recurring.
    #[command(subcommand)]
    Silence(silence::SilenceCommand),
    /// Web console sign-ins: hash a password for the config, add, list and remove accounts.
    #[command(subcommand)]
    User(user::UserCommand),
}

fn main() -> ExitCode {
    // Before parsing, so `tocsin --help | head -1` ends quietly too.
    if std::env::args_os().nth(1).is_none_or(|a| a != "serve") {
        restore_sigpipe();
    }
    let cli = Cli::parse();
    match cli.command {
        Command::Serve(args) => serve::run(args),
        Command::Check(args) => check::run(args),
        Command::Key(args) => key::run(args),
        Command::Export(args) => export::run(args),
        Command::Replay(args) => replay::run(args),
        Command::Preview(args) => preview::run(args),
        Command::Simulate(cmd) => simulate::run(cmd),
        Command::Send(args) => send::run(args),
        Command::Incident(cmd) => incident::run(cmd),
        Command::Oncall(cmd) => oncall::run(cmd),
        Command::Silence(cmd) => silence::run(cmd),
        Command::User(cmd) => user::run(cmd),
    }
}

/// Rust starts every program with SIGPIPE ignored, so printing into a closed pipe
/// (`tocsin oncall override list --json | head`) fails with EPIPE and `println!` panics
/// ("failed printing to stdout: Broken pipe"). The commands that print take the default
/// action back, and end quietly on a closed pipe like `cat` or `ls`. `serve` keeps it
/// ignored: a client hanging up mid-answer (a write to a closed socket, which raises SIGPIPE
/// too) must cost that one connection an error, not the server its life.
fn restore_sigpipe() {
    #[cfg(unix)]
    // SAFETY: called first thing in main, before any thread is started; SIG_DFL is a valid
    // disposition for SIGPIPE.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}
