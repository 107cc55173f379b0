//! Retention (`lifecycle.delete_after_days`): a leaver's user is deleted in the app the given
//! number of days after the termination date (or after we deactivated it, when Personio gives no
//! date), counted in the tenant's time zone, and only when we created it.

use fake_personio::Company;
use std::collections::BTreeSet;
use sync_core::ports::Store;
use test_support::personio::{at, company, day, key};
use test_support::scim::{foreign_user, ScimHarness};

/// `count` active people without reports or notice period.
fn active_members(company: &Company, count: usize) -> Vec<u64> {
    let supervisors: BTreeSet<u64> = company
        .employees
        .iter()
        .filter_map(|e| e.supervisor)
        .collect();
    let found: Vec<u64> = company
        .employees
        .iter()
        .filter(|e| {
            e.status == "active" && e.termination_date.is_none() && !supervisors.contains(&e.id)
        })
        .map(|e| e.id)
        .take(count)
        .collect();
    assert_eq!(
        found.len(),
        count,
        "the generated company has enough people"
    );
    found
}

#[tokio::test]
async fn retention_deletes_only_the_users_we_created_once_the_days_have_passed_in_the_tenants_zone()
{
    let company = company(40);
    let [created, removed, adopted, stays] = active_members(&company, 4)[..] else {
        unreachable!("four people");
    };
    let adopted_email = company.employee(adopted).expect("person").email.clone();
    // Berlin, the tenant's zone.
    let harness = ScimHarness::with("[lifecycle]\ndelete_after_days = 30\n", company).await;
    let existing = harness
        .scim
        .post_user(foreign_user(&adopted_email, None))
        .await;
    let first = harness.run().await;
    assert_eq!(first.record.counts.adopted, 1);
    let mut users = Vec::new();
    for id in [created, removed, stays] {
        users.push(harness.user(id).await.expect("a user"));
    }
    let [created_user, removed_user, stays_user] = &users[..] else {
        unreachable!("three users");
    };
    let everyone = harness.users().await.len();

    // Two leave on the 25th of November; one is deleted in Personio (no termination date).
    harness.fake.update(|company| {
        for id in [created, adopted] {
            company.employee_mut(id).expect("leaver").termination_date = Some(day("2026-11-25"));
        }
        company.remove(removed).expect("removed");
    });
    let left = harness
        .run_at(at("2026-11-26", "12:00:00"))
        .await
        .expect("run");
    assert_eq!(
        left.record.counts.deactivated, 3,
        "{:?}",
        left.record.changes
    );
    assert_eq!(left.record.counts.deleted, 0);

    // 30 days after the 25th is the 25th of December. At 22:30 UTC on the 24th it is still the
    // 24th in Berlin: nothing is deleted.
    let eve = harness
        .run_at(at("2026-12-24", "22:30:00"))
        .await
        .expect("run");
    assert_eq!(eve.record.counts.deleted, 0, "{:?}", eve.record.changes);
    assert_eq!(harness.users().await.len(), everyone);

    // An hour later it is the 25th in Berlin (still the 24th in UTC). A dry run shows the
    // deletion and deletes nothing.
    let christmas = at("2026-12-24", "23:30:00");
    let dry = harness.dry_run(christmas).await;
    let planned: Vec<(String, String)> = dry
        .record
        .changes
        .iter()
        .map(|change| (change.person.to_string(), change.action.clone()))
        .collect();
    assert_eq!(
        planned,
        vec![(key(created).to_string(), "delete".to_owned())]
    );
    assert_eq!(harness.users().await.len(), everyone);

    // The run deletes the user we created and only it: the adopted leaver stays (inactive), the
    // removed person's retention counts from the 26th, when we deactivated them.
    let deleting = harness.run_at(christmas).await.expect("run");
    assert_eq!(
        deleting.record.counts.deleted, 1,
        "{:?}",
        deleting.record.changes
    );
    assert_eq!(deleting.record.counts.deactivated, 0);
    assert_eq!(
        harness.scim.user(&created_user.id).await,
        None,
        "deleted in the app"
    );
    let adopted_user = harness
        .scim
        .user(&existing.id)
        .await
        .expect("adopted, kept");
    assert_eq!(adopted_user.active, Some(false));
    assert_eq!(
        harness.scim.user(&removed_user.id).await.map(|u| u.active),
        Some(Some(false))
    );
    assert_eq!(
        harness.scim.user(&stays_user.id).await.map(|u| u.active),
        Some(Some(true))
    );
    assert_eq!(harness.users().await.len(), everyone - 1);
    // The link goes with the user, and the email says so.
    let snapshot = harness
        .store
        .snapshot(&harness.config.tenant)
        .await
        .expect("snapshot");
    assert!(!snapshot.links.contains_key(&key(created)));
    assert!(snapshot.links.contains_key(&key(adopted)));
    let emails = harness.emails();
    let last = emails.last().expect("a summary");
    assert!(last.contains("1 deleted"), "{last}");

    // On the 26th the removed person's retention is over too.
    let later = harness
        .run_at(at("2026-12-26", "12:00:00"))
        .await
        .expect("run");
    assert_eq!(later.record.counts.deleted, 1, "{:?}", later.record.changes);
    assert_eq!(harness.scim.user(&removed_user.id).await, None);
    assert!(harness.scim.user(&existing.id).await.is_some());

    // Nothing is left to delete: the next run writes nothing.
    let writes = harness.writes();
    let quiet = harness
        .run_at(at("2026-12-27", "12:00:00"))
        .await
        .expect("run");
    assert_eq!(quiet.record.counts.deleted, 0);
    assert_eq!(harness.writes(), writes);
}
