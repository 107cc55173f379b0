//! Scheduler Lambda: wiring only. Clients are built once per cold start; the handler is in lib.rs.

use aws_lambda_events::eventbridge::EventBridgeEvent;
use lambda_runtime::{service_fn, LambdaEvent};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    sync_aws::init_tracing();
    // Built once: every invocation on this instance reuses these clients.
    let aws = sync_aws::Deps::from_env().await.inspect_err(|error| {
        // The message names the missing variable; Lambda would otherwise print only its Debug form.
        tracing::error!(error = %error, "cold start failed");
    })?;
    let aws = &aws;
    lambda_runtime::run(service_fn(
        move |_event: LambdaEvent<EventBridgeEvent>| async move {
            let queued = scheduler::handle(&aws.store, &aws.jobs, chrono::Utc::now()).await?;
            Ok::<_, lambda_runtime::Error>(serde_json::json!({ "queued": queued.len() }))
        },
    ))
    .await
}
