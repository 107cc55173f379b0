//! Guards: the run's safety decisions, in two places of the pipeline.
//!
//! Before planning, [`protect`] decides who is left untouched because Personio's answer lacks an
//! attribute it used to return. After planning, [`check`] looks at the plan before anything is
//! written: a tripped guard holds the run — nothing is applied, admins are emailed, and an admin
//! approves or rejects it — because a sync that locks out half a company on a Monday morning does
//! more harm than one that waits for a human. `run` and `preview` both call them, so a preview
//! says "held" exactly when a dry run does.

use crate::attributes::LIFECYCLE;
use crate::config::GuardConfig;
use crate::history::RecordError;
use crate::ids::PersonKey;
use crate::people::Intake;
use crate::plan::Plan;
use crate::state::{LinkState, Snapshot, SourceStats};
use std::collections::BTreeSet;

/// Below this many deactivations the percentage guard stays quiet: one leaver in a company of ten
/// is 10 %, and should not need an approval.
const PERCENT_GUARD_FLOOR: usize = 3;
/// Attributes returned for fewer people than this last time are too sparse to judge.
const MIN_PEOPLE_FOR_DRIFT: usize = 5;

/// What the guards look at besides the plan.
pub struct GuardInput<'a> {
    /// The plan.
    pub plan: &'a Plan,
    /// What we last wrote.
    pub snapshot: &'a Snapshot,
    /// Facts about this run's fetch.
    pub source: &'a SourceStats,
    /// Personio attribute keys the mapping and scope read.
    pub used_attributes: &'a BTreeSet<String>,
    /// A full run (source size and attribute drift are only judged on full runs).
    pub complete: bool,
    /// The tenant's thresholds.
    pub config: &'a GuardConfig,
}

/// Every tripped guard, as a sentence for the email and the run history; empty when the run may go.
pub fn check(input: &GuardInput<'_>) -> Vec<String> {
    let mut reasons = Vec::new();
    let config = input.config;
    // Retention's deletions count as deactivations: each takes a user away.
    let deletions = input.plan.count("delete");
    let deactivations = input.plan.count("deactivate") + deletions;
    let verb = if deletions > 0 {
        "deactivated or deleted"
    } else {
        "deactivated"
    };
    let active = active_users(input.snapshot);
    if deactivations > config.max_deactivations {
        reasons.push(format!(
            "{deactivations} users would be {verb}, more than the limit of {}",
            config.max_deactivations
        ));
    } else if active > 0 && deactivations >= PERCENT_GUARD_FLOOR {
        let percent = deactivations as f64 * 100.0 / active as f64;
        if percent > config.max_deactivation_percent {
            reasons.push(format!(
                "{deactivations} of {active} active users ({percent:.0} %) would be {verb}, more than the limit of {} %",
                config.max_deactivation_percent
            ));
        }
    }
    if !input.complete {
        return reasons;
    }
    reasons.extend(source_reasons(input));
    if input.snapshot.source_stats.is_none() {
        // Without status and dates nobody can tell who works there: a first sync that cannot
        // read them would give leavers accounts. Hold it rather than guess.
        let missing = missing_attributes(input.source, input.used_attributes, None);
        reasons.extend(
            missing
                .iter()
                .filter(|key| LIFECYCLE.contains(&key.as_str()))
                .map(|key| {
                    format!(
                        "Personio returned attribute `{key}` for nobody, so who joined and who left cannot be told; whitelist it for the API credential in Personio"
                    )
                }),
        );
    }
    reasons
}

/// Source size and attribute drift, judged on full runs against the last one.
fn source_reasons(input: &GuardInput<'_>) -> Vec<String> {
    let mut reasons = Vec::new();
    let active = active_users(input.snapshot);
    let config = input.config;
    let employees = input.source.employees;
    if employees == 0 && active > 0 {
        reasons.push(format!(
            "Personio returned no employees at all, while {active} users are active; check the API credential's access"
        ));
    } else if let Some(last) = &input.snapshot.source_stats {
        let floor = last.employees as f64 * config.min_source_percent / 100.0;
        if last.employees >= MIN_PEOPLE_FOR_DRIFT && (employees as f64) < floor {
            reasons.push(format!(
                "Personio returned {employees} employees, fewer than {} % of the {} of the last run",
                config.min_source_percent, last.employees
            ));
        }
        if employees > 0 {
            reasons.extend(vanished_attributes(input, last));
        }
    }
    reasons
}

