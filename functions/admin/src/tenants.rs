//! Tenants: create, read, replace (optimistic: `ETag` is the config version, `If-Match` required),
//! enable, disable and delete.
//!
//! A tenant's answer is `{version, config, credentials}`, where `credentials` says which secrets
//! are stored — never their values. Every write that changes when the tenant runs also moves its
//! entry in the schedule index.

use crate::error::ApiError;
use crate::request::{self, Ids};
use crate::{AdminDeps, Deps};
use axum::body::Body;
use axum::http::header::LOCATION;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::Utc;
use serde_json::{json, Value};
use sync_core::config::{ConfigError, DestinationConfig, TenantConfig};
use sync_core::ids::{AccountId, TenantId};
use sync_core::ports::{StoreError, VersionedConfig};

/// Attempts of a read-modify-write (enable, disable) that races another writer.
const ATTEMPTS: usize = 3;

/// The stored config of `tenant`, or 404.
pub async fn load(deps: &AdminDeps, tenant: &TenantId) -> Result<VersionedConfig, ApiError> {
    deps.configs
        .config(tenant)
        .await?
        .ok_or_else(|| ApiError::tenant_not_found(tenant))
}

/// Validates a config as the engine would, listing every problem.
pub fn validate(config: &TenantConfig, what: &str) -> Result<(), ApiError> {
    match config.validate() {
        Ok(()) => Ok(()),
        Err(ConfigError::Invalid(problems)) => Err(ApiError::invalid(what, problems)),
        Err(ConfigError::Parse(message)) => Err(ApiError::invalid(what, vec![message])),
    }
}

/// [`validate`], and a directory destination refused where there are no local folders (a
/// deployed admin API): it would be accepted here and fail at every run.
pub fn validate_deployable(
    deps: &AdminDeps,
    config: &TenantConfig,
    what: &str,
) -> Result<(), ApiError> {
    validate(config, what)?;
    if deps.local.is_none() && matches!(config.destination, DestinationConfig::Directory { .. }) {
        return Err(ApiError::invalid(
            what,
            vec![
                "destination.kind: \"directory\" writes to a folder on one machine and is for the \
                 command line only; a deployed tenant needs kind = \"scim\" with the app's \
                 base_url"
                    .to_owned(),
            ],
        ));
    }
    Ok(())
}

/// Saves `config` over `expected` (`None`: a new tenant), mapping a lost race to 412 (or 409
/// for a tenant that exists already), and moves its schedule entry.
pub async fn save(
    deps: &AdminDeps,
    config: &TenantConfig,
    expected: Option<u64>,
) -> Result<u64, ApiError> {
    let version = match deps.configs.put_config(config, expected).await {
        Ok(version) => version,
        Err(StoreError::Conflict { .. }) => {
            return Err(match expected {
                None => ApiError::new(
                    StatusCode::CONFLICT,
                    "tenant_exists",
                    format!(
                        "tenant {} exists already; change it with PUT /tenants/{}",
                        config.tenant, config.tenant
                    ),
                ),
                Some(_) => {
                    let now = load(deps, &config.tenant).await?.version;
                    request::version_moved(now)
                }
            })
        }
        Err(error) => return Err(error.into()),
    };
    let next = sync_core::schedule::next_due(config, Utc::now());
    deps.configs.set_next_due(&config.tenant, next).await?;
    Ok(version)
}

pub(crate) fn account_names(config: &TenantConfig) -> Vec<AccountId> {
    config
        .personio
        .accounts
        .iter()
        .map(|account| account.name.clone())
        .collect()
}

/// The tenant as the API shows it.
async fn view(deps: &AdminDeps, versioned: &VersionedConfig) -> Result<Value, ApiError> {
    let config = &versioned.config;
    let stored = deps
        .secrets_admin
        .stored(&config.tenant, &account_names(config))
        .await?;
    Ok(json!({
        "version": versioned.version,
        "config": config,
        "credentials": stored,
    }))
}

/// The tenant's answer with its `ETag`.
async fn answer(
    deps: &AdminDeps,
    status: StatusCode,
    versioned: &VersionedConfig,
) -> Result<Response, ApiError> {
    let body = view(deps, versioned).await?;
    Ok((status, request::etag(versioned.version), Json(body)).into_response())
}

/// `POST /tenants`: the body is a whole tenant config; 201 with `Location`.
pub async fn create(deps: Deps, body: Body) -> Result<Response, ApiError> {
    let bytes = request::read_body(body).await?;
    let config: TenantConfig = request::parse_body(&bytes, false)?;
    validate_deployable(&deps, &config, "tenant config")?;
    let version = save(&deps, &config, None).await?;
    tracing::info!(tenant_id = %config.tenant, version, "tenant created");
    let location = format!("/tenants/{}", config.tenant);
    let versioned = VersionedConfig { config, version };
    let mut response = answer(&deps, StatusCode::CREATED, &versioned).await?;
    if let Ok(value) = location.parse() {
        response.headers_mut().insert(LOCATION, value);
    }
    Ok(response)
}

