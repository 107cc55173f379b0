//! The console served on 127.0.0.1 over a state folder real runs wrote, and an HTTP client
//! that opens links and posts forms as a browser does.

use chrono::{Duration, Utc};
use reqwest::header;
use std::sync::Arc;
use sync_console::{app, ActionError, Actions, ConsoleDeps, ConsoleSettings};
use sync_core::history::RunStatus;
use sync_core::ids::{RunId, TenantId};
use sync_core::links::{Access, Grant, LinkKey, LinkKeys};
use sync_core::ports::Store;
use sync_core::run::RunError;
use sync_local::FolderStore;
use test_support::harness::Harness;

pub(crate) struct Console {
    pub url: String,
    pub keys: LinkKeys,
    pub tenant: TenantId,
    pub http: reqwest::Client,
    pub harness: Arc<Harness>,
}

/// The console's actions on one machine: the engine's own approve and reject on the harness.
pub(crate) struct HarnessActions(Arc<Harness>);

pub(crate) fn action_error(error: RunError) -> ActionError {
    match error {
        RunError::NotHeld { .. } => ActionError::Refused(error.to_string()),
        other => ActionError::Failed(other.to_string()),
    }
}

#[async_trait::async_trait]
impl Actions for HarnessActions {
    async fn approve(&self, _tenant: &TenantId, run: &RunId) -> Result<RunId, ActionError> {
        // The engine's apply future is not `Send` (its per-action closures), and axum's
        // handlers must be: the approval runs on a blocking thread of the same runtime, as the
        // CLI does.
        let (harness, run) = (self.0.clone(), run.clone());
        tokio::task::spawn_blocking(move || {
            tokio::runtime::Handle::current().block_on(async move { harness.approve(&run).await })
        })
        .await
        .map_err(|error| ActionError::Failed(error.to_string()))?
        .map(|outcome| outcome.record.id)
        .map_err(action_error)
    }

    async fn reject(&self, _tenant: &TenantId, run: &RunId) -> Result<(), ActionError> {
        self.0.reject(run).await.map_err(action_error)
    }

    async fn sync_now(&self, _tenant: &TenantId) -> Result<RunId, ActionError> {
        let harness = self.0.clone();
        tokio::task::spawn_blocking(move || {
            tokio::runtime::Handle::current()
                .block_on(async move { harness.run_at(test_support::personio::now()).await })
        })
        .await
        .map_err(|error| ActionError::Failed(error.to_string()))?
        .map(|outcome| outcome.record.id)
        .map_err(action_error)
    }

    async fn config(
        &self,
        _tenant: &TenantId,
    ) -> Result<Option<sync_core::config::TenantConfig>, ActionError> {
        Ok(Some(self.0.config.clone()))
    }

    async fn undo(
        &self,
        _tenant: &TenantId,
        undone: &RunId,
        dry_run: bool,
    ) -> Result<RunId, ActionError> {
        let (harness, undone) = (self.0.clone(), undone.clone());
        tokio::task::spawn_blocking(move || {
            tokio::runtime::Handle::current().block_on(async move {
                let request = sync_core::run::RunRequest {
                    target: sync_core::run::RunTarget::Everyone,
                    dry_run,
                    trigger: sync_core::history::Trigger::Undo {
                        run: undone.clone(),
                        only_unchanged: false,
                    },
                    now: test_support::personio::now(),
                    deadline: None,
                    run_id: None,
                };
                sync_core::run::undo(&harness.ports(), &harness.config, &undone, false, request)
                    .await
            })
        })
        .await
        .map_err(|error| ActionError::Failed(error.to_string()))?
        .map(|outcome| outcome.record.id)
        .map_err(action_error)
    }

    async fn dry_run(&self, _tenant: &TenantId) -> Result<RunId, ActionError> {
        let harness = self.0.clone();
        tokio::task::spawn_blocking(move || {
            tokio::runtime::Handle::current()
                .block_on(async move { harness.dry_run(test_support::personio::now()).await })
        })
        .await
        .map_err(|error| ActionError::Failed(error.to_string()))
        .map(|outcome| outcome.record.id)
    }
}

pub(crate) fn keys() -> LinkKeys {
    LinkKeys::new(LinkKey::new("k1", vec![9; 32]).expect("a key"), None)
}

/// A console on the state of a company of 30 after its first sync.
pub(crate) async fn console() -> Console {
    let harness = Harness::new(30).await;
    harness.run().await;
    serve(harness).await
}

