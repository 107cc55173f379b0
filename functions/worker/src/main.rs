//! Worker Lambda: wiring only. Clients are built once per cold start; the handler is in lib.rs.

use aws_lambda_events::sqs::SqsEvent;
use lambda_runtime::{service_fn, LambdaEvent};
use worker::WorkerDeps;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    sync_aws::init_tracing();
    // Built once: every invocation on this instance reuses these clients and the secret cache.
    let aws = sync_aws::Deps::from_env().await.inspect_err(|error| {
        // The message names the missing variable; Lambda would otherwise print only its Debug form.
        tracing::error!(error = %error, "cold start failed");
    })?;
    let deps = WorkerDeps {
        configs: &aws.store,
        store: &aws.store,
        secrets: &aws.secrets,
        mailer: &aws.mailer,
        jobs: &aws.jobs,
        // A deployed tenant has no folder: `kind = "directory"` is refused.
        local: None,
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
