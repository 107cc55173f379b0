//! Person actions: create, adopt, update, activate, deactivate — with bounded concurrency.

use super::{Applied, ApplyContext, ApplyError};
use crate::ids::{DestinationId, PersonKey};
use crate::plan::{Action, ActionKind};
use crate::ports::{DestinationError, NewUser};
use crate::record::{FieldChange, UserRecord};
use crate::state::{Link, LinkOrigin, LinkState, Snapshot};
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
                Ok(written) => {
                    if let Err(error) = written.save(ctx).await {
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
            Ok((action, Some(Ok(written)))) => {
                record_success(ctx, action, applied);
                written.into_snapshot(snapshot);
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
        ActionKind::Delete { .. } => {
            counts.deleted += 1;
            no_changes
        }
    };
    applied.change(ctx, &action.key, action.name(), &action.reason, changes);
}

/// What an action leaves for the snapshot.
enum Written {
    /// The link to remember.
    Link(Link),
    /// The user was deleted: the person's link goes.
    Deleted(PersonKey),
}

impl Written {
    /// Saves it in the store.
    async fn save(&self, ctx: &ApplyContext<'_>) -> Result<(), crate::ports::StoreError> {
        match self {
            Self::Link(link) => ctx.store.save_link(ctx.tenant, link).await,
            Self::Deleted(key) => ctx.store.remove_link(ctx.tenant, key).await,
        }
    }

    /// Puts it in the snapshot.
    fn into_snapshot(self, snapshot: &mut Snapshot) {
        match self {
            Self::Link(link) => {
                snapshot.links.insert(link.key.clone(), link);
            }
            Self::Deleted(key) => {
                snapshot.links.remove(&key);
            }
        }
    }
}

/// Performs one action; returns what the snapshot keeps of it.
async fn execute(
    ctx: &ApplyContext<'_>,
    action: &Action,
    previous: Option<Link>,
) -> Result<Written, DestinationError> {
    let destination = ctx.destination;
    let key = action.key.clone();
    let origin = match (&action.kind, previous.as_ref()) {
        (ActionKind::Create { .. }, _) => Some(LinkOrigin::Created),
        // A re-linked rehire keeps how the departed profile's user began.
        (ActionKind::Adopt { .. }, Some(link)) if link.relinked_from.is_some() => link.origin,
        (ActionKind::Adopt { .. }, _) => Some(LinkOrigin::Adopted),
        (_, previous) => previous.and_then(|link| link.origin),
    };
    let link = |destination_id: DestinationId, state: LinkState, record: UserRecord| {
        Written::Link(Link {
            key: key.clone(),
            destination_id,
            state,
            record,
            manager: previous.as_ref().and_then(|link| link.manager.clone()),
            invited_on: previous.as_ref().and_then(|link| link.invited_on),
            origin,
            inactive_since: inactive_since(previous.as_ref(), state, ctx.today),
            // An adoption wrote our external id and every field: the re-link is done.
            relinked_from: match &action.kind {
                ActionKind::Adopt { .. } => None,
                _ => previous
                    .as_ref()
                    .and_then(|link| link.relinked_from.clone()),
            },
            rehire_declined: previous
                .as_ref()
                .map(|link| link.rehire_declined.clone())
                .unwrap_or_default(),
            written_back: previous.as_ref().and_then(|link| link.written_back.clone()),
        })
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
        ActionKind::Delete { destination_id } => {
            destination.delete_user(destination_id).await?;
            Ok(Written::Deleted(key))
        }
    }
}

/// The day a link's user became inactive: kept while it stays inactive, `today` when it becomes
/// so now, none while active or about to start.
fn inactive_since(
    previous: Option<&Link>,
    state: LinkState,
    today: chrono::NaiveDate,
) -> Option<chrono::NaiveDate> {
    if state != LinkState::Inactive {
        return None;
    }
    match previous {
        Some(link) if link.state == LinkState::Inactive => link.inactive_since.or(Some(today)),
        _ => Some(today),
    }
}
