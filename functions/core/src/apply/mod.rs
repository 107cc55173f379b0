//! Apply: runs a [`Plan`] through the ports, in order — creates, adoptions, updates and
//! activations; then manager links (everyone exists by then); then deactivations; then groups and
//! welcome emails.
//!
//! One bad record never fails the run: it becomes a [`RecordError`]. Only a rejected destination
//! token or a state store that cannot be written stops it, because going on would write to an app
//! we cannot authenticate to, or make changes we could not remember. Once either happens no
//! further write starts; the writes already in flight (up to `apply.concurrency - 1`) finish and
//! are saved if the store still takes them. The snapshot advances after each successful action,
//! so a crash or timeout loses nothing and a rerun repeats nothing.

mod people;
mod relations;

use crate::config::TenantConfig;
use crate::history::{ChangeItem, Counts, RecordError};
use crate::ids::{PersonKey, TenantId};
use crate::plan::Plan;
use crate::ports::{Destination, DestinationError, Mailer, Store, StoreError};
use crate::progress::Progress;
use crate::record::FieldChange;
use crate::state::Snapshot;
use chrono::NaiveDate;
use std::collections::{BTreeMap, BTreeSet};

/// Why applying stopped before the end.
#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    /// The destination refused our credentials.
    #[error(transparent)]
    Destination(#[from] DestinationError),
    /// The snapshot could not be saved.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What applying needs.
pub struct ApplyContext<'a> {
    /// The tenant.
    pub tenant: &'a TenantId,
    /// Its settings.
    pub config: &'a TenantConfig,
    /// Where users go.
    pub destination: &'a dyn Destination,
    /// Where the snapshot goes.
    pub store: &'a dyn Store,
    /// Sends welcome emails (none: invitations are not sent).
    pub mailer: Option<&'a dyn Mailer>,
    /// The tenant's today, recorded with invitations.
    pub today: NaiveDate,
    /// Display names for the change list.
    pub names: &'a BTreeMap<PersonKey, String>,
    /// Fields whose values never reach the change list.
    pub sensitive: &'a BTreeSet<String>,
    /// Progress reporting.
    pub progress: &'a dyn Progress,
    /// Start no new write after this moment (a Lambda nearing its time limit); what is left is
    /// counted as deferred and done by the next run, which re-plans from the advanced snapshot.
    pub deadline: Option<std::time::Instant>,
}

/// How long a write already in flight at the deadline may go on (a slow answer, the client's
/// retries): it is abandoned after that and counted as deferred. Below the worker's 60 s safety
/// margin, so the run is still recorded, emailed and continued before the Lambda's limit. An
/// abandoned write may have landed; the next run finds the user by its externalId.
pub const IN_FLIGHT_GRACE: std::time::Duration = std::time::Duration::from_secs(30);

impl ApplyContext<'_> {
    /// Whether the deadline has passed.
    pub fn past_deadline(&self) -> bool {
        self.deadline
            .is_some_and(|deadline| std::time::Instant::now() >= deadline)
    }

    /// Runs the write `work` until [`IN_FLIGHT_GRACE`] past the deadline; `None` when it was
    /// abandoned there.
    pub async fn bounded<T>(&self, work: impl std::future::Future<Output = T>) -> Option<T> {
        bounded(self.deadline, work).await
    }
}

/// [`ApplyContext::bounded`] for `deadline`.
async fn bounded<T>(
    deadline: Option<std::time::Instant>,
    work: impl std::future::Future<Output = T>,
) -> Option<T> {
    match deadline {
        None => Some(work.await),
        Some(deadline) => tokio::time::timeout_at((deadline + IN_FLIGHT_GRACE).into(), work)
            .await
            .ok(),
    }
}

#[cfg(test)]
mod bounded_tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test(start_paused = true)]
    async fn a_write_still_in_flight_past_the_grace_is_abandoned_and_one_within_it_finishes() {
        // Deadlines on tokio's (paused) clock, as the run's are on the real one.
        let now = || tokio::time::Instant::now().into_std();
        let deadline = now();
        let hung = bounded(Some(deadline), std::future::pending::<()>()).await;
        assert_eq!(hung, None);
        assert!(
            tokio::time::Instant::now()
                >= tokio::time::Instant::from_std(deadline + IN_FLIGHT_GRACE)
        );
        let slow = async {
            tokio::time::sleep(IN_FLIGHT_GRACE - Duration::from_secs(1)).await;
            7
        };
        assert_eq!(bounded(Some(now()), slow).await, Some(7));
        assert_eq!(bounded(None, async { 8 }).await, Some(8));
    }
}

/// What was applied.
#[derive(Debug, Default)]
pub struct Applied {
    /// Counts of successful actions.
    pub counts: Counts,
    /// Itemised successful changes.
    pub changes: Vec<ChangeItem>,
    /// Per-record errors.
    pub errors: Vec<RecordError>,
    /// Actions not started because the deadline passed.
    pub deferred: usize,
}

impl Applied {
    fn error(&mut self, person: Option<&PersonKey>, action: &str, error: &DestinationError) {
        let hint = match error {
            DestinationError::Conflict { .. } => "the app has another user with this user name; link or rename it there",
            DestinationError::Rejected { .. } => "correct the value in Personio or the mapping; the app's message says which",
            DestinationError::NotFound { .. } => "the user was removed in the app; it is re-linked when it is restored, or remove the link",
            DestinationError::Unavailable { .. } | DestinationError::Transport { .. } => "the app was unavailable; the next run retries",
            DestinationError::Unauthorized { .. } => "update the destination token",
        };
        self.errors.push(RecordError {
            name: None,
            person: person.cloned(),
            action: action.to_owned(),
            message: error.to_string(),
            hint: hint.to_owned(),
        });
    }

    fn change(
        &mut self,
        ctx: &ApplyContext<'_>,
        key: &PersonKey,
        action: &str,
        reason: &str,
        changes: &[FieldChange],
    ) {
        let item = crate::report::change_item(
            key,
            ctx.names.get(key),
            action,
            reason,
            changes,
            ctx.sensitive,
        );
        self.changes.push(item);
    }
}

/// Applies `plan`, advancing `snapshot` (and the store) one successful action at a time. What was
/// done is added to `applied` as it is done, so a run stopped part-way still has it to record.
pub async fn apply(
    ctx: &ApplyContext<'_>,
    plan: &Plan,
    snapshot: &mut Snapshot,
    applied: &mut Applied,
) -> Result<(), ApplyError> {
    let total = plan.actions.len() + plan.managers.len() + plan.groups.len() + plan.invites.len();
    ctx.progress.start("apply", total);
    let (deactivations, first): (Vec<_>, Vec<_>) = plan
        .actions
        .iter()
        .partition(|action| action.name() == "deactivate");
    people::apply_actions(ctx, &first, snapshot, applied).await?;
    relations::apply_managers(ctx, &plan.managers, snapshot, applied).await?;
    people::apply_actions(ctx, &deactivations, snapshot, applied).await?;
    relations::apply_groups(ctx, &plan.groups, snapshot, applied).await?;
    relations::send_invites(ctx, &plan.invites, snapshot, applied).await?;
    ctx.progress.finish();
    applied.counts.errors = applied.errors.len();
    Ok(())
}
