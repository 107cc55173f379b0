//! Deterministic regression tests for the violations the randomised suite found, one per cause.
//!
//! **Each test below marked `KNOWN VIOLATION` fails until the engine or adapter is fixed** (this
//! package may not change them); its comment names the file and function, what happens and what
//! should happen. `docs/reliability.md` lists them with the scenarios that found them.

use crate::scenario::personio::attribute_keys;
use crate::support::fault_proxy::{Canned, Fault, Matcher, Pick, Rule};
use crate::support::tenant::{FaultyTenant, Patience};
use axum::http::Method;
use fake_personio::FakePersonio;
use std::collections::BTreeMap;
use sync_core::history::RunStatus;
use sync_core::run::RunTarget;
use test_support::harness::Harness;
use test_support::personio::{first_with_status, now};

/// The credential of `harness`'s fake can no longer read `attribute`.
fn unlist(fake: &FakePersonio, attribute: &str) {
    let mut keys = attribute_keys(&fake.company());
    assert!(keys.remove(attribute), "the fake renders `{attribute}`");
    fake.set_whitelist(Some(keys));
}

/// KNOWN VIOLATION (sync-scim, `groups.rs` `create_group_with` with `client.rs` `Client::send`):
/// a `POST /Groups` that the server applied but whose answer was lost (a 5xx from a gateway
/// after the server acted, a dropped connection, a timeout) is sent again by `Client::send`'s
/// retry loop, and the server — which, like most, does not enforce unique group names or
/// external ids — creates the group a second time. The `find_group` look-up in
/// `create_group_with` only runs before the first POST and after the *last* attempt failed, so it
/// never sees the retry succeed. Found by scenarios 108, 123, 162 and 168 of seed `0x8a112026`
/// ("scim 5xx after apply", "scim dropped after apply"), and by natural timeouts under load.
///
/// Should: a create is never blindly re-sent. `create_group_with` sends the POST with a single
/// attempt (a `Client::send_once`, or `send` with retries off for POST), and on a transient
/// failure looks the group up by `externalId` before posting again, up to `max_attempts`.
/// (Users are safe only because scim2-server enforces unique `userName`s and
/// `create_user` then finds the first user by `externalId`; the same re-POST should get the same
/// look-up first.)
#[tokio::test]
async fn a_group_create_whose_answer_is_lost_is_not_created_twice() {
    let fake = FakePersonio::start(
        test_support::personio::company(12),
        test_support::personio::fake_config(),
    )
    .await
    .expect("start the fake Personio");
    let tenant = FaultyTenant::start(&fake, 1).await;
    tenant.scim.arm(vec![Rule {
        matcher: Matcher {
            method: Some(Method::POST),
            path: Some("/Groups"),
            ..Matcher::default()
        },
        pick: Pick::Nth { first: 1, every: 1 },
        fault: Fault::ApplyThenAnswer(Canned::gateway(502)),
        budget: 1,
    }]);
    tenant
        .run(RunTarget::Everyone, Patience::Patient)
        .await
        .expect("the first sync runs");
    assert_eq!(tenant.scim.injected(), 1, "the first group create was hit");
    let view = tenant.view().await;
    assert!(
        view.duplicates.is_empty(),
        "each department is one group: {:?}",
        view.duplicates
    );
}

/// KNOWN VIOLATION (sync-core, `run.rs` `fetch`, the `used_attributes` it hands `guard::check`):
/// the vanished-attribute guard only watches attributes the field mapping and scope read, plus
/// `status`, `hire_date` and `termination_date`. `supervisor` is read for manager links but is
/// not among them, so when the API credential loses it, a full run is not held: it clears the
/// manager of every user in the app and reports nothing. Found by scenario 72 of seed
/// `0x8a112026` ("personio attribute unlisted").
///
/// Should: `fetch` adds `supervisor` to `used_attributes` (and the group sources —
/// `department`, `team`, `office` — for the group kinds the tenant syncs), so that the run is
/// held with "attribute `supervisor` came back for 0 of N people".
#[tokio::test]
async fn a_full_run_that_no_longer_sees_supervisors_is_held() {
    let harness = Harness::new(30).await;
    harness.run().await;
    let managed = harness
        .users()
        .await
        .iter()
        .filter(|user| user.manager.is_some())
        .count();
    assert!(managed > 10, "the company has managers");
    unlist(&harness.fake, "supervisor");
    let outcome = harness.run_at(now()).await.expect("the run runs");
    let still_managed = harness
        .users()
        .await
        .iter()
        .filter(|user| user.manager.is_some())
        .count();
    assert_eq!(
        (outcome.record.status, still_managed),
        (RunStatus::Held, managed),
        "held, every manager kept"
    );
}

