//! Test support, in one place for every test crate of the workspace (a dev-dependency only).
//!
//! - [`moto`]: a real moto server (AWS stand-in) from `MOTO_URL` or started from `.venv`, unique
//!   names, and moto's own API (state, recorder).
//! - [`mail`]: the mail SES sent, read from moto, and a MIME reader.
//! - [`scim`]: a real scim2-server from `SCIM2_SERVER_URL` or started from `.venv`, a fresh tenant
//!   per test, a reader of what it holds, and [`scim::ScimHarness`].
//! - [`personio`]: the fake Personio's companies, settings and keys as tests use them.
//! - [`ports`]: in-memory stand-ins for the ports that have no local adapter (`ConfigStore`,
//!   `Secrets`, `Jobs`), with the semantics of the real adapters.
//! - [`logs`]: every log line of the test process, captured, to search for secrets.
//! - [`harness`]: one tenant against the fake Personio and the local adapters.
//!
//! Each peer is started at most once per test process and stops when the process ends; tests
//! share it by using names (tables, queues, tenants) no other test uses.

pub mod harness;
pub mod logs;
pub mod mail;
pub mod moto;
pub mod personio;
pub mod ports;
mod process;
pub mod scim;

pub use process::workspace_root;
