//! [`FolderStore`]: a tenant's memory (snapshot, run history, held runs) as JSON files in a folder,
//! for runs on one machine without AWS.
//!
//! Layout under the root, per tenant:
//!
//! ```text
//! <root>/<tenant>/links/<account>/<personio id>.json   one Link each, so saving one is O(1)
//! <root>/<tenant>/groups/<kind>/<hash of name>.json     one GroupLink each; the real name is inside
//! <root>/<tenant>/source-stats.json                     facts of the last applied fetch
//! <root>/<tenant>/runs/<run id>.json                    run records; ids sort by start time
//! <root>/<tenant>/held/<run id>.json                    held runs waiting for approval
//! <root>/<tenant>/progress/<run id>.json                a running run's progress (`progress`)
//! ```
//!
//! Every write is atomic (see `files::write_atomic`). Blocking file work runs on tokio's blocking
//! pool, so the store is safe to call from async code. One process at a time should own a tenant's
//! folder; the engine serialises runs of a tenant, so there is no locking here.

use crate::files::{self, ReadError};
use async_trait::async_trait;
use serde::de::DeserializeOwned;
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Instant;
use sync_core::history::RunRecord;
use sync_core::ids::{PersonKey, RunId, TenantId};
use sync_core::journal::RunJournal;
use sync_core::ports::{HeldRun, Store, StoreError};
use sync_core::state::{GroupKey, GroupLink, Link, Snapshot, SourceStats};

/// State kept as JSON files under one root folder, one sub-folder per tenant.
#[derive(Clone, Debug)]
pub struct FolderStore {
    root: PathBuf,
}

impl FolderStore {
    /// A store rooted at `root`. Nothing is created until the first write; a missing folder reads
    /// as an empty snapshot (a tenant's first run).
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    /// The root folder.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The folder of one tenant. Tenant ids are slugs, so they are safe as folder names.
    pub fn tenant_dir(&self, tenant: &TenantId) -> PathBuf {
        self.root.join(tenant.as_str())
    }

    /// The file that holds the link of `key`.
    pub fn link_path(&self, tenant: &TenantId, key: &PersonKey) -> PathBuf {
        self.tenant_dir(tenant)
            .join("links")
            .join(key.account.as_str())
            .join(format!("{}.json", key.id))
    }

    /// The file that holds the group link of `key`. Group names are free text (slashes, dots,
    /// any script), so the file is named by a hash of the name and the name is kept inside.
    pub fn group_path(&self, tenant: &TenantId, key: &GroupKey) -> PathBuf {
        self.tenant_dir(tenant)
            .join("groups")
            .join(key.kind.as_str())
            .join(format!("{}.json", group_file_stem(&key.name)))
    }

    /// The file that holds the facts of the last applied fetch.
    pub fn source_stats_path(&self, tenant: &TenantId) -> PathBuf {
        self.tenant_dir(tenant).join("source-stats.json")
    }

    /// The file that holds the record of run `run_id`.
    pub fn run_path(&self, tenant: &TenantId, run_id: &RunId) -> PathBuf {
        self.tenant_dir(tenant)
            .join("runs")
            .join(format!("{run_id}.json"))
    }

    /// The file that holds the journal of run `run_id`.
    pub fn journal_path(&self, tenant: &TenantId, run_id: &RunId) -> PathBuf {
        self.tenant_dir(tenant)
            .join("journals")
            .join(format!("{run_id}.json"))
    }

    /// The file that holds held run `run_id`.
    pub fn held_path(&self, tenant: &TenantId, run_id: &RunId) -> PathBuf {
        self.tenant_dir(tenant)
            .join("held")
            .join(format!("{run_id}.json"))
    }
}

/// The file name (without `.json`) of a group: 128 bits of SHA-256 of its name, in hex. Enough
/// that two names of one tenant never collide, short enough for every file system.
fn group_file_stem(name: &str) -> String {
    let digest = Sha256::digest(name.as_bytes());
    digest[..16]
        .iter()
        .fold(String::with_capacity(32), |mut hex, byte| {
            let _ = write!(hex, "{byte:02x}");
            hex
        })
}

