//! [`ApiError`]: every failure of the admin API, answered as
//! `{"error": {"code": "…", "message": "…", "problems": ["…"]}}`.
//!
//! Bad input is a 4xx with a message that names what to fix; a 5xx means a port (DynamoDB,
//! Secrets Manager, SQS, Personio, the destination) failed, and is logged once here. Messages
//! never carry a secret: port errors name secrets and tables, never values, and request bodies
//! with secrets are parsed without quoting them (`request`).

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;
use sync_core::ports::{JobsError, SecretsAdminError, SecretsError, SourceError, StoreError};

/// One failed request: status, a stable machine-readable code, a message for an admin, and for
/// validation failures every problem found.
#[derive(Debug)]
pub struct ApiError {
    /// The HTTP status.
    pub status: StatusCode,
    /// A stable code (`tenant_not_found`, `invalid_config`, …), listed in `docs/admin-api.md`.
    pub code: &'static str,
    /// What happened and what to do.
    pub message: String,
    /// Every problem, for `422 invalid_config`.
    pub problems: Vec<String>,
}

impl ApiError {
    /// An error without a problem list.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            problems: Vec::new(),
        }
    }

    /// 400 with `code`.
    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }

    /// 422 `invalid_config` listing every problem; nothing was saved.
    pub fn invalid(what: &str, problems: Vec<String>) -> Self {
        Self {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            code: "invalid_config",
            message: format!(
                "the {what} has {} problem(s); nothing was saved",
                problems.len()
            ),
            problems,
        }
    }

    /// 422 `invalid_person`: a person to add to Personio, with every problem; nothing was sent.
    pub fn invalid_person(problems: Vec<String>) -> Self {
        Self {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            code: "invalid_person",
            message: format!(
                "the person has {} problem(s); nothing was sent to Personio",
                problems.len()
            ),
            problems,
        }
    }

    /// 404 `tenant_not_found`.
    pub fn tenant_not_found(tenant: &impl std::fmt::Display) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "tenant_not_found",
            format!("there is no tenant {tenant}; create it with POST /tenants"),
        )
    }

    /// 404 for a path no route serves.
    pub fn no_route() -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "no_such_endpoint",
            "no endpoint has this path; docs/admin-api.md lists them",
        )
    }

    /// 405 for a method the path does not take.
    pub fn method_not_allowed() -> Self {
        Self::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
            "this endpoint does not take this method; docs/admin-api.md lists them",
        )
    }

    /// A failed port, as 500 (or 503 when trying again may help), logged once here.
    fn port(status: StatusCode, code: &'static str, error: &dyn std::fmt::Display) -> Self {
        tracing::error!(code, error = %error, "a port failed");
        Self::new(status, code, error.to_string())
    }

    /// A Personio failure while the API read Personio with the tenant's stored credentials.
    pub fn personio(error: &SourceError) -> Self {
        match error {
            SourceError::Unauthorized { .. } => Self::new(
                StatusCode::CONFLICT,
                "stored_credentials_rejected",
                format!("{error}; store working credentials with PUT /tenants/{{id}}/credentials/personio/{{account}}"),
            ),
            SourceError::Forbidden { .. } => Self::new(
                StatusCode::CONFLICT,
                "stored_credentials_forbidden",
                error.to_string(),
            ),
            SourceError::Label { .. } => Self::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_config",
                error.to_string(),
            ),
            SourceError::WriteForbidden { .. } => Self::new(
                StatusCode::CONFLICT,
                "stored_credentials_read_only",
                error.to_string(),
            ),
            SourceError::Refused { .. } => Self::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "personio_refused",
                error.to_string(),
            ),
            _ => Self::port(StatusCode::BAD_GATEWAY, "personio_unavailable", error),
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::Conflict { .. } => {
                Self::new(StatusCode::CONFLICT, "conflict", error.to_string())
            }
            StoreError::Corrupt { .. } => {
                Self::port(StatusCode::INTERNAL_SERVER_ERROR, "state_damaged", &error)
            }
            StoreError::Io { .. } => {
                Self::port(StatusCode::SERVICE_UNAVAILABLE, "store_unavailable", &error)
            }
        }
    }
}

impl From<SecretsAdminError> for ApiError {
    fn from(error: SecretsAdminError) -> Self {
        Self::port(
            StatusCode::SERVICE_UNAVAILABLE,
            "secrets_unavailable",
            &error,
        )
    }
}

impl From<SecretsError> for ApiError {
    fn from(error: SecretsError) -> Self {
        match error {
            SecretsError::Missing { .. } | SecretsError::NotGiven { .. } => Self::new(
                StatusCode::CONFLICT,
                "credentials_missing",
                error.to_string(),
            ),
            SecretsError::Malformed { .. } => Self::new(
                StatusCode::CONFLICT,
                "credentials_unusable",
                error.to_string(),
            ),
            SecretsError::Unavailable { .. } => Self::port(
                StatusCode::SERVICE_UNAVAILABLE,
                "secrets_unavailable",
                &error,
            ),
        }
    }
}

impl From<JobsError> for ApiError {
    fn from(error: JobsError) -> Self {
        Self::port(StatusCode::SERVICE_UNAVAILABLE, "queue_unavailable", &error)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut error = json!({ "code": self.code, "message": self.message });
        if !self.problems.is_empty() {
            error["problems"] = json!(self.problems);
        }
        (self.status, Json(json!({ "error": error }))).into_response()
    }
}
