//! The fake over real HTTP on 127.0.0.1, driven by reqwest as a plain client: auth, paging,
//! whitelist, rate limit and every fault.

use chrono::NaiveDate;
use fake_personio::{generate_company, CompanySpec, FakeConfig, FakePersonio, Fault, RateLimit};
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, RETRY_AFTER};
use reqwest::{Client, StatusCode};
use serde_json::{json, Value};
use std::collections::{BTreeSet, HashSet};
use std::time::{Duration, Instant};

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2025, 3, 14).expect("valid date")
}

/// A fake with `employees` people and no rate limit unless a test asks for one.
async fn spawn(employees: usize) -> FakePersonio {
    spawn_with(
        employees,
        FakeConfig {
            rate_limit: None,
            ..FakeConfig::default()
        },
    )
    .await
}

async fn spawn_with(employees: usize, config: FakeConfig) -> FakePersonio {
    let company = generate_company(&CompanySpec {
        employees,
        seed: 17,
        today: today(),
    });
    FakePersonio::start(company, config)
        .await
        .expect("fake starts")
}

fn client() -> Client {
    // reqwest is built with `rustls-no-provider`: it needs a process-wide provider even for http.
    let _ = rustls::crypto::ring::default_provider().install_default();
    Client::builder().build().expect("client builds")
}

async fn login(fake: &FakePersonio, client: &Client) -> String {
    let response = client
        .post(format!("{}/v1/auth", fake.url()))
        .json(&json!({"client_id": "fake-client-id", "client_secret": "fake-client-secret"}))
        .send()
        .await
        .expect("auth answers");
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.expect("json");
    body["data"]["token"].as_str().expect("token").to_owned()
}

/// GETs `path` with the token; returns status, the echoed Authorization header and the JSON body.
async fn get(
    client: &Client,
    fake: &FakePersonio,
    path: &str,
    token: &str,
) -> (StatusCode, Option<String>, Value) {
    let response = client
        .get(format!("{}{path}", fake.url()))
        .bearer_auth(token)
        .send()
        .await
        .expect("fake answers");
    let status = response.status();
    let echoed = response
        .headers()
        .get(AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned);
    let body = response.json().await.unwrap_or(Value::Null);
    (status, echoed, body)
}

fn ids(page: &Value) -> Vec<u64> {
    page["data"]
        .as_array()
        .expect("data array")
        .iter()
        .map(|employee| employee["attributes"]["id"]["value"].as_u64().expect("id"))
        .collect()
}

#[tokio::test]
async fn auth_accepts_json_and_form_and_returns_one_stable_token() {
    let fake = spawn(5).await;
    let client = client();
    let from_json = login(&fake, &client).await;
    assert!(from_json.starts_with("papi-"));
    let response = client
        .post(format!("{}/v1/auth", fake.url()))
        .form(&[
            ("client_id", "fake-client-id"),
            ("client_secret", "fake-client-secret"),
        ])
        .send()
        .await
        .expect("auth answers");
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.expect("json");
    assert_eq!(body["success"], true);
    assert_eq!(body["data"]["expires_in"], 86400);
    assert_eq!(body["data"]["token"], from_json.as_str());
}

