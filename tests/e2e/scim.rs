//! Whole runs against a real SCIM server (scim2-server, one tenant per test): every outcome is
//! read back from the server, never from the engine's own memory.
//!
//! Here: full syncs, no-op and dry runs, joiners, movers, field changes, leavers and rehires.
//! `managers`: manager links. `matching`: adoption, users that are not ours, duplicates and
//! conflicts. `rehires`: a rehire under a new profile. `retention`: leavers' users deleted after the tenant's
//! retention. `tokens`:
//! refused tokens. `write_back`: the app's user id written back to Personio. `undo`: a run undone.

mod fields;
mod managers;
mod matching;
mod rehires;
mod retention;
mod tokens;
mod undo;
mod write_back;

use chrono::Days;
use fake_personio::Company;
use std::collections::{BTreeMap, BTreeSet};
use sync_core::history::RunStatus;
use test_support::personio::{day, key, now, TODAY};
use test_support::scim::{ScimHarness, ScimUser};

/// An active person without reports or notice period, in `department` when given.
fn active_member(company: &Company, department: Option<&str>) -> u64 {
    let supervisors: BTreeSet<u64> = company
        .employees
        .iter()
        .filter_map(|e| e.supervisor)
        .collect();
    company
        .employees
        .iter()
        .find(|e| {
            e.status == "active"
                && e.termination_date.is_none()
                && !supervisors.contains(&e.id)
                && department.is_none_or(|name| e.department.as_deref() == Some(name))
        })
        .expect("the generated company has such a person")
        .id
}

/// The server's users by `externalId`.
fn by_external_id(users: &[ScimUser]) -> BTreeMap<String, Vec<&ScimUser>> {
    let mut map: BTreeMap<String, Vec<&ScimUser>> = BTreeMap::new();
    for user in users {
        let external_id = user.external_id.clone().expect("every user is ours");
        map.entry(external_id).or_default().push(user);
    }
    map
}

#[tokio::test]
async fn sample_company_is_synced_in_full_with_one_scim_user_per_person_in_scope() {
    let harness = ScimHarness::new(500).await;
    let outcome = harness.run().await;
    assert_eq!(outcome.record.status, RunStatus::Completed);
    assert!(
        outcome.record.errors.is_empty(),
        "{:?}",
        outcome.record.errors
    );
    let users = harness.users().await;
    let linked = by_external_id(&users);
    let today = day(TODAY);
    let pre_hire_until = today.checked_add_days(Days::new(7)).expect("date");
    let company = harness.fake.company();
    let (mut expected, mut pre_hires) = (0, 0);
    for employee in &company.employees {
        let external_id = key(employee.id).external_id();
        let users_of = linked.get(&external_id).map(Vec::as_slice).unwrap_or(&[]);
        let gone = employee.status == "inactive"
            || employee.termination_date.is_some_and(|date| date < today);
        if gone || employee.hire_date > pre_hire_until {
            assert!(users_of.is_empty(), "{external_id} should have no user");
            continue;
        }
        expected += 1;
        let [user] = users_of else {
            panic!("{external_id} has {} users", users_of.len());
        };
        let pre_hire = employee.hire_date > today;
        pre_hires += usize::from(pre_hire);
        assert_eq!(user.active, Some(!pre_hire), "active flag of {external_id}");
        assert_eq!(user.user_name, employee.email);
        assert_eq!(user.employee_number, Some(employee.id.to_string()));
        assert_eq!(user.department, employee.department, "{external_id}");
        assert_eq!(user.title.as_deref(), Some(employee.position.trim()));
    }
    assert!(pre_hires > 0, "the sample has pre-hires to check");
    assert_eq!(users.len(), expected, "no user beyond the people in scope");
    assert_eq!(outcome.record.counts.created, expected);

    // One group per department, holding exactly the users of that department.
    let groups = harness.scim.groups().await;
    let departments: BTreeSet<&str> = users
        .iter()
        .filter_map(|u| u.department.as_deref())
        .collect();
    assert_eq!(
        groups
            .iter()
            .map(|g| g.display_name.as_str())
            .collect::<BTreeSet<_>>(),
        departments
    );
    for group in &groups {
        let wanted: BTreeSet<String> = users
            .iter()
            .filter(|u| u.department.as_deref() == Some(group.display_name.as_str()))
            .map(|u| u.id.clone())
            .collect();
        assert_eq!(group.members, wanted, "members of {}", group.display_name);
    }
}

#[tokio::test]
async fn second_run_over_an_unchanged_company_sends_no_write_request_to_scim() {
    let harness = ScimHarness::new(500).await;
    harness.run().await;
    let versions = |users: Vec<ScimUser>| -> BTreeMap<String, Option<String>> {
        users.into_iter().map(|u| (u.id, u.version)).collect()
    };
    let before = versions(harness.users().await);
    let groups = harness.scim.groups().await;
    let writes = harness.writes();

    let second = harness.run().await;
    assert_eq!(
        harness.writes(),
        writes,
        "a no-op run sends no POST, PUT or PATCH"
    );
    assert!(
        !second.record.counts.changed_anything(),
        "{:?}",
        second.record.counts
    );
    assert_eq!(
        versions(harness.users().await),
        before,
        "no user changed on the server"
    );
    assert_eq!(harness.scim.groups().await, groups);
}

