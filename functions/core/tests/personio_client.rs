//! The Personio client against the fake Personio, over real HTTP on 127.0.0.1.
//!
//! Each test starts its own fake on a free port, so tests run in parallel. Rate limits and retry
//! delays are scaled down so the suite stays quick; the production defaults are unit-tested in
//! `personio::session` and `personio::retry`.

use chrono::NaiveDate;
use fake_personio::{
    generate_company, CompanySpec, FakeConfig, FakePersonio, Fault, LimitModel,
    RateLimit as FakeLimit,
};
use secrecy::SecretString;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use sync_core::employee::{AttrValue, EmploymentStatus};
use sync_core::ids::{AccountId, PersonioId};
use sync_core::personio::{FetchProgress, PersonioClient, PersonioSettings, RateLimit};
use sync_core::ports::{Source, SourceBatch, SourceError};

/// Fast enough for tests, and still a limit that 16 concurrent pages run into.
const FAST: FakeLimit = FakeLimit {
    per_minute: 6000,
    burst: 50,
};

async fn fake(employees: usize, limit: Option<FakeLimit>) -> FakePersonio {
    let today = NaiveDate::from_ymd_opt(2025, 3, 14).unwrap();
    let company = generate_company(&CompanySpec {
        employees,
        seed: 7,
        today,
    });
    let config = FakeConfig {
        rate_limit: limit,
        ..FakeConfig::default()
    };
    FakePersonio::start(company, config)
        .await
        .expect("fake Personio starts")
}

fn settings(fake: &FakePersonio, limit: FakeLimit) -> PersonioSettings {
    let mut settings = PersonioSettings::new(
        AccountId::parse("acme").unwrap(),
        fake.url(),
        "fake-client-id",
        SecretString::from("fake-client-secret"),
    );
    settings.rate_limit = RateLimit {
        per_minute: limit.per_minute,
        burst: limit.burst,
    };
    settings.retry_base = Duration::from_millis(20);
    settings.retry_cap = Duration::from_millis(1500);
    settings.request_timeout = Duration::from_secs(5);
    settings
}

fn client(settings: PersonioSettings) -> PersonioClient {
    PersonioClient::new(settings).expect("client builds")
}

/// Calls `act` once, when the first page of the list has been read: faults that start mid-fetch.
fn after_first_page(
    act: impl Fn() + Send + Sync + 'static,
) -> Arc<dyn Fn(FetchProgress) + Send + Sync> {
    Arc::new(move |progress: FetchProgress| {
        if progress.pages_done == 1 {
            act();
        }
    })
}

fn ids(batch: &SourceBatch) -> Vec<u64> {
    batch
        .employees
        .iter()
        .map(|employee| employee.key.id.get())
        .collect()
}

fn company_ids(fake: &FakePersonio) -> Vec<u64> {
    let mut ids: Vec<u64> = fake
        .company()
        .employees
        .iter()
        .map(|employee| employee.id)
        .collect();
    ids.sort_unstable();
    ids
}

#[tokio::test]
async fn a_full_fetch_reads_every_employee_once_with_their_status() {
    let fake = fake(500, Some(FAST)).await;
    let batch = client(settings(&fake, FAST)).employees().await.unwrap();

    assert_eq!(ids(&batch), company_ids(&fake));
    assert!(batch.errors.is_empty() && batch.unreadable.is_empty());
    let mut expected: BTreeMap<String, usize> = BTreeMap::new();
    for employee in fake.company().employees {
        *expected.entry(employee.status).or_default() += 1;
    }
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    for employee in &batch.employees {
        let status = employee
            .status
            .map(EmploymentStatus::as_str)
            .unwrap_or("none");
        *seen.entry(status.to_owned()).or_default() += 1;
    }
    assert_eq!(seen, expected);
    assert!(batch
        .employees
        .iter()
        .all(|employee| employee.hire_date.is_some()));
    assert!(batch
        .employees
        .iter()
        .any(|employee| employee.supervisor.is_some()));
    assert!(!batch.universal_ids.is_empty());
    let stats = fake.stats();
    assert_eq!((stats.auth_requests, stats.list_requests), (1, 5));
}

