//! [`SplitSchedule`]: the scheduler's `ConfigStore` with the schedule index in a table of its own
//! and each tenant's config in that tenant's table, for measurements on moto only.
//!
//! Why: moto's `TransactWriteItems` deep-copies the whole table once per item of the transaction
//! (moto 5.2.5, `dynamodb/models/__init__.py`, `transact_write_items`), and every schedule move is
//! a three-item transaction; and moto's `Query` reads every item of the table to find one
//! partition (`dynamodb/models/table.py`, `query`). On one table holding every tenant's links,
//! runs and journals, each move would copy and each Query would read hundreds of MB. Every part is
//! the real `DynamoStore`; only the items are spread over tables, so the calls and their sizes
//! are those of one table, and the configs are read where the worker reads them.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use std::collections::BTreeMap;
use sync_aws::DynamoStore;
use sync_core::config::TenantConfig;
use sync_core::ids::TenantId;
use sync_core::ports::{ConfigStore, DueTenant, StoreError, VersionedConfig};

/// Configs from each tenant's table, the schedule index from `schedule`.
pub struct SplitSchedule {
    /// Each tenant's table.
    pub configs: BTreeMap<TenantId, DynamoStore>,
    /// The table of the schedule index.
    pub schedule: DynamoStore,
}

#[async_trait]
impl ConfigStore for SplitSchedule {
    async fn config(&self, tenant: &TenantId) -> Result<Option<VersionedConfig>, StoreError> {
        match self.configs.get(tenant) {
            Some(store) => store.config(tenant).await,
            None => Ok(None),
        }
    }

    async fn put_config(
        &self,
        config: &TenantConfig,
        expected: Option<u64>,
    ) -> Result<u64, StoreError> {
        match self.configs.get(&config.tenant) {
            Some(store) => store.put_config(config, expected).await,
            None => Err(StoreError::Io {
                action: "write",
                location: format!("the config of tenant {}", config.tenant),
                detail: "the simulation has no table for this tenant".to_owned(),
            }),
        }
    }

    async fn due(&self, now: DateTime<Utc>) -> Result<Vec<DueTenant>, StoreError> {
        self.schedule.due(now).await
    }

    async fn set_next_due(&self, tenant: &TenantId, next: DateTime<Utc>) -> Result<(), StoreError> {
        self.schedule.set_next_due(tenant, next).await
    }
}
