//! [`FolderStore`] as the `EventLog` port: which webhook deliveries a tenant has seen, one small
//! file per fingerprint, so Personio's retries of one event are dropped on a local run.
//!
//! Layout under the root, per tenant:
//!
//! ```text
//! <root>/<tenant>/events/<fingerprint>.json    {"expires_at": "…"}: seen until then
//! ```
//!
//! "First seen" must be atomic across tasks and processes: of two concurrent calls with the same
//! fingerprint exactly one may answer `true`. A marker is therefore never written in place; it is
//! created whole in a temporary file and linked under its final name with no-clobber semantics,
//! which the file system arbitrates. An expired marker counts as absent, and replacing it needs
//! the same care: the caller that creates the claim file of that expired generation (again
//! create-new) is the only one allowed to replace it; the others answer `false`, because the
//! winner is recording the event as new at that very moment.
//!
//! Markers are not flushed to disk: a marker lost in a power cut lets one duplicate delivery
//! through, and a duplicate only queues a run that finds nothing to change. Expired markers stay
//! until the same fingerprint comes again; they are a few bytes each.

use crate::store::FolderStore;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};
use std::fmt::Write as _;
use std::fs;
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};
use std::time::Duration;
use sync_core::ids::TenantId;
use sync_core::ports::{EventLog, StoreError, FULL_RUN_PENDING};

/// A claim older than this was left by a process that died while replacing a marker (a
/// replacement takes microseconds), so it no longer blocks the fingerprint.
const STALE_CLAIM: Duration = Duration::from_secs(60);

/// Rounds of "create, else inspect, else claim" before giving up; each round ends only because
/// another caller changed the marker in between, so a handful is plenty.
const MAX_ROUNDS: usize = 8;

/// The content of a marker file.
#[derive(serde::Serialize, serde::Deserialize)]
struct Marker {
    expires_at: DateTime<Utc>,
    /// The id of a pending full run (`EventLog::pending_full_run`); deliveries have none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    id: Option<String>,
}

impl FolderStore {
    /// The folder of a tenant's webhook markers.
    pub fn events_dir(&self, tenant: &TenantId) -> PathBuf {
        self.tenant_dir(tenant).join("events")
    }

    /// The marker file of `fingerprint`.
    pub fn event_path(&self, tenant: &TenantId, fingerprint: &str) -> PathBuf {
        self.events_dir(tenant)
            .join(format!("{}.json", file_stem(fingerprint)))
    }
}

/// A fingerprint as a file name: kept as it is when it is a short run of `A-Z a-z 0-9 - _` (a hex
/// digest is), else replaced by its SHA-256 in hex, so no fingerprint can name a path elsewhere.
fn file_stem(fingerprint: &str) -> String {
    let safe = (1..=128).contains(&fingerprint.len())
        && fingerprint
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if safe {
        return fingerprint.to_owned();
    }
    Sha256::digest(fingerprint.as_bytes()).iter().fold(
        String::with_capacity(64),
        |mut hex, byte| {
            let _ = write!(hex, "{byte:02x}");
            hex
        },
    )
}

#[async_trait]
impl EventLog for FolderStore {
    async fn first_seen(
        &self,
        tenant: &TenantId,
        fingerprint: &str,
        expires: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let path = self.event_path(tenant, fingerprint);
        let now = Utc::now();
        blocking("write", path, move |path| record(path, now, expires, None)).await
    }

    async fn seen(&self, tenant: &TenantId, fingerprint: &str) -> Result<bool, StoreError> {
        let path = self.event_path(tenant, fingerprint);
        let now = Utc::now();
        blocking("read", path, move |path| {
            Ok(matches!(inspect(path, now)?, Found::Live(_)))
        })
        .await
    }

