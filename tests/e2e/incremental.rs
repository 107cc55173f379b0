//! Incremental scheduled runs (decision 0019): between full runs a scheduled run reads only the
//! people Personio says changed, and the daily full run finds who was deleted from Personio.
//!
//! The generated company was last changed on `TODAY` before 18:00, so runs start at 19:00: only
//! what a test changes (stamped with the real clock, later still) counts as changed.

use sync_core::history::{Reading, RunStatus};
use test_support::harness::*;
use test_support::personio::*;

const EVERY_TEN_MINUTES: &str = "[schedule]\nevery_minutes = 10\n";

/// Active people with a user and no termination date, who supervise nobody.
async fn plain_people(harness: &Harness, count: usize) -> Vec<u64> {
    let company = harness.fake.company();
    let supervisors: Vec<u64> = company
        .employees
        .iter()
        .filter_map(|employee| employee.supervisor)
        .collect();
    let mut people = Vec::new();
    for employee in &company.employees {
        let plain = employee.status == "active"
            && employee.termination_date.is_none()
            && !supervisors.contains(&employee.id);
        if plain && harness.user(employee.id).await.is_some() {
            people.push(employee.id);
            if people.len() == count {
                break;
            }
        }
    }
    assert_eq!(people.len(), count, "the company has too few plain people");
    people
}

#[tokio::test]
async fn scheduled_runs_read_only_the_changes_and_the_daily_full_run_finds_the_deleted() {
    let harness = Harness::with(EVERY_TEN_MINUTES, company(200)).await;
    let full = harness
        .run_at(at(TODAY, "19:00:00"))
        .await
        .expect("full run");
    assert_eq!(
        full.record.reading,
        Reading::Everyone,
        "nothing to build on"
    );
    assert_eq!(full.record.fetched, 200);

    // Nothing changed: one list request, nobody read, nothing written.
    let stats = harness.fake.stats();
    let writes = harness.directory.writes();
    let quiet = harness
        .run_at(at(TODAY, "19:10:00"))
        .await
        .expect("quiet run");
    assert_eq!(
        quiet.record.reading,
        Reading::Changed {
            since: at(TODAY, "18:55:00")
        }
    );
    assert_eq!(quiet.record.fetched, 0);
    assert_eq!(harness.fake.stats().list_requests, stats.list_requests + 1);
    assert_eq!(harness.fake.stats().auth_requests, stats.auth_requests);
    assert_eq!(
        harness.directory.writes(),
        writes,
        "a quiet run writes nothing"
    );

    // A mover, a leaver, and someone deleted from Personio.
    let [mover, leaver, deleted] = plain_people(&harness, 3).await[..] else {
        unreachable!("three people were asked for");
    };
    harness.fake.update(|company| {
        company.employee_mut(mover).expect("mover").position = "Chief Incrementalist".into();
        company
            .employee_mut(leaver)
            .expect("leaver")
            .termination_date = Some(day("2026-11-20"));
        company.remove(deleted);
    });
    let changed = harness.run_at(at(TODAY, "19:20:00")).await.expect("run");
    assert_eq!(
        changed.record.reading,
        Reading::Changed {
            since: at(TODAY, "19:05:00")
        }
    );
    assert_eq!(changed.record.fetched, 2, "the mover and the leaver");
    let harness = &harness;
    let user = |id| async move { harness.user(id).await.expect("a user") };
    assert_eq!(
        user(mover).await.fields.text("title").as_deref(),
        Some("Chief Incrementalist")
    );
    assert!(!user(leaver).await.active);
    assert!(
        user(deleted).await.active,
        "an incremental run cannot see who was deleted"
    );
    let email = harness.emails().pop().expect("a summary");
    assert!(email.contains("scheduled, incremental"), "{email}");

    // A day after the last full run, the scheduled run reads everyone and finds the deleted.
    let daily = harness
        .run_at(at("2026-11-24", "19:00:00"))
        .await
        .expect("daily run");
    assert_eq!(daily.record.reading, Reading::Everyone);
    assert!(!user(deleted).await.active);
    assert_eq!(
        daily.record.counts.deactivated, 1,
        "{:?}",
        daily.record.changes
    );
}

#[tokio::test]
async fn a_config_change_makes_the_next_scheduled_run_full_and_the_guards_still_hold() {
    let mut harness = Harness::with(EVERY_TEN_MINUTES, company(200)).await;
    harness
        .run_at(at(TODAY, "19:00:00"))
        .await
        .expect("full run");
    harness.config.guard.max_deactivations = 5;
    let after_change = harness.run_at(at(TODAY, "19:10:00")).await.expect("run");
    assert_eq!(after_change.record.reading, Reading::Everyone);

    // Six leavers at once, read incrementally: held, nothing written.
    let leavers = plain_people(&harness, 6).await;
    harness.fake.update(|company| {
        for id in &leavers {
            company.employee_mut(*id).expect("leaver").termination_date = Some(day("2026-11-20"));
        }
    });
    let writes = harness.directory.writes();
    let held = harness.run_at(at(TODAY, "19:20:00")).await.expect("run");
    assert!(matches!(held.record.reading, Reading::Changed { .. }));
    assert_eq!(held.record.status, RunStatus::Held, "{:?}", held.record);
    assert!(
        held.record.held_because[0].contains("6 users would be deactivated"),
        "{:?}",
        held.record.held_because
    );
    assert_eq!(harness.directory.writes(), writes);
}
