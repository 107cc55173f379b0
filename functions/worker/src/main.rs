//! Worker Lambda: wiring only. Clients are built once per cold start; the handler is in lib.rs.

use aws_lambda_events::sqs::SqsEvent;
use lambda_runtime::{service_fn, LambdaEvent};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use worker::WorkerDeps;

/// Writes stop this long before the Lambda's time limit, leaving time to record the run, email
/// the summary and queue the continuation.
const SAFETY_MARGIN: Duration = Duration::from_secs(60);

/// The Lambda's deadline (milliseconds since the epoch) as an `Instant`, minus the margin.
fn deadline(deadline_ms: u64) -> Option<Instant> {
    let now_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .ok()?
        .as_millis() as u64;
    let left = Duration::from_millis(deadline_ms.saturating_sub(now_ms));
    Some(Instant::now() + left.saturating_sub(SAFETY_MARGIN))
}

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
    };
    let deps = &deps;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<SqsEvent>| async move {
        let response = worker::handle(deps, event.payload, deadline(event.context.deadline)).await;
        Ok::<_, lambda_runtime::Error>(response)
    }))
    .await
}
