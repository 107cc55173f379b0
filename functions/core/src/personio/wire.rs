//! The JSON envelopes of Personio's v1 API, as serde types (personio-api.md §1.2, §1.3, §1.6, §1.8,
//! §1.11).
//!
//! Only the envelope is typed. Each employee's `attributes` stays a `serde_json::Map` until
//! `normalise` reads it, page by page, so a full fetch never holds more raw JSON than the pages in
//! flight. Fields the engine does not need are left out; fields Personio has been seen to omit are
//! optional.

use crate::employee::AttributeInfo;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The body of `POST /v1/auth`. Credentials go in the body: query-string credentials are
/// deprecated and will answer 403 (personio-api.md §1.2).
#[derive(Serialize)]
pub struct AuthRequest<'a> {
    /// The API credential's client id.
    pub client_id: &'a str,
    /// The API credential's secret.
    pub client_secret: &'a str,
}

/// `POST /v1/auth` → `{"success": true, "data": {"token": "papi-…", "expires_in": 86400}}`.
#[derive(Deserialize)]
pub struct AuthResponse {
    /// The token and its lifetime.
    pub data: AuthData,
}

/// The `data` of [`AuthResponse`].
#[derive(Deserialize)]
pub struct AuthData {
    /// The bearer token. Kept out of `Debug` by not deriving it; moved into a secret at once.
    pub token: String,
    /// Seconds the token lives; current tokens live 24 h.
    #[serde(default)]
    pub expires_in: Option<f64>,
}

/// Paging facts of a list response. All three are documented as required, but read defensively.
#[derive(Debug, Clone, Copy, Deserialize)]
pub struct Metadata {
    /// Employees in the whole list.
    pub total_elements: u64,
    /// The page's index, from 0.
    #[serde(default)]
    pub current_page: Option<u64>,
    /// Pages in the whole list.
    #[serde(default)]
    pub total_pages: Option<u64>,
}

/// `GET /v1/company/employees` → one page of employees.
#[derive(Deserialize)]
pub struct ListResponse {
    /// Paging facts; absent only from old, unpaged responses.
    #[serde(default)]
    pub metadata: Option<Metadata>,
    /// The page size Personio applied.
    #[serde(default)]
    pub limit: Option<u64>,
    /// The employees of this page.
    pub data: Vec<WireEmployee>,
}

/// `GET /v1/company/employees/{id}` → one employee.
#[derive(Deserialize)]
pub struct SingleResponse {
    /// The employee.
    pub data: WireEmployee,
}

/// One `{type: "Employee", attributes: {…}}` entry.
#[derive(Deserialize)]
pub struct WireEmployee {
    /// Attribute key → `{label, value, type, universal_id}`; read by `normalise`. Missing counts
    /// as empty, which `normalise` reports as an unreadable person rather than a broken page.
    #[serde(default)]
    pub attributes: Map<String, Value>,
}

/// `GET /v1/company/employees/attributes` → what the credential may read.
#[derive(Deserialize)]
pub struct AttributesResponse {
    /// One entry per readable attribute.
    pub data: Vec<WireAttribute>,
}

/// One entry of [`AttributesResponse`].
#[derive(Deserialize)]
pub struct WireAttribute {
    /// The attribute key (`first_name`, `dynamic_2`).
    pub key: String,
    /// The tenant's label.
    #[serde(default)]
    pub label: Option<String>,
    /// Personio's attribute type.
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
    /// The cross-tenant name, or null.
    #[serde(default)]
    pub universal_id: Option<String>,
    /// Allowed values of `list`/`tags` attributes; added to the API later, so optional.
    #[serde(default)]
    pub options: Option<Vec<Value>>,
}

