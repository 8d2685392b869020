//! What every handler shares.

use crate::auth::TokenTable;
use crate::metrics::Metrics;
use crate::server::ConfigSource;
use crate::sink::LogItem;
use arc_swap::ArcSwap;
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use tocsin_core::clock::Clock;
use tocsin_core::config::Config;
use tocsin_core::links::LinkSigner;
use tocsin_engine::EngineStats;
use tocsin_store::log::LogWriter;
use tocsin_store::sqlite::ReadPool;

pub struct AppState {
    pub config: Arc<ArcSwap<Config>>,
    pub config_source: ConfigSource,
    pub tokens: ArcSwap<TokenTable>,
    pub admin_sha256: String,
    pub writer: LogWriter<LogItem>,
    pub pool: Arc<ReadPool>,
    pub db_path: PathBuf,
    pub clock: Arc<dyn Clock>,
    pub stats: Arc<EngineStats>,
    pub metrics: Metrics,
    /// Whether each channel's deliveries get through (the workers record it).
    pub deliveries: Arc<tocsin_workers::Deliveries>,
    pub shutting_down: AtomicBool,
    /// How this server is reached: the Host and loopback rules, the body deadline.
    pub front_door: crate::front_door::FrontDoor,
    /// Console accounts and sessions.
    pub console: crate::console::accounts::Accounts,
    /// How people reach this server (`https://tocsin.example.com`), the base of links.
    pub public_url: String,
    /// Signs the acknowledge/resolve links in notifications, and checks them.
    pub links: Arc<LinkSigner>,
    /// Each integration's rate-limit bucket, by name.
    pub rate_buckets:
        std::sync::Mutex<std::collections::HashMap<String, tocsin_core::integration::Bucket>>,
}

pub type SharedState = Arc<AppState>;