fn active_users(snapshot: &Snapshot) -> usize {
    snapshot
        .links
        .values()
        .filter(|link| link.state == LinkState::Active)
        .count()
}

/// Before planning: what to do about used attributes Personio did not return.
///
/// A first full sync has nothing to compare with: it goes ahead and reports each attribute it
/// cannot read (and [`check`] holds it when a lifecycle attribute is among them). A one-person
/// run whose answer lacks what most people had leaves the person as they are — the credential may
/// no longer read it — rather than blank a field or misread a status.
pub fn protect(intake: &mut Intake<'_>, snapshot: &Snapshot, complete: bool) {
    let last = snapshot.source_stats.as_ref();
    let missing = missing_attributes(&intake.stats, &intake.used_attributes, last);
    if missing.is_empty() {
        return;
    }
    if complete {
        if last.is_none() {
            intake
                .errors
                .extend(missing.iter().map(|key| unreadable_error(None, key)));
        }
        return;
    }
    let keys: Vec<PersonKey> = intake.people.iter().map(|p| p.key().clone()).collect();
    for key in keys {
        intake.errors.extend(
            missing
                .iter()
                .map(|attribute| unreadable_error(Some(key.clone()), attribute)),
        );
        intake.protected.insert(key);
    }
}

/// Used attributes Personio did not return for anyone in this fetch, when that is news: on a
/// first full sync (no stats yet) any used attribute absent for all of at least
/// `MIN_PEOPLE_FOR_DRIFT` people; on a one-person run any used attribute the person lacks that
/// most people had in the last full run. Absent means not whitelisted: a readable attribute comes
/// back even when empty.
pub fn missing_attributes(
    source: &SourceStats,
    used: &BTreeSet<String>,
    last: Option<&SourceStats>,
) -> Vec<String> {
    if source.employees == 0 {
        return Vec::new();
    }
    let present = |key: &String| source.attribute_presence.get(key).copied().unwrap_or(0);
    match last {
        None if source.employees >= MIN_PEOPLE_FOR_DRIFT => used
            .iter()
            .filter(|key| present(key) == 0)
            .cloned()
            .collect(),
        None => Vec::new(),
        Some(last) if source.employees < last.employees => used
            .iter()
            .filter(|key| present(key) == 0)
            .filter(|key| {
                let before = last.attribute_presence.get(*key).copied().unwrap_or(0);
                before >= MIN_PEOPLE_FOR_DRIFT && before * 2 >= last.employees
            })
            .cloned()
            .collect(),
        Some(_) => Vec::new(),
    }
}

/// The record error for an attribute Personio did not return.
pub fn unreadable_error(person: Option<PersonKey>, key: &str) -> RecordError {
    let message = match person {
        Some(_) => format!(
            "Personio did not return attribute `{key}` for this person, though it did for most people in the last full run; nothing was changed for them"
        ),
        None => format!("Personio returned attribute `{key}` for nobody; fields mapped from it stay empty"),
    };
    RecordError {
name: None,
        person,
        action: "fetch".to_owned(),
        message,
        hint: format!(
            "whitelist `{key}` for the API credential in Personio (readable employee attributes), or stop mapping it"
        ),
    }
}

