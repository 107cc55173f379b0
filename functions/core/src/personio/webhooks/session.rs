//! The HTTP side of the webhook calls: a v2 token from the client-credentials grant, and requests
//! with retries. A request that may have reached Personio is repeated only when it is idempotent
//! (`GET`, `PATCH`), so a failed create never registers two webhooks.

use super::{parse, V2Credentials, WebhookApiError};
use crate::ids::AccountId;
use crate::retry::{self, Backoff, Failed, GaveUp, RetryAfter};
use reqwest::{header, Method, StatusCode};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::Value;
use std::time::Duration;

/// Attempts per call before giving up on 429, 5xx and timeouts, and the waits between them.
const BACKOFF: Backoff = Backoff {
    max_attempts: 4,
    base: Duration::from_millis(500),
    cap: Duration::from_secs(30),
    retry_after: RetryAfter::WithinCap,
};
/// Time limit of one request.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// Whether a request may be sent again after a failure.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Repeat {
    /// Idempotent (`GET`, `PATCH` with the same body).
    Always,
    /// Only when Personio surely did not act on it: a 429, or no connection at all.
    OnlyUnsent,
}

/// One failed attempt.
enum Failure {
    Status(StatusCode, Option<String>),
    Transport(String),
}

/// An HTTP client with a v2 token.
pub(super) struct V2Session {
    http: reqwest::Client,
    base_url: String,
    account: AccountId,
    token: SecretString,
}

impl V2Session {
    /// Fetches a token with the client-credentials grant.
    pub(super) async fn open(credentials: &V2Credentials) -> Result<Self, WebhookApiError> {
        let base_url = credentials.base_url.trim().trim_end_matches('/').to_owned();
        // The client secret goes to this URL first thing: never in clear text.
        if let Err(problem) = crate::http::credential_url(&base_url) {
            return Err(WebhookApiError::Transport {
                url: base_url,
                detail: format!(
                    "the Personio base URL is not usable: {problem} (e.g. https://api.personio.de)"
                ),
            });
        }
        let http =
            crate::http::client(REQUEST_TIMEOUT).map_err(|error| WebhookApiError::Transport {
                url: base_url.clone(),
                detail: format!("could not set up the HTTP client: {error}"),
            })?;
        let mut session = Self {
            http,
            base_url,
            account: credentials.account.clone(),
            token: SecretString::from(String::new()),
        };
        let form = [
            ("grant_type", "client_credentials"),
            ("client_id", credentials.client_id.as_str()),
            ("client_secret", credentials.client_secret.expose_secret()),
        ];
        let url = format!("{}/v2/auth/token", session.base_url);
        let body = session
            .send(
                || session.http.post(&url).form(&form),
                "/v2/auth/token",
                Repeat::Always,
            )
            .await
            .map_err(|error| match error {
                // The token endpoint answers 400 for a bad secret as well (OAuth2 `invalid_client`).
                WebhookApiError::Rejected { detail, .. } => WebhookApiError::Unauthorized {
                    account: credentials.account.clone(),
                    detail,
                },
                other => other,
            })?;
        #[derive(Deserialize)]
        struct Token {
            access_token: String,
        }
        let token: Token = parse("POST /v2/auth/token", &body)?;
        session.token = SecretString::from(token.access_token);
        Ok(session)
    }

