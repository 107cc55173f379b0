//! The admin API: how the vendor's backend manages tenants — config, credentials, mapping and
//! scope, runs and their history, held runs, and a preview of who is in scope. JSON in and out;
//! the reference is `docs/admin-api.md` with the OpenAPI file `docs/admin-api.openapi.yaml`,
//! which the tests check every response against.
//!
//! [`app`] builds an axum [`Router`] over the core ports in [`AdminDeps`]: the Lambda binary runs
//! it with `lambda_http`, tests call it in-process (`tower::ServiceExt::oneshot`) or serve it on
//! 127.0.0.1. Authentication is API Gateway's (IAM, SigV4): the handler trusts every request it
//! gets and reads nothing from the caller but, for the log, the caller's ARN ([`Caller`]).
//!
//! # Layout
//! - `error`: [`ApiError`], the one error type, answered as `{error: {code, message, problems?}}`.
//! - `request`: path ids, JSON bodies (secret-safe parse errors), query strings, `If-Match`.
//! - `tenants`: create, read, replace, enable, disable, delete.
//! - `credentials`: Personio credentials (checked against Personio first, by `personio_check`)
//!   and their revocation, the destination token and the webhook token rotation. Secrets go in, never come out.
//! - `settings`: mapping and scope, checked against the tenant's live Personio attributes by
//!   `live`.
//! - `runs`: sync now, history pages, one run, `errors.csv`, approve and reject.
//! - `preview`: who is in scope and what the next run would do, per person.
//! - `rehires`: an admin's decision for a new profile held as a departed profile's rehire.
//! - `people`: adding a person to Personio.
//! - `console_links`: signed, expiring links into a tenant's console.
//! - `wiring`: the Personio clients and the destination built from a tenant's config and secrets.
//!
//! # Dependency injection
//! The ports are `Arc<dyn Trait>` rather than type parameters (the trade-off of axum's
//! `dependency-injection` example): one compiled router serves AWS and the tests, and a virtual
//! call is nothing next to the DynamoDB or Personio call behind it.

mod console_links;
mod credentials;
mod error;
mod first_sync;
mod live;
mod people;
mod personio_check;
mod preview;
mod rehires;
mod request;
mod runs;
mod settings;
mod tenants;
mod wiring;

pub use error::ApiError;

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use axum::routing::{delete, get, post, put};
use axum::Router;
use std::sync::Arc;
use std::time::{Duration, Instant};
use sync_core::console_site::ConsoleAddress;
use sync_core::ports::{ConfigStore, Jobs, Secrets, SecretsAdmin, Store, TenantAdmin};
use sync_core::progress::ProgressLog;

/// The ports the admin API works through, built once per cold start.
#[derive(Clone)]
pub struct AdminDeps {
    /// Tenant configs and the schedule index.
    pub configs: Arc<dyn ConfigStore>,
    /// Snapshots, run history and held runs.
    pub store: Arc<dyn Store>,
    /// History pages, queued-run notes, tenant removal.
    pub tenants: Arc<dyn TenantAdmin>,
    /// Reading secrets (Personio credentials for checks and previews, the destination token for
    /// approvals).
    pub secrets: Arc<dyn Secrets>,
    /// Writing and deleting secrets.
    pub secrets_admin: Arc<dyn SecretsAdmin>,
    /// The job queue ("sync now").
    pub jobs: Arc<dyn Jobs>,
    /// Live progress of running runs.
    pub progress: Arc<dyn ProgressLog>,
    /// The admins' console, to mint links into; `None` when the deployment has none.
    pub console: Option<ConsoleAddress>,
    /// Local directory destinations: `None` in Lambda (a tenant with one is refused), a folder in
    /// tests that keep the app's users in files.
    pub local: Option<Arc<dyn sync_core::ports::LocalDestinations>>,
    /// Limits and timeouts.
    pub settings: AdminSettings,
}

