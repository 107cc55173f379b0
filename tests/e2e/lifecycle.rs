//! Joiners, movers and leavers through full runs.

use chrono::Days;
use sync_core::history::RunStatus;
use test_support::harness::*;
use test_support::personio::*;

#[tokio::test]
async fn first_sync_creates_everyone_in_scope_and_a_second_run_changes_nothing() {
    let harness = Harness::new(120).await;
    let first = harness.run().await;
    let users = harness.users().await;
    assert_eq!(users.len(), first.record.counts.created);
    assert!(
        first.record.counts.created > 90,
        "{:?}",
        first.record.counts
    );
    assert!(users.iter().all(|user| user
        .external_id
        .as_deref()
        .is_some_and(|id| id.starts_with("main:"))));
    let writes = harness.directory.writes();

    let second = harness.run().await;
    assert!(
        !second.record.counts.changed_anything(),
        "{:?}",
        second.record.counts
    );
    assert_eq!(
        harness.directory.writes(),
        writes,
        "a no-op run writes nothing"
    );
    assert_eq!(harness.emails().len(), 2, "one summary email per run");
}

#[tokio::test]
async fn joiner_appears_on_the_next_run() {
    let harness = Harness::new(40).await;
    harness.run().await;
    let mut id = 0;
    harness
        .fake
        .update(|company| id = company.new_hire("Ada", "Lovelace", day("2026-11-02")));
    let outcome = harness.run().await;
    assert_eq!(outcome.record.counts.created, 1);
    let user = harness.user(id).await.expect("the joiner has a user");
    assert!(user.active);
    assert_eq!(user.fields.text("given_name").as_deref(), Some("Ada"));
}

#[tokio::test]
async fn mover_gets_the_new_title_and_moves_between_department_groups() {
    let harness = Harness::new(60).await;
    harness.run().await;
    let company = harness.fake.company();
    let mover = company
        .employees
        .iter()
        .find(|e| {
            e.status == "active"
                && e.termination_date.is_none()
                && e.department.as_deref() == Some("Sales")
        })
        .expect("someone active in Sales")
        .id;
    harness.fake.update(|company| {
        let person = company.employee_mut(mover).expect("mover");
        person.position = "Head of Marketing".into();
        person.department = Some("Marketing".into());
    });
    let outcome = harness.run().await;
    assert_eq!(
        outcome.record.counts.updated, 1,
        "{:?}",
        outcome.record.changes
    );
    let user = harness.user(mover).await.expect("user");
    assert_eq!(
        user.fields.text("title").as_deref(),
        Some("Head of Marketing")
    );
    assert_eq!(user.fields.text("department").as_deref(), Some("Marketing"));
    let groups = harness.directory.read_all_groups().await.expect("groups");
    let members_of = |name: &str| {
        groups
            .iter()
            .find(|g| g.display_name == name)
            .map(|g| g.members.clone())
            .unwrap_or_default()
    };
    assert!(members_of("Marketing").contains(&user.id));
    assert!(!members_of("Sales").contains(&user.id));
}

#[tokio::test]
async fn leaver_is_deactivated_the_day_after_the_termination_date_in_the_tenant_time_zone() {
    let harness = Harness::new(40).await;
    harness.run().await;
    let leaver = first_with_status(&harness.fake.company(), "active");
    harness.fake.update(|company| {
        company
            .employee_mut(leaver)
            .expect("leaver")
            .termination_date = Some(day(TODAY))
    });
    harness.run_at(at(TODAY, "22:30:00")).await.expect("run");
    assert!(
        harness.user(leaver).await.expect("user").active,
        "still their last day in Berlin (23:30)"
    );
    // 23:30 UTC is already the next day in Berlin.
    let outcome = harness.run_at(at(TODAY, "23:30:00")).await.expect("run");
    assert_eq!(outcome.record.counts.deactivated, 1);
    let user = harness
        .user(leaver)
        .await
        .expect("leavers are deactivated, never deleted");
    assert!(!user.active);
}

#[tokio::test]
async fn pre_hire_is_created_inactive_and_activated_on_the_hire_date() {
    let harness = Harness::new(30).await;
    let hire = day(TODAY).checked_add_days(Days::new(3)).expect("date");
    let mut id = 0;
    harness
        .fake
        .update(|company| id = company.new_hire("Grace", "Hopper", hire));
    harness.run().await;
    let user = harness
        .user(id)
        .await
        .expect("created ahead of the hire date");
    assert!(!user.active);
    let outcome = harness
        .run_at(at(&hire.to_string(), "06:00:00"))
        .await
        .expect("run");
    assert_eq!(outcome.record.counts.activated, 1);
    let activated = harness.user(id).await.expect("user");
    assert!(activated.active);
    assert_eq!(activated.id, user.id);
}

#[tokio::test]
async fn joiner_far_in_the_future_waits() {
    let harness = Harness::new(20).await;
    let mut id = 0;
    harness
        .fake
        .update(|company| id = company.new_hire("Alan", "Turing", day("2027-03-01")));
    let outcome = harness.run().await;
    assert!(harness.user(id).await.is_none());
    assert!(outcome
        .plan
        .skips
        .iter()
        .any(|skip| skip.key == key(id) && skip.reason.contains("2027-03-01")));
}

