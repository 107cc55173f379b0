//! The page of a run that is queued or running: its phase (reading Personio, planning, writing to
//! the app, emailing the summary) with steps done of total, as the worker last wrote it.
//!
//! A small script (`/assets/progress.js`, the only one) asks `…/progress.json` every 2 seconds,
//! updates the numbers in a polite live region and reloads the page once the run has ended, so
//! the report appears. Without script the page reloads itself every 5 seconds (a refresh inside
//! `<noscript>`: a timed refresh would otherwise move a screen reader's place on every update).

use crate::pages::{render, unavailable};
use crate::problem::Problem;
use crate::text::RunRow;
use crate::ConsoleDeps;
use askama::Template;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::Utc;
use std::sync::Arc;
use sync_core::history::{RunRecord, RunStatus};
use sync_core::ids::{RunId, TenantId};
use sync_core::progress::Phase;

/// Seconds between the script's questions.
pub const POLL_SECONDS: u32 = 2;

/// What a progress page (and its JSON) says.
#[derive(serde::Serialize)]
struct View {
    /// Whether the run has ended (its report is there).
    ended: bool,
    /// "Step 3 of 4: Writing to the app", or "Waiting in the queue".
    heading: String,
    /// "3 of 10 changes (30 %)", or empty for a phase without steps.
    count: String,
    done: u64,
    total: u64,
    /// Percent of the phase's steps, when it has steps.
    percent: Option<u64>,
    /// "Last update 10:04:05 UTC.", or empty.
    updated: String,
}

#[derive(Template)]
#[template(path = "progress.html")]
struct ProgressPage {
    tenant: String,
    run: String,
    poll: u32,
    /// The run's row once it has started.
    started: Option<RunRow>,
    view: View,
}

/// How far `run_id` has come; `None` when it neither ran, runs nor waits in the queue.
async fn view(
    deps: &ConsoleDeps,
    tenant: &TenantId,
    run_id: &RunId,
    record: Option<&RunRecord>,
) -> Result<Option<View>, Problem> {
    if record.is_some_and(|record| record.status != RunStatus::Running) {
        return Ok(Some(View {
            ended: true,
            heading: "Ended".to_owned(),
            count: String::new(),
            done: 0,
            total: 0,
            percent: None,
            updated: String::new(),
        }));
    }
    let progress = deps
        .progress
        .progress(tenant, run_id)
        .await
        .map_err(unavailable)?;
    if record.is_none() && progress.is_none() {
        let queued = match &deps.queued {
            Some(notes) => notes
                .queued(tenant, run_id, Utc::now())
                .await
                .map_err(unavailable)?,
            None => false,
        };
        if !queued {
            return Ok(None);
        }
    }
    let mut view = View {
        ended: false,
        heading: "Waiting in the queue".to_owned(),
        count: String::new(),
        done: 0,
        total: 0,
        percent: None,
        updated: String::new(),
    };
    // Started, and no progress written yet (or none kept, as by `personio-sync run`).
    let mut phase = record.map(|_| Phase::Fetch);
    if let Some(progress) = &progress {
        phase = Some(progress.phase);
        view.done = progress.done;
        view.total = progress.total;
        view.updated = format!(
            "Last update {}.",
            progress.updated_at.format("%H:%M:%S UTC")
        );
    }
    if let Some(phase) = phase {
        view.heading = format!("Step {} of 4: {}", phase.number(), phase.label());
        if let Some(percent) = (view.done.min(view.total) * 100).checked_div(view.total) {
            let unit = if phase == Phase::Fetch {
                "pages of people"
            } else {
                "changes"
            };
            view.percent = Some(percent);
            view.count = format!("{} of {} {unit} ({percent} %)", view.done, view.total);
        }
    }
    Ok(Some(view))
}

/// The progress page of `run_id`, whose record (if any) says it is running; 404 when the run
/// neither runs nor waits in the queue.
pub async fn page(
    deps: &ConsoleDeps,
    tenant: &TenantId,
    run_id: &RunId,
    record: Option<&RunRecord>,
) -> Result<Response, Problem> {
    let view = view(deps, tenant, run_id, record)
        .await?
        .ok_or(Problem::NotFound("run"))?;
    render(&ProgressPage {
        tenant: tenant.to_string(),
        run: run_id.to_string(),
        poll: POLL_SECONDS,
        started: record.map(RunRow::of),
        view,
    })
}

/// `GET /tenants/{tenant}/runs/{run}/progress.json`: what the page shows, for its script.
pub async fn json(
    State(deps): State<Arc<ConsoleDeps>>,
    Path((tenant, run)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, Problem> {
    let (grant, run_id, record) = crate::pages::session_run(&deps, &headers, &tenant, &run).await?;
    let view = view(&deps, &grant.tenant, &run_id, record.as_ref())
        .await?
        .ok_or(Problem::NotFound("run"))?;
    Ok(([(header::CACHE_CONTROL, "no-store")], Json(view)).into_response())
}

/// `GET /assets/progress.js`: the console's only script.
pub async fn script() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../assets/progress.js"),
    )
}
