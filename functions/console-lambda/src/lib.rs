//! The console in AWS: what the console Lambda gives `sync-console`. Its pages read the DynamoDB
//! state like the admin API; its actions go through the tenant's FIFO queue like every other run
//! ([`QueuedActions`]): sync now and dry run queue a run whose page shows it queued, then its
//! progress, then its report; approving claims the held run and queues the run that applies it.
//! Nothing runs inside the request, so API Gateway's 30 s never bound a run. One person's next run
//! ([`StoredCredentialPreviews`]) reads that person from Personio with the tenant's credentials.
//! Beside the pages, [`pictures`] serves the profile pictures the worker hosted in the stack's
//! bucket, to the apps ([`app`]).

pub mod pictures;

use async_trait::async_trait;
use chrono::Utc;
use std::sync::Arc;
use sync_adapters::{as_sources, Factory, PersonioLimits};
use sync_aws::PictureBucket;
use sync_console::{ActionError, Actions, ConsoleDeps, ConsoleSettings, Previews};
use sync_core::config::TenantConfig;
use sync_core::console_site::KeySource;
use sync_core::ids::{PersonKey, RunId, TenantId};
use sync_core::ports::{ConfigStore, JobTarget, Jobs, Secrets, Store, TenantAdmin};
use sync_core::preview::{preview_person, PreviewRow};
use sync_core::run::{self, QueueError, Queueing, RunError};

/// How long a queued run reads as queued if its job is dropped (the tenant disabled meanwhile).
const QUEUED_FOR_HOURS: i64 = 1;

/// Actions through the tenant's queue.
pub struct QueuedActions {
    /// Tenant configs (enabled, `[console] actions`).
    pub configs: Arc<dyn ConfigStore>,
    /// Held runs and their claims.
    pub store: Arc<dyn Store>,
    /// Notes of queued runs.
    pub notes: Arc<dyn TenantAdmin>,
    /// The job queue.
    pub jobs: Arc<dyn Jobs>,
}

fn failed(error: impl std::fmt::Display) -> ActionError {
    tracing::error!(error = %error, "a console action failed");
    ActionError::Failed(
        "The sync's storage or queue did not answer. Nothing was changed; try again in a minute."
            .to_owned(),
    )
}

fn queue_error(error: QueueError) -> ActionError {
    match error {
        QueueError::Run(RunError::HeldRunPending { run_id }) => ActionError::Refused(format!(
            "Run {run_id} is held and waits for a decision: approve or reject it first."
        )),
        QueueError::Run(error @ (RunError::NotHeld { .. } | RunError::UnknownRun { .. })) => {
            ActionError::Refused(error.to_string())
        }
        other => failed(other),
    }
}

impl QueuedActions {
    fn queueing(&self) -> Queueing<'_> {
        Queueing {
            store: self.store.as_ref(),
            notes: self.notes.as_ref(),
            jobs: self.jobs.as_ref(),
            queued_for: chrono::Duration::hours(QUEUED_FOR_HOURS),
        }
    }

    /// Refuses a tenant that is disabled (the worker would drop its jobs) or gone.
    async fn enabled(&self, tenant: &TenantId) -> Result<(), ActionError> {
        match self.configs.config(tenant).await.map_err(failed)? {
            Some(versioned) if versioned.config.enabled => Ok(()),
            Some(_) => Err(ActionError::Refused(
                "The sync of this organisation is paused (disabled) by whoever runs it; nothing runs until it is enabled again.".to_owned(),
            )),
            None => Err(ActionError::Refused(
                "This organisation is no longer synced.".to_owned(),
            )),
        }
    }

    async fn start(&self, tenant: &TenantId, dry_run: bool) -> Result<RunId, ActionError> {
        self.enabled(tenant).await?;
        self.queueing()
            .start(tenant, JobTarget::Everyone, dry_run, Utc::now())
            .await
            .map_err(queue_error)
    }
}

#[async_trait]
impl Actions for QueuedActions {
    async fn approve(&self, tenant: &TenantId, run: &RunId) -> Result<RunId, ActionError> {
        self.enabled(tenant).await?;
        self.queueing()
            .approve(tenant, run, Utc::now())
            .await
            .map_err(queue_error)
    }

