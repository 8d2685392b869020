//! tocsin-engine: the one ordered writer of engine state.
//!
//! The engine tails the event log, reading entries in LSN order as they become durable; the engine decides what each
//! does to alerts and incidents with the pure functions of `tocsin-core`, keeps a compact
//! in-memory index of them, and writes each batch to SQLite in one transaction together
//! with the LSN it reached. A restart loads the index from SQLite and re-applies the log
//! from that LSN, so nothing acknowledged is lost and live and replayed runs decide the same.

mod apply;
mod commands;
mod correlation;
mod discovered;
mod failures;
mod flapping;
mod follow_ups;
mod group_timing;
mod heartbeats;
mod index;
mod inhibit;
mod maintenance;
mod overrides;
mod paging;
mod pending;
mod regroup;
mod runner;
mod silences;
mod stats;
mod storm;

pub use commands::{CommandError, CommandReply};
pub use runner::{Engine, EngineFeed, Input, EXPIRY_GRACE};
pub use stats::EngineStats;
