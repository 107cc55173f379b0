//! The pages: the overview and the run report, read-only.

use crate::problem::Problem;
use crate::session;
use crate::text::{self, RunRow};
use crate::ConsoleDeps;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap};
use axum::response::{Html, IntoResponse, Response};
use std::collections::BTreeMap;
use std::sync::Arc;
use sync_core::history::{ChangeItem, RunRecord};
use sync_core::ids::{RunId, TenantId};
use sync_core::links::Grant;

/// Runs the overview lists.
const RECENT_RUNS: usize = 30;
/// Changes per page of a run report.
pub const CHANGES_PER_PAGE: usize = 100;
/// People named per error group; the rest are in `errors.csv`.
const PEOPLE_PER_GROUP: usize = 20;

/// What every page may load: its own stylesheet, images and script (the progress page's), requests
/// and forms to itself, no frames.
pub(crate) const CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self'; script-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'";

pub(crate) fn render(page: &impl Template) -> Result<Response, Problem> {
    let html = page.render().map_err(|error| {
        tracing::error!(error = %error, "a console page could not be rendered");
        Problem::Unavailable
    })?;
    Ok((
        [
            (header::CACHE_CONTROL, "no-store"),
            (header::REFERRER_POLICY, "no-referrer"),
            (header::X_FRAME_OPTIONS, "DENY"),
            (header::CONTENT_SECURITY_POLICY, CSP),
        ],
        Html(html),
    )
        .into_response())
}

pub(crate) fn unavailable(error: sync_core::ports::StoreError) -> Problem {
    tracing::error!(error = %error, "the console could not read the store");
    Problem::Unavailable
}

#[derive(Template)]
#[template(path = "overview.html")]
struct Overview {
    tenant: String,
    /// The session's CSRF token when it may act (sync now, dry run), else empty.
    csrf: String,
    /// When the next scheduled run is due, in words; `None` where no scheduler runs.
    next: Option<String>,
    held: Vec<String>,
    last: Option<RunRow>,
    runs: Vec<RunRow>,
    /// The trend chart (SVG of numbers only), empty for fewer than two runs.
    chart: String,
    legend: &'static [(&'static str, &'static str)],
}

/// `GET /tenants/{tenant}`.
pub async fn overview(
    State(deps): State<Arc<ConsoleDeps>>,
    Path(tenant): Path<String>,
    headers: HeaderMap,
) -> Result<Response, Problem> {
    let (grant, csrf) = session::check(&deps, &headers, &tenant).await?;
    let csrf = match crate::decide::actions_for(&deps, &grant).await {
        Ok(_) => csrf,
        Err(_) => String::new(),
    };
    let next = next_run(&deps, &grant.tenant).await;
    let tenant = grant.tenant;
    let held = deps.store.held_runs(&tenant).await.map_err(unavailable)?;
    let runs = deps
        .store
        .runs(&tenant, RECENT_RUNS)
        .await
        .map_err(unavailable)?;
    let rows: Vec<RunRow> = runs.iter().map(RunRow::of).collect();
    render(&Overview {
        tenant: tenant.to_string(),
        csrf,
        next,
        held: held.iter().map(|id| id.as_str().to_owned()).collect(),
        last: runs.first().map(RunRow::of),
        chart: crate::chart::trend(&rows),
        legend: crate::chart::legend(),
        runs: rows,
    })
}

/// When the next scheduled run is due, in the tenant's time zone, or why there is none; `None`
/// where no scheduler runs (one machine).
async fn next_run(deps: &ConsoleDeps, tenant: &TenantId) -> Option<String> {
    if !deps.settings.scheduled {
        return None;
    }
    let config = match &deps.actions {
        Some(actions) => actions.config(tenant).await.ok().flatten(),
        None => None,
    };
    Some(match config {
        Some(config) if !config.enabled => {
            "none: runs are paused (the tenant is disabled).".to_owned()
        }
        Some(config) if config.schedule.manual => {
            "none: the schedule is manual (sync now starts a run).".to_owned()
        }
        Some(config) => {
            let due = sync_core::schedule::next_due(&config, chrono::Utc::now());
            format!(
                "{} ({} time).",
                due.with_timezone(&config.timezone).format("%Y-%m-%d %H:%M"),
                config.timezone
            )
        }
        None => "unknown right now.".to_owned(),
    })
}

/// Runs per page of the history.
const RUNS_PER_PAGE: usize = 50;
/// The deepest history page: the store reads every run up to the page, newest first.
const MAX_HISTORY_PAGE: usize = 40;

#[derive(Template)]
#[template(path = "history.html")]
struct HistoryPage {
    tenant: String,
    runs: Vec<RunRow>,
    page: usize,
    per_page: usize,
    more: bool,
}

/// `?page=` of the history.
#[derive(serde::Deserialize)]
pub struct HistoryQuery {
    #[serde(default)]
    page: Option<usize>,
}

