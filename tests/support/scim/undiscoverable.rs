//! The shared scim2-server behind a proxy that answers 404 to `/ResourceTypes`, `/Schemas` and
//! `/ServiceProviderConfig`: an app that publishes nothing about itself, as many do.

use super::{scim_server, ScimServer};
use axum::body::Bytes;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};

/// The discovery endpoints the proxy refuses.
const HIDDEN: [&str; 3] = ["/ResourceTypes", "/Schemas", "/ServiceProviderConfig"];

/// Starts the proxy on a free loopback port; it runs until the test process ends. The server
/// it returns has the shared server's token and tenants.
pub async fn undiscoverable_server() -> ScimServer {
    undiscoverable_proxy(scim_server()).await
}

/// The same proxy in front of `upstream` (a server a test started with its own schemas): the
/// same tenants and token, with nothing published about them.
pub async fn undiscoverable_proxy(upstream: &ScimServer) -> ScimServer {
    let token = upstream.token.clone();
    let upstream = upstream.url.clone();
    // reqwest is built without a TLS provider; building a client checks for one.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let http = reqwest::Client::new();
    let app = axum::Router::new().fallback(
        move |method: Method, uri: Uri, headers: HeaderMap, body: Bytes| {
            let (http, upstream) = (http.clone(), upstream.clone());
            async move { forward(&http, &upstream, method, uri, headers, body).await }
        },
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a loopback port");
    let url = format!("http://{}", listener.local_addr().expect("address"));
    tokio::spawn(async move { axum::serve(listener, app).await });
    ScimServer::at(url, token)
}

async fn forward(
    http: &reqwest::Client,
    upstream: &str,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if HIDDEN.iter().any(|hidden| uri.path().ends_with(hidden)) {
        return StatusCode::NOT_FOUND.into_response();
    }
    let target = format!(
        "{upstream}{}",
        uri.path_and_query().map_or("/", |p| p.as_str())
    );
    let mut request = http.request(method, target).body(body);
    for (name, value) in &headers {
        if name != "host" && name != "content-length" {
            request = request.header(name, value);
        }
    }
    let Ok(answer) = request.send().await else {
        return StatusCode::BAD_GATEWAY.into_response();
    };
    let status = answer.status();
    let mut out = HeaderMap::new();
    for (name, value) in answer.headers() {
        if name != "content-length" && name != "transfer-encoding" {
            out.insert(name, value.clone());
        }
    }
    let bytes = answer.bytes().await.unwrap_or_default();
    (status, out, bytes).into_response()
}