    async fn reject(&self, tenant: &TenantId, run: &RunId) -> Result<(), ActionError> {
        match run::reject(self.store.as_ref(), tenant, run).await {
            Ok(_) => Ok(()),
            Err(error @ (RunError::NotHeld { .. } | RunError::UnknownRun { .. })) => {
                Err(ActionError::Refused(error.to_string()))
            }
            Err(error) => Err(failed(error)),
        }
    }

    async fn sync_now(&self, tenant: &TenantId) -> Result<RunId, ActionError> {
        self.start(tenant, false).await
    }

    async fn dry_run(&self, tenant: &TenantId) -> Result<RunId, ActionError> {
        self.start(tenant, true).await
    }

    async fn undo(
        &self,
        tenant: &TenantId,
        undone: &RunId,
        dry_run: bool,
    ) -> Result<RunId, ActionError> {
        self.enabled(tenant).await?;
        if self
            .store
            .journal(tenant, undone)
            .await
            .map_err(failed)?
            .is_none()
        {
            let error = RunError::NothingToUndo {
                run_id: undone.clone(),
            };
            return Err(ActionError::Refused(error.to_string()));
        }
        self.queueing()
            .undo(tenant, undone, false, dry_run, Utc::now())
            .await
            .map_err(queue_error)
    }

    async fn config(&self, tenant: &TenantId) -> Result<Option<TenantConfig>, ActionError> {
        let config = self.configs.config(tenant).await.map_err(failed)?;
        Ok(config.map(|versioned| versioned.config))
    }
}

/// One person's next run, read from Personio with the tenant's stored credentials (as the admin
/// API's preview), with the admin API's short Personio limits: a page answers within API
/// Gateway's 30 s.
pub struct StoredCredentialPreviews {
    /// Tenant configs.
    pub configs: Arc<dyn ConfigStore>,
    /// The tenants' snapshots.
    pub store: Arc<dyn Store>,
    /// Personio credentials.
    pub secrets: Arc<dyn Secrets>,
}

#[async_trait]
impl Previews for StoredCredentialPreviews {
    async fn next_run(
        &self,
        tenant: &TenantId,
        person: &PersonKey,
    ) -> Result<Option<PreviewRow>, ActionError> {
        let config = match self.configs.config(tenant).await.map_err(failed)? {
            Some(versioned) => versioned.config,
            None => return Ok(None),
        };
        let factory = Factory {
            secrets: self.secrets.as_ref(),
            local: None,
            personio: PersonioLimits {
                max_attempts: Some(2),
                request_timeout: Some(std::time::Duration::from_secs(10)),
            },
        };
        let clients = factory
            .sources(&config)
            .await
            .map_err(|error| ActionError::Failed(error.to_string()))?;
        let snapshot = self.store.snapshot(tenant).await.map_err(failed)?;
        preview_person(
            &as_sources(&clients),
            &config,
            &snapshot,
            person,
            Utc::now(),
        )
        .await
        .map_err(|error| ActionError::Failed(error.to_string()))
    }
}

/// The console on the stack's adapters, with `keys`.
pub fn console_deps(aws: &sync_aws::Deps, keys: Arc<dyn KeySource>) -> ConsoleDeps {
    ConsoleDeps {
        store: Arc::new(aws.store.clone()),
        progress: Arc::new(aws.store.clone()),
        queued: Some(Arc::new(aws.store.clone())),
        keys,
        actions: Some(Arc::new(QueuedActions {
            configs: Arc::new(aws.store.clone()),
            store: Arc::new(aws.store.clone()),
            notes: Arc::new(aws.store.clone()),
            jobs: Arc::new(aws.jobs.clone()),
        })),
        previews: Some(Arc::new(StoredCredentialPreviews {
            configs: Arc::new(aws.store.clone()),
            store: Arc::new(aws.store.clone()),
            secrets: Arc::new(aws.secrets.clone()),
        })),
        // Served over https by API Gateway: the cookie is Secure; the stack's scheduler runs the
        // tenants' schedules.
        settings: ConsoleSettings {
            scheduled: true,
            ..ConsoleSettings::default()
        },
    }
}

/// What the console Lambda serves: the console's pages on `deps`, and the hosted pictures of
/// `pictures` (the stack's bucket; `None`: every picture is 404).
pub fn app(deps: ConsoleDeps, pictures: Option<PictureBucket>) -> axum::Router {
    sync_console::app(deps).merge(pictures::routes(pictures))
}
