//! Person actions: create, adopt, update, activate, deactivate — with bounded concurrency.

use super::{Applied, ApplyContext, ApplyError};
use crate::ids::DestinationId;
use crate::plan::{Action, ActionKind};
use crate::ports::{DestinationError, NewUser};
use crate::record::{FieldChange, UserRecord};
use crate::state::{Link, LinkState, Snapshot};
use futures::stream::{self, StreamExt};
use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};

/// Runs `actions` with at most `apply.concurrency` in flight. Each success saves its link before
/// the next result is looked at; the first error that stops the run (a rejected token, a link
/// that cannot be saved) keeps any further action from starting, and is returned after the
/// in-flight writes settle.
pub(super) async fn apply_actions(
    ctx: &ApplyContext<'_>,
    actions: &[&Action],
    snapshot: &mut Snapshot,
    applied: &mut Applied,
) -> Result<(), ApplyError> {
    let links = &snapshot.links;
    // Set by the first run-stopping error, so queued actions are not even tried. Only the actions
    // already in flight may still write; each of them still tries to save what it did.
    let stopped = AtomicBool::new(false);
    let stopped = &stopped;
    let results: Vec<_> = stream::iter(actions.iter().map(|action| {
        let previous = links.get(&action.key).cloned();
        async move {
            if stopped.load(Ordering::Relaxed) || ctx.past_deadline() {
                return Ok::<_, (&Action, ApplyError)>((*action, None));
            }
            let Some(result) = ctx.bounded(execute(ctx, action, previous)).await else {
                // Abandoned past the deadline: deferred to the continuation.
                return Ok((*action, None));
            };
            match &result {
                Ok(link) => {
                    if let Err(error) = ctx.store.save_link(ctx.tenant, link).await {
                        // The app changed and the state cannot remember it: every further write
                        // would be one more change the next run does not know about. The run's
                        // record still lists this one, since it was made.
                        stopped.store(true, Ordering::Relaxed);
                        return Err((*action, ApplyError::Store(error)));
                    }
                }
                Err(error) if error.stops_run() => stopped.store(true, Ordering::Relaxed),
                Err(_) => {}
            }
            ctx.progress.advance(1);
            Ok((*action, Some(result)))
        }
    }))
    .buffer_unordered(ctx.config.apply.concurrency.max(1))
    .collect()
    .await;

    let mut stop = None;
    for result in results {
        match result {
            Err((action, error)) => {
                record_success(ctx, action, applied);
                stop = stop.or(Some(error));
            }
            Ok((_, None)) => applied.deferred += 1,
            Ok((action, Some(Ok(link)))) => {
                record_success(ctx, action, applied);
                snapshot.links.insert(link.key.clone(), link);
            }
            Ok((_, Some(Err(error)))) if error.stops_run() => {
                stop = stop.or(Some(ApplyError::Destination(error)));
            }
            Ok((action, Some(Err(error)))) => {
                applied.error(Some(&action.key), action.name(), &error)
            }
        }
    }
    stop.map_or(Ok(()), Err)
}

fn record_success(ctx: &ApplyContext<'_>, action: &Action, applied: &mut Applied) {
    let counts = &mut applied.counts;
    let no_changes: &[FieldChange] = &[];
    let changes = match &action.kind {
        ActionKind::Create { .. } => {
            counts.created += 1;
            no_changes
        }
        ActionKind::Adopt { .. } => {
            counts.adopted += 1;
            no_changes
        }
        ActionKind::Update { changes, .. } => {
            counts.updated += 1;
            changes
        }
        ActionKind::Activate { changes, from, .. } => {
            if *from == LinkState::PreHire {
                counts.activated += 1;
            } else {
                counts.reactivated += 1;
            }
            changes
        }
        ActionKind::Deactivate { changes, .. } => {
            counts.deactivated += 1;
            changes
        }
    };
    applied.change(ctx, &action.key, action.name(), &action.reason, changes);
}

/// Performs one action; returns the link to remember.
async fn execute(
    ctx: &ApplyContext<'_>,
    action: &Action,
    previous: Option<Link>,
) -> Result<Link, DestinationError> {
    let destination = ctx.destination;
    let key = action.key.clone();
    let link = |destination_id: DestinationId, state: LinkState, record: UserRecord| Link {
        key: key.clone(),
        destination_id,
        state,
        record,
        manager: previous.as_ref().and_then(|link| link.manager.clone()),
        invited_on: previous.as_ref().and_then(|link| link.invited_on),
    };
    let record_after = |changes: &[FieldChange]| {
        let mut record = previous
            .as_ref()
            .map(|link| link.record.clone())
            .unwrap_or_default();
        record.apply(changes);
        record
    };
    match &action.kind {
        ActionKind::Create { record, state } => {
            let user = NewUser {
                external_id: key.external_id(),
                record: record.clone(),
                active: state.is_active(),
            };
            let id = destination.create(&user).await?;
            Ok(link(id, *state, record.clone()))
        }
        ActionKind::Adopt {
            destination_id,
            record,
            state,
        } => {
            destination
                .adopt(destination_id, &key.external_id())
                .await?;
            let everything = UserRecord::new().diff(record, &BTreeSet::new());
            destination.update(destination_id, &everything).await?;
            destination
                .set_active(destination_id, state.is_active())
                .await?;
            Ok(link(destination_id.clone(), *state, record.clone()))
        }
        ActionKind::Update {
            destination_id,
            changes,
            to,
        } => {
            if !changes.is_empty() {
                destination.update(destination_id, changes).await?;
            }
            Ok(link(destination_id.clone(), *to, record_after(changes)))
        }
        ActionKind::Activate {
            destination_id,
            changes,
            ..
        } => {
            if !changes.is_empty() {
                destination.update(destination_id, changes).await?;
            }
            destination.set_active(destination_id, true).await?;
            Ok(link(
                destination_id.clone(),
                LinkState::Active,
                record_after(changes),
            ))
        }
        ActionKind::Deactivate {
            destination_id,
            changes,
            to,
        } => {
            // Access goes first: if the field update then fails, the person is at least locked out.
            destination.set_active(destination_id, false).await?;
            if !changes.is_empty() {
                destination.update(destination_id, changes).await?;
            }
            Ok(link(destination_id.clone(), *to, record_after(changes)))
        }
    }
}