/// KNOWN VIOLATION (sync-core, `run.rs` `run` → `guard::check`, which returns before the
/// attribute checks when `complete` is false): a one-person (webhook) run never looks at
/// attribute drift, so while the credential cannot read an attribute, each webhook run writes
/// that person's field as empty — here it removes the person's department — and reports
/// nothing. (`supervisor` the same way clears their manager: scenario 103 of seed `0x8a112026`.)
///
/// Should: a one-person run compares the attributes it got with the last full run's
/// `source_stats.attribute_presence`; an attribute the mapping reads that most people had and
/// this person's answer lacks entirely (not whitelisted, as opposed to present and empty)
/// leaves the person untouched with a record error naming the attribute — or holds the run.
#[tokio::test]
async fn a_webhook_run_that_no_longer_sees_an_attribute_does_not_blank_it() {
    let harness = Harness::new(30).await;
    harness.run().await;
    let id = harness
        .fake
        .company()
        .employees
        .iter()
        .find(|e| e.status == "active" && e.termination_date.is_none() && e.department.is_some())
        .map(|e| e.id)
        .expect("someone active with a department");
    let department = |fields: &sync_core::record::UserRecord| fields.text("department");
    let before = harness.user(id).await.expect("a user");
    assert!(
        department(&before.fields).is_some(),
        "they have a department"
    );
    unlist(&harness.fake, "department");
    let outcome = harness
        .run_person(id, now())
        .await
        .expect("the one-person run runs");
    let after = harness.user(id).await.expect("still a user");
    let reported = outcome
        .record
        .errors
        .iter()
        .any(|error| error.person.as_ref().map(|key| key.id.get()) == Some(id));
    assert!(
        department(&after.fields) == department(&before.fields)
            || (reported || outcome.record.status == RunStatus::Held),
        "the department was removed silently: {:?} → {:?}",
        department(&before.fields),
        department(&after.fields)
    );
}

/// KNOWN VIOLATION (sync-core, `lifecycle.rs` `desired` — "a missing status counts as active" —
/// together with the one-person runs of the previous test): someone set inactive in Personio
/// (without a termination date) was deactivated; while the credential cannot read `status`, a
/// webhook run about them reactivates their account.
///
/// Should: a missing status is not proof of activity. In a one-person run, a person whose
/// answer lacks `status` while the last full run saw it for most people is left as they are
/// (with a record error), as in the previous test; never reactivated.
#[tokio::test]
async fn a_webhook_run_that_no_longer_sees_the_status_does_not_reactivate_a_leaver() {
    let harness = Harness::new(30).await;
    harness.run().await;
    let id = first_with_status(&harness.fake.company(), "active");
    harness.fake.update(|company| {
        company.employee_mut(id).expect("exists").status = "inactive".to_owned();
    });
    harness.run().await;
    assert!(
        !harness.user(id).await.expect("a user").active,
        "deactivated"
    );
    unlist(&harness.fake, "status");
    harness
        .run_person(id, now())
        .await
        .expect("the one-person run runs");
    assert!(
        !harness.user(id).await.expect("a user").active,
        "a leaver got their account back"
    );
}

/// KNOWN VIOLATION (sync-core, `guard.rs` `check`: the vanished-attribute guard needs the last
/// run's `source_stats`, so it never fires on a first sync): when the API credential cannot read
/// a mapped attribute from the start, the first sync writes every user without it (here
/// `department`, and so no department groups either) and reports nothing. Found by scenario
/// 168 of seed `0x8a112026`.
///
/// Should: on a full run without previous stats, a used attribute that came back for none of at
/// least `MIN_PEOPLE_FOR_DRIFT` people (absent, not merely empty: Personio omits attributes that
/// are not whitelisted) holds the run ("attribute `department` came back for 0 of N people;
/// whitelist it for the API credential in Personio").
#[tokio::test]
async fn a_first_sync_that_cannot_read_a_mapped_attribute_says_so() {
    let harness = Harness::new(20).await;
    unlist(&harness.fake, "department");
    let outcome = harness.run_at(now()).await.expect("the run runs");
    let departments: BTreeMap<String, usize> = harness
        .users()
        .await
        .iter()
        .filter_map(|user| user.fields.text("department"))
        .fold(BTreeMap::new(), |mut counts, department| {
            *counts.entry(department).or_default() += 1;
            counts
        });
    let said = outcome.record.status == RunStatus::Held
        || outcome
            .record
            .errors
            .iter()
            .any(|error| error.message.contains("department"));
    assert!(
        said,
        "the first sync wrote {} users without a department and said nothing (departments: {departments:?})",
        outcome.record.counts.created
    );
}

/// KNOWN VIOLATION (sync-core, `lifecycle.rs` `desired` — "a missing status counts as active" —
/// and `run.rs` `run`, which on a first sync only reports an attribute nobody has): when the API
/// credential cannot read `status` from the start, a first sync gives an active account to
/// someone Personio has as inactive (set inactive without a termination date).
///
/// Should: a first full sync that cannot read `status` (or `termination_date`) for anyone does
/// not decide who works there — it is held ("attribute `status` came back for nobody"), as the
/// vanished-attribute guard holds later runs; at the least, people without a readable status
/// get no account.
#[tokio::test]
async fn a_first_sync_that_cannot_read_the_status_gives_no_leaver_an_account() {
    let harness = Harness::new(30).await;
    let id = first_with_status(&harness.fake.company(), "active");
    harness.fake.update(|company| {
        company.employee_mut(id).expect("exists").status = "inactive".to_owned();
    });
    unlist(&harness.fake, "status");
    let outcome = harness.run_at(now()).await.expect("the run runs");
    let user = harness.user(id).await;
    assert!(
        user.as_ref().is_none_or(|user| !user.active),
        "a leaver got an active account on the first sync (run {})",
        outcome.record.status.as_str()
    );
}
