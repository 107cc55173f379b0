//! One authenticated conversation with Personio: the cached token, the shared rate limiter, and
//! the retry loop every request goes through.
//!
//! The token (personio-api.md §1.2) is a stable `papi-` token valid 24 h, fit for parallel calls.
//! It is fetched once and shared: concurrent requests that find no token wait for the one
//! `POST /v1/auth` in flight. A 401 renews it once per request; when many requests see the same
//! expired token, only the first renews and the rest reuse its result.
//!
//! What a request's answer means for the run (retry, give up, "no such person") is decided here;
//! the waiting between attempts is [`crate::retry`]'s, what the JSON means is `wire`'s and
//! `normalise`'s business.

use super::client::RateLimit;
use super::limiter::Limiter;
use super::wire::ErrorEnvelope;
use crate::http::{self, BodyError};
use crate::ports::SourceError;
use crate::retry::{self, Backoff, Failed, GaveUp};
pub(in crate::personio) use auth::Auth;
use reqwest::{header, Method, StatusCode};
use secrecy::{ExposeSecret, SecretString};
use serde::de::DeserializeOwned;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::Mutex;

/// How a session talks to Personio; built by the client from its settings.
pub(super) struct SessionConfig {
    /// The account name, for error messages.
    pub account: String,
    /// Scheme and host without a trailing `/`.
    pub base_url: String,
    /// The API credential's client id.
    pub client_id: String,
    /// The API credential's secret; leaves this process only in the `/v1/auth` body.
    pub client_secret: SecretString,
    /// Personio's limit, which the limiter stays under.
    pub rate_limit: RateLimit,
    /// Attempts per request and the delays between them; `Retry-After` within the cap.
    pub backoff: Backoff,
    /// `X-Personio-Partner-ID`, when set.
    pub partner_id: Option<String>,
    /// `X-Personio-App-ID`, when set.
    pub app_id: Option<String>,
    /// The most bytes of one answer read into memory.
    pub body_limit: usize,
    /// Which API's token the session uses.
    pub auth: Auth,
}

/// A token and which renewal produced it.
#[derive(Clone)]
struct Token {
    value: SecretString,
    generation: u64,
}

#[derive(Default)]
struct TokenState {
    current: Option<(Token, Instant)>,
    generation: u64,
}

/// Why one attempt failed in a way worth retrying.
enum Failure {
    Status {
        status: StatusCode,
        message: Option<String>,
    },
    Transport(String),
    Malformed(String),
}

/// What one attempt came to.
enum Step<T> {
    /// Finished, well or badly: no retry.
    Done(Result<T, SourceError>),
    /// 401, with Personio's message.
    Refused(Option<String>),
    /// Worth another attempt.
    Retry(Failure, Option<Duration>),
}

/// What a 404 means to the caller.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum NotFound {
    /// "No such thing": answered as [`Answer::NotFound`].
    IsAnAnswer,
    /// A wrong URL or a missing permission: an error.
    IsAnError,
}

/// The outcome of a request Personio answered.
pub(super) enum Answer<T> {
    /// 2xx with a body that parsed.
    Found(T),
    /// 404, for requests made with [`NotFound::IsAnAnswer`].
    NotFound,
}

/// How one kind of answer is asked for and read.
struct Read<'a, T> {
    /// `GET`, or the write's method.
    method: Method,
    /// The JSON body of a write.
    body: Option<&'a [u8]>,
    /// The `Accept` header.
    accept: &'static str,
    /// The most bytes read into memory.
    limit: usize,
    /// The body of a 2xx answer as `T`; an error is retried (a body cut short on the way).
    decode: Decode<'a, T>,
}

/// Reads the body of a 2xx answer to `path`, or says why it cannot.
type Decode<'a, T> = &'a (dyn Fn(&str, Vec<u8>) -> Result<T, String> + Sync);

/// The authenticated, rate-limited, retrying HTTP layer.
pub(super) struct Session {
    http: reqwest::Client,
    config: SessionConfig,
    limiter: Limiter,
    token: Mutex<TokenState>,
}

impl Session {
    pub fn new(http: reqwest::Client, config: SessionConfig) -> Self {
        Self {
            http,
            limiter: Limiter::new(config.rate_limit),
            token: Mutex::new(TokenState::default()),
            config,
        }
    }

    /// 429s this session has met so far.
    pub fn throttled(&self) -> u64 {
        self.limiter.throttled()
    }

    /// The requests per second the session allows itself now, after the first burst.
    pub fn rate(&self) -> f64 {
        self.limiter.rate()
    }

    /// Attempts per request.
    pub fn max_attempts(&self) -> u32 {
        self.config.backoff.max_attempts
    }

