//! What every Lambda main does before its first event: logging as Lambda asks for it, then
//! [`Deps`] from the environment. The mains keep only their wiring.
//!
//! Spans carry tenant and run ids; events never carry secrets, names, emails or payloads.

use crate::{ConfigError, Deps};

/// Installs the global subscriber; call it once per process, first thing in `main`.
///
/// lambda_runtime's default subscriber does what Lambda's logging controls ask: JSON lines when
/// `AWS_LAMBDA_LOG_FORMAT=JSON` (the template's `LogFormat: JSON`), plain text otherwise, no
/// timestamps (Lambda adds its own), and the level from `AWS_LAMBDA_LOG_LEVEL`, else `RUST_LOG`,
/// else info.
pub fn init_tracing() {
    lambda_runtime::tracing::init_default_subscriber();
}

/// The cold start every Lambda shares: logging, then every client and adapter, built once and
/// reused by each invocation on this instance.
///
/// A configuration error is logged with its message before it is returned: the message names
/// the missing variable, and Lambda would otherwise print only its `Debug` form.
pub async fn cold_start() -> Result<Deps, ConfigError> {
    init_tracing();
    Deps::from_env()
        .await
        .inspect_err(|error| tracing::error!(error = %error, "cold start failed"))
}
