//! The `ProgressLog` port: a running run's progress as `TENANT#<id>` / `PROGRESS#<run id>`, its
//! JSON in `data`, overwritten as the run goes on and deleted when it ends. `expires_at` (a day
//! on) lets DynamoDB remove the item of a run whose Lambda was stopped before it could.

use super::items;
use super::{keys, DynamoStore};
use async_trait::async_trait;
use chrono::Utc;
use sync_core::ids::{RunId, TenantId};
use sync_core::ports::StoreError;
use sync_core::progress::{ProgressLog, RunProgress};

/// `PROGRESS#<run id>`.
fn progress_sk(run_id: &RunId) -> String {
    format!("PROGRESS#{run_id}")
}

/// Attribute holding the progress as JSON.
const DATA: &str = "data";

#[async_trait]
impl ProgressLog for DynamoStore {
    async fn save_progress(
        &self,
        tenant: &TenantId,
        progress: &RunProgress,
    ) -> Result<(), StoreError> {
        let pk = keys::tenant_pk(tenant);
        let sk = progress_sk(&progress.run);
        let location = self.location(&pk, &sk);
        let mut item = items::item(&pk, &sk);
        item.insert(DATA.into(), items::s(items::to_json(progress, &location)?));
        let expires = (Utc::now() + chrono::Duration::days(1)).timestamp();
        item.insert(
            keys::EXPIRES_AT.into(),
            items::n(u64::try_from(expires).unwrap_or(0)),
        );
        self.put(item, &location).await
    }

    async fn progress(
        &self,
        tenant: &TenantId,
        run: &RunId,
    ) -> Result<Option<RunProgress>, StoreError> {
        let pk = keys::tenant_pk(tenant);
        let sk = progress_sk(run);
        let location = self.location(&pk, &sk);
        let Some(item) = self.get(&pk, &sk).await? else {
            return Ok(None);
        };
        let json = items::text(&item, DATA, &location)?;
        items::from_json(json, &location).map(Some)
    }

    async fn clear_progress(&self, tenant: &TenantId, run: &RunId) -> Result<(), StoreError> {
        self.delete(&keys::tenant_pk(tenant), &progress_sk(run))
            .await
    }
}