/// Limits and timeouts of the admin API; [`AdminSettings::default`] holds the defaults.
#[derive(Clone, Debug)]
pub struct AdminSettings {
    /// How long `GET …/runs/{run}` answers `queued` for a run that was queued but never started
    /// (a job dropped because the tenant was disabled meanwhile, say): 1 hour.
    pub queued_for: Duration,
    /// Preview rows per page when `limit` is not given: 100.
    pub preview_limit: usize,
    /// Most preview rows per page: 1,000.
    pub preview_max_limit: usize,
    /// Time limit of each Personio request the API makes itself (credential checks, attribute
    /// lists): 10 s, well inside API Gateway's 30 s.
    pub personio_timeout: Duration,
    /// Attempts of each Personio request before it counts as unavailable: 2.
    pub personio_attempts: u32,
}

impl Default for AdminSettings {
    fn default() -> Self {
        Self {
            queued_for: Duration::from_secs(3600),
            preview_limit: 100,
            preview_max_limit: 1000,
            personio_timeout: Duration::from_secs(10),
            personio_attempts: 2,
        }
    }
}

/// The caller's IAM identity, put into the request's extensions by the Lambda binary from the API
/// Gateway request context. Only logged; never used to decide anything (API Gateway has already
/// authorised the request).
#[derive(Clone, Debug)]
pub struct Caller(pub String);

/// Shared state of every handler.
pub(crate) type Deps = State<Arc<AdminDeps>>;

/// The admin API on `deps`.
pub fn app(deps: AdminDeps) -> Router {
    let tenant = "/tenants/{tenant}";
    Router::new()
        .route("/tenants", post(tenants::create))
        .route(
            tenant,
            get(tenants::read)
                .put(tenants::replace)
                .delete(tenants::delete),
        )
        .route(&format!("{tenant}/disable"), post(tenants::disable))
        .route(&format!("{tenant}/enable"), post(tenants::enable))
        .route(
            &format!("{tenant}/credentials/personio/{{account}}"),
            put(credentials::personio),
        )
        .route(
            &format!("{tenant}/credentials/personio"),
            delete(credentials::revoke_personio),
        )
        .route(
            &format!("{tenant}/credentials/destination"),
            put(credentials::destination),
        )
        .route(
            &format!("{tenant}/credentials/webhook/rotate"),
            post(credentials::rotate_webhook),
        )
        .route(
            &format!("{tenant}/mapping"),
            get(settings::read_mapping).put(settings::replace_mapping),
        )
        .route(
            &format!("{tenant}/scope"),
            get(settings::read_scope).put(settings::replace_scope),
        )
        .route(&format!("{tenant}/runs"), post(runs::start).get(runs::list))
        .route(&format!("{tenant}/runs/{{run}}"), get(runs::read))
        .route(
            &format!("{tenant}/runs/{{run}}/errors.csv"),
            get(runs::errors_csv),
        )
        .route(
            &format!("{tenant}/runs/{{run}}/approve"),
            post(runs::approve),
        )
        .route(&format!("{tenant}/runs/{{run}}/reject"), post(runs::reject))
        .route(&format!("{tenant}/runs/{{run}}/undo"), post(runs::undo))
        .route(&format!("{tenant}/preview"), get(preview::preview))
        .route(&format!("{tenant}/rehires"), post(rehires::decide))
        .route(
            &format!("{tenant}/personio/{{account}}/employees"),
            post(people::add),
        )
        .route(
            &format!("{tenant}/console-links"),
            post(console_links::mint),
        )
        .fallback(|| async { ApiError::no_route() })
        .method_not_allowed_fallback(|| async { ApiError::method_not_allowed() })
        .layer(axum::middleware::from_fn(log_request))
        .with_state(Arc::new(deps))
}

/// One log line per request: method, route template, status, time taken and the caller's ARN.
/// Never the body, the query string or a header value.
async fn log_request(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().clone();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|path| path.as_str().to_owned())
        .unwrap_or_else(|| "(no route)".to_owned());
    let caller = request
        .extensions()
        .get::<Caller>()
        .map(|caller| caller.0.clone());
    let response = next.run(request).await;
    tracing::info!(
        method = %method,
        route,
        status = response.status().as_u16(),
        elapsed_ms = started.elapsed().as_millis() as u64,
        caller = caller.as_deref().unwrap_or("-"),
        "admin request"
    );
    response
}
