//! What a run stopped mid-way leaves behind, put right by the tenant's next run: a summary that
//! was never sent, and a `running` record that no one will finish.
//!
//! A Lambda can be killed or time out anywhere. Its job comes back (SQS redelivers it) as a new
//! run, which first looks at the tenant's latest records. Runs of one tenant do not overlap (one
//! FIFO message group), so a record still `running` long after it started is one whose run died.

use super::notify::notify_recorded;
use super::Ports;
use crate::config::TenantConfig;
use crate::history::{RunRecord, RunStatus};
use crate::ids::RunId;
use crate::ports::StoreError;
use crate::report;
use chrono::{DateTime, TimeDelta, Utc};

/// A `running` record older than this belongs to a run that died: twice Lambda's 15-minute
/// limit, so that no run still going is ever taken for dead (a long CLI run on one machine that
/// overlaps another is the only exception, and would only be reported early).
pub const STALE_AFTER: TimeDelta = TimeDelta::minutes(30);

/// How many of the latest records are looked at. A stopped run's job comes back at once (SQS
/// redelivers it), so the stopped run is the newest record or close to it; few, because a local
/// state folder reads whole records (a first sync's lists included).
const LOOK_BACK: usize = 5;

/// What the history and the summary say about a run that died mid-way.
pub const INTERRUPTED: &str = "This run stopped before it finished (the function running it was \
     stopped or ran out of time). Changes it made before stopping are in the app and remembered; \
     the next run did what it had left to do.";

/// Sends the summaries the latest runs left unsent, and closes their stale `running` records as
/// failed (with a summary saying so). `current` is the run doing it, never touched.
pub(super) async fn recover(
    ports: &Ports<'_>,
    config: &TenantConfig,
    current: &RunId,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let tenant = &config.tenant;
    for header in ports.store.runs(tenant, LOOK_BACK).await? {
        if header.id == *current || !needs_recovery(&header, now) {
            continue;
        }
        // Headers may lack the change list the summary names people from.
        let Some(mut record) = ports.store.run(tenant, &header.id).await? else {
            continue;
        };
        if is_stale(&record, now) {
            tracing::warn!(stopped_run = %record.id, "closing the record of a run that stopped mid-way");
            record.status = RunStatus::Failed;
            record.failure = Some(INTERRUPTED.to_owned());
            record.finished_at = Some(now);
            record.summary_pending = report::should_send(config, &record);
            ports.store.save_run(tenant, &record).await?;
        }
        if record.summary_pending {
            tracing::info!(stopped_run = %record.id, "sending the summary a stopped run did not send");
            let names = report::stored_names(&record);
            notify_recorded(&ports.outbox(), config, &mut record, &names).await;
        }
    }
    Ok(())
}

fn needs_recovery(record: &RunRecord, now: DateTime<Utc>) -> bool {
    record.summary_pending || is_stale(record, now)
}

fn is_stale(record: &RunRecord, now: DateTime<Utc>) -> bool {
    record.status == RunStatus::Running && now - record.started_at > STALE_AFTER
}
