//! `ConfigStore` on DynamoDB (moto): optimistic config versions and the schedule index.

mod support;

use aws_sdk_dynamodb::types::{AttributeValue, TimeToLiveStatus};
use chrono::{DateTime, Duration, Utc};
use sync_aws::{create_table, DynamoStore};
use sync_core::config::TenantConfig;
use sync_core::ids::TenantId;
use sync_core::ports::{ConfigStore, DueTenant, StoreError};

fn config_of(tenant: &TenantId, path: &str) -> TenantConfig {
    TenantConfig::from_toml(&format!(
        r#"
        tenant = "{tenant}"
        [[personio.accounts]]
        [destination]
        kind = "directory"
        path = "{path}"
        "#
    ))
    .expect("valid config")
}

fn at(text: &str) -> DateTime<Utc> {
    text.parse().expect("RFC 3339 time")
}

/// The tenants due at `now`, in index order.
async fn due_tenants(store: &DynamoStore, now: DateTime<Utc>) -> Vec<TenantId> {
    let due = store.due(now).await.expect("due tenants");
    due.into_iter().map(|entry| entry.tenant).collect()
}

#[tokio::test]
async fn a_config_is_created_once_and_replaced_only_at_the_version_read() {
    let store = support::fresh_store(None).await;
    let tenant = support::tenant();
    assert!(store.config(&tenant).await.unwrap().is_none());

    let first = config_of(&tenant, "one");
    assert_eq!(store.put_config(&first, None).await.unwrap(), 1);
    let err = store.put_config(&first, None).await.unwrap_err();
    assert!(
        matches!(&err, StoreError::Conflict { what } if what.contains(tenant.as_str())),
        "{err}"
    );

    let second = config_of(&tenant, "two");
    assert_eq!(store.put_config(&second, Some(1)).await.unwrap(), 2);
    // A writer that read version 1 lost the race.
    let stale = store
        .put_config(&config_of(&tenant, "stale"), Some(1))
        .await
        .unwrap_err();
    assert!(matches!(stale, StoreError::Conflict { .. }), "{stale}");
    assert!(stale
        .to_string()
        .contains(&format!("the config of tenant {tenant}")));

    let read = store.config(&tenant).await.unwrap().expect("config exists");
    assert_eq!(read.version, 2);
    assert_eq!(
        serde_json::to_value(&read.config).unwrap(),
        serde_json::to_value(&second).unwrap()
    );
}

#[tokio::test]
async fn due_returns_only_tenants_whose_time_has_come() {
    let store = support::fresh_store(None).await;
    let (early, on_time, later) = (support::tenant(), support::tenant(), support::tenant());
    store
        .set_next_due(&early, at("2026-11-23T09:00:00Z"))
        .await
        .unwrap();
    store
        .set_next_due(&on_time, at("2026-11-23T10:00:00Z"))
        .await
        .unwrap();
    store
        .set_next_due(&later, at("2026-11-23T10:00:01Z"))
        .await
        .unwrap();

    assert!(due_tenants(&store, at("2026-11-23T08:59:59Z"))
        .await
        .is_empty());
    // Each with the time it is due: the scheduler's dedupe key, the same for every tick.
    assert_eq!(
        store.due(at("2026-11-23T10:00:00Z")).await.unwrap(),
        vec![
            DueTenant {
                tenant: early.clone(),
                due_at: at("2026-11-23T09:00:00Z")
            },
            DueTenant {
                tenant: on_time.clone(),
                due_at: at("2026-11-23T10:00:00Z")
            }
        ]
    );
    assert_eq!(
        due_tenants(&store, at("2026-11-23T12:00:00Z")).await,
        vec![early, on_time, later]
    );
}