/// `GET /tenants/{tenant}/runs?page=`: every run, newest first, 50 per page (up to 2,000 runs
/// back; the admin API pages further).
pub async fn history(
    State(deps): State<Arc<ConsoleDeps>>,
    Path(tenant): Path<String>,
    Query(query): Query<HistoryQuery>,
    headers: HeaderMap,
) -> Result<Response, Problem> {
    let (grant, _) = session::check(&deps, &headers, &tenant).await?;
    let page = query.page.unwrap_or(1).clamp(1, MAX_HISTORY_PAGE);
    let runs = deps
        .store
        .runs(&grant.tenant, page * RUNS_PER_PAGE + 1)
        .await
        .map_err(unavailable)?;
    let more = runs.len() > page * RUNS_PER_PAGE && page < MAX_HISTORY_PAGE;
    render(&HistoryPage {
        tenant: grant.tenant.to_string(),
        runs: runs
            .iter()
            .skip((page - 1) * RUNS_PER_PAGE)
            .take(RUNS_PER_PAGE)
            .map(RunRow::of)
            .collect(),
        page,
        per_page: RUNS_PER_PAGE,
        more,
    })
}

/// `?action=&q=&page=` of a run report.
#[derive(serde::Deserialize)]
pub struct ReportQuery {
    #[serde(default)]
    action: String,
    #[serde(default)]
    q: String,
    #[serde(default)]
    page: Option<usize>,
}

struct FieldRow {
    field: String,
    old: String,
    new: String,
}

struct ChangeRow {
    person: String,
    name: String,
    action: String,
    reason: String,
    fields: Vec<FieldRow>,
}

impl ChangeRow {
    fn of(change: &ChangeItem) -> Self {
        let shown = |value: &Option<String>, sensitive: bool| match (value, sensitive) {
            (_, true) => "(hidden)".to_owned(),
            (Some(value), false) => value.clone(),
            (None, false) => "—".to_owned(),
        };
        Self {
            person: change.person.external_id(),
            name: change.name.clone().unwrap_or_default(),
            action: change.action.clone(),
            reason: change.reason.clone(),
            fields: change
                .fields
                .iter()
                .map(|field| FieldRow {
                    field: field.field.clone(),
                    old: shown(&field.old, field.sensitive),
                    new: shown(&field.new, field.sensitive),
                })
                .collect(),
        }
    }
}

/// Someone the run left alone, as a row.
struct SkipRow {
    person: String,
    name: String,
    reason: String,
}

/// Skipped people shown on a report page; the rest are in `warnings.csv`.
const SKIPS_SHOWN: usize = 100;

struct ErrorGroup {
    action: String,
    hint: String,
    example: String,
    count: usize,
    people: Vec<String>,
    more: usize,
}

/// Errors grouped by what they were about and what fixes them, the largest group first.
fn error_groups(run: &RunRecord) -> Vec<ErrorGroup> {
    let names: BTreeMap<String, String> = run
        .changes
        .iter()
        .filter_map(|change| {
            change
                .name
                .clone()
                .map(|name| (change.person.external_id(), name))
        })
        .collect();
    let mut groups: BTreeMap<(String, String), ErrorGroup> = BTreeMap::new();
    for error in &run.errors {
        let group = groups
            .entry((error.action.clone(), error.hint.clone()))
            .or_insert_with(|| ErrorGroup {
                action: error.action.clone(),
                hint: error.hint.clone(),
                example: error.message.clone(),
                count: 0,
                people: Vec::new(),
                more: 0,
            });
        group.count += 1;
        if let Some(person) = &error.person {
            let id = person.external_id();
            let name = error.name.as_ref().or_else(|| names.get(&id));
            let label = match name {
                Some(name) => format!("{name} ({id})"),
                None => id,
            };
            if group.people.len() < PEOPLE_PER_GROUP {
                group.people.push(label);
            } else {
                group.more += 1;
            }
        }
    }
    let mut groups: Vec<ErrorGroup> = groups.into_values().collect();
    groups.sort_by_key(|group| std::cmp::Reverse(group.count));
    groups
}