#[tokio::test]
async fn concurrent_pages_stay_within_the_rate_limit() {
    let limit = FakeLimit {
        per_minute: 1200,
        burst: 5,
    };
    let fake = fake(500, Some(limit)).await;
    let mut settings = settings(&fake, limit);
    settings.page_size = 20;
    let pages = Arc::new(AtomicU64::new(0));
    let counter = Arc::clone(&pages);
    let client = client(settings).with_progress(Arc::new(move |progress: FetchProgress| {
        counter.store(progress.pages_done, Ordering::SeqCst);
        assert_eq!(progress.pages_total, 25);
    }));

    let batch = client.employees().await.unwrap();

    assert_eq!(batch.employees.len(), 500);
    assert_eq!(
        fake.stats().too_many_requests,
        0,
        "the client provoked a 429"
    );
    assert_eq!(fake.stats().list_requests, 25);
    assert_eq!(pages.load(Ordering::SeqCst), 25);
}

/// Personio's documented limit, read either way it can be (decision 0018): whichever the server
/// means, the client finds out with at most one 429 and reads everyone once.
#[tokio::test]
async fn at_the_documented_limit_either_reading_costs_at_most_one_429() {
    for model in [LimitModel::TokenBucket, LimitModel::Windows] {
        let fake = fake(3_000, Some(FakeLimit::PERSONIO)).await;
        fake.set_limit_model(model);
        let mut settings = settings(&fake, FakeLimit::PERSONIO);
        settings.page_size = 100;

        let batch = client(settings).employees().await.unwrap();

        assert_eq!(ids(&batch), company_ids(&fake), "{model:?}");
        let stats = fake.stats();
        let most = match model {
            // 15 at once, then 15 a second would be 10 too many: the first one over says so
            // (none when a busy machine sent them slower than the bucket refills).
            LimitModel::TokenBucket => 1,
            LimitModel::Windows => 0,
        };
        assert!(stats.too_many_requests <= most, "{model:?}: {stats:?}");
        assert_eq!(
            stats.list_requests,
            30 + stats.too_many_requests,
            "{model:?}"
        );
    }
}

#[tokio::test]
async fn a_storm_of_429s_mid_fetch_is_ridden_out() {
    let fake = fake(500, Some(FAST)).await;
    let mut settings = settings(&fake, FAST);
    settings.page_size = 10;
    let storm = fake.clone();
    let client = client(settings).with_progress(after_first_page(move || {
        storm.set_fault(Fault::RateLimitStorm { requests: 20 });
    }));

    let batch = client.employees().await.unwrap();

    assert_eq!(ids(&batch), company_ids(&fake));
    assert_eq!(fake.stats().too_many_requests, 20);
}

#[tokio::test]
async fn a_failing_page_is_retried_until_it_answers() {
    let fake = fake(500, Some(FAST)).await;
    fake.set_fault(Fault::ServerError {
        offset: 200,
        status: 503,
        times: 3,
    });
    fake.set_fault(Fault::ServerError {
        offset: 300,
        status: 500,
        times: 1,
    });

    let batch = client(settings(&fake, FAST)).employees().await.unwrap();

    assert_eq!(ids(&batch), company_ids(&fake));
    assert_eq!(fake.stats().list_requests, 5 + 4);
}

#[tokio::test]
async fn a_page_that_keeps_failing_makes_personio_unavailable() {
    let fake = fake(200, Some(FAST)).await;
    fake.set_fault(Fault::ServerError {
        offset: 100,
        status: 502,
        times: 10,
    });
    let mut settings = settings(&fake, FAST);
    settings.max_attempts = 3;

    let error = client(settings).employees().await.unwrap_err();

    assert!(
        matches!(error, SourceError::Unavailable { attempts: 3, ref detail } if detail.contains("502")),
        "{error}"
    );
}

