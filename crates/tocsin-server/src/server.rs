//! Starting, reloading and stopping the server.

use crate::auth::{sha256_hex, TokenTable};
use crate::error::ApiError;
use crate::front_door::host::{self, HostPolicy};
use crate::front_door::{accept, nofile, FrontDoor};
use crate::metrics::Metrics;
use crate::sink::EngineSink;
use crate::state::{AppState, SharedState};
use arc_swap::ArcSwap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use tocsin_core::clock::Clock;
use tocsin_core::config::{self, Config};
use tocsin_core::links::LinkSigner;
use tocsin_engine::{Engine, EngineFeed, EngineStats};
use tocsin_store::log::{self, LogWriter};
use tocsin_store::sqlite::{self, tokens, ReadPool, SqliteEngineStore};
use tocsin_workers::{Context, Deliveries, Workers};

/// Where the config comes from; reload reads it again.
#[derive(Debug, Clone)]
pub enum ConfigSource {
    Builtin,
    File(PathBuf),
    /// A config (or none: the built-in defaults) with a CMDB export (topology.json) joined
    /// into its service catalog, as `tocsin replay --topology` does; a reload reads both.
    WithTopology {
        config: Option<PathBuf>,
        topology: PathBuf,
    },
}

impl ConfigSource {
    /// Loads and validates, with every error as `path: message`.
    pub fn load(&self) -> Result<Config, Vec<String>> {
        match self {
            ConfigSource::Builtin => Ok(Config::builtin()),
            ConfigSource::File(path) => {
                let text = std::fs::read_to_string(path)
                    .map_err(|e| vec![format!("{}: {e}", path.display())])?;
                config::load_str(&text)
                    .map_err(|errors| errors.iter().map(|e| e.to_string()).collect())
            }
            ConfigSource::WithTopology { config, topology } => {
                let read = |p: &PathBuf| {
                    std::fs::read_to_string(p).map_err(|e| vec![format!("{}: {e}", p.display())])
                };
                let text = config.as_ref().map(read).transpose()?.unwrap_or_default();
                let merged = config::merge_topology(&text, &read(topology)?)
                    .map_err(|e| vec![format!("{}: {e}", topology.display())])?;
                config::load_str(&merged)
                    .map_err(|errors| errors.iter().map(|e| e.to_string()).collect())
            }
        }
    }
}

/// How long a stop waits for in-flight requests.
const SHUTDOWN_GRACE: std::time::Duration = std::time::Duration::from_secs(3);

/// The signals the server acts on. Install them before announcing that the server is up,
/// so a signal sent right after the announcement is handled rather than fatal.
pub struct Signals {
    hup: tokio::signal::unix::Signal,
    term: tokio::signal::unix::Signal,
    int: tokio::signal::unix::Signal,
}

impl Signals {
    pub fn install() -> std::io::Result<Signals> {
        use tokio::signal::unix::{signal, SignalKind};
        Ok(Signals {
            hup: signal(SignalKind::hangup())?,
            term: signal(SignalKind::terminate())?,
            int: signal(SignalKind::interrupt())?,
        })
    }
}

pub struct ServerOptions {
    pub data_dir: PathBuf,
    pub listen: SocketAddr,
    pub config: ConfigSource,
    pub admin_token: String,
    pub clock: Arc<dyn Clock>,
    /// How people reach this server (for links in notifications); default: the listen
    /// address. Setting it pins the `Host` requests may name and turns token-less loopback
    /// intake off.
    pub public_url: Option<String>,
    /// More names requests may give in `Host` (`--allow-host`), beside loopback names and
    /// the public URL's host.
    pub allow_hosts: Vec<String>,
    /// Timeouts and the connection limit.
    pub limits: crate::front_door::Limits,
}

pub struct Server {
    pub addr: SocketAddr,
    state: SharedState,
    stop: Arc<tokio::sync::Notify>,
    serving: tokio::task::JoinHandle<()>,
    feed: Arc<EngineFeed>,
    /// Held while the server runs: one server per data directory.
    _lock: std::fs::File,
    writer_thread: std::thread::JoinHandle<()>,
    /// The dispatcher and the reminders; stopped before the log writer.
    workers: Workers,
    engine_thread: std::thread::JoinHandle<()>,
}

