//! The worker Lambda's handler: one SQS message is one job (a full or one-person run of one tenant).
//!
//! The queue is FIFO with one message group per tenant, so a tenant's runs never overlap while
//! tenants run in parallel. A message whose job failed for a reason that may pass (Personio or the
//! state store unavailable) is reported as a batch item failure and comes back; one that cannot
//! succeed until an admin acts (bad credentials, a held run) is consumed, with the reason in the
//! run history and the admins' email. A run that nears the Lambda's time limit stops starting
//! writes and queues its continuation, which re-plans from the snapshot it advanced.

use aws_lambda_events::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent};
use chrono::{DateTime, Utc};
use std::time::Instant;
use sync_core::config::{DestinationKind, TenantConfig};
use sync_core::history::RunStatus;
use sync_core::ids::AccountId;
use sync_core::personio::{PersonioClient, PersonioSettings, RateLimit};
use sync_core::ports::{
    ConfigStore, Destination, Job, JobTarget, Jobs, Mailer, Secrets, SecretsError, Source,
    SourceError, Store,
};
use sync_core::progress::NoProgress;
use sync_core::run::{self, Ports, RunError, RunRequest, RunTarget};

/// The adapters a job runs through, built once per cold start.
pub struct WorkerDeps<'a> {
    /// Tenant configs.
    pub configs: &'a dyn ConfigStore,
    /// Snapshots and run history.
    pub store: &'a dyn Store,
    /// Per-tenant credentials.
    pub secrets: &'a dyn Secrets,
    /// Summary emails.
    pub mailer: &'a dyn Mailer,
    /// The job queue, for continuations.
    pub jobs: &'a dyn Jobs,
}

/// How one job ended, when it did not fail.
#[derive(Debug, PartialEq)]
pub enum JobOutcome {
    /// The run finished (completed, dry run, or held by a guard).
    Ran(RunStatus),
    /// Another run of the tenant is held and waits for approval; this job was dropped.
    WaitingForApproval,
    /// The run stopped at the deadline; its continuation is queued.
    Continued,
    /// The tenant has no config (deleted since the job was queued).
    UnknownTenant,
    /// The tenant is disabled; the job was dropped.
    Disabled,
}

/// A job that failed.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct JobError {
    /// Whether trying again later may succeed (the message is then redelivered).
    pub retry: bool,
    /// What happened, without secrets or personal data.
    pub message: String,
}

impl JobError {
    fn final_(message: impl ToString) -> Self {
        Self {
            retry: false,
            message: message.to_string(),
        }
    }
    fn transient(message: impl ToString) -> Self {
        Self {
            retry: true,
            message: message.to_string(),
        }
    }
}

impl From<RunError> for JobError {
    fn from(error: RunError) -> Self {
        let retry = match &error {
            RunError::Source(
                SourceError::Unavailable { .. }
                | SourceError::Transport { .. }
                | SourceError::Inconsistent { .. },
            ) => true,
            RunError::Source(_) => false,
            RunError::Destination(error) => !error.stops_run(),
            RunError::Store(_) => true,
            RunError::HeldRunPending { .. }
            | RunError::NotHeld { .. }
            | RunError::UnknownRun { .. }
            | RunError::UnknownAccount { .. } => false,
        };
        Self {
            retry,
            message: error.to_string(),
        }
    }
}

impl From<SecretsError> for JobError {
    fn from(error: SecretsError) -> Self {
        let retry = matches!(error, SecretsError::Unavailable { .. });
        Self {
            retry,
            message: error.to_string(),
        }
    }
}

/// Builds the Personio clients of a tenant from its secrets.
async fn sources(
    deps: &WorkerDeps<'_>,
    config: &TenantConfig,
) -> Result<Vec<(AccountId, PersonioClient)>, JobError> {
    let mut sources = Vec::new();
    for account in &config.personio.accounts {
        let credentials = deps.secrets.personio(&config.tenant, &account.name).await?;
        let mut settings = PersonioSettings::new(
            account.name.clone(),
            account.base_url.clone(),
            credentials.client_id,
            credentials.client_secret,
        );
        settings.rate_limit = RateLimit {
            per_minute: account.rate_limit_per_minute,
            burst: account.rate_limit_burst,
        };
        settings.partner_id = account.partner_id.clone();
        settings.app_id = account.app_id.clone();
        settings.keep_attributes = Some(config.attributes().fetch_filter());
        sources.push((
            account.name.clone(),
            PersonioClient::new(settings).map_err(JobError::final_)?,
        ));
    }
    Ok(sources)
}