#[tokio::test]
async fn moving_a_tenants_due_time_removes_its_old_entry() {
    let store = support::fresh_store(None).await;
    let tenant = support::tenant();
    let ten = at("2026-11-23T10:00:00Z");
    store.set_next_due(&tenant, ten).await.unwrap();
    store
        .set_next_due(&tenant, ten + Duration::hours(2))
        .await
        .unwrap();

    assert!(due_tenants(&store, ten + Duration::hours(1))
        .await
        .is_empty());
    assert_eq!(
        due_tenants(&store, ten + Duration::hours(2)).await,
        vec![tenant.clone()]
    );

    // Earlier again, then the same time twice: still exactly one entry in the index.
    store
        .set_next_due(&tenant, ten - Duration::hours(1))
        .await
        .unwrap();
    store
        .set_next_due(&tenant, ten - Duration::hours(1))
        .await
        .unwrap();
    assert_eq!(due_tenants(&store, ten).await, vec![tenant.clone()]);
    let entries = store
        .client()
        .query()
        .table_name(store.table_name())
        .key_condition_expression("pk = :pk")
        .expression_attribute_values(":pk", AttributeValue::S("SCHEDULE".into()))
        .send()
        .await
        .unwrap();
    let keys: Vec<_> = entries
        .items()
        .iter()
        .filter_map(|item| item.get("sk").and_then(|v| v.as_s().ok()).cloned())
        .collect();
    assert_eq!(keys, vec![format!("2026-11-23T09:00:00Z#{tenant}")]);
}

#[tokio::test]
async fn many_due_tenants_are_read_across_query_pages() {
    let store = support::fresh_store(Some(3)).await;
    let mut tenants = Vec::new();
    for minute in 0..8 {
        let tenant = support::tenant();
        store
            .set_next_due(
                &tenant,
                at("2026-11-23T10:00:00Z") + Duration::minutes(minute),
            )
            .await
            .unwrap();
        tenants.push(tenant);
    }
    assert_eq!(
        due_tenants(&store, at("2026-11-23T11:00:00Z")).await,
        tenants
    );
}

#[tokio::test]
async fn creating_the_table_twice_is_harmless_and_switches_ttl_on() {
    let store = support::fresh_store(None).await;
    create_table(store.client(), store.table_name())
        .await
        .expect("second create");
    let ttl = store
        .client()
        .describe_time_to_live()
        .table_name(store.table_name())
        .send()
        .await
        .unwrap();
    let description = ttl.time_to_live_description.expect("TTL description");
    assert_eq!(description.attribute_name.as_deref(), Some("expires_at"));
    assert_eq!(
        description.time_to_live_status,
        Some(TimeToLiveStatus::Enabled)
    );
}

/// The test moto (`infra/moto-fixes`) keeps no DynamoDB item it wrote and no table backup of a
/// transaction. Unfixed, moto 5.2.5 tracks every instance for its dashboard and never lets go:
/// the 1,000-tenant simulation's moto grew to 22.8 GB and was killed.
#[tokio::test]
async fn moto_keeps_no_written_item_and_no_transaction_backup() {
    let deps = support::deps_with("unused").await;
    let table = deps.config.table_name.clone();
    let store = DynamoStore::new(deps.clients.dynamodb.clone(), table.clone());
    let tenant = support::tenant();
    let ten = at("2026-11-23T10:00:00Z");
    // Each move is a transaction naming the table: moto copies it first.
    for hours in 0..3 {
        store
            .set_next_due(&tenant, ten + Duration::hours(hours))
            .await
            .unwrap();
    }

    let data = support::moto_data().await;
    let dynamodb = &data["dynamodb"];
    let copies = dynamodb["Table"]
        .as_array()
        .expect("moto's tables")
        .iter()
        .filter(|entry| entry["name"] == table.as_str())
        .count();
    assert_eq!(
        copies,
        1,
        "moto tracks the table and {} backups",
        copies.saturating_sub(1)
    );
    let items = dynamodb["Item"].as_array().map_or(0, Vec::len);
    assert_eq!(items, 0, "moto tracks {items} written items");
}