    /// Asks for a new token now, whatever is cached.
    pub async fn authenticate(&self) -> Result<(), SourceError> {
        let mut state = self.token.lock().await;
        self.renew_locked(&mut state).await.map(drop)
    }

    /// `GET {base_url}{path}` with retries, reading the documented JSON.
    pub async fn get<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, String)],
        not_found: NotFound,
    ) -> Result<Answer<T>, SourceError> {
        let read = Read {
            method: Method::GET,
            body: None,
            accept: "application/json",
            limit: self.config.body_limit,
            decode: &|path: &str, body: Vec<u8>| {
                serde_json::from_slice::<T>(&body).map_err(|error| unreadable(path, &error))
            },
        };
        self.fetch(path, query, not_found, &read).await
    }

    /// `method {base_url}{path}` with the JSON `body` (a write: write-back, adding a person), with
    /// at most `max_attempts` attempts (1 for a create a retry could repeat). 403 is
    /// [`SourceError::WriteForbidden`]; 400, 404 and 422 are [`SourceError::Refused`] with
    /// Personio's message.
    pub async fn send_json<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: &serde_json::Value,
        max_attempts: u32,
    ) -> Result<T, SourceError> {
        let bytes = serde_json::to_vec(body).map_err(|error| SourceError::Malformed {
            detail: format!("could not encode the request to {path}: {error}"),
        })?;
        let read = Read {
            method,
            body: Some(&bytes),
            accept: "application/json",
            limit: self.config.body_limit,
            decode: &|path: &str, body: Vec<u8>| {
                serde_json::from_slice::<T>(&body).map_err(|error| unreadable(path, &error))
            },
        };
        let url = format!("{}{path}", self.config.base_url);
        let renewed = AtomicBool::new(false);
        let backoff = Backoff {
            max_attempts: max_attempts.max(1),
            ..self.config.backoff
        };
        let outcome = backoff
            .retry(|attempt| {
                self.get_once(
                    attempt,
                    &url,
                    path,
                    &[],
                    NotFound::IsAnError,
                    &read,
                    &renewed,
                )
            })
            .await;
        match gave_up(&url, outcome)? {
            Answer::Found(value) => Ok(value),
            Answer::NotFound => Err(SourceError::Refused {
                detail: format!("{path} answered HTTP 404"),
            }),
        }
    }

    /// `GET {base_url}{path}` with retries, for a binary answer (a profile picture) of at most
    /// `limit` bytes; a 404 is an answer.
    pub async fn get_bytes(
        &self,
        path: &str,
        accept: &'static str,
        limit: usize,
    ) -> Result<Answer<Vec<u8>>, SourceError> {
        let read = Read {
            method: Method::GET,
            body: None,
            accept,
            limit,
            decode: &|_: &str, body: Vec<u8>| Ok(body),
        };
        self.fetch(path, &[], NotFound::IsAnAnswer, &read).await
    }

    async fn fetch<T>(
        &self,
        path: &str,
        query: &[(&str, String)],
        not_found: NotFound,
        read: &Read<'_, T>,
    ) -> Result<Answer<T>, SourceError> {
        let url = format!("{}{path}", self.config.base_url);
        // Once per request, not per attempt: a token refused right after its renewal is refused.
        let renewed = AtomicBool::new(false);
        let outcome = self
            .config
            .backoff
            .retry(|attempt| self.get_once(attempt, &url, path, query, not_found, read, &renewed))
            .await;
        gave_up(&url, outcome)
    }

    /// Attempt number `attempt` of [`Session::fetch`], waiting on the limiter first.
    #[allow(clippy::too_many_arguments)]
    async fn get_once<T>(
        &self,
        attempt: u32,
        url: &str,
        path: &str,
        query: &[(&str, String)],
        not_found: NotFound,
        read: &Read<'_, T>,
        renewed: &AtomicBool,
    ) -> Result<Answer<T>, Failed<Failure, SourceError>> {
        loop {
            self.limiter.until_ready().await;
            let token = self.token().await.map_err(Failed::Final)?;
            match self
                .try_get(url, path, query, &token, not_found, read)
                .await
            {
                Step::Done(result) => return result.map_err(Failed::Final),
                Step::Refused(_) if !renewed.swap(true, Ordering::Relaxed) => {
                    // The token expired or was revoked: renew once and repeat this request
                    // without counting it as a failed attempt.
                    tracing::info!(path, "Personio refused the token; authenticating again");
                    self.renew(token.generation).await.map_err(Failed::Final)?;
                }
                Step::Refused(message) => return Err(Failed::Final(self.unauthorized(message))),
                Step::Retry(failure, retry_after) => {
                    self.note_failure(path, attempt, &failure);
                    return Err(Failed::Transient {
                        failure,
                        retry_after,
                    });
                }
            }
        }
    }

    /// One attempt of [`Session::fetch`].
    async fn try_get<T>(
        &self,
        url: &str,
        path: &str,
        query: &[(&str, String)],
        token: &Token,
        not_found: NotFound,
        read: &Read<'_, T>,
    ) -> Step<Answer<T>> {
        let mut request = self
            .http
            .request(read.method.clone(), url)
            .query(query)
            .bearer_auth(token.value.expose_secret())
            .header(header::ACCEPT, read.accept);
        if let Some(body) = read.body {
            request = request
                .header(header::CONTENT_TYPE, "application/json")
                .body(body.to_vec());
        }
        if let Some(partner) = &self.config.partner_id {
            request = request.header("X-Personio-Partner-ID", partner);
        }
        if let Some(app) = &self.config.app_id {
            request = request.header("X-Personio-App-ID", app);
        }
        let received = receive(request, path, read.limit, Some(&self.limiter)).await;
        let (status, retry_after, body) = match received {
            Ok(received) => received,
            Err(unreceived) => return unreceived.into_step(),
        };
        if status.is_success() {
            return match (read.decode)(path, body) {
                Ok(value) => Step::Done(Ok(Answer::Found(value))),
                Err(detail) => Step::Retry(Failure::Malformed(detail), None),
            };
        }
        let message = ErrorEnvelope::message_of(&body);
        let write = read.method != Method::GET;
        match status {
            StatusCode::UNAUTHORIZED => Step::Refused(message),
            StatusCode::FORBIDDEN if write => Step::Done(Err(SourceError::WriteForbidden {
                account: self.config.account.clone(),
                detail: message.unwrap_or_else(|| "HTTP 403".to_owned()),
            })),
            StatusCode::FORBIDDEN => Step::Done(Err(self.forbidden(message))),
            StatusCode::BAD_REQUEST | StatusCode::NOT_FOUND | StatusCode::UNPROCESSABLE_ENTITY
                if write =>
            {
                Step::Done(Err(SourceError::Refused {
                    detail: format!("HTTP {}{}", status.as_u16(), suffix(message)),
                }))
            }
            StatusCode::NOT_FOUND if not_found == NotFound::IsAnAnswer => {
                Step::Done(Ok(Answer::NotFound))
            }
            status if is_transient(status) => {
                Step::Retry(Failure::Status { status, message }, retry_after)
            }
            status => Step::Done(Err(SourceError::Malformed {
                detail: format!(
                    "{path} answered HTTP {}{}",
                    status.as_u16(),
                    suffix(message)
                ),
            })),
        }
    }

    /// Logs a failed attempt: the path, the attempt and the status, never the answer's body.
    fn note_failure(&self, path: &str, attempt: u32, failure: &Failure) {
        tracing::warn!(
            path,
            attempt,
            status = status_of(failure),
            max_attempts = self.config.backoff.max_attempts,
            "Personio request failed"
        );
    }

    /// The cached token, or a new one when there is none or it is about to expire.
    async fn token(&self) -> Result<Token, SourceError> {
        let mut state = self.token.lock().await;
        if let Some((token, expires)) = &state.current {
            if Instant::now() < *expires {
                return Ok(token.clone());
            }
        }
        self.renew_locked(&mut state).await
    }

    /// A token newer than `stale`: another request's renewal if there was one, else a new one.
    async fn renew(&self, stale: u64) -> Result<Token, SourceError> {
        let mut state = self.token.lock().await;
        if let Some((token, expires)) = &state.current {
            if token.generation != stale && Instant::now() < *expires {
                return Ok(token.clone());
            }
        }
        self.renew_locked(&mut state).await
    }

    fn unauthorized(&self, message: Option<String>) -> SourceError {
        SourceError::Unauthorized {
            account: self.config.account.clone(),
            detail: message.unwrap_or_else(|| "HTTP 401".to_owned()),
        }
    }

    fn forbidden(&self, message: Option<String>) -> SourceError {
        SourceError::Forbidden {
            account: self.config.account.clone(),
            detail: message.unwrap_or_else(|| "HTTP 403".to_owned()),
        }
    }
}

