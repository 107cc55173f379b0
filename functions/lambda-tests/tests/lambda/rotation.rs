//! A credential changed while a warm worker still holds the old one in its secrets cache: the job
//! is not lost to the stale copy. The worker forgets the tenant's cached secrets, reads them again
//! and runs the job once more.

use crate::support::stack::Stack;
use crate::support::tenant::{Spec, Tenant};
use secrecy::SecretString;
use std::time::Duration;
use sync_aws::SecretsManagerSecrets;
use sync_core::history::{RunStatus, Trigger};
use sync_core::ids::AccountId;
use sync_core::ports::PersonioCredentials;

#[tokio::test]
async fn a_job_after_the_personio_credential_was_rotated_runs_with_the_new_one_not_the_cached_one()
{
    let stack = Stack::new().await;
    let tenant = Tenant::onboard(&stack, Spec::directory(4, 91)).await;

    // A first job: the worker reads the credentials and keeps them cached (5 minutes).
    tenant.enqueue(&stack, Trigger::Schedule, "first").await;
    let first = stack.receive_exactly(1).await;
    let response = stack.deliver(&[&first[0]], None).await;
    assert!(response.batch_item_failures.is_empty());
    assert_eq!(tenant.runs(&stack).await[0].status, RunStatus::Completed);

    // The credential is rotated in Personio and the new pair stored by another process (the
    // admin Lambda), past this worker's cache.
    let rotated = PersonioCredentials {
        client_id: "rotated-client".to_owned(),
        client_secret: SecretString::from("rotated-secret-0123456789".to_owned()),
        origin: None,
    };
    let admin = SecretsManagerSecrets::new(stack.deps.clients.secrets.clone(), Duration::ZERO);
    admin
        .put_personio(&tenant.id, &AccountId::default(), &rotated)
        .await
        .expect("store the rotated credentials");
    tenant
        .fake
        .set_credentials("rotated-client", "rotated-secret-0123456789");

    tenant.enqueue(&stack, Trigger::Schedule, "second").await;
    let second = stack.receive_exactly(1).await;
    let response = stack.deliver(&[&second[0]], None).await;
    assert!(response.batch_item_failures.is_empty());
    let runs = tenant.runs(&stack).await;
    assert_eq!(runs.len(), 2, "one run record per job: {runs:?}");
    assert_eq!(
        runs[0].status,
        RunStatus::Completed,
        "{:?}",
        runs[0].failure
    );
}

#[tokio::test]
async fn a_credential_still_refused_after_reading_it_again_is_one_failed_run_and_one_email() {
    let stack = Stack::new().await;
    let spec = Spec {
        credentials: Some(("personio-client".into(), "a-revoked-secret".into())),
        ..Spec::directory(3, 92)
    };
    let tenant = Tenant::onboard(&stack, spec).await;

    tenant.enqueue(&stack, Trigger::Schedule, "tick").await;
    let received = stack.receive_exactly(1).await;
    let response = stack.deliver(&[&received[0]], None).await;
    assert!(
        response.batch_item_failures.is_empty(),
        "consumed: only an admin can fix it"
    );
    let runs = tenant.runs(&stack).await;
    assert_eq!(runs.len(), 1, "the retry records under the same run");
    assert_eq!(runs[0].status, RunStatus::Failed);
    let failure = runs[0].failure.as_deref().unwrap_or_default();
    assert!(failure.contains("rejected the credentials"), "{failure}");
    let mails = stack.mail_to(&tenant.admins).await;
    assert_eq!(mails.len(), 1, "one email, for the attempt that counts");
}
