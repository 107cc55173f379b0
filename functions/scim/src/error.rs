//! How a failed SCIM request is described: the server's error body (RFC 7644 §3.12) parsed as
//! it is sent, never guessed, and turned into the engine's [`DestinationError`].

use crate::json::member;
use serde_json::Value;
use sync_core::ports::DestinationError;

/// The `schemas` value of a SCIM error body.
pub const ERROR_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:Error";

/// A final non-success answer: its HTTP status and what the server said.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Refusal {
    /// The HTTP status.
    pub status: u16,
    /// SCIM `scimType` (`uniqueness`, `invalidValue`, `noTarget`, …), if given.
    pub scim_type: Option<String>,
    /// The server's `detail`, or a description of the status when it sent none.
    pub detail: String,
}

impl Refusal {
    /// Reads a response body: a SCIM error when it is one, else only the status is known.
    /// Bodies that are not SCIM errors are not quoted: they may echo personal data.
    pub fn parse(status: u16, body: &[u8]) -> Self {
        let parsed: Option<Value> = serde_json::from_slice(body).ok();
        let scim_error = parsed.as_ref().filter(|value| is_scim_error(value));
        let text = |name: &str| {
            scim_error
                .and_then(|error| member(error, name))
                .and_then(Value::as_str)
                .map(str::trim)
                .filter(|text| !text.is_empty())
                .map(str::to_owned)
        };
        Self {
            status,
            scim_type: text("scimType"),
            detail: text("detail")
                .unwrap_or_else(|| format!("HTTP {status} without a SCIM error detail")),
        }
    }

    /// Whether the server said the PATCH target does not exist (RFC 7644 §3.12 `noTarget`).
    pub fn is_no_target(&self) -> bool {
        self.status == 400
            && self
                .scim_type
                .as_deref()
                .is_some_and(|t| t.eq_ignore_ascii_case("noTarget"))
    }
}

fn is_scim_error(value: &Value) -> bool {
    let listed = member(value, "schemas")
        .and_then(Value::as_array)
        .is_some_and(|schemas| schemas.iter().any(|s| s.as_str() == Some(ERROR_SCHEMA)));
    // Some servers omit `schemas` on errors but still send `detail`; take it as SCIM-shaped.
    listed || member(value, "detail").is_some_and(Value::is_string)
}

/// Why a request did not succeed.
#[derive(Clone, Debug)]
pub(crate) enum Failure {
    /// The server answered with a final error status.
    Refused(Refusal),
    /// Rate limited, failing or unreachable after every attempt.
    Exhausted {
        /// Attempts made.
        attempts: u32,
        /// Last status or error.
        detail: String,
    },
    /// A success answer this adapter cannot read, or a request it could not build.
    Malformed(String),
}

impl Failure {
    /// The engine's error for this failure of a request about `what` (`user`, `group`) `id`.
    pub fn into_error(self, tenant: &str, what: &'static str, id: &str) -> DestinationError {
        match self {
            Self::Refused(refusal) => match refusal.status {
                401 | 403 => DestinationError::Unauthorized {
                    tenant: tenant.to_owned(),
                    detail: format!("HTTP {}: {}", refusal.status, refusal.detail),
                },
                404 => DestinationError::NotFound {
                    what,
                    id: id.to_owned(),
                },
                409 => DestinationError::Conflict {
                    detail: refusal.detail,
                },
                status => DestinationError::Rejected {
                    status,
                    scim_type: refusal.scim_type,
                    detail: refusal.detail,
                },
            },
            Self::Exhausted { attempts, detail } => {
                DestinationError::Unavailable { attempts, detail }
            }
            Self::Malformed(detail) => DestinationError::Transport { detail },
        }
    }

    /// The engine's error for a failed request on a collection (`/Users`), where a 404 means a
    /// wrong base URL rather than a missing resource.
    pub fn into_collection_error(self, tenant: &str, endpoint: &str) -> DestinationError {
        match self {
            Self::Refused(Refusal { status: 404, .. }) => DestinationError::Transport {
                detail: format!(
                    "the destination answered 404 for {endpoint}; check the tenant's SCIM base URL (it usually ends in /scim/v2 or /v2)"
                ),
            },
            other => other.into_error(tenant, "resource", endpoint),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_scim_error_body_gives_its_type_and_detail() {
        let body = br#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"status":"400","scimType":"invalidValue","detail":"userName is required"}"#;
        let refusal = Refusal::parse(400, body);
        assert_eq!(refusal.scim_type.as_deref(), Some("invalidValue"));
        assert_eq!(refusal.detail, "userName is required");
    }

    #[test]
    fn a_body_that_is_not_a_scim_error_is_not_quoted() {
        let refusal = Refusal::parse(502, b"<html>ada@acme.example</html>");
        assert_eq!(refusal.detail, "HTTP 502 without a SCIM error detail");
        assert_eq!(refusal.scim_type, None);
    }

    #[test]
    fn statuses_map_to_the_engine_errors() {
        let refused = |status| Failure::Refused(Refusal::parse(status, b"{\"detail\":\"d\"}"));
        let unauthorized = refused(401).into_error("acme", "user", "u1");
        assert!(
            matches!(&unauthorized, DestinationError::Unauthorized { tenant, .. } if tenant == "acme")
        );
        assert!(unauthorized
            .to_string()
            .starts_with("the destination rejected the token of tenant acme"));
        assert!(matches!(
            refused(403).into_error("acme", "user", "u1"),
            DestinationError::Unauthorized { .. }
        ));
        assert!(matches!(
            refused(404).into_error("acme", "user", "u1"),
            DestinationError::NotFound { what: "user", .. }
        ));
        assert!(matches!(
            refused(409).into_error("acme", "user", "u1"),
            DestinationError::Conflict { .. }
        ));
        assert!(matches!(
            refused(400).into_error("acme", "user", "u1"),
            DestinationError::Rejected { status: 400, detail, .. } if detail == "d"
        ));
    }
}
