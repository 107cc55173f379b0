//! The one way this project builds an HTTP client: reqwest on rustls with ring as its crypto
//! provider, our user agent, and time limits. Personio, the webhook calls, the SCIM destination
//! and the admin API's credential check all start here; what they send is their own business.

use std::sync::Once;
use std::time::Duration;

/// Sent with every request, so a server's logs show who called.
pub const USER_AGENT: &str = concat!("personio-sync/", env!("CARGO_PKG_VERSION"));

/// Longest wait for a connection, however long a request may take: a server that does not
/// accept within this is down, and waiting longer only delays the retry.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Installs ring as the process's rustls crypto provider. reqwest is built with
/// `rustls-no-provider` so that one TLS stack (ring, no aws-lc-sys) serves every client; it
/// needs a provider installed before its first client is built.
pub fn install_crypto_provider() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        // Fails only when a provider is already installed (by a test harness, say), which is
        // as good.
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

/// A client builder with our defaults: the crypto provider installed, `timeout` per request, a
/// connection limit of at most 10 s, and [`USER_AGENT`]. For callers that add to it (default
/// headers, say); the rest call [`client`].
pub fn builder(timeout: Duration) -> reqwest::ClientBuilder {
    install_crypto_provider();
    reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(timeout.min(CONNECT_TIMEOUT))
        .user_agent(USER_AGENT)
}

/// A client with our defaults (see [`builder`]). Fails only when the TLS stack cannot be set up.
pub fn client(timeout: Duration) -> Result<reqwest::Client, reqwest::Error> {
    builder(timeout).build()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clients_can_be_built_more_than_once_in_a_process() {
        assert!(client(Duration::from_secs(1)).is_ok());
        assert!(client(Duration::from_secs(30)).is_ok());
    }
}
