//! The fake's v2 token, webhook management API and event delivery over real HTTP on 127.0.0.1:
//! a plain reqwest client on one side, a small axum receiver on the other.

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode as AxumStatus};
use axum::routing::post;
use axum::Router;
use chrono::NaiveDate;
use fake_personio::{
    generate_company, CompanySpec, DeliveryPolicy, FakeConfig, FakePersonio, WebhookStatus,
};
use reqwest::{Client, StatusCode};
use serde_json::{json, Value};
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

async fn spawn() -> FakePersonio {
    spawn_with(DeliveryPolicy::default()).await
}

async fn spawn_with(delivery: DeliveryPolicy) -> FakePersonio {
    let company = generate_company(&CompanySpec {
        employees: 5,
        seed: 3,
        today: NaiveDate::from_ymd_opt(2025, 3, 14).expect("valid date"),
    });
    let config = FakeConfig {
        rate_limit: None,
        company_id: "98765".to_owned(),
        delivery,
        ..FakeConfig::default()
    };
    FakePersonio::start(company, config)
        .await
        .expect("fake starts")
}

fn client() -> Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    Client::new()
}

async fn v2_token(fake: &FakePersonio, client: &Client) -> String {
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
    body["access_token"]
        .as_str()
        .expect("access_token")
        .to_owned()
}

/// One request the receiver got.
#[derive(Clone, Debug)]
struct Received {
    authorization: Option<String>,
    content_type: Option<String>,
    body: Value,
}

/// What the receiver answers next; `None` never answers (a hung receiver).
type Script = Arc<Mutex<VecDeque<Option<u16>>>>;

