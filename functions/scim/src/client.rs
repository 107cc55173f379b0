//! The HTTP side of SCIM: bearer token, bounded concurrency, retries with back-off, the
//! `/ServiceProviderConfig` capabilities, and a count of requests per method.
//!
//! Resource logic lives in `users` and `groups`; this module knows statuses, not attributes.
//! There is no DELETE here: the adapter never deletes, so the method is not even expressible.

use crate::error::{Failure, Refusal};
use crate::json::member;
use reqwest::header::{HeaderMap, HeaderValue, ACCEPT, CONTENT_TYPE, ETAG, IF_MATCH, LOCATION};
use reqwest::{Method, Url};
use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;
use sync_core::http::BodyError;
use sync_core::retry::{self, Backoff, Failed, GaveUp, RetryAfter};
use tokio::sync::{OnceCell, Semaphore};

/// The media type of SCIM requests (RFC 7644 §3.1).
const SCIM_JSON: &str = "application/scim+json";
/// First back-off step; each retry doubles it.
const BACKOFF_BASE: Duration = Duration::from_millis(250);
/// Longest computed back-off.
const BACKOFF_CAP: Duration = Duration::from_secs(8);
/// Longest `Retry-After` honoured; a server asking for more is treated as unavailable for this
/// run rather than holding a Lambda for minutes.
const RETRY_AFTER_CAP: Duration = Duration::from_secs(60);

/// The HTTP methods this adapter sends. `Delete` removes only a user the tenant's retention
/// made due (`lifecycle.delete_after_days`); nothing else is ever deleted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Verb {
    Get,
    Post,
    Put,
    Patch,
    Delete,
}

impl Verb {
    fn method(self) -> Method {
        match self {
            Self::Get => Method::GET,
            Self::Post => Method::POST,
            Self::Put => Method::PUT,
            Self::Patch => Method::PATCH,
            Self::Delete => Method::DELETE,
        }
    }
}

/// HTTP requests sent so far, per method, retries included.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RequestCounts {
    /// Reads.
    pub get: u64,
    /// Creates.
    pub post: u64,
    /// Full replacements (servers without PATCH).
    pub put: u64,
    /// Partial updates.
    pub patch: u64,
    /// Deletions (retention only).
    pub delete: u64,
}

impl RequestCounts {
    /// Requests that may change the destination: POST, PUT, PATCH and DELETE.
    pub fn writes(&self) -> u64 {
        self.post + self.put + self.patch + self.delete
    }
}

/// A successful answer.
#[derive(Debug)]
pub(crate) struct Reply {
    /// The `ETag` header, when sent.
    pub etag: Option<String>,
    /// The `Location` header, when sent.
    pub location: Option<String>,
    /// The JSON body; `None` for an empty body (PATCH answered 204).
    pub body: Option<Value>,
}

/// What `/ServiceProviderConfig` announces (RFC 7643 §5) that changes how we write.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Capabilities {
    /// PATCH is supported; otherwise updates GET, modify and PUT.
    pub patch: bool,
    /// ETags are supported; writes derived from a read then carry `If-Match`.
    pub etag: bool,
    /// Most results a list answer returns, when announced.
    pub max_results: Option<usize>,
    /// Filtering is supported; otherwise lookups read every user and compare locally.
    pub filter: bool,
}

impl Capabilities {
    /// What we assume of a server that does not publish its configuration: PATCH (every
    /// mainstream SCIM server has it) but no ETags.
    const ASSUMED: Self = Self {
        patch: true,
        etag: false,
        max_results: None,
        filter: true,
    };

    fn parse(config: &Value) -> Self {
        let supported = |name: &str| {
            member(config, name)
                .and_then(|c| member(c, "supported"))
                .and_then(Value::as_bool)
        };
        let max_results = member(config, "filter")
            .and_then(|f| member(f, "maxResults"))
            .and_then(Value::as_u64)
            .and_then(|n| usize::try_from(n).ok())
            .filter(|n| *n > 0);
        Self {
            patch: supported("patch").unwrap_or(true),
            etag: supported("etag").unwrap_or(false),
            max_results,
            filter: supported("filter").unwrap_or(true),
        }
    }
}