/// `GET /tenants/{tenant}`.
pub async fn read(deps: Deps, ids: Ids) -> Result<Response, ApiError> {
    let versioned = load(&deps, &ids.tenant).await?;
    answer(&deps, StatusCode::OK, &versioned).await
}

/// `PUT /tenants/{tenant}`: replaces the whole config; `If-Match` required.
pub async fn replace(
    deps: Deps,
    ids: Ids,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let bytes = request::read_body(body).await?;
    let config: TenantConfig = request::parse_body(&bytes, false)?;
    let current = load(&deps, &ids.tenant).await?;
    request::check_if_match(&headers, current.version)?;
    if config.tenant != ids.tenant {
        return Err(ApiError::invalid(
            "tenant config",
            vec![format!(
                "tenant: the body names tenant `{}` but the path names `{}`; a tenant id cannot change",
                config.tenant, ids.tenant
            )],
        ));
    }
    validate_deployable(&deps, &config, "tenant config")?;
    // Before the save: should the save then fail, the account is still named but has no
    // credentials (its runs say so), and repeating the PUT finishes; deleting after the save
    // would, on a failure, leave a secret that an account added later under the name inherits.
    let kept = account_names(&config);
    let removed: Vec<AccountId> = account_names(&current.config)
        .into_iter()
        .filter(|account| !kept.contains(account))
        .collect();
    if !removed.is_empty() {
        deps.secrets_admin
            .delete_account_secrets(&ids.tenant, &removed)
            .await?;
        tracing::info!(tenant_id = %ids.tenant, accounts = removed.len(), "credentials of removed accounts deleted");
    }
    let version = save(&deps, &config, Some(current.version)).await?;
    tracing::info!(tenant_id = %ids.tenant, version, "tenant config replaced");
    answer(&deps, StatusCode::OK, &VersionedConfig { config, version }).await
}

/// Sets `enabled` and answers the tenant.
async fn set_enabled(
    deps: &AdminDeps,
    tenant: &TenantId,
    enabled: bool,
) -> Result<Response, ApiError> {
    let current = switch(deps, tenant, enabled).await?;
    answer(deps, StatusCode::OK, &current).await
}

/// Sets `enabled`, retrying when another write raced this one; the config as saved.
pub(crate) async fn switch(
    deps: &AdminDeps,
    tenant: &TenantId,
    enabled: bool,
) -> Result<VersionedConfig, ApiError> {
    for _ in 0..ATTEMPTS {
        let mut current = load(deps, tenant).await?;
        if current.config.enabled == enabled {
            return Ok(current);
        }
        current.config.enabled = enabled;
        match deps
            .configs
            .put_config(&current.config, Some(current.version))
            .await
        {
            Ok(version) => {
                if enabled {
                    let next = sync_core::schedule::next_due(&current.config, Utc::now());
                    deps.configs.set_next_due(tenant, next).await?;
                }
                tracing::info!(tenant_id = %tenant, enabled, version, "tenant switched");
                current.version = version;
                return Ok(current);
            }
            Err(StoreError::Conflict { .. }) => continue,
            Err(error) => return Err(error.into()),
        }
    }
    Err(StoreError::Conflict {
        what: format!("the config of tenant {tenant}"),
    }
    .into())
}

/// `POST /tenants/{tenant}/disable`: no runs (scheduled, webhook, queued) until enabled again.
pub async fn disable(deps: Deps, ids: Ids) -> Result<Response, ApiError> {
    set_enabled(&deps, &ids.tenant, false).await
}

/// `POST /tenants/{tenant}/enable`.
pub async fn enable(deps: Deps, ids: Ids) -> Result<Response, ApiError> {
    set_enabled(&deps, &ids.tenant, true).await
}

/// `DELETE /tenants/{tenant}`: disables the tenant (so queued jobs and webhooks are dropped),
/// deletes its secrets, then everything in the table, the config last. The destination is not
/// touched: its users stay as they are. Repeating a delete that failed half-way finishes it.
pub async fn delete(deps: Deps, ids: Ids) -> Result<StatusCode, ApiError> {
    let tenant = &ids.tenant;
    let mut current = load(&deps, tenant).await?;
    if current.config.enabled {
        current.config.enabled = false;
        match deps
            .configs
            .put_config(&current.config, Some(current.version))
            .await
        {
            // Someone else wrote meanwhile; the delete goes on regardless.
            Ok(_) | Err(StoreError::Conflict { .. }) => {}
            Err(error) => return Err(error.into()),
        }
    }
    deps.secrets_admin
        .delete_tenant_secrets(tenant, &account_names(&current.config))
        .await?;
    deps.tenants.delete_tenant(tenant).await?;
    tracing::info!(tenant_id = %tenant, "tenant deleted");
    Ok(StatusCode::NO_CONTENT)
}
