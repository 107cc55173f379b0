//! `PictureStore` on S3 (moto): the objects a run stores and reads back, as the worker and the
//! console Lambda build the bucket (`PICTURES_BUCKET`, path-style addresses on the local stack).

mod support;

use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{BucketLocationConstraint, CreateBucketConfiguration};
use chrono::NaiveDate;
use sync_aws::pictures::{index_key, picture_key, CACHE_CONTROL};
use sync_aws::{Deps, PictureBucket, S3Pictures};
use sync_core::ids::{AccountId, PersonKey, PersonioId, TenantId};
use sync_core::pictures::{Hosted, ImageKind, Picture, PictureIndex, PictureStore};

const CONSOLE: &str = "https://console.example";

/// A PNG's signature and some bytes of its own.
fn png(tail: &[u8]) -> Vec<u8> {
    let mut bytes = b"\x89PNG\r\n\x1a\n".to_vec();
    bytes.extend_from_slice(tail);
    bytes
}

/// The stack's adapters with a fresh bucket of their own, created.
async fn deps_with_bucket() -> Deps {
    let mut config = support::aws_config("unused", "unused");
    config.pictures_bucket = Some(support::unique("pictures"));
    let deps = Deps::new(config).await;
    let bucket = deps.pictures.as_ref().expect("PICTURES_BUCKET is set");
    deps.clients
        .s3
        .create_bucket()
        .bucket(bucket.name())
        .create_bucket_configuration(
            CreateBucketConfiguration::builder()
                .location_constraint(BucketLocationConstraint::EuCentral1)
                .build(),
        )
        .send()
        .await
        .expect("create the bucket");
    deps
}

async fn object(
    bucket: &PictureBucket,
    key: &str,
) -> aws_sdk_s3::operation::get_object::GetObjectOutput {
    bucket
        .client()
        .get_object()
        .bucket(bucket.name())
        .key(key)
        .send()
        .await
        .unwrap_or_else(|error| panic!("read {key}: {error:?}"))
}

#[tokio::test]
async fn a_picture_is_stored_once_under_its_key_and_served_by_the_console() {
    let deps = deps_with_bucket().await;
    let store = S3Pictures::from_deps(&deps, Some(CONSOLE))
        .expect("a store")
        .expect("the stack has a bucket");
    let bucket = store.bucket().clone();
    let tenant = support::tenant();
    let picture = Picture::new(&tenant, png(b"one")).expect("a PNG");

    let url = store.put(&tenant, &picture).await.expect("store");
    let key = picture_key(&tenant, &picture.file_name());
    assert_eq!(url, format!("{CONSOLE}/{key}"));
    let stored = object(&bucket, &key).await;
    assert_eq!(stored.content_type(), Some("image/png"));
    assert_eq!(stored.cache_control(), Some(CACHE_CONTROL));
    let bytes = stored.body.collect().await.expect("the body").into_bytes();
    assert_eq!(bytes.as_ref(), picture.bytes.as_slice());
    assert_eq!(
        bucket
            .picture(&tenant, &picture.file_name())
            .await
            .expect("read"),
        Some((ImageKind::Png, picture.bytes.clone()))
    );

    // An object of that name holds those bytes: a second put writes nothing. (What is there now
    // stays, which a write would have replaced.)
    bucket
        .client()
        .put_object()
        .bucket(bucket.name())
        .key(&key)
        .body(ByteStream::from_static(b"already there"))
        .send()
        .await
        .expect("overwrite");
    assert_eq!(
        store.put(&tenant, &picture).await.expect("store again"),
        url
    );
    let kept = object(&bucket, &key)
        .await
        .body
        .collect()
        .await
        .expect("body");
    assert_eq!(kept.into_bytes().as_ref(), b"already there");

    // The same picture of another tenant is another object.
    let other = support::tenant();
    let theirs = Picture::new(&other, picture.bytes.clone()).expect("a PNG");
    assert_ne!(theirs.file_name(), picture.file_name());
    assert_eq!(
        bucket
            .picture(&other, &picture.file_name())
            .await
            .expect("read"),
        None
    );
}