#[derive(Template)]
#[template(path = "report.html")]
struct Report {
    tenant: String,
    run: RunRow,
    finished: String,
    failure: Option<String>,
    held_because: Vec<String>,
    fetched: usize,
    in_scope: usize,
    counts: Vec<(&'static str, usize)>,
    actions: Vec<String>,
    action: String,
    q: String,
    changes: Vec<ChangeRow>,
    matching: usize,
    page: usize,
    pages: usize,
    errors: Vec<ErrorGroup>,
    /// The first people the run left alone, and how many it left alone in all.
    skips: Vec<SkipRow>,
    skipped: usize,
    /// Whether the run is held and this session may approve or reject it.
    may_decide: bool,
    /// Whether the run wrote and this session may undo it.
    may_undo: bool,
    /// A dry run's plan: nothing was written.
    dry_run: bool,
}

/// `GET /tenants/{tenant}/runs/{run}`.
pub async fn report(
    State(deps): State<Arc<ConsoleDeps>>,
    Path((tenant, run)): Path<(String, String)>,
    Query(query): Query<ReportQuery>,
    headers: HeaderMap,
) -> Result<Response, Problem> {
    let (grant, run_id, record) = session_run(&deps, &headers, &tenant, &run).await?;
    let tenant: TenantId = grant.tenant.clone();
    let record = match record {
        Some(record) if record.status != sync_core::history::RunStatus::Running => record,
        // Queued or running: how far it has come, until the report is there.
        record => return crate::progress::page(&deps, &tenant, &run_id, record.as_ref()).await,
    };
    let may_act = crate::decide::actions_for(&deps, &grant).await.is_ok();
    let may_decide = record.status == sync_core::history::RunStatus::Held && may_act;
    let may_undo = may_act && crate::decide::undoable(&record);
    render(&report_page(
        &tenant,
        &record,
        query,
        (may_decide, may_undo),
    ))
}

/// The report of `record`, with `query`'s filter and page.
fn report_page(
    tenant: &TenantId,
    record: &RunRecord,
    query: ReportQuery,
    (may_decide, may_undo): (bool, bool),
) -> impl Template {
    let q = query.q.trim().to_lowercase();
    let mut actions: Vec<String> = record
        .changes
        .iter()
        .map(|change| change.action.clone())
        .collect();
    actions.sort();
    actions.dedup();
    let matching: Vec<&ChangeItem> = record
        .changes
        .iter()
        .filter(|change| {
            (query.action.is_empty() || change.action == query.action)
                && (q.is_empty()
                    || change
                        .name
                        .as_deref()
                        .is_some_and(|name| name.to_lowercase().contains(&q))
                    || change.person.external_id().contains(&q))
        })
        .collect();
    let per_page = CHANGES_PER_PAGE;
    let pages = matching.len().div_ceil(per_page).max(1);
    let page = query.page.unwrap_or(1).clamp(1, pages);
    let changes: Vec<ChangeRow> = matching
        .iter()
        .skip((page - 1) * per_page)
        .take(per_page)
        .map(|change| ChangeRow::of(change))
        .collect();
    Report {
        tenant: tenant.to_string(),
        run: RunRow::of(record),
        finished: record
            .finished_at
            .map(text::when)
            .unwrap_or_else(|| "not yet".to_owned()),
        failure: record.failure.clone(),
        held_because: record.held_because.clone(),
        fetched: record.fetched,
        in_scope: record.in_scope,
        counts: text::counts(&record.counts),
        actions,
        action: query.action,
        q: query.q,
        matching: matching.len(),
        changes,
        page,
        pages,
        may_decide,
        may_undo,
        dry_run: record.dry_run,
        errors: error_groups(record),
        skips: record
            .skips
            .iter()
            .take(SKIPS_SHOWN)
            .map(|skip| SkipRow {
                person: skip.person.external_id(),
                name: skip.name.clone().unwrap_or_default(),
                reason: skip.reason.clone(),
            })
            .collect(),
        skipped: record.skips.len(),
    }
}

/// The session of a request for run `run` of `tenant`, the run's id and its record (`None` while
/// it is queued, or when there is no such run); 404 for an id that does not parse.
pub(crate) async fn session_run(
    deps: &ConsoleDeps,
    headers: &HeaderMap,
    tenant: &str,
    run: &str,
) -> Result<(Grant, RunId, Option<RunRecord>), Problem> {
    let (grant, _) = session::check(deps, headers, tenant).await?;
    let run_id = RunId::parse(run).map_err(|_| Problem::NotFound("run"))?;
    let record = deps
        .store
        .run(&grant.tenant, &run_id)
        .await
        .map_err(unavailable)?;
    Ok((grant, run_id, record))
}

/// A recorded run's CSV file named `<name>-<run id>.csv`, made by `csv` from its record.
async fn run_csv(
    deps: &ConsoleDeps,
    headers: &HeaderMap,
    (tenant, run): (String, String),
    name: &str,
    csv: impl FnOnce(&RunRecord) -> Vec<u8>,
) -> Result<Response, Problem> {
    let (_, run_id, record) = session_run(deps, headers, &tenant, &run).await?;
    let record = record.ok_or(Problem::NotFound("run"))?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}-{run_id}.csv\""),
            ),
            (header::CACHE_CONTROL, "no-store".to_owned()),
        ],
        csv(&record),
    )
        .into_response())
}

/// `GET /tenants/{tenant}/runs/{run}/errors.csv`: the run's errors, the file the summary email
/// attaches (`sync_core::report::stored_run_errors_csv`, formula-escaped).
pub async fn errors_csv(
    State(deps): State<Arc<ConsoleDeps>>,
    Path(ids): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, Problem> {
    run_csv(
        &deps,
        &headers,
        ids,
        "errors",
        sync_core::report::stored_run_errors_csv,
    )
    .await
}

/// `GET /tenants/{tenant}/runs/{run}/warnings.csv`: the people the run left alone, and why.
pub async fn warnings_csv(
    State(deps): State<Arc<ConsoleDeps>>,
    Path(ids): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, Problem> {
    run_csv(&deps, &headers, ids, "warnings", |record| {
        sync_core::report::warnings_csv(&record.skips)
    })
    .await
}

/// `GET /assets/console.css`: served by the function itself, nothing from elsewhere.
pub async fn stylesheet() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../assets/console.css"),
    )
}