impl WireAttribute {
    /// The engine's view of the attribute. A missing label falls back to the key and a missing
    /// type to `standard`; options that are not text are kept as their JSON text.
    pub fn into_info(self) -> AttributeInfo {
        AttributeInfo {
            label: self.label.unwrap_or_else(|| self.key.clone()),
            key: self.key,
            kind: self.kind.unwrap_or_else(|| "standard".to_owned()),
            universal_id: self.universal_id.filter(|id| !id.trim().is_empty()),
            options: self
                .options
                .unwrap_or_default()
                .into_iter()
                .map(|option| match option {
                    Value::String(text) => text,
                    other => other.to_string(),
                })
                .collect(),
        }
    }
}

/// `{"success": false, "error": {"code": 401, "message": "…"}}`. Every field optional: this is
/// read from error responses of any shape, and a miss just means "no message".
#[derive(Deserialize)]
pub struct ErrorEnvelope {
    /// The error.
    #[serde(default)]
    pub error: Option<ErrorBody>,
}

/// The `error` of [`ErrorEnvelope`].
#[derive(Deserialize)]
pub struct ErrorBody {
    /// Personio's message (often German, sometimes with trailing spaces).
    #[serde(default)]
    pub message: Option<String>,
}

impl ErrorEnvelope {
    /// Personio's message from an error body, trimmed and cut to a sane length, if there is one.
    pub fn message_of(body: &[u8]) -> Option<String> {
        let envelope: Self = serde_json::from_slice(body).ok()?;
        let message = envelope.error?.message?;
        let message: String = message.trim().chars().take(200).collect();
        (!message.is_empty()).then_some(message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_spec_list_example_parses() {
        let page: ListResponse =
            serde_json::from_str(include_str!("fixtures/spec_employees.json")).unwrap();
        let metadata = page.metadata.unwrap();
        assert_eq!(metadata.total_elements, 2);
        assert_eq!(metadata.total_pages, Some(3));
        assert_eq!(page.limit, Some(20));
        assert_eq!(page.data.len(), 1);
        assert!(page.data[0].attributes.contains_key("dynamic_33400"));
    }

    #[test]
    fn the_spec_attributes_example_parses() {
        let response: AttributesResponse =
            serde_json::from_str(include_str!("fixtures/spec_attributes.json")).unwrap();
        let infos: Vec<AttributeInfo> = response
            .data
            .into_iter()
            .map(WireAttribute::into_info)
            .collect();
        assert_eq!(infos.len(), 5);
        assert_eq!(infos[2].universal_id.as_deref(), Some("iban"));
        assert_eq!(infos[3].kind, "list");
        assert_eq!(infos[3].universal_id, None);
        assert_eq!(infos[4].options, ["English", "French", "Spanish", "German"]);
    }

    #[test]
    fn attributes_without_label_type_or_options_get_defaults() {
        let response: AttributesResponse =
            serde_json::from_str(r#"{"success":true,"data":[{"key":"dynamic_9"}]}"#).unwrap();
        let info = response.data.into_iter().next().unwrap().into_info();
        assert_eq!(
            (info.label.as_str(), info.kind.as_str()),
            ("dynamic_9", "standard")
        );
        assert!(info.options.is_empty());
    }

    #[test]
    fn auth_responses_with_and_without_lifetime_parse() {
        let full: AuthResponse = serde_json::from_str(
            r#"{"success":true,"data":{"token":"papi-x","expires_in":86400,"scope":"employees:read"}}"#,
        )
        .unwrap();
        assert_eq!(full.data.expires_in, Some(86400.0));
        let bare: AuthResponse =
            serde_json::from_str(r#"{"success":true,"data":{"token":"papi-x"}}"#).unwrap();
        assert_eq!(bare.data.expires_in, None);
    }

    #[test]
    fn error_messages_are_read_trimmed_from_the_envelope() {
        let body = br#"{"success": false, "error": {"code": 404, "message": "Es ist ein Problem aufgetreten "}}"#;
        assert_eq!(
            ErrorEnvelope::message_of(body).as_deref(),
            Some("Es ist ein Problem aufgetreten")
        );
        assert_eq!(ErrorEnvelope::message_of(b"<html>bad gateway</html>"), None);
        assert_eq!(ErrorEnvelope::message_of(br#"{"success":false}"#), None);
    }
}
