//! What a SCIM server answers cannot exhaust our memory: bodies are read up to a limit. A small
//! axum server on a free loopback port plays the misbehaving destination.

mod support;

use axum::body::{Body, Bytes};
use axum::response::Response;
use axum::Router;
use futures::stream;
use serde_json::json;
use std::convert::Infallible;
use support::settings;
use sync_core::ports::Destination;
use sync_scim::ScimDestination;

/// Serves `app` on 127.0.0.1:0 and returns its base URL.
async fn serve(app: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a free loopback port");
    let address = listener.local_addr().expect("the bound address");
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{address}/scim/v2")
}

fn destination(base_url: &str) -> ScimDestination {
    let mut settings = settings(base_url, "token");
    settings.max_attempts = 1;
    settings.request_timeout = std::time::Duration::from_secs(10);
    ScimDestination::new(settings).expect("destination")
}

#[tokio::test]
async fn an_answer_that_never_ends_is_cut_off_at_the_limit_with_a_clear_error() {
    // No Content-Length, and blanks forever: only counting what arrives can stop it.
    let endless = || async {
        let chunk = Bytes::from(vec![b' '; 64 * 1024]);
        Response::new(Body::from_stream(stream::repeat(Ok::<_, Infallible>(
            chunk,
        ))))
    };
    let base_url = serve(Router::new().fallback(endless)).await;
    let error = destination(&base_url).users().await.expect_err("refused");
    assert!(error.to_string().contains("larger than 32 MiB"), "{error}");
}

#[tokio::test]
async fn an_answer_announced_larger_than_the_configured_limit_is_refused_unread() {
    // A Content-Length over the limit: refused before a byte of the body is read.
    let large = || async { axum::Json(json!({"padding": "x".repeat(4096)})) };
    let base_url = serve(Router::new().fallback(large)).await;
    let mut settings = settings(&base_url, "token");
    settings.max_attempts = 1;
    settings.max_body_bytes = 1024;
    let destination = ScimDestination::new(settings).expect("destination");
    let error = destination.users().await.expect_err("refused");
    assert!(
        error.to_string().contains("larger than 1024 bytes"),
        "{error}"
    );
}
