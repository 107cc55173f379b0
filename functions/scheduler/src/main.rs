//! Scheduler Lambda: wiring only. Clients are built once per cold start; the handler is in lib.rs.

// jemalloc, as every binary of the project (docs/decisions/0021-jemalloc.md).
use sync_allocator as _;

use aws_lambda_events::eventbridge::EventBridgeEvent;
use lambda_runtime::{service_fn, LambdaEvent};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    // Built once: every invocation on this instance reuses these clients.
    let aws = &sync_aws::cold_start().await?;
    lambda_runtime::run(service_fn(
        move |_event: LambdaEvent<EventBridgeEvent>| async move {
            let queued = scheduler::handle(&aws.store, &aws.jobs, chrono::Utc::now()).await?;
            Ok::<_, lambda_runtime::Error>(serde_json::json!({ "queued": queued.len() }))
        },
    ))
    .await
}