/// A webhook receiver on 127.0.0.1: answers from `script` (200 once it is used up) and records
/// every request.
async fn receiver(script: Vec<Option<u16>>) -> (String, Arc<Mutex<Vec<Received>>>) {
    let received = Arc::new(Mutex::new(Vec::new()));
    let script: Script = Arc::new(Mutex::new(script.into()));
    let log = Arc::clone(&received);
    let app = Router::new().route(
        "/hook",
        post(move |headers: HeaderMap, body: Bytes| {
            let log = Arc::clone(&log);
            let script = Arc::clone(&script);
            async move {
                let header = |name: &str| {
                    headers
                        .get(name)
                        .and_then(|value| value.to_str().ok())
                        .map(str::to_owned)
                };
                log.lock().unwrap().push(Received {
                    authorization: header("authorization"),
                    content_type: header("content-type"),
                    body: serde_json::from_slice(&body).unwrap_or(Value::Null),
                });
                let next = script.lock().unwrap().pop_front().unwrap_or(Some(200));
                match next {
                    Some(status) => AxumStatus::from_u16(status).unwrap(),
                    None => std::future::pending().await,
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{addr}/hook"), received)
}

async fn register(fake: &FakePersonio, client: &Client, body: Value) -> (StatusCode, Value) {
    let token = v2_token(fake, client).await;
    let response = client
        .post(format!("{}/v2/webhooks", fake.url()))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .expect("fake answers");
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn enabled_webhook(fake: &FakePersonio, url: &str, events: &[&str]) -> String {
    let (status, body) = register(
        fake,
        &client(),
        json!({
            "url": url, "description": "personio-sync", "status": "ENABLED",
            "auth_type": "TOKEN", "token": "tok-123 verbatim", "enabled_events": events,
        }),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body["id"].as_str().expect("id").to_owned()
}

#[tokio::test]
async fn a_v2_token_is_issued_for_the_right_form_and_refused_otherwise() {
    let fake = spawn().await;
    let client = client();
    let url = format!("{}/v2/auth/token", fake.url());
    let good = client
        .post(&url)
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", "fake-client-id"),
            ("client_secret", "fake-client-secret"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(good.status(), StatusCode::OK);
    let body: Value = good.json().await.unwrap();
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 86_400);
    assert!(body["scope"].as_str().unwrap().contains("webhooks"));

    let wrong = client
        .post(&url)
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", "fake-client-id"),
            ("client_secret", "nope"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    let body: Value = wrong.json().await.unwrap();
    assert_eq!(body["error"], "invalid_client");

    let missing = client
        .post(&url)
        .form(&[("client_id", "fake-client-id")])
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), StatusCode::BAD_REQUEST);
    let body: Value = missing.json().await.unwrap();
    assert_eq!(
        body["meta"]["missing_parameters"],
        json!(["grant_type", "client_secret"])
    );

    let as_json = client
        .post(&url)
        .json(&json!({"grant_type": "client_credentials", "client_id": "fake-client-id", "client_secret": "fake-client-secret"}))
        .send()
        .await
        .unwrap();
    assert_eq!(as_json.status(), StatusCode::BAD_REQUEST);
    assert_eq!(fake.stats().token_requests, 4);
}

#[tokio::test]
async fn webhook_endpoints_need_a_v2_token() {
    let fake = spawn().await;
    let client = client();
    let none = client
        .get(format!("{}/v2/webhooks", fake.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(none.status(), StatusCode::UNAUTHORIZED);
    let body: Value = none.json().await.unwrap();
    assert!(body["personio_trace_id"].is_string());
    assert_eq!(body["errors"][0]["title"], "Unauthorized Request");
    let made_up = client
        .get(format!("{}/v2/webhooks", fake.url()))
        .bearer_auth("papi-made-up")
        .send()
        .await
        .unwrap();
    assert_eq!(made_up.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn webhooks_are_created_listed_changed_and_deleted() {
    let fake = spawn().await;
    let client = client();
    let token = v2_token(&fake, &client).await;
    let (status, created) = register(
        &fake,
        &client,
        json!({"url": "https://app.example/hook", "description": "sync", "token": "secret-token", "enabled_events": ["person.updated"]}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(created["status"], "DISABLED", "Personio's default");
    assert_eq!(created["auth_type"], "TOKEN");
    assert!(
        created.get("token").is_none(),
        "the token is never sent back"
    );
    let id = created["id"].as_str().unwrap();

    let (status, _) = register(
        &fake,
        &client,
        json!({"url": "https://other.example/hook", "description": "x", "token": "t", "enabled_events": ["person.melted"]}),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);

    let patched = client
        .patch(format!("{}/v2/webhooks/{id}", fake.url()))
        .bearer_auth(&token)
        .json(&json!({"status": "ENABLED", "token": "rotated"}))
        .send()
        .await
        .unwrap();
    assert_eq!(patched.status(), StatusCode::OK);
    let patched: Value = patched.json().await.unwrap();
    assert_eq!(patched["status"], "ENABLED");
    assert_eq!(fake.webhooks()[0].token.as_deref(), Some("rotated"));
    assert_eq!(fake.webhooks()[0].status, WebhookStatus::Enabled);

    let (status, second) = register(
        &fake,
        &client,
        json!({"url": "https://two.example/hook", "description": "two", "token": "t2", "enabled_events": ["person.created"]}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let page: Value = client
        .get(format!("{}/v2/webhooks?limit=1", fake.url()))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(page["_data"].as_array().unwrap().len(), 1);
    let next = page["_meta"]["links"]["next"]["href"].as_str().unwrap();
    let rest: Value = client
        .get(next)
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(rest["_data"][0]["id"], second["id"]);
    assert!(rest["_meta"]["links"].get("next").is_none());

    let deleted = client
        .delete(format!("{}/v2/webhooks/{id}", fake.url()))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    let gone = client
        .get(format!("{}/v2/webhooks/{id}", fake.url()))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(gone.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn an_event_reaches_enabled_subscribers_with_the_token_verbatim() {
    let fake = spawn().await;
    let (subscribed, got) = receiver(Vec::new()).await;
    let (other, other_got) = receiver(Vec::new()).await;
    enabled_webhook(&fake, &subscribed, &["person.updated"]).await;
    enabled_webhook(&fake, &other, &["person.created"]).await;
    let (disabled, disabled_got) = receiver(Vec::new()).await;
    register(
        &fake,
        &client(),
        json!({"url": disabled, "description": "off", "token": "t", "enabled_events": ["person.updated"]}),
    )
    .await;

    let made = fake.emit("person.updated", json!({"id": "1001"})).await;
    assert_eq!(made.len(), 1);
    assert!(made[0].acknowledged());
    let got = got.lock().unwrap().clone();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].authorization.as_deref(), Some("tok-123 verbatim"));
    assert_eq!(got[0].content_type.as_deref(), Some("application/json"));
    let envelope = &got[0].body;
    assert_eq!(envelope["company_id"], "98765");
    assert_eq!(envelope["event_name"], "person.updated");
    assert_eq!(envelope["payload"], json!({"id": "1001"}));
    assert!(envelope["occurred_at"].as_str().unwrap().ends_with('Z'));
    assert!(envelope["meta"].is_object());
    assert!(other_got.lock().unwrap().is_empty());
    assert!(disabled_got.lock().unwrap().is_empty());
    assert_eq!(fake.deliveries(), made);
}

#[tokio::test]
async fn unacknowledged_deliveries_are_retried_with_the_same_body() {
    let fake = spawn().await;
    let (url, got) = receiver(vec![Some(500), Some(503), Some(429)]).await;
    enabled_webhook(&fake, &url, &["person.updated"]).await;
    let made = fake.emit("person.updated", json!({"id": 7})).await;
    let statuses: Vec<_> = made.iter().map(|d| d.status).collect();
    assert_eq!(statuses, [Some(500), Some(503), Some(429), Some(200)]);
    assert_eq!(
        made.iter().map(|d| d.request).collect::<Vec<_>>(),
        [1, 2, 3, 4]
    );
    let bodies: Vec<_> = got.lock().unwrap().iter().map(|r| r.body.clone()).collect();
    assert!(bodies.windows(2).all(|pair| pair[0] == pair[1]));
}

#[tokio::test]
async fn a_501_is_not_retried_and_a_failing_receiver_gets_14_requests() {
    let fake = spawn().await;
    let (not_implemented, _) = receiver(vec![Some(501)]).await;
    enabled_webhook(&fake, &not_implemented, &["person.created"]).await;
    let made = fake.emit("person.created", json!({"id": 1})).await;
    assert_eq!(made.len(), 1);

    let (broken, got) = receiver(vec![Some(500); 20]).await;
    enabled_webhook(&fake, &broken, &["person.deleted"]).await;
    let made = fake.emit("person.deleted", json!({"id": 1})).await;
    assert_eq!(made.len(), 14, "Personio's maximum");
    assert!(made.iter().all(|d| !d.acknowledged()));
    assert_eq!(got.lock().unwrap().len(), 14);
}

#[tokio::test]
async fn client_errors_are_retried_only_when_the_policy_says_so() {
    let fake = spawn_with(DeliveryPolicy {
        retry_client_errors: false,
        ..DeliveryPolicy::default()
    })
    .await;
    let (url, _) = receiver(vec![Some(400), Some(400)]).await;
    enabled_webhook(&fake, &url, &["person.updated"]).await;
    assert_eq!(fake.emit("person.updated", json!({})).await.len(), 1);

    fake.set_delivery_policy(DeliveryPolicy::default());
    let (url, _) = receiver(vec![Some(401), Some(401)]).await;
    enabled_webhook(&fake, &url, &["person.created"]).await;
    let statuses: Vec<_> = fake
        .emit("person.created", json!({}))
        .await
        .iter()
        .map(|d| d.status)
        .collect();
    assert_eq!(statuses, [Some(401), Some(401), Some(200)]);
}

#[tokio::test]
async fn a_receiver_that_does_not_answer_in_time_is_retried() {
    let fake = spawn_with(DeliveryPolicy {
        timeout: Duration::from_millis(150),
        ..DeliveryPolicy::default()
    })
    .await;
    let (url, got) = receiver(vec![None, None]).await;
    enabled_webhook(&fake, &url, &["person.updated"]).await;
    let made = fake.emit("person.updated", json!({"id": 3})).await;
    assert_eq!(made.len(), 3);
    assert_eq!(made[0].error.as_deref(), Some("timed out"));
    assert_eq!(made[1].error.as_deref(), Some("timed out"));
    assert!(made[2].acknowledged());
    assert_eq!(got.lock().unwrap().len(), 3);
}

#[tokio::test]
async fn a_ping_request_delivers_a_ping_event() {
    let fake = spawn().await;
    let (url, got) = receiver(Vec::new()).await;
    let id = enabled_webhook(&fake, &url, &["person.updated"]).await;
    let client = client();
    let token = v2_token(&fake, &client).await;
    let response = client
        .post(format!("{}/v2/webhooks/{id}/ping", fake.url()))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    let deadline = Instant::now() + Duration::from_secs(10);
    while got.lock().unwrap().is_empty() {
        assert!(Instant::now() < deadline, "no ping arrived");
        tokio::task::yield_now().await;
    }
    assert_eq!(got.lock().unwrap()[0].body["event_name"], "ping");
}
