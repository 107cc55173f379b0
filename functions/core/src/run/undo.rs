//! Undo: a new run (trigger `undo`) that puts back what an earlier run changed, from that run's
//! journal (`crate::journal`). It is planned like any run: a dry run shows it, the guards hold an
//! undo that would deactivate many, and each action says "undo of run X".
//!
//! For each person the run changed:
//! - a user it **created** is deactivated (never deleted); one it **adopted** existed before and
//!   is left as it is (its fields before the adoption are unknown);
//! - a user it **changed** gets back the field values, active flag and manager recorded before
//!   the run; one it deactivated is reactivated unless Personio says the person has left;
//! - a user it **deleted** (retention) cannot come back, and is reported as such.
//!
//! Groups it changed get back their members. A person a later run changed since is named with
//! those runs; with `only_unchanged` they are left as they are, otherwise they too go back to
//! before the undone run.

use super::recording::names_of;
use super::{begin, fetch, finish, stop_before_apply, within, OnRefusal, Ports, RunOutcome};
use super::{RunError, RunRequest, RunTarget};
use crate::config::TenantConfig;
use crate::guard::{self, GuardInput};
use crate::ids::{PersonKey, RunId};
use crate::journal::RunJournal;
use crate::lifecycle::{self, Desired};
use crate::plan::{Action, ActionKind, GroupAction, ManagerLink, Plan, Skip};
use crate::state::{Link, LinkOrigin, LinkState, Snapshot};
use std::collections::{BTreeMap, BTreeSet};

/// How many later runs' journals are read to name who changed a person since.
const LATER_RUNS_READ: usize = 50;

/// What the undo planner needs; all of it read before, so that the planning is pure.
pub struct UndoInput<'a> {
    /// The journal of the run undone.
    pub journal: &'a RunJournal,
    /// What we last wrote.
    pub snapshot: &'a Snapshot,
    /// People Personio says have left (or no longer lists).
    pub left: &'a BTreeSet<PersonKey>,
    /// People later runs changed since, with those runs.
    pub later: &'a BTreeMap<PersonKey, Vec<RunId>>,
    /// Leave people a later run changed as they are.
    pub only_unchanged: bool,
}

/// Whether two links describe the same user as the app has it (the write-back value and other
/// bookkeeping aside).
fn same_user(a: Option<&Link>, b: Option<&Link>) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some(a), Some(b)) => {
            a.destination_id == b.destination_id
                && a.state == b.state
                && a.record == b.record
                && a.manager == b.manager
        }
        _ => false,
    }
}

/// The plan that puts back what the journal's run changed. Pure.
pub fn plan_undo(input: &UndoInput<'_>) -> Plan {
    let run = &input.journal.run;
    let mut plan = Plan::default();
    let skip = |plan: &mut Plan, key: &PersonKey, reason: String| {
        plan.skips.push(Skip {
            key: key.clone(),
            reason,
        });
    };
    for entry in &input.journal.people {
        let key = &entry.key;
        let current = input.snapshot.links.get(key);
        let later = input
            .later
            .get(key)
            .filter(|_| !same_user(current, entry.after.as_ref()));
        let since = later.map(|runs| {
            runs.iter()
                .map(RunId::as_str)
                .collect::<Vec<_>>()
                .join(", ")
        });
        if let (Some(since), true) = (&since, input.only_unchanged) {
            skip(
                &mut plan,
                key,
                format!("changed since by run {since}; left as it is (undo of run {run}, only what is still as it left it)"),
            );
            continue;
        }
        let reason = |what: &str| match &since {
            Some(since) => format!("undo of run {run}: {what} (also undoes run {since})"),
            None => format!("undo of run {run}: {what}"),
        };
        let Some(current) = current else {
            let why = match entry.after {
                None => format!("run {run} deleted this user; a deleted user cannot be restored"),
                Some(_) => format!("the user run {run} left is gone since; nothing to restore"),
            };
            skip(&mut plan, key, why);
            continue;
        };
        let Some(before) = &entry.before else {
            let adopted = entry
                .after
                .as_ref()
                .is_some_and(|after| after.origin == Some(LinkOrigin::Adopted));
            if adopted {
                skip(
                    &mut plan,
                    key,
                    format!("adopted by run {run}: the user existed before and is left as it is"),
                );
            } else if current.state != LinkState::Inactive {
                plan.actions.push(Action {
                    key: key.clone(),
                    kind: ActionKind::Deactivate {
                        destination_id: current.destination_id.clone(),
                        changes: Vec::new(),
                        to: LinkState::Inactive,
                    },
                    reason: reason("created by it; deactivated, not deleted"),
                });
            }
            continue;
        };
        if before.destination_id != current.destination_id {
            skip(
                &mut plan,
                key,
                format!("linked to another user since run {run}; left as it is"),
            );
            continue;
        }
        let changes = current.record.diff(&before.record, &BTreeSet::new());
        let destination_id = current.destination_id.clone();
        let kind = match (before.state, current.state) {
            (was, now) if was == now => (!changes.is_empty()).then_some(ActionKind::Update {
                destination_id,
                changes,
                to: now,
            }),
            (LinkState::Active, now) if input.left.contains(key) => (!changes.is_empty())
                .then_some(ActionKind::Update {
                    destination_id,
                    changes,
                    to: now,
                }),
            (LinkState::Active, from) => Some(ActionKind::Activate {
                destination_id,
                changes,
                from,
            }),
            (to, LinkState::Active) => Some(ActionKind::Deactivate {
                destination_id,
                changes,
                to,
            }),
            (to, _) => Some(ActionKind::Update {
                destination_id,
                changes,
                to,
            }),
        };
        let what = if before.state == LinkState::Active
            && current.state != LinkState::Active
            && input.left.contains(key)
        {
            "fields as before; stays inactive, since Personio says they have left"
        } else {
            "back to how it was before"
        };
        if let Some(kind) = kind {
            plan.actions.push(Action {
                key: key.clone(),
                kind,
                reason: reason(what),
            });
        }
        if before.manager != current.manager {
            plan.managers.push(ManagerLink {
                key: key.clone(),
                manager: before.manager.clone(),
            });
        }
    }
    for entry in &input.journal.groups {
        let Some(current) = input.snapshot.groups.get(&entry.key) else {
            continue;
        };
        let wanted = entry
            .before
            .as_ref()
            .map(|before| before.members.clone())
            .unwrap_or_default();
        let changed_since = entry.after.as_ref() != Some(current);
        if changed_since && input.only_unchanged {
            continue;
        }
        let add: BTreeSet<PersonKey> = wanted.difference(&current.members).cloned().collect();
        let remove: BTreeSet<PersonKey> = current.members.difference(&wanted).cloned().collect();
        if !add.is_empty() || !remove.is_empty() {
            plan.groups.push(GroupAction::Members {
                key: entry.key.clone(),
                destination_id: current.destination_id.clone(),
                add,
                remove,
            });
        }
    }
    // The apply order of every plan: changes first, deactivations last.
    plan.actions.sort_by(|a, b| {
        let last = |action: &Action| matches!(action.kind, ActionKind::Deactivate { .. });
        (last(a), &a.key).cmp(&(last(b), &b.key))
    });
    plan
}

