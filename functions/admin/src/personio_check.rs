//! Checks new Personio credentials before they are stored: `POST /v1/auth` (are the client id and
//! secret right?), then `GET /v1/company/employees?limit=1` (may the credential read employees?).
//!
//! Two plain requests rather than [`sync_core::personio::PersonioClient`]: the client has no
//! one-employee list read (its full fetch pages through everyone, which a check must not do) and
//! keeps its token to itself. Each request is tried once, with a short timeout: an admin waits
//! for the answer, and "Personio did not answer, try again" is a fine one.

use secrecy::ExposeSecret;
use serde::Deserialize;
use std::time::Duration;
use sync_core::config::AccountConfig;
use sync_core::ports::PersonioCredentials;

/// Why the credentials were not accepted.
#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    /// `/v1/auth` refused the client id or secret (401, or 400/422 for a malformed pair).
    #[error("Personio rejected the client id or client secret of account {account} (HTTP {status}: {detail}); copy both again from the API credential in Personio; nothing was saved")]
    WrongCredentials {
        /// The account.
        account: String,
        /// Personio's status.
        status: u16,
        /// Personio's message.
        detail: String,
    },
    /// The pair is right but may not read employees (403 on auth or on the employee list).
    #[error("Personio accepted the client id and secret of account {account}, but the credential may not read employees (HTTP {status} on {path}: {detail}); in Personio, give the API credential 'Read' access to Employees and choose its readable attributes; nothing was saved")]
    NoEmployeeAccess {
        /// The account.
        account: String,
        /// Personio's status.
        status: u16,
        /// The request refused.
        path: &'static str,
        /// Personio's message.
        detail: String,
    },
    /// The account's base URL would carry the secret in clear text (plain `http` to another
    /// machine), so nothing was sent.
    #[error("the Personio base URL of account {account} is not usable: {detail}; fix personio.accounts.{account}.base_url in the tenant's config; nothing was sent or saved")]
    InsecureUrl {
        /// The account.
        account: String,
        /// What is wrong with the URL.
        detail: String,
    },
    /// Personio could not be asked (down, rate limited, unreachable, unreadable answer).
    #[error("could not check the credentials of account {account} with Personio at {url}: {detail}; nothing was saved, try again")]
    Unavailable {
        /// The account.
        account: String,
        /// The URL (no credentials in it).
        url: String,
        /// What happened.
        detail: String,
    },
}

#[derive(Deserialize)]
struct AuthAnswer {
    data: AuthData,
}

#[derive(Deserialize)]
struct AuthData {
    token: String,
}

/// Personio's error message from a v1 envelope, cut short; never the request's content.
fn message_of(body: &[u8]) -> String {
    let json: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
    let message = json["error"]["message"]
        .as_str()
        .or_else(|| json["message"].as_str())
        .unwrap_or("no message");
    message.chars().take(200).collect()
}

/// Checks `credentials` against `account`'s Personio.
pub async fn check(
    account: &AccountConfig,
    credentials: &PersonioCredentials,
    timeout: Duration,
) -> Result<(), CheckError> {
    let base = account.base_url.trim().trim_end_matches('/').to_owned();
    let name = account.name.to_string();
    // The secret is the first thing sent: never in clear text, whatever the stored config says.
    if let Err(detail) = sync_core::http::credential_url(&base) {
        return Err(CheckError::InsecureUrl {
            account: name,
            detail,
        });
    }
    let unavailable = |url: &str, detail: String| CheckError::Unavailable {
        account: name.clone(),
        url: url.to_owned(),
        detail,
    };
    let http = sync_core::http::client(timeout)
        .map_err(|error| unavailable(&base, format!("could not set up HTTP: {error}")))?;
    let with_partner = |mut request: reqwest::RequestBuilder| {
        if let Some(partner) = &account.partner_id {
            request = request.header("X-Personio-Partner-ID", partner);
        }
        if let Some(app) = &account.app_id {
            request = request.header("X-Personio-App-ID", app);
        }
        request.header("Accept", "application/json")
    };

    let auth_url = format!("{base}/v1/auth");
    // The credentials travel in the JSON body, never in the URL.
    let body = serde_json::json!({
        "client_id": credentials.client_id,
        "client_secret": credentials.client_secret.expose_secret(),
    });
    let response = with_partner(http.post(&auth_url).json(&body))
        .send()
        .await
        .map_err(|error| unavailable(&auth_url, transport(&error)))?;
    let status = response.status();
    let bytes = bounded_body(response).await;
    let token = match status.as_u16() {
        200..=299 => {
            serde_json::from_slice::<AuthAnswer>(&bytes)
                .map_err(|_| unavailable(&auth_url, "the answer has no token".to_owned()))?
                .data
                .token
        }
        403 => {
            return Err(CheckError::NoEmployeeAccess {
                account: name,
                status: 403,
                path: "/v1/auth",
                detail: message_of(&bytes),
            })
        }
        400 | 401 | 422 => {
            return Err(CheckError::WrongCredentials {
                account: name,
                status: status.as_u16(),
                detail: message_of(&bytes),
            })
        }
        other => {
            return Err(unavailable(
                &auth_url,
                format!("HTTP {other}: {}", message_of(&bytes)),
            ))
        }
    };

    let list_url = format!("{base}/v1/company/employees");
    let response = with_partner(
        http.get(&list_url)
            .query(&[("limit", "1"), ("offset", "0")])
            .bearer_auth(&token),
    )
    .send()
    .await
    .map_err(|error| unavailable(&list_url, transport(&error)))?;
    let status = response.status();
    let bytes = bounded_body(response).await;
    match status.as_u16() {
        200..=299 => Ok(()),
        // A fresh token refused means the credential lacks the right (personio-api.md notes v2
        // answering a missing scope with 401 rather than 403).
        401 | 403 => Err(CheckError::NoEmployeeAccess {
            account: name,
            status: status.as_u16(),
            path: "GET /v1/company/employees",
            detail: message_of(&bytes),
        }),
        other => Err(unavailable(
            &list_url,
            format!("HTTP {other}: {}", message_of(&bytes)),
        )),
    }
}

/// The answer's body, at most [`sync_core::http::DEFAULT_BODY_LIMIT`]; one that cannot be read
/// or is larger reads as empty, which the callers report as "no token" or "no message".
async fn bounded_body(response: reqwest::Response) -> Vec<u8> {
    sync_core::http::read_body(response, sync_core::http::DEFAULT_BODY_LIMIT)
        .await
        .unwrap_or_default()
}

fn transport(error: &reqwest::Error) -> String {
    if error.is_timeout() {
        "no answer in time".to_owned()
    } else if error.is_connect() {
        "could not connect".to_owned()
    } else {
        "the request failed".to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::SecretString;

    #[tokio::test]
    async fn a_secret_is_never_checked_over_plain_http_to_another_host() {
        let account: AccountConfig =
            serde_json::from_value(serde_json::json!({"base_url": "http://api.personio.de"}))
                .expect("an account");
        let credentials = PersonioCredentials {
            client_id: "id".to_owned(),
            client_secret: SecretString::from("secret"),
            origin: None,
        };
        let error = check(&account, &credentials, Duration::from_secs(2))
            .await
            .expect_err("refused");
        assert!(error.to_string().contains("clear text"), "{error}");
    }
}
