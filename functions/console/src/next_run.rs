//! What the next run would do for one person: in or out of scope and why, and create, update,
//! deactivate or nothing. Asked on its own page (`…/people/{person}/next`), because it reads the
//! person from Personio (one request): the person's page itself never does.

use crate::pages::render;
use crate::problem::Problem;
use crate::session;
use crate::ConsoleDeps;
use askama::Template;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use std::sync::Arc;
use sync_core::ids::{PersonKey, TenantId};
use sync_core::preview::{PreviewRow, Would};

/// Reads one person from the tenant's Personio and plans them against its snapshot
/// (`sync_core::preview::preview_person`); the deployment decides with which credentials.
#[async_trait::async_trait]
pub trait Previews: Send + Sync {
    /// What the next run would do for `person`; `None` when Personio has no such person and the
    /// sync never linked them.
    async fn next_run(
        &self,
        tenant: &TenantId,
        person: &PersonKey,
    ) -> Result<Option<PreviewRow>, crate::ActionError>;
}

#[derive(Template)]
#[template(path = "next.html")]
struct NextRun {
    tenant: String,
    person: String,
    name: String,
    in_scope: bool,
    reason: String,
    would: &'static str,
}

/// In words.
fn would(would: Would) -> &'static str {
    match would {
        Would::Create => "create their user in the app",
        Would::Update => "update their user in the app",
        Would::Activate => "activate their user",
        Would::Deactivate => "deactivate their user",
        Would::Delete => "delete their user (their retention is over)",
        Would::Nothing => "change nothing",
        Would::Skip => "leave them alone",
    }
}

/// `GET /tenants/{tenant}/people/{person}/next`.
pub async fn page(
    State(deps): State<Arc<ConsoleDeps>>,
    Path((tenant, person)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, Problem> {
    let (grant, _) = session::check(&deps, &headers, &tenant).await?;
    let key = PersonKey::from_external_id(&person).ok_or(Problem::NotFound("person"))?;
    let previews = deps.previews.clone().ok_or_else(|| {
        Problem::ActionFailed(
            "This console cannot read Personio; the next run's summary will say what it did."
                .to_owned(),
        )
    })?;
    let row = previews
        .next_run(&grant.tenant, &key)
        .await
        .map_err(crate::decide::refused)?
        .ok_or(Problem::NotFound("person"))?;
    render(&NextRun {
        tenant: grant.tenant.to_string(),
        person: key.external_id(),
        name: row.name.clone().unwrap_or_default(),
        in_scope: row.in_scope,
        reason: row.reason,
        would: would(row.would),
    })
}
