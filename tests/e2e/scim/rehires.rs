//! Rehires under a new Personio profile: held for an admin, then re-linked to the departed
//! profile's user (one account, its id kept) or given a user of its own.

use super::active_member;
use sync_core::ports::Store;
use sync_core::rehire::{self, RehireDecision};
use test_support::personio::{company, day, key, TODAY};
use test_support::scim::ScimHarness;

/// Runs once; `person` leaves and their profile is deleted in Personio; a run deactivates them;
/// they come back as a new profile with the same work email. Returns the harness, the old and
/// the new profile's ids, and the old user's SCIM id.
async fn back_under_a_new_profile() -> (ScimHarness, u64, u64, String) {
    let company = company(40);
    let person = active_member(&company, None);
    let harness = ScimHarness::with("", company).await;
    harness.run().await;
    let old_user = harness.user(person).await.expect("a user");
    let departed = harness
        .fake
        .company()
        .employee(person)
        .expect("person")
        .clone();
    harness.fake.update(|company| {
        company.remove(person);
    });
    let left = harness.run().await;
    assert_eq!(left.record.counts.deactivated, 1);
    let new_id = harness.fake.company().next_id();
    harness.fake.update(|company| {
        let mut again = departed;
        again.id = new_id;
        again.hire_date = day(TODAY);
        again.termination_date = None;
        again.status = "active".into();
        company.add_employee(again);
    });
    (harness, person, new_id, old_user.id)
}

#[tokio::test]
async fn a_rehire_under_a_new_profile_is_held_and_relinking_keeps_the_old_user() {
    let (harness, old, new, old_user) = back_under_a_new_profile().await;
    let users = harness.users().await.len();

    // Held: no second user, nothing written, and the history says why and how to decide.
    let writes = harness.writes();
    let held = harness.run().await;
    assert_eq!(held.record.counts.created, 0, "{:?}", held.record.changes);
    assert_eq!(harness.writes(), writes);
    let skip = held
        .record
        .skips
        .iter()
        .find(|skip| skip.person == key(new))
        .expect("the new profile is held");
    assert!(
        skip.reason.contains(&key(old).to_string()),
        "{}",
        skip.reason
    );
    assert!(skip.reason.contains("--relink"), "{}", skip.reason);
    // The summary email asks for the decision.
    let emails = harness.emails();
    let email = emails.last().expect("a summary");
    assert!(email.contains("wait for your decision"), "{email}");
    // Held again on the next run, until someone decides.
    let again = harness.run().await;
    assert!(again
        .record
        .skips
        .iter()
        .any(|skip| skip.person == key(new)));

    // Re-linked: the next run gives the old user to the new profile.
    let user = rehire::decide(
        &harness.store,
        &harness.config.tenant,
        &key(new),
        &key(old),
        RehireDecision::Relink,
    )
    .await
    .expect("decided");
    assert_eq!(user.as_str(), old_user);
    let relinked = harness.run().await;
    assert_eq!(
        relinked.record.counts.adopted, 1,
        "{:?}",
        relinked.record.changes
    );
    assert_eq!(relinked.record.counts.created, 0);
    let change = relinked
        .record
        .changes
        .iter()
        .find(|change| change.person == key(new))
        .expect("the re-link is in the history");
    assert!(change.reason.contains("re-linked"), "{}", change.reason);
    let scim_user = harness.scim.user(&old_user).await.expect("the same user");
    assert_eq!(scim_user.external_id, Some(key(new).external_id()));
    assert_eq!(scim_user.active, Some(true));
    assert_eq!(scim_user.employee_number, Some(new.to_string()));
    assert_eq!(harness.users().await.len(), users, "no second user");
    let snapshot = harness
        .store
        .snapshot(&harness.config.tenant)
        .await
        .expect("snapshot");
    assert!(!snapshot.links.contains_key(&key(old)));
    assert_eq!(snapshot.links[&key(new)].destination_id.as_str(), old_user);

    // Done: the next run writes nothing.
    let writes = harness.writes();
    harness.run().await;
    assert_eq!(harness.writes(), writes);
}

#[tokio::test]
async fn choosing_a_new_user_for_a_rehire_ends_the_hold_and_keeps_the_old_user_as_it_is() {
    let (harness, old, new, old_user) = back_under_a_new_profile().await;
    harness.run().await;
    rehire::decide(
        &harness.store,
        &harness.config.tenant,
        &key(new),
        &key(old),
        RehireDecision::CreateNew,
    )
    .await
    .expect("decided");
    let next = harness.run().await;
    assert!(
        !next.record.skips.iter().any(|skip| skip.person == key(new)),
        "no longer held: {:?}",
        next.record.skips
    );
    // The app refuses a second user with the departed user's name: the new profile's create is
    // tried and its refusal reported, and the old user stays as it was.
    let tried = next.record.changes.iter().any(|c| c.person == key(new))
        || next
            .record
            .errors
            .iter()
            .any(|e| e.person == Some(key(new)));
    assert!(tried, "{:?} {:?}", next.record.changes, next.record.errors);
    let kept = harness.scim.user(&old_user).await.expect("kept");
    assert_eq!(kept.external_id, Some(key(old).external_id()));
    assert_eq!(kept.active, Some(false));
}