/// Settings of the HTTP client, taken from `ScimSettings`.
pub(crate) struct ClientSettings {
    pub tenant: String,
    pub base_url: Url,
    pub token: SecretString,
    pub concurrency: usize,
    pub max_attempts: u32,
    pub request_timeout: Duration,
    pub max_body_bytes: usize,
}

/// One tenant's connection to its SCIM server.
pub(crate) struct Client {
    http: reqwest::Client,
    base: Url,
    token: SecretString,
    tenant: String,
    /// Bounds the requests in flight to this tenant's server, retries included; the waits
    /// between attempts do not hold a permit.
    permits: Semaphore,
    concurrency: usize,
    max_attempts: u32,
    counts: [AtomicU64; 5],
    capabilities: OnceCell<Capabilities>,
    /// Set when a server answered PATCH with 501 although its configuration announced it.
    patch_refused: AtomicBool,
    /// The most bytes of one answer read into memory.
    body_limit: usize,
}

impl Client {
    /// Builds the client; fails when the base URL would send the token in clear text (plain
    /// `http` to another machine) or the TLS stack cannot be set up.
    pub fn new(settings: ClientSettings) -> Result<Self, String> {
        // Checked here too, not only where settings are parsed: every request carries the token.
        sync_core::http::credential_url(settings.base_url.as_str())
            .map_err(|problem| format!("base_url {problem}"))?;
        let mut headers = HeaderMap::new();
        headers.insert(
            ACCEPT,
            HeaderValue::from_static("application/scim+json, application/json"),
        );
        let http = sync_core::http::builder(settings.request_timeout)
            .default_headers(headers)
            .build()
            .map_err(|error| format!("could not set up the HTTP client: {error}"))?;
        Ok(Self {
            http,
            base: settings.base_url,
            token: settings.token,
            tenant: settings.tenant,
            permits: Semaphore::new(settings.concurrency.max(1)),
            concurrency: settings.concurrency.max(1),
            max_attempts: settings.max_attempts.max(1),
            counts: Default::default(),
            capabilities: OnceCell::new(),
            patch_refused: AtomicBool::new(false),
            body_limit: settings.max_body_bytes,
        })
    }

    /// The tenant, for error messages.
    pub fn tenant(&self) -> &str {
        &self.tenant
    }

    /// Requests allowed in flight at once.
    pub fn concurrency(&self) -> usize {
        self.concurrency
    }

    /// Requests sent so far.
    pub fn counts(&self) -> RequestCounts {
        let read = |verb: Verb| self.counts[verb as usize].load(Ordering::Relaxed);
        RequestCounts {
            get: read(Verb::Get),
            post: read(Verb::Post),
            put: read(Verb::Put),
            patch: read(Verb::Patch),
            delete: read(Verb::Delete),
        }
    }

    /// The server's capabilities, read once and kept. A server without a readable
    /// configuration gets [`Capabilities::ASSUMED`]; only a refused token or an unreachable
    /// server is an error (and is not cached, so the next call asks again).
    pub async fn capabilities(&self) -> Result<Capabilities, Failure> {
        let capabilities = self
            .capabilities
            .get_or_try_init(|| async {
                Ok::<_, Failure>(match self.published("ServiceProviderConfig").await? {
                    Some(config) => Capabilities::parse(&config),
                    None => Capabilities::ASSUMED,
                })
            })
            .await?;
        let mut capabilities = *capabilities;
        capabilities.patch &= !self.patch_refused.load(Ordering::Relaxed);
        Ok(capabilities)
    }

    /// `GET /<what>` of a discovery endpoint (RFC 7644 §4), or `None` when the app does not
    /// publish it: any refusal but 401/403, or an answer without a readable body. A refused token
    /// or an unreachable app is an error, as for any request.
    pub async fn published(&self, what: &str) -> Result<Option<Value>, Failure> {
        match self.send(Verb::Get, &[what], &[], None, None).await {
            Ok(Reply {
                body: Some(body), ..
            }) => Ok(Some(body)),
            Ok(_) | Err(Failure::Malformed(_)) => Ok(None),
            Err(Failure::Refused(refusal)) if !matches!(refusal.status, 401 | 403) => {
                tracing::info!(
                    status = refusal.status,
                    endpoint = what,
                    "the destination does not publish this discovery endpoint; using defaults"
                );
                Ok(None)
            }
            Err(failure) => Err(failure),
        }
    }

