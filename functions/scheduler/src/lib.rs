//! The scheduler Lambda's handler: every few minutes (EventBridge), queue a full run for each
//! tenant whose schedule is due, found through the schedule index rather than a table scan, and
//! move each tenant's next due time on.

use chrono::{DateTime, Utc};
use sync_core::history::Trigger;
use sync_core::ids::TenantId;
use sync_core::ports::{ConfigStore, DueTenant, Job, JobTarget, Jobs};
use sync_core::schedule::next_due;

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

/// Queues the due tenants at `now`; returns the tenants queued.
#[tracing::instrument(skip_all)]
pub async fn handle(
    configs: &dyn ConfigStore,
    jobs: &dyn Jobs,
    now: DateTime<Utc>,
) -> Result<Vec<TenantId>, ScheduleError> {
    let due = configs.due(now).await.map_err(|error| ScheduleError {
        due: 0,
        failed: 0,
        first: error.to_string(),
    })?;
    let mut queued = Vec::new();
    let mut errors = Vec::new();
    for entry in &due {
        let tenant = &entry.tenant;
        let result = async {
            let Some(versioned) = configs.config(tenant).await.map_err(|e| e.to_string())? else {
                tracing::warn!(tenant_id = %tenant, "due tenant has no config; skipped");
                return Ok(false);
            };
            if !sync_core::schedule::runs_on_schedule(&versioned.config) {
                // Disabled or manual: keep the index moving, so the tenant is not due on every
                // tick, and queue nothing.
                configs
                    .set_next_due(tenant, next_due(&versioned.config, now))
                    .await
                    .map_err(|e| e.to_string())?;
                return Ok(false);
            }
            let job = Job {
                tenant: tenant.clone(),
                target: JobTarget::Everyone,
                trigger: Trigger::Schedule,
                dry_run: false,
                run_id: None,
            };
            let key = dedupe_key(entry);
            jobs.enqueue(&job, &key).await.map_err(|e| e.to_string())?;
            configs
                .set_next_due(tenant, next_due(&versioned.config, now))
                .await
                .map_err(|e| e.to_string())?;
            Ok::<_, String>(true)
        }
        .await;
        match result {
            Ok(true) => queued.push(tenant.clone()),
            Ok(false) => {}
            Err(error) => {
                tracing::error!(tenant_id = %tenant, error = %error, "could not queue the tenant's run");
                errors.push(error);
            }
        }
    }
    tracing::info!(due = due.len(), queued = queued.len(), "schedule tick");
    match errors.first() {
        None => Ok(queued),
        Some(first) => Err(ScheduleError {
            due: due.len(),
            failed: errors.len(),
            first: first.clone(),
        }),
    }
}
