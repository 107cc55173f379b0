//! [`FolderPictures`]: the `PictureStore` port as a folder, for runs on one machine. Each picture
//! is a file named by its content key, and the app gets its `file://` URL; a deployment serves the
//! same pictures from S3 (`sync-aws`).
//!
//! ```text
//! <root>/<tenant>/<key>.png     one file per distinct picture
//! <root>/<tenant>/index.json    person → hosted picture, and when it was last read
//! ```

use crate::files::{read_json, write_atomic, ReadError};
use async_trait::async_trait;
use std::path::{Path, PathBuf};
use sync_core::ids::TenantId;
use sync_core::pictures::{ImageKind, Picture, PictureError, PictureIndex, PictureStore};

/// Pictures in a folder.
#[derive(Clone, Debug)]
pub struct FolderPictures {
    root: PathBuf,
}

impl FolderPictures {
    /// The store at `root` (created on the first write). A relative root is made absolute, since
    /// the URLs given to the app must name the file from anywhere.
    pub fn new(root: impl AsRef<Path>) -> std::io::Result<Self> {
        Ok(Self {
            root: std::path::absolute(root)?,
        })
    }

    /// Where one tenant's pictures are.
    pub fn tenant_dir(&self, tenant: &TenantId) -> PathBuf {
        self.root.join(tenant.as_str())
    }

    fn failed(&self, action: &'static str, detail: impl ToString) -> PictureError {
        PictureError {
            action,
            location: self.root.display().to_string(),
            detail: detail.to_string(),
        }
    }
}

#[async_trait]
impl PictureStore for FolderPictures {
    async fn index(&self, tenant: &TenantId) -> Result<PictureIndex, PictureError> {
        let path = self.tenant_dir(tenant).join("index.json");
        match read_json(&path) {
            Ok(index) => Ok(index.unwrap_or_default()),
            Err(ReadError::Io(error)) => Err(self.failed("read the index of", error)),
            Err(ReadError::Corrupt(detail)) => Err(self.failed(
                "read the index of",
                format!("{} is damaged ({detail}); remove it and the next run reads every picture again", path.display()),
            )),
        }
    }

    async fn save_index(
        &self,
        tenant: &TenantId,
        index: &PictureIndex,
    ) -> Result<(), PictureError> {
        let bytes =
            serde_json::to_vec_pretty(index).map_err(|e| self.failed("save the index of", e))?;
        write_atomic(&self.tenant_dir(tenant).join("index.json"), &bytes)
            .map_err(|error| self.failed("save the index of", error))
    }

    async fn put(&self, tenant: &TenantId, picture: &Picture) -> Result<String, PictureError> {
        let path = self.tenant_dir(tenant).join(picture.file_name());
        // Content-addressed: a file of that name already holds these bytes.
        if !path.exists() {
            write_atomic(&path, &picture.bytes).map_err(|error| self.failed("store", error))?;
        }
        url::Url::from_file_path(&path)
            .map(String::from)
            .map_err(|()| self.failed("store", "the folder has no file URL"))
    }

    async fn remove(&self, tenant: &TenantId, file_name: &str) -> Result<(), PictureError> {
        // Only a picture's own name: never the index, never a path.
        if ImageKind::of_file_name(file_name).is_none() {
            return Err(self.failed(
                "remove",
                format!("{file_name} is not a picture's file name"),
            ));
        }
        match std::fs::remove_file(self.tenant_dir(tenant).join(file_name)) {
            Err(error) if error.kind() != std::io::ErrorKind::NotFound => {
                Err(self.failed("remove", error))
            }
            _ => Ok(()),
        }
    }
}
