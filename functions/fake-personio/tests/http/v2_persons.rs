//! `GET /v2/persons[/{id}]`: cursor paging under change, filters, errors and the token.

use super::v2::*;
use super::*;
use chrono::{SecondsFormat, Utc};

/// Follows `next` links from `first` to the end: every page's ids, in order.
async fn all_pages(
    client: &Client,
    fake: &FakePersonio,
    first: &str,
    token: &str,
) -> Vec<Vec<u64>> {
    let mut pages = Vec::new();
    let mut url = Some(first.to_owned());
    while let Some(current) = url {
        let (status, _, page) = v2_get(client, fake, &current, token).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        pages.push(v2_ids(&page));
        url = next_link(&page);
        assert!(pages.len() < 100, "paging never ends");
    }
    pages
}

#[tokio::test]
async fn cursor_paging_serves_everyone_once_in_id_order() {
    let fake = spawn(123).await;
    let client = client();
    let token = v2_login(&fake, &client).await;
    let (status, _, first) = v2_get(&client, &fake, "/v2/persons?limit=50", &token).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        first["_meta"]["links"]["self"]["href"],
        format!("{}/v2/persons?limit=50", fake.url())
    );
    let next = next_link(&first).expect("a second page");
    assert!(next.starts_with(&format!("{}/v2/persons?cursor=cur_", fake.url())));
    let pages = all_pages(&client, &fake, "/v2/persons?limit=50", &token).await;
    let sizes: Vec<usize> = pages.iter().map(Vec::len).collect();
    assert_eq!(sizes, [50, 50, 23]);
    let served: Vec<u64> = pages.concat();
    let expected: Vec<u64> = fake.company().employees.iter().map(|e| e.id).collect();
    assert_eq!(served, expected);
    // Without a limit, pages hold 10.
    let (_, _, page) = v2_get(&client, &fake, "/v2/persons", &token).await;
    assert_eq!(v2_ids(&page).len(), 10);
}

#[tokio::test]
async fn people_added_and_removed_between_pages_skip_and_repeat_nobody() {
    let fake = spawn(123).await;
    let client = client();
    let token = v2_login(&fake, &client).await;
    let before: Vec<u64> = fake.company().employees.iter().map(|e| e.id).collect();
    let (_, _, first) = v2_get(&client, &fake, "/v2/persons?limit=50", &token).await;
    let mut served = v2_ids(&first);
    // A hire whose id sorts first, and someone from the unserved part leaving.
    let removed = before[80];
    fake.update(|company| {
        let hired = company.new_hire("Paula", "Zwischenberg", today());
        let mut newcomer = company.remove(hired).expect("hired");
        newcomer.id = before[0] - 1;
        company.add_employee(newcomer);
        company.remove(removed).expect("exists");
    });
    let next = next_link(&first).expect("a second page");
    for page in all_pages(&client, &fake, &next, &token).await {
        served.extend(page);
    }
    let unique: HashSet<u64> = served.iter().copied().collect();
    assert_eq!(unique.len(), served.len(), "someone was served twice");
    let throughout = before.iter().filter(|id| **id != removed);
    assert!(throughout.clone().all(|id| unique.contains(id)));
    assert_eq!(served.len(), before.len() - 1);
}

