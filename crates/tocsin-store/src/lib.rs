//! tocsin-store: where acknowledged events live.
//!
//! Two parts, following the flow of `ARCHITECTURE.md`:
//! - [`log`]: the append-only event log. Intake answers 2xx only after its entry is in the
//!   log and the log is synced to disk; many requests share one sync (group commit).
//! - [`engine`]: the engine's side of the state store as a trait, which backends implement.
//! - [`sqlite`]: the state store (alerts, incidents, timelines) that the engine derives from
//!   the log, and that the API reads. It records the last log position it applied, so a
//!   restart replays exactly what is missing.
//! - [`postgres`]: the same state, and the log as a table, in PostgreSQL.

pub(crate) mod codec;
pub mod engine;
mod error;
pub mod log;
pub mod postgres;
pub mod sqlite;

pub use codec::BadValue;
pub use error::StoreError;