#[tokio::test]
async fn a_credential_without_employee_access_logs_in_but_reads_no_employee() {
    let fake = spawn(5).await;
    fake.set_employee_access(false);
    let client = client();
    let token = login(&fake, &client).await;
    for path in [
        "/v1/company/employees?limit=1",
        "/v1/company/employees/attributes",
    ] {
        let (status, _, body) = get(&client, &fake, path, &token).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{path}");
        assert_eq!(body["error"]["code"], 403);
    }
    fake.set_employee_access(true);
    let (status, _, _) = get(&client, &fake, "/v1/company/employees?limit=1", &token).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn auth_refuses_a_wrong_secret_with_401() {
    let fake = spawn(5).await;
    let response = client()
        .post(format!("{}/v1/auth", fake.url()))
        .json(&json!({"client_id": "fake-client-id", "client_secret": "nope"}))
        .send()
        .await
        .expect("auth answers");
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let body: Value = response.json().await.expect("json");
    assert_eq!(body["success"], false);
    assert_eq!(body["error"]["code"], 401);
}

#[tokio::test]
async fn auth_refuses_credentials_in_the_query_string_with_403() {
    let fake = spawn(5).await;
    let response = client()
        .post(format!("{}/v1/auth", fake.url()))
        .query(&[
            ("client_id", "fake-client-id"),
            ("client_secret", "fake-client-secret"),
        ])
        .send()
        .await
        .expect("auth answers");
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let body: Value = response.json().await.expect("json");
    assert_eq!(body["error"]["code"], 403);
}

#[tokio::test]
async fn employees_need_a_known_bearer_token() {
    let fake = spawn(5).await;
    let client = client();
    let response = client
        .get(format!("{}/v1/company/employees", fake.url()))
        .send()
        .await
        .expect("answers");
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let body: Value = response.json().await.expect("json");
    assert_eq!(
        body,
        json!({"success": false, "error": {"code": 401, "message": "Authorization is not provided"}})
    );
    let (status, _, body) = get(&client, &fake, "/v1/company/employees", "papi-unknown").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["success"], false);
}

#[tokio::test]
async fn pages_use_item_offsets_and_report_page_metadata() {
    let fake = spawn(250).await;
    let client = client();
    let token = login(&fake, &client).await;
    let (status, echoed, page) = get(
        &client,
        &fake,
        "/v1/company/employees?limit=100&offset=200",
        &token,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(echoed, Some(format!("Bearer {token}")));
    assert_eq!(page["success"], true);
    assert_eq!(
        page["metadata"],
        json!({"total_elements": 250, "current_page": 2, "total_pages": 3})
    );
    assert_eq!(
        (page["offset"].as_u64(), page["limit"].as_u64()),
        (Some(200), Some(100))
    );
    let company = fake.company();
    assert_eq!(
        ids(&page),
        company.employees[200..]
            .iter()
            .map(|e| e.id)
            .collect::<Vec<_>>()
    );
    assert_eq!(page["data"][0]["type"], "Employee");
}

#[tokio::test]
async fn the_limit_defaults_to_50_is_cut_to_100_and_must_be_positive() {
    let fake = spawn(250).await;
    let client = client();
    let token = login(&fake, &client).await;
    let (_, _, page) = get(&client, &fake, "/v1/company/employees", &token).await;
    assert_eq!(ids(&page).len(), 50);
    assert_eq!(page["metadata"]["total_pages"], 5);
    let (_, _, page) = get(&client, &fake, "/v1/company/employees?limit=500", &token).await;
    assert_eq!(ids(&page).len(), 100);
    assert_eq!(page["limit"], 100);
    let (status, _, body) = get(&client, &fake, "/v1/company/employees?limit=0", &token).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["error"]["code"], 422);
}

#[tokio::test]
async fn paging_by_offset_sees_everyone_once_in_id_order() {
    let fake = spawn(333).await;
    let client = client();
    let token = login(&fake, &client).await;
    let mut seen = Vec::new();
    for offset in (0..333).step_by(100) {
        let path = format!("/v1/company/employees?limit=100&offset={offset}");
        seen.extend(ids(&get(&client, &fake, &path, &token).await.2));
    }
    let expected: Vec<u64> = fake.company().employees.iter().map(|e| e.id).collect();
    assert_eq!(seen, expected);
}

#[tokio::test]
async fn email_filter_and_attribute_projection_narrow_the_list() {
    let fake = spawn(50).await;
    let client = client();
    let token = login(&fake, &client).await;
    let person = fake.company().employees[7].clone();
    let path = format!(
        "/v1/company/employees?email={}&attributes[]=email&attributes[]=status",
        person.email.to_uppercase()
    );
    let (_, _, page) = get(&client, &fake, &path, &token).await;
    assert_eq!(ids(&page), [person.id]);
    assert_eq!(page["metadata"]["total_elements"], 1);
    let keys: BTreeSet<&str> = page["data"][0]["attributes"]
        .as_object()
        .expect("object")
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(keys, BTreeSet::from(["id", "email", "status"]));
    let (_, _, page) = get(
        &client,
        &fake,
        "/v1/company/employees?email=nobody@nowhere.example",
        &token,
    )
    .await;
    assert!(ids(&page).is_empty());
}

