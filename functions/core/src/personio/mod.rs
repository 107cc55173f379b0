//! Personio v1 client: `client` (the [`crate::ports::Source`] over HTTP), `normalise` (attribute
//! shapes → typed values) and `wire` (the JSON envelopes).
//!
//! # Layout
//! - `client`: settings, the full fetch (first page, then the rest concurrently), one employee,
//!   the attribute list.
//! - `session` (private): token cache, retry loop; waits on `limiter` (private), the shared
//!   handle of `pacing` (private): the adaptive rate limiter, pure.
//! - `paging` (private): page planning and de-duplication of one pass over the list.
//! - `normalise`: lenient reading of one employee's attributes; its value readers are in
//!   `values` (private).
//! - `wire`: serde types of the v1 envelopes.
//! - `webhooks`: the v2 webhook management calls (register, list, rotate the token) and the
//!   documented event catalog.

pub mod add;
pub mod client;
pub mod labels;
mod limiter;
pub mod normalise;
mod pacing;
mod paging;
mod session;
pub mod v2;
mod values;
pub mod webhooks;
pub mod wire;

pub use client::{Api, FetchProgress, PersonioClient, PersonioSettings, ProgressFn, RateLimit};
pub use normalise::{normalise, normalise_selected, NormalisedEmployee};
