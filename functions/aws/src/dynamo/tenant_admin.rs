//! The `TenantAdmin` port: one page of run history, notes of queued runs, and removing a tenant.
//!
//! - History pages read run headers only (`RUN#<id>`, `kind = run`), newest first, with the sort
//!   key bounded above by the cursor run: `RUN#` ≤ sk < `RUN#<before>`. Run ids start with their
//!   start time and have a fixed length, so key order is start order and a cursor never skips or
//!   repeats a run.
//! - A queued run is noted as `TENANT#<id>` / `QUEUED#<run id>` with `expires_at`; the note is
//!   read, never deleted (the run record takes over once the worker starts), and lapses by itself.
//! - Deleting a tenant removes its schedule entry, then every item of its partition, the config
//!   last: a delete that failed half-way leaves the config, so the admin API still finds the tenant
//!   and the delete can be repeated.

use super::items::{self, Item};
use super::{batch, is_text, keys, DynamoStore};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sync_core::history::RunRecord;
use sync_core::ids::{RunId, TenantId};
use sync_core::ports::{StoreError, TenantAdmin};

/// Prefix of queued-run notes.
const QUEUED_PREFIX: &str = "QUEUED#";
/// Attribute of the `NEXTDUE` pointer holding the tenant's schedule sort key (as `config_store`).
const DUE_KEY: &str = "due_sk";

/// `QUEUED#<run id>`.
fn queued_sk(run_id: &RunId) -> String {
    format!("{QUEUED_PREFIX}{run_id}")
}

fn epoch_seconds(time: DateTime<Utc>) -> u64 {
    u64::try_from(time.timestamp()).unwrap_or(0)
}

/// What one paged Query reads: partition, key condition and its values, projection, order.
struct PageRead<'a> {
    pk: &'a str,
    condition: &'a str,
    values: Vec<(&'static str, String)>,
    projection: &'a str,
    newest_first: bool,
}

impl DynamoStore {
    /// One Query page of `read`, from `start`; also the key to read the next page from.
    async fn query_page(
        &self,
        read: &PageRead<'_>,
        start: Option<Item>,
        location: &str,
    ) -> Result<(Vec<Item>, Option<Item>), StoreError> {
        let PageRead {
            pk,
            condition,
            values,
            projection,
            newest_first,
        } = read;
        let mut query = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression(*condition)
            .expression_attribute_names("#pk", keys::PK)
            .expression_attribute_names("#sk", keys::SK)
            .expression_attribute_values(":pk", items::s(*pk))
            .projection_expression(*projection)
            .scan_index_forward(!*newest_first)
            .consistent_read(true)
            .set_limit(self.page_size)
            .set_exclusive_start_key(start);
        if projection.contains("#kind") {
            query = query.expression_attribute_names("#kind", "kind");
        }
        if projection.contains("#record") {
            query = query.expression_attribute_names("#record", "record");
        }
        for (name, value) in values.iter() {
            query = query.expression_attribute_values(*name, items::s(value.as_str()));
        }
        let output = query
            .send()
            .await
            .map_err(|err| super::sdk_error("read", location, err))?;
        let next = output.last_evaluated_key.filter(|last| !last.is_empty());
        Ok((output.items.unwrap_or_default(), next))
    }

    /// Deletes the tenant's schedule entry, if it has one.
    async fn delete_schedule_entry(&self, pk: &str) -> Result<(), StoreError> {
        let location = self.location(pk, keys::NEXT_DUE);
        let Some(pointer) = self.get(pk, keys::NEXT_DUE).await? else {
            return Ok(());
        };
        let due_sk = items::text(&pointer, DUE_KEY, &location)?;
        self.delete(keys::SCHEDULE, due_sk).await
    }
}

#[async_trait]
impl TenantAdmin for DynamoStore {
    async fn runs_before(
        &self,
        tenant: &TenantId,
        before: Option<&RunId>,
        limit: usize,
    ) -> Result<Vec<RunRecord>, StoreError> {
        let pk = keys::tenant_pk(tenant);
        let location = self.location(&pk, keys::RUN_PREFIX);
        let mut runs = Vec::new();
        if limit == 0 {
            return Ok(runs);
        }
        let upper = before.map(keys::run_sk);
        let (condition, values) = match &upper {
            // BETWEEN is inclusive: the cursor's own header is skipped below. Its change chunks
            // (`RUN#<id>#CHG#…`) sort after it and are outside the range.
            Some(upper) => (
                "#pk = :pk AND #sk BETWEEN :low AND :high",
                vec![
                    (":low", keys::RUN_PREFIX.to_owned()),
                    (":high", upper.clone()),
                ],
            ),
            None => (
                "#pk = :pk AND begins_with(#sk, :low)",
                vec![(":low", keys::RUN_PREFIX.to_owned())],
            ),
        };
        let read = PageRead {
            pk: &pk,
            condition,
            values,
            projection: "#pk, #sk, #kind, #record",
            newest_first: true,
        };
        let mut start = None;
        loop {
            let (page, next) = self.query_page(&read, start.take(), &location).await?;
            for item in page {
                let sort_key = items::sort_key(&item).unwrap_or("?");
                if !is_text(item.get("kind"), "run") || Some(sort_key) == upper.as_deref() {
                    continue;
                }
                let item_location = self.location(&pk, sort_key);
                let json = items::text(&item, "record", &item_location)?;
                runs.push(items::from_json::<RunRecord>(json, &item_location)?);
                if runs.len() >= limit {
                    return Ok(runs);
                }
            }
            match next {
                Some(next) => start = Some(next),
                None => return Ok(runs),
            }
        }
    }

    async fn mark_queued(
        &self,
        tenant: &TenantId,
        run_id: &RunId,
        until: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let pk = keys::tenant_pk(tenant);
        let sk = queued_sk(run_id);
        let location = self.location(&pk, &sk);
        let mut item = items::item(&pk, &sk);
        item.insert(keys::EXPIRES_AT.into(), items::n(epoch_seconds(until)));
        self.put(item, &location).await
    }

    async fn queued(
        &self,
        tenant: &TenantId,
        run_id: &RunId,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let pk = keys::tenant_pk(tenant);
        let sk = queued_sk(run_id);
        let location = self.location(&pk, &sk);
        let Some(item) = self.get(&pk, &sk).await? else {
            return Ok(false);
        };
        // DynamoDB removes expired items lazily (within days), so expiry is checked here too.
        let expires = items::number(&item, keys::EXPIRES_AT, 0, &location)?;
        Ok(expires > epoch_seconds(now))
    }

    async fn delete_tenant(&self, tenant: &TenantId) -> Result<(), StoreError> {
        let pk = keys::tenant_pk(tenant);
        let location = self.location(&pk, "*");
        self.delete_schedule_entry(&pk).await?;
        let read = PageRead {
            pk: &pk,
            condition: "#pk = :pk",
            values: Vec::new(),
            projection: "#pk, #sk",
            newest_first: false,
        };
        let mut deletes = Vec::new();
        let mut start = None;
        loop {
            let (page, next) = self.query_page(&read, start.take(), &location).await?;
            deletes.extend(
                page.iter()
                    .filter_map(items::sort_key)
                    .filter(|sort_key| *sort_key != keys::CONFIG)
                    .map(|sort_key| batch::delete(&pk, sort_key)),
            );
            match next {
                Some(next) => start = Some(next),
                None => break,
            }
        }
        let removed = deletes.len();
        self.write_all(deletes, &location).await?;
        self.delete(&pk, keys::CONFIG).await?;
        tracing::info!(tenant_id = %tenant, items = removed + 1, "tenant removed from the table");
        Ok(())
    }
}