impl Server {
    /// Opens the store, re-applies the log, starts the engine and the log writer, and
    /// listens. When this returns, every event acknowledged before is in the store.
    pub async fn start(opts: ServerOptions) -> Result<Server, String> {
        let config = opts
            .config
            .load()
            .map_err(|e| format!("invalid config:\n  {}", e.join("\n  ")))?;
        let public_host = opts
            .public_url
            .as_deref()
            .map(|u| {
                host::url_host(u).ok_or_else(|| {
                    format!("--public-url {u:?} is not an http:// or https:// URL with a host")
                })
            })
            .transpose()?;
        let (files_before, files) = nofile::raise()
            .map_err(|e| format!("reading the open-file limit (RLIMIT_NOFILE): {e}"))?;
        let max_connections = nofile::connection_limit(files, opts.limits.max_connections)?;
        crate::data_dir::prepare(&opts.data_dir)?;
        let lock = lock_data_dir(&opts.data_dir)?;
        let db_path = opts.data_dir.join("tocsin.db");
        let log_dir = opts.data_dir.join("log");
        let config = Arc::new(ArcSwap::from_pointee(config));
        let stats = Arc::new(EngineStats::default());

        let (recovered, engine) = {
            let (db, dir, cfg, clock, st) = (
                db_path.clone(),
                log_dir.clone(),
                config.clone(),
                opts.clock.clone(),
                stats.clone(),
            );
            tokio::task::spawn_blocking(move || -> Result<_, String> {
                let recovered = log::recover(&dir)
                    .map_err(|e| format!("opening the event log in {}: {e}", dir.display()))?;
                let mut recovered = recovered;
                let store = SqliteEngineStore::open(&db)
                    .map_err(|e| format!("opening {}: {e}", db.display()))?;
                let engine = Engine::open(
                    Box::new(store),
                    &dir,
                    recovered.next_lsn - 1,
                    cfg,
                    clock,
                    st,
                )?;
                recovered
                    .continue_after(&dir, engine.applied_lsn())
                    .map_err(|e| format!("preparing the event log: {e}"))?;
                Ok((recovered, engine))
            })
            .await
            .map_err(|e| e.to_string())??
        };
        let feed = EngineFeed::new(recovered.next_lsn - 1);
        let engine_thread = engine.spawn(feed.clone()).map_err(|e| e.to_string())?;
        let metrics = Metrics::new();
        let sink = EngineSink {
            feed: feed.clone(),
            metrics: metrics.clone(),
            last_lsn: recovered.next_lsn - 1,
        };
        // The gate is closed by the engine while the store cannot be written (a full
        // disk); closed already if that kept the log from being applied at start.
        let (writer, writer_thread) =
            LogWriter::start_gated(log_dir, recovered, sink, stats.gate.clone())
                .map_err(|e| e.to_string())?;
        if let Some(why) = stats.gate.refusal() {
            tracing::error!(
                "starting read-only: {why}; intake and changes answer 503 and reads work until \
                 there is space, then the server goes back to normal by itself"
            );
        }

        let listener = tokio::net::TcpListener::bind(opts.listen)
            .await
            .map_err(|e| format!("cannot listen on {}: {e}", opts.listen))?;
        let addr = listener.local_addr().map_err(|e| e.to_string())?;
        let public_url = opts
            .public_url
            .clone()
            .unwrap_or_else(|| format!("http://{addr}"))
            .trim_end_matches('/')
            .to_string();
        let links = Arc::new(LinkSigner::new(
            public_url.clone(),
            crate::links::secret(&opts.data_dir)?,
        ));

        let admin_sha256 = sha256_hex(&opts.admin_token);
        let stored = sqlite::open_admin(&db_path)
            .and_then(|c| tokens::list(&c))
            .map_err(|e| format!("reading API tokens: {e}"))?;
        let tokens = TokenTable::build(&admin_sha256, &config.load(), &stored);
        let console = crate::console::accounts::Accounts::load(&db_path, opts.clock.now())?;
        let state = Arc::new(AppState {
            config,
            config_source: opts.config,
            tokens: ArcSwap::from_pointee(tokens),
            admin_sha256,
            writer,
            pool: Arc::new(ReadPool::new(db_path.clone())),
            db_path,
            clock: opts.clock,
            stats,
            deliveries: Arc::new(Deliveries::new(Arc::new(metrics.clone()))),
            metrics,
            shutting_down: AtomicBool::new(false),
            front_door: FrontDoor {
                hosts: HostPolicy::new(addr, public_host, &opts.allow_hosts),
                public_url_set: opts.public_url.is_some(),
                body_timeout: opts.limits.body_timeout,
            },
            console,
            rate_buckets: Default::default(),
            public_url,
            links,
        });

        let stop = Arc::new(tokio::sync::Notify::new());
        let app = crate::routes::router(state.clone());
        tracing::info!(
            max_connections,
            open_files = files,
            open_files_before = files_before,
            header_timeout = ?opts.limits.header_timeout,
            body_timeout = ?opts.limits.body_timeout,
            "connections: at most {max_connections} at once (open-file limit {files})"
        );
        let serving = tokio::spawn(accept::serve(
            listener,
            app,
            opts.limits.header_timeout,
            max_connections,
            stop.clone(),
        ));
        let workers = Workers::spawn(Arc::new(Context {
            config: state.config.clone(),
            clock: state.clock.clone(),
            pool: state.pool.clone(),
            writer: state.writer.clone(),
            stats: state.stats.clone(),
            deliveries: state.deliveries.clone(),
            links: state.links.clone(),
            console_url: state
                .front_door
                .public_url_set
                .then(|| state.public_url.clone()),
        }));
        Ok(Server {
            addr,
            state,
            stop,
            serving,
            workers,
            feed,
            _lock: lock,
            writer_thread,
            engine_thread,
        })
    }