    async fn pending_full_run(
        &self,
        tenant: &TenantId,
        id: &str,
        expires: DateTime<Utc>,
    ) -> Result<String, StoreError> {
        let path = self.event_path(tenant, FULL_RUN_PENDING);
        let now = Utc::now();
        let id = id.to_owned();
        blocking("write", path, move |path| {
            for _ in 0..MAX_ROUNDS {
                if record(path, now, expires, Some(&id))? {
                    return Ok(id);
                }
                match inspect(path, now)? {
                    Found::Live(Some(existing)) => return Ok(existing),
                    // A mark without an id (written by an earlier version): queue under ours.
                    Found::Live(None) => return Ok(id),
                    // Cleared or expired in between: try to create it again.
                    Found::Missing | Found::Replaceable(_) => continue,
                }
            }
            Err(io::Error::other(
                "the pending full run's mark kept changing; the delivery will be retried",
            ))
        })
        .await
    }

    async fn forget(&self, tenant: &TenantId, fingerprint: &str) -> Result<(), StoreError> {
        let path = self.event_path(tenant, fingerprint);
        match tokio::fs::remove_file(&path).await {
            Ok(()) => Ok(()),
            Err(err) if err.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(err) => Err(StoreError::Io {
                action: "write",
                location: path.display().to_string(),
                detail: err.to_string(),
            }),
        }
    }
}

/// Runs `work` on `path` on the blocking pool; an error names the file and the `action`.
async fn blocking<T: Send + 'static>(
    action: &'static str,
    path: PathBuf,
    work: impl FnOnce(&Path) -> io::Result<T> + Send + 'static,
) -> Result<T, StoreError> {
    let location = path.display().to_string();
    tokio::task::spawn_blocking(move || work(&path))
        .await
        .unwrap_or_else(|join| {
            Err(io::Error::other(format!(
                "the file task stopped unexpectedly: {join}"
            )))
        })
        .map_err(|err| StoreError::Io {
            action,
            location,
            detail: err.to_string(),
        })
}

/// What a marker file says now.
enum Found {
    /// No file (removed between two steps).
    Missing,
    /// Seen, and not expired; with its id, if it has one.
    Live(Option<String>),
    /// Expired, or unreadable (cut short by a crash): replaceable. The text names its generation.
    Replaceable(String),
}

/// The blocking body of `first_seen`.
fn record(
    path: &Path,
    now: DateTime<Utc>,
    expires: DateTime<Utc>,
    id: Option<&str>,
) -> io::Result<bool> {
    let dir = path
        .parent()
        .ok_or_else(|| io::Error::other("the marker path has no folder"))?;
    fs::create_dir_all(dir)?;
    let bytes = serde_json::to_vec(&Marker {
        expires_at: expires,
        id: id.map(str::to_owned),
    })
    .map_err(io::Error::other)?;
    for _ in 0..MAX_ROUNDS {
        if create_new(dir, path, &bytes)? {
            return Ok(true);
        }
        let generation = match inspect(path, now)? {
            Found::Missing => continue,
            Found::Live(_) => return Ok(false),
            Found::Replaceable(generation) => generation,
        };
        let claim = claim_path(path, &generation);
        if !create_new(dir, &claim, b"")? {
            if is_stale(&claim) {
                remove_if_present(&claim)?;
                continue;
            }
            // Another caller holds this generation's claim: it is recording the event right now.
            return Ok(false);
        }
        // Holding the claim of `generation`, we may replace the marker only while it is still that
        // generation; a newer one was written by an earlier claim holder and must stand.
        let replaced = match inspect(path, now) {
            Ok(Found::Replaceable(current)) if current == generation => {
                replace(dir, path, &bytes).map(|()| true)
            }
            Ok(_) => Ok(false),
            Err(err) => Err(err),
        };
        remove_if_present(&claim)?;
        if replaced? {
            return Ok(true);
        }
    }
    Err(io::Error::other(
        "the marker kept changing under concurrent deliveries; the delivery will be retried",
    ))
}

