//! Registering, listing and rotating the webhook with `sync_core::personio::webhooks` against the
//! fake Personio's v2 API over real HTTP, and what a rotated token means for deliveries.

mod support;

use fake_personio::{AuthType, FakeConfig, WebhookStatus};
use secrecy::{ExposeSecret, SecretString};
use serde_json::json;
use support::*;
use sync_core::ids::AccountId;
use sync_core::personio::webhooks::{
    self, NewWebhook, V2Credentials, WebhookApiError, DEFAULT_EVENTS,
};
use sync_core::ports::SourceError;

fn credentials(harness: &Harness, secret: &str) -> V2Credentials {
    V2Credentials {
        account: AccountId::default(),
        base_url: harness.fake.url(),
        client_id: FakeConfig::default().client_id,
        client_secret: SecretString::from(secret.to_owned()),
    }
}

fn good(harness: &Harness) -> V2Credentials {
    credentials(harness, &FakeConfig::default().client_secret)
}

fn default_events() -> Vec<String> {
    DEFAULT_EVENTS.iter().map(|e| e.to_string()).collect()
}

#[tokio::test]
async fn a_webhook_is_registered_listed_and_its_token_rotated() {
    let harness = Harness::start(3).await;
    let token = webhooks::new_webhook_token();
    let events = default_events();
    let url = harness.url();
    let created = webhooks::register_webhook(
        &good(&harness),
        &NewWebhook {
            url: &url,
            token: &token,
            events: &events,
            description: "personio-sync for tenant acme",
        },
    )
    .await
    .expect("registered");
    assert_eq!(created.url, url);
    assert_eq!(created.status.as_deref(), Some("ENABLED"));
    assert_eq!(created.auth_type.as_deref(), Some("TOKEN"));
    assert_eq!(created.enabled_events, events);
    let stored = harness.fake.webhooks();
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].status, WebhookStatus::Enabled);
    assert_eq!(stored[0].auth_type, AuthType::Token);
    assert_eq!(stored[0].token.as_deref(), Some(token.expose_secret()));

    let listed = webhooks::list_webhooks(&good(&harness))
        .await
        .expect("list");
    assert_eq!(listed, vec![created.clone()]);

    let rotated = SecretString::from("a-new-token-that-is-long-enough-0123456789".to_owned());
    let after = webhooks::rotate_webhook_token(&good(&harness), &created.id, &rotated)
        .await
        .expect("rotated");
    assert_eq!(after.id, created.id);
    assert_eq!(
        harness.fake.webhooks()[0].token.as_deref(),
        Some(rotated.expose_secret())
    );
}

#[tokio::test]
async fn listing_follows_the_cursor_over_many_webhooks() {
    let harness = Harness::start(3).await;
    let token = webhooks::new_webhook_token();
    let events = default_events();
    for n in 0..205 {
        let url = format!("https://hooks.example/webhooks/tenant-{n}");
        webhooks::register_webhook(
            &good(&harness),
            &NewWebhook {
                url: &url,
                token: &token,
                events: &events,
                description: "bulk",
            },
        )
        .await
        .expect("registered");
    }
    let listed = webhooks::list_webhooks(&good(&harness))
        .await
        .expect("list");
    assert_eq!(listed.len(), 205);
}

#[tokio::test]
async fn wrong_credentials_a_second_registration_and_an_unknown_id_say_what_to_do() {
    let harness = Harness::start(3).await;
    let token = webhooks::new_webhook_token();
    let events = default_events();
    let url = harness.url();
    let webhook = NewWebhook {
        url: &url,
        token: &token,
        events: &events,
        description: "personio-sync",
    };
    let refused = webhooks::register_webhook(&credentials(&harness, "wrong"), &webhook)
        .await
        .unwrap_err();
    assert!(
        matches!(refused, WebhookApiError::Unauthorized { .. }),
        "{refused}"
    );
    assert!(refused.to_string().contains("personio:webhooks:write"));
    assert!(
        !refused.to_string().contains("wrong"),
        "no secret in messages"
    );
    assert!(matches!(
        SourceError::from(refused),
        SourceError::Unauthorized { .. }
    ));

    webhooks::register_webhook(&good(&harness), &webhook)
        .await
        .expect("first registration");
    let again = webhooks::register_webhook(&good(&harness), &webhook)
        .await
        .unwrap_err();
    assert!(matches!(again, WebhookApiError::Conflict { .. }), "{again}");
    assert!(again.to_string().contains("rotate-webhook-token"));

    let missing = webhooks::rotate_webhook_token(&good(&harness), "no-such-id", &token)
        .await
        .unwrap_err();
    assert!(
        matches!(missing, WebhookApiError::NotFound { .. }),
        "{missing}"
    );
    let bad_event = vec!["person.vanished".to_owned()];
    let other_url = format!("{}x", harness.receiver);
    let invalid = webhooks::register_webhook(
        &good(&harness),
        &NewWebhook {
            url: &other_url,
            events: &bad_event,
            ..webhook
        },
    )
    .await
    .unwrap_err();
    assert!(
        matches!(invalid, WebhookApiError::Rejected { status: 422, .. }),
        "{invalid}"
    );
}

#[tokio::test]
async fn after_a_rotation_deliveries_carry_the_new_token_and_the_secret_accepts_both() {
    let harness = Harness::start(3).await;
    let old = SecretString::from(TOKEN.to_owned());
    let events = default_events();
    let url = harness.url();
    let created = webhooks::register_webhook(
        &good(&harness),
        &NewWebhook {
            url: &url,
            token: &old,
            events: &events,
            description: "personio-sync",
        },
    )
    .await
    .expect("registered");
    let new = webhooks::new_webhook_token();
    // Store the new token first, the old one as previous, then switch Personio over.
    harness.ports.secrets.set_webhook(
        &tenant(TENANT),
        &json!({"token": new.expose_secret(), "previous_token": TOKEN, "company_id": COMPANY})
            .to_string(),
    );
    webhooks::rotate_webhook_token(&good(&harness), &created.id, &new)
        .await
        .expect("rotated");
    let made = harness.fake.emit("person.updated", json!({"id": 1})).await;
    assert_eq!(made.len(), 1);
    assert_eq!(made[0].status, Some(202));
    // A retry of an older delivery with the old token still gets through.
    let older = envelope("person.updated", json!({"id": 2}));
    assert_eq!(
        deliver(&url, Some(TOKEN), "application/json", older)
            .await
            .0,
        202
    );
}
