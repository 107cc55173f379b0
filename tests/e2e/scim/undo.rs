//! Undo (`personio-sync undo`, the admin API's `POST …/runs/{run}/undo`): a run with creates,
//! updates, deactivations, manager and group changes is undone, and every user and group of the
//! app is compared whole with how it was before.

use super::active_member;
use serde_json::Value;
use std::collections::BTreeMap;
use sync_core::history::{RunStatus, Trigger};
use sync_core::ids::RunId;
use sync_core::run::{self, RunOutcome, RunRequest, RunTarget};
use test_support::personio::{company, day, key, now, TODAY};
use test_support::scim::ScimHarness;

/// Every user as scim2-server serves it, without `meta` (its version and time change with any
/// write, also one that puts back the same values), by id.
async fn whole_users(harness: &ScimHarness) -> BTreeMap<String, Value> {
    let mut users = BTreeMap::new();
    for user in harness.users().await {
        let mut value = harness.scim.get(&format!("Users/{}", user.id), &[]).await;
        if let Some(object) = value.as_object_mut() {
            object.remove("meta");
        }
        users.insert(user.id, value);
    }
    users
}

/// Every group's members by name.
async fn groups(harness: &ScimHarness) -> BTreeMap<String, std::collections::BTreeSet<String>> {
    harness
        .scim
        .groups()
        .await
        .into_iter()
        .map(|group| (group.display_name, group.members))
        .collect()
}

async fn undo(harness: &ScimHarness, undone: &RunId, dry_run: bool) -> RunOutcome {
    let trigger = Trigger::Undo {
        run: undone.clone(),
        only_unchanged: false,
    };
    let request = RunRequest {
        target: RunTarget::Everyone,
        dry_run,
        trigger,
        now: now(),
        deadline: None,
        run_id: None,
    };
    run::undo(&harness.ports(), &harness.config, undone, false, request)
        .await
        .expect("the undo runs")
}

#[tokio::test]
async fn undoing_a_run_puts_every_user_and_group_back_exactly_as_before() {
    let company = company(60);
    let mover = active_member(&company, Some("Engineering"));
    let departments: Vec<String> = company.departments.iter().map(|d| d.name.clone()).collect();
    let elsewhere = departments
        .iter()
        .find(|name| company.employee(mover).and_then(|e| e.department.as_ref()) != Some(*name))
        .expect("another department")
        .clone();
    let others: Vec<u64> = company
        .employees
        .iter()
        .filter(|e| e.status == "active" && e.termination_date.is_none() && e.id != mover)
        .map(|e| e.id)
        .take(3)
        .collect();
    let [wrongly_left, truly_left, new_report] = others[..] else {
        unreachable!("three people");
    };
    let harness = ScimHarness::with("", company).await;
    harness.run().await;
    let users_before = whole_users(&harness).await;
    let groups_before = groups(&harness).await;

    // A run with every kind of change: a joiner, a mover (title, department: a group change),
    // a new manager, and two leavers.
    harness.fake.update(|company| {
        let person = company.employee_mut(mover).expect("mover");
        person.position = "Chief Tinkerer".into();
        person.department = Some(elsewhere.clone());
        company.employee_mut(new_report).expect("report").supervisor = Some(mover);
        for id in [wrongly_left, truly_left] {
            company.employee_mut(id).expect("leaver").termination_date = Some(day("2026-11-20"));
        }
        company.new_hire("Nora", "Neumann", day(TODAY));
    });
    let changed = harness.run().await;
    let counts = &changed.record.counts;
    assert_eq!((counts.created, counts.deactivated), (1, 2), "{counts:?}");
    assert!(
        counts.updated >= 1 && counts.managers >= 1 && counts.groups >= 1,
        "{counts:?}"
    );
    // One of the terminations was a mistake, corrected in Personio before the undo.
    harness.fake.update(|company| {
        company
            .employee_mut(wrongly_left)
            .expect("person")
            .termination_date = None;
    });

    // The dry run shows the undo and writes nothing.
    let writes = harness.writes();
    let dry = undo(&harness, &changed.record.id, true).await;
    assert_eq!(dry.record.status, RunStatus::DryRun);
    assert!(!dry.record.changes.is_empty());
    assert_eq!(harness.writes(), writes);

    let undone = undo(&harness, &changed.record.id, false).await;
    assert_eq!(
        undone.record.status,
        RunStatus::Completed,
        "{:?}",
        undone.record.errors
    );
    assert!(
        undone.record.errors.is_empty(),
        "{:?}",
        undone.record.errors
    );
    // Person actions say what they undo; manager and group writes say what they set.
    for change in undone
        .record
        .changes
        .iter()
        .filter(|c| c.action != "manager" && c.action != "group")
    {
        assert!(
            change
                .reason
                .contains(&format!("undo of run {}", changed.record.id)),
            "{change:?}"
        );
    }

    // Every user that was there before is whole as it was, but the one who truly left: Personio
    // says so, and they stay inactive.
    let users_after = whole_users(&harness).await;
    let truly_left_user = harness.user(truly_left).await.expect("a user").id;
    for (id, before) in &users_before {
        let after = users_after.get(id).expect("no user is deleted");
        if *id == truly_left_user {
            assert_eq!(after["active"], Value::Bool(false));
            continue;
        }
        assert_eq!(after, before, "user {id}");
    }
    // The joiner's user is deactivated, not deleted.
    let joiner: Vec<&Value> = users_after
        .iter()
        .filter(|(id, _)| !users_before.contains_key(*id))
        .map(|(_, user)| user)
        .collect();
    assert_eq!(joiner.len(), 1);
    assert_eq!(joiner[0]["active"], Value::Bool(false));
    // Groups have their members back; one the run created is empty.
    let groups_after = groups(&harness).await;
    for (name, members) in &groups_after {
        let wanted = groups_before.get(name).cloned().unwrap_or_default();
        assert_eq!(members, &wanted, "group {name}");
    }
    let emails = harness.emails();
    let last = emails.last().expect("a summary");
    assert!(last.contains("was undone"), "{last}");
    let _ = key(mover);
}