/// Why a request got no answer to look at.
enum Unreceived {
    /// Worth another attempt.
    Failed(Failure),
    /// The body was over the limit: the same request would get the same answer, so no retry.
    TooLarge(String),
}

impl Unreceived {
    fn into_step<T>(self) -> Step<T> {
        match self {
            Self::Failed(failure) => Step::Retry(failure, None),
            Self::TooLarge(detail) => Step::Done(Err(SourceError::Malformed { detail })),
        }
    }
}

/// Sends a request and reads its status, `Retry-After` and whole body, up to `limit` bytes;
/// tells `limiter`, when given, what the answer said about the rate limit.
async fn receive(
    request: reqwest::RequestBuilder,
    path: &str,
    limit: usize,
    limiter: Option<&Limiter>,
) -> Result<(StatusCode, Option<Duration>, Vec<u8>), Unreceived> {
    let response = request
        .send()
        .await
        .map_err(|error| Unreceived::Failed(Failure::Transport(describe(&error))))?;
    let status = response.status();
    let retry_after = retry::retry_after(response.headers());
    if let Some(limiter) = limiter {
        limiter.observe(status, retry_after, response.headers());
    }
    let body = http::read_body(response, limit)
        .await
        .map_err(|error| match error {
            BodyError::TooLarge { .. } => Unreceived::TooLarge(format!("{path}: {error}")),
            BodyError::Transport(error) => Unreceived::Failed(Failure::Transport(describe(&error))),
        })?;
    Ok((status, retry_after, body))
}

