//! Reading a request: path ids ([`Ids`]), JSON bodies, query strings and `If-Match`, each failure
//! an [`ApiError`] with a 4xx status, never a panic or a 5xx.
//!
//! Bodies are read here rather than with axum's `Json`, so that errors have our shape and so that
//! a body carrying a secret is never quoted back: serde's messages can contain the offending value
//! (`invalid type: integer 123, expected a string`), so for such bodies only the line, the column
//! and unknown field names are kept ([`parse_secret_body`]).

use crate::error::ApiError;
use axum::body::{Body, Bytes};
use axum::extract::{FromRequestParts, RawPathParams};
use axum::http::header::{ETAG, IF_MATCH};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use std::collections::BTreeMap;
use sync_core::ids::{AccountId, RunId, TenantId};

/// Bodies above this are refused with 413: the largest legitimate body, a tenant config with a
/// long mapping, is a few kilobytes.
pub const MAX_BODY_BYTES: usize = 256 * 1024;

/// The ids of the path, parsed: always the tenant, and the run or account where the route has one.
pub struct Ids {
    /// `{tenant}`.
    pub tenant: TenantId,
    run: Option<RunId>,
    account: Option<AccountId>,
}

impl Ids {
    /// `{run}` of the route.
    pub fn run(&self) -> Result<&RunId, ApiError> {
        self.run
            .as_ref()
            .ok_or_else(|| ApiError::bad_request("invalid_id", "this route takes a run id"))
    }

    /// `{account}` of the route.
    pub fn account(&self) -> Result<&AccountId, ApiError> {
        self.account
            .as_ref()
            .ok_or_else(|| ApiError::bad_request("invalid_id", "this route takes an account"))
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Ids {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let params = RawPathParams::from_request_parts(parts, state)
            .await
            .map_err(|_| ApiError::bad_request("invalid_id", "the path is not valid UTF-8"))?;
        let invalid =
            |error: sync_core::ids::IdError| ApiError::bad_request("invalid_id", error.to_string());
        let mut tenant = None;
        let mut run = None;
        let mut account = None;
        for (name, value) in &params {
            match name {
                "tenant" => tenant = Some(TenantId::parse(value).map_err(invalid)?),
                "run" => run = Some(RunId::parse(value).map_err(invalid)?),
                "account" => account = Some(AccountId::parse(value).map_err(invalid)?),
                _ => {}
            }
        }
        let tenant = tenant
            .ok_or_else(|| ApiError::bad_request("invalid_id", "the path names no tenant"))?;
        Ok(Self {
            tenant,
            run,
            account,
        })
    }
}

/// The whole body, refused with 413 above [`MAX_BODY_BYTES`].
pub async fn read_body(body: Body) -> Result<Bytes, ApiError> {
    axum::body::to_bytes(body, MAX_BODY_BYTES)
        .await
        .map_err(|_| {
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "body_too_large",
                format!("the body is larger than {MAX_BODY_BYTES} bytes"),
            )
        })
}

/// Parses a JSON body whose values may be quoted in errors (configs hold no secrets). An empty
/// body parses as `{}` when `empty_is_object`.
pub fn parse_body<T: DeserializeOwned>(bytes: &[u8], empty_is_object: bool) -> Result<T, ApiError> {
    let bytes = if empty_is_object && bytes.iter().all(u8::is_ascii_whitespace) {
        b"{}".as_slice()
    } else {
        bytes
    };
    serde_json::from_slice(bytes).map_err(|error| json_error(&error, true))
}

/// Parses a JSON body that carries a secret: errors name the position and unknown fields only.
pub fn parse_secret_body<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(bytes).map_err(|error| json_error(&error, false))
}

