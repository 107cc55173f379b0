//! Profile pictures the app can show. Personio's `profile_picture` is an API address that answers
//! only with Personio credentials, so between mapping and planning a run downloads pictures,
//! stores them content-addressed in the deployment's [`PictureStore`] (S3 in AWS, a folder
//! locally) and puts the store's URL into `photo_url` instead.
//!
//! Personio's address does not change when the picture does, so a hosted picture is read again
//! only after `[pictures] refresh_days`, and only what hashes differently is stored again. At most
//! `per_run` pictures are read per run: a first run of a large company does not spend its time
//! and Personio's rate limit on pictures, the next runs catch up. Until a person's picture is
//! hosted the app keeps what it was sent before. A picture Personio does not serve, or that cannot
//! be read, is a warning of the run, never an error.

mod due;
mod step;
#[cfg(test)]
mod tests;

pub use due::due;
pub use step::{as_sent, host, Hosting, PictureOutcome};

use crate::ids::{PersonKey, TenantId};
use async_trait::async_trait;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

/// The mapped field pictures are hosted for.
pub const PHOTO_FIELD: &str = "photo_url";

/// What the store remembers of one person's hosted picture.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hosted {
    /// The URL the app was given.
    pub url: String,
    /// The picture's content key ([`content_key`]).
    pub key: String,
    /// The day the picture was last read from Personio.
    pub checked: NaiveDate,
}

/// One tenant's hosted pictures, by person: how a run knows what it need not read again. Stored
/// as a JSON list of `{person, url, key, checked}` (a person key is no JSON object key).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "Vec<IndexEntry>", into = "Vec<IndexEntry>")]
pub struct PictureIndex {
    /// Person → hosted picture.
    pub people: BTreeMap<PersonKey, Hosted>,
}

#[derive(Serialize, Deserialize)]
struct IndexEntry {
    person: PersonKey,
    #[serde(flatten)]
    hosted: Hosted,
}

impl From<Vec<IndexEntry>> for PictureIndex {
    fn from(entries: Vec<IndexEntry>) -> Self {
        let people = entries
            .into_iter()
            .map(|entry| (entry.person, entry.hosted))
            .collect();
        Self { people }
    }
}

impl From<PictureIndex> for Vec<IndexEntry> {
    fn from(index: PictureIndex) -> Self {
        index
            .people
            .into_iter()
            .map(|(person, hosted)| IndexEntry { person, hosted })
            .collect()
    }
}

/// The image formats Personio serves (its spec says PNG; personio-py accepts JPEG too).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ImageKind {
    /// `image/png`.
    Png,
    /// `image/jpeg`.
    Jpeg,
}

impl ImageKind {
    /// The kind `bytes` start like, if any: a body that is not an image is never stored.
    pub fn sniff(bytes: &[u8]) -> Option<Self> {
        if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
            Some(Self::Png)
        } else if bytes.starts_with(&[0xff, 0xd8, 0xff]) {
            Some(Self::Jpeg)
        } else {
            None
        }
    }

    /// The file extension, which is also how the store's route knows the content type.
    pub fn extension(self) -> &'static str {
        match self {
            Self::Png => "png",
            Self::Jpeg => "jpg",
        }
    }

    /// The MIME type.
    pub fn content_type(self) -> &'static str {
        match self {
            Self::Png => "image/png",
            Self::Jpeg => "image/jpeg",
        }
    }

    /// The kind a stored file name (`<key>.<extension>`) says, for the route that serves it.
    pub fn of_file_name(name: &str) -> Option<Self> {
        let (key, extension) = name.rsplit_once('.')?;
        if key.len() != 64 || !key.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
            return None;
        }
        match extension {
            "png" => Some(Self::Png),
            "jpg" => Some(Self::Jpeg),
            _ => None,
        }
    }
}

/// A picture as downloaded, known to be an image.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Picture {
    /// The bytes Personio served.
    pub bytes: Vec<u8>,
    /// Their format.
    pub kind: ImageKind,
    /// Their content key.
    pub key: String,
}

impl Picture {
    /// `bytes` as a picture of `tenant`; `None` when they are not a PNG or JPEG image.
    pub fn new(tenant: &TenantId, bytes: Vec<u8>) -> Option<Self> {
        let kind = ImageKind::sniff(&bytes)?;
        let key = content_key(tenant, &bytes);
        Some(Self { bytes, kind, key })
    }

    /// The stored file's name: `<key>.<extension>`.
    pub fn file_name(&self) -> String {
        format!("{}.{}", self.key, self.kind.extension())
    }
}

/// SHA-256 of the tenant id and the bytes, in hex. The same picture keeps its key (an unchanged
/// picture is not stored again), and a key says nothing to whoever does not already hold the
/// picture: the URL cannot be guessed, and two tenants' keys for one image differ.
pub fn content_key(tenant: &TenantId, bytes: &[u8]) -> String {
    let mut hash = Sha256::new();
    hash.update(tenant.as_str().as_bytes());
    hash.update([0]);
    hash.update(bytes);
    hash.finalize()
        .iter()
        .fold(String::with_capacity(64), |mut text, byte| {
            use std::fmt::Write;
            let _ = write!(text, "{byte:02x}");
            text
        })
}

/// The picture store failed.
#[derive(Debug, thiserror::Error)]
#[error("could not {action} the profile pictures at {location}: {detail}; nothing was changed. Check the picture store (the deployment's bucket or the local folder), or set `[pictures] host = false` to send Personio's picture address instead")]
pub struct PictureError {
    /// What was being done (`read the index of`, `store`, …).
    pub action: &'static str,
    /// Bucket or folder.
    pub location: String,
    /// The error.
    pub detail: String,
}

/// Where hosted pictures live and the app fetches them: an S3 bucket behind the console's
/// read-only `/pictures/…` route in AWS, a folder (with `file://` URLs) locally.
#[async_trait]
pub trait PictureStore: Send + Sync {
    /// The tenant's index; empty when none was saved yet.
    async fn index(&self, tenant: &TenantId) -> Result<PictureIndex, PictureError>;
    /// Replaces the tenant's index.
    async fn save_index(&self, tenant: &TenantId, index: &PictureIndex)
        -> Result<(), PictureError>;
    /// Stores `picture` (a store may skip bytes it already holds under the key) and returns the
    /// URL the app can fetch it from without credentials.
    async fn put(&self, tenant: &TenantId, picture: &Picture) -> Result<String, PictureError>;
    /// Removes picture `file_name` (`<key>.png`); one that is not there is not an error.
    async fn remove(&self, tenant: &TenantId, file_name: &str) -> Result<(), PictureError>;
}

/// Forgets `people` (their users were deleted by retention) in `index`; returns the file names of
/// the pictures nobody else in the index has (two people may share a content key), which the
/// store may now remove.
pub fn forget(index: &mut PictureIndex, people: &[PersonKey]) -> Vec<String> {
    let mut orphaned = Vec::new();
    for person in people {
        let Some(hosted) = index.people.remove(person) else {
            continue;
        };
        let shared = index.people.values().any(|other| other.key == hosted.key);
        let file_name = hosted.url.rsplit('/').next().unwrap_or_default();
        if !shared && ImageKind::of_file_name(file_name).is_some() {
            orphaned.push(file_name.to_owned());
        }
    }
    orphaned.sort();
    orphaned.dedup();
    orphaned
}
