//! What the worker tells Lambda about a batch: an unreadable body is dropped, a job that cannot
//! succeed until an admin acts (bad credentials) is consumed, and a job that may succeed later
//! (Personio down) is a batch item failure together with every message after it, which then come
//! back with their ids and run once Personio answers again.

use crate::support::stack::{group_of, id_of, Stack};
use crate::support::tenant::{Spec, Tenant};
use aws_sdk_sqs::types::Message;
use secrecy::SecretString;
use std::collections::BTreeSet;
use sync_core::history::{RunStatus, Trigger};
use sync_core::http::credential_origin;
use sync_core::ids::AccountId;
use sync_core::ports::{ConfigStore, PersonioCredentials};

/// A loopback URL nothing listens on.
fn closed_port_url() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    let port = listener.local_addr().expect("its address").port();
    drop(listener);
    format!("http://127.0.0.1:{port}")
}

/// The message of `group` among `messages`.
fn of_group<'a>(messages: &'a [Message], group: &str) -> &'a Message {
    messages
        .iter()
        .find(|message| group_of(message) == group)
        .unwrap_or_else(|| panic!("no message of group {group}"))
}

#[tokio::test]
async fn a_batch_drops_unreadable_bodies_consumes_final_failures_and_hands_back_transient_ones() {
    let stack = Stack::new().await;
    let healthy = Tenant::onboard(&stack, Spec::directory(5, 81)).await;
    let locked_out = Spec {
        credentials: Some(("personio-client".into(), "a-revoked-secret".into())),
        ..Spec::directory(5, 82)
    };
    let locked_out = Tenant::onboard(&stack, locked_out).await;
    let down = Spec {
        base_url: Some(closed_port_url()),
        ..Spec::directory(5, 83)
    };
    let down = Tenant::onboard(&stack, down).await;

    let garbage_group = test_support::moto::unique("garbage");
    stack.send_raw("this is not a job", &garbage_group).await;
    locked_out.enqueue(&stack, Trigger::Schedule, "tick").await;
    down.enqueue(&stack, Trigger::Schedule, "tick").await;
    healthy.enqueue(&stack, Trigger::Schedule, "tick").await;
    let received = stack.receive_exactly(4).await;
    let batch = [
        of_group(&received, &garbage_group),
        of_group(&received, locked_out.id.as_str()),
        of_group(&received, down.id.as_str()),
        of_group(&received, healthy.id.as_str()),
    ];

    let response = stack.deliver(&batch, None).await;
    let failed: Vec<&str> = response
        .batch_item_failures
        .iter()
        .map(|failure| failure.item_identifier.as_str())
        .collect();
    let (down_id, healthy_id) = (id_of(batch[2]), id_of(batch[3]));
    // Personio down: retried; the healthy tenant's job after it is handed back unprocessed.
    assert_eq!(failed, vec![down_id.as_str(), healthy_id.as_str()]);
    assert!(
        healthy.runs(&stack).await.is_empty(),
        "a job after a retried one must not run"
    );
    let down_runs = down.runs(&stack).await;
    assert_eq!(down_runs.len(), 1);
    assert_eq!(down_runs[0].status, RunStatus::Failed);
    let failure = down_runs[0].failure.as_deref().unwrap_or_default();
    assert!(failure.contains("could not reach Personio"), "{failure}");
    // Bad credentials: consumed, with the reason in the history.
    let locked_runs = locked_out.runs(&stack).await;
    assert_eq!(locked_runs.len(), 1);
    let failure = locked_runs[0].failure.as_deref().unwrap_or_default();
    assert!(failure.contains("rejected the credentials"), "{failure}");

    // Personio is back; the two handed-back messages come again, the other two are gone.
    let mut config = down.config.clone();
    config.personio.accounts[0].base_url = down.fake.url();
    stack.deps.store.put_config(&config, Some(1)).await.unwrap();
    // A new address: its credential must be entered again for it (`origin.rs`).
    let credentials = PersonioCredentials {
        client_id: down.fake_config.client_id.clone(),
        client_secret: SecretString::from(down.fake_config.client_secret.clone()),
        origin: credential_origin(&down.fake.url()).ok(),
    };
    stack
        .deps
        .secrets
        .put_personio(&down.id, &AccountId::default(), &credentials)
        .await
        .unwrap();
    let again = stack.receive_exactly(2).await;
    let ids: BTreeSet<String> = again.iter().map(id_of).collect();
    assert_eq!(ids, BTreeSet::from([down_id, healthy_id]));
    let retry = [
        of_group(&again, down.id.as_str()),
        of_group(&again, healthy.id.as_str()),
    ];
    let response = stack.deliver(&retry, None).await;
    assert!(response.batch_item_failures.is_empty(), "{response:?}");
    assert!(stack.receive(10, 1).await.is_empty());
    for tenant in [&down, &healthy] {
        let runs = tenant.runs(&stack).await;
        assert_eq!(runs[0].status, RunStatus::Completed, "{}", tenant.id);
        assert_eq!(
            tenant.users().await.len(),
            tenant.expected_external_ids().len()
        );
    }
    assert_eq!(
        locked_out.runs(&stack).await.len(),
        1,
        "a consumed job does not come back"
    );
}
