//! The `ConfigStore` port: tenant configs with optimistic versions, and the schedule index.
//!
//! Configs live at `TENANT#<id>` / `CONFIG` with a numeric `version`; a write names the version
//! it replaces and a condition expression refuses it if the version moved.
//!
//! The schedule index lets the scheduler find due tenants with one Query instead of a Scan:
//! `SCHEDULE` / `<next due>#<tenant>` per tenant, plus `TENANT#<id>` / `NEXTDUE` holding the
//! tenant's current index key, so moving a tenant deletes its old entry. Both are written in one
//! transaction, conditional on the pointer being what was read, so concurrent moves never leave
//! two entries or none.

use super::items::{self, Item};
use super::keys;
use super::{DynamoStore, SortRange};
use async_trait::async_trait;
use aws_sdk_dynamodb::types::{Delete, Put, TransactWriteItem};
use chrono::{DateTime, Utc};
use std::collections::HashSet;
use sync_core::config::TenantConfig;
use sync_core::ids::TenantId;
use sync_core::ports::{ConfigStore, DueTenant, StoreError, VersionedConfig};

const CONFIG: &str = "config";
const VERSION: &str = "version";
/// Attribute of a schedule entry (and the `NEXTDUE` pointer) naming the tenant.
const TENANT: &str = "tenant";
/// Attribute of the `NEXTDUE` pointer holding the tenant's current schedule sort key.
const DUE_KEY: &str = "due_sk";
/// Attempts of `set_next_due` when another writer moves the same tenant at the same time.
const MOVE_ATTEMPTS: usize = 3;

impl DynamoStore {
    /// Moves `tenant`'s schedule entry once; `Ok(false)` when the pointer changed after it was read.
    async fn move_schedule_entry(
        &self,
        tenant: &TenantId,
        new_sk: &str,
        location: &str,
    ) -> Result<bool, StoreError> {
        let pk = keys::tenant_pk(tenant);
        let pointer = self.get(&pk, keys::NEXT_DUE).await?;
        let old_sk = match &pointer {
            Some(item) => Some(items::text(item, DUE_KEY, location)?.to_owned()),
            None => None,
        };
        if old_sk.as_deref() == Some(new_sk) {
            return Ok(true);
        }

        let mut entry = items::item(keys::SCHEDULE, new_sk);
        entry.insert(TENANT.into(), items::s(tenant.as_str()));
        let mut next = items::item(&pk, keys::NEXT_DUE);
        next.insert(DUE_KEY.into(), items::s(new_sk));
        next.insert(TENANT.into(), items::s(tenant.as_str()));

        let guarded_pointer = match &old_sk {
            Some(old) => Put::builder()
                .condition_expression("#due = :old")
                .expression_attribute_names("#due", DUE_KEY)
                .expression_attribute_values(":old", items::s(old)),
            None => Put::builder()
                .condition_expression("attribute_not_exists(#pk)")
                .expression_attribute_names("#pk", keys::PK),
        };
        let mut writes = vec![
            transact_put(
                Put::builder().table_name(&self.table).set_item(Some(entry)),
                location,
            )?,
            transact_put(
                guarded_pointer.table_name(&self.table).set_item(Some(next)),
                location,
            )?,
        ];
        if let Some(old) = &old_sk {
            let delete = Delete::builder()
                .table_name(&self.table)
                .set_key(Some(items::item(keys::SCHEDULE, old)))
                .build()
                .map_err(|err| build_error(location, &err))?;
            writes.push(TransactWriteItem::builder().delete(delete).build());
        }
        match self
            .client
            .transact_write_items()
            .set_transact_items(Some(writes))
            .send()
            .await
        {
            Ok(_) => Ok(true),
            Err(err) => {
                let raced = err
                    .as_service_error()
                    .is_some_and(|e| e.is_transaction_canceled_exception());
                if raced {
                    Ok(false)
                } else {
                    Err(super::sdk_error("write", location, err))
                }
            }
        }
    }
}

fn transact_put(
    put: aws_sdk_dynamodb::types::builders::PutBuilder,
    location: &str,
) -> Result<TransactWriteItem, StoreError> {
    let put = put.build().map_err(|err| build_error(location, &err))?;
    Ok(TransactWriteItem::builder().put(put).build())
}

fn build_error(location: &str, err: &dyn std::error::Error) -> StoreError {
    StoreError::Io {
        action: "write",
        location: location.to_owned(),
        detail: format!("could not build the request: {err}"),
    }
}

