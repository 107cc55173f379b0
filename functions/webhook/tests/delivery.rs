//! End to end: the webhook is registered with the fake Personio through the v2 API, the fake
//! delivers an event to the receiver on 127.0.0.1 (which calls `webhook::handle`, as the Lambda
//! does), and running the queued job brings the destination in line with Personio.

mod support;

use secrecy::SecretString;
use serde_json::json;
use std::time::Instant;
use support::*;
use sync_core::ids::AccountId;
use sync_core::personio::webhooks::{self, NewWebhook, V2Credentials, DEFAULT_EVENTS};
use sync_core::ports::JobTarget;

/// Registers the receiver for the default events, as `personio-sync register-webhook` does.
async fn register(harness: &Harness) {
    let defaults = fake_personio::FakeConfig::default();
    let credentials = V2Credentials {
        account: AccountId::default(),
        base_url: harness.fake.url(),
        client_id: defaults.client_id,
        client_secret: SecretString::from(defaults.client_secret),
    };
    let events: Vec<String> = DEFAULT_EVENTS.iter().map(|e| e.to_string()).collect();
    let token = SecretString::from(TOKEN.to_owned());
    webhooks::register_webhook(
        &credentials,
        &NewWebhook {
            url: &harness.url(),
            token: &token,
            events: &events,
            description: "personio-sync for tenant acme",
        },
    )
    .await
    .expect("registration");
}

/// Someone active, with a user after the first sync.
async fn someone_synced(harness: &Harness) -> u64 {
    let company = harness.fake.company();
    for employee in company.employees.iter().filter(|e| e.status == "active") {
        if harness
            .user(employee.id)
            .await
            .is_some_and(|user| user.active)
        {
            return employee.id;
        }
    }
    panic!("nobody active was synced");
}

#[tokio::test]
async fn a_person_update_delivered_by_personio_reaches_the_destination() {
    let harness = Harness::start(30).await;
    harness.full_run().await;
    register(&harness).await;
    let id = someone_synced(&harness).await;
    let emails_before = harness.emails().len();

    harness.fake.update(|company| {
        company.employee_mut(id).expect("person").position = "Head of Webhooks".to_owned();
    });
    let made = harness
        .fake
        .emit("person.updated", json!({"id": id.to_string()}))
        .await;
    assert_eq!(made.len(), 1);
    assert_eq!(made[0].status, Some(202));

    let jobs = harness.ports.jobs.pending();
    assert_eq!(jobs.len(), 1);
    assert_eq!(jobs[0].target, JobTarget::Person { person: key(id) });
    let outcomes = harness.run_queued().await;
    let record = &outcomes[0].record;
    assert_eq!(record.counts.updated, 1, "{:?}", record.counts);
    assert_eq!(record.changes.len(), 1);
    let user = harness.user(id).await.expect("user");
    assert_eq!(
        user.fields.text("title").as_deref(),
        Some("Head of Webhooks")
    );

    let emails = harness.emails();
    assert_eq!(emails.len(), emails_before + 1, "one summary for the run");
    let summary = emails.last().expect("summary");
    assert!(summary.contains("Changes (1)"), "{summary}");
    assert!(summary.contains("1 updated"), "{summary}");
}

#[tokio::test]
async fn a_deleted_person_is_deactivated() {
    let harness = Harness::start(30).await;
    harness.full_run().await;
    register(&harness).await;
    let id = someone_synced(&harness).await;
    harness.fake.update(|company| {
        company.remove(id);
    });
    let made = harness.fake.emit("person.deleted", json!({"id": id})).await;
    assert_eq!(made[0].status, Some(202));
    let outcomes = harness.run_queued().await;
    assert_eq!(outcomes[0].record.counts.deactivated, 1);
    let user = harness.user(id).await.expect("never deleted");
    assert!(!user.active);
}

#[tokio::test]
async fn a_redelivery_of_the_same_event_is_dropped() {
    let harness = Harness::start(10).await;
    register(&harness).await;
    harness.fake.emit("person.created", json!({"id": 1})).await;
    let first = harness.fake.deliveries().remove(0);
    // Personio repeats a delivery with the same body when it missed our answer.
    let (status, answer) = deliver(
        &first_url(&harness),
        Some(TOKEN),
        "application/json",
        first.body.clone(),
    )
    .await;
    assert_eq!((status, answer), (200, json!({"status": "duplicate"})));
    assert_eq!(harness.ports.jobs.pending().len(), 1);
}

#[tokio::test]
async fn a_ping_from_personio_is_acknowledged() {
    let harness = Harness::start(3).await;
    register(&harness).await;
    let made = harness.fake.emit("ping", json!({})).await;
    assert!(made.is_empty(), "ping is not among the subscribed events");
    let webhook = harness.fake.webhooks().remove(0);
    let client = http();
    let token: serde_json::Value = client
        .post(format!("{}/v2/auth/token", harness.fake.url()))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", "fake-client-id"),
            ("client_secret", "fake-client-secret"),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let response = client
        .post(format!(
            "{}/v2/webhooks/{}/ping",
            harness.fake.url(),
            webhook.id
        ))
        .bearer_auth(token["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 202);
    let deadline = Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let deliveries = harness.fake.deliveries();
        if let Some(ping) = deliveries.first() {
            assert_eq!(ping.status, Some(200));
            break;
        }
        assert!(Instant::now() < deadline, "no ping delivered");
        tokio::task::yield_now().await;
    }
    assert!(harness.ports.jobs.pending().is_empty());
}

fn first_url(harness: &Harness) -> String {
    harness.fake.webhooks()[0].url.clone()
}
