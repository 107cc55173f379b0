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
                // A supervisor who left and whose user retention deleted: nobody to point at.
                .filter(|manager| {
                    !outcome.retired.contains(manager) || outcome.final_state.contains_key(manager)
                })
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

/// The group names an attribute stands for, borrowed where they can be: one for an object or a
/// text, one per element of several objects (cost centers) or tags.
pub fn group_values(attribute: &AttrValue) -> Vec<Cow<'_, str>> {
    fn kept(name: Cow<'_, str>) -> Option<Cow<'_, str>> {
        (!name.is_empty()).then_some(name)
    }
    match attribute {
        AttrValue::Object(object) => kept(Cow::Borrowed(object.name.trim()))
            .into_iter()
            .collect(),
        AttrValue::Text(text) => kept(Cow::Borrowed(text.trim())).into_iter().collect(),
        AttrValue::Objects(objects) => objects
            .iter()
            .filter_map(|object| kept(Cow::Borrowed(object.name.trim())))
            .collect(),
        AttrValue::Tags(tags) => tags
            .iter()
            .filter_map(|tag| kept(Cow::Borrowed(tag.trim())))
            .collect(),
        other => other
            .to_text()
            .and_then(|text| kept(Cow::Owned(text.trim().to_owned())))
            .into_iter()
            .collect(),
    }
}

/// One group per department (team, office, cost center, legal entity, position, attribute
/// value) with everyone whose user is active or pre-hired. People not looked at this run (a
/// one-person run) and untouched people keep their memberships.
pub(super) fn plan_groups(input: &PlanInput<'_>, outcome: &Outcome, plan: &mut Plan) {
    let groups = &input.config.groups;
    let kinds: Vec<(GroupKind, &str)> = [
        (groups.departments, GroupKind::Department, "department"),
        (groups.teams, GroupKind::Team, "team"),
        (groups.offices, GroupKind::Office, "office"),
        (groups.cost_centers, GroupKind::CostCenter, "cost_centers"),
        (groups.legal_entities, GroupKind::LegalEntity, "subcompany"),
        (groups.positions, GroupKind::Position, "position"),
    ]
    .into_iter()
    .filter(|(on, _, _)| *on)
    .map(|(_, kind, attribute)| (kind, attribute))
    .collect();
    let looked_at: BTreeSet<&PersonKey> = input.people.iter().map(|person| person.key()).collect();

    let mut wanted: BTreeMap<GroupKey, BTreeSet<PersonKey>> = BTreeMap::new();
    // Groups of a kind (an attribute) the tenant switched off are left exactly as they are.
    let titles: Vec<String> = groups
        .attributes
        .iter()
        .map(|source| format!("{}: ", crate::config::GroupsConfig::attribute_title(source)))
        .collect();
    let enabled = |key: &GroupKey| match key.kind {
        GroupKind::Attribute => titles
            .iter()
            .any(|title| key.name.starts_with(title.as_str())),
        kind => kinds.iter().any(|(on, _)| *on == kind),
    };
    for group in input
        .snapshot
        .groups
        .values()
        .filter(|group| enabled(&group.key))
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
            let Some(value) = person.employee.attribute(attribute) else {
                continue;
            };
            for name in group_values(value) {
                fresh.entry((*kind, name)).or_default().push(key.clone());
            }
        }
        for name in &person.attribute_groups {
            fresh
                .entry((GroupKind::Attribute, Cow::Borrowed(name.as_str())))
                .or_default()
                .push(key.clone());
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
