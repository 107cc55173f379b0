//! The admin API's use of the adapter factory: Personio clients (attribute checks and previews),
//! built as the worker builds them, with the admin
//! API's shorter Personio limits (an HTTP API answers within 30 s), and errors as API answers.

use crate::error::ApiError;
use crate::AdminDeps;
use axum::http::StatusCode;
use sync_adapters::{BuildError, Factory, PersonioLimits};
use sync_core::config::TenantConfig;
use sync_core::ids::AccountId;
use sync_core::personio::PersonioClient;

pub use sync_adapters::as_sources;

/// The factory with the admin API's secrets, limits and local destinations.
fn factory(deps: &AdminDeps) -> Factory<'_> {
    Factory {
        secrets: deps.secrets.as_ref(),
        local: deps.local.as_deref(),
        personio: PersonioLimits {
            max_attempts: Some(deps.settings.personio_attempts),
            request_timeout: Some(deps.settings.personio_timeout),
        },
    }
}

impl From<BuildError> for ApiError {
    fn from(error: BuildError) -> Self {
        match error {
            BuildError::Secrets(error) => error.into(),
            BuildError::Personio { .. } => Self::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_config",
                error.to_string(),
            ),
            BuildError::OriginChanged { .. } => Self::new(
                StatusCode::CONFLICT,
                "credential_origin_changed",
                error.to_string(),
            ),
            BuildError::Destination { .. } | BuildError::NoLocalDirectory => Self::new(
                StatusCode::CONFLICT,
                "destination_unusable",
                error.to_string(),
            ),
        }
    }
}

/// A client for every Personio account of the tenant, with its stored credentials; 409 when an
/// account has none stored.
pub async fn personio_clients(
    deps: &AdminDeps,
    config: &TenantConfig,
) -> Result<Vec<(AccountId, PersonioClient)>, ApiError> {
    Ok(factory(deps).sources(config).await?)
}

/// The tenant's destination, built as the worker builds it (with the stored token).
pub async fn destination(
    deps: &AdminDeps,
    config: &TenantConfig,
) -> Result<Box<dyn sync_core::ports::Destination>, ApiError> {
    Ok(factory(deps).destination(config).await?)
}