#[tokio::test]
async fn the_index_is_empty_until_saved_and_a_damaged_one_is_named() {
    let deps = deps_with_bucket().await;
    let store = S3Pictures::from_deps(&deps, Some(CONSOLE))
        .expect("a store")
        .expect("the stack has a bucket");
    let tenant = support::tenant();
    assert_eq!(
        store.index(&tenant).await.expect("index"),
        PictureIndex::default()
    );

    let mut index = PictureIndex::default();
    index.people.insert(
        PersonKey::new(AccountId::default(), PersonioId::new(7)),
        Hosted {
            url: format!("{CONSOLE}/pictures/{tenant}/{}.png", "a".repeat(64)),
            key: "a".repeat(64),
            checked: NaiveDate::from_ymd_opt(2026, 3, 1).expect("a date"),
        },
    );
    store.save_index(&tenant, &index).await.expect("save");
    assert_eq!(store.index(&tenant).await.expect("index"), index);
    // The console's route never reads it: no picture has that name.
    let bucket = store.bucket();
    assert_eq!(
        bucket
            .picture(&tenant, &format!("{}.json", tenant))
            .await
            .expect("read"),
        None
    );

    let key = index_key(&tenant);
    bucket
        .client()
        .put_object()
        .bucket(bucket.name())
        .key(&key)
        .body(ByteStream::from_static(b"{\"people\": "))
        .send()
        .await
        .expect("damage the index");
    let error = store.index(&tenant).await.expect_err("a damaged index");
    assert_eq!(error.location, format!("s3://{}/{key}", bucket.name()));
    assert!(error.detail.contains("damaged"), "{error}");
}

#[tokio::test]
async fn a_bucket_that_is_not_there_fails_the_store_by_name() {
    let mut config = support::aws_config("unused", "unused");
    config.pictures_bucket = Some(support::unique("missing"));
    let deps = Deps::new(config).await;
    let store = S3Pictures::from_deps(&deps, Some(CONSOLE))
        .expect("a store")
        .expect("the stack has a bucket");
    let tenant = TenantId::parse(&support::unique("t")).expect("tenant");
    let picture = Picture::new(&tenant, png(b"two")).expect("a PNG");
    let error = store.put(&tenant, &picture).await.expect_err("no bucket");
    assert!(
        error
            .location
            .starts_with(&format!("s3://{}/pictures/", store.bucket().name())),
        "{error}"
    );
    let error = store
        .save_index(&tenant, &PictureIndex::default())
        .await
        .expect_err("no bucket");
    assert!(error.detail.contains("NoSuchBucket"), "{error}");
}

#[tokio::test]
async fn a_stack_without_a_bucket_hosts_no_pictures_and_one_without_a_console_is_refused() {
    let deps = Deps::new(support::aws_config("unused", "unused")).await;
    assert!(deps.pictures.is_none());
    assert!(S3Pictures::from_deps(&deps, Some(CONSOLE))
        .expect("no bucket is fine")
        .is_none());

    let mut config = support::aws_config("unused", "unused");
    config.pictures_bucket = Some("pictures".to_owned());
    let deps = Deps::new(config).await;
    let error = S3Pictures::from_deps(&deps, None).expect_err("nobody serves the pictures");
    assert!(error.to_string().contains("CONSOLE_URL"), "{error}");
}

/// Retention removes a deleted user's picture: the object goes, removing it again is no error,
/// and nothing but a picture's own name can be removed (the index stays).
#[tokio::test]
async fn a_picture_is_removed_by_its_name_and_nothing_else_can_be() {
    let deps = deps_with_bucket().await;
    let store = S3Pictures::from_deps(&deps, Some(CONSOLE))
        .expect("a store")
        .expect("the stack has a bucket");
    let tenant = support::tenant();
    let picture = Picture::new(&tenant, png(b"gone")).expect("a PNG");
    store.put(&tenant, &picture).await.expect("store");
    store
        .save_index(&tenant, &PictureIndex::default())
        .await
        .expect("save the index");

    store
        .remove(&tenant, &picture.file_name())
        .await
        .expect("remove");
    assert_eq!(
        store
            .bucket()
            .picture(&tenant, &picture.file_name())
            .await
            .expect("read"),
        None
    );
    store
        .remove(&tenant, &picture.file_name())
        .await
        .expect("removing it again");
    let refused = store.remove(&tenant, "../index.json").await;
    assert!(refused.is_err());
    assert_eq!(
        store
            .index(&tenant)
            .await
            .expect("the index is still there"),
        PictureIndex::default()
    );
}
