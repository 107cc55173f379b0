//! Hosted profile pictures in S3: [`PictureBucket`], the deployment's private bucket
//! (`PICTURES_BUCKET`), and [`S3Pictures`], the engine's `PictureStore` port on it, whose URLs
//! are the console's read-only `/pictures/…` route. The local equivalent is
//! `sync_local::FolderPictures`.
//!
//! ```text
//! pictures/<tenant>/<key>.png   one object per distinct picture (content type, cached for a year)
//! index/<tenant>.json           person → hosted picture, and when it was last read
//! ```
//!
//! A picture's key is the SHA-256 of the tenant and the bytes (`sync_core::pictures`): an object
//! never changes once written, so the console may let browsers cache it for good, and nothing
//! is ever deleted or overwritten by a run.

use crate::config::ConfigError;
use crate::Deps;
use async_trait::async_trait;
use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::Client;
use sync_core::ids::TenantId;
use sync_core::pictures::{ImageKind, Picture, PictureError, PictureIndex, PictureStore};

/// How long browsers and the app may cache a picture: a year, and it never changes (the name is
/// its content's hash).
pub const CACHE_CONTROL: &str = "public, max-age=31536000, immutable";

/// The deployment's picture bucket: where pictures and the tenants' indexes are, read and written
/// with one S3 client.
#[derive(Clone, Debug)]
pub struct PictureBucket {
    client: Client,
    bucket: String,
}

/// The object key of a tenant's picture file.
pub fn picture_key(tenant: &TenantId, file_name: &str) -> String {
    format!("pictures/{}/{file_name}", tenant.as_str())
}

/// The object key of a tenant's index.
pub fn index_key(tenant: &TenantId) -> String {
    format!("index/{}.json", tenant.as_str())
}

/// What an S3 error says, without the request's details: the error code and S3's message (which
/// names no person), or that S3 did not answer.
fn describe<E, R>(error: &SdkError<E, R>) -> String
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    match (error.code(), error.message()) {
        (Some(code), Some(message)) => format!("S3 answered {code}: {message}"),
        (Some(code), None) => format!("S3 answered {code}"),
        _ => match error {
            SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) => {
                "S3 did not answer (timeout or connection failure)".to_owned()
            }
            other => format!(
                "S3 failed: {}",
                aws_sdk_s3::error::DisplayErrorContext(other)
            ),
        },
    }
}

/// Whether S3 answered 404 (`NoSuchKey`, or `NotFound` to a `HeadObject`, which has no body).
fn is_missing<E>(error: &SdkError<E, aws_sdk_s3::config::http::HttpResponse>) -> bool {
    error
        .raw_response()
        .is_some_and(|response| response.status().as_u16() == 404)
}

impl PictureBucket {
    /// The bucket `bucket`, through `client`.
    pub fn new(client: Client, bucket: impl Into<String>) -> Self {
        Self {
            client,
            bucket: bucket.into(),
        }
    }

    /// The bucket's name.
    pub fn name(&self) -> &str {
        &self.bucket
    }

    /// The SDK client.
    pub fn client(&self) -> &Client {
        &self.client
    }

    fn failed(&self, action: &'static str, key: &str, detail: String) -> PictureError {
        PictureError {
            action,
            location: format!("s3://{}/{key}", self.bucket),
            detail,
        }
    }

    /// The bytes of object `key`; `None` when there is no such object.
    async fn read(&self, action: &'static str, key: &str) -> Result<Option<Vec<u8>>, PictureError> {
        let output = match self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
        {
            Ok(output) => output,
            Err(error)
                if error
                    .as_service_error()
                    .is_some_and(|service| service.is_no_such_key())
                    || is_missing(&error) =>
            {
                return Ok(None)
            }
            Err(error) => return Err(self.failed(action, key, describe(&error))),
        };
        let body = output.body.collect().await.map_err(|error| {
            self.failed(
                action,
                key,
                format!("the object could not be read to its end: {error}"),
            )
        })?;
        Ok(Some(body.into_bytes().to_vec()))
    }

    /// Tenant `tenant`'s stored picture `file_name` (`<key>.png` or `<key>.jpg`) and its kind, as
    /// the console's route serves it. `None` when there is none, and for any name that is not a
    /// picture's file name: nothing but `pictures/<tenant>/…` is ever read here.
    pub async fn picture(
        &self,
        tenant: &TenantId,
        file_name: &str,
    ) -> Result<Option<(ImageKind, Vec<u8>)>, PictureError> {
        let Some(kind) = ImageKind::of_file_name(file_name) else {
            return Ok(None);
        };
        let bytes = self
            .read("read a picture of", &picture_key(tenant, file_name))
            .await?;
        Ok(bytes.map(|bytes| (kind, bytes)))
    }

    /// The tenant's index; empty when none was saved yet.
    pub async fn index(&self, tenant: &TenantId) -> Result<PictureIndex, PictureError> {
        let key = index_key(tenant);
        let Some(bytes) = self.read("read the index of", &key).await? else {
            return Ok(PictureIndex::default());
        };
        serde_json::from_slice(&bytes).map_err(|error| {
            self.failed(
                "read the index of",
                &key,
                format!(
                    "the object is damaged ({error}); delete it and the next run reads every picture again"
                ),
            )
        })
    }

    /// Replaces the tenant's index.
    pub async fn save_index(
        &self,
        tenant: &TenantId,
        index: &PictureIndex,
    ) -> Result<(), PictureError> {
        let key = index_key(tenant);
        let bytes = serde_json::to_vec(index)
            .map_err(|error| self.failed("save the index of", &key, error.to_string()))?;
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(&key)
            .content_type("application/json")
            .body(ByteStream::from(bytes))
            .send()
            .await
            .map(|_| ())
            .map_err(|error| self.failed("save the index of", &key, describe(&error)))
    }