#[tokio::test]
async fn a_token_that_expires_mid_fetch_is_renewed_once() {
    let fake = fake(500, Some(FAST)).await;
    let mut settings = settings(&fake, FAST);
    settings.page_size = 20;
    let expire = fake.clone();
    let client = client(settings).with_progress(after_first_page(move || {
        expire.set_fault(Fault::ExpireToken)
    }));

    let batch = client.employees().await.unwrap();

    assert_eq!(ids(&batch), company_ids(&fake));
    assert_eq!(fake.stats().auth_requests, 2, "many 401s, one renewal");
    assert!(fake.stats().unauthorized >= 1);
}

#[tokio::test]
async fn the_token_is_reused_across_calls() {
    let fake = fake(50, Some(FAST)).await;
    let client = client(settings(&fake, FAST));
    client.verify_credentials().await.unwrap();
    client.employees().await.unwrap();
    client.attributes().await.unwrap();
    client
        .employee(PersonioId::new(company_ids(&fake)[0]))
        .await
        .unwrap();
    assert_eq!(fake.stats().auth_requests, 1);
}

#[tokio::test]
async fn a_wrong_secret_is_reported_as_rejected_credentials() {
    let fake = fake(10, Some(FAST)).await;
    let mut settings = settings(&fake, FAST);
    settings.client_secret = SecretString::from("not-the-secret");
    let client = client(settings);

    let error = client.verify_credentials().await.unwrap_err();
    assert!(matches!(error, SourceError::Unauthorized { .. }), "{error}");
    let message = error.to_string();
    assert!(
        message.contains("rejected the credentials") && message.contains("acme"),
        "{message}"
    );
    assert!(!message.contains("not-the-secret"));

    let error = client.employees().await.unwrap_err();
    assert!(matches!(error, SourceError::Unauthorized { .. }), "{error}");
    assert_eq!(fake.stats().list_requests, 0);
}

#[tokio::test]
async fn a_malformed_page_is_read_again() {
    let fake = fake(500, Some(FAST)).await;
    fake.set_fault(Fault::MalformedJson {
        offset: 100,
        times: 2,
    });

    let batch = client(settings(&fake, FAST)).employees().await.unwrap();

    assert_eq!(ids(&batch), company_ids(&fake));
    assert_eq!(fake.stats().list_requests, 5 + 2);
}

#[tokio::test]
async fn a_page_that_stays_malformed_is_reported_as_unreadable() {
    let fake = fake(200, Some(FAST)).await;
    fake.set_fault(Fault::MalformedJson {
        offset: 0,
        times: 10,
    });
    let mut settings = settings(&fake, FAST);
    settings.max_attempts = 2;

    let error = client(settings).employees().await.unwrap_err();

    assert!(matches!(error, SourceError::Malformed { .. }), "{error}");
}

#[tokio::test]
async fn a_hire_during_paging_makes_the_client_read_the_list_again() {
    let fake = fake(500, Some(FAST)).await;
    fake.set_fault(Fault::MovePersonDuringPaging { after_pages: 2 });
    let before = company_ids(&fake);

    let batch = client(settings(&fake, FAST)).employees().await.unwrap();

    let after = company_ids(&fake);
    assert_eq!(
        after.len(),
        before.len() + 1,
        "the fake inserted a newcomer"
    );
    assert_eq!(ids(&batch), after);
    assert_eq!(
        fake.stats().list_requests,
        5 + 6,
        "a pass of 500 people, then one of 501"
    );
}

#[tokio::test]
async fn a_leaver_during_paging_makes_the_client_read_the_list_again() {
    let fake = fake(500, Some(FAST)).await;
    fake.set_fault(Fault::RemovePersonDuringPaging { after_pages: 1 });

    let batch = client(settings(&fake, FAST)).employees().await.unwrap();

    assert_eq!(ids(&batch), company_ids(&fake));
    assert_eq!(batch.employees.len(), 499);
}