fn json_error(error: &serde_json::Error, quote: bool) -> ApiError {
    use serde_json::error::Category;
    let position = format!("line {}, column {}", error.line(), error.column());
    match error.classify() {
        Category::Syntax | Category::Eof | Category::Io => ApiError::bad_request(
            "malformed_json",
            format!("the body is not valid JSON ({position})"),
        ),
        Category::Data => {
            let text = error.to_string();
            // Field names are ours or the caller's keys, never values: safe to repeat.
            let unknown = text.starts_with("unknown field") || text.starts_with("missing field");
            let message = if quote || unknown {
                text
            } else {
                format!("a field has the wrong type or an unusable value ({position}); the values are not repeated because they may be secret")
            };
            ApiError::bad_request("invalid_body", message)
        }
    }
}

/// The query string as name → value, refusing names other than `allowed` (so a typo is an error,
/// not an ignored parameter).
pub fn query(raw: Option<&str>, allowed: &[&str]) -> Result<BTreeMap<String, String>, ApiError> {
    let mut pairs = BTreeMap::new();
    for pair in raw.unwrap_or_default().split('&').filter(|p| !p.is_empty()) {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        let decode = |text: &str| {
            percent_decode(text).ok_or_else(|| {
                ApiError::bad_request("invalid_query", "the query string is not valid UTF-8")
            })
        };
        let (name, value) = (decode(name)?, decode(value)?);
        if !allowed.contains(&name.as_str()) {
            return Err(ApiError::bad_request(
                "invalid_query",
                format!(
                    "unknown query parameter `{name}`; this endpoint takes {}",
                    if allowed.is_empty() {
                        "none".to_owned()
                    } else {
                        allowed.join(", ")
                    }
                ),
            ));
        }
        pairs.insert(name, value);
    }
    Ok(pairs)
}

/// `+` as space and `%XX` escapes, as in `application/x-www-form-urlencoded`.
fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 2;
            }
            byte => out.push(byte),
        }
        i += 1;
    }
    String::from_utf8(out).ok()
}

/// A whole number query parameter within `range`, or `default` when absent.
pub fn number(
    query: &BTreeMap<String, String>,
    name: &str,
    default: usize,
    range: std::ops::RangeInclusive<usize>,
) -> Result<usize, ApiError> {
    let Some(text) = query.get(name) else {
        return Ok(default);
    };
    text.parse::<usize>()
        .ok()
        .filter(|value| range.contains(value))
        .ok_or_else(|| {
            ApiError::bad_request(
                "invalid_query",
                format!(
                    "`{name}` must be a whole number from {} to {}",
                    range.start(),
                    range.end()
                ),
            )
        })
}

/// The `ETag` of config version `version`.
pub fn etag(version: u64) -> [(axum::http::HeaderName, HeaderValue); 1] {
    let value = HeaderValue::from_str(&format!("\"{version}\""))
        .unwrap_or_else(|_| HeaderValue::from_static("\"0\""));
    [(ETAG, value)]
}

/// Checks `If-Match` against the current config `version` (RFC 9110 §13.1.1): 428 when it is
/// missing, 412 when no tag in it matches. `*` matches any version.
pub fn check_if_match(headers: &HeaderMap, version: u64) -> Result<(), ApiError> {
    let values: Vec<&str> = headers
        .get_all(IF_MATCH)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .collect();
    if values.is_empty() {
        return Err(ApiError::new(
            StatusCode::PRECONDITION_REQUIRED,
            "if_match_required",
            "send If-Match with the ETag of the config you edited (GET returns it), so that two edits do not overwrite each other",
        ));
    }
    let matches = values
        .iter()
        .flat_map(|value| value.split(','))
        .map(|tag| tag.trim().trim_start_matches("W/").trim_matches('"'))
        .any(|tag| tag == "*" || tag.parse::<u64>().ok() == Some(version));
    if matches {
        Ok(())
    } else {
        Err(version_moved(version))
    }
}

