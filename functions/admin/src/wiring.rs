//! The adapters a tenant's config and secrets make: a Personio client per account (for attribute
//! checks and previews) and the destination (for approving a held run). The same construction as
//! the worker's, with the admin API's shorter Personio timeouts: an HTTP API answers within 30 s.

use crate::error::ApiError;
use crate::AdminDeps;
use axum::http::StatusCode;
use sync_core::config::{AccountConfig, DestinationKind, TenantConfig};
use sync_core::ids::AccountId;
use sync_core::personio::{PersonioClient, PersonioSettings, RateLimit};
use sync_core::ports::{Destination, PersonioCredentials, Source};

/// The Personio client of `account` with `credentials`.
pub fn personio_client(
    deps: &AdminDeps,
    config: &TenantConfig,
    account: &AccountConfig,
    credentials: PersonioCredentials,
) -> Result<PersonioClient, ApiError> {
    let mut settings = PersonioSettings::new(
        account.name.clone(),
        account.base_url.clone(),
        credentials.client_id,
        credentials.client_secret,
    );
    settings.rate_limit = RateLimit {
        per_minute: account.rate_limit_per_minute,
        burst: account.rate_limit_burst,
    };
    settings.partner_id = account.partner_id.clone();
    settings.app_id = account.app_id.clone();
    settings.keep_attributes = Some(config.attributes().fetch_filter());
    settings.max_attempts = deps.settings.personio_attempts;
    settings.request_timeout = deps.settings.personio_timeout;
    settings.retry_cap = deps.settings.personio_timeout;
    PersonioClient::new(settings).map_err(|error| {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_config",
            error.to_string(),
        )
    })
}

/// A client for every Personio account of the tenant, with its stored credentials; 409 when an
/// account has none stored.
pub async fn personio_clients(
    deps: &AdminDeps,
    config: &TenantConfig,
) -> Result<Vec<(AccountId, PersonioClient)>, ApiError> {
    let mut clients = Vec::new();
    for account in &config.personio.accounts {
        let credentials = deps.secrets.personio(&config.tenant, &account.name).await?;
        clients.push((
            account.name.clone(),
            personio_client(deps, config, account, credentials)?,
        ));
    }
    Ok(clients)
}

/// The clients as the engine's sources.
pub fn as_sources(clients: &[(AccountId, PersonioClient)]) -> Vec<(AccountId, &dyn Source)> {
    clients
        .iter()
        .map(|(account, client)| (account.clone(), client as &dyn Source))
        .collect()
}

/// The tenant's destination: SCIM with its stored token, or a directory (tests, local stacks).
pub async fn destination(
    deps: &AdminDeps,
    config: &TenantConfig,
) -> Result<Box<dyn Destination>, ApiError> {
    let settings = &config.destination;
    let unusable =
        |message: String| ApiError::new(StatusCode::CONFLICT, "destination_unusable", message);
    match settings.kind {
        DestinationKind::Scim => {
            let token = deps.secrets.destination_token(&config.tenant).await?;
            let base_url = settings
                .base_url
                .clone()
                .ok_or_else(|| unusable("destination.base_url is missing".to_owned()))?;
            let mut scim = sync_scim::ScimSettings::new(config.tenant.to_string(), base_url, token);
            scim.concurrency = config.apply.concurrency;
            scim.attribute_paths = settings.attribute_paths.clone();
            Ok(Box::new(
                sync_scim::ScimDestination::new(scim).map_err(|e| unusable(e.to_string()))?,
            ))
        }
        DestinationKind::Directory => {
            let path = settings
                .path
                .clone()
                .ok_or_else(|| unusable("destination.path is missing".to_owned()))?;
            Ok(Box::new(
                sync_local::DirectoryDestination::open(path)
                    .map_err(|e| unusable(e.to_string()))?,
            ))
        }
    }
}
