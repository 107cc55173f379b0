//! The scheduler Lambda's handler: every few minutes (EventBridge), queue a full run for each
//! tenant whose schedule is due, found through the schedule index rather than a table scan, and
//! move each tenant's next due time on.
//!
//! A tick works in three rounds so that 1,000 due tenants take seconds, not minutes: the due
//! tenants' configs are read [`CONFIG_READS`] at a time; every run to queue goes to the queue in
//! one [`Jobs::enqueue_batch`] (SQS `SendMessageBatch`, ten a call); then the schedule entries of
//! the tenants queued (and of the disabled and manual ones) move on, [`MOVES`] at a time. A
//! tenant whose read, queueing or move fails is counted in the [`ScheduleError`] and holds up no
//! other. Its entry moves only after its run is queued, so a failure leaves it due for the next
//! tick (never a lost run), and the run's dedupe key is its due time, so the next tick queues it
//! once even when this tick did queue it.

use chrono::{DateTime, Utc};
use futures::stream::{self, StreamExt};
use std::time::Instant;
use sync_core::history::Trigger;
use sync_core::ids::TenantId;
use sync_core::ports::{BatchJob, ConfigStore, DueTenant, Job, JobTarget, Jobs};
use sync_core::schedule::{next_due, runs_on_schedule};

/// Config reads (DynamoDB `GetItem`) in flight at once.
pub const CONFIG_READS: usize = 16;
/// Schedule moves in flight at once. Each is a read and a `TransactWriteItems`; fewer than the
/// reads, since transactions on one table conflict more (and moto, the tests' DynamoDB, answers
/// many concurrent ones with HTTP 500).
pub const MOVES: usize = 8;

/// A tick that could not queue every due tenant; EventBridge retries the invocation, and the
/// queue's deduplication keeps tenants already queued from running twice.
#[derive(Debug, thiserror::Error)]
#[error("{failed} of {due} due tenants could not be queued: {first}")]
pub struct ScheduleError {
    /// Tenants due.
    pub due: usize,
    /// Tenants not queued.
    pub failed: usize,
    /// The first error.
    pub first: String,
}

/// The queue's dedupe key of a tenant's scheduled run: one per tenant and due time, not per tick,
/// so a tick retried after it queued, or two ticks that overlap, queue the run once (within the
/// queue's 5-minute window); the next due time gives the next run a key of its own.
pub fn dedupe_key(entry: &DueTenant) -> String {
    format!(
        "schedule:{}:{}",
        entry.tenant,
        entry.due_at.format("%Y-%m-%dT%H:%M:%SZ")
    )
}

/// What a tick does with one due tenant, from its config.
enum Decision {
    /// No config: nothing (it is logged).
    Skip,
    /// Disabled or manual: queue nothing, but move the entry on, so the tenant is not due on every
    /// tick.
    Move(DateTime<Utc>),
    /// Queue a full run, then move the entry to this time.
    Queue(DateTime<Utc>),
}

async fn decide(
    configs: &dyn ConfigStore,
    tenant: &TenantId,
    now: DateTime<Utc>,
) -> Result<Decision, String> {
    let Some(versioned) = configs
        .config(tenant)
        .await
        .map_err(|error| error.to_string())?
    else {
        tracing::warn!(tenant_id = %tenant, "due tenant has no config; skipped");
        return Ok(Decision::Skip);
    };
    let next = next_due(&versioned.config, now);
    Ok(if runs_on_schedule(&versioned.config) {
        Decision::Queue(next)
    } else {
        Decision::Move(next)
    })
}

/// The scheduled full run of `tenant`.
fn scheduled_run(tenant: &TenantId) -> Job {
    Job {
        tenant: tenant.clone(),
        target: JobTarget::Everyone,
        trigger: Trigger::Schedule,
        dry_run: false,
        run_id: None,
    }
}

/// The tenants that failed, each with its error, in the order they failed.
#[derive(Default)]
struct Failures(Vec<String>);

