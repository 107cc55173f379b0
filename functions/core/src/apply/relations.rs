//! Manager links, groups and welcome emails: applied once every user exists.

use super::{Applied, ApplyContext, ApplyError};
use crate::email::Email;
use crate::history::RecordError;
use crate::ids::{DestinationId, PersonKey};
use crate::plan::{GroupAction, ManagerLink};
use crate::ports::DestinationError;
use crate::record::{UserRecord, EMAIL};
use crate::state::{GroupLink, Snapshot};
use futures::stream::{self, StreamExt};
use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};

fn unresolved(key: &PersonKey, action: &str, message: String) -> RecordError {
    RecordError {
        name: None,
        person: Some(key.clone()),
        action: action.to_owned(),
        message,
        hint: "its user could not be created this run; the next run retries".to_owned(),
    }
}

/// Sets or clears managers, now that everyone created this run exists. As with person actions,
/// the first error that stops the run keeps any further manager write from starting.
pub(super) async fn apply_managers(
    ctx: &ApplyContext<'_>,
    managers: &[ManagerLink],
    snapshot: &mut Snapshot,
    applied: &mut Applied,
) -> Result<(), ApplyError> {
    let links = &snapshot.links;
    // Set by the first run-stopping error; only the writes already in flight may still finish.
    let stopped = AtomicBool::new(false);
    let stopped = &stopped;
    let results: Vec<_> = stream::iter(managers.iter().map(|wanted| async move {
        ctx.progress.advance(1);
        if stopped.load(Ordering::Relaxed) || ctx.past_deadline() {
            return Ok(Err(None));
        }
        let Some(link) = links.get(&wanted.key) else {
            return Ok(Err(Some(unresolved(
                &wanted.key,
                "manager",
                "the person has no user".to_owned(),
            ))));
        };
        let manager_id = match &wanted.manager {
            None => None,
            Some(manager) => match links.get(manager) {
                Some(manager_link) => Some(manager_link.destination_id.clone()),
                None => {
                    return Ok(Err(Some(unresolved(
                        &wanted.key,
                        "manager",
                        format!("supervisor {manager} has no user in the app yet"),
                    ))))
                }
            },
        };
        let written = ctx.bounded(
            ctx.destination
                .set_manager(&link.destination_id, manager_id.as_ref()),
        );
        let Some(written) = written.await else {
            // Abandoned past the deadline: deferred to the continuation.
            return Ok(Err(None));
        };
        match written {
            Ok(()) => {
                let mut link = link.clone();
                link.manager = wanted.manager.clone();
                if let Err(error) = ctx.store.save_link(ctx.tenant, &link).await {
                    // The app changed and the state cannot remember it: write nothing more.
                    stopped.store(true, Ordering::Relaxed);
                    return Err(ApplyError::Store(error));
                }
                Ok(Ok(link))
            }
            Err(error) if error.stops_run() => {
                stopped.store(true, Ordering::Relaxed);
                Err(ApplyError::Destination(error))
            }
            Err(error) => Ok(Err(Some(RecordError {
                name: None,
                person: Some(wanted.key.clone()),
                action: "manager".to_owned(),
                message: error.to_string(),
                hint: "the next run retries".to_owned(),
            }))),
        }
    }))
    .buffer_unordered(ctx.config.apply.concurrency.max(1))
    .collect()
    .await;
    let joined: BTreeSet<PersonKey> = applied
        .changes
        .iter()
        .filter(|item| matches!(item.action.as_str(), "create" | "adopt"))
        .map(|item| item.person.clone())
        .collect();
    let mut stop = None;
    for result in results {
        match result {
            Ok(Ok(link)) => {
                applied.counts.managers += 1;
                // A user created this run gets its manager as part of joining: listing that
                // again would double the change list of a first sync.
                if !joined.contains(&link.key) {
                    let reason = match &link.manager {
                        Some(manager) => format!("manager set to {manager}"),
                        None => "manager cleared".to_owned(),
                    };
                    applied.change(ctx, &link.key, "manager", &reason, &[]);
                }
                snapshot.links.insert(link.key.clone(), link);
            }
            Ok(Err(Some(error))) => applied.errors.push(error),
            Ok(Err(None)) => applied.deferred += 1,
            Err(error) => stop = stop.or(Some(error)),
        }
    }
    stop.map_or(Ok(()), Err)
}

/// Destination ids of the members that have a user; the rest are left for the next run.
fn resolve(
    snapshot: &Snapshot,
    members: &BTreeSet<PersonKey>,
) -> (Vec<DestinationId>, BTreeSet<PersonKey>) {
    let mut ids = Vec::new();
    let mut resolved = BTreeSet::new();
    for member in members {
        if let Some(link) = snapshot.links.get(member) {
            ids.push(link.destination_id.clone());
            resolved.insert(member.clone());
        }
    }
    (ids, resolved)
}