#[tokio::test]
async fn rehire_reactivates_the_same_user() {
    let harness = Harness::new(30).await;
    harness.run().await;
    let person = first_with_status(&harness.fake.company(), "active");
    let before = harness.user(person).await.expect("user");
    harness.fake.update(|company| {
        let employee = company.employee_mut(person).expect("person");
        employee.status = "inactive".into();
        employee.termination_date = Some(day("2026-11-20"));
    });
    harness.run().await;
    assert!(!harness.user(person).await.expect("user").active);
    harness.fake.update(|company| {
        let employee = company.employee_mut(person).expect("person");
        employee.status = "active".into();
        employee.termination_date = None;
        employee.hire_date = day("2026-11-23");
    });
    let outcome = harness.run().await;
    assert_eq!(outcome.record.counts.reactivated, 1);
    let after = harness.user(person).await.expect("user");
    assert!(after.active);
    assert_eq!(after.id, before.id, "the same user, not a new one");
    let external = key(person).external_id();
    let linked = harness
        .users()
        .await
        .into_iter()
        .filter(|u| u.external_id.as_deref() == Some(external.as_str()))
        .count();
    assert_eq!(linked, 1, "never a second user for a rehire");
}

#[tokio::test]
async fn people_who_leave_scope_are_deactivated() {
    let extra =
        "[[scope.rules]]\nattribute = \"department\"\nallowed = [\"Engineering\", \"Sales\"]\n";
    let harness = Harness::with(extra, company(80)).await;
    harness.run().await;
    let users = harness.users().await;
    assert!(users.iter().all(|user| matches!(
        user.fields.text("department").as_deref(),
        Some("Engineering" | "Sales")
    )));
    let engineer = harness
        .fake
        .company()
        .employees
        .iter()
        .find(|e| {
            e.status == "active"
                && e.termination_date.is_none()
                && e.department.as_deref() == Some("Engineering")
        })
        .expect("an engineer")
        .id;
    harness.fake.update(|company| {
        company.employee_mut(engineer).expect("engineer").department = Some("Finance".into())
    });
    let outcome = harness.run().await;
    assert_eq!(outcome.record.counts.deactivated, 1);
    assert!(outcome
        .record
        .changes
        .iter()
        .any(|c| c.reason.contains("left scope")));
    assert!(!harness.user(engineer).await.expect("user").active);
}

#[tokio::test]
async fn managers_are_linked_along_the_chain_including_managers_created_in_the_same_run() {
    let harness = Harness::new(80).await;
    harness.run().await;
    let company = harness.fake.company();
    let users = harness.users().await;
    let by_external = |id: u64| {
        users
            .iter()
            .find(|u| u.external_id.as_deref() == Some(key(id).external_id().as_str()))
    };
    let mut checked = 0;
    for employee in &company.employees {
        let (Some(user), Some(supervisor)) = (by_external(employee.id), employee.supervisor) else {
            continue;
        };
        if let Some(manager) = by_external(supervisor) {
            assert_eq!(
                user.manager.as_ref(),
                Some(&manager.id),
                "manager of {}",
                employee.id
            );
            checked += 1;
        }
    }
    assert!(checked > 40, "only {checked} manager links checked");
}

#[tokio::test]
async fn custom_attributes_map_by_key() {
    let extra = "[[mapping.fields]]\ntarget = \"shirt_size\"\nsource = \"dynamic_40001\"\n";
    let harness = Harness::with(extra, company(30)).await;
    harness.run().await;
    let company = harness.fake.company();
    let person = company
        .employees
        .iter()
        .find(|e| {
            e.status == "active" && e.custom.get("dynamic_40001").is_some_and(|v| v.is_string())
        })
        .expect("someone with a shirt size");
    let user = harness.user(person.id).await.expect("user");
    assert_eq!(
        user.fields.text("shirt_size").as_deref(),
        person.custom["dynamic_40001"].as_str()
    );
}

#[tokio::test]
async fn one_person_run_syncs_only_that_person() {
    let harness = Harness::new(30).await;
    harness.run().await;
    let (first, second) = {
        let company = harness.fake.company();
        let mut active = company
            .employees
            .iter()
            .filter(|e| e.status == "active" && e.termination_date.is_none());
        (
            active.next().expect("one").id,
            active.next().expect("two").id,
        )
    };
    harness.fake.update(|company| {
        company.employee_mut(first).expect("first").position = "Chief Tester".into();
        company.employee_mut(second).expect("second").position = "Deputy Tester".into();
    });
    let outcome = harness.run_person(first, now()).await.expect("run");
    assert_eq!(outcome.record.counts.updated, 1);
    assert_eq!(
        harness
            .user(first)
            .await
            .expect("user")
            .fields
            .text("title")
            .as_deref(),
        Some("Chief Tester")
    );
    assert_ne!(
        harness
            .user(second)
            .await
            .expect("user")
            .fields
            .text("title")
            .as_deref(),
        Some("Deputy Tester")
    );
}

#[tokio::test]
async fn summary_email_lists_changes_and_attaches_errors_csv() {
    let harness = Harness::new(30).await;
    harness.run().await;
    let person = first_with_status(&harness.fake.company(), "active");
    harness
        .fake
        .update(|company| company.employee_mut(person).expect("person").email = String::new());
    let outcome = harness.run().await;
    assert_eq!(outcome.record.status, RunStatus::Completed);
    assert!(outcome
        .record
        .errors
        .iter()
        .any(|e| e.person == Some(key(person)) && e.message.contains("`email`")));
    let email = harness.emails().pop().expect("an email");
    assert!(email.contains("To: <admins@tenant.example>"));
    assert!(email.contains("filename=\"errors.csv\""));
    assert!(email.contains("text/html"));
    // The person with the broken record keeps their user as it was.
    assert!(harness.user(person).await.expect("user").active);
}