    /// Removes `tenant`'s picture `file_name` (S3 answers a missing object as deleted).
    pub async fn remove(&self, tenant: &TenantId, file_name: &str) -> Result<(), PictureError> {
        let key = picture_key(tenant, file_name);
        if ImageKind::of_file_name(file_name).is_none() {
            return Err(self.failed("remove", &key, "not a picture's file name".to_owned()));
        }
        self.client
            .delete_object()
            .bucket(&self.bucket)
            .key(&key)
            .send()
            .await
            .map(|_| ())
            .map_err(|error| self.failed("remove", &key, describe(&error)))
    }

    /// Whether object `key` exists.
    async fn exists(&self, key: &str) -> Result<bool, PictureError> {
        match self
            .client
            .head_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
        {
            Ok(_) => Ok(true),
            Err(error)
                if error
                    .as_service_error()
                    .is_some_and(|service| service.is_not_found())
                    || is_missing(&error) =>
            {
                Ok(false)
            }
            Err(error) => Err(self.failed("store", key, describe(&error))),
        }
    }

    /// Stores `picture` under `pictures/<tenant>/<file name>` unless an object of that name (so of
    /// those bytes) is there already; returns its key.
    pub async fn put(&self, tenant: &TenantId, picture: &Picture) -> Result<String, PictureError> {
        let key = picture_key(tenant, &picture.file_name());
        if self.exists(&key).await? {
            return Ok(key);
        }
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(&key)
            .content_type(picture.kind.content_type())
            .cache_control(CACHE_CONTROL)
            .body(ByteStream::from(picture.bytes.clone()))
            .send()
            .await
            .map_err(|error| self.failed("store", &key, describe(&error)))?;
        Ok(key)
    }
}

/// The `PictureStore` port on the deployment's bucket: pictures are served to the apps by the
/// console (`<console>/pictures/<tenant>/<file>`), which reads the same bucket.
#[derive(Clone, Debug)]
pub struct S3Pictures {
    bucket: PictureBucket,
    base_url: String,
}

impl S3Pictures {
    /// Pictures in `bucket`, served at `base_url` (the console's address; a trailing `/` is
    /// dropped).
    pub fn new(bucket: PictureBucket, base_url: &str) -> Self {
        Self {
            bucket,
            base_url: base_url.trim_end_matches('/').to_owned(),
        }
    }

    /// The worker's store: the stack's bucket (`deps.pictures`, from `PICTURES_BUCKET`) served by
    /// the console at `console_url` (`CONSOLE_URL`). `None` when the stack has no bucket (runs
    /// then send Personio's picture address, as before hosting); an error when it has a bucket
    /// but no console to serve it from.
    pub fn from_deps(deps: &Deps, console_url: Option<&str>) -> Result<Option<Self>, ConfigError> {
        match (&deps.pictures, console_url) {
            (None, _) => Ok(None),
            (Some(bucket), Some(url)) => Ok(Some(Self::new(bucket.clone(), url))),
            (Some(_), None) => Err(ConfigError::Missing {
                name: "CONSOLE_URL",
                hint: "the console serves the hosted profile pictures: set it and CONSOLE_KEYS_SECRET, or unset PICTURES_BUCKET",
            }),
        }
    }

    /// The bucket.
    pub fn bucket(&self) -> &PictureBucket {
        &self.bucket
    }

    /// The URL the app fetches `tenant`'s picture `file_name` from.
    pub fn url(&self, tenant: &TenantId, file_name: &str) -> String {
        format!("{}/{}", self.base_url, picture_key(tenant, file_name))
    }
}

#[async_trait]
impl PictureStore for S3Pictures {
    async fn index(&self, tenant: &TenantId) -> Result<PictureIndex, PictureError> {
        self.bucket.index(tenant).await
    }

    async fn save_index(
        &self,
        tenant: &TenantId,
        index: &PictureIndex,
    ) -> Result<(), PictureError> {
        self.bucket.save_index(tenant, index).await
    }

    async fn put(&self, tenant: &TenantId, picture: &Picture) -> Result<String, PictureError> {
        self.bucket.put(tenant, picture).await?;
        Ok(self.url(tenant, &picture.file_name()))
    }

    async fn remove(&self, tenant: &TenantId, file_name: &str) -> Result<(), PictureError> {
        self.bucket.remove(tenant, file_name).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tenant() -> TenantId {
        TenantId::parse("acme").expect("a tenant id")
    }

    fn bucket() -> PictureBucket {
        let config = aws_sdk_s3::Config::builder()
            .behavior_version(aws_sdk_s3::config::BehaviorVersion::latest())
            .region(aws_sdk_s3::config::Region::new("eu-central-1"))
            .build();
        PictureBucket::new(Client::from_conf(config), "pictures")
    }

    #[test]
    fn a_picture_is_served_by_the_console_under_its_key() {
        let store = S3Pictures::new(bucket(), "https://console.example/");
        let name = format!("{}.jpg", "0f".repeat(32));
        assert_eq!(
            store.url(&tenant(), &name),
            format!("https://console.example/pictures/acme/{name}")
        );
    }

    #[test]
    fn pictures_and_indexes_have_keys_of_their_own() {
        let name = format!("{}.png", "a".repeat(64));
        assert_eq!(
            picture_key(&tenant(), &name),
            format!("pictures/acme/{name}")
        );
        assert_eq!(index_key(&tenant()), "index/acme.json");
    }
}