#[tokio::test]
async fn joiner_appears_on_the_scim_server_on_the_next_run() {
    let harness = ScimHarness::new(40).await;
    harness.run().await;
    let before = harness.users().await.len();
    let mut id = 0;
    harness
        .fake
        .update(|company| id = company.new_hire("Ada", "Lovelace", day("2026-11-02")));
    let outcome = harness.run().await;
    assert_eq!(outcome.record.counts.created, 1);
    let user = harness.user(id).await.expect("the joiner has a user");
    assert_eq!(user.active, Some(true));
    assert_eq!(user.body["name"]["givenName"], "Ada");
    assert_eq!(
        user.user_name,
        harness.fake.company().employee(id).expect("joiner").email
    );
    assert_eq!(harness.users().await.len(), before + 1);
    assert!(harness
        .scim
        .members_of("Engineering")
        .await
        .contains(&user.id));
}

#[tokio::test]
async fn mover_title_and_department_are_patched_and_the_department_group_membership_moves() {
    let harness = ScimHarness::new(60).await;
    harness.run().await;
    let mover = active_member(&harness.fake.company(), Some("Sales"));
    let before = harness.user(mover).await.expect("user");
    assert!(harness.scim.members_of("Sales").await.contains(&before.id));
    harness.fake.update(|company| {
        let person = company.employee_mut(mover).expect("mover");
        person.position = "Head of Marketing".into();
        person.department = Some("Marketing".into());
    });
    let requests = harness.destination.requests();
    let outcome = harness.run().await;
    let after = harness.destination.requests();
    assert_eq!(
        outcome.record.counts.updated, 1,
        "{:?}",
        outcome.record.changes
    );
    assert_eq!(after.post, requests.post, "nobody is created");
    assert_eq!(after.put, requests.put, "the server has PATCH, so no PUT");
    assert!(after.patch > requests.patch);

    let user = harness.user(mover).await.expect("user");
    assert_eq!(user.id, before.id);
    assert_eq!(user.title.as_deref(), Some("Head of Marketing"));
    assert_eq!(user.department.as_deref(), Some("Marketing"));
    assert!(harness
        .scim
        .members_of("Marketing")
        .await
        .contains(&user.id));
    assert!(!harness.scim.members_of("Sales").await.contains(&user.id));

    let writes = harness.writes();
    harness.run().await;
    assert_eq!(
        harness.writes(),
        writes,
        "the run after a move writes nothing"
    );
}

/// Runs once, lets `leave` make person `leaver` a leaver, runs again and checks that the same
/// SCIM user ends inactive, still linked, out of its group, and that nobody was deleted.
async fn leaver_ends_inactive_and_is_not_deleted(leave: impl FnOnce(&mut Company, u64)) {
    let harness = ScimHarness::new(40).await;
    harness.run().await;
    let company = harness.fake.company();
    let leaver = active_member(&company, None);
    let department = company.employee(leaver).and_then(|e| e.department.clone());
    let before = harness.user(leaver).await.expect("user");
    let everyone = harness.users().await.len();
    harness.fake.update(|company| leave(company, leaver));

    let outcome = harness.run().await;
    assert_eq!(
        outcome.record.counts.deactivated, 1,
        "{:?}",
        outcome.record.changes
    );
    let user = harness
        .scim
        .user(&before.id)
        .await
        .expect("leavers are deactivated, never deleted");
    assert_eq!(user.active, Some(false));
    assert_eq!(user.external_id, before.external_id);
    assert_eq!(harness.users().await.len(), everyone);
    let department = department.expect("a department");
    assert!(!harness
        .scim
        .members_of(&department)
        .await
        .contains(&user.id));
}

#[tokio::test]
async fn leaver_with_a_past_termination_date_ends_inactive_and_is_not_deleted() {
    leaver_ends_inactive_and_is_not_deleted(|company, id| {
        company.employee_mut(id).expect("leaver").termination_date = Some(day("2026-11-20"));
    })
    .await;
}

#[tokio::test]
async fn person_removed_from_personio_ends_inactive_and_is_not_deleted() {
    leaver_ends_inactive_and_is_not_deleted(|company, id| {
        company.remove(id).expect("leaver");
    })
    .await;
}

