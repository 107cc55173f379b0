//! Runs: "sync now" (a queued job with a run id chosen here), import history in pages, one run,
//! its `errors.csv`, and approving or rejecting a held run.
//!
//! A queued run is noted in the store until its worker records it, so `GET …/runs/{run}` answers
//! `{"status": "queued"}` rather than 404 in between. Approval runs inline, in this request: the
//! held plan is applied through the tenant's destination like the worker would (see
//! `docs/admin-api.md` on the time limit). A run id is looked up under the tenant of the path
//! only, so another tenant's run id is simply not found.

use crate::error::ApiError;
use crate::request::{self, Ids, PersonBody};
use crate::tenants::load;
use crate::Deps;
use axum::body::Body;
use axum::extract::RawQuery;
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE, LOCATION};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::Utc;
use serde::Deserialize;
use serde_json::{json, Value};
use sync_core::history::{RunRecord, RunStatus};
use sync_core::ids::RunId;
use sync_core::ports::JobTarget;
use sync_core::run::{self, QueueError, Queueing, RunError};

/// `{dry_run?, person?: {account?, id}}`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StartBody {
    #[serde(default)]
    dry_run: bool,
    #[serde(default)]
    person: Option<PersonBody>,
}

/// `POST /tenants/{tenant}/runs`: queues a run; 202 with `{run_id, status}` and `Location`.
pub async fn start(deps: Deps, ids: Ids, body: Body) -> Result<Response, ApiError> {
    let bytes = request::read_body(body).await?;
    let body: StartBody = request::parse_body(&bytes, true)?;
    let config = load(&deps, &ids.tenant).await?.config;
    let target = match body.person {
        None => JobTarget::Everyone,
        Some(person) => JobTarget::Person {
            person: person.key(&config, "person")?,
        },
    };
    refuse_disabled(&config, &ids)?;
    let run_id = queueing(&deps)
        .start(&ids.tenant, target, body.dry_run, Utc::now())
        .await
        .map_err(|error| queue_error(&ids, error))?;
    tracing::info!(tenant_id = %ids.tenant, run_id = %run_id, dry_run = body.dry_run, "run queued");
    Ok(queued(&ids, &run_id, json!({})))
}

/// Queued runs through the admin API's ports.
pub(crate) fn queueing(deps: &crate::AdminDeps) -> Queueing<'_> {
    Queueing {
        store: deps.store.as_ref(),
        notes: deps.tenants.as_ref(),
        jobs: deps.jobs.as_ref(),
        queued_for: chrono::Duration::from_std(deps.settings.queued_for)
            .unwrap_or_else(|_| chrono::Duration::hours(1)),
    }
}

fn queue_error(ids: &Ids, error: QueueError) -> ApiError {
    match error {
        QueueError::Run(RunError::HeldRunPending { run_id: held }) => ApiError::new(
            StatusCode::CONFLICT,
            "run_held",
            format!("run {held} is held and waits for approval; approve or reject it first (POST /tenants/{}/runs/{held}/approve or /reject); dry runs are still possible", ids.tenant),
        ),
        QueueError::Run(error) => run_error(ids, error),
        QueueError::Store(error) => error.into(),
        QueueError::Jobs(error) => error.into(),
    }
}

/// 409 for a disabled tenant: the worker would drop its jobs.
fn refuse_disabled(config: &sync_core::config::TenantConfig, ids: &Ids) -> Result<(), ApiError> {
    if config.enabled {
        return Ok(());
    }
    Err(ApiError::new(
        StatusCode::CONFLICT,
        "tenant_disabled",
        format!(
            "tenant {} is disabled; enable it first (POST /tenants/{}/enable)",
            ids.tenant, ids.tenant
        ),
    ))
}

/// `202 Accepted` with `{run_id, status: "queued"}` and `extra`, and the run's `Location`.
fn queued(ids: &Ids, run_id: &RunId, extra: Value) -> Response {
    let mut body = json!({ "run_id": run_id, "status": "queued" });
    if let (Some(body), Some(extra)) = (body.as_object_mut(), extra.as_object()) {
        body.extend(extra.clone());
    }
    let location = format!("/tenants/{}/runs/{run_id}", ids.tenant);
    let mut response = (StatusCode::ACCEPTED, Json(body)).into_response();
    if let Ok(value) = location.parse() {
        response.headers_mut().insert(LOCATION, value);
    }
    response
}

