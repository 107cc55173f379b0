//! Approving or rejecting a held run: a confirmation page (GET, which changes nothing, since mail
//! scanners open links) and a POST form carrying the session's CSRF token. Only a session opened
//! from an `act` link may decide, and only where the console was given [`Actions`].

use crate::problem::Problem;
use crate::session;
use crate::text::{self, RunRow};
use crate::ConsoleDeps;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::Form;
use std::collections::HashMap;
use std::sync::Arc;
use sync_core::history::RunStatus;
use sync_core::ids::{RunId, TenantId};
use sync_core::links::{csrf_matches, Grant};

/// What the console may do for an admin; the deployment decides how (in-process runs on one
/// machine, the tenant's queue in AWS).
#[async_trait::async_trait]
pub trait Actions: Send + Sync {
    /// Approves held run `run`; the id of the run that applies (or will apply) its plan.
    async fn approve(&self, tenant: &TenantId, run: &RunId) -> Result<RunId, ActionError>;
    /// Rejects held run `run`: nothing is written.
    async fn reject(&self, tenant: &TenantId, run: &RunId) -> Result<(), ActionError>;
    /// Syncs now: the id of the run (finished, or queued to start).
    async fn sync_now(&self, tenant: &TenantId) -> Result<RunId, ActionError>;
    /// A dry run: the id of the run (finished, or queued to start) whose record is the plan.
    async fn dry_run(&self, tenant: &TenantId) -> Result<RunId, ActionError>;
    /// Undoes run `run` (or its dry run): the id of the undoing run (finished, or queued).
    async fn undo(
        &self,
        tenant: &TenantId,
        run: &RunId,
        dry_run: bool,
    ) -> Result<RunId, ActionError>;
    /// The tenant's config as it is now (whether the operator lets the console act, `[console]
    /// actions`; whether runs are paused; the schedule); `None` for a tenant that is gone.
    async fn config(
        &self,
        tenant: &TenantId,
    ) -> Result<Option<sync_core::config::TenantConfig>, ActionError>;
}

/// Why an action did not go on.
#[derive(Debug, thiserror::Error)]
pub enum ActionError {
    /// The state does not allow it (the run is no longer held); the message says why.
    #[error("{0}")]
    Refused(String),
    /// Something it needs failed; the message says what to do.
    #[error("{0}")]
    Failed(String),
}

/// `?to=approve|reject`.
#[derive(serde::Deserialize)]
pub struct DecideQuery {
    to: String,
}