    /// Serves until SIGTERM or SIGINT, reloading the config on SIGHUP.
    pub async fn run_until_signal(self, mut signals: Signals) -> Result<(), String> {
        let Signals { hup, term, int } = &mut signals;
        loop {
            tokio::select! {
                _ = hup.recv() => match reload(&self.state).await {
                    Ok(message) => tracing::info!("{message}"),
                    Err(errors) => tracing::error!(errors = %errors.join("; "), "config refused on SIGHUP; the running one is kept"),
                },
                _ = term.recv() => break,
                _ = int.recv() => break,
            }
        }
        tracing::info!("stopping: no new requests; finishing those in flight");
        self.shutdown().await
    }

    /// Stops accepting, lets in-flight requests finish, writes what is queued to the log,
    /// lets the engine apply it, and syncs the store.
    pub async fn shutdown(self) -> Result<(), String> {
        self.state.shutting_down.store(true, Ordering::SeqCst);
        self.stop.notify_one();
        self.workers.stop(SHUTDOWN_GRACE).await;
        let mut serving = self.serving;
        // Connections that do not finish in time (a stalled client) are cut: nothing they
        // sent was acknowledged, so nothing is lost.
        match tokio::time::timeout(SHUTDOWN_GRACE, &mut serving).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::error!(error = %e, "the accept loop failed"),
            Err(_) => {
                tracing::warn!("connections still open after {SHUTDOWN_GRACE:?}; closing them");
                serving.abort();
            }
        }
        // The writer first, so everything acknowledged is in the log; then the engine, which
        // applies the log to its end before it stops.
        self.state.writer.close();
        drop(self.state);
        join(self.writer_thread).await?;
        self.feed.stop();
        join(self.engine_thread).await?;
        tracing::info!("stopped");
        Ok(())
    }
}

/// Reads the config again; an invalid one is refused and the running one kept.
pub(crate) async fn reload(state: &SharedState) -> Result<String, Vec<String>> {
    let source = state.config_source.clone();
    let config = tokio::task::spawn_blocking(move || source.load())
        .await
        .map_err(|e| vec![e.to_string()])??;
    state.config.store(Arc::new(config));
    refresh_tokens(state).await.map_err(|e| vec![e.message])?;
    Ok(match &state.config_source {
        ConfigSource::Builtin => "no config file: the built-in config stays in use".into(),
        ConfigSource::File(p) => format!("config reloaded from {}", p.display()),
        ConfigSource::WithTopology { config, topology } => format!(
            "config reloaded from {} with the topology of {}",
            config
                .as_ref()
                .map_or("the built-in defaults".into(), |p| p.display().to_string()),
            topology.display()
        ),
    })
}

/// Rebuilds the token table from the current config and the stored tokens.
pub(crate) async fn refresh_tokens(state: &SharedState) -> Result<(), ApiError> {
    let stored = crate::routes::read_tokens(state).await?;
    let table = TokenTable::build(&state.admin_sha256, &state.config.load(), &stored);
    state.tokens.store(Arc::new(table));
    Ok(())
}

async fn join(thread: std::thread::JoinHandle<()>) -> Result<(), String> {
    tokio::task::spawn_blocking(move || thread.join())
        .await
        .map_err(|e| e.to_string())?
        .map_err(|_| "a worker thread panicked".to_string())
}

/// Takes an exclusive lock on DATA/lock, so a second server on the same directory refuses
/// to start instead of corrupting the log. The lock goes with the process, even on kill -9.
fn lock_data_dir(dir: &std::path::Path) -> Result<std::fs::File, String> {
    use std::os::fd::AsRawFd;
    use std::os::unix::fs::OpenOptionsExt;
    let path = dir.join("lock");
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .mode(0o600)
        .open(&path)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    // SAFETY: flock on a file descriptor we own; no memory is involved.
    let rc = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
    if rc != 0 {
        return Err(format!(
            "{} is in use by another tocsin server (locked {})",
            dir.display(),
            path.display()
        ));
    }
    Ok(file)
}