/// Runs blocking file work on tokio's blocking pool.
pub(crate) async fn blocking<T: Send + 'static>(
    location: &Path,
    work: impl FnOnce() -> Result<T, StoreError> + Send + 'static,
) -> Result<T, StoreError> {
    tokio::task::spawn_blocking(work)
        .await
        .unwrap_or_else(|join| {
            Err(StoreError::Io {
                action: "read or write",
                location: location.display().to_string(),
                detail: format!("the file task stopped unexpectedly: {join}"),
            })
        })
}

fn read_error(path: &Path, err: ReadError) -> StoreError {
    match err {
        ReadError::Io(err) => StoreError::Io {
            action: "read",
            location: path.display().to_string(),
            detail: err.to_string(),
        },
        ReadError::Corrupt(detail) => StoreError::Corrupt {
            location: path.display().to_string(),
            detail,
        },
    }
}

fn list_error(dir: &Path, err: std::io::Error) -> StoreError {
    StoreError::Io {
        action: "read",
        location: dir.display().to_string(),
        detail: err.to_string(),
    }
}

fn read_optional<T: DeserializeOwned>(path: &Path) -> Result<Option<T>, StoreError> {
    files::read_json(path).map_err(|err| read_error(path, err))
}

pub(crate) async fn read_file<T: DeserializeOwned + Send + 'static>(
    path: PathBuf,
) -> Result<Option<T>, StoreError> {
    blocking(&path.clone(), move || read_optional(&path)).await
}

pub(crate) async fn write_file<T: Serialize>(path: PathBuf, value: &T) -> Result<(), StoreError> {
    let write_error = |path: &Path, detail: String| StoreError::Io {
        action: "write",
        location: path.display().to_string(),
        detail,
    };
    let bytes =
        serde_json::to_vec_pretty(value).map_err(|err| write_error(&path, err.to_string()))?;
    blocking(&path.clone(), move || {
        files::write_atomic(&path, &bytes).map_err(|err| write_error(&path, err.to_string()))
    })
    .await
}

/// Removes the file at `path`; a file that is not there is not an error.
async fn remove_file(path: PathBuf) -> Result<(), StoreError> {
    blocking(&path.clone(), move || match std::fs::remove_file(&path) {
        Err(err) if err.kind() != std::io::ErrorKind::NotFound => Err(StoreError::Io {
            action: "delete",
            location: path.display().to_string(),
            detail: err.to_string(),
        }),
        _ => Ok(()),
    })
    .await
}

/// Reads a tenant's whole snapshot in one pass on the calling (blocking) thread.
fn load_snapshot(tenant_dir: &Path) -> Result<Snapshot, StoreError> {
    let mut snapshot = Snapshot::default();

    let links_dir = tenant_dir.join("links");
    let mut link_files = Vec::new();
    for (_, account_dir) in files::sub_dirs(&links_dir).map_err(|e| list_error(&links_dir, e))? {
        let found =
            files::data_files(&account_dir, "json").map_err(|e| list_error(&account_dir, e))?;
        link_files.extend(found);
    }
    let links: Vec<(PathBuf, Link)> =
        files::read_json_all(link_files).map_err(|(path, err)| read_error(&path, err))?;
    for (path, link) in links {
        // A file copied or renamed by hand would otherwise shadow, or be shadowed by, the file
        // `save_link` writes for the same person.
        let expected = Path::new(link.key.account.as_str()).join(format!("{}.json", link.key.id));
        if !path.ends_with(&expected) {
            return Err(StoreError::Corrupt {
                location: path.display().to_string(),
                detail: format!(
                    "it holds the link of {}, which belongs in links/{}",
                    link.key,
                    expected.display()
                ),
            });
        }
        snapshot.links.insert(link.key.clone(), link);
    }

    let groups_dir = tenant_dir.join("groups");
    let mut group_files = Vec::new();
    for (_, kind_dir) in files::sub_dirs(&groups_dir).map_err(|e| list_error(&groups_dir, e))? {
        let found = files::data_files(&kind_dir, "json").map_err(|e| list_error(&kind_dir, e))?;
        group_files.extend(found);
    }
    let groups: Vec<(PathBuf, GroupLink)> =
        files::read_json_all(group_files).map_err(|(path, err)| read_error(&path, err))?;
    for (path, group) in groups {
        let expected = Path::new(group.key.kind.as_str())
            .join(format!("{}.json", group_file_stem(&group.key.name)));
        if !path.ends_with(&expected) {
            return Err(StoreError::Corrupt {
                location: path.display().to_string(),
                detail: format!(
                    "it holds a {} group whose file belongs at groups/{}",
                    group.key.kind.as_str(),
                    expected.display()
                ),
            });
        }
        snapshot.groups.insert(group.key.clone(), group);
    }

    snapshot.source_stats = read_optional(&tenant_dir.join("source-stats.json"))?;
    Ok(snapshot)
}

