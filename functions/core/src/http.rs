//! The one way this project builds an HTTP client: reqwest on rustls with ring as its crypto
//! provider, our user agent, and time limits. Personio, the webhook calls, the SCIM destination
//! and the admin API's credential check all start here; what they send is their own business.

use reqwest::Url;
use std::net::IpAddr;
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

/// The most of one answer's body read into memory unless configured: 32 MiB. A Personio page
/// of 100 people with every attribute is about 2 MB and a SCIM page of 100 users far less, so
/// only a broken or hostile server comes near it.
pub const DEFAULT_BODY_LIMIT: usize = 32 * 1024 * 1024;

/// Why an answer's body could not be read.
#[derive(Debug, thiserror::Error)]
pub enum BodyError {
    /// The server sent, or announced, more than the limit; reading on would only fill memory.
    #[error(
        "the answer was larger than {}, more than any page of this API should be; check that \
         the URL points at the right server",
        size(*limit)
    )]
    TooLarge {
        /// The limit in bytes.
        limit: usize,
    },
    /// The connection failed while the body was read.
    #[error("the answer could not be read: {0}")]
    Transport(#[source] reqwest::Error),
}

/// Reads a response's whole body, but never more than `limit` bytes: a `Content-Length` above it
/// is refused before reading, and a body without one is counted chunk by chunk as it arrives.
/// Every body this project parses is read through here, so no server decides our memory use.
pub async fn read_body(
    mut response: reqwest::Response,
    limit: usize,
) -> Result<Vec<u8>, BodyError> {
    let announced = response.content_length().unwrap_or(0);
    if usize::try_from(announced).map_or(true, |announced| announced > limit) {
        return Err(BodyError::TooLarge { limit });
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(BodyError::Transport)? {
        if body.len().saturating_add(chunk.len()) > limit {
            return Err(BodyError::TooLarge { limit });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// A byte count as an admin reads it: whole MiB when it is, else bytes.
fn size(bytes: usize) -> String {
    const MIB: usize = 1024 * 1024;
    if bytes >= MIB && bytes.is_multiple_of(MIB) {
        format!("{} MiB", bytes / MIB)
    } else {
        format!("{bytes} bytes")
    }
}

/// Parses the base URL of a server we send a credential to, refusing any that would carry it
/// in clear text: `https`, or plain `http` only to this machine (127.0.0.0/8, `::1`,
/// `localhost`), where tests and the local demo run. The error says what to change.
pub fn credential_url(text: &str) -> Result<Url, String> {
    let text = text.trim();
    let url = Url::parse(text).map_err(|error| {
        format!("`{text}` is not a URL ({error}); write it as https://host/path")
    })?;
    match url.scheme() {
        "https" => Ok(url),
        "http" if is_loopback(&url) => Ok(url),
        "http" => Err(format!(
            "`{text}` uses plain http, which would send the credential in clear text; use https:// \
             (plain http is only allowed to 127.0.0.1 or localhost)"
        )),
        scheme => Err(format!("`{text}` has the scheme `{scheme}`; use https://")),
    }
}

/// The origin (`scheme://host[:port]`) of a credential URL, as stored with a credential: a run
/// sends the credential only to the origin it was entered for.
pub fn credential_origin(text: &str) -> Result<String, String> {
    Ok(credential_url(text)?.origin().ascii_serialization())
}

/// Whether `url` points at this machine. By the parsed host, never by a prefix of the text:
/// `127.0.0.1.evil.example` is a domain like any other.
fn is_loopback(url: &Url) -> bool {
    match url.host_str() {
        Some(host) if host.eq_ignore_ascii_case("localhost") => true,
        Some(host) => host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<IpAddr>()
            .is_ok_and(|ip| ip.is_loopback()),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_origin_is_scheme_host_and_port_whatever_the_path() {
        assert_eq!(
            credential_origin("https://API.personio.de/v1/").unwrap(),
            "https://api.personio.de"
        );
        assert_eq!(
            credential_origin("https://app.example:8443/scim/v2").unwrap(),
            "https://app.example:8443"
        );
        assert_eq!(
            credential_origin("https://app.example:443/scim").unwrap(),
            "https://app.example"
        );
        assert_eq!(
            credential_origin("http://127.0.0.1:9000/x").unwrap(),
            "http://127.0.0.1:9000"
        );
        assert!(credential_origin("http://evil.example").is_err());
    }

    #[test]
    fn credentials_go_over_https_or_stay_on_this_machine() {
        for accepted in [
            "https://api.personio.de",
            "http://127.0.0.1:8080/v2",
            "http://127.9.0.1",
            "http://localhost/v2",
            "http://[::1]:8080",
        ] {
            assert!(credential_url(accepted).is_ok(), "{accepted}");
        }
        for refused in [
            "http://app.example/scim/v2",
            "http://127.0.0.1.app.example",
            "http://localhost.app.example",
            "http://10.0.0.1",
            "ftp://app.example",
            "app.example/scim",
        ] {
            assert!(credential_url(refused).is_err(), "{refused}");
        }
    }

    #[test]
    fn clients_can_be_built_more_than_once_in_a_process() {
        assert!(client(Duration::from_secs(1)).is_ok());
        assert!(client(Duration::from_secs(30)).is_ok());
    }
}