    /// Remembers that PATCH is refused (501) so later writes go straight to PUT.
    pub fn note_patch_refused(&self) {
        if !self.patch_refused.swap(true, Ordering::Relaxed) {
            tracing::warn!(tenant = %self.tenant, "the destination refused PATCH with 501; updating with PUT from now on");
        }
    }

    /// Sends one request to `base/segments…`, retrying 429, 5xx (but 501), timeouts and
    /// transport errors with exponential back-off and jitter, honouring `Retry-After`.
    pub async fn send(
        &self,
        verb: Verb,
        segments: &[&str],
        query: &[(&str, String)],
        body: Option<&Value>,
        if_match: Option<&str>,
    ) -> Result<Reply, Failure> {
        self.send_limited(verb, segments, query, body, if_match, self.max_attempts)
            .await
    }

    /// Attempts allowed per request.
    pub fn max_attempts(&self) -> u32 {
        self.max_attempts
    }

    /// How requests are retried, with at most `max_attempts` attempts.
    pub fn backoff(&self, max_attempts: u32) -> Backoff {
        Backoff {
            max_attempts: max_attempts.max(1),
            base: BACKOFF_BASE,
            cap: BACKOFF_CAP,
            retry_after: RetryAfter::GiveUpBeyond(RETRY_AFTER_CAP),
        }
    }

    /// [`Self::send`] with at most `max_attempts` attempts: 1 for a request that must not be
    /// repeated blindly (a POST without a uniqueness key, whose first attempt may have been
    /// applied before its answer was lost).
    pub async fn send_limited(
        &self,
        verb: Verb,
        segments: &[&str],
        query: &[(&str, String)],
        body: Option<&Value>,
        if_match: Option<&str>,
        max_attempts: u32,
    ) -> Result<Reply, Failure> {
        let url = &self.url(segments)?;
        // Logged: the method, the path (ids only) and statuses. Never the query (filters carry
        // user names and emails), the body or the token.
        let path = url.path();
        let outcome = self
            .backoff(max_attempts)
            .retry(|attempt| async move {
                match self.attempt(verb, url, query, body, if_match).await {
                    Ok(Attempt::Done(reply)) => Ok(reply),
                    Ok(Attempt::Refused(refusal)) => {
                        tracing::debug!(method = ?verb, path, status = refusal.status, "SCIM request refused");
                        Err(Failed::Final(Failure::Refused(refusal)))
                    }
                    Ok(Attempt::Malformed(detail)) => Err(Failed::Final(Failure::Malformed(detail))),
                    Ok(Attempt::Transient {
                        status,
                        retry_after,
                    }) => {
                        tracing::debug!(method = ?verb, path, attempt, status, "SCIM request failed");
                        Err(Failed::Transient {
                            failure: format!("HTTP {status}"),
                            retry_after,
                        })
                    }
                    Err(detail) => {
                        tracing::debug!(method = ?verb, path, attempt, detail, "SCIM request failed");
                        Err(Failed::transient(detail))
                    }
                }
            })
            .await;
        outcome.map_err(|gave_up| match gave_up {
            GaveUp::Final(failure) => failure,
            GaveUp::Exhausted { failure, attempts } => {
                tracing::warn!(method = ?verb, path, attempts, detail = failure, "SCIM request failed after every attempt");
                Failure::Exhausted {
                    attempts,
                    detail: failure,
                }
            }
            GaveUp::TooLongToWait {
                failure,
                attempts,
                retry_after,
            } => Failure::Exhausted {
                attempts,
                detail: format!("{failure}, asked to retry after {} s", retry_after.as_secs()),
            },
        })
    }

