//! The [`FakePersonio`] handle: starts the HTTP server and lets a test change the company, the
//! whitelist, the rate limit and the faults while it runs.
//!
//! All state sits behind one `std::sync::Mutex`: handlers hold it for one short, synchronous
//! step (checking a token, rendering one page of at most 100 people) and never across an
//! `.await`, so an async mutex would only add cost (the reasoning of mini-redis's `db.rs`).

use crate::auth::Tokens;
use crate::company::Company;
use crate::fault::{Fault, Faults};
use crate::throttle::{LimitModel, Throttle, V2Limits};
use crate::webhooks::{Delivery, DeliveryPolicy, Webhook, Webhooks};
use std::collections::BTreeSet;
use std::fmt;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Instant;
use tokio::net::TcpListener;
use tokio::sync::Notify;

/// Personio's rate limit on the employees endpoints: `burst` requests at once, `per_minute`
/// sustained.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RateLimit {
    /// Sustained requests per minute.
    pub per_minute: u32,
    /// Requests allowed at once before the sustained rate applies.
    pub burst: u32,
}

impl RateLimit {
    /// Personio's documented limit since 2024-05-06: 300 per minute, burst of 15.
    pub const PERSONIO: RateLimit = RateLimit {
        per_minute: 300,
        burst: 15,
    };
}

/// How the fake behaves towards its one API credential.
#[derive(Clone, PartialEq, Eq)]
pub struct FakeConfig {
    /// The accepted `client_id`.
    pub client_id: String,
    /// The accepted `client_secret`.
    pub client_secret: String,
    /// The rate limit of the employees endpoints; `None` means unlimited. v2 starts with the same
    /// numbers as a token bucket per endpoint family ([`FakePersonio::set_v2_rate_limit`]).
    pub rate_limit: Option<RateLimit>,
    /// The credential's readable attribute keys; `None` means all. `id` is always readable.
    pub whitelist: Option<BTreeSet<String>>,
    /// The company's id, sent as `company_id` in every webhook delivery.
    pub company_id: String,
    /// How webhook events are delivered and retried.
    pub delivery: DeliveryPolicy,
}

impl Default for FakeConfig {
    fn default() -> Self {
        Self {
            client_id: "fake-client-id".to_owned(),
            client_secret: "fake-client-secret".to_owned(),
            rate_limit: Some(RateLimit::PERSONIO),
            whitelist: None,
            company_id: "4711".to_owned(),
            delivery: DeliveryPolicy::default(),
        }
    }
}

impl fmt::Debug for FakeConfig {
    // The secret stays out of test output, like every other secret in the project.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FakeConfig")
            .field("client_id", &self.client_id)
            .field("client_secret", &"<redacted>")
            .field("rate_limit", &self.rate_limit)
            .field("whitelist", &self.whitelist)
            .field("company_id", &self.company_id)
            .field("delivery", &self.delivery)
            .finish()
    }
}

/// What the fake has answered so far.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Requests to `POST /v1/auth`, whatever the answer.
    pub auth_requests: u64,
    /// Requests to `GET /v1/company/employees`, whatever the answer.
    pub list_requests: u64,
    /// Requests to `GET /v1/company/employees/{id}`, whatever the answer.
    pub single_requests: u64,
    /// Requests to the attributes endpoint, whatever the answer.
    pub attribute_requests: u64,
    /// Requests for profile pictures, whatever the answer.
    pub picture_requests: u64,
    /// 429 answers (rate limit and storms), v1 and v2.
    pub too_many_requests: u64,
    /// 5xx answers.
    pub server_errors: u64,
    /// 401 answers (bad credentials or tokens).
    pub unauthorized: u64,
    /// Requests to `POST /v2/auth/token`, whatever the answer.
    pub token_requests: u64,
    /// Requests to the `/v2/webhooks` endpoints, whatever the answer.
    pub webhook_requests: u64,
    /// Writes (`POST` and `PATCH` of employees), whatever the answer.
    pub write_requests: u64,
    /// Requests to `GET /v2/persons` and `GET /v2/persons/{id}`, whatever the answer.
    pub v2_person_requests: u64,
    /// Requests to `GET /v2/persons/{id}/employments[/{id}]`, whatever the answer.
    pub v2_employment_requests: u64,
    /// Requests to the v2 reference data (org units, legal entities, workplaces, cost centers),
    /// whatever the answer.
    pub v2_reference_requests: u64,
}

