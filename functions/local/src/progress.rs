//! A running run's live progress as one small file per run, removed when the run ends.

use crate::store::{blocking, read_file, write_file, FolderStore};
use async_trait::async_trait;
use std::path::PathBuf;
use sync_core::ids::{RunId, TenantId};
use sync_core::ports::StoreError;
use sync_core::progress::{ProgressLog, RunProgress};

impl FolderStore {
    /// The file that holds the progress of run `run_id` while it runs.
    pub fn progress_path(&self, tenant: &TenantId, run_id: &RunId) -> PathBuf {
        self.tenant_dir(tenant)
            .join("progress")
            .join(format!("{run_id}.json"))
    }
}

#[async_trait]
impl ProgressLog for FolderStore {
    async fn save_progress(
        &self,
        tenant: &TenantId,
        progress: &RunProgress,
    ) -> Result<(), StoreError> {
        write_file(self.progress_path(tenant, &progress.run), progress).await
    }

    async fn progress(
        &self,
        tenant: &TenantId,
        run: &RunId,
    ) -> Result<Option<RunProgress>, StoreError> {
        read_file(self.progress_path(tenant, run)).await
    }

    async fn clear_progress(&self, tenant: &TenantId, run: &RunId) -> Result<(), StoreError> {
        let path = self.progress_path(tenant, run);
        blocking(&path.clone(), move || match std::fs::remove_file(&path) {
            Ok(()) => Ok(()),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(error) => Err(StoreError::Io {
                action: "write",
                location: path.display().to_string(),
                detail: error.to_string(),
            }),
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn progress_is_written_read_and_removed() {
        let dir = tempfile::tempdir().unwrap();
        let store = FolderStore::new(dir.path());
        let tenant = TenantId::parse("acme").unwrap();
        let run = RunId::parse("20261203T100000.000Z-abcdef").unwrap();
        assert_eq!(store.progress(&tenant, &run).await.unwrap(), None);
        let progress = RunProgress {
            run: run.clone(),
            phase: sync_core::progress::Phase::Apply,
            done: 3,
            total: 10,
            updated_at: chrono::Utc::now(),
        };
        store.save_progress(&tenant, &progress).await.unwrap();
        assert_eq!(store.progress(&tenant, &run).await.unwrap(), Some(progress));
        store.clear_progress(&tenant, &run).await.unwrap();
        assert_eq!(store.progress(&tenant, &run).await.unwrap(), None);
        // Clearing what is not there is fine (a run that never reported).
        store.clear_progress(&tenant, &run).await.unwrap();
    }
}