/// 412: the config is now at `version`.
pub fn version_moved(version: u64) -> ApiError {
    ApiError::new(
        StatusCode::PRECONDITION_FAILED,
        "version_mismatch",
        format!("the config was changed meanwhile and is now at version {version} (ETag \"{version}\"); GET it again, reapply your change and send the new ETag"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn if_match_takes_quoted_weak_and_listed_tags() {
        let headers = |value: &str| {
            let mut map = HeaderMap::new();
            map.insert(IF_MATCH, HeaderValue::from_str(value).unwrap());
            map
        };
        assert!(check_if_match(&headers("\"3\""), 3).is_ok());
        assert!(check_if_match(&headers("W/\"3\""), 3).is_ok());
        assert!(check_if_match(&headers("\"1\", \"3\""), 3).is_ok());
        assert!(check_if_match(&headers("*"), 3).is_ok());
        assert_eq!(
            check_if_match(&headers("\"2\""), 3).unwrap_err().status,
            StatusCode::PRECONDITION_FAILED
        );
        assert_eq!(
            check_if_match(&HeaderMap::new(), 3).unwrap_err().status,
            StatusCode::PRECONDITION_REQUIRED
        );
    }

    #[test]
    fn secret_bodies_are_never_quoted_in_errors() {
        #[derive(serde::Deserialize, Debug)]
        #[serde(deny_unknown_fields)]
        #[allow(dead_code)] // Only parsed.
        struct Secret {
            token: String,
        }
        let error = parse_secret_body::<Secret>(br#"{"token": 987654321}"#).unwrap_err();
        assert!(!error.message.contains("987654321"), "{}", error.message);
        let error = parse_secret_body::<Secret>(br#"{"tokn": "x"}"#).unwrap_err();
        assert!(error.message.contains("tokn"), "{}", error.message);
        let error = parse_secret_body::<Secret>(br#"{"token": "abc"#).unwrap_err();
        assert_eq!(error.code, "malformed_json");
    }

    #[test]
    fn unknown_query_parameters_are_named() {
        let error = query(Some("limit=5&befor=x"), &["limit", "before"]).unwrap_err();
        assert!(error.message.contains("befor"), "{}", error.message);
        let parsed = query(Some("before=a%2Bb&limit=5"), &["limit", "before"]).unwrap();
        assert_eq!(parsed["before"], "a+b");
    }
}

/// A Personio person in a body: `{account?, id}`, the account optional when the tenant has one.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PersonBody {
    #[serde(default)]
    account: Option<String>,
    id: IdValue,
}

/// A Personio id as a JSON number or string.
#[derive(Deserialize)]
#[serde(untagged)]
enum IdValue {
    Number(u64),
    Text(String),
}

impl PersonBody {
    /// The person's key in `config`'s accounts; `field` names the body's member in errors
    /// (`422 invalid_person`).
    pub fn key(
        self,
        config: &sync_core::config::TenantConfig,
        field: &str,
    ) -> Result<sync_core::ids::PersonKey, ApiError> {
        use sync_core::ids::{PersonKey, PersonioId};
        let invalid = |message: String| {
            ApiError::new(
                axum::http::StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_person",
                message,
            )
        };
        let id = match self.id {
            IdValue::Number(id) => PersonioId::new(id),
            IdValue::Text(text) => {
                PersonioId::parse(&text).map_err(|error| invalid(format!("{field}.id: {error}")))?
            }
        };
        let accounts: Vec<&AccountId> = config.personio.accounts.iter().map(|a| &a.name).collect();
        let account = match self.account {
            Some(name) => AccountId::parse(&name)
                .ok()
                .filter(|account| accounts.contains(&account))
                .ok_or_else(|| {
                    invalid(format!(
                        "{field}.account: this tenant has no Personio account named `{name}`"
                    ))
                })?,
            None if accounts.len() == 1 => accounts[0].clone(),
            None => {
                return Err(invalid(format!(
                    "{field}.account: this tenant has several Personio accounts; name the person's"
                )))
            }
        };
        Ok(PersonKey::new(account, id))
    }
}