#[tokio::test]
async fn attributes_outside_the_whitelist_are_omitted_everywhere() {
    let fake = spawn(20).await;
    let client = client();
    let token = login(&fake, &client).await;
    let (_, _, page) = get(&client, &fake, "/v1/company/employees", &token).await;
    assert!(page["data"][0]["attributes"]
        .get("dynamic_180883")
        .is_some());
    let readable: BTreeSet<String> = ["first_name", "last_name", "email", "status"]
        .map(str::to_owned)
        .into();
    fake.set_whitelist(Some(readable));
    let (_, _, page) = get(&client, &fake, "/v1/company/employees", &token).await;
    let attributes = &page["data"][0]["attributes"];
    assert!(attributes.get("email").is_some());
    assert!(attributes.get("dynamic_180883").is_none());
    assert!(attributes.get("department").is_none());
    let id = fake.company().employees[0].id;
    let (_, _, single) = get(
        &client,
        &fake,
        &format!("/v1/company/employees/{id}"),
        &token,
    )
    .await;
    assert!(single["data"]["attributes"].get("department").is_none());
    let (_, _, catalogue) = get(&client, &fake, "/v1/company/employees/attributes", &token).await;
    let keys: Vec<&str> = catalogue["data"]
        .as_array()
        .expect("array")
        .iter()
        .filter_map(|attribute| attribute["key"].as_str())
        .collect();
    assert_eq!(keys, ["first_name", "last_name", "email", "status"]);
}

#[tokio::test]
async fn an_attribute_removed_from_the_full_whitelist_disappears_alone() {
    let fake = spawn(20).await;
    let client = client();
    let token = login(&fake, &client).await;
    let mut keys = fake.company().attribute_keys();
    assert!(keys.contains("dynamic_180883"));
    keys.remove("department");
    let expected = keys.len();
    fake.set_whitelist(Some(keys));
    let (_, _, page) = get(&client, &fake, "/v1/company/employees", &token).await;
    let attributes = page["data"][0]["attributes"].as_object().expect("object");
    assert!(!attributes.contains_key("department"));
    assert_eq!(attributes.len(), expected);
}

