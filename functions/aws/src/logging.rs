//! Lambda logging: JSON lines when Lambda asks for JSON (`AWS_LAMBDA_LOG_FORMAT=JSON`, set by the
//! template's `LogFormat: JSON`), plain text otherwise; the level from `RUST_LOG` (default info).
//! Spans carry tenant and run ids; events never carry secrets, names, emails or payloads.

use tracing_subscriber::EnvFilter;

/// Installs the global subscriber once per cold start.
pub fn init_tracing() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let json = std::env::var("AWS_LAMBDA_LOG_FORMAT")
        .is_ok_and(|format| format.eq_ignore_ascii_case("json"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        // Lambda adds its own timestamps to every line.
        .without_time();
    let _ = if json {
        builder
            .json()
            .with_current_span(true)
            .with_span_list(false)
            .try_init()
    } else {
        builder.try_init()
    };
}