    async fn attempt(
        &self,
        verb: Verb,
        url: &Url,
        query: &[(&str, String)],
        body: Option<&Value>,
        if_match: Option<&str>,
    ) -> Result<Attempt, String> {
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|_| "the request limiter was closed".to_owned())?;
        let mut request = self
            .http
            .request(verb.method(), url.clone())
            .bearer_auth(self.token.expose_secret());
        if !query.is_empty() {
            request = request.query(query);
        }
        if let Some(body) = body {
            let bytes = serde_json::to_vec(body)
                .map_err(|e| format!("could not encode the request: {e}"))?;
            request = request.header(CONTENT_TYPE, SCIM_JSON).body(bytes);
        }
        if let Some(etag) = if_match {
            request = request.header(IF_MATCH, etag);
        }
        self.counts[verb as usize].fetch_add(1, Ordering::Relaxed);
        let response = request.send().await.map_err(describe)?;
        let status = response.status().as_u16();
        let header = |name| {
            response
                .headers()
                .get(name)
                .and_then(|v: &HeaderValue| v.to_str().ok())
                .map(str::to_owned)
        };
        let (etag, location) = (header(ETAG), header(LOCATION));
        let retry_after = retry::retry_after(response.headers());
        let bytes = match sync_core::http::read_body(response, self.body_limit).await {
            Ok(bytes) => bytes,
            // Not retried: the same request would get the same answer.
            Err(error @ BodyError::TooLarge { .. }) => {
                return Ok(Attempt::Malformed(format!("{}: {error}", url.path())))
            }
            Err(BodyError::Transport(error)) => return Err(describe(error)),
        };
        match status {
            200..=299 => {
                let body = if bytes.iter().all(u8::is_ascii_whitespace) {
                    None
                } else {
                    let value = serde_json::from_slice(&bytes).map_err(|e| {
                        format!("the destination answered HTTP {status} with a body that is not JSON ({e})")
                    });
                    match value {
                        Ok(value) => Some(value),
                        // Not retried: the same request would get the same answer.
                        Err(detail) => return Ok(Attempt::Malformed(detail)),
                    }
                };
                Ok(Attempt::Done(Reply {
                    etag,
                    location,
                    body,
                }))
            }
            429 | 500 | 502 | 503 | 504 => Ok(Attempt::Transient {
                status,
                retry_after,
            }),
            _ => Ok(Attempt::Refused(Refusal::parse(status, &bytes))),
        }
    }

    fn url(&self, segments: &[&str]) -> Result<Url, Failure> {
        let mut url = self.base.clone();
        // Pushing segments percent-encodes them, so an id can never climb out of its collection.
        url.path_segments_mut()
            .map_err(|()| Failure::Malformed("the SCIM base URL cannot have a path".into()))?
            .pop_if_empty()
            .extend(segments);
        Ok(url)
    }
}

enum Attempt {
    Done(Reply),
    Refused(Refusal),
    Malformed(String),
    Transient {
        status: u16,
        retry_after: Option<Duration>,
    },
}

/// A transport error, without the URL (its query may carry a filter value).
fn describe(error: reqwest::Error) -> String {
    let error = error.without_url();
    if error.is_timeout() {
        format!("timed out ({error})")
    } else if error.is_connect() {
        format!("could not connect ({error})")
    } else {
        format!("transport error ({error})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_client_for_plain_http_to_another_host_is_refused() {
        let settings = |url: &str| ClientSettings {
            tenant: "acme".into(),
            base_url: Url::parse(url).expect("a URL"),
            token: SecretString::from("t"),
            concurrency: 1,
            max_attempts: 1,
            request_timeout: Duration::from_secs(1),
            max_body_bytes: 1024,
        };
        let error = Client::new(settings("http://app.example/scim/v2"))
            .err()
            .expect("refused");
        assert!(error.contains("https"), "{error}");
        assert!(Client::new(settings("http://127.0.0.1:8080/scim/v2")).is_ok());
        assert!(Client::new(settings("https://app.example/scim/v2")).is_ok());
    }

    #[test]
    fn capabilities_default_to_patch_without_etags() {
        let none = Capabilities::parse(&serde_json::json!({}));
        assert_eq!(none, Capabilities::ASSUMED);
        let config = serde_json::json!({"patch": {"supported": false}, "etag": {"supported": true}, "filter": {"supported": true, "maxResults": 200}});
        assert_eq!(
            Capabilities::parse(&config),
            Capabilities {
                patch: false,
                etag: true,
                max_results: Some(200),
                filter: true,
            }
        );
    }
}
