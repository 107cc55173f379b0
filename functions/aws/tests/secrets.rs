//! `Secrets` on Secrets Manager (moto): names, both token shapes, missing and malformed secrets,
//! the warm-Lambda cache, and the writers.

mod support;

use secrecy::{ExposeSecret, SecretString};
use std::time::Duration;
use sync_aws::secrets::{destination_secret_name, personio_secret_name, webhook_secret_name};
use sync_aws::SecretsManagerSecrets;
use sync_core::ids::AccountId;
use sync_core::ports::{DestinationToken, PersonioCredentials, Secrets, SecretsError};

async fn secrets(ttl: Duration) -> SecretsManagerSecrets {
    let deps = support::deps_with("unused").await;
    SecretsManagerSecrets::new(deps.clients.secrets.clone(), ttl)
}

/// Writes a secret's value directly, around the adapter and its cache.
async fn store_raw(secrets: &SecretsManagerSecrets, name: &str, value: &str) {
    let client = secrets.client();
    if client
        .put_secret_value()
        .secret_id(name)
        .secret_string(value)
        .send()
        .await
        .is_err()
    {
        client
            .create_secret()
            .name(name)
            .secret_string(value)
            .send()
            .await
            .unwrap();
    }
}

fn secret(text: &str) -> SecretString {
    SecretString::from(text.to_owned())
}