/// A console whose tenant's last run was held: 5 of 30 people left Personio (over 10%).
pub(crate) async fn held() -> (Console, Vec<u64>, RunId) {
    let harness = Harness::new(30).await;
    harness.run().await;
    let leaving: Vec<u64> = harness
        .fake
        .company()
        .employees
        .iter()
        .filter(|person| person.status == "active")
        .take(5)
        .map(|person| person.id)
        .collect();
    harness.fake.update(|company| {
        for id in &leaving {
            company.remove(*id);
        }
    });
    let outcome = harness.run().await;
    assert_eq!(outcome.record.status, RunStatus::Held);
    let run = outcome.record.id;
    (serve(harness).await, leaving, run)
}

pub(crate) async fn serve(harness: Harness) -> Console {
    let harness = Arc::new(harness);
    let deps = ConsoleDeps {
        store: Arc::new(FolderStore::new(harness.path().join("state"))),
        progress: Arc::new(FolderStore::new(harness.path().join("state"))),
        queued: None,
        keys: Arc::new(keys()),
        actions: Some(Arc::new(HarnessActions(harness.clone()))),
        previews: Some(Arc::new(HarnessActions(harness.clone()))),
        settings: ConsoleSettings::default(),
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a free port");
    let url = format!("http://{}", listener.local_addr().expect("an address"));
    tokio::spawn(async move { axum::serve(listener, app(deps)).await });
    let http = sync_core::http::builder(std::time::Duration::from_secs(10))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("an HTTP client");
    Console {
        url,
        keys: keys(),
        tenant: harness.config.tenant.clone(),
        http,
        harness,
    }
}

impl Console {
    pub(crate) fn link(&self, tenant: &TenantId, expires_in: Duration) -> String {
        self.link_with(tenant, Access::View, expires_in)
    }

    pub(crate) fn link_with(
        &self,
        tenant: &TenantId,
        access: Access,
        expires_in: Duration,
    ) -> String {
        let grant = Grant {
            tenant: tenant.clone(),
            access,
            expires: Utc::now() + expires_in,
        };
        format!("{}/open?link={}", self.url, self.keys.link(&grant))
    }

    /// Opens a view link for the tenant; the session cookie (name=value).
    pub(crate) async fn session(&self) -> String {
        self.session_with(Access::View).await
    }

    /// Opens a link with `access` for the tenant; the session cookie (name=value).
    pub(crate) async fn session_with(&self, access: Access) -> String {
        let answer = self
            .http
            .get(self.link_with(&self.tenant, access, Duration::days(7)))
            .send()
            .await
            .expect("open the link");
        assert_eq!(answer.status(), 303);
        let cookie = answer
            .headers()
            .get(header::SET_COOKIE)
            .and_then(|v| v.to_str().ok())
            .expect("a session cookie")
            .to_owned();
        cookie.split(';').next().expect("name=value").to_owned()
    }

    pub(crate) async fn post(
        &self,
        path: &str,
        cookie: &str,
        csrf: Option<&str>,
    ) -> (u16, String, String) {
        self.post_with(path, cookie, csrf, &[]).await
    }

    /// [`Self::post`] with more form fields.
    pub(crate) async fn post_with(
        &self,
        path: &str,
        cookie: &str,
        csrf: Option<&str>,
        fields: &[(&str, &str)],
    ) -> (u16, String, String) {
        let mut form = fields.to_vec();
        if let Some(csrf) = csrf {
            form.push(("csrf", csrf));
        }
        let answer = self
            .http
            .post(format!("{}{path}", self.url))
            .header(header::COOKIE, cookie)
            .form(&form)
            .send()
            .await
            .expect("an answer");
        let status = answer.status().as_u16();
        let location = answer
            .headers()
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        (status, location, answer.text().await.expect("a body"))
    }

    pub(crate) async fn get(&self, path: &str, cookie: Option<&str>) -> (u16, String) {
        let mut request = self.http.get(format!("{}{path}", self.url));
        if let Some(cookie) = cookie {
            request = request.header(header::COOKIE, cookie);
        }
        let answer = request.send().await.expect("a page");
        let status = answer.status().as_u16();
        (status, answer.text().await.expect("a body"))
    }
}

#[async_trait::async_trait]
impl sync_console::Previews for HarnessActions {
    async fn next_run(
        &self,
        _tenant: &TenantId,
        person: &sync_core::ids::PersonKey,
    ) -> Result<Option<sync_core::preview::PreviewRow>, ActionError> {
        let snapshot = self
            .0
            .store
            .snapshot(&self.0.config.tenant)
            .await
            .map_err(|error| ActionError::Failed(error.to_string()))?;
        let ports = self.0.ports();
        sync_core::preview::preview_person(
            &ports.sources,
            &self.0.config,
            &snapshot,
            person,
            test_support::personio::now(),
        )
        .await
        .map_err(|error| ActionError::Failed(error.to_string()))
    }
}