#[tokio::test]
async fn a_list_that_keeps_changing_is_reported_as_inconsistent() {
    let fake = fake(300, Some(FAST)).await;
    let mut settings = settings(&fake, FAST);
    settings.max_fetch_attempts = 2;
    // Someone is hired during every pass, right after its first page.
    let hire = fake.clone();
    let client = client(settings).with_progress(after_first_page(move || {
        hire.set_fault(Fault::MovePersonDuringPaging { after_pages: 0 });
    }));

    let outcome = client.employees().await;

    match outcome {
        Err(SourceError::Inconsistent {
            attempts,
            expected,
            read,
        }) => {
            assert_eq!(attempts, 2);
            assert_eq!(
                (expected, read),
                (301, 301),
                "the second pass missed its newcomer but saw a repeat"
            );
        }
        Err(other) => panic!("expected Inconsistent, got {other}"),
        Ok(batch) => panic!(
            "expected Inconsistent, got {} employees",
            batch.employees.len()
        ),
    }
}

#[tokio::test]
async fn an_empty_list_is_zero_employees_not_an_error() {
    let fake = fake(50, Some(FAST)).await;
    fake.set_fault(Fault::EmptyList);

    let batch = client(settings(&fake, FAST)).employees().await.unwrap();

    assert!(batch.employees.is_empty() && batch.errors.is_empty());
    assert_eq!(fake.stats().list_requests, 1);
}

#[tokio::test]
async fn an_attribute_outside_the_whitelist_is_absent_not_empty() {
    let fake = fake(100, Some(FAST)).await;
    let readable: BTreeSet<String> = ["first_name", "last_name", "email", "status", "hire_date"]
        .into_iter()
        .map(str::to_owned)
        .collect();
    fake.set_whitelist(Some(readable));
    let client = client(settings(&fake, FAST));

    let batch = client.employees().await.unwrap();

    assert_eq!(batch.employees.len(), 100);
    for employee in &batch.employees {
        assert!(employee.attribute("gender").is_none());
        assert!(employee.attribute("department").is_none());
        assert!(employee.supervisor.is_none());
        assert!(matches!(
            employee.attribute("email"),
            Some(AttrValue::Text(_))
        ));
    }
    let keys: Vec<String> = client
        .attributes()
        .await
        .unwrap()
        .into_iter()
        .map(|info| info.key)
        .collect();
    assert!(!keys.contains(&"gender".to_owned()));
}

#[tokio::test]
async fn a_selection_of_attributes_keeps_only_those_and_the_id() {
    let fake = fake(100, Some(FAST)).await;
    let mut settings = settings(&fake, FAST);
    settings.keep_attributes = Some(BTreeSet::from([
        "email".to_owned(),
        "date_of_birth".to_owned(),
        "status".to_owned(),
    ]));

    let batch = client(settings).employees().await.unwrap();

    let birthday_key = &batch.universal_ids["date_of_birth"];
    for employee in &batch.employees {
        assert!(employee.attribute("email").is_some());
        assert!(employee.attribute(birthday_key).is_some());
        assert!(employee.attribute("status").is_some());
        assert!(employee.attribute("id").is_some());
        assert!(employee.attribute("gender").is_none());
        assert!(employee.attribute("hire_date").is_none(), "not asked for");
    }
}

#[tokio::test]
async fn one_employee_is_read_by_id_and_a_missing_one_is_none() {
    let fake = fake(20, Some(FAST)).await;
    let client = client(settings(&fake, FAST));
    let wanted = fake.company().employees[3].clone();

    let batch = client
        .employee(PersonioId::new(wanted.id))
        .await
        .unwrap()
        .expect("found");
    assert_eq!(ids(&batch), [wanted.id]);
    assert_eq!(
        batch.employees[0]
            .attribute("email")
            .and_then(AttrValue::to_text),
        Some(wanted.email)
    );

    assert!(client
        .employee(PersonioId::new(987_654_321))
        .await
        .unwrap()
        .is_none());
}

