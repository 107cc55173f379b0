//! Every switchable fault, seen from a client.

use super::*;

#[tokio::test]
async fn a_rate_limit_storm_refuses_the_next_requests_then_lets_them_through() {
    let fake = spawn(5).await;
    let client = client();
    let token = login(&fake, &client).await;
    fake.set_fault(Fault::RateLimitStorm { requests: 2 });
    let mut retry_after = Vec::new();
    for _ in 0..2 {
        let response = client
            .get(format!("{}/v1/company/employees", fake.url()))
            .bearer_auth(&token)
            .send()
            .await
            .expect("answers");
        assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
        retry_after.push(response.headers().get(RETRY_AFTER).is_some());
    }
    assert_eq!(retry_after, [true, false]);
    assert_eq!(
        get(&client, &fake, "/v1/company/employees", &token).await.0,
        StatusCode::OK
    );
    assert!(fake.faults().is_empty());
    assert_eq!(fake.stats().too_many_requests, 2);
}

#[tokio::test]
async fn a_server_error_hits_one_page_a_few_times() {
    let fake = spawn(250).await;
    let client = client();
    let token = login(&fake, &client).await;
    fake.set_fault(Fault::ServerError {
        offset: 100,
        status: 502,
        times: 2,
    });
    let page = "/v1/company/employees?limit=100&offset=100";
    let other = "/v1/company/employees?limit=100&offset=0";
    assert_eq!(get(&client, &fake, other, &token).await.0, StatusCode::OK);
    assert_eq!(
        get(&client, &fake, page, &token).await.0,
        StatusCode::BAD_GATEWAY
    );
    assert_eq!(
        get(&client, &fake, page, &token).await.0,
        StatusCode::BAD_GATEWAY
    );
    assert_eq!(get(&client, &fake, page, &token).await.0, StatusCode::OK);
    assert_eq!(fake.stats().server_errors, 2);
}

#[tokio::test]
async fn a_500_carries_the_v1_error_envelope() {
    let fake = spawn(5).await;
    let client = client();
    let token = login(&fake, &client).await;
    fake.set_fault(Fault::ServerError {
        offset: 0,
        status: 500,
        times: 1,
    });
    let (status, _, body) = get(&client, &fake, "/v1/company/employees", &token).await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(body["error"]["code"], 500);
}

#[tokio::test]
async fn an_expired_token_is_blacklisted_and_a_new_login_works() {
    let fake = spawn(5).await;
    let client = client();
    let old = login(&fake, &client).await;
    fake.set_fault(Fault::ExpireToken);
    let (status, _, body) = get(&client, &fake, "/v1/company/employees", &old).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        body,
        json!({"success": false, "error": {"code": 401, "message": "The token has been blacklisted"}})
    );
    let new = login(&fake, &client).await;
    assert_ne!(new, old);
    assert_eq!(
        get(&client, &fake, "/v1/company/employees", &new).await.0,
        StatusCode::OK
    );
}

