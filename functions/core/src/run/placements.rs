//! Fields that gain a place in the app. A SCIM destination sends a field only where the app has
//! a place for it (its published schemas, decision 0015), while the snapshot keeps every mapped
//! value. So when the app later gains a place for a field (it publishes an extension, or the
//! tenant configures a path), nothing changed in Personio and the plan alone would send the
//! field to nobody until each person's value changes. Before a run writes, it asks the
//! destination where it writes each field (for SCIM, the schema read its first write would make
//! anyway) and compares with the last run that wrote: each field placed now and not then, or
//! placed elsewhere, is sent to every linked user who has a value, in the same run.
//!
//! A run that writes nothing asks nothing, so the field goes out with the next run that writes
//! anything. The first run that records placements sends nothing extra: it cannot know what an
//! earlier version sent.

use crate::ids::PersonKey;
use crate::plan::{Action, ActionKind, Plan};
use crate::ports::Destination;
use crate::record::FieldChange;
use crate::state::Link;
use std::collections::{BTreeMap, BTreeSet};

/// What a run about to write learns about the destination's fields.
#[derive(Debug, Default)]
pub(super) struct Placements {
    /// The plan with the newly placed fields added, when there are any.
    pub extended: Option<Plan>,
    /// Where the destination writes the fields now, to remember; `None` when it did not say.
    pub placed: Option<BTreeMap<String, String>>,
}

/// Asks the destination where fields go, when `plan` writes anything, and extends the plan with
/// the fields placed, or moved, since `before` (the last run's). A destination that cannot say
/// (the app unreachable) leaves the plan as it is: its writes will report that.
pub(super) async fn check(
    destination: &dyn Destination,
    plan: &Plan,
    links: &BTreeMap<PersonKey, Link>,
    before: Option<&BTreeMap<String, String>>,
) -> Placements {
    if plan.is_empty() {
        return Placements::default();
    }
    let placed = match destination.placed_fields().await {
        Ok(placed) => placed,
        Err(error) => {
            tracing::info!(error = %error, "the destination's fields could not be read");
            None
        }
    };
    let newly = match (&placed, before) {
        (Some(now), Some(before)) => moved(now, before),
        _ => BTreeSet::new(),
    };
    let extended = (!newly.is_empty()).then(|| send_newly_placed(plan, links, &newly));
    if let Some(plan) = &extended {
        tracing::info!(
            fields = newly.len(),
            actions = plan.actions.len(),
            "fields newly placed in the destination are sent to every user with a value"
        );
    }
    Placements { extended, placed }
}

/// The fields placed in `now` that were not placed in `before`, or elsewhere. A field no longer
/// placed is not among them: there is nowhere to send it.
fn moved(now: &BTreeMap<String, String>, before: &BTreeMap<String, String>) -> BTreeSet<String> {
    now.iter()
        .filter(|(field, place)| before.get(*field) != Some(*place))
        .map(|(field, _)| field.clone())
        .collect()
}

