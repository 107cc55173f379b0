//! The worker Lambda's handler: one SQS message is one job (a full or one-person run of one tenant).
//!
//! The queue is FIFO with one message group per tenant, so a tenant's runs never overlap while
//! tenants run in parallel. A message whose job failed for a reason that may pass (Personio or the
//! state store unavailable) is reported as a batch item failure and comes back; one that cannot
//! succeed until an admin acts (bad credentials, a held run) is consumed, with the reason in the
//! run history and the admins' email. A refused credential is first read again past the secrets
//! cache and the run tried once more, since a warm worker may hold a copy from before a rotation.
//! A run that nears the Lambda's time limit stops starting
//! writes and queues its continuation, which re-plans from the snapshot it advanced.
//!
//! A full run a webhook queued first clears the tenant's "full run pending" mark (see the webhook
//! crate), before it reads anything, so a webhook event from then on queues one more run instead
//! of being folded into this one after it has read Personio.

use aws_lambda_events::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent};
use chrono::{DateTime, Utc};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use sync_adapters::{BuildError, Factory};
use sync_core::config::TenantConfig;
use sync_core::console_site::ConsoleAddress;
use sync_core::history::{RunStatus, Trigger};
use sync_core::ids::RunId;
use sync_core::pictures::PictureStore;
use sync_core::ports::{
    ConfigStore, EventLog, Job, JobTarget, Jobs, JobsError, LocalDestinations, Mailer, RunLinks,
    Secrets, SourceError, Store, StoreError,
};
use sync_core::progress::{self, LiveProgress, ProgressLog};
use sync_core::run::{self, OnRefusal, Ports, RunError, RunRequest, RunTarget};

/// Writes stop this long before the Lambda's time limit, leaving time to record the run, email
/// the summary and queue the continuation.
pub const SAFETY_MARGIN: Duration = Duration::from_secs(60);

/// The Lambda's deadline (milliseconds since the epoch, as the runtime gives it) as an `Instant`
/// `margin` earlier; `None` when the clock is before 1970.
pub fn deadline(deadline_ms: u64, margin: Duration) -> Option<Instant> {
    let now_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .ok()?
        .as_millis() as u64;
    let left = Duration::from_millis(deadline_ms.saturating_sub(now_ms));
    Some(Instant::now() + left.saturating_sub(margin))
}

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
    /// The webhook's event log, whose "full run pending" mark a starting full run clears.
    pub events: &'a dyn EventLog,
    /// Local directory destinations: `None` in Lambda (a tenant with one is refused), a folder in
    /// tests that keep the app's users in files.
    pub local: Option<&'a dyn LocalDestinations>,
    /// Where a running run's live progress goes (the console and the admin API read it).
    pub progress: &'a dyn ProgressLog,
    /// The admins' console, whose links summary emails carry; `None`: emails without links.
    pub console: Option<&'a ConsoleAddress>,
    /// Where profile pictures are hosted (the stack's bucket, served by the console); `None`:
    /// runs send Personio's picture address as it is.
    pub pictures: Option<&'a dyn PictureStore>,
}

/// How often a running run's progress is written, at most.
pub const PROGRESS_EVERY: Duration = Duration::from_secs(1);

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
    /// The tenant is disabled; the job was dropped (an approval's claim is given back).
    Disabled,
    /// An approval job whose held run is no longer held by it (applied by an earlier delivery,
    /// or rejected): dropped.
    NotHeld,
}

