//! The simulation's tenants (`simulation.rs`) and the checks of what their runs left behind:
//! the run history in DynamoDB and the users in each app.

use super::churn::Changes;
use super::stack::Stack;
use super::tenant::{key, today, AppUser, Tenant};
use std::collections::{BTreeMap, BTreeSet};
use sync_core::history::{Reading, RunStatus, Trigger};

/// Ticks simulated.
pub const TICKS: usize = 3;
/// Every this many tenants (and the largest), the app is read back and checked person by person.
pub const CHECK_EVERY: usize = 10;

/// One simulated tenant.
pub struct Simulated {
    /// The tenant.
    pub tenant: Tenant,
    /// The tenant's own table (see `SplitSchedule` for why each tenant has one).
    pub table: String,
    /// The stack on that table, straight to moto: for onboarding and reading back, not counted.
    pub view: Stack,
    /// People in its company.
    pub people: usize,
    /// Its company's seed, and its changes'.
    pub seed: u64,
    /// The changes of each round.
    pub changes: Vec<Changes>,
}

/// Every tenant has three completed scheduled runs: the first read everyone. Returns, per tick,
/// how many runs read only the changes, and what is wrong.
pub async fn check_runs(tenants: &[Simulated]) -> (Vec<usize>, Vec<String>) {
    let mut incremental = vec![0; TICKS];
    let mut problems = Vec::new();
    for simulated in tenants {
        let id = &simulated.tenant.id;
        let mut runs = simulated.tenant.runs(&simulated.view).await;
        runs.reverse();
        if runs.len() != TICKS {
            problems.push(format!("tenant {id} has {} runs", runs.len()));
        }
        for (n, run) in runs.iter().enumerate().take(TICKS) {
            if run.status != RunStatus::Completed || run.trigger != Trigger::Schedule {
                problems.push(format!(
                    "tenant {id}, run {}: {:?} {:?}",
                    n + 1,
                    run.status,
                    run.trigger
                ));
            }
            if run.counts.errors > 0 {
                problems.push(format!(
                    "tenant {id}, run {}: {} errors",
                    n + 1,
                    run.counts.errors
                ));
            }
            if matches!(run.reading, Reading::Changed { .. }) {
                incremental[n] += 1;
            }
        }
        if runs
            .first()
            .is_some_and(|run| run.reading != Reading::Everyone)
        {
            problems.push(format!("tenant {id}: the first run did not read everyone"));
        }
    }
    (incremental, problems)
}

/// The apps of every `CHECK_EVERY`th tenant and of the largest: the active users are exactly
/// the people who should have one, each leaver's user is deactivated, each new title arrived.
/// What is wrong.
pub async fn check_apps(tenants: &[Simulated]) -> Vec<String> {
    let largest = tenants.iter().map(|s| s.people).max().unwrap_or(0);
    let mut problems = Vec::new();
    for (n, simulated) in tenants.iter().enumerate() {
        if n % CHECK_EVERY != 0 && simulated.people != largest {
            continue;
        }
        let tenant = &simulated.tenant;
        let users = tenant.users().await;
        let by_external: BTreeMap<String, &AppUser> = users
            .iter()
            .filter_map(|user| Some((user.external_id.clone()?, user)))
            .collect();
        let active: BTreeSet<String> = users
            .iter()
            .filter(|user| user.active)
            .filter_map(|user| user.external_id.clone())
            .collect();
        // Who should have a user: active from the hire date on, created inactive before (pre-hires).
        let expected = tenant.expected_external_ids();
        let today = today();
        let company = tenant.fake.company();
        let hired: BTreeSet<String> = company
            .employees
            .iter()
            .filter(|e| e.hire_date <= today)
            .map(|e| key(e.id).external_id())
            .collect();
        let expected_active: BTreeSet<String> = expected.intersection(&hired).cloned().collect();
        for missing in expected.iter().filter(|id| !by_external.contains_key(*id)) {
            problems.push(format!("tenant {}: {missing} has no user", tenant.id));
        }
        for missing in expected_active.difference(&active) {
            problems.push(format!("tenant {}: {missing} is not active", tenant.id));
        }
        for extra in active.difference(&expected_active) {
            problems.push(format!(
                "tenant {}: {extra} should not be active",
                tenant.id
            ));
        }
        let mut titles = BTreeMap::new();
        for changes in &simulated.changes {
            for leaver in &changes.leavers {
                let user = by_external.get(&key(*leaver).external_id());
                if user.is_none_or(|user| user.active) {
                    problems.push(format!(
                        "tenant {}: leaver {leaver} is not deactivated",
                        tenant.id
                    ));
                }
            }
            titles.extend(changes.titles.iter().cloned());
        }
        for (id, title) in titles {
            let user = by_external.get(&key(id).external_id());
            // A SCIM user has `title`; a directory user keeps its fields under `fields`.
            let found = user.map(|user| (&user.body["title"], &user.body["fields"]["title"]));
            if found.is_none_or(|(scim, directory)| {
                scim != title.as_str() && directory != title.as_str()
            }) {
                problems.push(format!(
                    "tenant {}: {id} does not have the title {title}: {:?}",
                    tenant.id,
                    user.map(|user| &user.body)
                ));
            }
        }
    }
    problems
}
