//! The violations the suite has found whose cause is known and shown by a regression test
//! (`regressions`). A violation is tagged with its cause when the scenario's faults and the
//! violation's shape match that cause exactly; the tag goes in front (`[R1] …`) so the summary
//! can say how many violations are explained. Tagged or not, a violation fails the suite: the
//! tags only say where to look.

use crate::scenario::faults::{AnyFault, PersonioFault};

/// A known cause: its id, the regression test that shows it, and a one-line summary.
pub struct Cause {
    /// `R1` …
    pub id: &'static str,
    /// The regression test.
    pub test: &'static str,
    /// What goes wrong, and where.
    pub summary: &'static str,
}

/// Every known cause.
pub const CAUSES: &[Cause] = &[
    Cause {
        id: "R1",
        test: "regressions::a_group_create_whose_answer_is_lost_is_not_created_twice",
        summary: "sync-scim re-sends a POST /Groups whose answer was lost: the group is created twice",
    },
    Cause {
        id: "R2",
        test: "regressions::a_full_run_that_no_longer_sees_supervisors_is_held",
        summary: "sync-core does not guard `supervisor`: a full run that cannot read it clears every manager",
    },
    Cause {
        id: "R3",
        test: "regressions::a_first_sync_that_cannot_read_a_mapped_attribute_says_so",
        summary: "sync-core's attribute guard needs a previous run: a first sync silently leaves out an unreadable attribute",
    },
    Cause {
        id: "R4",
        test: "regressions::a_webhook_run_that_no_longer_sees_an_attribute_does_not_blank_it",
        summary: "sync-core skips the attribute guard on one-person runs: a webhook run blanks an unreadable attribute",
    },
    Cause {
        id: "R6",
        test: "regressions::a_first_sync_that_cannot_read_the_status_gives_no_leaver_an_account",
        summary: "sync-core treats a missing status as active: a first sync that cannot read `status` gives leavers active accounts",
    },
    Cause {
        id: "R5",
        test: "regressions::a_webhook_run_that_no_longer_sees_the_status_does_not_reactivate_a_leaver",
        summary: "sync-core treats a missing status as active: a webhook run reactivates a leaver",
    },
];

/// What a round was, as far as the known causes care.
pub struct Round<'a> {
    /// Its faults.
    pub faults: &'a [AnyFault],
    /// A one-person run.
    pub one_person: bool,
    /// No full run had completed before it.
    pub first_sync: bool,
}

/// The known cause of `violation` in `round`, if it matches one.
pub fn cause(round: &Round<'_>, violation: &str) -> Option<&'static str> {
    if violation.contains("duplicate: group") || violation.contains("created twice") {
        return Some("R1");
    }
    let unlisted: Vec<&str> = round
        .faults
        .iter()
        .filter_map(|fault| match fault {
            AnyFault::Personio(PersonioFault::Unlisted { attribute }) => Some(*attribute),
            _ => None,
        })
        .collect();
    // The whitelist is one setting: with several unlisted faults the last one is in force.
    let attribute = *unlisted.last()?;
    if violation.contains("after a clean run") {
        return None;
    }
    match (attribute, round.one_person, round.first_sync) {
        ("status", true, _) => Some("R5"),
        ("status", false, true) => Some("R6"),
        (_, true, _) => Some("R4"),
        ("supervisor", false, _) if violation.contains("manager") => Some("R2"),
        (_, false, true) => Some("R3"),
        _ => None,
    }
}

/// `violations` with their known causes in front. A group created twice also makes that group
/// differ from the reference (the view keeps one of the two): those differences are R1's too.
pub fn tag(round: &Round<'_>, violations: Vec<String>) -> Vec<String> {
    let doubled: Vec<String> = violations
        .iter()
        .filter_map(|v| {
            let name = v.split("duplicate: group ").nth(1)?;
            Some(name.trim_end_matches(" created twice").to_owned())
        })
        .collect();
    violations
        .into_iter()
        .map(|violation| {
            let follows_r1 = doubled
                .iter()
                .any(|name| violation.contains(&format!("group {name} ")));
            match cause(round, &violation).or(follows_r1.then_some("R1")) {
                Some(id) => format!("[{id}] {violation}"),
                None => violation,
            }
        })
        .collect()
}

/// Whether a violation carries a known cause.
pub fn is_known(violation: &str) -> bool {
    CAUSES
        .iter()
        .any(|cause| violation.contains(&format!("[{}] ", cause.id)))
}