/// Which runs finished after `undone` and changed each of `keys`, from their journals. By the
/// time they finished, not by id: ids sort by the moment a run says it started, which a replayed
/// or same-millisecond run shares.
async fn later_changes(
    ports: &Ports<'_>,
    config: &TenantConfig,
    undone: &crate::history::RunRecord,
    keys: &BTreeSet<&PersonKey>,
) -> Result<BTreeMap<PersonKey, Vec<RunId>>, RunError> {
    let mut later: BTreeMap<PersonKey, Vec<RunId>> = BTreeMap::new();
    let runs = ports.store.runs(&config.tenant, LATER_RUNS_READ).await?;
    // A run still running (this very undo) has not changed anything yet.
    let after = |run: &crate::history::RunRecord| matches!((run.finished_at, undone.finished_at), (Some(finished), Some(then)) if finished > then);
    for run in runs.iter().filter(|run| run.id != undone.id && after(run)) {
        let Some(journal) = ports.store.journal(&config.tenant, &run.id).await? else {
            continue;
        };
        for entry in journal
            .people
            .iter()
            .filter(|entry| keys.contains(&entry.key))
        {
            later
                .entry(entry.key.clone())
                .or_default()
                .push(run.id.clone());
        }
    }
    Ok(later)
}

/// Undoes run `undone` as the run `request` describes (its trigger is `undo`).
#[tracing::instrument(skip_all, fields(tenant_id = %config.tenant, run_id))]
pub async fn undo(
    ports: &Ports<'_>,
    config: &TenantConfig,
    undone: &RunId,
    only_unchanged: bool,
    request: RunRequest,
) -> Result<RunOutcome, RunError> {
    let tenant = &config.tenant;
    let Some(undone_record) = ports.store.run(tenant, undone).await? else {
        return Err(RunError::UnknownRun {
            run_id: undone.clone(),
        });
    };
    let Some(journal) = ports.store.journal(tenant, undone).await? else {
        return Err(RunError::NothingToUndo {
            run_id: undone.clone(),
        });
    };
    let mut record = begin(ports, config, &request).await?;
    let snapshot = ports.store.snapshot(tenant).await?;
    // Who has left, as Personio says now: one full read.
    let fetched = within(
        request.deadline,
        "reading Personio",
        fetch::fetch(
            ports,
            config,
            &RunTarget::Everyone,
            crate::history::Reading::Everyone,
            request.now,
        ),
    );
    let intake = match fetched.await {
        Ok(intake) => intake,
        Err(error) => {
            let names = BTreeMap::new();
            return Err(super::fail(ports, config, record, error, &names, OnRefusal::Report).await);
        }
    };
    record.fetched = intake.people.len();
    let keys: BTreeSet<&PersonKey> = journal.people.iter().map(|entry| &entry.key).collect();
    let employed: BTreeSet<&PersonKey> = intake
        .people
        .iter()
        .filter(|person| {
            let zone = config.timezone_for(person.employee.office());
            let today = lifecycle::today_in(zone, request.now);
            let desired =
                lifecycle::desired(&person.employee, today, config.lifecycle.pre_hire_days);
            !matches!(desired, Desired::Gone(_))
        })
        .map(|person| person.key())
        .collect();
    let left: BTreeSet<PersonKey> = keys
        .iter()
        .filter(|key| !employed.contains(*key) && !intake.protected.contains(**key))
        .map(|key| (*key).clone())
        .collect();
    let later = later_changes(ports, config, &undone_record, &keys).await?;
    let plan = plan_undo(&UndoInput {
        journal: &journal,
        snapshot: &snapshot,
        left: &left,
        later: &later,
        only_unchanged,
    });
    let names = names_of(&intake, &snapshot);
    // Only the deactivation guards: Personio's answer is not what this run applies.
    let held_because = guard::check(&GuardInput {
        plan: &plan,
        snapshot: &snapshot,
        source: &intake.stats,
        used_attributes: &intake.used_attributes,
        complete: false,
        config: &config.guard,
    });
    tracing::info!(
        undone = %undone,
        actions = plan.actions.len(),
        held = !held_because.is_empty(),
        "undo planned"
    );
    if request.dry_run || !held_because.is_empty() {
        let stats = intake.stats.clone();
        return stop_before_apply(ports, config, record, plan, held_because, stats, &names).await;
    }
    finish(
        ports,
        config,
        record,
        &plan,
        snapshot,
        None,
        &names,
        OnRefusal::Report,
        (request.now, request.deadline),
    )
    .await
    .map(|record| RunOutcome { record, plan })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::{AccountId, DestinationId, PersonioId};
    use crate::journal::PersonEntry;
    use crate::record::{FieldValue, UserRecord};

    fn key(id: u64) -> PersonKey {
        PersonKey::new(AccountId::default(), PersonioId::new(id))
    }

    fn link(id: u64, state: LinkState, title: &str, origin: LinkOrigin) -> Link {
        let mut record = UserRecord::new();
        record.set("title".to_owned(), FieldValue::Text(title.to_owned()));
        Link {
            key: key(id),
            destination_id: DestinationId::parse(&format!("u{id}")).unwrap(),
            state,
            record,
            manager: None,
            invited_on: None,
            origin: Some(origin),
            inactive_since: None,
            relinked_from: None,
            rehire_declined: Default::default(),
            written_back: None,
        }
    }

    #[test]
    fn created_users_are_deactivated_adopted_ones_kept_and_leavers_stay_inactive() {
        use LinkOrigin::{Adopted, Created};
        use LinkState::{Active, Inactive};
        let entries = vec![
            // Created by the run.
            (1, None, Some(link(1, Active, "New", Created))),
            // Adopted by the run.
            (2, None, Some(link(2, Active, "Old", Adopted))),
            // Deactivated by the run; Personio says they left.
            (
                3,
                Some(link(3, Active, "Dev", Created)),
                Some(link(3, Inactive, "Dev, left", Created)),
            ),
            // Deactivated by the run by mistake; still employed.
            (
                4,
                Some(link(4, Active, "Dev", Created)),
                Some(link(4, Inactive, "Dev", Created)),
            ),
        ];
        let mut snapshot = Snapshot::default();
        let mut people = Vec::new();
        for (id, before, after) in entries {
            if let Some(after) = &after {
                snapshot.links.insert(key(id), after.clone());
            }
            people.push(PersonEntry {
                key: key(id),
                before,
                after,
            });
        }
        let journal = RunJournal {
            run: RunId::parse("20261123T120000.000Z-abcdef").unwrap(),
            people,
            groups: Vec::new(),
        };
        let left = BTreeSet::from([key(3)]);
        let plan = plan_undo(&UndoInput {
            journal: &journal,
            snapshot: &snapshot,
            left: &left,
            later: &BTreeMap::new(),
            only_unchanged: false,
        });
        let kinds: Vec<(u64, &'static str)> = plan
            .actions
            .iter()
            .map(|action| (action.key.id.get(), action.name()))
            .collect();
        // 3 gets its title back and stays inactive; 4 is activated; 1 is deactivated (last).
        assert_eq!(
            kinds,
            vec![(3, "update"), (4, "activate"), (1, "deactivate")]
        );
        assert!(matches!(
            &plan.actions[0].kind,
            ActionKind::Update { to: Inactive, changes, .. } if changes.len() == 1
        ));
        assert_eq!(plan.skips.len(), 1);
        assert_eq!(plan.skips[0].key, key(2));
    }
}