/// Creates groups and moves members. Groups are few, so this runs one at a time.
pub(super) async fn apply_groups(
    ctx: &ApplyContext<'_>,
    groups: &[GroupAction],
    snapshot: &mut Snapshot,
    applied: &mut Applied,
) -> Result<(), ApplyError> {
    for action in groups {
        ctx.progress.advance(1);
        if ctx.past_deadline() {
            applied.deferred += 1;
            continue;
        }
        let result: Result<GroupLink, DestinationError> = match action {
            GroupAction::Create { key, members } => {
                let (ids, resolved) = resolve(snapshot, members);
                ctx.destination
                    .create_group(&key.display_name(), &key.external_id(), &ids)
                    .await
                    .map(|destination_id| GroupLink {
                        key: key.clone(),
                        destination_id,
                        members: resolved,
                    })
            }
            GroupAction::Members {
                key,
                destination_id,
                add,
                remove,
            } => {
                let Some(existing) = snapshot.groups.get(key).cloned() else {
                    continue;
                };
                let (add_ids, added) = resolve(snapshot, add);
                let (remove_ids, removed) = resolve(snapshot, remove);
                ctx.destination
                    .update_group(destination_id, &add_ids, &remove_ids)
                    .await
                    .map(|()| {
                        let mut members = existing.members;
                        members.extend(added);
                        members.retain(|member| !removed.contains(member));
                        GroupLink {
                            members,
                            ..existing
                        }
                    })
            }
        };
        match result {
            Ok(group) => {
                ctx.store.save_group(ctx.tenant, &group).await?;
                applied.counts.groups += 1;
                snapshot.groups.insert(group.key.clone(), group);
            }
            Err(error) if error.stops_run() => return Err(ApplyError::Destination(error)),
            Err(error) => applied.errors.push(RecordError {
                name: None,
                person: None,
                action: "group".to_owned(),
                message: format!("group `{}`: {error}", group_name(action)),
                hint: "the next run retries".to_owned(),
            }),
        }
    }
    Ok(())
}

fn group_name(action: &GroupAction) -> std::borrow::Cow<'_, str> {
    match action {
        GroupAction::Create { key, .. } | GroupAction::Members { key, .. } => key.display_name(),
    }
}

/// Fills `{field}` placeholders with the person's mapped fields; unknown ones stay as written.
pub fn render_template(template: &str, record: &UserRecord) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(start) = rest.find('{') {
        out.push_str(&rest[..start]);
        let after = &rest[start + 1..];
        match after.find('}') {
            Some(end)
                if after[..end]
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_') =>
            {
                let field = &after[..end];
                match record.text(field) {
                    Some(value) => out.push_str(&value),
                    None => out.push_str(&rest[start..start + end + 2]),
                }
                rest = &after[end + 1..];
            }
            _ => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// Sends welcome emails to joiners whose user now exists, once each.
pub(super) async fn send_invites(
    ctx: &ApplyContext<'_>,
    invites: &[PersonKey],
    snapshot: &mut Snapshot,
    applied: &mut Applied,
) -> Result<(), ApplyError> {
    let invite = &ctx.config.invite;
    for key in invites {
        ctx.progress.advance(1);
        if ctx.past_deadline() {
            applied.deferred += 1;
            continue;
        }
        let Some(mut link) = snapshot.links.get(key).cloned() else {
            continue;
        };
        if link.invited_on.is_some() {
            continue;
        }
        let (Some(mailer), Some(from), Some(to)) = (
            ctx.mailer,
            ctx.config.email.from.as_ref(),
            link.record.text(EMAIL),
        ) else {
            continue;
        };
        let email = Email {
            from: from.clone(),
            to: vec![to],
            subject: render_template(&invite.subject, &link.record),
            text: render_template(&invite.body, &link.record),
            html: format!(
                "<pre>{}</pre>",
                crate::report::escape_html(&render_template(&invite.body, &link.record))
            ),
            attachments: Vec::new(),
        };
        match mailer.send(&email).await {
            Ok(()) => {
                link.invited_on = Some(ctx.today);
                ctx.store.save_link(ctx.tenant, &link).await?;
                applied.counts.invited += 1;
                applied.change(ctx, key, "invite", "welcome email sent", &[]);
                snapshot.links.insert(key.clone(), link);
            }
            Err(error) => applied.errors.push(RecordError {
                name: None,
                person: Some(key.clone()),
                action: "invite".to_owned(),
                message: error.to_string(),
                hint: "the next run sends it again".to_owned(),
            }),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::FieldValue;

    #[test]
    fn templates_fill_known_fields_and_keep_unknown_ones() {
        let mut record = UserRecord::new();
        record.set("given_name", FieldValue::Text("Ada".into()));
        assert_eq!(
            render_template("Hi {given_name} {nope} {", &record),
            "Hi Ada {nope} {"
        );
    }
}