/// A run without its change and error lists (history pages).
fn summary(run: &RunRecord) -> Value {
    let mut value = json!(run);
    if let Some(object) = value.as_object_mut() {
        object.remove("changes");
        object.remove("errors");
        object.remove("skips");
    }
    value
}

/// `GET /tenants/{tenant}/runs?limit=&before=`: newest first; `next` is the cursor of the next
/// page, `null` on the last.
pub async fn list(deps: Deps, ids: Ids, RawQuery(raw): RawQuery) -> Result<Json<Value>, ApiError> {
    let query = request::query(raw.as_deref(), &["limit", "before"])?;
    let limit = request::number(&query, "limit", 20, 1..=100)?;
    let before = match query.get("before") {
        Some(text) => Some(
            RunId::parse(text)
                .map_err(|error| ApiError::bad_request("invalid_query", error.to_string()))?,
        ),
        None => None,
    };
    load(&deps, &ids.tenant).await?;
    let mut runs = deps
        .tenants
        .runs_before(&ids.tenant, before.as_ref(), limit + 1)
        .await?;
    let next = if runs.len() > limit {
        runs.truncate(limit);
        runs.last().map(|run| run.id.to_string())
    } else {
        None
    };
    Ok(Json(json!({
        "runs": runs.iter().map(summary).collect::<Vec<_>>(),
        "next": next,
    })))
}

/// `GET /tenants/{tenant}/runs/{run}`: the whole record (with its live `progress` while it
/// runs), or `{id, status: "queued"}`.
pub async fn read(deps: Deps, ids: Ids) -> Result<Json<Value>, ApiError> {
    let run_id = ids.run()?;
    load(&deps, &ids.tenant).await?;
    if let Some(run) = deps.store.run(&ids.tenant, run_id).await? {
        let mut value = json!(run);
        if run.status == RunStatus::Running {
            if let (Some(progress), Some(object)) = (
                deps.progress.progress(&ids.tenant, run_id).await?,
                value.as_object_mut(),
            ) {
                object.insert("progress".to_owned(), json!(progress));
            }
        }
        return Ok(Json(value));
    }
    if deps.tenants.queued(&ids.tenant, run_id, Utc::now()).await? {
        return Ok(Json(json!({ "id": run_id, "status": "queued" })));
    }
    Err(run_not_found(&ids, run_id))
}

fn run_not_found(ids: &Ids, run_id: &RunId) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "run_not_found",
        format!(
            "tenant {} has no run {run_id}; GET /tenants/{}/runs lists them",
            ids.tenant, ids.tenant
        ),
    )
}

