//! The plan: what a run will do, decided by a pure function of the mapped source, the snapshot,
//! adoption candidates, the tenant's config and today's date. Same inputs, same plan.

use crate::history::RecordError;
use crate::ids::{DestinationId, PersonKey};
use crate::record::{FieldChange, UserRecord};
use crate::state::{GroupKey, LinkState};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// One change to one person's destination user. Leavers are deactivated; only retention
/// (`lifecycle.delete_after_days`, off by default) deletes, long after.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ActionKind {
    /// Create a user (active, or inactive ahead of the hire date).
    Create {
        /// Fields to write.
        record: UserRecord,
        /// `Active` or `PreHire` (or `Inactive` when the tenant syncs every status).
        state: LinkState,
    },
    /// Link an existing destination user that matches on first sync, and write our fields to it.
    Adopt {
        /// The existing user.
        destination_id: DestinationId,
        /// Fields to write.
        record: UserRecord,
        /// The state to put it in.
        state: LinkState,
    },
    /// Write changed fields; `active` stays as it is.
    Update {
        /// The user.
        destination_id: DestinationId,
        /// The changes.
        changes: Vec<FieldChange>,
        /// The state afterwards: unchanged, or `Inactive` ↔ `PreHire` (both inactive).
        to: LinkState,
    },
    /// Set `active: true` (hire date reached, rehired, back in scope), with field changes.
    Activate {
        /// The user.
        destination_id: DestinationId,
        /// Field changes written with it.
        changes: Vec<FieldChange>,
        /// The state we leave: `PreHire` (hire date reached) or `Inactive` (rehire).
        from: LinkState,
    },
    /// Set `active: false`, with field changes (a termination date, say).
    Deactivate {
        /// The user.
        destination_id: DestinationId,
        /// Field changes written with it.
        changes: Vec<FieldChange>,
        /// `Inactive`, or `PreHire` when a hire date moved into the future.
        to: LinkState,
    },
    /// Delete the (inactive) user: a leaver's retention is over. The link goes with it.
    Delete {
        /// The user.
        destination_id: DestinationId,
    },
}

/// One planned change with its human reason.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Action {
    /// The person.
    pub key: PersonKey,
    /// What to do.
    pub kind: ActionKind,
    /// Why, for the summary ("left on 2026-11-20", "title, department changed").
    pub reason: String,
}

impl Action {
    /// Short name of the action kind: `create`, `adopt`, `update`, `activate`, `deactivate`,
    /// `delete`.
    pub fn name(&self) -> &'static str {
        match self.kind {
            ActionKind::Create { .. } => "create",
            ActionKind::Adopt { .. } => "adopt",
            ActionKind::Update { .. } => "update",
            ActionKind::Activate { .. } => "activate",
            ActionKind::Deactivate { .. } => "deactivate",
            ActionKind::Delete { .. } => "delete",
        }
    }
}

/// Set (or clear) a person's manager, once everyone exists.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManagerLink {
    /// The person.
    pub key: PersonKey,
    /// Their manager, or `None` to clear it.
    pub manager: Option<PersonKey>,
}

/// Create a group or change its members.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum GroupAction {
    /// A department (team, office) seen for the first time.
    Create {
        /// Which group.
        key: GroupKey,
        /// Its members.
        members: BTreeSet<PersonKey>,
    },
    /// Members joined or left.
    Members {
        /// Which group.
        key: GroupKey,
        /// The destination's id for it.
        destination_id: DestinationId,
        /// People to add.
        add: BTreeSet<PersonKey>,
        /// People to remove.
        remove: BTreeSet<PersonKey>,
    },
}

/// A person the plan leaves alone on purpose.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Skip {
    /// The person.
    pub key: PersonKey,
    /// Why ("hire date 2027-01-04 is more than 7 days away").
    pub reason: String,
}

/// Everything one run will do, in apply order: `actions` (creates, adoptions, updates and
/// activations first, deactivations last), then `managers`, then `groups`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    /// Person actions.
    pub actions: Vec<Action>,
    /// Manager links, applied after every create.
    pub managers: Vec<ManagerLink>,
    /// Group changes.
    pub groups: Vec<GroupAction>,
    /// People to send a welcome email (invite policy).
    pub invites: Vec<PersonKey>,
    /// People left alone, with the reason.
    pub skips: Vec<Skip>,
    /// Records that cannot be synced (bad mapping, duplicate email).
    pub errors: Vec<RecordError>,
    /// How many people were in scope.
    pub in_scope: usize,
}

impl Plan {
    /// Number of actions of a kind (`"create"`, …).
    pub fn count(&self, name: &str) -> usize {
        self.actions.iter().filter(|a| a.name() == name).count()
    }
    /// Whether applying it would write anything.
    pub fn is_empty(&self) -> bool {
        self.actions.is_empty()
            && self.managers.is_empty()
            && self.groups.is_empty()
            && self.invites.is_empty()
    }
}

mod person;
mod relations;
pub mod retention;
#[cfg(test)]
mod tests;

pub use crate::people::Person;
pub use relations::group_values;

use crate::config::TenantConfig;
use crate::ids::PersonKey as Key;
use crate::ports::DestinationUser;
use crate::state::Snapshot;
use chrono::{DateTime, Utc};
use std::collections::BTreeMap;

/// Everything the plan is decided from.
pub struct PlanInput<'a> {
    /// The tenant's settings.
    pub config: &'a TenantConfig,
    /// Mapped and scoped people from Personio. Their records are moved into the plan.
    pub people: &'a mut [Person],
    /// People Personio could not be read for: left exactly as they are.
    pub protected: &'a BTreeSet<Key>,
    /// `true` for a full run: linked people missing from `people` have left Personio.
    pub complete: bool,
    /// People Personio says are gone (a one-person run for a deleted person).
    pub gone: &'a BTreeSet<Key>,
    /// What we last wrote.
    pub snapshot: &'a Snapshot,
    /// Unlinked destination users by lower-cased userName and email, for adoption.
    pub candidates: &'a BTreeMap<String, DestinationUser>,
    /// The moment of the run; "today" per person follows from it and their time zone.
    pub now: DateTime<Utc>,
}

/// Decides the plan. Pure: the same input gives the same plan, in a stable order.
pub fn plan(mut input: PlanInput<'_>) -> Plan {
    let mut plan = Plan::default();
    let outcome = person::plan_people(&mut input, &mut plan);
    relations::plan_managers(&input, &outcome, &mut plan);
    relations::plan_groups(&input, &outcome, &mut plan);
    // Apply order: everything that makes users exist or changes them first, deactivations and
    // deletions last.
    plan.actions.sort_by(|a, b| {
        let last = |action: &Action| {
            matches!(
                action.kind,
                ActionKind::Deactivate { .. } | ActionKind::Delete { .. }
            )
        };
        (last(a), &a.key).cmp(&(last(b), &b.key))
    });
    plan
}