#[tokio::test]
async fn the_attribute_list_names_standard_and_custom_attributes() {
    let fake = fake(20, Some(FAST)).await;
    let attributes = client(settings(&fake, FAST)).attributes().await.unwrap();

    let first_name = attributes
        .iter()
        .find(|info| info.key == "first_name")
        .expect("first_name listed");
    assert_eq!(first_name.kind, "standard");
    let custom: Vec<_> = fake.company().custom_attributes;
    for expected in custom {
        let info = attributes
            .iter()
            .find(|info| info.key == expected.key)
            .expect("custom attribute listed");
        assert_eq!(info.label, expected.label);
        assert_eq!(info.options, expected.options);
    }
}

#[tokio::test]
async fn an_unreachable_personio_is_a_transport_error() {
    let fake = fake(1, None).await;
    let mut settings = settings(&fake, FAST);
    fake.shutdown();
    // A port nothing listens on: bind one, note it, close it.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    settings.base_url = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    settings.max_attempts = 2;

    let error = client(settings).employees().await.unwrap_err();

    assert!(matches!(error, SourceError::Transport { .. }), "{error}");
}

#[tokio::test]
async fn a_client_for_plain_http_to_another_host_is_refused() {
    let settings = PersonioSettings::new(
        AccountId::parse("acme").unwrap(),
        "http://api.personio.de",
        "client-id",
        SecretString::from("secret"),
    );
    let error = PersonioClient::new(settings).err().expect("refused");
    assert!(error.to_string().contains("https"), "{error}");
}

#[tokio::test]
async fn a_page_that_never_ends_is_cut_off_at_the_limit_with_a_clear_error() {
    use axum::body::{Body, Bytes};
    use axum::response::Response;
    use axum::routing::post;
    // Personio as it should never be: a token, then a list page of blanks without end.
    let auth = || async {
        axum::Json(
            serde_json::json!({"success": true, "data": {"token": "papi-t", "expires_in": 86400}}),
        )
    };
    let endless = || async {
        let chunk = Bytes::from(vec![b' '; 64 * 1024]);
        Response::new(Body::from_stream(futures::stream::repeat(Ok::<
            _,
            std::convert::Infallible,
        >(chunk))))
    };
    let app = axum::Router::new()
        .route("/v1/auth", post(auth))
        .fallback(endless);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a free loopback port");
    let address = listener.local_addr().expect("the bound address");
    tokio::spawn(async move { axum::serve(listener, app).await });
    let mut settings = PersonioSettings::new(
        AccountId::parse("acme").unwrap(),
        format!("http://{address}"),
        "client-id",
        SecretString::from("secret"),
    );
    settings.max_attempts = 1;
    settings.request_timeout = Duration::from_secs(10);
    let error = client(settings).employees().await.expect_err("refused");
    assert!(error.to_string().contains("larger than 32 MiB"), "{error}");
}

/// A v2 persons list that answers 404 (a wrong base URL, a gateway without v2) is an error, never
/// an empty company: a full run that read nobody would deactivate everyone.
#[tokio::test]
async fn a_v2_persons_list_that_is_not_found_is_an_error_not_an_empty_company() {
    use axum::http::StatusCode as Status;
    use axum::routing::post;
    let token =
        || async { axum::Json(serde_json::json!({"access_token": "papi-t", "expires_in": 86400})) };
    let app = axum::Router::new()
        .route("/v2/auth/token", post(token))
        .fallback(|| async { Status::NOT_FOUND });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a free loopback port");
    let address = listener.local_addr().expect("the bound address");
    tokio::spawn(async move { axum::serve(listener, app).await });
    let mut settings = PersonioSettings::new(
        AccountId::parse("acme").unwrap(),
        format!("http://{address}"),
        "client-id",
        SecretString::from("secret"),
    );
    settings.api = sync_core::personio::Api::V2;
    let error = client(settings)
        .employees()
        .await
        .expect_err("no people is not an answer");
    assert!(error.to_string().contains("404"), "{error}");
}
