//! `GET /tenants/{tenant}/preview?limit=&offset=&would=`: who is in scope, why, and what the next
//! run would do per person (`sync_core::preview`), read live from Personio with the stored
//! credentials and planned against the stored snapshot. Nothing is written.
//!
//! Paged by offset over the rows ordered by person; every page reads Personio again (a preview
//! is a moment's view, and keeping a whole company between requests is not worth it). Counts
//! always cover everyone; `would` filters the rows.

use crate::error::ApiError;
use crate::request::{self, Ids};
use crate::tenants::load;
use crate::wiring;
use crate::Deps;
use axum::extract::RawQuery;
use axum::Json;
use chrono::Utc;
use serde_json::{json, Value};
use sync_core::preview::{fetch_and_preview, Would};

/// `GET /tenants/{tenant}/preview`.
pub async fn preview(
    deps: Deps,
    ids: Ids,
    RawQuery(raw): RawQuery,
) -> Result<Json<Value>, ApiError> {
    let query = request::query(raw.as_deref(), &["limit", "offset", "would"])?;
    let settings = &deps.settings;
    let limit = request::number(
        &query,
        "limit",
        settings.preview_limit,
        1..=settings.preview_max_limit,
    )?;
    let offset = request::number(&query, "offset", 0, 0..=usize::MAX)?;
    let would = match query.get("would") {
        Some(text) => Some(Would::parse(text).ok_or_else(|| {
            ApiError::bad_request(
                "invalid_query",
                "`would` must be one of create, update, activate, deactivate, nothing, skip",
            )
        })?),
        None => None,
    };
    let config = load(&deps, &ids.tenant).await?.config;
    let clients = wiring::personio_clients(&deps, &config).await?;
    let snapshot = deps.store.snapshot(&ids.tenant).await?;
    let preview = fetch_and_preview(
        &wiring::as_sources(&clients),
        &config,
        &snapshot,
        Utc::now(),
    )
    .await
    .map_err(|error| ApiError::personio(&error))?;
    let counts: serde_json::Map<String, Value> = preview
        .counts()
        .into_iter()
        .map(|(would, count)| (would.as_str().to_owned(), json!(count)))
        .collect();
    let selected: Vec<_> = preview
        .rows
        .iter()
        .filter(|row| would.is_none_or(|would| row.would == would))
        .collect();
    let total = selected.len();
    let people: Vec<&_> = selected.into_iter().skip(offset).take(limit).collect();
    let next_offset = (offset.saturating_add(limit) < total).then(|| offset + limit);
    // Where each field would land: a destination that cannot be reached yet (no token stored)
    // does not stop the preview of who is in scope.
    let (fields, fields_error) = match field_placements(&deps, &config).await {
        Ok(placements) => (Some(placements), None),
        Err(error) => (None, Some(error.message)),
    };
    tracing::info!(
        tenant_id = %ids.tenant,
        fetched = preview.fetched,
        rows = total,
        "preview made"
    );
    Ok(Json(json!({
        "fetched": preview.fetched,
        "in_scope": preview.in_scope(),
        "counts": counts,
        "total": total,
        "offset": offset,
        "limit": limit,
        "next_offset": next_offset,
        "people": people,
        "fields": fields,
        "fields_error": fields_error,
    })))
}

/// Where each of the tenant's fields lands in the app and why.
async fn field_placements(
    deps: &crate::AdminDeps,
    config: &sync_core::config::TenantConfig,
) -> Result<Vec<sync_core::ports::FieldPlacement>, ApiError> {
    let destination = wiring::destination(deps, config).await?;
    destination
        .field_placements(&config.field_targets())
        .await
        .map_err(|error| {
            ApiError::new(
                axum::http::StatusCode::BAD_GATEWAY,
                "destination_unavailable",
                error.to_string(),
            )
        })
}