/// The run ids of the files in `dir`, newest first. Files whose names are not run ids are not
/// run records (a note an admin left, say) and are skipped.
fn run_ids_newest_first(dir: &Path) -> Result<Vec<RunId>, StoreError> {
    let found = files::data_files(dir, "json").map_err(|e| list_error(dir, e))?;
    let mut ids: Vec<RunId> = found
        .iter()
        .filter_map(|path| RunId::parse(files::stem(path)).ok())
        .collect();
    // Run ids start with their UTC start time, so name order is time order.
    ids.sort_unstable_by(|a, b| b.cmp(a));
    Ok(ids)
}

#[async_trait]
impl Store for FolderStore {
    async fn snapshot(&self, tenant: &TenantId) -> Result<Snapshot, StoreError> {
        let tenant_dir = self.tenant_dir(tenant);
        let started = Instant::now();
        let snapshot = blocking(&tenant_dir.clone(), move || load_snapshot(&tenant_dir)).await?;
        snapshot.log_loaded(tenant, started);
        Ok(snapshot)
    }

    async fn save_link(&self, tenant: &TenantId, link: &Link) -> Result<(), StoreError> {
        write_file(self.link_path(tenant, &link.key), link).await
    }

    async fn remove_link(&self, tenant: &TenantId, key: &PersonKey) -> Result<(), StoreError> {
        remove_file(self.link_path(tenant, key)).await
    }

    async fn save_group(&self, tenant: &TenantId, group: &GroupLink) -> Result<(), StoreError> {
        write_file(self.group_path(tenant, &group.key), group).await
    }

    async fn save_source_stats(
        &self,
        tenant: &TenantId,
        stats: &SourceStats,
    ) -> Result<(), StoreError> {
        write_file(self.source_stats_path(tenant), stats).await
    }

    async fn save_run(&self, tenant: &TenantId, run: &RunRecord) -> Result<(), StoreError> {
        write_file(self.run_path(tenant, &run.id), run).await
    }

    async fn runs(&self, tenant: &TenantId, limit: usize) -> Result<Vec<RunRecord>, StoreError> {
        let dir = self.tenant_dir(tenant).join("runs");
        blocking(&dir.clone(), move || {
            let mut runs = Vec::new();
            for run_id in run_ids_newest_first(&dir)?.into_iter().take(limit) {
                let path = dir.join(format!("{run_id}.json"));
                // A record removed between listing and reading is simply no longer there.
                if let Some(run) = read_optional(&path)? {
                    runs.push(run);
                }
            }
            Ok(runs)
        })
        .await
    }

    async fn run(
        &self,
        tenant: &TenantId,
        run_id: &RunId,
    ) -> Result<Option<RunRecord>, StoreError> {
        read_file(self.run_path(tenant, run_id)).await
    }

    async fn save_held(&self, tenant: &TenantId, held: &HeldRun) -> Result<(), StoreError> {
        write_file(self.held_path(tenant, &held.run_id), held).await
    }