impl Failures {
    fn add(&mut self, tenant: &TenantId, what: &str, error: String) {
        tracing::error!(tenant_id = %tenant, error = %error, "{what}");
        self.0.push(format!("tenant {tenant}: {error}"));
    }
}

/// Queues the due tenants at `now`; returns the tenants queued.
#[tracing::instrument(skip_all)]
pub async fn handle(
    configs: &dyn ConfigStore,
    jobs: &dyn Jobs,
    now: DateTime<Utc>,
) -> Result<Vec<TenantId>, ScheduleError> {
    let started = Instant::now();
    let due = configs.due(now).await.map_err(|error| ScheduleError {
        due: 0,
        failed: 0,
        first: error.to_string(),
    })?;
    let mut failures = Failures::default();

    // 1. Every due tenant's config, read concurrently; `buffered` keeps the index's order.
    let reads: Vec<_> = due
        .iter()
        .map(|entry| decide(configs, &entry.tenant, now))
        .collect();
    let decisions: Vec<Result<Decision, String>> =
        stream::iter(reads).buffered(CONFIG_READS).collect().await;
    let read = started.elapsed();

    let mut to_queue: Vec<(&DueTenant, DateTime<Utc>)> = Vec::new();
    // (tenant, next due, whether its run was queued)
    let mut to_move: Vec<(&TenantId, DateTime<Utc>, bool)> = Vec::new();
    for (entry, decision) in due.iter().zip(decisions) {
        match decision {
            Ok(Decision::Skip) => {}
            Ok(Decision::Move(next)) => to_move.push((&entry.tenant, next, false)),
            Ok(Decision::Queue(next)) => to_queue.push((entry, next)),
            Err(error) => failures.add(&entry.tenant, "could not read the tenant's config", error),
        }
    }

    // 2. Every run in one batch; a run the queue refused fails its tenant only.
    let batch: Vec<BatchJob> = to_queue
        .iter()
        .map(|(entry, _)| BatchJob {
            job: scheduled_run(&entry.tenant),
            dedupe_key: dedupe_key(entry),
        })
        .collect();
    let mut outcomes = jobs.enqueue_batch(&batch).await.into_iter();
    for (entry, next) in &to_queue {
        match outcomes.next() {
            Some(Ok(())) => to_move.push((&entry.tenant, *next, true)),
            Some(Err(error)) => failures.add(
                &entry.tenant,
                "could not queue the tenant's run",
                error.to_string(),
            ),
            None => failures.add(
                &entry.tenant,
                "could not queue the tenant's run",
                "the queue reported no outcome for the run; it is queued again next tick".into(),
            ),
        }
    }
    let queueing = started.elapsed();

    // 3. Only now move the entries on: a run that was not queued stays due.
    let moves: Vec<_> = to_move
        .iter()
        .map(|(tenant, next, queued)| async move {
            (*tenant, *queued, configs.set_next_due(tenant, *next).await)
        })
        .collect();
    let moved: Vec<_> = stream::iter(moves).buffered(MOVES).collect().await;
    let mut queued = Vec::new();
    for (tenant, was_queued, result) in moved {
        match result {
            Ok(()) if was_queued => queued.push(tenant.clone()),
            Ok(()) => {}
            Err(error) => failures.add(
                tenant,
                "could not move the tenant's next due time",
                error.to_string(),
            ),
        }
    }

    tracing::info!(
        due = due.len(),
        queued = queued.len(),
        failed = failures.0.len(),
        read_ms = read.as_millis(),
        queue_ms = (queueing - read).as_millis(),
        move_ms = (started.elapsed() - queueing).as_millis(),
        "schedule tick"
    );
    match failures.0.first() {
        None => Ok(queued),
        Some(first) => Err(ScheduleError {
            due: due.len(),
            failed: failures.0.len(),
            first: first.clone(),
        }),
    }
}
