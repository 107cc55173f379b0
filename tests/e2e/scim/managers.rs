//! Manager links against SCIM: the enterprise `manager.value` is the supervisor's SCIM id.

use super::by_external_id;
use test_support::personio::{day, key};
use test_support::scim::ScimHarness;

#[tokio::test]
async fn managers_are_the_supervisors_scim_ids_including_managers_created_in_the_same_run() {
    let harness = ScimHarness::new(80).await;
    harness.run().await;
    let company = harness.fake.company();
    let users = harness.users().await;
    let linked = by_external_id(&users);
    let user_of = |id: u64| linked.get(&key(id).external_id()).map(|users| users[0]);
    let mut checked = 0;
    for employee in &company.employees {
        let (Some(user), Some(supervisor)) = (user_of(employee.id), employee.supervisor) else {
            continue;
        };
        let manager = user_of(supervisor).expect("supervisors are always synced");
        assert_eq!(
            user.manager.as_ref(),
            Some(&manager.id),
            "manager of {}",
            employee.id
        );
        checked += 1;
    }
    assert!(checked > 60, "only {checked} manager links checked");

    // A new manager and their first report, both created by the same run.
    let (mut boss, mut report) = (0, 0);
    harness.fake.update(|company| {
        boss = company.new_hire("Grace", "Hopper", day("2026-11-02"));
        report = company.new_hire("Alan", "Turing", day("2026-11-09"));
        company.employee_mut(report).expect("report").supervisor = Some(boss);
    });
    let outcome = harness.run().await;
    assert_eq!(outcome.record.counts.created, 2);
    let boss_user = harness.user(boss).await.expect("boss");
    let report_user = harness.user(report).await.expect("report");
    assert_eq!(report_user.manager, Some(boss_user.id.clone()));
    let head = harness
        .fake
        .company()
        .employee(boss)
        .and_then(|e| e.supervisor);
    let head_user = harness.user(head.expect("a head")).await.expect("head");
    assert_eq!(boss_user.manager, Some(head_user.id));
}

#[tokio::test]
async fn changed_and_removed_supervisors_change_and_remove_the_scim_manager() {
    let harness = ScimHarness::new(40).await;
    harness.run().await;
    let company = harness.fake.company();
    let ceo = company.employees[0].id;
    // Two people whose supervisor is not the CEO: one moves under the CEO, one loses theirs.
    let mut reports = company.employees.iter().filter(|e| {
        e.status == "active"
            && e.termination_date.is_none()
            && e.supervisor.is_some_and(|s| s != ceo)
    });
    let mover = reports.next().expect("a report").id;
    let orphan = reports.next().expect("another report").id;
    assert!(harness.user(orphan).await.expect("user").manager.is_some());
    harness.fake.update(|company| {
        company.employee_mut(mover).expect("mover").supervisor = Some(ceo);
        company.employee_mut(orphan).expect("orphan").supervisor = None;
    });

    let outcome = harness.run().await;
    assert!(
        outcome.record.errors.is_empty(),
        "{:?}",
        outcome.record.errors
    );
    assert_eq!(
        outcome.record.counts.managers, 2,
        "{:?}",
        outcome.record.changes
    );
    let ceo_user = harness.user(ceo).await.expect("the CEO's user");
    assert_eq!(
        harness.user(mover).await.expect("user").manager,
        Some(ceo_user.id)
    );
    let orphan_user = harness.user(orphan).await.expect("user");
    assert_eq!(orphan_user.manager, None, "{:?}", orphan_user.body);

    let writes = harness.writes();
    harness.run().await;
    assert_eq!(
        harness.writes(),
        writes,
        "the run after the change writes nothing"
    );
}
