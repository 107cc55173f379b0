//! Runs started through the tenant's queue (the admin API, the console in AWS): the run id is
//! chosen here and noted as queued, so that the run's page and `GET …/runs/{run}` answer
//! "queued" until the worker records it; the job goes into the tenant's FIFO group, so it never
//! overlaps another run of the tenant and is not bound to the request's time.

use super::held::{claim_for_approval, release_approval};
use super::RunError;
use crate::history::Trigger;
use crate::ids::{RunId, TenantId};
use crate::ports::{Job, JobTarget, Jobs, JobsError, Store, StoreError, TenantAdmin};
use chrono::{DateTime, Utc};

/// Why a run could not be queued.
#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    /// The tenant's state does not allow it (a held run waits, the run is no longer held).
    #[error(transparent)]
    Run(#[from] RunError),
    /// The store could not be read or written.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The queue refused the job.
    #[error(transparent)]
    Jobs(#[from] JobsError),
}

/// The ports a queued run goes through.
pub struct Queueing<'a> {
    /// Held runs and their claims.
    pub store: &'a dyn Store,
    /// Notes of queued runs.
    pub notes: &'a dyn TenantAdmin,
    /// The job queue.
    pub jobs: &'a dyn Jobs,
    /// How long a run that never starts (its job dropped) still reads as queued.
    pub queued_for: chrono::Duration,
}

impl Queueing<'_> {
    /// Queues a manual run (or dry run) of `target`; its id. A run that writes is refused while
    /// a held run waits for a decision (the worker would drop it): read from the held runs
    /// themselves, so no number of later runs hides one.
    pub async fn start(
        &self,
        tenant: &TenantId,
        target: JobTarget,
        dry_run: bool,
        now: DateTime<Utc>,
    ) -> Result<RunId, QueueError> {
        self.start_with(tenant, target, Trigger::Manual, dry_run, now)
            .await
    }

    /// Queues the undo of run `undone` (or its dry run); its id. Refused like a manual run while
    /// a held run waits.
    pub async fn undo(
        &self,
        tenant: &TenantId,
        undone: &RunId,
        only_unchanged: bool,
        dry_run: bool,
        now: DateTime<Utc>,
    ) -> Result<RunId, QueueError> {
        let trigger = Trigger::Undo {
            run: undone.clone(),
            only_unchanged,
        };
        self.start_with(tenant, JobTarget::Everyone, trigger, dry_run, now)
            .await
    }

    async fn start_with(
        &self,
        tenant: &TenantId,
        target: JobTarget,
        trigger: Trigger,
        dry_run: bool,
        now: DateTime<Utc>,
    ) -> Result<RunId, QueueError> {
        if !dry_run {
            if let Some(held) = self.store.held_runs(tenant).await?.into_iter().next() {
                return Err(RunError::HeldRunPending { run_id: held }.into());
            }
        }
        self.queue_new(tenant, target, trigger, dry_run, now).await
    }

    /// Queues a new run of `target` started by `trigger`, noted as queued; its id.
    async fn queue_new(
        &self,
        tenant: &TenantId,
        target: JobTarget,
        trigger: Trigger,
        dry_run: bool,
        now: DateTime<Utc>,
    ) -> Result<RunId, QueueError> {
        let run_id = RunId::new(now);
        let job = Job {
            tenant: tenant.clone(),
            target,
            trigger,
            dry_run,
            run_id: Some(run_id.clone()),
        };
        self.queue(&job, &run_id, now).await?;
        Ok(run_id)
    }

    /// Queues the tenant's first full sync; its id. Its queue key is the tenant's, so that the
    /// credentials stored twice within the queue's deduplication window queue it once.
    pub async fn first_sync(
        &self,
        tenant: &TenantId,
        now: DateTime<Utc>,
    ) -> Result<RunId, QueueError> {
        let run_id = RunId::new(now);
        let job = Job {
            tenant: tenant.clone(),
            target: JobTarget::Everyone,
            trigger: Trigger::FirstSync,
            dry_run: false,
            run_id: Some(run_id.clone()),
        };
        self.notes
            .mark_queued(tenant, &run_id, now + self.queued_for)
            .await?;
        self.jobs
            .enqueue(&job, &format!("first-sync:{tenant}"))
            .await?;
        Ok(run_id)
    }

    /// Queues the notice that the tenant's Personio access was revoked (recorded and emailed by
    /// the worker, see [`super::record_revocation`]); its id.
    pub async fn revocation(
        &self,
        tenant: &TenantId,
        now: DateTime<Utc>,
    ) -> Result<RunId, QueueError> {
        // Not refused while a held run waits: the notice writes nothing to the app.
        self.queue_new(tenant, JobTarget::Everyone, Trigger::Revocation, false, now)
            .await
    }

    /// Claims held run `held_run` for a new run and queues that run, which applies the held
    /// plan; the new run's id. The claim decides between concurrent approvals and rejections:
    /// one wins, the others get [`RunError::NotHeld`]. A job that could not be queued gives the
    /// claim back, so that the admin can approve again.
    pub async fn approve(
        &self,
        tenant: &TenantId,
        held_run: &RunId,
        now: DateTime<Utc>,
    ) -> Result<RunId, QueueError> {
        let run_id = RunId::new(now);
        claim_for_approval(self.store, tenant, held_run, &run_id).await?;
        let job = Job {
            tenant: tenant.clone(),
            target: JobTarget::Everyone,
            trigger: Trigger::Approval {
                held_run: held_run.clone(),
            },
            dry_run: false,
            run_id: Some(run_id.clone()),
        };
        if let Err(error) = self.queue(&job, &run_id, now).await {
            if let Err(release) = release_approval(self.store, tenant, held_run, &run_id).await {
                tracing::error!(error = %release, "could not give back the claim of an approval that was not queued");
            }
            return Err(error);
        }
        Ok(run_id)
    }

    /// Notes `run_id` as queued, then queues `job` (the run id is new, so the job never
    /// collapses with another).
    async fn queue(&self, job: &Job, run_id: &RunId, now: DateTime<Utc>) -> Result<(), QueueError> {
        self.notes
            .mark_queued(&job.tenant, run_id, now + self.queued_for)
            .await?;
        self.jobs.enqueue(job, &format!("admin:{run_id}")).await?;
        Ok(())
    }
}