/// Builds the tenant's destination: SCIM with the token from its secret (a directory only where a
/// writable folder exists, i.e. tests and local stacks).
async fn destination(
    deps: &WorkerDeps<'_>,
    config: &TenantConfig,
) -> Result<Box<dyn Destination>, JobError> {
    let settings = &config.destination;
    match settings.kind {
        DestinationKind::Scim => {
            let token = deps.secrets.destination_token(&config.tenant).await?;
            let base_url = settings
                .base_url
                .clone()
                .ok_or_else(|| JobError::final_("destination.base_url is missing"))?;
            let mut scim = sync_scim::ScimSettings::new(config.tenant.to_string(), base_url, token);
            scim.concurrency = config.apply.concurrency;
            scim.attribute_paths = settings.attribute_paths.clone();
            Ok(Box::new(
                sync_scim::ScimDestination::new(scim).map_err(JobError::final_)?,
            ))
        }
        DestinationKind::Directory => {
            let path = settings
                .path
                .clone()
                .ok_or_else(|| JobError::final_("destination.path is missing"))?;
            Ok(Box::new(
                sync_local::DirectoryDestination::open(path).map_err(JobError::final_)?,
            ))
        }
    }
}

/// Runs one job.
#[tracing::instrument(skip_all, fields(tenant_id = %job.tenant))]
pub async fn run_job(
    deps: &WorkerDeps<'_>,
    job: &Job,
    now: DateTime<Utc>,
    deadline: Option<Instant>,
) -> Result<JobOutcome, JobError> {
    let Some(versioned) = deps
        .configs
        .config(&job.tenant)
        .await
        .map_err(JobError::transient)?
    else {
        tracing::warn!("job for a tenant without config dropped");
        return Ok(JobOutcome::UnknownTenant);
    };
    let config = versioned.config;
    if !config.enabled {
        tracing::info!("job for a disabled tenant dropped");
        return Ok(JobOutcome::Disabled);
    }
    let sources = sources(deps, &config).await?;
    let destination = destination(deps, &config).await?;
    let ports = Ports {
        sources: sources
            .iter()
            .map(|(account, client)| (account.clone(), client as &dyn Source))
            .collect(),
        destination: destination.as_ref(),
        store: deps.store,
        mailer: deps.mailer,
        progress: &NoProgress,
    };
    let target = match &job.target {
        JobTarget::Everyone => RunTarget::Everyone,
        JobTarget::Person { person } => RunTarget::Person(person.clone()),
    };
    let request = RunRequest {
        target,
        dry_run: job.dry_run,
        trigger: job.trigger.clone(),
        now,
        deadline,
        run_id: job.run_id.clone(),
    };
    match run::run(&ports, &config, request).await {
        Ok(outcome) if outcome.record.status == RunStatus::Partial => {
            // Everyone, whatever the job was: the snapshot knows what is done, the plan finds the rest.
            let continuation = Job {
                tenant: job.tenant.clone(),
                target: JobTarget::Everyone,
                trigger: job.trigger.clone(),
                dry_run: false,
                run_id: None,
            };
            let key = format!("continue:{}", outcome.record.id);
            deps.jobs
                .enqueue(&continuation, &key)
                .await
                .map_err(JobError::transient)?;
            tracing::info!(run_id = %outcome.record.id, "deadline reached; continuation queued");
            Ok(JobOutcome::Continued)
        }
        Ok(outcome) => Ok(JobOutcome::Ran(outcome.record.status)),
        Err(RunError::HeldRunPending { run_id }) => {
            tracing::info!(held_run = %run_id, "a held run waits for approval; job dropped");
            Ok(JobOutcome::WaitingForApproval)
        }
        Err(error) => Err(error.into()),
    }
}

/// A batch item failure for message `id` (the struct is non-exhaustive: built via `Default`).
fn failure(id: String) -> BatchItemFailure {
    let mut failure = BatchItemFailure::default();
    failure.item_identifier = id;
    failure
}

/// The Lambda handler: runs each message's job in order and reports the ones to retry.
///
/// After the first job to retry, the rest of the batch is handed back unprocessed: in a FIFO
/// queue a later message of the same tenant must not overtake the one that failed.
pub async fn handle(
    deps: &WorkerDeps<'_>,
    event: SqsEvent,
    deadline: Option<Instant>,
) -> SqsBatchResponse {
    let mut failures: Vec<BatchItemFailure> = Vec::new();
    for message in event.records {
        let id = message.message_id.clone().unwrap_or_default();
        if !failures.is_empty() {
            failures.push(failure(id));
            continue;
        }
        let job = match message.body.as_deref().map(sync_aws::parse_job) {
            Some(Ok(job)) => job,
            Some(Err(error)) => {
                // A message that does not parse never will: consume it (it is logged, and the DLQ
                // would only collect it).
                tracing::error!(message_id = %id, error = %error, "unreadable job dropped");
                continue;
            }
            None => continue,
        };
        match run_job(deps, &job, Utc::now(), deadline).await {
            Ok(outcome) => tracing::info!(message_id = %id, outcome = ?outcome, "job done"),
            Err(error) if error.retry => {
                tracing::warn!(message_id = %id, error = %error, "job failed; it will be retried");
                failures.push(failure(id));
            }
            Err(error) => {
                tracing::error!(message_id = %id, error = %error, "job failed; an admin must act")
            }
        }
    }
    let mut response = SqsBatchResponse::default();
    response.batch_item_failures = failures;
    response
}