#[tokio::test]
async fn rehire_reactivates_the_same_scim_user() {
    let harness = ScimHarness::new(30).await;
    harness.run().await;
    let person = active_member(&harness.fake.company(), None);
    let before = harness.user(person).await.expect("user");
    harness.fake.update(|company| {
        let employee = company.employee_mut(person).expect("person");
        employee.status = "inactive".into();
        employee.termination_date = Some(day("2026-11-20"));
    });
    harness.run().await;
    assert_eq!(
        harness.user(person).await.expect("user").active,
        Some(false)
    );
    harness.fake.update(|company| {
        let employee = company.employee_mut(person).expect("person");
        employee.status = "active".into();
        employee.termination_date = None;
        employee.hire_date = day(TODAY);
    });
    let outcome = harness.run().await;
    assert_eq!(outcome.record.counts.reactivated, 1);
    assert_eq!(outcome.record.counts.created, 0);
    let after = harness.user(person).await.expect("one user, never two");
    assert_eq!(after.id, before.id, "the same SCIM user, not a new one");
    assert_eq!(after.active, Some(true));
    let department = harness
        .fake
        .company()
        .employee(person)
        .and_then(|e| e.department.clone());
    let members = harness
        .scim
        .members_of(&department.expect("a department"))
        .await;
    assert!(members.contains(&after.id), "back in the department group");
}

#[tokio::test]
async fn pre_hire_is_created_inactive_and_activated_as_the_same_user_on_the_hire_date() {
    let harness = ScimHarness::new(30).await;
    let hire = day(TODAY).checked_add_days(Days::new(3)).expect("date");
    let mut id = 0;
    harness
        .fake
        .update(|company| id = company.new_hire("Grace", "Hopper", hire));
    harness.run().await;
    let created = harness
        .user(id)
        .await
        .expect("created ahead of the hire date");
    assert_eq!(created.active, Some(false));
    let outcome = harness
        .run_at(test_support::personio::at(&hire.to_string(), "06:00:00"))
        .await
        .expect("run");
    assert_eq!(outcome.record.counts.activated, 1);
    let activated = harness.user(id).await.expect("user");
    assert_eq!(activated.id, created.id);
    assert_eq!(activated.active, Some(true));
}

#[tokio::test]
async fn dry_run_plans_against_scim_but_sends_no_write_request() {
    let harness = ScimHarness::new(40).await;
    let outcome = harness.dry_run(now()).await;
    assert_eq!(outcome.record.status, RunStatus::DryRun);
    assert!(
        outcome.record.counts.created > 20,
        "{:?}",
        outcome.record.counts
    );
    assert_eq!(harness.writes(), 0);
    assert!(harness.users().await.is_empty());
    assert!(harness.scim.groups().await.is_empty());
}

#[tokio::test]
async fn changed_and_emptied_fields_land_on_the_same_user_and_the_next_run_writes_nothing() {
    let harness = ScimHarness::new(40).await;
    harness.run().await;
    let company = harness.fake.company();
    let supervisors: BTreeSet<u64> = company
        .employees
        .iter()
        .filter_map(|e| e.supervisor)
        .collect();
    let employee = company
        .employees
        .iter()
        .find(|e| {
            e.status == "active"
                && e.termination_date.is_none()
                && !supervisors.contains(&e.id)
                && e.profile_picture
                && e.office.is_some()
                && e.department.is_some()
        })
        .expect("someone with a picture, an office and a department")
        .clone();
    let office = company
        .offices
        .iter()
        .find(|office| Some(&office.name) != employee.office.as_ref())
        .expect("another office")
        .name
        .clone();
    let email = format!("renamed.person@{}", company.domain);
    let before = harness.user(employee.id).await.expect("user");
    assert!(before.body["photos"].is_array(), "{:?}", before.body);
    harness.fake.update(|company| {
        let person = company.employee_mut(employee.id).expect("person");
        person.email = email.clone();
        person.office = Some(office.clone());
        person.position = String::new();
        person.department = None;
        person.profile_picture = false;
    });

    let outcome = harness.run().await;
    assert!(
        outcome.record.errors.is_empty(),
        "{:?}",
        outcome.record.errors
    );
    assert_eq!(
        outcome.record.counts.updated, 1,
        "{:?}",
        outcome.record.changes
    );
    let user = harness.user(employee.id).await.expect("user");
    assert_eq!(user.id, before.id);
    assert_eq!(user.user_name, email);
    let typed = |attribute: &str, kind: &str, field: &str| -> Vec<String> {
        user.body[attribute]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|item| item["type"] == kind)
            .filter_map(|item| item[field].as_str().map(str::to_owned))
            .collect()
    };
    assert_eq!(typed("emails", "work", "value"), [email]);
    assert_eq!(typed("addresses", "work", "locality"), [office]);
    assert!(
        typed("photos", "photo", "value").is_empty(),
        "{:?}",
        user.body
    );
    assert_eq!(user.title, None, "an emptied title is removed");
    assert_eq!(user.department, None, "an emptied department is removed");
    let old_department = employee.department.expect("department");
    assert!(!harness
        .scim
        .members_of(&old_department)
        .await
        .contains(&user.id));

    let writes = harness.writes();
    harness.run().await;
    assert_eq!(
        harness.writes(),
        writes,
        "the run after the change writes nothing"
    );
}