async fn undo_only_unchanged(harness: &ScimHarness, undone: &RunId) -> RunOutcome {
    let request = RunRequest {
        target: RunTarget::Everyone,
        dry_run: false,
        trigger: Trigger::Undo {
            run: undone.clone(),
            only_unchanged: true,
        },
        now: now(),
        deadline: None,
        run_id: None,
    };
    run::undo(&harness.ports(), &harness.config, undone, true, request)
        .await
        .expect("the undo runs")
}

#[tokio::test]
async fn a_later_run_that_changed_the_same_user_is_named_and_only_unchanged_leaves_it() {
    let company = company(30);
    let people: Vec<u64> = company
        .employees
        .iter()
        .filter(|e| e.status == "active" && e.termination_date.is_none())
        .map(|e| e.id)
        .take(2)
        .collect();
    let [touched_later, left_alone] = people[..] else {
        unreachable!("two people");
    };
    let harness = ScimHarness::with("", company).await;
    harness.run().await;
    let first_title = harness_title(&harness, touched_later).await;
    let other_title = harness_title(&harness, left_alone).await;
    harness.fake.update(|company| {
        for id in [touched_later, left_alone] {
            company.employee_mut(id).expect("person").position = "Interim".into();
        }
    });
    let changed = harness.run().await;
    harness.fake.update(|company| {
        company
            .employee_mut(touched_later)
            .expect("person")
            .position = "Lead".into();
    });
    let later = harness.run().await;
    assert_eq!(later.record.counts.updated, 1);

    let undone = undo_only_unchanged(&harness, &changed.record.id).await;
    let skip = undone
        .record
        .skips
        .iter()
        .find(|skip| skip.person == key(touched_later))
        .expect("named");
    assert!(
        skip.reason.contains(later.record.id.as_str()),
        "{}",
        skip.reason
    );
    assert_eq!(
        harness_title(&harness, touched_later).await,
        Some("Lead".to_owned()),
        "left as the later run left it"
    );
    assert_eq!(
        harness_title(&harness, left_alone).await,
        other_title,
        "put back"
    );
    assert_ne!(first_title, Some("Lead".to_owned()));
}

async fn harness_title(harness: &ScimHarness, id: u64) -> Option<String> {
    harness.user(id).await.and_then(|user| user.title)
}

#[tokio::test]
async fn an_undo_that_would_deactivate_many_is_held() {
    let harness = ScimHarness::with("[guard]\nmax_deactivations = 2\n", company(30)).await;
    harness.run().await;
    harness.fake.update(|company| {
        for name in ["Ana", "Ben", "Cem"] {
            company.new_hire(name, "Neu", day(TODAY));
        }
    });
    let joined = harness.run().await;
    assert_eq!(joined.record.counts.created, 3);
    let users = harness.users().await.len();
    let held = undo(&harness, &joined.record.id, false).await;
    assert_eq!(held.record.status, RunStatus::Held, "{:?}", held.record);
    assert!(
        held.record.held_because[0].contains("deactivated"),
        "{:?}",
        held.record.held_because
    );
    let active = harness
        .users()
        .await
        .iter()
        .filter(|u| u.active == Some(true))
        .count();
    assert_eq!(active, users, "nothing written while held");
}