fn status_of(failure: &Failure) -> u16 {
    match failure {
        Failure::Status { status, .. } => status.as_u16(),
        Failure::Transport(_) | Failure::Malformed(_) => 0,
    }
}

/// How long a token is used before a new one is fetched: its lifetime less a margin, so no request
/// leaves with a token that expires on the way.
fn usable_for(expires_in: Option<f64>) -> Duration {
    let lifetime = expires_in
        .filter(|seconds| seconds.is_finite() && *seconds > 0.0)
        .map(|seconds| Duration::from_secs_f64(seconds.min(86_400.0 * 7.0)))
        .unwrap_or(Duration::from_secs(86_400));
    lifetime - (lifetime / 10).min(Duration::from_secs(300))
}

fn is_transient(status: StatusCode) -> bool {
    status == StatusCode::TOO_MANY_REQUESTS
        || status.is_server_error()
        || status == StatusCode::REQUEST_TIMEOUT
}

/// The error for a request to `url` whose retries ended: the last failure, with the attempts.
fn gave_up<T>(
    url: &str,
    outcome: Result<T, GaveUp<Failure, SourceError>>,
) -> Result<T, SourceError> {
    outcome.map_err(|gave_up| match gave_up {
        GaveUp::Final(error) => error,
        // Personio's `Retry-After` is honoured up to the cap, so it never ends the retries early.
        GaveUp::Exhausted { failure, attempts }
        | GaveUp::TooLongToWait {
            failure, attempts, ..
        } => match failure {
            Failure::Status { status, message } => SourceError::Unavailable {
                attempts,
                detail: format!("last answer HTTP {}{}", status.as_u16(), suffix(message)),
            },
            Failure::Transport(detail) => SourceError::Transport {
                url: url.to_owned(),
                detail: format!("{detail} (after {attempts} attempts)"),
            },
            Failure::Malformed(detail) => SourceError::Malformed {
                detail: format!("{detail} (after {attempts} attempts)"),
            },
        },
    })
}

fn suffix(message: Option<String>) -> String {
    message
        .map(|message| format!(": {message}"))
        .unwrap_or_default()
}

/// A transport error as text: its kind and causes, without the URL's query.
fn describe(error: &reqwest::Error) -> String {
    let kind = if error.is_timeout() {
        "timed out"
    } else if error.is_connect() {
        "could not connect"
    } else {
        "request failed"
    };
    let mut detail = kind.to_owned();
    let mut cause = std::error::Error::source(error);
    while let Some(inner) = cause {
        detail.push_str(": ");
        detail.push_str(&inner.to_string());
        cause = inner.source();
    }
    detail
}

/// Why a body did not parse, without serde's excerpt of the offending value (personal data).
fn unreadable(path: &str, error: &serde_json::Error) -> String {
    format!(
        "the body of {path} is not the documented JSON ({:?} error at line {}, column {})",
        error.classify(),
        error.line(),
        error.column()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_renewed_before_they_expire() {
        assert_eq!(usable_for(Some(86_400.0)), Duration::from_secs(86_100));
        assert_eq!(usable_for(None), Duration::from_secs(86_100));
        assert_eq!(usable_for(Some(60.0)), Duration::from_secs(54));
        assert_eq!(usable_for(Some(-5.0)), Duration::from_secs(86_100));
    }

    #[test]
    fn rate_limits_and_server_errors_are_transient_but_client_errors_are_not() {
        for code in [408, 429, 500, 502, 503, 504] {
            assert!(is_transient(StatusCode::from_u16(code).unwrap()), "{code}");
        }
        for code in [400, 401, 403, 404, 422] {
            assert!(!is_transient(StatusCode::from_u16(code).unwrap()), "{code}");
        }
    }
}

mod auth;