/// Everything the handlers share.
pub(crate) struct State {
    pub company: Company,
    pub config: FakeConfig,
    pub tokens: Tokens,
    pub throttle: Option<Throttle>,
    /// How `config.rate_limit` is read.
    pub limit_model: LimitModel,
    pub faults: Faults,
    pub stats: Stats,
    /// v2 tokens, apart from v1's: a v2 token opens no v1 endpoint and the other way round.
    pub v2_tokens: Tokens,
    /// The v2 buckets, one per endpoint family; `None` = unlimited (and no `x-ratelimit-*`).
    pub v2_limits: Option<V2Limits>,
    pub webhooks: Webhooks,
    /// Every webhook delivery request, in the order they were made.
    pub deliveries: Vec<Delivery>,
    /// Whether the credential may read employees; `false` answers every employee endpoint 403.
    pub employee_access: bool,
    /// Whether the credential may write employees; `false` answers every write 403.
    pub write_access: bool,
}

/// The state and what never changes after start.
pub(crate) struct Shared {
    state: Mutex<State>,
    /// `http://127.0.0.1:PORT`, the prefix of profile picture URLs.
    pub base_url: String,
    /// The client webhook deliveries go out with.
    pub delivery_http: reqwest::Client,
    /// Signs v2 cursors, so only this server's own `next` links open a page.
    pub cursor_key: u64,
}

impl Shared {
    /// Locks the state. A handler that panicked cannot leave it half-changed in a way that
    /// matters to a test fake, so a poisoned lock is simply taken over.
    pub fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A running fake Personio. Clones share the same server.
#[derive(Clone)]
pub struct FakePersonio {
    shared: Arc<Shared>,
    addr: SocketAddr,
    shutdown: Arc<Notify>,
}

impl FakePersonio {
    /// Serves `company` on a free port of 127.0.0.1 in a background task.
    pub async fn start(company: Company, config: FakeConfig) -> std::io::Result<FakePersonio> {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await?;
        Self::serve(listener, company, config).await
    }

    /// Serves `company` on a listener the caller bound (the CLI's `--port`) in a background task.
    pub async fn serve(
        listener: TcpListener,
        mut company: Company,
        config: FakeConfig,
    ) -> std::io::Result<FakePersonio> {
        let addr = listener.local_addr()?;
        // A wildcard address cannot be dialled; clients reach such a listener on loopback.
        let reachable = if addr.ip().is_unspecified() {
            SocketAddr::from((Ipv4Addr::LOCALHOST, addr.port()))
        } else {
            addr
        };
        company.employees.sort_by_key(|employee| employee.id);
        let employees = company.employees.len();
        let now = Instant::now();
        let state = State {
            throttle: config
                .rate_limit
                .map(|limit| Throttle::new(limit, LimitModel::default(), now)),
            limit_model: LimitModel::default(),
            v2_limits: config.rate_limit.map(|limit| V2Limits::new(limit, now)),
            company,
            config,
            tokens: Tokens::default(),
            faults: Faults::default(),
            stats: Stats::default(),
            v2_tokens: Tokens::default(),
            webhooks: Webhooks::default(),
            deliveries: Vec::new(),
            employee_access: true,
            write_access: true,
        };
        let shared = Arc::new(Shared {
            state: Mutex::new(state),
            base_url: format!("http://{reachable}"),
            delivery_http: crate::delivery::client()?,
            cursor_key: rand::random(),
        });
        let shutdown = Arc::new(Notify::new());
        let router = crate::routes::router(Arc::clone(&shared));
        let signal = Arc::clone(&shutdown);
        tokio::spawn(async move {
            let served = axum::serve(listener, router)
                .with_graceful_shutdown(async move { signal.notified().await })
                .await;
            if let Err(error) = served {
                tracing::error!(%error, "fake Personio stopped serving");
            }
        });
        tracing::info!(%addr, employees, "fake Personio listening");
        Ok(FakePersonio {
            shared,
            addr: reachable,
            shutdown,
        })
    }

    /// The base URL, `http://127.0.0.1:PORT`; clients append `/v1/...`.
    pub fn url(&self) -> String {
        self.shared.base_url.clone()
    }

    /// The address the server listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Changes the company (movers, leavers, rehires, new and removed people). The people are
    /// re-sorted by id afterwards, so `f` may push in any order.
    pub fn update(&self, f: impl FnOnce(&mut Company)) {
        let mut state = self.shared.lock();
        f(&mut state.company);
        state.company.employees.sort_by_key(|employee| employee.id);
    }

    /// A copy of the company as it is served now.
    pub fn company(&self) -> Company {
        self.shared.lock().company.clone()
    }

    /// Replaces the credential's readable attributes; `None` makes all readable.
    pub fn set_whitelist(&self, keys: Option<BTreeSet<String>>) {
        self.shared.lock().config.whitelist = keys;
    }

