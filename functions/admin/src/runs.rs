//! Runs: "sync now" (a queued job with a run id chosen here), import history in pages, one run,
//! its `errors.csv`, and approving or rejecting a held run.
//!
//! A queued run is noted in the store until its worker records it, so `GET …/runs/{run}` answers
//! `{"status": "queued"}` rather than 404 in between. Approval runs inline, in this request: the
//! held plan is applied through the tenant's destination like the worker would (see
//! `docs/admin-api.md` on the time limit). A run id is looked up under the tenant of the path
//! only, so another tenant's run id is simply not found.

use crate::error::ApiError;
use crate::request::{self, Ids};
use crate::tenants::load;
use crate::wiring;
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
use std::sync::Arc;
use sync_core::history::{RunRecord, RunStatus, Trigger};
use sync_core::ids::{AccountId, PersonKey, PersonioId, RunId};
use sync_core::ports::{Job, JobTarget};
use sync_core::progress::NoProgress;
use sync_core::run::{self, Ports, RunError};

/// `{dry_run?, person?: {account?, id}}`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StartBody {
    #[serde(default)]
    dry_run: bool,
    #[serde(default)]
    person: Option<PersonBody>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PersonBody {
    #[serde(default)]
    account: Option<String>,
    id: IdValue,
}

/// A Personio id as a JSON number or string.
#[derive(Deserialize)]
#[serde(untagged)]
enum IdValue {
    Number(u64),
    Text(String),
}

fn unprocessable(code: &'static str, message: String) -> ApiError {
    ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, code, message)
}

/// `POST /tenants/{tenant}/runs`: queues a run; 202 with `{run_id, status}` and `Location`.
pub async fn start(deps: Deps, ids: Ids, body: Body) -> Result<Response, ApiError> {
    let bytes = request::read_body(body).await?;
    let body: StartBody = request::parse_body(&bytes, true)?;
    let config = load(&deps, &ids.tenant).await?.config;
    let target = match body.person {
        None => JobTarget::Everyone,
        Some(person) => {
            let id = match person.id {
                IdValue::Number(id) => PersonioId::new(id),
                IdValue::Text(text) => PersonioId::parse(&text)
                    .map_err(|error| unprocessable("invalid_person", error.to_string()))?,
            };
            let accounts: Vec<&AccountId> =
                config.personio.accounts.iter().map(|a| &a.name).collect();
            let account = match person.account {
                Some(name) => AccountId::parse(&name)
                    .ok()
                    .filter(|account| accounts.contains(&account))
                    .ok_or_else(|| {
                        unprocessable(
                            "invalid_person",
                            format!("person.account: this tenant has no Personio account named `{name}`"),
                        )
                    })?,
                None if accounts.len() == 1 => accounts[0].clone(),
                None => {
                    return Err(unprocessable(
                        "invalid_person",
                        "person.account: this tenant has several Personio accounts; name the person's".to_owned(),
                    ))
                }
            };
            JobTarget::Person {
                person: PersonKey::new(account, id),
            }
        }
    };
    if !config.enabled {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "tenant_disabled",
            format!(
                "tenant {} is disabled; enable it first (POST /tenants/{}/enable)",
                ids.tenant, ids.tenant
            ),
        ));
    }
    if !body.dry_run {
        // The worker would drop the job anyway (a held run blocks every run that writes).
        let recent = deps.store.runs(&ids.tenant, 100).await?;
        if let Some(held) = recent.iter().find(|run| run.status == RunStatus::Held) {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                "run_held",
                format!("run {} is held and waits for approval; approve or reject it first (POST /tenants/{}/runs/{}/approve or /reject); dry runs are still possible", held.id, ids.tenant, held.id),
            ));
        }
    }
    let now = Utc::now();
    let run_id = RunId::new(now);
    let until = now
        + chrono::Duration::from_std(deps.settings.queued_for)
            .unwrap_or_else(|_| chrono::Duration::hours(1));
    deps.tenants
        .mark_queued(&ids.tenant, &run_id, until)
        .await?;
    let job = Job {
        tenant: ids.tenant.clone(),
        target,
        trigger: Trigger::Manual,
        dry_run: body.dry_run,
        run_id: Some(run_id.clone()),
    };
    // The run id is new, so this job never collapses with another.
    deps.jobs.enqueue(&job, &format!("admin:{run_id}")).await?;
    tracing::info!(tenant_id = %ids.tenant, run_id = %run_id, dry_run = body.dry_run, "run queued");
    let location = format!("/tenants/{}/runs/{run_id}", ids.tenant);
    let mut response = (
        StatusCode::ACCEPTED,
        Json(json!({ "run_id": run_id, "status": "queued" })),
    )
        .into_response();
    if let Ok(value) = location.parse() {
        response.headers_mut().insert(LOCATION, value);
    }
    Ok(response)
}

/// A run without its change and error lists (history pages).
fn summary(run: &RunRecord) -> Value {
    let mut value = json!(run);
    if let Some(object) = value.as_object_mut() {
        object.remove("changes");
        object.remove("errors");
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

/// `GET /tenants/{tenant}/runs/{run}`: the whole record, or `{id, status: "queued"}`.
pub async fn read(deps: Deps, ids: Ids) -> Result<Json<Value>, ApiError> {
    let run_id = ids.run()?;
    load(&deps, &ids.tenant).await?;
    if let Some(run) = deps.store.run(&ids.tenant, run_id).await? {
        return Ok(Json(json!(run)));
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

/// `POST /tenants/{tenant}/runs/{run}/approve`: applies the held plan now, as a new run.
pub async fn approve(deps: Deps, ids: Ids) -> Result<Json<Value>, ApiError> {
    let run_id = ids.run()?.clone();
    let config = load(&deps, &ids.tenant).await?.config;
    held(&deps, &ids, &run_id).await?;
    let destination = wiring::destination(&deps, &config).await?;
    let deps = Arc::clone(&deps.0);
    let held_run = run_id.clone();
    // The engine's apply future cannot be proven `Send` (rustc's higher-ranked lifetime limits
    // with its concurrent-write closures), which an axum handler must be; so the approval runs on
    // a blocking thread that drives it with the runtime's handle, as the CLI does with block_on.
    let outcome = tokio::task::spawn_blocking(move || {
        tokio::runtime::Handle::current().block_on(async move {
            let ports = Ports {
                // Approval applies the held plan; it reads nothing from Personio.
                sources: Vec::new(),
                destination: destination.as_ref(),
                store: deps.store.as_ref(),
                mailer: deps.mailer.as_ref(),
                progress: &NoProgress,
            };
            run::approve(&ports, &config, &held_run, Utc::now()).await
        })
    })
    .await
    .map_err(|_| {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "approval_aborted",
            "the approval stopped unexpectedly; GET the runs to see how far it came",
        )
    })?
    .map_err(|error| run_error(&ids, error))?;
    tracing::info!(tenant_id = %ids.tenant, held_run = %run_id, run_id = %outcome.record.id, "held run approved");
    Ok(Json(json!({ "approved": run_id, "run": outcome.record })))
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