fn parse_config(item: &Item, location: &str) -> Result<VersionedConfig, StoreError> {
    // Configs stored by earlier versions carry keys a config no longer has; `from_stored` drops them.
    let config = TenantConfig::from_stored(items::text(item, CONFIG, location)?)
        .map_err(|error| items::corrupt(location, error.to_string()))?;
    let version = items::number(item, VERSION, 0, location)?;
    Ok(VersionedConfig { config, version })
}

#[async_trait]
impl ConfigStore for DynamoStore {
    async fn config(&self, tenant: &TenantId) -> Result<Option<VersionedConfig>, StoreError> {
        let pk = keys::tenant_pk(tenant);
        let location = self.location(&pk, keys::CONFIG);
        match self.get(&pk, keys::CONFIG).await? {
            Some(item) => parse_config(&item, &location).map(Some),
            None => Ok(None),
        }
    }

    async fn put_config(
        &self,
        config: &TenantConfig,
        expected: Option<u64>,
    ) -> Result<u64, StoreError> {
        let pk = keys::tenant_pk(&config.tenant);
        let location = self.location(&pk, keys::CONFIG);
        let version = expected.map_or(1, |v| v + 1);
        let mut item = items::item(&pk, keys::CONFIG);
        item.insert(CONFIG.into(), items::s(items::to_json(config, &location)?));
        item.insert(VERSION.into(), items::n(version));
        let put = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item));
        let put = match expected {
            None => put
                .condition_expression("attribute_not_exists(#pk)")
                .expression_attribute_names("#pk", keys::PK),
            Some(expected) => put
                .condition_expression("#version = :expected")
                .expression_attribute_names("#version", VERSION)
                .expression_attribute_values(":expected", items::n(expected)),
        };
        match put.send().await {
            Ok(_) => {
                tracing::info!(tenant_id = %config.tenant, version, "tenant config saved");
                Ok(version)
            }
            Err(err)
                if err
                    .as_service_error()
                    .is_some_and(|e| e.is_conditional_check_failed_exception()) =>
            {
                Err(StoreError::Conflict {
                    what: format!("the config of tenant {}", config.tenant),
                })
            }
            Err(err) => Err(super::sdk_error("write", &location, err)),
        }
    }

    async fn due(&self, now: DateTime<Utc>) -> Result<Vec<DueTenant>, StoreError> {
        let upper = keys::schedule_upper_bound(now);
        let mut due: Vec<DueTenant> = Vec::new();
        let mut seen = HashSet::new();
        let mut damaged = None;
        self.query(
            keys::SCHEDULE,
            SortRange::AtMost(&upper),
            &[TENANT],
            false,
            |page| {
                for item in page {
                    let sort_key = items::sort_key(&item).unwrap_or("?");
                    let location = self.location(keys::SCHEDULE, sort_key);
                    let parsed = items::text(&item, TENANT, &location)
                        .and_then(|text| {
                            TenantId::parse(text)
                                .map_err(|err| items::corrupt(&location, err.to_string()))
                        })
                        .and_then(|tenant| match keys::schedule_due_at(sort_key) {
                            Some(due_at) => Ok(DueTenant { tenant, due_at }),
                            None => Err(items::corrupt(
                                &location,
                                "the sort key does not start with an RFC 3339 time".to_owned(),
                            )),
                        });
                    match parsed {
                        // One entry per tenant is the rule; of a duplicate (a hand edit), the
                        // earliest counts.
                        Ok(entry) => {
                            if seen.insert(entry.tenant.clone()) {
                                due.push(entry);
                            }
                        }
                        Err(err) => {
                            damaged = Some(err);
                            return false;
                        }
                    }
                }
                true
            },
        )
        .await?;
        match damaged {
            Some(err) => Err(err),
            None => Ok(due),
        }
    }

    async fn set_next_due(&self, tenant: &TenantId, next: DateTime<Utc>) -> Result<(), StoreError> {
        let new_sk = keys::schedule_sk(next, tenant);
        let location = self.location(&keys::tenant_pk(tenant), keys::NEXT_DUE);
        for _ in 0..MOVE_ATTEMPTS {
            if self.move_schedule_entry(tenant, &new_sk, &location).await? {
                tracing::debug!(tenant_id = %tenant, next_due = %next, "schedule entry moved");
                return Ok(());
            }
        }
        Err(StoreError::Conflict {
            what: format!("the schedule of tenant {tenant}"),
        })
    }
}