#[derive(Template)]
#[template(path = "decide.html")]
struct Confirm {
    tenant: String,
    run: RunRow,
    approve: bool,
    held_because: Vec<String>,
    counts: Vec<(&'static str, usize)>,
    csrf: String,
}

/// What `grant`'s session may do: it must come from an `act` link, the console must have
/// actions, and the tenant's operator must not have switched them off.
pub(crate) async fn actions_for(
    deps: &ConsoleDeps,
    grant: &Grant,
) -> Result<Arc<dyn Actions>, Problem> {
    let actions = deps.actions.clone().ok_or(Problem::ViewOnly)?;
    if !grant.access.may_act() {
        return Err(Problem::ViewOnly);
    }
    let config = actions.config(&grant.tenant).await.map_err(refused)?;
    if !config.is_some_and(|config| config.console.actions) {
        return Err(Problem::ActionsOff);
    }
    Ok(actions)
}

/// The session of a decision, and what it may do.
async fn acting(
    deps: &ConsoleDeps,
    headers: &HeaderMap,
    tenant: &str,
) -> Result<(TenantId, String, Arc<dyn Actions>), Problem> {
    let (grant, csrf) = session::check(deps, headers, tenant).await?;
    let actions = actions_for(deps, &grant).await?;
    Ok((grant.tenant, csrf, actions))
}

/// The session of a form posted about run `run`, checked: the tenant, the run and what the
/// session may do.
async fn posted(
    deps: &ConsoleDeps,
    headers: &HeaderMap,
    tenant: &str,
    run: &str,
    form: &HashMap<String, String>,
) -> Result<(TenantId, RunId, Arc<dyn Actions>), Problem> {
    let (tenant, csrf, actions) = acting(deps, headers, tenant).await?;
    checked_form(form, &csrf)?;
    let run_id = RunId::parse(run).map_err(|_| Problem::NotFound("run"))?;
    Ok((tenant, run_id, actions))
}

/// Run `run` of `tenant`, as stored.
async fn stored(
    deps: &ConsoleDeps,
    tenant: &TenantId,
    run: &str,
) -> Result<sync_core::history::RunRecord, Problem> {
    let run_id = RunId::parse(run).map_err(|_| Problem::NotFound("run"))?;
    deps.store
        .run(tenant, &run_id)
        .await
        .map_err(|_| Problem::Unavailable)?
        .ok_or(Problem::NotFound("run"))
}

/// `GET /tenants/{tenant}/runs/{run}/decide?to=…`: what will happen, and the button.
pub async fn confirm(
    State(deps): State<Arc<ConsoleDeps>>,
    Path((tenant, run)): Path<(String, String)>,
    Query(query): Query<DecideQuery>,
    headers: HeaderMap,
) -> Result<Response, Problem> {
    let (tenant, csrf, _) = acting(&deps, &headers, &tenant).await?;
    let approve = match query.to.as_str() {
        "approve" => true,
        "reject" => false,
        _ => return Err(Problem::NotFound("decision")),
    };
    let record = stored(&deps, &tenant, &run).await?;
    if record.status != RunStatus::Held {
        return Err(Problem::NotHeld(record.status.as_str()));
    }
    let page = Confirm {
        tenant: tenant.to_string(),
        run: RunRow::of(&record),
        approve,
        held_because: record.held_because.clone(),
        counts: text::counts(&record.counts),
        csrf,
    };
    let html = page.render().map_err(|_| Problem::Unavailable)?;
    Ok(([(header::CACHE_CONTROL, "no-store")], Html(html)).into_response())
}

/// Checks the form's CSRF token against the session's.
fn checked_form(form: &HashMap<String, String>, csrf: &str) -> Result<(), Problem> {
    match form.get("csrf") {
        Some(sent) if csrf_matches(csrf, sent) => Ok(()),
        _ => Err(Problem::StaleForm),
    }
}

pub(crate) fn refused(error: ActionError) -> Problem {
    match error {
        ActionError::Refused(message) => Problem::Refused(message),
        ActionError::Failed(message) => Problem::ActionFailed(message),
    }
}

/// `POST /tenants/{tenant}/runs/{run}/approve`.
pub async fn approve(
    State(deps): State<Arc<ConsoleDeps>>,
    Path((tenant, run)): Path<(String, String)>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Result<Response, Problem> {
    let (tenant, run_id, actions) = posted(&deps, &headers, &tenant, &run, &form).await?;
    let applying = actions.approve(&tenant, &run_id).await.map_err(refused)?;
    tracing::info!(tenant_id = %tenant, run_id = %run_id, applying = %applying, "held run approved in the console");
    Ok(see_other(format!("/tenants/{tenant}/runs/{applying}")))
}

/// `POST /tenants/{tenant}/runs/{run}/reject`.
pub async fn reject(
    State(deps): State<Arc<ConsoleDeps>>,
    Path((tenant, run)): Path<(String, String)>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Result<Response, Problem> {
    let (tenant, run_id, actions) = posted(&deps, &headers, &tenant, &run, &form).await?;
    actions.reject(&tenant, &run_id).await.map_err(refused)?;
    tracing::info!(tenant_id = %tenant, run_id = %run_id, "held run rejected in the console");
    Ok(see_other(format!("/tenants/{tenant}/runs/{run_id}")))
}

/// `POST /tenants/{tenant}/sync`: sync now, then the run's report.
pub async fn sync_now(
    State(deps): State<Arc<ConsoleDeps>>,
    Path(tenant): Path<String>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Result<Response, Problem> {
    let (tenant, csrf, actions) = acting(&deps, &headers, &tenant).await?;
    checked_form(&form, &csrf)?;
    let run_id = actions.sync_now(&tenant).await.map_err(refused)?;
    tracing::info!(tenant_id = %tenant, run_id = %run_id, "sync now from the console");
    Ok(see_other(format!("/tenants/{tenant}/runs/{run_id}")))
}

/// `POST /tenants/{tenant}/dry-run`: starts a dry run and leads to its page (its progress, then
/// the plan).
pub async fn dry_run(
    State(deps): State<Arc<ConsoleDeps>>,
    Path(tenant): Path<String>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Result<Response, Problem> {
    let (tenant, csrf, actions) = acting(&deps, &headers, &tenant).await?;
    checked_form(&form, &csrf)?;
    let run_id = actions.dry_run(&tenant).await.map_err(refused)?;
    tracing::info!(tenant_id = %tenant, run_id = %run_id, "dry run from the console");
    Ok(see_other(format!("/tenants/{tenant}/runs/{run_id}")))
}

#[derive(Template)]
#[template(path = "undo.html")]
struct ConfirmUndo {
    tenant: String,
    run: RunRow,
    counts: Vec<(&'static str, usize)>,
    csrf: String,
}

/// Whether a run can be undone from the console: it wrote something.
pub(crate) fn undoable(record: &sync_core::history::RunRecord) -> bool {
    !record.dry_run
        && matches!(
            record.status,
            RunStatus::Completed | RunStatus::Partial | RunStatus::Approved | RunStatus::Failed
        )
        && record.counts.changed_anything()
}

/// `GET /tenants/{tenant}/runs/{run}/undo`: what undoing does, a dry-run button and an undo
/// button.
pub async fn confirm_undo(
    State(deps): State<Arc<ConsoleDeps>>,
    Path((tenant, run)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, Problem> {
    let (tenant, csrf, _) = acting(&deps, &headers, &tenant).await?;
    let record = stored(&deps, &tenant, &run).await?;
    if !undoable(&record) {
        return Err(Problem::Refused(format!(
            "run {} changed nothing in the app, so there is nothing to undo",
            record.id
        )));
    }
    let page = ConfirmUndo {
        tenant: tenant.to_string(),
        run: RunRow::of(&record),
        counts: text::counts(&record.counts),
        csrf,
    };
    let html = page.render().map_err(|_| Problem::Unavailable)?;
    Ok(([(header::CACHE_CONTROL, "no-store")], Html(html)).into_response())
}

/// `POST /tenants/{tenant}/runs/{run}/undo` (`dry_run=true` for the dry run): starts the undo and
/// leads to its page.
pub async fn undo(
    State(deps): State<Arc<ConsoleDeps>>,
    Path((tenant, run)): Path<(String, String)>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Result<Response, Problem> {
    let (tenant, run_id, actions) = posted(&deps, &headers, &tenant, &run, &form).await?;
    let dry_run = form.get("dry_run").is_some_and(|value| value == "true");
    let undoing = actions
        .undo(&tenant, &run_id, dry_run)
        .await
        .map_err(refused)?;
    tracing::info!(tenant_id = %tenant, run_id = %run_id, undoing = %undoing, dry_run, "undo from the console");
    Ok(see_other(format!("/tenants/{tenant}/runs/{undoing}")))
}

fn see_other(location: String) -> Response {
    (StatusCode::SEE_OTHER, [(header::LOCATION, location)]).into_response()
}
