//! The page of a run that is queued or running: its phase (reading Personio, planning, writing to
//! the app, emailing the summary) with steps done of total, as the worker last wrote it. The page
//! reloads itself every few seconds (a `<meta http-equiv="refresh">`: no script) and shows the
//! run's report once the run has ended.

use crate::pages::{render, unavailable};
use crate::problem::Problem;
use crate::text::RunRow;
use crate::ConsoleDeps;
use askama::Template;
use axum::response::Response;
use chrono::Utc;
use sync_core::history::RunRecord;
use sync_core::ids::{RunId, TenantId};
use sync_core::progress::Phase;

/// Seconds between reloads of a progress page.
pub const RELOAD_SECONDS: u32 = 2;

#[derive(Template)]
#[template(path = "progress.html")]
struct ProgressPage {
    tenant: String,
    run: String,
    reload: u32,
    /// The run's row once it has started.
    started: Option<RunRow>,
    /// "Waiting in the queue", "Reading Personio", …
    phase: &'static str,
    /// Which of the four phases, from 1 (0 while queued).
    step: usize,
    done: u64,
    total: u64,
    /// Percent of the phase's steps, when it has steps.
    percent: Option<u64>,
    updated: String,
}

/// The progress page of `run_id`, whose record (if any) says it is running; 404 when the run
/// neither runs nor waits in the queue.
pub async fn page(
    deps: &ConsoleDeps,
    tenant: &TenantId,
    run_id: &RunId,
    record: Option<&RunRecord>,
) -> Result<Response, Problem> {
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
            return Err(Problem::NotFound("run"));
        }
    }
    let mut page = ProgressPage {
        tenant: tenant.to_string(),
        run: run_id.to_string(),
        reload: RELOAD_SECONDS,
        started: record.map(RunRow::of),
        phase: "Waiting in the queue",
        step: 0,
        done: 0,
        total: 0,
        percent: None,
        updated: String::new(),
    };
    if record.is_some() {
        // Started, and no progress written yet (or none kept, as by `personio-sync run`).
        page.phase = Phase::Fetch.label();
        page.step = Phase::Fetch.number();
    }
    if let Some(progress) = progress {
        page.phase = progress.phase.label();
        page.step = progress.phase.number();
        page.done = progress.done;
        page.total = progress.total;
        page.percent =
            (progress.total > 0).then(|| progress.done.min(progress.total) * 100 / progress.total);
        page.updated = progress.updated_at.format("%H:%M:%S UTC").to_string();
    }
    render(&page)
}