    /// A JSON request with the token.
    pub(super) async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
        repeat: Repeat,
    ) -> Result<Vec<u8>, WebhookApiError> {
        let url = format!("{}{path}", self.base_url);
        let build = || {
            let request = self
                .http
                .request(method.clone(), &url)
                .bearer_auth(self.token.expose_secret())
                .header(header::ACCEPT, "application/json");
            match body {
                Some(body) => request.json(body),
                None => request,
            }
        };
        self.send(build, path, repeat).await
    }

    /// Sends with retries; returns the body of a 2xx.
    async fn send(
        &self,
        build: impl Fn() -> reqwest::RequestBuilder,
        path: &str,
        repeat: Repeat,
    ) -> Result<Vec<u8>, WebhookApiError> {
        let build = &build;
        let outcome = BACKOFF
            .retry(|attempt| async move { self.send_once(build(), path, repeat, attempt).await })
            .await;
        outcome.map_err(|gave_up| match gave_up {
            GaveUp::Final(error) => error,
            GaveUp::Exhausted { failure, attempts }
            | GaveUp::TooLongToWait {
                failure, attempts, ..
            } => match failure {
                Failure::Status(status, message) => WebhookApiError::Unavailable {
                    attempts,
                    detail: format!("last answer HTTP {}{}", status.as_u16(), suffix(message)),
                },
                Failure::Transport(detail) => WebhookApiError::Transport {
                    url: format!("{}{path}", self.base_url),
                    detail,
                },
            },
        })
    }

    /// Attempt number `attempt` of [`V2Session::send`].
    async fn send_once(
        &self,
        request: reqwest::RequestBuilder,
        path: &str,
        repeat: Repeat,
        attempt: u32,
    ) -> Result<Vec<u8>, Failed<Failure, WebhookApiError>> {
        let (failure, retry_after) = match request.send().await {
            Ok(response) => {
                let status = response.status();
                let retry_after = retry::retry_after(response.headers());
                match crate::http::read_body(response, crate::http::DEFAULT_BODY_LIMIT).await {
                    Ok(body) if status.is_success() => return Ok(body),
                    Ok(body) => (Failure::Status(status, message_of(&body)), retry_after),
                    Err(error @ crate::http::BodyError::TooLarge { .. }) => {
                        return Err(Failed::Final(WebhookApiError::Malformed {
                            detail: format!("{path}: {error}"),
                        }))
                    }
                    Err(crate::http::BodyError::Transport(error)) => {
                        (Failure::Transport(error.to_string()), None)
                    }
                }
            }
            // Not connected: nothing reached Personio, so even a create may be repeated.
            Err(error) if error.is_connect() => (Failure::Transport(error.to_string()), None),
            Err(error) if repeat == Repeat::Always => (Failure::Transport(error.to_string()), None),
            Err(error) => {
                return Err(Failed::Final(WebhookApiError::Transport {
                    url: format!("{}{path}", self.base_url),
                    detail: format!("{error}; check in Personio whether the webhook was created before trying again"),
                }))
            }
        };
        if let Failure::Status(status, message) = &failure {
            let transient = *status == StatusCode::TOO_MANY_REQUESTS
                || (repeat == Repeat::Always
                    && (status.is_server_error() || *status == StatusCode::REQUEST_TIMEOUT));
            if !transient {
                return Err(Failed::Final(self.refused(*status, message.clone(), path)));
            }
        }
        tracing::warn!(path, attempt, "a Personio webhook request failed");
        Err(Failed::Transient {
            failure,
            retry_after,
        })
    }

    fn refused(&self, status: StatusCode, message: Option<String>, path: &str) -> WebhookApiError {
        let detail = format!("HTTP {} on {path}{}", status.as_u16(), suffix(message));
        match status {
            StatusCode::UNAUTHORIZED => WebhookApiError::Unauthorized {
                account: self.account.clone(),
                detail,
            },
            StatusCode::FORBIDDEN => WebhookApiError::Forbidden {
                account: self.account.clone(),
                detail,
            },
            status => WebhookApiError::Rejected {
                status: status.as_u16(),
                detail,
            },
        }
    }
}

fn suffix(message: Option<String>) -> String {
    message.map(|m| format!(": {m}")).unwrap_or_default()
}

/// Personio's message from a v2 error (`errors[0].detail`/`title`) or an OAuth2 error
/// (`error_description`/`error`), cut to a sane length.
fn message_of(body: &[u8]) -> Option<String> {
    let value: Value = serde_json::from_slice(body).ok()?;
    let text = [
        "/errors/0/detail",
        "/errors/0/title",
        "/error_description",
        "/error",
    ]
    .iter()
    .find_map(|pointer| value.pointer(pointer).and_then(Value::as_str))?;
    let text: String = text.trim().chars().take(200).collect();
    (!text.is_empty()).then_some(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_come_from_v2_and_oauth_errors() {
        let v2 = br#"{"personio_trace_id":"x","errors":[{"title":"Bad request","detail":"url must be HTTPS"}]}"#;
        assert_eq!(message_of(v2).as_deref(), Some("url must be HTTPS"));
        let oauth =
            br#"{"error":"invalid_client","error_description":"The client_id is not valid."}"#;
        assert_eq!(
            message_of(oauth).as_deref(),
            Some("The client_id is not valid.")
        );
        assert_eq!(message_of(b"<html>"), None);
    }

    #[tokio::test]
    async fn an_endless_token_answer_is_cut_off_at_the_limit_with_a_clear_error() {
        use axum::body::{Body, Bytes};
        use std::convert::Infallible;
        let endless = || async {
            let chunk = Bytes::from(vec![b' '; 64 * 1024]);
            axum::response::Response::new(Body::from_stream(futures::stream::repeat(Ok::<
                _,
                Infallible,
            >(
                chunk
            ))))
        };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a free loopback port");
        let address = listener.local_addr().expect("the bound address");
        let app = axum::Router::new().fallback(endless);
        tokio::spawn(async move { axum::serve(listener, app).await });
        let credentials = V2Credentials {
            account: AccountId::parse("acme").expect("an account id"),
            base_url: format!("http://{address}"),
            client_id: "id".to_owned(),
            client_secret: SecretString::from("secret"),
        };
        let error = V2Session::open(&credentials).await.err().expect("refused");
        assert!(error.to_string().contains("larger than 32 MiB"), "{error}");
    }

    #[tokio::test]
    async fn no_session_is_opened_over_plain_http_to_another_host() {
        let credentials = V2Credentials {
            account: AccountId::parse("acme").expect("an account id"),
            base_url: "http://api.personio.de".to_owned(),
            client_id: "id".to_owned(),
            client_secret: SecretString::from("secret"),
        };
        let error = V2Session::open(&credentials).await.err().expect("refused");
        assert!(error.to_string().contains("clear text"), "{error}");
    }
}