/// `plan` with every linked user's values of `fields` written: added to the person's update,
/// activation or deactivation, or as an update of its own. Creates and adoptions write the whole
/// record already. Pure.
pub(super) fn send_newly_placed(
    plan: &Plan,
    links: &BTreeMap<PersonKey, Link>,
    fields: &BTreeSet<String>,
) -> Plan {
    let mut plan = plan.clone();
    let planned: BTreeMap<PersonKey, usize> = plan
        .actions
        .iter()
        .enumerate()
        .map(|(index, action)| (action.key.clone(), index))
        .collect();
    let reason = format!(
        "{} sent: the app has a place for it now",
        fields.iter().cloned().collect::<Vec<_>>().join(", ")
    );
    let mut added = Vec::new();
    for (key, link) in links {
        let changes: Vec<FieldChange> = fields
            .iter()
            .filter_map(|field| {
                link.record.get(field).map(|value| FieldChange {
                    field: field.clone(),
                    old: None,
                    new: Some(value.clone()),
                })
            })
            .collect();
        if changes.is_empty() {
            continue;
        }
        let Some(&index) = planned.get(key) else {
            added.push(Action {
                key: key.clone(),
                kind: ActionKind::Update {
                    destination_id: link.destination_id.clone(),
                    changes,
                    to: link.state,
                },
                reason: reason.clone(),
            });
            continue;
        };
        match &mut plan.actions[index].kind {
            ActionKind::Update {
                changes: planned, ..
            }
            | ActionKind::Activate {
                changes: planned, ..
            }
            | ActionKind::Deactivate {
                changes: planned, ..
            } => {
                // A change the plan makes to the field anyway wins: it is Personio's newest.
                for change in changes {
                    if !planned.iter().any(|known| known.field == change.field) {
                        planned.push(change);
                    }
                }
                planned.sort_by(|a, b| a.field.cmp(&b.field));
            }
            // A deleted user needs no field.
            ActionKind::Create { .. } | ActionKind::Adopt { .. } | ActionKind::Delete { .. } => {}
        }
    }
    // Updates go with the other updates, before deactivations (the plan's apply order).
    let first_deactivation = plan
        .actions
        .iter()
        .position(|action| matches!(action.kind, ActionKind::Deactivate { .. }))
        .unwrap_or(plan.actions.len());
    plan.actions
        .splice(first_deactivation..first_deactivation, added);
    plan
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::{AccountId, DestinationId, PersonioId};
    use crate::record::{FieldValue, UserRecord};
    use crate::state::LinkState;

    fn key(id: u64) -> PersonKey {
        PersonKey {
            account: AccountId::default(),
            id: PersonioId::new(id),
        }
    }

    fn link(id: u64, fields: &[(&str, &str)]) -> (PersonKey, Link) {
        let mut record = UserRecord::new();
        for (field, value) in fields {
            record.set(*field, FieldValue::Text((*value).to_owned()));
        }
        let link = Link {
            key: key(id),
            destination_id: DestinationId::parse(&format!("u-{id}")).expect("id"),
            state: LinkState::Active,
            record,
            manager: None,
            invited_on: None,
            origin: None,
            inactive_since: None,
            relinked_from: None,
            rehire_declined: Default::default(),
            written_back: None,
        };
        (key(id), link)
    }

    fn change(field: &str, new: &str) -> FieldChange {
        FieldChange {
            field: field.to_owned(),
            old: None,
            new: Some(FieldValue::Text(new.to_owned())),
        }
    }

    #[test]
    fn a_field_placed_for_the_first_time_or_elsewhere_is_sent_again() {
        let places = |pairs: &[(&str, &str)]| -> BTreeMap<String, String> {
            pairs
                .iter()
                .map(|(field, place)| ((*field).to_owned(), (*place).to_owned()))
                .collect()
        };
        let before = places(&[
            ("title", "title"),
            ("hire_date", "urn:a:hireDate"),
            ("gone", "x"),
        ]);
        let now = places(&[
            ("title", "title"),
            ("hire_date", "urn:b:startDate"),
            ("birthday", "urn:b:birthDate"),
        ]);
        assert_eq!(
            moved(&now, &before),
            BTreeSet::from(["birthday".to_owned(), "hire_date".to_owned()])
        );
        assert!(moved(&now, &now).is_empty());
    }

    #[test]
    fn newly_placed_values_join_planned_changes_or_become_updates() {
        let links = BTreeMap::from([
            link(1, &[("hire_date", "2020-01-01"), ("title", "Chef")]),
            link(2, &[("hire_date", "2021-02-02")]),
            link(3, &[("title", "Cook")]),
            link(4, &[("hire_date", "2022-03-03")]),
        ]);
        let deactivate = Action {
            key: key(4),
            kind: ActionKind::Deactivate {
                destination_id: DestinationId::parse("u-4").expect("id"),
                changes: vec![change("termination_date", "2026-11-30")],
                to: LinkState::Inactive,
            },
            reason: "left".to_owned(),
        };
        let update = Action {
            key: key(2),
            kind: ActionKind::Update {
                destination_id: DestinationId::parse("u-2").expect("id"),
                // Personio's new hire date wins over the one last written.
                changes: vec![change("hire_date", "2021-03-03")],
                to: LinkState::Active,
            },
            reason: "hire_date changed".to_owned(),
        };
        let plan = Plan {
            actions: vec![update, deactivate],
            ..Plan::default()
        };
        let fields = BTreeSet::from(["hire_date".to_owned()]);
        let extended = send_newly_placed(&plan, &links, &fields);
        let kinds: Vec<(u64, &ActionKind)> = extended
            .actions
            .iter()
            .map(|action| (action.key.id.get(), &action.kind))
            .collect();
        assert_eq!(kinds.len(), 3, "person 3 has no hire date: nothing to send");
        // Person 1's update comes before the deactivation.
        assert_eq!(kinds[1].0, 1);
        assert!(matches!(
            kinds[1].1,
            ActionKind::Update { changes, .. } if changes == &vec![change("hire_date", "2020-01-01")]
        ));
        assert!(matches!(
            kinds[0].1,
            ActionKind::Update { changes, .. } if changes == &vec![change("hire_date", "2021-03-03")]
        ));
        assert!(matches!(
            kinds[2].1,
            ActionKind::Deactivate { changes, .. }
                if changes == &vec![change("hire_date", "2022-03-03"), change("termination_date", "2026-11-30")]
        ));
    }
}
