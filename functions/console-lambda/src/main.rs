//! Console Lambda (public HTTP API: the signed link is the authorisation): wiring only. Clients
//! are built once per cold start; the pages are in `sync-console`, the actions and the hosted
//! pictures' route in lib.rs.

// jemalloc, as every binary of the project (docs/decisions/0021-jemalloc.md).
use sync_allocator as _;

use std::sync::Arc;
use sync_aws::console::SecretKeys;
use tower::ServiceExt;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    // Built once: every invocation on this instance reuses these clients and the secret cache.
    let aws = sync_aws::cold_start().await?;
    let keys = SecretKeys::from_env(&aws.secrets).ok_or(
        "the environment variable CONSOLE_KEYS_SECRET is not set; set it to the secret holding the console's link keys",
    )?;
    // The pages, and the profile pictures of the stack's bucket (PICTURES_BUCKET) when it has one.
    let app = console_lambda::app(
        console_lambda::console_deps(&aws, Arc::new(keys)),
        aws.pictures.clone(),
    );
    lambda_http::run(lambda_http::service_fn(
        move |request: lambda_http::Request| app.clone().oneshot(request),
    ))
    .await
}
