//! Write-back (`[write_back]`): the app's user id (or user name) lands in the person's custom
//! attribute in (the fake) Personio; a run that changed nothing writes nothing to Personio; a
//! credential without write access is one clear error and the sync goes on.

use fake_personio::{Company, CustomAttribute};
use test_support::personio::{company, key};
use test_support::scim::ScimHarness;

const ATTRIBUTE: &str = "dynamic_49999";

/// A company with a text attribute for the app's user id.
fn company_with_attribute() -> Company {
    let mut company = company(40);
    company.custom_attributes.push(CustomAttribute {
        key: ATTRIBUTE.to_owned(),
        label: "App user".to_owned(),
        kind: "standard".to_owned(),
        universal_id: None,
        options: Vec::new(),
    });
    company
}

/// The attribute's value of `id` in the fake.
fn written(harness: &ScimHarness, id: u64) -> Option<String> {
    harness
        .fake
        .company()
        .employee(id)
        .and_then(|person| person.custom.get(ATTRIBUTE).cloned())
        .and_then(|value| value.as_str().map(str::to_owned))
}

#[tokio::test]
async fn the_apps_user_id_is_written_back_once_and_a_no_op_run_writes_nothing_to_personio() {
    let harness = ScimHarness::with(
        &format!("[write_back]\nattribute = \"{ATTRIBUTE}\"\n"),
        company_with_attribute(),
    )
    .await;
    let first = harness.run().await;
    let users = harness.users().await;
    assert_eq!(
        first.record.counts.written_back,
        users.len(),
        "{:?}",
        first.record.errors
    );
    for user in &users {
        let external = user.external_id.as_deref().expect("ours");
        let id = sync_core::ids::PersonKey::from_external_id(external)
            .expect("a key")
            .id;
        assert_eq!(
            written(&harness, id.get()),
            Some(user.id.clone()),
            "{external}"
        );
    }
    // Nobody else's attribute was touched.
    let people = harness.fake.company().employees.len();
    let with_value = (harness.fake.company().employees.iter())
        .filter(|person| person.custom.contains_key(ATTRIBUTE))
        .count();
    assert_eq!(with_value, users.len());
    assert!(
        with_value < people,
        "leavers and later joiners have no user"
    );

    let writes = harness.fake.stats().write_requests;
    let second = harness.run().await;
    assert_eq!(second.record.counts.written_back, 0);
    assert_eq!(
        harness.fake.stats().write_requests,
        writes,
        "a no-op run writes nothing to Personio"
    );
}

#[tokio::test]
async fn without_write_access_write_back_is_one_error_and_the_next_run_catches_up() {
    let harness = ScimHarness::with(
        &format!("[write_back]\nattribute = \"{ATTRIBUTE}\"\nvalue = \"user_name\"\n"),
        company_with_attribute(),
    )
    .await;
    harness.fake.set_write_access(false);
    let refused = harness.run().await;
    assert!(refused.record.counts.created > 0, "the sync goes on");
    assert_eq!(refused.record.counts.written_back, 0);
    let errors: Vec<_> = refused
        .record
        .errors
        .iter()
        .filter(|error| error.action == "write_back")
        .collect();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(
        errors[0].message.contains("may not write"),
        "{}",
        errors[0].message
    );
    assert_eq!(
        harness.fake.stats().write_requests,
        1,
        "stopped at the first refusal"
    );

    harness.fake.set_write_access(true);
    let caught_up = harness.run().await;
    assert_eq!(
        caught_up.record.counts.written_back,
        refused.record.counts.created
    );
    let person = harness.users().await[0].clone();
    let id = key_of(&person);
    assert_eq!(written(&harness, id), Some(person.user_name.clone()));
}

fn key_of(user: &test_support::scim::ScimUser) -> u64 {
    let external = user.external_id.as_deref().expect("ours");
    let parsed = sync_core::ids::PersonKey::from_external_id(external).expect("a key");
    assert_eq!(parsed.account, key(0).account);
    parsed.id.get()
}
