//! v2 rate limits: a token bucket per endpoint family, reported on every answer.

use super::v2::*;
use super::*;
use reqwest::header::HeaderMap;

/// A limit slow enough to refill (one token per 10 s) that no test run sees a refill.
const SLOW: RateLimit = RateLimit {
    per_minute: 6,
    burst: 3,
};

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|value| value.to_str().ok())
}

fn assert_quota(headers: &HeaderMap, remaining: &str) {
    assert_eq!(header(headers, "x-ratelimit-replenish-rate"), Some("0.1"));
    assert_eq!(header(headers, "x-ratelimit-burst-capacity"), Some("3"));
    assert_eq!(header(headers, "x-ratelimit-requested-tokens"), Some("1"));
    assert_eq!(header(headers, "x-ratelimit-remaining"), Some(remaining));
}

#[tokio::test]
async fn each_family_has_a_bucket_and_every_answer_reports_it() {
    let fake = spawn_with(
        5,
        FakeConfig {
            rate_limit: Some(SLOW),
            ..FakeConfig::default()
        },
    )
    .await;
    let client = client();
    let token = v2_login(&fake, &client).await;
    let id = fake.company().employees[0].id;
    for (path, remaining) in [
        ("/v2/persons".to_owned(), "2"),
        ("/v2/persons?limit=0".to_owned(), "1"),
        ("/v2/persons/999999".to_owned(), "0"),
    ] {
        let (status, headers, _) = v2_get(&client, &fake, &path, &token).await;
        assert!(status != StatusCode::TOO_MANY_REQUESTS, "{path}");
        assert_quota(&headers, remaining);
    }
    let (status, headers, body) = v2_get(&client, &fake, "/v2/persons", &token).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(headers[RETRY_AFTER], "1");
    assert_quota(&headers, "0");
    assert_v2_error(&body, "common.too_many_requests");
    // A refused token takes nothing but is told the state.
    let (status, headers, _) = v2_get(&client, &fake, "/v2/persons", "papi-unknown").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_quota(&headers, "0");
    // The other families and v1 have their own buckets.
    let path = format!("/v2/persons/{id}/employments");
    let (status, headers, _) = v2_get(&client, &fake, &path, &token).await;
    assert_eq!(status, StatusCode::OK);
    assert_quota(&headers, "2");
    let (status, headers, _) = v2_get(&client, &fake, "/v2/workplaces", &token).await;
    assert_eq!(status, StatusCode::OK);
    assert_quota(&headers, "2");
    let v1_token = login(&fake, &client).await;
    let (status, _, _) = get(&client, &fake, "/v1/company/employees", &v1_token).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(fake.stats().too_many_requests, 1);
}

#[tokio::test]
async fn the_v2_limit_is_set_apart_from_v1s() {
    let fake = spawn(5).await;
    let client = client();
    let token = v2_login(&fake, &client).await;
    // Unlimited: no headers.
    let (_, headers, _) = v2_get(&client, &fake, "/v2/persons", &token).await;
    assert!(headers.get("x-ratelimit-remaining").is_none());
    fake.set_v2_rate_limit(Some(SLOW));
    for remaining in ["2", "1", "0"] {
        let (status, headers, _) = v2_get(&client, &fake, "/v2/persons", &token).await;
        assert_eq!(status, StatusCode::OK);
        assert_quota(&headers, remaining);
    }
    assert_eq!(
        v2_get(&client, &fake, "/v2/persons", &token).await.0,
        StatusCode::TOO_MANY_REQUESTS
    );
    // v1 is still unlimited, and a storm refuses v2 with the headers at 0.
    let v1_token = login(&fake, &client).await;
    for _ in 0..5 {
        let (status, _, _) = get(&client, &fake, "/v1/company/employees", &v1_token).await;
        assert_eq!(status, StatusCode::OK);
    }
    fake.set_v2_rate_limit(Some(SLOW));
    fake.set_fault(Fault::RateLimitStorm { requests: 1 });
    let (status, headers, _) = v2_get(&client, &fake, "/v2/persons", &token).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert_quota(&headers, "0");
    assert_eq!(
        v2_get(&client, &fake, "/v2/persons", &token).await.0,
        StatusCode::OK
    );
}

#[tokio::test]
async fn the_default_limit_is_personios_read_as_a_bucket() {
    let fake = spawn_with(5, FakeConfig::default()).await;
    let client = client();
    let token = v2_login(&fake, &client).await;
    let (_, headers, _) = v2_get(&client, &fake, "/v2/persons", &token).await;
    assert_eq!(header(&headers, "x-ratelimit-replenish-rate"), Some("5"));
    assert_eq!(header(&headers, "x-ratelimit-burst-capacity"), Some("15"));
    assert_eq!(header(&headers, "x-ratelimit-remaining"), Some("14"));
}