#[tokio::test]
async fn a_malformed_page_is_200_with_broken_json_once() {
    let fake = spawn(150).await;
    let client = client();
    let token = login(&fake, &client).await;
    fake.set_fault(Fault::MalformedJson {
        offset: 100,
        times: 1,
    });
    let url = format!("{}/v1/company/employees?limit=100&offset=100", fake.url());
    let response = client
        .get(&url)
        .bearer_auth(&token)
        .send()
        .await
        .expect("answers");
    assert_eq!(response.status(), StatusCode::OK);
    let text = response.text().await.expect("body");
    assert!(serde_json::from_str::<Value>(&text).is_err());
    let (status, _, page) = get(
        &client,
        &fake,
        "/v1/company/employees?limit=100&offset=100",
        &token,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(ids(&page).len(), 50);
}

#[tokio::test]
async fn a_person_inserted_during_paging_makes_a_naive_pager_repeat_someone() {
    let fake = spawn(250).await;
    let client = client();
    let token = login(&fake, &client).await;
    let before = fake.company();
    fake.set_fault(Fault::MovePersonDuringPaging { after_pages: 1 });
    let first = get(
        &client,
        &fake,
        "/v1/company/employees?limit=100&offset=0",
        &token,
    )
    .await
    .2;
    let second = get(
        &client,
        &fake,
        "/v1/company/employees?limit=100&offset=100",
        &token,
    )
    .await
    .2;
    assert_eq!(first["metadata"]["total_elements"], 250);
    assert_eq!(second["metadata"]["total_elements"], 251);
    assert_eq!(ids(&second)[0], *ids(&first).last().expect("full page"));
    let after = fake.company();
    assert_eq!(after.employees[0].id, before.employees[0].id - 1);
    assert!(fake.faults().is_empty());
}

#[tokio::test]
async fn a_person_removed_during_paging_makes_a_naive_pager_miss_someone() {
    let fake = spawn(250).await;
    let client = client();
    let token = login(&fake, &client).await;
    let before = fake.company();
    fake.set_fault(Fault::RemovePersonDuringPaging { after_pages: 1 });
    let mut seen = HashSet::new();
    for offset in [0, 100, 200] {
        let path = format!("/v1/company/employees?limit=100&offset={offset}");
        seen.extend(ids(&get(&client, &fake, &path, &token).await.2));
    }
    let still_employed: HashSet<u64> = fake.company().employees.iter().map(|e| e.id).collect();
    assert_eq!(still_employed.len(), before.employees.len() - 1);
    let missed: Vec<_> = still_employed.difference(&seen).collect();
    assert_eq!(
        missed.len(),
        1,
        "exactly one current employee was never seen"
    );
}

#[tokio::test]
async fn an_empty_list_answers_success_with_nobody() {
    let fake = spawn(40).await;
    let client = client();
    let token = login(&fake, &client).await;
    fake.set_fault(Fault::EmptyList);
    let (status, _, page) = get(&client, &fake, "/v1/company/employees", &token).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(page["success"], true);
    assert_eq!(page["metadata"]["total_elements"], 0);
    assert!(ids(&page).is_empty());
    fake.clear_faults();
    let (_, _, page) = get(&client, &fake, "/v1/company/employees", &token).await;
    assert_eq!(page["metadata"]["total_elements"], 40);
}

#[tokio::test]
async fn a_slow_answer_trips_a_client_timeout() {
    let fake = spawn(5).await;
    let client = client();
    let token = login(&fake, &client).await;
    fake.set_fault(Fault::Slow { millis: 2_000 });
    let started = Instant::now();
    let error = client
        .get(format!("{}/v1/company/employees", fake.url()))
        .bearer_auth(&token)
        .timeout(Duration::from_millis(100))
        .send()
        .await
        .expect_err("times out");
    assert!(error.is_timeout());
    assert!(started.elapsed() < Duration::from_millis(2_000));
}

#[tokio::test]
async fn stats_count_every_kind_of_request() {
    let fake = spawn(5).await;
    let client = client();
    let token = login(&fake, &client).await;
    let id = fake.company().employees[0].id;
    get(&client, &fake, "/v1/company/employees", &token).await;
    get(
        &client,
        &fake,
        &format!("/v1/company/employees/{id}"),
        &token,
    )
    .await;
    get(&client, &fake, "/v1/company/employees/attributes", &token).await;
    get(&client, &fake, "/v1/company/employees", "papi-wrong").await;
    let stats = fake.stats();
    assert_eq!(stats.auth_requests, 1);
    assert_eq!(stats.list_requests, 2);
    assert_eq!(stats.single_requests, 1);
    assert_eq!(stats.attribute_requests, 1);
    assert_eq!(stats.unauthorized, 1);
}

#[tokio::test]
async fn after_shutdown_new_connections_are_refused() {
    let fake = spawn(5).await;
    fake.shutdown();
    let client = client();
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let answer = client
            .get(format!("{}/v1/company/employees", fake.url()))
            .send()
            .await;
        if answer.is_err_and(|error| error.is_connect()) {
            break;
        }
        assert!(Instant::now() < deadline, "still accepting after 5 s");
        tokio::task::yield_now().await;
    }
}
