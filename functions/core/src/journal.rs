//! A run's journal: for every person and group a run changed, the link as it was before the run
//! and as the run left it. It is what [`crate::run::undo`] restores from: the field values,
//! active flag, manager and group members recorded before the run, whatever the run record's
//! change list leaves out (sensitive values, managers, memberships).
//!
//! It holds what the snapshot holds (the values we wrote), never more, and is kept beside the run
//! in the state store, not in the history the API and console serve.

use crate::ids::{PersonKey, RunId};
use crate::plan::{GroupAction, Plan};
use crate::state::{GroupKey, GroupLink, Link, Snapshot};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// One person's link before and after a run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PersonEntry {
    /// The person.
    pub key: PersonKey,
    /// Before the run; `None`: the run created (or adopted) their user.
    pub before: Option<Link>,
    /// After the run; `None`: the run deleted their user (retention).
    pub after: Option<Link>,
}

/// One group's link before and after a run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GroupEntry {
    /// The group.
    pub key: GroupKey,
    /// Before the run; `None`: the run created it.
    pub before: Option<GroupLink>,
    /// After the run.
    pub after: Option<GroupLink>,
}

/// What one run changed, as links before and after.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunJournal {
    /// The run.
    pub run: RunId,
    /// People whose link changed.
    pub people: Vec<PersonEntry>,
    /// Groups whose link changed.
    pub groups: Vec<GroupEntry>,
}

/// The links a plan may change, as they are before it is applied.
#[derive(Debug, Default)]
pub struct Before {
    people: BTreeMap<PersonKey, Option<Link>>,
    groups: BTreeMap<GroupKey, Option<GroupLink>>,
}

impl Before {
    /// Copies, from `snapshot`, the links of everyone and every group `plan` touches: only
    /// those, so that a run's cost stays with its changes.
    pub fn of(plan: &Plan, snapshot: &Snapshot) -> Self {
        let keys: BTreeSet<&PersonKey> = plan
            .actions
            .iter()
            .map(|action| &action.key)
            .chain(plan.managers.iter().map(|link| &link.key))
            .chain(plan.invites.iter())
            .collect();
        let people = keys
            .into_iter()
            .map(|key| (key.clone(), snapshot.links.get(key).cloned()))
            .collect();
        let groups = plan
            .groups
            .iter()
            .map(|action| match action {
                GroupAction::Create { key, .. } | GroupAction::Members { key, .. } => key,
            })
            .map(|key| (key.clone(), snapshot.groups.get(key).cloned()))
            .collect();
        Self { people, groups }
    }

    /// The journal of run `run`: what changed between these links and `after`.
    pub fn journal(self, run: &RunId, after: &Snapshot) -> RunJournal {
        let people = self
            .people
            .into_iter()
            .filter_map(|(key, before)| {
                let now = after.links.get(&key).cloned();
                (before != now).then_some(PersonEntry {
                    key,
                    before,
                    after: now,
                })
            })
            .collect();
        let groups = self
            .groups
            .into_iter()
            .filter_map(|(key, before)| {
                let now = after.groups.get(&key).cloned();
                (before != now).then_some(GroupEntry {
                    key,
                    before,
                    after: now,
                })
            })
            .collect();
        RunJournal {
            run: run.clone(),
            people,
            groups,
        }
    }
}

impl RunJournal {
    /// Whether the run changed nothing.
    pub fn is_empty(&self) -> bool {
        self.people.is_empty() && self.groups.is_empty()
    }
}