/// A job that failed, with its cause; [`JobError::is_retryable`] says whether the message comes
/// back. Messages hold no secrets or personal data.
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    /// The tenant's config could not be read.
    #[error("could not read the tenant config: {0}")]
    Config(#[source] StoreError),
    /// The tenant's pending full run could not be marked as started.
    #[error("could not clear the tenant's pending full run before starting it (the job is retried): {0}")]
    Pending(#[source] StoreError),
    /// The tenant's adapters could not be built (secrets, settings).
    #[error(transparent)]
    Adapters(#[from] BuildError),
    /// The run stopped.
    #[error(transparent)]
    Run(#[from] RunError),
    /// The run reached the deadline and its continuation could not be queued.
    #[error("could not queue the continuation of the run: {0}")]
    Continuation(#[source] JobsError),
}

impl JobError {
    /// Whether the cached secrets may be the cause: a credential refused, missing, unusable or
    /// entered for another address may have been stored anew since they were read.
    fn mends_with_fresh_secrets(&self) -> bool {
        match self {
            Self::Run(error) => error.is_refused_credentials(),
            Self::Adapters(error) => !error.is_transient(),
            _ => false,
        }
    }

    /// Whether trying again later may succeed (the message is then redelivered): Personio, the
    /// destination, the store or the queue unavailable. Not: bad credentials or settings, a held
    /// run, anything an admin must fix first.
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Config(_) | Self::Pending(_) | Self::Continuation(_) => true,
            Self::Adapters(error) => error.is_transient(),
            Self::Run(error) => match error {
                RunError::Source(
                    SourceError::Unavailable { .. }
                    | SourceError::Transport { .. }
                    | SourceError::Inconsistent { .. },
                ) => true,
                RunError::Source(_) => false,
                RunError::Destination(error) => !error.stops_run(),
                // The store and the picture bucket alike: S3 or DynamoDB unavailable.
                RunError::Store(_) | RunError::Pictures(_) => true,
                RunError::HeldRunPending { .. }
                | RunError::NotHeld { .. }
                | RunError::UnknownRun { .. }
                | RunError::NothingToUndo { .. }
                | RunError::UnknownAccount { .. }
                // Recorded and emailed; a redelivery would run out of time the same way.
                | RunError::OutOfTime { .. } => false,
            },
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
    if job.target == JobTarget::Everyone && matches!(job.trigger, Trigger::Webhook { .. }) {
        // Before anything is read: every event from here on is after this run's read of
        // Personio, so it must queue a run of its own. Clearing early costs at most an extra run;
        // clearing late would lose a change until the next schedule.
        deps.events
            .clear_full_run_pending(&job.tenant)
            .await
            .map_err(JobError::Pending)?;
    }
    let Some(versioned) = deps
        .configs
        .config(&job.tenant)
        .await
        .map_err(JobError::Config)?
    else {
        tracing::warn!("job for a tenant without config dropped");
        return Ok(JobOutcome::UnknownTenant);
    };
    let config = versioned.config;
    if job.trigger == Trigger::Revocation {
        // The notice of a revocation, which also disabled the tenant: recorded and emailed
        // whatever the tenant's state now.
        let request = RunRequest {
            target: RunTarget::Everyone,
            dry_run: false,
            trigger: Trigger::Revocation,
            now,
            deadline,
            run_id: job.run_id.clone(),
        };
        let record = run::record_revocation(deps.store, deps.mailer, &config, &request)
            .await
            .map_err(|error| JobError::Run(error.into()))?;
        return Ok(JobOutcome::Ran(record.status));
    }
    if !config.enabled {
        if let (Trigger::Approval { held_run }, Some(approving)) = (&job.trigger, &job.run_id) {
            // Approvable again once the tenant is enabled.
            run::release_approval(deps.store, &job.tenant, held_run, approving).await?;
        }
        tracing::info!("job for a disabled tenant dropped");
        return Ok(JobOutcome::Disabled);
    }
    // Chosen here so that a second attempt records under the same run: one record per job.
    let run_id = job.run_id.clone().unwrap_or_else(|| RunId::new(now));
    let attempt = Attempt {
        deps,
        job,
        config: &config,
        run_id: &run_id,
        now,
        deadline,
    };
    match attempt.run(OnRefusal::RecordSilently).await {
        Err(error) if error.mends_with_fresh_secrets() => {
            // A warm worker reads secrets through a cache (minutes): after a credential was
            // rotated or entered again the cached copy is refused (or missing, or for another
            // address) while the stored one works. Read them again and run once more; if that
            // fails too, it is recorded and emailed.
            tracing::info!(error = %error, "credentials refused or unusable; reading the tenant's secrets again and running once more");
            deps.secrets.forget(&job.tenant).await;
            attempt.run(OnRefusal::Report).await
        }
        outcome => outcome,
    }
}

/// One run of a job: the tenant's adapters built from its secrets, the run, and its continuation.
struct Attempt<'a> {
    deps: &'a WorkerDeps<'a>,
    job: &'a Job,
    config: &'a TenantConfig,
    run_id: &'a RunId,
    now: DateTime<Utc>,
    deadline: Option<Instant>,
}

impl Attempt<'_> {
    fn request(&self) -> RunRequest {
        RunRequest {
            target: RunTarget::from(&self.job.target),
            dry_run: self.job.dry_run,
            trigger: self.job.trigger.clone(),
            now: self.now,
            deadline: self.deadline,
            run_id: Some(self.run_id.clone()),
        }
    }

    async fn run(&self, on_refusal: OnRefusal) -> Result<JobOutcome, JobError> {
        let deps = self.deps;
        let factory = Factory {
            local: deps.local,
            ..Factory::new(deps.secrets)
        };
        let live = LiveProgress::new(self.run_id.clone());
        let adapters = match factory.adapters(self.config).await {
            Ok(mut adapters) => {
                adapters.sources = std::mem::take(&mut adapters.sources)
                    .into_iter()
                    .map(|(account, client)| (account, client.with_progress(live.fetch_callback())))
                    .collect();
                adapters
            }
            Err(error) if !error.is_transient() && on_refusal == OnRefusal::Report => {
                // Nothing a retry mends (a credential missing or entered for another address, a
                // destination unusable): the history and the admins say what to fix.
                let request = self.request();
                run::record_unstartable(
                    deps.store,
                    deps.mailer,
                    self.config,
                    &request,
                    error.to_string(),
                )
                .await
                .map_err(|store| JobError::Run(store.into()))?;
                return Err(error.into());
            }
            Err(error) => return Err(error.into()),
        };
        let site = match deps.console {
            Some(console) => console
                .site()
                .await
                .inspect_err(|error| {
                    tracing::warn!(error = %error, "the console's keys could not be read; the summary goes out without a link");
                })
                .ok(),
            None => None,
        };
        let ports = Ports {
            sources: adapters.sources(),
            destination: adapters.destination.as_ref(),
            store: deps.store,
            mailer: deps.mailer,
            progress: &live,
            links: site.as_ref().map(|site| site as &dyn RunLinks),
            pictures: deps.pictures,
        };
        let tenant = &self.config.tenant;
        progress::reporting(
            &live,
            deps.progress,
            tenant,
            PROGRESS_EVERY,
            self.run_ports(&ports, on_refusal),
        )
        .await
    }

    /// The run (or the approval's apply) through `ports`, and its continuation.
    async fn run_ports(
        &self,
        ports: &Ports<'_>,
        on_refusal: OnRefusal,
    ) -> Result<JobOutcome, JobError> {
        let (deps, job) = (self.deps, self.job);
        if let Trigger::Approval { held_run } = &job.trigger {
            return match run::apply_approved(
                ports,
                self.config,
                held_run,
                self.run_id.clone(),
                self.now,
            )
            .await
            {
                Ok(outcome) => Ok(JobOutcome::Ran(outcome.record.status)),
                Err(RunError::NotHeld { .. }) => {
                    tracing::info!(held_run = %held_run, "the held run is no longer held by this approval; job dropped");
                    Ok(JobOutcome::NotHeld)
                }
                Err(error) => Err(error.into()),
            };
        }
        let ran = match &job.trigger {
            Trigger::Undo {
                run: undone,
                only_unchanged,
            } => run::undo(ports, self.config, undone, *only_unchanged, self.request()).await,
            _ => run::run_with(ports, self.config, self.request(), on_refusal).await,
        };
        match ran {
            Ok(outcome) if outcome.record.status == RunStatus::Partial => {
                // Everyone, whatever the job was: the snapshot knows what is done, the plan finds
                // the rest.
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
                    .map_err(JobError::Continuation)?;
                tracing::info!(run_id = %outcome.record.id, "deadline reached; continuation queued");
                Ok(JobOutcome::Continued)
            }
            Ok(outcome) if outcome.record.status == RunStatus::Failed => {
                // Stopped at the deadline and not continued (no progress, or too many in a row):
                // recorded and emailed; the log line feeds the operators' job-failure alarm.
                tracing::error!(run_id = %outcome.record.id, "job failed; an admin must act: the run was not continued");
                Ok(JobOutcome::Ran(RunStatus::Failed))
            }
            Ok(outcome) => Ok(JobOutcome::Ran(outcome.record.status)),
            Err(RunError::HeldRunPending { run_id }) => {
                tracing::info!(held_run = %run_id, "a held run waits for approval; job dropped");
                Ok(JobOutcome::WaitingForApproval)
            }
            Err(error) => Err(error.into()),
        }
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
            Err(error) if error.is_retryable() => {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn in_ms(from_now: Duration) -> u64 {
        (SystemTime::now() + from_now)
            .duration_since(UNIX_EPOCH)
            .expect("after 1970")
            .as_millis() as u64
    }

    #[test]
    fn the_deadline_keeps_the_safety_margin_before_the_lambda_limit() {
        let limit = deadline(in_ms(Duration::from_secs(900)), SAFETY_MARGIN).expect("deadline");
        let left = limit.saturating_duration_since(Instant::now());
        assert!(left <= Duration::from_secs(840), "{left:?}");
        assert!(left >= Duration::from_secs(830), "{left:?}");
    }

    #[test]
    fn a_limit_closer_than_the_margin_means_no_time_for_writes() {
        let limit = deadline(in_ms(Duration::from_secs(30)), SAFETY_MARGIN).expect("deadline");
        assert!(limit <= Instant::now());
        let past = deadline(0, SAFETY_MARGIN).expect("deadline");
        assert!(past <= Instant::now());
    }
}
