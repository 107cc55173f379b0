//! Guards: checks on a plan before anything is written. A tripped guard holds the run — nothing is
//! applied, admins are emailed, and an admin approves or rejects it — because a sync that locks out
//! half a company on a Monday morning does more harm than one that waits for a human.

use crate::config::GuardConfig;
use crate::plan::Plan;
use crate::state::{LinkState, Snapshot, SourceStats};
use std::collections::BTreeSet;

/// Attributes without which the lifecycle cannot be decided.
pub const LIFECYCLE_ATTRIBUTES: [&str; 3] = ["status", "hire_date", "termination_date"];

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
    let deactivations = input.plan.count("deactivate");
    let active = input
        .snapshot
        .links
        .values()
        .filter(|link| link.state == LinkState::Active)
        .count();
    if deactivations > config.max_deactivations {
        reasons.push(format!(
            "{deactivations} users would be deactivated, more than the limit of {}",
            config.max_deactivations
        ));
    } else if active > 0 && deactivations >= PERCENT_GUARD_FLOOR {
        let percent = deactivations as f64 * 100.0 / active as f64;
        if percent > config.max_deactivation_percent {
            reasons.push(format!(
                "{deactivations} of {active} active users ({percent:.0} %) would be deactivated, more than the limit of {} %",
                config.max_deactivation_percent
            ));
        }
    }
    if !input.complete {
        return reasons;
    }
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
pub fn unreadable_error(
    person: Option<crate::ids::PersonKey>,
    key: &str,
) -> crate::history::RecordError {
    let message = match person {
        Some(_) => format!(
            "Personio did not return attribute `{key}` for this person, though it did for most people in the last full run; nothing was changed for them"
        ),
        None => format!("Personio returned attribute `{key}` for nobody; fields mapped from it stay empty"),
    };
    crate::history::RecordError {
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
                },
            );
        }
        snapshot.source_stats = Some(SourceStats {
            employees: active as usize,
            attribute_presence: BTreeMap::from([("department".to_owned(), active as usize)]),
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
}
