//! `tocsin serve`: the whole platform in one process.

use clap::Args;
use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;
use tocsin_core::clock::SystemClock;
use tocsin_server::{generate_token, ConfigSource, Limits, Server, ServerOptions, Signals};

pub const DEFAULT_LISTEN: &str = "127.0.0.1:7600";
pub const DEFAULT_DATA: &str = "./tocsin-data";

#[derive(Args)]
pub struct ServeArgs {
    /// Directory of the embedded store (created if missing).
    #[arg(long, env = "TOCSIN_DATA", default_value = DEFAULT_DATA)]
    data: PathBuf,
    /// Address to listen on; port 0 picks a free port.
    #[arg(long, env = "TOCSIN_LISTEN", default_value = DEFAULT_LISTEN)]
    listen: SocketAddr,
    /// YAML config file; without it the built-in default config applies.
    #[arg(long, short, env = "TOCSIN_CONFIG")]
    config: Option<PathBuf>,
    /// A CMDB export (topology.json) joined into the config's service catalog, read again on
    /// reload (see `tocsin replay --topology`).
    #[arg(long, env = "TOCSIN_TOPOLOGY")]
    topology: Option<PathBuf>,
    /// The URL people reach this server at, for acknowledge/resolve links in notifications
    /// (default: http://LISTEN).
    /// Setting it also pins the Host requests may name to it (and loopback names), and turns
    /// token-less loopback intake off.
    #[arg(long, env = "TOCSIN_PUBLIC_URL")]
    public_url: Option<String>,
    /// Another name requests may give in `Host` (repeat, or comma-separate in the
    /// environment), for programs that reach the server by a name other than the public
    /// URL's; loopback names and the public URL's host always work.
    #[arg(long = "allow-host", env = "TOCSIN_ALLOW_HOSTS", value_delimiter = ',')]
    allow_hosts: Vec<String>,
    /// How long a client gets to send a request's headers; also how long an idle kept-alive
    /// connection stays open.
    #[arg(long, env = "TOCSIN_HEADER_TIMEOUT", default_value = "10s", value_parser = positive_duration)]
    header_timeout: Duration,
    /// How long a client gets to send a whole request body (408 after).
    #[arg(long, env = "TOCSIN_BODY_TIMEOUT", default_value = "60s", value_parser = positive_duration)]
    body_timeout: Duration,
    /// Connections served at once; more wait until one ends. Default: the open-file limit
    /// (raised to its hard limit at start) less 256 for the store, log and outbound sends.
    #[arg(long, env = "TOCSIN_MAX_CONNECTIONS")]
    max_connections: Option<usize>,
}

fn positive_duration(text: &str) -> Result<Duration, String> {
    match tocsin_core::time::parse_duration(text)? {
        0 => Err("must be more than 0s".into()),
        ms => Ok(Duration::from_millis(ms as u64)),
    }
}

/// The admin token: from TOCSIN_ADMIN_TOKEN, else the one stored in DATA/admin-token, else a
/// new one, stored there (mode 0600) and printed this once.
fn admin_token(data: &Path) -> Result<String, String> {
    if let Ok(t) = std::env::var("TOCSIN_ADMIN_TOKEN") {
        if !t.trim().is_empty() {
            return Ok(t.trim().to_string());
        }
    }
    let path = data.join("admin-token");
    match std::fs::read_to_string(&path) {
        Ok(t) if !t.trim().is_empty() => return Ok(t.trim().to_string()),
        Ok(_) => {
            return Err(format!(
                "{} is empty; delete it to generate a new token",
                path.display()
            ))
        }
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            return Err(format!("{}: {e}", path.display()))
        }
        Err(_) => {}
    }
    tocsin_server::data_dir::create(data)?;
    let token = generate_token();
    tocsin_server::write_secret_file(&path, &token)?;
    eprintln!(
        "tocsin: generated an admin API token; it is shown this once and kept in {}:\n  {token}",
        path.display()
    );
    Ok(token)
}

pub fn run(args: ServeArgs) -> ExitCode {
    // Everything the server creates (the store, the log, SQLite's side files, secrets) is
    // for its own user: it holds password hashes, contacts and tokens.
    // SAFETY: umask only sets the process's file mode mask; it cannot fail.
    unsafe { libc::umask(0o077) };
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("TOCSIN_LOG")
                .unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        // Colours only for a person at a terminal: a log file or journald would keep the
        // escape codes as text (issue 17 item 10).
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let config = match (args.config, args.topology) {
        (config, Some(topology)) => ConfigSource::WithTopology { config, topology },
        (Some(path), None) => ConfigSource::File(path),
        (None, None) => ConfigSource::Builtin,
    };
    // Refuse a bad config before anything is created in the data directory.
    if let Err(errors) = config.load() {
        eprintln!("tocsin: invalid config:\n  {}", errors.join("\n  "));
        return ExitCode::from(2);
    }
    let token = match admin_token(&args.data) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("tocsin: {e}");
            return ExitCode::FAILURE;
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("tocsin: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async move {
        let signals = Signals::install().map_err(|e| format!("cannot handle signals: {e}"))?;
        let server = Server::start(ServerOptions {
            data_dir: args.data.clone(),
            listen: args.listen,
            config,
            admin_token: token,
            clock: Arc::new(SystemClock),
            public_url: args.public_url.clone(),
            allow_hosts: args.allow_hosts.clone(),
            limits: Limits {
                header_timeout: args.header_timeout,
                body_timeout: args.body_timeout,
                max_connections: args.max_connections,
            },
        })
        .await?;
        // Tests and scripts read the bound address from this line (port 0 picks one).
        println!("tocsin listening on http://{}", server.addr);
        let _ = std::io::stdout().flush();
        tracing::info!(addr = %server.addr, data = %args.data.display(), "tocsin is serving");
        server.run_until_signal(signals).await
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("tocsin: {e}");
            ExitCode::FAILURE
        }
    }
}