/// Attributes the mapping uses that were on most people last run and are now mostly gone:
/// Personio omits attributes that are no longer whitelisted for the credential, and syncing that
/// would blank a field for everyone.
fn vanished_attributes(input: &GuardInput<'_>, last: &SourceStats) -> Vec<String> {
    let employees = input.source.employees;
    input
        .used_attributes
        .iter()
        .filter_map(|key| {
            let before = *last.attribute_presence.get(key)?;
            if before < MIN_PEOPLE_FOR_DRIFT || before * 2 < last.employees {
                return None;
            }
            let now = input.source.attribute_presence.get(key).copied().unwrap_or(0);
            let share_before = before as f64 / last.employees as f64;
            let share_now = now as f64 / employees as f64;
            (share_now < share_before * input.config.min_attribute_percent / 100.0).then(|| {
                format!(
                    "attribute `{key}` came back for {now} of {employees} people, after {before} of {} last run; whitelist it again for the API credential in Personio",
                    last.employees
                )
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::{AccountId, DestinationId, PersonKey, PersonioId};
    use crate::plan::{Action, ActionKind};
    use crate::state::Link;
    use std::collections::BTreeMap;

    fn snapshot(active: u64) -> Snapshot {
        let mut snapshot = Snapshot::default();
        for id in 0..active {
            let key = PersonKey::new(AccountId::default(), PersonioId::new(id));
            snapshot.links.insert(
                key.clone(),
                Link {
                    key,
                    destination_id: DestinationId::parse(&format!("u{id}")).unwrap(),
                    state: LinkState::Active,
                    record: Default::default(),
                    manager: None,
                    invited_on: None,
                    origin: None,
                    inactive_since: None,
                    relinked_from: None,
                    rehire_declined: Default::default(),
                    written_back: None,
                },
            );
        }
        snapshot.source_stats = Some(SourceStats {
            employees: active as usize,
            attribute_presence: BTreeMap::from([("department".to_owned(), active as usize)]),
            destination_fields: None,
        });
        snapshot
    }

    fn deactivations(count: u64) -> Plan {
        let actions = (0..count)
            .map(|id| Action {
                key: PersonKey::new(AccountId::default(), PersonioId::new(id)),
                kind: ActionKind::Deactivate {
                    destination_id: DestinationId::parse("x").unwrap(),
                    changes: Vec::new(),
                    to: LinkState::Inactive,
                },
                reason: String::new(),
            })
            .collect();
        Plan {
            actions,
            ..Plan::default()
        }
    }

    fn check_with(plan: &Plan, snapshot: &Snapshot, source: &SourceStats) -> Vec<String> {
        check(&GuardInput {
            plan,
            snapshot,
            source,
            used_attributes: &BTreeSet::from(["department".to_owned()]),
            complete: true,
            config: &GuardConfig::default(),
        })
    }

    fn stats(employees: usize, department: usize) -> SourceStats {
        SourceStats {
            employees,
            attribute_presence: BTreeMap::from([("department".to_owned(), department)]),
            destination_fields: None,
        }
    }

    #[test]
    fn mass_deactivation_holds_by_count_and_by_percent() {
        assert_eq!(
            check_with(&deactivations(26), &snapshot(1000), &stats(1000, 1000)).len(),
            1
        );
        assert_eq!(
            check_with(&deactivations(20), &snapshot(100), &stats(100, 100)).len(),
            1
        );
        assert!(check_with(&deactivations(5), &snapshot(100), &stats(100, 100)).is_empty());
    }

    #[test]
    fn one_leaver_in_a_small_company_does_not_hold() {
        assert!(check_with(&deactivations(1), &snapshot(5), &stats(5, 5)).is_empty());
    }

    #[test]
    fn empty_or_shrunken_source_holds() {
        assert!(!check_with(&Plan::default(), &snapshot(10), &stats(0, 0)).is_empty());
        assert!(!check_with(&Plan::default(), &snapshot(100), &stats(40, 40)).is_empty());
    }

    #[test]
    fn vanished_attribute_holds_and_names_the_attribute() {
        let reasons = check_with(&Plan::default(), &snapshot(100), &stats(100, 0));
        assert_eq!(reasons.len(), 1);
        assert!(reasons[0].contains("`department`"));
    }

    #[test]
    fn deletions_count_with_deactivations() {
        // 20 deactivations alone pass the limit of 25; with 10 deletions they do not.
        let mut plan = deactivations(20);
        assert!(check_with(&plan, &snapshot(1000), &stats(1000, 1000)).is_empty());
        plan.actions.extend((100..110).map(|id| Action {
            key: PersonKey::new(AccountId::default(), PersonioId::new(id)),
            kind: ActionKind::Delete {
                destination_id: DestinationId::parse("x").unwrap(),
            },
            reason: String::new(),
        }));
        let reasons = check_with(&plan, &snapshot(1000), &stats(1000, 1000));
        assert_eq!(reasons.len(), 1, "{reasons:?}");
        assert!(
            reasons[0].starts_with("30 users would be deactivated or deleted"),
            "{reasons:?}"
        );
    }
}