    async fn held(&self, tenant: &TenantId, run_id: &RunId) -> Result<Option<HeldRun>, StoreError> {
        read_file(self.held_path(tenant, run_id)).await
    }

    async fn save_journal(
        &self,
        tenant: &TenantId,
        journal: &RunJournal,
    ) -> Result<(), StoreError> {
        write_file(self.journal_path(tenant, &journal.run), journal).await
    }

    async fn journal(
        &self,
        tenant: &TenantId,
        run_id: &RunId,
    ) -> Result<Option<RunJournal>, StoreError> {
        read_file(self.journal_path(tenant, run_id)).await
    }

    async fn held_runs(&self, tenant: &TenantId) -> Result<Vec<RunId>, StoreError> {
        let dir = self.tenant_dir(tenant).join("held");
        let files = blocking(&dir.clone(), move || {
            files::data_files(&dir, "json").map_err(|e| list_error(&dir, e))
        })
        .await?;
        // Run ids start with their start time, so name order is age order.
        let mut held: Vec<RunId> = files
            .iter()
            .filter_map(|path| path.file_stem()?.to_str())
            .filter_map(|stem| RunId::parse(stem).ok())
            .collect();
        held.sort();
        Ok(held)
    }

    async fn claim_held(
        &self,
        tenant: &TenantId,
        run_id: &RunId,
        by: &str,
    ) -> Result<bool, StoreError> {
        let held = self.held_path(tenant, run_id);
        let claim = held.with_extension("claim");
        let by = by.to_owned();
        blocking(&claim.clone(), move || {
            if !held.exists() {
                return Ok(false);
            }
            if std::fs::read_to_string(&claim).is_ok_and(|owner| owner == by) {
                return Ok(true);
            }
            // Creating a file that must not exist yet is atomic: of two processes, one wins.
            let created = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&claim);
            match created {
                Ok(mut file) => {
                    use std::io::Write;
                    file.write_all(by.as_bytes())
                        .map_err(|err| StoreError::Io {
                            action: "write",
                            location: claim.display().to_string(),
                            detail: err.to_string(),
                        })?;
                    Ok(true)
                }
                Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists => Ok(false),
                Err(err) => Err(StoreError::Io {
                    action: "write",
                    location: claim.display().to_string(),
                    detail: err.to_string(),
                }),
            }
        })
        .await
    }

    async fn release_held(
        &self,
        tenant: &TenantId,
        run_id: &RunId,
        by: &str,
    ) -> Result<(), StoreError> {
        let claim = self.held_path(tenant, run_id).with_extension("claim");
        let by = by.to_owned();
        blocking(&claim.clone(), move || {
            if std::fs::read_to_string(&claim).is_ok_and(|owner| owner == by) {
                std::fs::remove_file(&claim).map_err(|err| StoreError::Io {
                    action: "write",
                    location: claim.display().to_string(),
                    detail: err.to_string(),
                })?;
            }
            Ok(())
        })
        .await
    }

    async fn remove_held(&self, tenant: &TenantId, run_id: &RunId) -> Result<(), StoreError> {
        let path = self.held_path(tenant, run_id);
        let claim = path.with_extension("claim");
        blocking(&path.clone(), move || {
            // The plan first: once it is gone the run is no longer held, claimed or not.
            for file in [&path, &claim] {
                match std::fs::remove_file(file) {
                    Ok(()) => {}
                    // Approving or rejecting twice is not an error: the run is no longer held.
                    Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
                    Err(err) => {
                        return Err(StoreError::Io {
                            action: "write",
                            location: file.display().to_string(),
                            detail: err.to_string(),
                        })
                    }
                }
            }
            Ok(())
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn group_file_names_are_safe_and_distinct() {
        let slash = group_file_stem("R&D / Berlin");
        let dots = group_file_stem("../..");
        assert_eq!(slash.len(), 32);
        assert!(slash.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_ne!(slash, dots);
        assert_eq!(slash, group_file_stem("R&D / Berlin"));
    }
}
