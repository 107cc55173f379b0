//! Admin Lambda (HTTP API, IAM-authorised): wiring only. Clients are built once per cold start; the
//! router is in lib.rs, where the tests call it.

// jemalloc, as every binary of the project (docs/decisions/0021-jemalloc.md).
use sync_allocator as _;

use admin::{AdminDeps, AdminSettings, Caller};
use lambda_http::request::RequestContext;
use lambda_http::{Request, RequestExt};
use std::sync::Arc;
use tower::ServiceExt;

/// The caller's IAM ARN from the HTTP API's request context, when IAM authorised the request.
fn caller(request: &Request) -> Option<String> {
    match request.request_context_ref()? {
        RequestContext::ApiGatewayV2(context) => {
            context.authorizer.as_ref()?.iam.as_ref()?.user_arn.clone()
        }
        #[allow(unreachable_patterns)] // Other variants exist only with other lambda_http features.
        _ => None,
    }
}

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    // Built once: every invocation on this instance reuses these clients.
    let aws = sync_aws::cold_start().await?;
    let console = sync_aws::console::console_from_env(&aws.secrets)?;
    let deps = AdminDeps {
        configs: Arc::new(aws.store.clone()),
        store: Arc::new(aws.store.clone()),
        tenants: Arc::new(aws.store.clone()),
        secrets: Arc::new(aws.secrets.clone()),
        secrets_admin: Arc::new(aws.secrets.clone()),
        jobs: Arc::new(aws.jobs.clone()),
        progress: Arc::new(aws.store.clone()),
        console,
        // A deployed tenant has no folder: `kind = "directory"` is refused.
        local: None,
        settings: AdminSettings::default(),
    };
    let app = admin::app(deps);
    lambda_http::run(lambda_http::service_fn(move |mut request: Request| {
        if let Some(arn) = caller(&request) {
            request.extensions_mut().insert(Caller(arn));
        }
        app.clone().oneshot(request)
    }))
    .await
}