#[tokio::test]
async fn updated_at_gt_selects_exactly_the_people_changed_after_the_moment() {
    let fake = spawn(60).await;
    let client = client();
    let token = v2_login(&fake, &client).await;
    let moment = Utc::now().to_rfc3339_opts(SecondsFormat::Nanos, true);
    let ids: Vec<u64> = fake.company().employees.iter().map(|e| e.id).collect();
    let changed = [ids[7], ids[42]];
    fake.update(|company| {
        for id in changed {
            company.employee_mut(id).expect("exists").position = "Principal".to_owned();
        }
    });
    let query = format!(
        "/v2/persons?limit=50&updated_at.gt={}",
        moment.replace('+', "%2B")
    );
    let (status, _, page) = v2_get(&client, &fake, &query, &token).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert_eq!(v2_ids(&page), changed);
    // A Berlin offset names the same instant.
    let (_, _, page) = v2_get(
        &client,
        &fake,
        "/v2/persons?updated_at.gt=2100-01-01T01:00:00%2B01:00",
        &token,
    )
    .await;
    assert_eq!(v2_ids(&page), Vec::<u64>::new());
    let (status, _, body) = v2_get(
        &client,
        &fake,
        "/v2/persons?updated_at.gt=yesterday",
        &token,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_v2_error(&body, "common.bad_request");
}

#[tokio::test]
async fn filters_by_id_email_and_status_and_the_cursor_keeps_them() {
    let fake = spawn(80).await;
    let client = client();
    let token = v2_login(&fake, &client).await;
    let company = fake.company();
    let [a, b] = [&company.employees[3], &company.employees[9]];
    let path = format!("/v2/persons?id={},{},999999", a.id, b.id);
    let (_, _, page) = v2_get(&client, &fake, &path, &token).await;
    assert_eq!(v2_ids(&page), [a.id, b.id]);
    let path = format!("/v2/persons?email={},{}", a.email.to_uppercase(), b.email);
    let (_, _, page) = v2_get(&client, &fake, &path, &token).await;
    assert_eq!(v2_ids(&page), [a.id, b.id]);
    let with_status = |members: &[&str]| -> Vec<u64> {
        company
            .employees
            .iter()
            .filter(|e| members.contains(&e.status.as_str()))
            .map(|e| e.id)
            .collect()
    };
    let inactive = with_status(&["inactive"]);
    for (status, expected) in [
        ("ACTIVE", with_status(&["onboarding", "active", "leave"])),
        ("INACTIVE", inactive.clone()),
    ] {
        assert!(!expected.is_empty(), "{status}");
        let first = format!("/v2/persons?status={status}&limit=7");
        let pages = all_pages(&client, &fake, &first, &token).await;
        assert_eq!(pages.concat(), expected, "{status}");
    }
    assert!(
        inactive.len() > 2,
        "the test needs a second page of leavers"
    );
    let (_, _, first) = v2_get(
        &client,
        &fake,
        "/v2/persons?status=INACTIVE&limit=2",
        &token,
    )
    .await;
    let next = next_link(&first).expect("more inactive people");
    let (status, _, page) = v2_get(
        &client,
        &fake,
        &format!("{next}&status=ACTIVE&limit=50"),
        &token,
    )
    .await;
    // Filters and limit re-sent with a cursor are accepted and ignored: the cursor carries them.
    assert_eq!(status, StatusCode::OK);
    let expected: Vec<u64> = inactive.iter().skip(2).take(2).copied().collect();
    assert_eq!(v2_ids(&page), expected);
    let (status, _, body) = v2_get(&client, &fake, "/v2/persons?status=active", &token).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_v2_error(&body, "common.bad_request");
}

#[tokio::test]
async fn bad_limits_cursors_and_ids_get_v2_errors() {
    let fake = spawn(5).await;
    let client = client();
    let token = v2_login(&fake, &client).await;
    for path in [
        "/v2/persons?limit=0",
        "/v2/persons?limit=51",
        "/v2/persons?limit=ten",
        "/v2/persons?cursor=cur_234ls0f02lalfdd",
        "/v2/persons?first_name=Ana",
    ] {
        let (status, headers, body) = v2_get(&client, &fake, path, &token).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{path}");
        assert_eq!(headers[CONTENT_TYPE], "application/problem+json");
        assert_v2_error(&body, "common.bad_request");
    }
    let (status, _, page) = v2_get(&client, &fake, "/v2/persons?limit=50", &token).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(next_link(&page), None);
    for path in ["/v2/persons/999999", "/v2/persons/abc"] {
        let (status, _, body) = v2_get(&client, &fake, path, &token).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        assert_v2_error(&body, "common.resource_not_found");
    }
    let id = fake.company().employees[2].id;
    let (status, _, person) = v2_get(&client, &fake, &format!("/v2/persons/{id}"), &token).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(person["id"], id.to_string());
    assert!(person.get("_data").is_none());
    assert_eq!(fake.stats().v2_person_requests, 9);
}

#[tokio::test]
async fn v1_tokens_and_credentials_without_the_read_right_get_401() {
    let fake = spawn(5).await;
    let client = client();
    let v1_token = login(&fake, &client).await;
    let (status, _, body) = v2_get(&client, &fake, "/v2/persons", &v1_token).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_v2_error(&body, "common.unauthorized");
    let token = v2_login(&fake, &client).await;
    fake.set_employee_access(false);
    let (status, _, body) = v2_get(&client, &fake, "/v2/persons", &token).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["errors"][0]["title"], "Unauthorized Request");
    fake.set_employee_access(true);
    assert_eq!(
        v2_get(&client, &fake, "/v2/persons", &token).await.0,
        StatusCode::OK
    );
    assert_eq!(fake.stats().unauthorized, 2);
}

#[tokio::test]
async fn a_storm_refuses_v2_persons_too() {
    let fake = spawn(5).await;
    let client = client();
    let token = v2_login(&fake, &client).await;
    fake.set_fault(Fault::RateLimitStorm { requests: 1 });
    let (status, headers, body) = v2_get(&client, &fake, "/v2/persons", &token).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(headers[RETRY_AFTER], "1");
    assert_v2_error(&body, "common.too_many_requests");
    assert_eq!(
        v2_get(&client, &fake, "/v2/persons", &token).await.0,
        StatusCode::OK
    );
    assert_eq!(fake.stats().too_many_requests, 1);
}

#[tokio::test]
async fn a_slow_fault_delays_v2_persons_and_employments_but_not_a_refusal() {
    let fake = spawn(5).await;
    let client = client();
    let token = v2_login(&fake, &client).await;
    let id = fake.company().employees[0].id;
    fake.set_fault(Fault::Slow { millis: 2_000 });
    for path in [
        "/v2/persons".to_owned(),
        format!("/v2/persons/{id}/employments"),
    ] {
        let error = client
            .get(format!("{}{path}", fake.url()))
            .bearer_auth(&token)
            .timeout(Duration::from_millis(100))
            .send()
            .await
            .expect_err("times out");
        assert!(error.is_timeout(), "{path}");
    }
    let started = Instant::now();
    let refused = client
        .get(format!("{}/v2/persons", fake.url()))
        .bearer_auth("papi-unknown")
        .send()
        .await
        .expect("answers at once");
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    assert!(started.elapsed() < Duration::from_millis(2_000));
}
