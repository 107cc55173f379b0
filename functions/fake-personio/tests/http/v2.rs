//! Helpers of the v2 tests: a v2 token and GETs that keep the headers.

use super::*;
use reqwest::header::HeaderMap;

/// A v2 token from `POST /v2/auth/token`.
pub(crate) async fn v2_login(fake: &FakePersonio, client: &Client) -> String {
    let response = client
        .post(format!("{}/v2/auth/token", fake.url()))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", "fake-client-id"),
            ("client_secret", "fake-client-secret"),
        ])
        .send()
        .await
        .expect("token answers");
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.expect("json");
    body["access_token"].as_str().expect("token").to_owned()
}

/// GETs `path` (or an absolute URL) with the token: status, headers and the JSON body.
pub(crate) async fn v2_get(
    client: &Client,
    fake: &FakePersonio,
    path: &str,
    token: &str,
) -> (StatusCode, HeaderMap, Value) {
    let url = if path.starts_with("http") {
        path.to_owned()
    } else {
        format!("{}{path}", fake.url())
    };
    let response = client
        .get(url)
        .bearer_auth(token)
        .send()
        .await
        .expect("fake answers");
    let status = response.status();
    let headers = response.headers().clone();
    let body = response.json().await.unwrap_or(Value::Null);
    (status, headers, body)
}

/// The ids of a `_data` page, as numbers.
pub(crate) fn v2_ids(page: &Value) -> Vec<u64> {
    page["_data"]
        .as_array()
        .expect("_data array")
        .iter()
        .map(|item| {
            item["id"]
                .as_str()
                .expect("string id")
                .parse()
                .expect("numeric")
        })
        .collect()
}

/// The `next` link of a page, if any.
pub(crate) fn next_link(page: &Value) -> Option<String> {
    page["_meta"]["links"]["next"]["href"]
        .as_str()
        .map(str::to_owned)
}

/// Asserts v2's error envelope with this error `type` suffix.
pub(crate) fn assert_v2_error(body: &Value, kind: &str) {
    assert!(body["personio_trace_id"].is_string(), "{body}");
    assert!(body["timestamp"].is_string(), "{body}");
    let error = &body["errors"][0];
    assert!(error["title"].is_string(), "{body}");
    assert!(error["detail"].is_string(), "{body}");
    let expected = format!("https://developer.personio.de/reference/errors#{kind}");
    assert_eq!(error["type"], expected.as_str(), "{body}");
}
