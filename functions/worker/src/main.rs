//! Worker Lambda: wiring only. Clients are built once per cold start; the handler is in lib.rs.

// jemalloc, as every binary of the project (docs/decisions/0021-jemalloc.md).
use sync_allocator as _;

use aws_lambda_events::sqs::SqsEvent;
use lambda_runtime::{service_fn, LambdaEvent};
use sync_core::pictures::PictureStore;
use worker::WorkerDeps;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    // Built once: every invocation on this instance reuses these clients and the secret cache.
    let aws = sync_aws::cold_start().await?;
    // Summary emails link to the console when the stack has one.
    let console = sync_aws::console::console_from_env(&aws.secrets)?;
    // Profile pictures go to the stack's bucket (PICTURES_BUCKET), served by the console.
    let pictures = sync_aws::S3Pictures::from_deps(&aws, console.as_ref().map(|c| c.url.as_str()))
        .inspect_err(|error| tracing::error!(error = %error, "cold start failed"))?;
    let deps = WorkerDeps {
        configs: &aws.store,
        store: &aws.store,
        secrets: &aws.secrets,
        mailer: &aws.mailer,
        jobs: &aws.jobs,
        events: &aws.store,
        // A deployed tenant has no folder: `kind = "directory"` is refused.
        local: None,
        progress: &aws.store,
        console: console.as_ref(),
        pictures: pictures.as_ref().map(|store| store as &dyn PictureStore),
    };
    let deps = &deps;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<SqsEvent>| async move {
        let response = worker::handle(
            deps,
            event.payload,
            worker::deadline(event.context.deadline, worker::SAFETY_MARGIN),
        )
        .await;
        Ok::<_, lambda_runtime::Error>(response)
    }))
    .await
}
