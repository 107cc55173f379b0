//! Test support: the adapters built as a Lambda builds them, on fresh tables and queues of the
//! shared moto (`test_support::moto`: `MOTO_URL`, else started once from `.venv`), and what SES
//! sent, read back from moto.

#![allow(dead_code)] // Each test binary uses a different part of this module.

use serde_json::Value;
use std::time::Duration;
use sync_aws::{create_table, AwsConfig, Deps, DynamoStore, StoreSettings};
use sync_core::ids::TenantId;
use test_support::mail::SentMail;
pub use test_support::moto::unique;
use test_support::moto::Moto;

/// The shared moto of this test binary.
pub fn moto() -> &'static Moto {
    test_support::moto::shared()
}

/// A tenant id no other test uses.
pub fn tenant() -> TenantId {
    TenantId::parse(&unique("t")).expect("valid tenant id")
}

/// The config a Lambda would read, pointed at moto, with its own table and queue names.
pub fn aws_config(table: &str, queue_url: &str) -> AwsConfig {
    AwsConfig {
        region: "eu-central-1".to_owned(),
        endpoint_url: Some(moto().url.clone()),
        table_name: table.to_owned(),
        jobs_queue_url: queue_url.to_owned(),
        sender: "sync@vendor.example".to_owned(),
        secrets_ttl: Duration::from_secs(300),
        attempt_timeout: sync_aws::config::DEFAULT_ATTEMPT_TIMEOUT,
        operation_timeout: None,
        pictures_bucket: None,
    }
}

/// Every adapter, built the way a Lambda builds them, on a fresh table (created) and a queue URL.
pub async fn deps_with(queue_url: &str) -> Deps {
    let deps = Deps::new(aws_config(&unique("table"), queue_url)).await;
    create_table(&deps.clients.dynamodb, &deps.config.table_name)
        .await
        .expect("create table");
    deps
}

/// A store on a fresh table of its own, with `page_size` items per Query page.
pub async fn fresh_store(page_size: Option<u32>) -> DynamoStore {
    let deps = deps_with("unused").await;
    DynamoStore::with_settings(
        deps.clients.dynamodb.clone(),
        StoreSettings {
            page_size,
            ..StoreSettings::new(deps.config.table_name.clone())
        },
    )
}

/// moto's whole state (`GET /moto-api/data.json`): service → model → instances.
pub async fn moto_data() -> Value {
    moto().data().await
}

/// Every message SES sent to `recipient`, parsed.
pub async fn sent_mail_to(recipient: &str) -> Vec<SentMail> {
    test_support::mail::sent_to(&moto_data().await, &[recipient.to_owned()])
}