#[tokio::test]
async fn the_attribute_catalogue_lists_custom_attributes_with_options() {
    let fake = spawn(5).await;
    let client = client();
    let token = login(&fake, &client).await;
    let (status, _, body) = get(
        &client,
        &fake,
        "/v1/company/employees/custom-attributes",
        &token,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let shirt = body["data"]
        .as_array()
        .expect("array")
        .iter()
        .find(|attribute| attribute["label"] == "Shirt size")
        .expect("shirt size listed");
    assert_eq!(shirt["type"], "list");
    assert_eq!(shirt["universal_id"], Value::Null);
    assert!(shirt["options"]
        .as_array()
        .is_some_and(|options| options.len() == 6));
}

#[tokio::test]
async fn a_single_employee_is_found_and_an_unknown_one_is_404() {
    let fake = spawn(10).await;
    let client = client();
    let token = login(&fake, &client).await;
    let person = fake.company().employees[3].clone();
    let (status, echoed, body) = get(
        &client,
        &fake,
        &format!("/v1/company/employees/{}", person.id),
        &token,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(echoed.is_some());
    assert_eq!(
        body["data"]["attributes"]["email"]["value"],
        person.email.as_str()
    );
    let (status, _, body) = get(&client, &fake, "/v1/company/employees/1", &token).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(
        body,
        json!({"success": false, "error": {"code": 404, "message": "Es ist ein Problem aufgetreten "}})
    );
}

#[tokio::test]
async fn a_profile_picture_is_a_png() {
    let fake = spawn(30).await;
    let client = client();
    let token = login(&fake, &client).await;
    let person = fake
        .company()
        .employees
        .into_iter()
        .find(|employee| employee.profile_picture)
        .expect("someone has a picture");
    let response = client
        .get(format!(
            "{}/v1/company/employees/{}/profile-picture/64",
            fake.url(),
            person.id
        ))
        .bearer_auth(&token)
        .send()
        .await
        .expect("answers");
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()[CONTENT_TYPE], "image/png");
}

#[tokio::test]
async fn changes_between_runs_are_served() {
    let fake = spawn(30).await;
    let client = client();
    let token = login(&fake, &client).await;
    let mover = fake.company().employees[10].id;
    let mut hired = 0;
    fake.update(|company| {
        company.employee_mut(mover).expect("exists").department = Some("Finance".to_owned());
        hired = company.new_hire("Ida", "Neu", today());
    });
    let (_, _, single) = get(
        &client,
        &fake,
        &format!("/v1/company/employees/{mover}"),
        &token,
    )
    .await;
    assert_eq!(
        single["data"]["attributes"]["department"]["value"]["attributes"]["name"],
        "Finance"
    );
    let (_, _, page) = get(&client, &fake, "/v1/company/employees?limit=100", &token).await;
    assert!(ids(&page).contains(&hired));
    assert_eq!(page["metadata"]["total_elements"], 31);
}

#[tokio::test]
async fn updated_since_selects_only_people_changed_after_it() {
    let fake = spawn(60).await;
    let client = client();
    let token = login(&fake, &client).await;
    let changed = fake.company().employees[42].id;
    fake.update(|company| {
        company.employee_mut(changed).expect("exists").position = "Principal Engineer".to_owned();
    });
    // Generated changes all lie on or before `today`; the edit above is stamped with the clock.
    let (status, _, page) = get(
        &client,
        &fake,
        "/v1/company/employees?updated_since=2025-03-15",
        &token,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(ids(&page), [changed]);
}

#[tokio::test]
async fn requests_beyond_the_burst_get_429_with_retry_after() {
    let limit = RateLimit {
        per_minute: 60,
        burst: 3,
    };
    let fake = spawn_with(
        5,
        FakeConfig {
            rate_limit: Some(limit),
            ..FakeConfig::default()
        },
    )
    .await;
    let client = client();
    let token = login(&fake, &client).await;
    for _ in 0..3 {
        assert_eq!(
            get(&client, &fake, "/v1/company/employees", &token).await.0,
            StatusCode::OK
        );
    }
    let response = client
        .get(format!("{}/v1/company/employees", fake.url()))
        .bearer_auth(&token)
        .send()
        .await
        .expect("answers");
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(response.headers()[RETRY_AFTER], "1");
    let body: Value = response.json().await.expect("json");
    assert_eq!(
        body,
        json!({"success": false, "error": {"code": 429, "message": "Too Many Requests"}})
    );
    assert_eq!(fake.stats().too_many_requests, 1);
}

#[tokio::test]
async fn personios_default_limit_allows_a_burst_of_15() {
    let fake = spawn_with(5, FakeConfig::default()).await;
    let client = client();
    let token = login(&fake, &client).await;
    let mut statuses = Vec::new();
    for _ in 0..40 {
        statuses.push(get(&client, &fake, "/v1/company/employees", &token).await.0);
    }
    assert!(statuses[..15]
        .iter()
        .all(|status| *status == StatusCode::OK));
    assert!(statuses.contains(&StatusCode::TOO_MANY_REQUESTS));
}

#[path = "http/faults.rs"]
mod faults;

#[path = "http/v2.rs"]
mod v2;

#[path = "http/v2_persons.rs"]
mod v2_persons;

#[path = "http/v2_employments.rs"]
mod v2_employments;

#[path = "http/v2_reference.rs"]
mod v2_reference;

#[path = "http/v2_limits.rs"]
mod v2_limits;