    /// Gives the credential the "Read" right for Employees (`true`, the default) or takes it away:
    /// without it `/v1/auth` still issues tokens, but every employee endpoint answers 403.
    pub fn set_employee_access(&self, allowed: bool) {
        self.shared.lock().employee_access = allowed;
    }

    /// Gives the credential the "Write" right for Employees (`true`, the default) or takes it
    /// away: without it every write answers 403.
    pub fn set_write_access(&self, allowed: bool) {
        self.shared.lock().write_access = allowed;
    }

    /// Replaces the accepted client id and secret, as rotating the API credential in Personio
    /// does: from now on only the new pair gets a token, and tokens issued to the old one are
    /// revoked.
    pub fn set_credentials(&self, client_id: &str, client_secret: &str) {
        let mut state = self.shared.lock();
        state.config.client_id = client_id.to_owned();
        state.config.client_secret = client_secret.to_owned();
        state.tokens.revoke_all();
        state.v2_tokens.revoke_all();
    }

    /// Replaces the rate limit of the v1 employees endpoints, with a full bucket (or empty
    /// windows); `None` = unlimited. v2 keeps its own ([`Self::set_v2_rate_limit`]).
    pub fn set_rate_limit(&self, limit: Option<RateLimit>) {
        let mut state = self.shared.lock();
        state.config.rate_limit = limit;
        let model = state.limit_model;
        state.throttle = limit.map(|limit| Throttle::new(limit, model, Instant::now()));
    }

    /// Replaces the v2 rate limit, with full buckets: each endpoint family (persons,
    /// employments, reference data) gets its own token bucket of `burst` refilled at
    /// `per_minute / 60` a second; `None` = unlimited, without `x-ratelimit-*` headers. v1's
    /// limit ([`Self::set_rate_limit`]) stays as it is.
    pub fn set_v2_rate_limit(&self, limit: Option<RateLimit>) {
        self.shared.lock().v2_limits = limit.map(|limit| V2Limits::new(limit, Instant::now()));
    }

    /// Reads the rate limit as `model` from now on, starting afresh.
    pub fn set_limit_model(&self, model: LimitModel) {
        let mut state = self.shared.lock();
        state.limit_model = model;
        let limit = state.config.rate_limit;
        state.throttle = limit.map(|limit| Throttle::new(limit, model, Instant::now()));
    }

    /// Switches a fault on. [`Fault::ExpireToken`] takes effect at once; the others stay active
    /// until used up or [`Self::clear_faults`].
    pub fn set_fault(&self, fault: Fault) {
        tracing::debug!(?fault, "fake Personio fault switched on");
        let mut state = self.shared.lock();
        match fault {
            Fault::ExpireToken => state.tokens.revoke_all(),
            fault => state.faults.add(fault),
        }
    }

    /// Switches every fault off (revoked tokens stay revoked).
    pub fn clear_faults(&self) {
        self.shared.lock().faults.clear();
    }

    /// The faults still active, with their remaining counts; a used-up fault is gone.
    pub fn faults(&self) -> Vec<Fault> {
        self.shared.lock().faults.active()
    }

    /// What the server has answered so far.
    pub fn stats(&self) -> Stats {
        self.shared.lock().stats
    }

    /// Sends a webhook event, as Personio does when something changes: the envelope with this
    /// company's id, `event_name`, the current time and `payload` goes to every enabled webhook
    /// subscribed to `event_name`, retried per [`FakeConfig::delivery`]. Waits until every
    /// webhook acknowledged it or its retries ran out, and returns the requests made.
    ///
    /// Personio does not document per-event payloads (personio-api.md §3.4); the caller chooses
    /// one, e.g. `{"id": "1234"}` for a person event.
    pub async fn emit(&self, event_name: &str, payload: serde_json::Value) -> Vec<Delivery> {
        crate::delivery::emit(
            &self.shared,
            crate::delivery::Recipients::Subscribed,
            event_name,
            payload,
        )
        .await
    }

    /// Every webhook delivery request made so far, oldest first.
    pub fn deliveries(&self) -> Vec<Delivery> {
        self.shared.lock().deliveries.clone()
    }

    /// The webhook subscriptions, as registered through `/v2/webhooks`.
    pub fn webhooks(&self) -> Vec<Webhook> {
        self.shared.lock().webhooks.all().to_vec()
    }

    /// Replaces how webhook events are delivered, from the next event on.
    pub fn set_delivery_policy(&self, policy: DeliveryPolicy) {
        self.shared.lock().config.delivery = policy;
    }

    /// Stops accepting connections; requests in flight are finished.
    pub fn shutdown(&self) {
        self.shutdown.notify_one();
    }
}

impl fmt::Debug for FakePersonio {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FakePersonio")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}
