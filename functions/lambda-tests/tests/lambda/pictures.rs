//! Hosted profile pictures on the stack: the worker, built with the environment `template.yaml`
//! gives it and this stack's bucket for `PICTURES_BUCKET`, reads each person's picture from the
//! fake Personio and stores it in S3 (moto); the app's `photo_url` is the console's address, and
//! the console Lambda's router, built the same way, answers it with exactly Personio's bytes. A
//! second run stores nothing and changes no URL; the route serves nothing but pictures.

use crate::support::stack::{Stack, REGION};
use crate::support::template;
use crate::support::tenant::{key, App, AppUser, Spec, Tenant};
use aws_sdk_s3::types::{BucketLocationConstraint, CreateBucketConfiguration};
use fake_personio::profile_picture_png;
use reqwest::header;
use secrecy::SecretString;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use sync_aws::console::SecretKeys;
use sync_aws::{Deps, PictureBucket, S3Pictures};
use sync_core::console_site::KeySource;
use sync_core::history::{RunStatus, Trigger};
use sync_core::ids::TenantId;
use sync_core::pictures::PictureStore;
use test_support::moto::unique;

/// The stack's console keys, as the template generates them.
const KEYS: &str = r#"{"id": "k1", "key": "Yq3v9XkP2mL7wR4tY8uB1nC6eH0sJ5dF3gA9hK2pQ7xM4zV8"}"#;

/// The adapters `function` builds at its cold start, with `bucket` for its `!Ref PicturesBucket`.
async fn deps_with_bucket(stack: &Stack, function: &str, bucket: &str) -> Deps {
    let mut settings = template::function(function);
    settings
        .environment
        .insert("PICTURES_BUCKET".to_owned(), bucket.to_owned());
    let deps = stack.deps_of(&settings, &stack.moto_url).await;
    assert!(
        deps.pictures.is_some(),
        "{function} builds the bucket from PICTURES_BUCKET"
    );
    deps
}

/// The console Lambda's router (pages and pictures) on `aws`, served on 127.0.0.1; its URL.
async fn serve_console(stack: &Stack, aws: &Deps) -> String {
    let name = format!("{}-console-keys", unique("pictures"));
    stack
        .deps
        .secrets
        .put_secret(&name, &SecretString::from(KEYS.to_owned()))
        .await
        .expect("store the keys");
    let keys: Arc<dyn KeySource> = Arc::new(SecretKeys::new(aws.secrets.clone(), name));
    let app = console_lambda::app(
        console_lambda::console_deps(aws, keys),
        aws.pictures.clone(),
    );
    crate::support::serve(app).await
}

/// Runs one full run of `tenant` through the worker with `pictures` as its picture store.
async fn run(stack: &Stack, tenant: &Tenant, pictures: &dyn PictureStore, dedupe: &str) {
    tenant.enqueue(stack, Trigger::Schedule, dedupe).await;
    let messages = stack.receive_exactly(1).await;
    let mut worker = stack.worker();
    worker.pictures = Some(pictures);
    let batch = [&messages[0]];
    let response = worker::handle(&worker, stack.sqs_event(&batch), None).await;
    stack.settle(&batch, &response).await;
    assert!(response.batch_item_failures.is_empty(), "{response:?}");
    let runs = tenant.runs(stack).await;
    let record = tenant.run(stack, &runs[0]).await;
    assert_eq!(record.status, RunStatus::Completed, "{:?}", record.failure);
    let warnings: Vec<_> = record
        .skips
        .iter()
        .filter(|skip| skip.reason.contains("picture"))
        .collect();
    assert!(warnings.is_empty(), "{warnings:?}");
}

/// Personio id → the `photo_url` of the person's user in the tenant's directory.
async fn photo_urls(tenant: &Tenant) -> BTreeMap<u64, String> {
    assert!(matches!(tenant.app, App::Directory { .. }));
    tenant
        .users()
        .await
        .into_iter()
        .filter_map(|user| {
            let url = user.body["fields"]["photo_url"].as_str()?.to_owned();
            Some((personio_id(&user)?, url))
        })
        .collect()
}

/// The Personio id of a linked user (`externalId` `main:<id>`).
fn personio_id(user: &AppUser) -> Option<u64> {
    user.external_id
        .as_deref()?
        .rsplit_once(':')?
        .1
        .parse()
        .ok()
}

/// The keys of the objects under `prefix`.
async fn keys_under(bucket: &PictureBucket, prefix: &str) -> Vec<String> {
    let listed = bucket
        .client()
        .list_objects_v2()
        .bucket(bucket.name())
        .prefix(prefix)
        .send()
        .await
        .expect("list the bucket");
    let mut keys: Vec<String> = listed
        .contents()
        .iter()
        .filter_map(|object| object.key().map(str::to_owned))
        .collect();
    keys.sort();
    keys
}

/// The index object's bytes and ETag.
async fn index_object(bucket: &PictureBucket, key: &str) -> (Vec<u8>, Option<String>) {
    let object = bucket
        .client()
        .get_object()
        .bucket(bucket.name())
        .key(key)
        .send()
        .await
        .expect("the tenant's index");
    let etag = object.e_tag().map(str::to_owned);
    let bytes = object.body.collect().await.expect("its body").into_bytes();
    (bytes.to_vec(), etag)
}