#[tokio::test]
async fn stored_secrets_are_read_back_under_their_names() {
    let secrets = secrets(Duration::from_secs(300)).await;
    let tenant = support::tenant();
    let account = AccountId::parse("de").unwrap();
    let credentials = PersonioCredentials {
        client_id: "papi-1".into(),
        client_secret: secret("s3cr3t"),
        origin: Some("https://api.personio.de".into()),
    };
    secrets
        .put_personio(&tenant, &account, &credentials)
        .await
        .unwrap();
    secrets
        .put_destination_token(
            &tenant,
            &DestinationToken {
                token: secret("scim-token"),
                origin: Some("https://app.example".into()),
            },
        )
        .await
        .unwrap();
    secrets
        .put_webhook_token(&tenant, &secret("hook-token"))
        .await
        .unwrap();

    let read = secrets.personio(&tenant, &account).await.unwrap();
    assert_eq!(read.client_id, "papi-1");
    assert_eq!(read.client_secret.expose_secret(), "s3cr3t");
    // The origin each was entered for comes back with it.
    assert_eq!(read.origin.as_deref(), Some("https://api.personio.de"));
    let token = secrets.destination_token(&tenant).await.unwrap();
    assert_eq!(token.origin.as_deref(), Some("https://app.example"));
    assert_eq!(
        secrets
            .destination_token(&tenant)
            .await
            .unwrap()
            .token
            .expose_secret(),
        "scim-token"
    );
    assert!(secrets.webhook(&tenant).await.unwrap().verify("hook-token"));

    // The names the stack's IAM policy and the admin docs use.
    let described = secrets
        .client()
        .describe_secret()
        .secret_id(format!("personio-sync/{tenant}/personio/de"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        described.name.as_deref(),
        Some(personio_secret_name(&tenant, &account).as_str())
    );
}

#[tokio::test]
async fn a_token_stored_as_json_is_accepted() {
    let secrets = secrets(Duration::ZERO).await;
    let tenant = support::tenant();
    store_raw(
        &secrets,
        &destination_secret_name(&tenant),
        r#"{"token": "from-json"}"#,
    )
    .await;
    assert_eq!(
        secrets
            .destination_token(&tenant)
            .await
            .unwrap()
            .token
            .expose_secret(),
        "from-json"
    );
}

#[tokio::test]
async fn a_missing_secret_is_named() {
    let secrets = secrets(Duration::from_secs(300)).await;
    let tenant = support::tenant();
    let err = secrets.webhook(&tenant).await.unwrap_err();
    assert!(
        matches!(&err, SecretsError::Missing { name } if *name == webhook_secret_name(&tenant)),
        "{err}"
    );
    // Not cached: once stored, it is found at once.
    secrets
        .put_webhook_token(&tenant, &secret("now-there"))
        .await
        .unwrap();
    assert!(secrets.webhook(&tenant).await.unwrap().verify("now-there"));
}

#[tokio::test]
async fn a_malformed_secret_is_named_without_its_value() {
    let secrets = secrets(Duration::from_secs(300)).await;
    let tenant = support::tenant();
    let account = AccountId::default();
    let name = personio_secret_name(&tenant, &account);
    store_raw(
        &secrets,
        &name,
        r#"{"client_id": "papi-2", "secret": "leaky-value"}"#,
    )
    .await;
    let err = secrets.personio(&tenant, &account).await.unwrap_err();
    assert!(
        matches!(&err, SecretsError::Malformed { name: n, .. } if *n == name),
        "{err}"
    );
    let text = err.to_string();
    assert!(
        text.contains("client_secret") && !text.contains("leaky-value"),
        "{text}"
    );
}

#[tokio::test]
async fn values_are_cached_until_the_ttl_passes() {
    let ttl = Duration::from_secs(300);
    let secrets = secrets(ttl).await;
    let tenant = support::tenant();
    let name = destination_secret_name(&tenant);
    store_raw(&secrets, &name, "first").await;
    assert_eq!(
        secrets
            .destination_token(&tenant)
            .await
            .unwrap()
            .token
            .expose_secret(),
        "first"
    );

    // Rotated behind the adapter's back: a warm Lambda keeps the cached value for the TTL.
    store_raw(&secrets, &name, "second").await;
    assert_eq!(
        secrets
            .destination_token(&tenant)
            .await
            .unwrap()
            .token
            .expose_secret(),
        "first"
    );
    let uncached = SecretsManagerSecrets::new(secrets.client().clone(), Duration::ZERO);
    assert_eq!(
        uncached
            .destination_token(&tenant)
            .await
            .unwrap()
            .token
            .expose_secret(),
        "second"
    );

    // Move the runtime's clock past the TTL (no waiting), then read again.
    tokio::time::pause();
    tokio::time::advance(ttl + Duration::from_secs(1)).await;
    tokio::time::resume();
    assert_eq!(
        secrets
            .destination_token(&tenant)
            .await
            .unwrap()
            .token
            .expose_secret(),
        "second"
    );
}

#[tokio::test]
async fn storing_through_the_adapter_replaces_the_cached_value() {
    let secrets = secrets(Duration::from_secs(300)).await;
    let tenant = support::tenant();
    secrets
        .put_webhook_token(&tenant, &secret("v1"))
        .await
        .unwrap();
    assert!(secrets.webhook(&tenant).await.unwrap().verify("v1"));
    secrets
        .put_webhook_token(&tenant, &secret("v2"))
        .await
        .unwrap();
    assert!(secrets.webhook(&tenant).await.unwrap().verify("v2"));
}

#[tokio::test]
async fn forgetting_a_tenant_reads_its_secrets_again_and_leaves_other_tenants_cached() {
    let secrets = secrets(Duration::from_secs(300)).await;
    let tenant = support::tenant();
    // A tenant whose id starts with the first one's: its secrets must stay cached.
    let longer = sync_core::ids::TenantId::parse(&format!("{tenant}-2")).unwrap();
    let token = |tenant| {
        let secrets = secrets.clone();
        async move {
            secrets
                .destination_token(&tenant)
                .await
                .unwrap()
                .token
                .expose_secret()
                .to_owned()
        }
    };
    store_raw(&secrets, &destination_secret_name(&tenant), "a1").await;
    store_raw(&secrets, &destination_secret_name(&longer), "b1").await;
    assert_eq!(token(tenant.clone()).await, "a1");
    assert_eq!(token(longer.clone()).await, "b1");

    // Rotated behind the adapter's back, then a credential refused: the tenant is forgotten.
    store_raw(&secrets, &destination_secret_name(&tenant), "a2").await;
    store_raw(&secrets, &destination_secret_name(&longer), "b2").await;
    secrets.forget(&tenant).await;
    assert_eq!(token(tenant).await, "a2");
    assert_eq!(token(longer).await, "b1");
}
