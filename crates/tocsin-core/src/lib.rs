//! tocsin-core: the domain of tocsin as plain data and pure functions.
//!
//! Everything here is deterministic and free of I/O so that the live server, `tocsin replay`
//! and the tests decide exactly the same way (see `ARCHITECTURE.md`, "Decisions are pure
//! functions"). Time enters only as an argument or through a [`clock::Clock`].

pub mod alert;
pub mod auth;
pub mod clock;
pub mod command;
pub mod config;
pub mod correlation;
pub mod delivery_health;
pub mod discovered;
pub mod event;
pub mod fingerprint;
pub mod flapping;
pub mod grouping;
pub mod incident;
pub mod inhibit;
pub mod integration;
pub mod links;
pub mod paging;
pub mod placement;
pub mod priority;
pub mod reports;
pub mod routing;
pub mod schedule;
pub mod silence;
pub mod storm;
pub mod time;
pub mod user_regex;
