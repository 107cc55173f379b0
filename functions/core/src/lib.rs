//! The personio-sync engine: everything that decides who joins, moves and leaves, with no AWS in it.
//!
//! # Layout
//! - `ids`, `employee`, `record`, `state`, `history`, `email`: the domain types.
//! - `personio`: the Personio v1 client (auth, paging, rate limit, retries) and the lenient
//!   normalisation of its attribute shapes into [`employee::Employee`].
//! - `ports`: the traits for source, destination, store and mailer.
//! - `http`: the one HTTP client builder (rustls + ring).
//! - `retry`: the one back-off and `Retry-After` reading every adapter retries with.
//!
//! Adapters live in other crates; a run reaches the world only through `ports`.

pub mod apply;
pub mod config;
pub mod email;
pub mod employee;
pub mod guard;
pub mod history;
pub mod http;
pub mod ids;
pub mod lifecycle;
pub mod mapping;
pub mod personio;
pub mod plan;
pub mod ports;
pub mod preview;
pub mod progress;
pub mod record;
pub mod report;
pub mod retry;
pub mod run;
pub mod schedule;
pub mod scope;
pub mod state;
