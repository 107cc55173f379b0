//! A session's token: `POST /v1/auth` (a JSON body, personio-api.md §1.2) or
//! `POST /v2/auth/token` (the client-credentials grant as a form, §2.1), with retries, run once
//! at a time under the token lock.

use super::{
    gave_up, is_transient, receive, unreadable, usable_for, Failure, Session, Step, Token,
    TokenState,
};
use crate::personio::wire::{AuthRequest, AuthResponse, ErrorEnvelope};
use crate::ports::SourceError;
use crate::retry::Failed;
use reqwest::{header, StatusCode};
use secrecy::{ExposeSecret, SecretString};
use std::time::Instant;

/// How a session gets its token.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(in crate::personio) enum Auth {
    /// `POST /v1/auth` with a JSON body (personio-api.md §1.2).
    V1,
    /// `POST /v2/auth/token` with the client-credentials grant as a form (§2.1).
    V2,
}

impl Auth {
    fn path(self) -> &'static str {
        match self {
            Self::V1 => "/v1/auth",
            Self::V2 => "/v2/auth/token",
        }
    }
}

impl Session {
    /// `POST /v1/auth` with retries, holding the token lock so that it runs once at a time.
    pub(super) async fn renew_locked(&self, state: &mut TokenState) -> Result<Token, SourceError> {
        state.current = None;
        let path = self.config.auth.path();
        let url = &format!("{}{path}", self.config.base_url);
        let outcome = self
            .config
            .backoff
            .retry(|attempt| async move {
                match self.try_auth(url).await {
                    Step::Done(result) => result.map_err(Failed::Final),
                    Step::Refused(message) => Err(Failed::Final(self.unauthorized(message))),
                    Step::Retry(failure, retry_after) => {
                        self.note_failure(path, attempt, &failure);
                        Err(Failed::Transient {
                            failure,
                            retry_after,
                        })
                    }
                }
            })
            .await;
        let (token, expires_in) = gave_up(url, outcome)?;
        state.generation += 1;
        let token = Token {
            value: token,
            generation: state.generation,
        };
        let expires = Instant::now() + usable_for(expires_in);
        state.current = Some((token.clone(), expires));
        tracing::info!(generation = state.generation, "authenticated with Personio");
        Ok(token)
    }

    /// One attempt of `POST /v1/auth` (a JSON body) or `POST /v2/auth/token` (a form): the
    /// token and its lifetime. The credentials travel in the body, never in the query string
    /// (deprecated, and logged by proxies).
    pub(super) async fn try_auth(&self, url: &str) -> Step<(SecretString, Option<f64>)> {
        let request = match self.config.auth {
            Auth::V1 => self.http.post(url).json(&AuthRequest {
                client_id: &self.config.client_id,
                client_secret: self.config.client_secret.expose_secret(),
            }),
            Auth::V2 => self.http.post(url).form(&[
                ("grant_type", "client_credentials"),
                ("client_id", self.config.client_id.as_str()),
                ("client_secret", self.config.client_secret.expose_secret()),
            ]),
        }
        .header(header::ACCEPT, "application/json");
        let path = self.config.auth.path();
        let (status, retry_after, bytes) =
            match receive(request, path, self.config.body_limit, None).await {
                Ok(received) => received,
                Err(unreceived) => return unreceived.into_step(),
            };
        if status.is_success() {
            let token = match self.config.auth {
                Auth::V1 => serde_json::from_slice::<AuthResponse>(&bytes).map(|answer| {
                    (
                        SecretString::from(answer.data.token),
                        answer.data.expires_in,
                    )
                }),
                Auth::V2 => serde_json::from_slice::<V2Token>(&bytes)
                    .map(|answer| (SecretString::from(answer.access_token), answer.expires_in)),
            };
            return match token {
                Ok(token) => Step::Done(Ok(token)),
                Err(error) => Step::Retry(Failure::Malformed(unreadable(path, &error)), None),
            };
        }
        let message = ErrorEnvelope::message_of(&bytes).or_else(|| v2_auth_message(&bytes));
        match status {
            StatusCode::FORBIDDEN => Step::Done(Err(self.forbidden(message))),
            status if is_transient(status) => {
                Step::Retry(Failure::Status { status, message }, retry_after)
            }
            // 401, or 400/422 for an empty or malformed credential.
            status => Step::Refused(message.or_else(|| Some(format!("HTTP {}", status.as_u16())))),
        }
    }
}

/// `POST /v2/auth/token`'s answer (personio-api.md §2.1).
#[derive(serde::Deserialize)]
struct V2Token {
    /// The bearer token; moved into a secret at once.
    access_token: String,
    /// Seconds it lives (a day by default).
    #[serde(default)]
    expires_in: Option<f64>,
}

/// The `error_description` of a refused v2 token request (`invalid_client`, …).
fn v2_auth_message(body: &[u8]) -> Option<String> {
    let value: serde_json::Value = serde_json::from_slice(body).ok()?;
    let description = value.get("error_description").and_then(|v| v.as_str());
    let error = value.get("error").and_then(|v| v.as_str());
    match (error, description) {
        (Some(error), Some(description)) => Some(format!("{error}: {description}")),
        (Some(text), None) | (None, Some(text)) => Some(text.to_owned()),
        (None, None) => None,
    }
}