/// `GET /tenants/{tenant}/runs/{run}/errors.csv`: the error list as the summary email attaches it.
pub async fn errors_csv(deps: Deps, ids: Ids) -> Result<Response, ApiError> {
    let run_id = ids.run()?;
    load(&deps, &ids.tenant).await?;
    let run = deps
        .store
        .run(&ids.tenant, run_id)
        .await?
        .ok_or_else(|| run_not_found(&ids, run_id))?;
    let csv = sync_core::report::stored_run_errors_csv(&run);
    let disposition = format!("attachment; filename=\"errors-{run_id}.csv\"");
    Ok((
        StatusCode::OK,
        [
            (CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (CONTENT_DISPOSITION, disposition),
        ],
        csv,
    )
        .into_response())
}

/// Checks that `run_id` exists and is held, before anything is built for it.
async fn held(deps: &crate::AdminDeps, ids: &Ids, run_id: &RunId) -> Result<(), ApiError> {
    let run = deps
        .store
        .run(&ids.tenant, run_id)
        .await?
        .ok_or_else(|| run_not_found(ids, run_id))?;
    if deps.store.held(&ids.tenant, run_id).await?.is_none() {
        return Err(not_held(run_id, run.status.as_str()));
    }
    Ok(())
}

fn not_held(run_id: &RunId, status: &str) -> ApiError {
    ApiError::new(
        StatusCode::CONFLICT,
        "run_not_held",
        format!(
            "run {run_id} is not held (it is {status}); only held runs can be approved or rejected"
        ),
    )
}

fn run_error(ids: &Ids, error: RunError) -> ApiError {
    match error {
        RunError::UnknownRun { run_id } => run_not_found(ids, &run_id),
        RunError::NotHeld { run_id, status } => not_held(&run_id, status),
        RunError::Store(error) => error.into(),
        RunError::Destination(error) => {
            tracing::error!(error = %error, "the destination failed during an approval");
            ApiError::new(
                StatusCode::BAD_GATEWAY,
                "destination_failed",
                error.to_string(),
            )
        }
        other => ApiError::new(StatusCode::CONFLICT, "run_failed", other.to_string()),
    }
}

/// `POST /tenants/{tenant}/runs/{run}/approve`: claims the held run for a new run and queues
/// that run in the tenant's message group (so it never overlaps another run of the tenant, and
/// a large plan is not bound to this request's time); `202` with the new run's id to poll.
pub async fn approve(deps: Deps, ids: Ids) -> Result<Response, ApiError> {
    let held_run = ids.run()?.clone();
    let config = load(&deps, &ids.tenant).await?.config;
    refuse_disabled(&config, &ids)?;
    held(&deps, &ids, &held_run).await?;
    let run_id = queueing(&deps)
        .approve(&ids.tenant, &held_run, Utc::now())
        .await
        .map_err(|error| queue_error(&ids, error))?;
    tracing::info!(tenant_id = %ids.tenant, held_run = %held_run, run_id = %run_id, "held run approved; its apply is queued");
    Ok(queued(&ids, &run_id, json!({ "approved": held_run })))
}

/// `{dry_run?, only_unchanged?}`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UndoBody {
    #[serde(default)]
    dry_run: bool,
    #[serde(default)]
    only_unchanged: bool,
}

/// `POST /tenants/{tenant}/runs/{run}/undo`: queues a run that puts back what run `{run}`
/// changed (a dry run first, when asked); 202 with the new run's id.
pub async fn undo(deps: Deps, ids: Ids, body: Body) -> Result<Response, ApiError> {
    let undone = ids.run()?.clone();
    let bytes = request::read_body(body).await?;
    let body: UndoBody = request::parse_body(&bytes, true)?;
    let config = load(&deps, &ids.tenant).await?.config;
    if deps.store.run(&ids.tenant, &undone).await?.is_none() {
        return Err(run_not_found(&ids, &undone));
    }
    if deps.store.journal(&ids.tenant, &undone).await?.is_none() {
        let error = RunError::NothingToUndo { run_id: undone };
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "nothing_to_undo",
            error.to_string(),
        ));
    }
    refuse_disabled(&config, &ids)?;
    let run_id = queueing(&deps)
        .undo(
            &ids.tenant,
            &undone,
            body.only_unchanged,
            body.dry_run,
            Utc::now(),
        )
        .await
        .map_err(|error| queue_error(&ids, error))?;
    tracing::info!(tenant_id = %ids.tenant, undone = %undone, run_id = %run_id, dry_run = body.dry_run, "undo queued");
    Ok(queued(&ids, &run_id, json!({ "undoes": undone })))
}

/// `POST /tenants/{tenant}/runs/{run}/reject`: drops the held plan; nothing is written.
pub async fn reject(deps: Deps, ids: Ids) -> Result<Json<Value>, ApiError> {
    let run_id = ids.run()?;
    let config = load(&deps, &ids.tenant).await?.config;
    held(&deps, &ids, run_id).await?;
    // A rejection writes nothing anywhere but the store.
    let record = run::reject(deps.store.as_ref(), &config.tenant, run_id)
        .await
        .map_err(|error| run_error(&ids, error))?;
    tracing::info!(tenant_id = %ids.tenant, run_id = %run_id, "held run rejected");
    Ok(Json(json!({ "run": record })))
}
