//! Webhook Lambda (HTTP API `POST /webhooks/personio/{tenant_id}`): wiring only. Clients are built
//! once per cold start; the handler and the event translation are in the library, where the
//! tests call them.

// jemalloc, as every binary of the project (docs/decisions/0021-jemalloc.md).
use sync_allocator as _;

use lambda_http::{service_fn, Request};
use webhook::WebhookDeps;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    // Built once: every invocation on this instance reuses these clients.
    let aws = &sync_aws::cold_start().await?;
    let misses = &webhook::Misses::default();
    lambda_http::run(service_fn(move |request: Request| async move {
        let deps = WebhookDeps {
            configs: &aws.store,
            secrets: &aws.secrets,
            events: &aws.store,
            jobs: &aws.jobs,
            misses,
            now: chrono::Utc::now(),
        };
        let answer = webhook::handle(&deps, webhook::lambda::request_from(&request)).await;
        webhook::lambda::response_from(answer).map_err(lambda_http::Error::from)
    }))
    .await
}
