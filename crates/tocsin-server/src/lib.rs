//! tocsin-server: the HTTP edge of tocsin.
//!
//! Handlers parse and validate in parallel, hand entries to the event log (which answers
//! once they are durable), and read from the SQLite store; all state changes happen in the
//! engine thread. [`Server::start`] wires store, log, engine, the workers (tocsin-workers)
//! and router together; [`Server::shutdown`] stops them in the order that loses nothing.

mod am_view;
mod auth;
pub mod console;
mod csv;
pub mod data_dir;
mod error;
mod front_door;
pub(crate) mod links;
mod matching;
mod metrics;
mod query;
mod routes;
mod server;
mod sink;
mod state;

pub use auth::{generate_integration_key, generate_token, sha256_hex};
pub use front_door::Limits;
pub use links::write_secret_file;
pub use routes::endpoints::{Access, BodyKind, Endpoint, ENDPOINTS};
pub use server::{ConfigSource, Server, ServerOptions, Signals};
