//! Mapping and scope: read, and replace after two checks — the whole config still validates, and
//! every attribute they read is one Personio returns for the tenant's stored credentials
//! (`live`). Every problem is listed at once (422) and nothing is saved; warnings are saved and
//! returned. Replacing needs `If-Match`, as for the whole config: both are parts of it.

use crate::error::ApiError;
use crate::live;
use crate::request::{self, Ids};
use crate::tenants::{load, save, validate};
use crate::{AdminDeps, Deps};
use axum::body::Body;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};
use sync_core::config::{MappingConfig, ScopeConfig, TenantConfig};

/// Which part of the config.
#[derive(Clone, Copy)]
enum Part {
    Mapping,
    Scope,
}

impl Part {
    fn name(self) -> &'static str {
        match self {
            Self::Mapping => "mapping",
            Self::Scope => "scope",
        }
    }

    fn of(self, config: &TenantConfig) -> Value {
        match self {
            Self::Mapping => json!(config.mapping),
            Self::Scope => json!(config.scope),
        }
    }
}

fn answer(part: Part, config: &TenantConfig, version: u64, warnings: &[String]) -> Response {
    let mut body = json!({ "version": version });
    body[part.name()] = part.of(config);
    if !warnings.is_empty() {
        body["warnings"] = json!(warnings);
    }
    (StatusCode::OK, request::etag(version), Json(body)).into_response()
}

async fn read(deps: &AdminDeps, ids: &Ids, part: Part) -> Result<Response, ApiError> {
    let current = load(deps, &ids.tenant).await?;
    Ok(answer(part, &current.config, current.version, &[]))
}

async fn replace(
    deps: &AdminDeps,
    ids: &Ids,
    headers: &HeaderMap,
    body: Body,
    part: Part,
) -> Result<Response, ApiError> {
    let bytes = request::read_body(body).await?;
    let current = load(deps, &ids.tenant).await?;
    let mut config = current.config.clone();
    match part {
        Part::Mapping => config.mapping = request::parse_body::<MappingConfig>(&bytes, false)?,
        Part::Scope => config.scope = request::parse_body::<ScopeConfig>(&bytes, false)?,
    }
    request::check_if_match(headers, current.version)?;
    // Every problem at once: the config's own, then those only Personio can tell.
    let mut problems = match validate(&config, part.name()) {
        Ok(()) => Vec::new(),
        Err(error) => error.problems,
    };
    let readable = match live::readable(deps, &config).await {
        Ok(readable) => readable,
        // Personio could not be asked; the problems already found are the better answer.
        Err(_) if !problems.is_empty() => return Err(ApiError::invalid(part.name(), problems)),
        Err(error) => return Err(error),
    };
    let (live_problems, warnings) = match part {
        Part::Mapping => live::check_mapping(&config, &readable),
        Part::Scope => live::check_scope(&config, &readable),
    };
    problems.extend(live_problems);
    if !problems.is_empty() {
        return Err(ApiError::invalid(part.name(), problems));
    }
    let version = save(deps, &config, Some(current.version)).await?;
    tracing::info!(
        tenant_id = %ids.tenant,
        version,
        part = part.name(),
        warnings = warnings.len(),
        "tenant config part replaced"
    );
    Ok(answer(part, &config, version, &warnings))
}

/// `GET /tenants/{tenant}/mapping`.
pub async fn read_mapping(deps: Deps, ids: Ids) -> Result<Response, ApiError> {
    read(&deps, &ids, Part::Mapping).await
}

/// `PUT /tenants/{tenant}/mapping`.
pub async fn replace_mapping(
    deps: Deps,
    ids: Ids,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    replace(&deps, &ids, &headers, body, Part::Mapping).await
}

/// `GET /tenants/{tenant}/scope`.
pub async fn read_scope(deps: Deps, ids: Ids) -> Result<Response, ApiError> {
    read(&deps, &ids, Part::Scope).await
}

/// `PUT /tenants/{tenant}/scope`.
pub async fn replace_scope(
    deps: Deps,
    ids: Ids,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    replace(&deps, &ids, &headers, body, Part::Scope).await
}
