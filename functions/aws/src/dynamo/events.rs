//! Webhook dedupe markers: `TENANT#<id>` / `EVENT#<hash>`, expiring through the table's TTL.
//!
//! Personio may deliver one event more than once; the webhook Lambda records a hash of each body
//! and drops a body it has seen within the window. One conditional `PutItem` decides it, so two
//! deliveries racing each other still count once.

use super::items;
use super::keys;
use super::DynamoStore;
use chrono::{DateTime, Utc};
use std::time::Duration;
use sync_core::ids::TenantId;
use sync_core::ports::{StoreError, FULL_RUN_PENDING};

impl DynamoStore {
    /// Records event `hash` of `tenant` as seen until `now + window`. Returns `true` the first
    /// time within the window and `false` for a duplicate.
    ///
    /// `hash` is the caller's digest of the body (hex or similar; it becomes part of a key).
    /// DynamoDB deletes expired markers lazily (within about two days), so expiry is checked
    /// here too: a marker past its time counts as absent.
    pub async fn remember_event(
        &self,
        tenant: &TenantId,
        hash: &str,
        now: DateTime<Utc>,
        window: Duration,
    ) -> Result<bool, StoreError> {
        self.remember(tenant, hash, now, window, None).await
    }

    /// [`Self::remember_event`], with `id` stored on the marker when given.
    async fn remember(
        &self,
        tenant: &TenantId,
        hash: &str,
        now: DateTime<Utc>,
        window: Duration,
        id: Option<&str>,
    ) -> Result<bool, StoreError> {
        let pk = keys::tenant_pk(tenant);
        let sk = keys::event_sk(hash);
        let location = self.location(&pk, &sk);
        let now_secs = u64::try_from(now.timestamp()).unwrap_or(0);
        let mut item = items::item(&pk, &sk);
        item.insert(
            keys::EXPIRES_AT.into(),
            items::n(now_secs.saturating_add(window.as_secs())),
        );
        if let Some(id) = id {
            item.insert(PENDING_ID.into(), items::s(id));
        }
        let put = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(#pk) OR #expires <= :now")
            .expression_attribute_names("#pk", keys::PK)
            .expression_attribute_names("#expires", keys::EXPIRES_AT)
            .expression_attribute_values(":now", items::n(now_secs))
            .send()
            .await;
        match put {
            Ok(_) => Ok(true),
            Err(err)
                if err
                    .as_service_error()
                    .is_some_and(|e| e.is_conditional_check_failed_exception()) =>
            {
                tracing::debug!(tenant_id = %tenant, "duplicate webhook event dropped");
                Ok(false)
            }
            Err(err) => Err(super::sdk_error("write", &location, err)),
        }
    }

    /// The marker of `hash` if it has not expired (a consistent read).
    async fn live_marker(
        &self,
        tenant: &TenantId,
        hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<items::Item>, StoreError> {
        let pk = keys::tenant_pk(tenant);
        let sk = keys::event_sk(hash);
        let location = self.location(&pk, &sk);
        let now_secs = u64::try_from(now.timestamp()).unwrap_or(0);
        let Some(item) = self.get(&pk, &sk).await? else {
            return Ok(None);
        };
        let expires = items::number(&item, keys::EXPIRES_AT, 0, &location)?;
        Ok((expires > now_secs).then_some(item))
    }
}

/// The attribute holding a pending full run's id.
const PENDING_ID: &str = "pending_id";

/// Rounds of "create, else read" before giving up: each ends only because the mark was cleared
/// or expired in between.
const MAX_ROUNDS: usize = 4;

#[async_trait::async_trait]
impl sync_core::ports::EventLog for DynamoStore {
    async fn first_seen(
        &self,
        tenant: &TenantId,
        fingerprint: &str,
        expires: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let now = Utc::now();
        let window = (expires - now).to_std().unwrap_or(Duration::ZERO);
        self.remember_event(tenant, fingerprint, now, window).await
    }

    async fn seen(&self, tenant: &TenantId, fingerprint: &str) -> Result<bool, StoreError> {
        Ok(self
            .live_marker(tenant, fingerprint, Utc::now())
            .await?
            .is_some())
    }

    async fn pending_full_run(
        &self,
        tenant: &TenantId,
        id: &str,
        expires: DateTime<Utc>,
    ) -> Result<String, StoreError> {
        for _ in 0..MAX_ROUNDS {
            let now = Utc::now();
            let window = (expires - now).to_std().unwrap_or(Duration::ZERO);
            if self
                .remember(tenant, FULL_RUN_PENDING, now, window, Some(id))
                .await?
            {
                return Ok(id.to_owned());
            }
            if let Some(item) = self.live_marker(tenant, FULL_RUN_PENDING, now).await? {
                // A mark without an id (written by an earlier version): queue under ours.
                let existing = item
                    .get(PENDING_ID)
                    .and_then(|value| value.as_s().ok())
                    .map_or(id, String::as_str);
                return Ok(existing.to_owned());
            }
            // Cleared or expired in between: try to create it again.
        }
        Err(StoreError::Io {
            action: "write",
            location: self.location(&keys::tenant_pk(tenant), &keys::event_sk(FULL_RUN_PENDING)),
            detail: "the pending full run's mark kept changing; the delivery will be retried"
                .to_owned(),
        })
    }

    async fn forget(&self, tenant: &TenantId, fingerprint: &str) -> Result<(), StoreError> {
        self.delete(&keys::tenant_pk(tenant), &keys::event_sk(fingerprint))
            .await
    }
}
