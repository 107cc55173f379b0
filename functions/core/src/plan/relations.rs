//! Relations planned once every person's fate is known: manager links and group memberships.

use super::person::Outcome;
use super::{GroupAction, ManagerLink, Plan, PlanInput};
use crate::employee::AttrValue;
use crate::history::RecordError;
use crate::ids::PersonKey;
use crate::state::{GroupKey, GroupKind, LinkState};
use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet, HashMap};

fn exists(outcome: &Outcome, key: &PersonKey) -> bool {
    outcome
        .final_state
        .get(key)
        .is_some_and(|state| *state != LinkState::Inactive)
}

/// Supervisor → manager, for everyone whose user is (or will be) active or pre-hired. An
/// unresolved manager is reported and the link is left as it is, never guessed.
pub(super) fn plan_managers(input: &PlanInput<'_>, outcome: &Outcome, plan: &mut Plan) {
    for person in input.people.iter() {
        let key = person.key();
        if outcome.untouched.contains(key) || !exists(outcome, key) {
            continue;
        }
        let wanted = if input.config.mapping.manager {
            person
                .employee
                .supervisor
                .map(|id| PersonKey::new(key.account.clone(), id))
                .filter(|manager| manager != key)
        } else {
            None
        };
        if let Some(manager) = &wanted {
            if !outcome.final_state.contains_key(manager) {
                plan.errors.push(RecordError {
name: None,
                    person: Some(key.clone()),
                    action: "manager".to_owned(),
                    message: format!(
                        "supervisor {manager} has no user in the app (out of scope, not started yet, or not readable); the manager link is left as it is"
                    ),
                    hint: "bring the supervisor into scope, or correct the supervisor in Personio".to_owned(),
                });
                continue;
            }
        }
        let current = input
            .snapshot
            .links
            .get(key)
            .and_then(|link| link.manager.clone());
        if current != wanted {
            plan.managers.push(ManagerLink {
                key: key.clone(),
                manager: wanted,
            });
        }
    }
}

/// The group name an attribute stands for, borrowed where it can be (objects and text).
fn group_name(attribute: Option<&AttrValue>) -> Option<Cow<'_, str>> {
    let name = match attribute? {
        AttrValue::Object(object) => Cow::Borrowed(object.name.trim()),
        AttrValue::Text(text) => Cow::Borrowed(text.trim()),
        other => Cow::Owned(other.to_text()?.trim().to_owned()),
    };
    (!name.is_empty()).then_some(name)
}

/// One group per department (team, office) with everyone whose user is active or pre-hired.
/// People not looked at this run (a one-person run) and untouched people keep their memberships.
pub(super) fn plan_groups(input: &PlanInput<'_>, outcome: &Outcome, plan: &mut Plan) {
    let groups = &input.config.groups;
    let kinds: Vec<(GroupKind, &str)> = [
        (groups.departments, GroupKind::Department, "department"),
        (groups.teams, GroupKind::Team, "team"),
        (groups.offices, GroupKind::Office, "office"),
    ]
    .into_iter()
    .filter(|(on, _, _)| *on)
    .map(|(_, kind, attribute)| (kind, attribute))
    .collect();
    let looked_at: BTreeSet<&PersonKey> = input.people.iter().map(|person| person.key()).collect();

    let mut wanted: BTreeMap<GroupKey, BTreeSet<PersonKey>> = BTreeMap::new();
    // Groups of a kind the tenant switched off are left exactly as they are.
    let enabled = |kind: GroupKind| kinds.iter().any(|(on, _)| *on == kind);
    for group in input
        .snapshot
        .groups
        .values()
        .filter(|group| enabled(group.key.kind))
    {
        let kept = group.members.iter().filter(|member| {
            let keep_unseen = !input.complete && !looked_at.contains(member);
            (keep_unseen || outcome.untouched.contains(*member)) && !input.gone.contains(*member)
        });
        wanted
            .entry(group.key.clone())
            .or_default()
            .extend(kept.cloned());
    }
    // Gathered by borrowed name first: one owned group key per group, not per person.
    let mut fresh: HashMap<(GroupKind, Cow<'_, str>), Vec<PersonKey>> = HashMap::new();
    for person in input.people.iter() {
        let key = person.key();
        if outcome.untouched.contains(key) || !exists(outcome, key) {
            continue;
        }
        for (kind, attribute) in &kinds {
            if let Some(name) = group_name(person.employee.attribute(attribute)) {
                fresh.entry((*kind, name)).or_default().push(key.clone());
            }
        }
    }
    for ((kind, name), members) in fresh {
        let group = GroupKey {
            kind,
            name: name.into_owned(),
        };
        wanted.entry(group).or_default().extend(members);
    }

    for (key, members) in wanted {
        match input.snapshot.groups.get(&key) {
            None if members.is_empty() => {}
            None => plan.groups.push(GroupAction::Create { key, members }),
            Some(existing) => {
                let add: BTreeSet<PersonKey> =
                    members.difference(&existing.members).cloned().collect();
                let remove: BTreeSet<PersonKey> =
                    existing.members.difference(&members).cloned().collect();
                if !add.is_empty() || !remove.is_empty() {
                    plan.groups.push(GroupAction::Members {
                        key,
                        destination_id: existing.destination_id.clone(),
                        add,
                        remove,
                    });
                }
            }
        }
    }
}