/// Reads a marker and judges it against `now`.
fn inspect(path: &Path, now: DateTime<Utc>) -> io::Result<Found> {
    let bytes = match fs::read(path) {
        Ok(bytes) => bytes,
        Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(Found::Missing),
        Err(err) => return Err(err),
    };
    Ok(match serde_json::from_slice::<Marker>(&bytes) {
        Ok(marker) if marker.expires_at > now => Found::Live(marker.id),
        Ok(marker) => Found::Replaceable(marker.expires_at.timestamp_micros().to_string()),
        // A damaged marker is treated as expired: the worst outcome is one duplicate run.
        Err(_) => Found::Replaceable("damaged".to_owned()),
    })
}

/// The claim file of one generation of a marker. Hidden, like every temporary file here.
fn claim_path(path: &Path, generation: &str) -> PathBuf {
    let name = path
        .file_name()
        .and_then(|name| name.to_str())
        .unwrap_or("marker");
    path.with_file_name(format!(".{name}.{generation}.claim"))
}

/// Creates `path` with `bytes`, whole or not at all; `false` when it already exists.
fn create_new(dir: &Path, path: &Path, bytes: &[u8]) -> io::Result<bool> {
    let mut temp = temp_file(dir)?;
    temp.write_all(bytes)?;
    match temp.persist_noclobber(path) {
        Ok(_) => Ok(true),
        Err(err) if err.error.kind() == io::ErrorKind::AlreadyExists => Ok(false),
        Err(err) => Err(err.error),
    }
}

/// Replaces `path` with `bytes` in one rename.
fn replace(dir: &Path, path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut temp = temp_file(dir)?;
    temp.write_all(bytes)?;
    temp.persist(path).map(drop).map_err(|err| err.error)
}

fn temp_file(dir: &Path) -> io::Result<tempfile::NamedTempFile> {
    tempfile::Builder::new()
        .prefix(".")
        .suffix(".tmp")
        .tempfile_in(dir)
}

fn is_stale(claim: &Path) -> bool {
    fs::metadata(claim)
        .and_then(|meta| meta.modified())
        .ok()
        .and_then(|modified| modified.elapsed().ok())
        .is_some_and(|age| age > STALE_CLAIM)
}

fn remove_if_present(path: &Path) -> io::Result<()> {
    match fs::remove_file(path) {
        Err(err) if err.kind() != io::ErrorKind::NotFound => Err(err),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_fingerprints_are_file_names_and_others_are_hashed() {
        let hex = "ab".repeat(32);
        assert_eq!(file_stem(&hex), hex);
        let odd = file_stem("../../etc/passwd");
        assert_eq!(odd.len(), 64);
        assert!(odd.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_eq!(file_stem(""), file_stem(""));
        assert_eq!(file_stem("").len(), 64);
    }

    #[test]
    fn a_damaged_marker_is_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("events").join("abc.json");
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(&path, b"{\"expires").unwrap();
        let now = Utc::now();
        let later = now + chrono::Duration::hours(1);
        assert!(record(&path, now, later, None).unwrap());
        assert!(!record(&path, now, later, None).unwrap());
    }

    #[test]
    fn a_stale_claim_from_a_dead_process_does_not_block_the_fingerprint() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("abc.json");
        let now = Utc::now();
        assert!(record(
            &path,
            now - chrono::Duration::hours(2),
            now - chrono::Duration::hours(1),
            None
        )
        .unwrap());
        let Found::Replaceable(generation) = inspect(&path, now).unwrap() else {
            panic!("the marker has expired");
        };
        let claim = claim_path(&path, &generation);
        fs::write(&claim, b"").unwrap();
        // A fresh claim means someone is replacing it right now.
        assert!(!record(&path, now, now + chrono::Duration::hours(1), None).unwrap());
        let old = std::time::SystemTime::now() - Duration::from_secs(120);
        fs::File::options()
            .write(true)
            .open(&claim)
            .unwrap()
            .set_modified(old)
            .unwrap();
        assert!(record(&path, now, now + chrono::Duration::hours(1), None).unwrap());
        assert!(
            !claim.exists(),
            "the claim is removed after the replacement"
        );
    }
}
