//! What a SCIM server answers cannot exhaust our memory: bodies are read up to a limit, and
//! `totalResults` is a claim to check against the pages, never a size to allocate. A small axum
//! server on a free loopback port plays the misbehaving destination.

mod support;

use axum::body::{Body, Bytes};
use axum::extract::Query;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use futures::stream;
use serde_json::json;
use std::collections::HashMap;
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
async fn a_huge_total_results_with_few_users_pages_until_the_list_runs_out() {
    let users = |Query(query): Query<HashMap<String, String>>| async move {
        let resources = match query.get("startIndex").map(String::as_str) {
            Some("1") => json!([
                {"id": "u1", "userName": "ada@example.com"},
                {"id": "u2", "userName": "grace@example.com"},
            ]),
            _ => json!([]),
        };
        axum::Json(json!({
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
            "totalResults": 4_000_000_000_u64,
            "Resources": resources,
        }))
    };
    let app = Router::new().route("/scim/v2/Users", get(users)).route(
        "/scim/v2/ServiceProviderConfig",
        get(|| async { axum::Json(json!({})) }),
    );
    let base_url = serve(app).await;
    let listed = destination(&base_url).users().await.expect("users");
    let names: Vec<&str> = listed.iter().map(|user| user.user_name.as_str()).collect();
    assert_eq!(names, ["ada@example.com", "grace@example.com"]);
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

#[tokio::test]
async fn a_server_that_pages_without_end_is_stopped_at_a_million_users() {
    // Every page full, whatever the index: the list would never run out on its own.
    let page: serde_json::Value = json!({
        "totalResults": 4_000_000_000_u64,
        "Resources": (0..1000)
            .map(|n| json!({"id": format!("u{n}"), "userName": format!("user{n}@example.com")}))
            .collect::<Vec<_>>(),
    });
    let page = Bytes::from(serde_json::to_vec(&page).expect("JSON"));
    let users = move || {
        let page = page.clone();
        async move { Response::new(Body::from(page)) }
    };
    let app = Router::new().route("/scim/v2/Users", get(users)).route(
        "/scim/v2/ServiceProviderConfig",
        get(|| async { axum::Json(json!({})) }),
    );
    let base_url = serve(app).await;
    let error = destination(&base_url).users().await.expect_err("refused");
    assert!(
        error.to_string().contains("more than 1000000 users"),
        "{error}"
    );
}
