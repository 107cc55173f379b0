//! The invariants, checked after every faulty run against the clean reference:
//!
//! 1. **No duplicates**: one user per `externalId`, one per `userName`, one group per name.
//! 2. **No wrongful deactivation**: nobody whose reference user is active lost access in the run.
//! 3. **Held and failed runs write nothing**: no write reached the server, the app is unchanged.
//!    A run the AWS side stopped while applying (the store throttled past the SDK's retries) may
//!    have written: then everyone it changed is in its record, and one that lists nothing wrote
//!    nothing.
//! 4. **No silent failure**: every person whose user differs from the reference's is named in the
//!    run's errors (and the groups differ only when a group error is recorded).
//! 5. **Reported in the email**: the run's summary went out, says why a run failed or was held,
//!    and lists every error of the run, the CSV attachment one row each.
//! 6. **Convergence**: after a clean follow-up run the app equals the reference exactly.
//!
//! Each check returns sentences; an empty list means the invariant held.

use super::mailbox::Sent;
use super::view::AppView;
use std::collections::BTreeSet;
use sync_core::history::{RunRecord, RunStatus};

/// Invariant 1.
pub fn no_duplicates(after: &AppView) -> Vec<String> {
    after
        .duplicates
        .iter()
        .map(|duplicate| format!("duplicate: {duplicate}"))
        .collect()
}

/// Invariant 2: users active before the run, inactive after it, whose reference user is active.
pub fn no_wrongful_deactivation(
    before: &AppView,
    after: &AppView,
    expected: &AppView,
) -> Vec<String> {
    after
        .users
        .iter()
        .filter(|(_, user)| !user.active)
        .filter(|(key, _)| before.users.get(*key).is_some_and(|user| user.active))
        .filter(|(key, _)| expected.users.get(*key).is_some_and(|user| user.active))
        .map(|(key, _)| format!("{key} was deactivated although Personio has them active"))
        .collect()
}

/// Invariant 3.
pub fn wrote_nothing(what: &str, writes: u64, before: &AppView, after: &AppView) -> Vec<String> {
    let mut violations = Vec::new();
    if writes > 0 {
        violations.push(format!(
            "the {what} run sent {writes} writes to the destination"
        ));
    }
    let changed = before.differing(after);
    if !changed.is_empty() || before.groups != after.groups {
        violations.push(format!(
            "the {what} run changed the app: users {changed:?}, groups changed: {}",
            before.groups != after.groups
        ));
    }
    violations
}

/// Invariant 3 for a failed run that may have stopped while applying: every user that changed in
/// the app across it is named in its changes or errors, and a run naming no one wrote nothing.
pub fn failed_run_reports_writes(
    record: &RunRecord,
    writes: u64,
    before: &AppView,
    after: &AppView,
) -> Vec<String> {
    let (mut named, _) = errors_of(record);
    named.extend(
        record
            .changes
            .iter()
            .map(|change| change.person.external_id()),
    );
    let run = record.id.as_str();
    let mut violations: Vec<String> = before
        .differing(after)
        .into_iter()
        .filter(|key| !named.contains(key))
        .map(|key| {
            format!(
                "failed run {run} changed {key} in the app and its record does not say so: {}",
                before.describe_difference(&key, after)
            )
        })
        .collect();
    if named.is_empty() && record.errors.is_empty() && writes > 0 {
        violations.push(format!(
            "failed run {run} lists no change and sent {writes} writes to the destination"
        ));
    }
    violations
}

/// The external ids (`main:<id>`) of the people named in `record`'s errors, and whether any
/// error is about a group.
fn errors_of(record: &RunRecord) -> (BTreeSet<String>, bool) {
    let people = record
        .errors
        .iter()
        .filter_map(|error| error.person.as_ref().map(|key| key.external_id()))
        .collect();
    let group = record.errors.iter().any(|error| error.action == "group");
    (people, group)
}

/// The Personio attributes a run said it could not read for anyone (run-level errors naming an
/// attribute in backticks).
fn unreadable_attributes(record: &RunRecord) -> BTreeSet<String> {
    record
        .errors
        .iter()
        .filter(|error| error.person.is_none())
        .filter_map(|error| error.message.split('`').nth(1).map(str::to_owned))
        .collect()
}

/// Invariant 4 for a run that completed: who differs from the reference is in its errors.
/// `reference` is the reference's run record: people it had errors for are not compared. A run
/// that said it could not read an attribute for anyone explains what follows from that alone
/// (the fields mapped from it, less access than the reference for a lifecycle attribute) — never
/// more access.
pub fn differences_reported(
    record: &RunRecord,
    reference: &RunRecord,
    after: &AppView,
    expected: &AppView,
) -> Vec<String> {
    let (reported, group_error) = errors_of(record);
    let (excused, reference_group_error) = errors_of(reference);
    let unreadable = unreadable_attributes(record);
    let mut violations: Vec<String> = after
        .differing(expected)
        .into_iter()
        .filter(|key| !reported.contains(key) && !excused.contains(key))
        .filter(|key| !after.explained_by(key, expected, &unreadable))
        .map(|key| {
            format!(
                "unreported difference from the reference: {}",
                after.describe_difference(&key, expected)
            )
        })
        .collect();
    let group_sources = ["department", "team", "office"];
    if group_error
        || reference_group_error
        || group_sources.iter().any(|key| unreadable.contains(*key))
    {
        return violations;
    }
    // A group may lack a member whose own user failed: that person's error explains it.
    for group in after.differing_groups(expected) {
        let unexplained: BTreeSet<String> = after
            .member_difference(&group, expected)
            .into_iter()
            .filter(|member| !reported.contains(member) && !excused.contains(member))
            .collect();
        if !unexplained.is_empty() {
            violations.push(format!(
                "group {group} differs from the reference (members {unexplained:?}) and the run reported no error for it"
            ));
        }
    }
    violations
}

/// Invariant 5: the summary email of `record`.
pub fn email_reports(record: &RunRecord, sent: &[Sent]) -> Vec<String> {
    let run = record.id.as_str();
    let Some(email) = sent.iter().find(|sent| sent.is_for(run)) else {
        return vec![format!(
            "run {run} ({}) sent no summary email",
            record.status.as_str()
        )];
    };
    let mut violations = Vec::new();
    let text = &email.email.text;
    let failure = record.failure.as_deref().unwrap_or_default();
    let says_why = match record.status {
        RunStatus::Failed => !failure.is_empty() && text.contains(failure),
        RunStatus::Held => {
            email.email.subject.contains("held")
                && record.held_because.iter().all(|why| text.contains(why))
        }
        _ => true,
    };
    if !says_why {
        violations.push(format!(
            "the email of {} run {run} does not say why",
            record.status.as_str()
        ));
    }
    let errors = record.errors.len();
    if errors > 0 && !text.contains(&format!("Errors ({errors};")) {
        violations.push(format!(
            "the email of run {run} does not list its {errors} errors"
        ));
    }
    if email.csv_rows() != errors {
        violations.push(format!(
            "the errors.csv of run {run} has {} rows for {errors} errors",
            email.csv_rows()
        ));
    }
    violations
}

/// Invariant 6.
pub fn converged(after: &AppView, expected: &AppView) -> Vec<String> {
    let mut violations = no_duplicates(after);
    for key in after.differing(expected) {
        violations.push(format!(
            "after a clean run still different from the reference: {}",
            after.describe_difference(&key, expected)
        ));
    }
    for group in after.differing_groups(expected) {
        violations.push(format!(
            "after a clean run group {group} still differs from the reference (members {:?})",
            after.member_difference(&group, expected)
        ));
    }
    violations
}
