//! A stored credential goes only to the origin it was entered for. A config whose Personio base
//! URL was changed since (by mistake, or by someone who may edit configs but not read secrets)
//! gets a failed run that says what to do, and the new address never sees the credential; once
//! the credential is entered again for the new address, runs go on.

use crate::support::stack::Stack;
use crate::support::tenant::{company, Spec, Tenant};
use fake_personio::FakePersonio;
use secrecy::SecretString;
use std::time::Duration;
use sync_aws::SecretsManagerSecrets;
use sync_core::history::{RunStatus, Trigger};
use sync_core::http::credential_origin;
use sync_core::ids::AccountId;
use sync_core::ports::{ConfigStore, PersonioCredentials};

#[tokio::test]
async fn a_credential_is_not_sent_to_a_changed_base_url_until_it_is_entered_again() {
    let stack = Stack::new().await;
    let tenant = Tenant::onboard(&stack, Spec::directory(3, 93)).await;
    let elsewhere = FakePersonio::start(company(3, 93), tenant.fake_config.clone())
        .await
        .expect("a second Personio");
    let mut config = tenant.config.clone();
    config.personio.accounts[0].base_url = elsewhere.url();
    let stored = stack.deps.store.config(&tenant.id).await.unwrap().unwrap();
    stack
        .deps
        .store
        .put_config(&config, Some(stored.version))
        .await
        .unwrap();

    tenant.enqueue(&stack, Trigger::Schedule, "moved").await;
    let received = stack.receive_exactly(1).await;
    let response = stack.deliver(&[&received[0]], None).await;
    assert!(
        response.batch_item_failures.is_empty(),
        "consumed: only an admin can fix it"
    );
    assert_eq!(
        elsewhere.stats().auth_requests,
        0,
        "the credential never went there"
    );
    let runs = tenant.runs(&stack).await;
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0].status, RunStatus::Failed);
    let failure = runs[0].failure.as_deref().unwrap_or_default();
    let old = credential_origin(&tenant.fake.url()).unwrap();
    let new = credential_origin(&elsewhere.url()).unwrap();
    assert!(
        failure.contains(&old) && failure.contains(&new),
        "{failure}"
    );
    assert!(failure.contains("entered again"), "{failure}");
    assert_eq!(
        stack.mail_to(&tenant.admins).await.len(),
        1,
        "the admins are told"
    );

    // Entered again for the new address (as the admin API stores it): runs go on.
    let admin = SecretsManagerSecrets::new(stack.deps.clients.secrets.clone(), Duration::ZERO);
    let again = PersonioCredentials {
        client_id: tenant.fake_config.client_id.clone(),
        client_secret: SecretString::from(tenant.fake_config.client_secret.clone()),
        origin: Some(new),
    };
    admin
        .put_personio(&tenant.id, &AccountId::default(), &again)
        .await
        .unwrap();
    tenant.enqueue(&stack, Trigger::Schedule, "again").await;
    let received = stack.receive_exactly(1).await;
    stack.deliver(&[&received[0]], None).await;
    let runs = tenant.runs(&stack).await;
    assert_eq!(
        runs[0].status,
        RunStatus::Completed,
        "{:?}",
        runs[0].failure
    );
    assert!(elsewhere.stats().auth_requests > 0);
}
