//! Webhook Lambda (HTTP API `POST /webhooks/personio/{tenant_id}`): wiring only. Clients are built
//! once per cold start; the handler is in lib.rs, where the tests call it.

use lambda_http::{service_fn, Body, Request, RequestExt, Response};
use webhook::{WebhookDeps, WebhookRequest};

fn header(request: &Request, name: &str) -> Option<String> {
    request
        .headers()
        .get(name)
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned)
}

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    sync_aws::init_tracing();
    // Built once: every invocation on this instance reuses these clients and the secret cache.
    let aws = sync_aws::Deps::from_env().await.inspect_err(|error| {
        // The message names the missing variable; Lambda would otherwise print only its Debug form.
        tracing::error!(error = %error, "cold start failed");
    })?;
    let aws = &aws;
    lambda_http::run(service_fn(move |request: Request| async move {
        let params = request.path_parameters();
        let tenant_id = params
            .first("tenant_id")
            .or_else(|| params.first("tenantId"))
            .unwrap_or_default()
            .to_owned();
        // lambda_http has already base64-decoded a binary body.
        let body = match request.body() {
            Body::Empty => Vec::new(),
            Body::Text(text) => text.as_bytes().to_vec(),
            Body::Binary(bytes) => bytes.clone(),
            _ => Vec::new(),
        };
        let webhook_request = WebhookRequest {
            tenant_id,
            authorization: header(&request, "authorization"),
            content_type: header(&request, "content-type"),
            body,
        };
        let deps = WebhookDeps {
            configs: &aws.store,
            secrets: &aws.secrets,
            events: &aws.store,
            jobs: &aws.jobs,
            now: chrono::Utc::now(),
        };
        let answer = webhook::handle(&deps, webhook_request).await;
        Response::builder()
            .status(answer.status)
            .header("content-type", "application/json")
            .body(Body::from(answer.body))
            .map_err(lambda_http::Error::from)
    }))
    .await
}
