//! The admins' console: server-rendered pages of one tenant's sync, reached from a signed,
//! expiring link in the summary email (`sync_core::links`), with no login and no AWS identity.
//!
//! Opening a link (`GET /open?link=…`) checks it, sets a short-lived session cookie (HttpOnly,
//! SameSite=Strict, Secure unless served on loopback) and redirects to the tenant's overview, a URL
//! without the token, so the token stays out of the history and of `Referer`. Every page checks the
//! session and that it is for the tenant in the path: a link for tenant A opens nothing of B.
//!
//! Pages (a GET never changes anything, since mail scanners open links):
//! - `/tenants/{tenant}`: the overview — a banner for a held run, the last run, the recent runs,
//!   and for an `act` session **Sync now** (POST `…/sync`, then the run's report) and **Dry run**
//!   (POST `…/dry-run`, then its page: the plan, with nothing written).
//! - `/tenants/{tenant}/runs?page=`: every run, newest first, 50 per page.
//! - `/tenants/{tenant}/runs/{run}`: a run report — counts, every change with its reason and
//!   before → after per field (filter by action, search by name or id, paged), errors grouped by
//!   kind; while the run is queued or running, its live progress (`progress`), reloading itself
//!   until the report is there.
//! - `/tenants/{tenant}/people` and `…/people/{account:id}`: the accounts the sync keeps (status,
//!   groups, hire date), searchable, and per person what the recent runs did to them; `…/next`:
//!   whether they are in scope and what the next run would do (read from Personio).
//! - `/tenants/{tenant}/runs/{run}/decide?to=approve|reject`: a held run's confirmation page, whose
//!   form POSTs to `…/approve` or `…/reject` with the session's CSRF token (`decide`; only for a
//!   session opened from an `act` link, through the deployment's [`Actions`]).
//! - `/tenants/{tenant}/runs/{run}/undo`: what undoing a run that wrote does, with a form that
//!   POSTs a dry run of the undo or the undo itself (`act` sessions, as above).
//!
//! A missing, expired or altered link, another tenant, a run that does not exist: a page that says
//! what to do, never a stack trace or a 5xx (a store that cannot be read is a 503 page).
//!
//! [`app`] builds the axum router over [`ConsoleDeps`]; the CLI's `console` serves it on
//! 127.0.0.1, tests call it over HTTP.

mod chart;
mod decide;
pub mod keyfile;
mod next_run;
mod pages;
mod people;
mod problem;
mod progress;
mod session;
mod text;

use axum::routing::{get, post};
use axum::Router;
use std::sync::Arc;
use sync_core::console_site::KeySource;
use sync_core::ports::{Store, TenantAdmin};
use sync_core::progress::ProgressLog;

pub use decide::{ActionError, Actions};
pub use next_run::Previews;
pub use session::COOKIE;

/// What the console reads through, built once.
#[derive(Clone)]
pub struct ConsoleDeps {
    /// Run history and held runs.
    pub store: Arc<dyn Store>,
    /// Live progress of running runs.
    pub progress: Arc<dyn ProgressLog>,
    /// Notes of queued runs (AWS: a run the queue has not started yet); `None` where runs start
    /// at once.
    pub queued: Option<Arc<dyn TenantAdmin>>,
    /// The deployment's link keys.
    pub keys: Arc<dyn KeySource>,
    /// What admins may do from the pages (approve, reject); `None`: view only.
    pub actions: Option<Arc<dyn Actions>>,
    /// One person's next run, read from Personio; `None` where the console cannot read it.
    pub previews: Option<Arc<dyn Previews>>,
    /// Session settings.
    pub settings: ConsoleSettings,
}

/// How sessions behave.
#[derive(Clone, Debug)]
pub struct ConsoleSettings {
    /// How long a session lasts after a link is opened (and never past the link's expiry).
    pub session: chrono::Duration,
    /// Whether the cookie is `Secure` (over https); off only for a console on 127.0.0.1.
    pub secure_cookie: bool,
    /// Whether a scheduler runs the tenants' schedules (AWS), so the overview shows the next
    /// scheduled run; on one machine runs happen when `personio-sync run` is called.
    pub scheduled: bool,
}

impl Default for ConsoleSettings {
    fn default() -> Self {
        Self {
            session: chrono::Duration::minutes(30),
            secure_cookie: true,
            scheduled: false,
        }
    }
}

/// The console's router.
pub fn app(deps: ConsoleDeps) -> Router {
    Router::new()
        .route("/open", get(session::open))
        .route("/tenants/{tenant}", get(pages::overview))
        .route("/tenants/{tenant}/sync", post(decide::sync_now))
        .route("/tenants/{tenant}/dry-run", post(decide::dry_run))
        .route("/tenants/{tenant}/people", get(people::list))
        .route("/tenants/{tenant}/people/{person}", get(people::one))
        .route(
            "/tenants/{tenant}/people/{person}/next",
            get(next_run::page),
        )
        .route("/tenants/{tenant}/runs", get(pages::history))
        .route("/tenants/{tenant}/runs/{run}", get(pages::report))
        .route(
            "/tenants/{tenant}/runs/{run}/errors.csv",
            get(pages::errors_csv),
        )
        .route(
            "/tenants/{tenant}/runs/{run}/warnings.csv",
            get(pages::warnings_csv),
        )
        .route("/tenants/{tenant}/runs/{run}/decide", get(decide::confirm))
        .route(
            "/tenants/{tenant}/runs/{run}/approve",
            post(decide::approve),
        )
        .route("/tenants/{tenant}/runs/{run}/reject", post(decide::reject))
        .route(
            "/tenants/{tenant}/runs/{run}/undo",
            get(decide::confirm_undo).post(decide::undo),
        )
        .route(
            "/tenants/{tenant}/runs/{run}/progress.json",
            get(progress::json),
        )
        .route("/assets/console.css", get(pages::stylesheet))
        .route("/assets/progress.js", get(progress::script))
        .fallback(problem::not_found)
        .with_state(Arc::new(deps))
}