#[tokio::test]
async fn the_worker_hosts_pictures_in_the_bucket_and_the_console_serves_them() {
    let stack = Stack::new().await;
    let tenant = Tenant::onboard(&stack, Spec::directory(20, 8128)).await;
    let bucket_name = unique("pictures");
    stack
        .deps
        .clients
        .s3
        .create_bucket()
        .bucket(&bucket_name)
        .create_bucket_configuration(
            CreateBucketConfiguration::builder()
                .location_constraint(BucketLocationConstraint::from(REGION))
                .build(),
        )
        .send()
        .await
        .expect("create the pictures bucket");
    let console_aws = deps_with_bucket(&stack, "ConsoleFunction", &bucket_name).await;
    let console_url = serve_console(&stack, &console_aws).await;
    // As functions/worker/src/main.rs builds it, with the console's address for CONSOLE_URL.
    let worker_aws = deps_with_bucket(&stack, "WorkerFunction", &bucket_name).await;
    let store = S3Pictures::from_deps(&worker_aws, Some(&console_url))
        .expect("the worker's picture store")
        .expect("the stack has a bucket");
    let bucket = store.bucket().clone();
    let tenant_prefix = format!("pictures/{}/", tenant.id);
    let index_key = sync_aws::pictures::index_key(&tenant.id);

    run(&stack, &tenant, &store, "first").await;

    // Everyone with a user and a picture in Personio has the console's URL of exactly the bytes
    // Personio serves; nobody else has one.
    let urls = photo_urls(&tenant).await;
    let company = tenant.fake.company();
    let with_user: BTreeSet<u64> = tenant
        .users()
        .await
        .into_iter()
        .filter_map(|user| personio_id(&user))
        .collect();
    let expected: BTreeMap<u64, Vec<u8>> = company
        .employees
        .iter()
        .filter(|employee| employee.profile_picture && with_user.contains(&employee.id))
        .map(|employee| {
            let bytes = profile_picture_png(employee.id, employee.picture_version);
            (employee.id, bytes)
        })
        .collect();
    assert!(expected.len() >= 3, "the company has pictures to host");
    assert_eq!(
        urls.keys().collect::<Vec<_>>(),
        expected.keys().collect::<Vec<_>>(),
        "{urls:?}"
    );
    let http = sync_core::http::builder(std::time::Duration::from_secs(10))
        .build()
        .expect("an HTTP client");
    for (id, url) in &urls {
        assert!(
            url.starts_with(&format!("{console_url}/{tenant_prefix}")),
            "person {id}'s photo_url is not a hosted picture: {url}"
        );
        let answer = http.get(url).send().await.expect("the picture");
        assert_eq!(answer.status(), 200, "{url}");
        assert_eq!(answer.headers()[header::CONTENT_TYPE], "image/png");
        assert_eq!(
            answer.headers()[header::CACHE_CONTROL],
            "public, max-age=31536000, immutable"
        );
        let bytes = answer.bytes().await.expect("the bytes");
        assert_eq!(bytes.as_ref(), expected[id].as_slice(), "person {id}");
    }
    // One object per picture the index lists (everyone in scope with a picture: those with a
    // user, and people hired beyond the pre-hire window, who get theirs once they are created),
    // and every user's URL names one.
    let stored = keys_under(&bucket, &tenant_prefix).await;
    let hosted = store.index(&tenant.id).await.expect("the tenant's index");
    let listed: BTreeSet<String> = hosted
        .people
        .values()
        .map(|picture| format!("{tenant_prefix}{}.png", picture.key))
        .collect();
    assert_eq!(stored.iter().cloned().collect::<BTreeSet<_>>(), listed);
    assert_eq!(stored.len(), hosted.people.len(), "one object per picture");
    for (id, url) in &urls {
        assert_eq!(hosted.people[&key(*id)].url, *url, "person {id}");
    }
    let index = index_object(&bucket, &index_key).await;

    // The next run reads the index, finds every picture fresh and stores nothing.
    run(&stack, &tenant, &store, "second").await;
    assert_eq!(keys_under(&bucket, &tenant_prefix).await, stored);
    assert_eq!(index_object(&bucket, &index_key).await, index);
    assert_eq!(photo_urls(&tenant).await, urls);
    let runs = tenant.runs(&stack).await;
    assert_eq!(runs[0].counts.updated, 0, "nobody changed");

    // Only pictures are served: not the index, not another name, not another tenant's path, and
    // nothing that is not there.
    let (_, any) = urls.iter().next().expect("a picture");
    let file = any.rsplit('/').next().expect("a file name");
    let content_key = file.trim_end_matches(".png");
    let other = TenantId::parse(&unique("t")).expect("a tenant id");
    for path in [
        format!("/pictures/{}/index", tenant.id),
        format!("/pictures/{}/{}.json", tenant.id, tenant.id),
        format!("/pictures/index/{}.json", tenant.id),
        format!(
            "/pictures/{}/..%2F..%2Findex%2F{}.json",
            tenant.id, tenant.id
        ),
        format!("/pictures/{}/{content_key}.jpg", tenant.id),
        format!("/pictures/{}/{content_key}.gif", tenant.id),
        format!("/pictures/{}/{}.png", tenant.id, "0".repeat(64)),
        format!("/pictures/{other}/{file}"),
        format!("/pictures/{}/{}", tenant.id.as_str().to_uppercase(), file),
        format!("/pictures/{}", tenant.id),
        format!("/{index_key}"),
    ] {
        let answer = http
            .get(format!("{console_url}{path}"))
            .send()
            .await
            .expect("an answer");
        assert_eq!(answer.status(), 404, "{path}");
    }
}
