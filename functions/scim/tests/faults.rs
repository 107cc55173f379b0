//! Faults scim2-server cannot produce (429 with `Retry-After`, 503, a stale ETag, PATCH answered
//! 200 with the resource), from a small axum stand-in in front of the real server: it answers
//! the scripted faults itself and passes everything else through.

mod support;

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::Response;
use axum::Router;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use support::{new_user, settings};
use sync_core::ports::{Destination, DestinationError};
use sync_core::record::{FieldChange, FieldValue};
use sync_scim::ScimDestination;
use test_support::scim::{scim_server, ScimReader};

/// What the stand-in answers instead of the server.
#[derive(Clone, Copy, Debug)]
enum Answer {
    TooManyRequests {
        retry_after: &'static str,
    },
    ServiceUnavailable,
    PreconditionFailed,
    /// Pass the PATCH on, then answer 200 with the resource, as some servers do.
    OkWithResource,
}

/// A request the stand-in saw.
#[derive(Clone, Debug)]
struct Seen {
    method: Method,
    path: String,
    if_match: Option<String>,
    at: Instant,
}

#[derive(Clone)]
struct StandIn {
    upstream: String,
    token: String,
    http: reqwest::Client,
    faults: Arc<Mutex<VecDeque<(Method, Answer)>>>,
    seen: Arc<Mutex<Vec<Seen>>>,
    in_flight: Arc<AtomicUsize>,
    most_in_flight: Arc<AtomicUsize>,
}

impl StandIn {
    fn seen(&self, method: Method) -> Vec<Seen> {
        self.seen
            .lock()
            .unwrap()
            .iter()
            .filter(|s| s.method == method)
            .cloned()
            .collect()
    }
}

/// Starts the stand-in on a free loopback port; returns it, a base URL through it, and the same
/// tenant's base URL on the server itself (to read back what it holds).
async fn stand_in(faults: &[(Method, Answer)]) -> (StandIn, String, String) {
    let server = scim_server();
    let tenant = server.tenant_url("faults");
    let tenant_path = tenant.trim_start_matches(&server.url).to_owned();
    let state = StandIn {
        upstream: server.url.clone(),
        token: server.token.clone(),
        http: sync_core::http::client(Duration::from_secs(30)).expect("HTTP client"),
        faults: Arc::new(Mutex::new(faults.iter().cloned().collect())),
        seen: Arc::default(),
        in_flight: Arc::default(),
        most_in_flight: Arc::default(),
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let app = Router::new().fallback(handle).with_state(state.clone());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (state, format!("http://{address}{tenant_path}"), tenant)
}

async fn handle(
    State(stand_in): State<StandIn>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let now = stand_in.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
    stand_in.most_in_flight.fetch_max(now, Ordering::SeqCst);
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    stand_in.seen.lock().unwrap().push(Seen {
        method: method.clone(),
        path: uri.path().to_owned(),
        if_match: header("if-match"),
        at: Instant::now(),
    });
    let fault = {
        let mut faults = stand_in.faults.lock().unwrap();
        let index = faults.iter().position(|(m, _)| *m == method);
        index
            .and_then(|i| faults.remove(i))
            .map(|(_, answer)| answer)
    };
    let url = format!(
        "{}{}",
        stand_in.upstream,
        uri.path_and_query().map_or("", |p| p.as_str())
    );
    let forward = || async {
        let mut request = stand_in
            .http
            .request(method.clone(), &url)
            .body(body.clone());
        for name in ["authorization", "content-type", "if-match", "accept"] {
            if let Some(value) = header(name) {
                request = request.header(name, value);
            }
        }
        request.send().await.unwrap()
    };
    let response = match fault {
        Some(Answer::TooManyRequests { retry_after }) => {
            scim_error(StatusCode::TOO_MANY_REQUESTS, Some(retry_after))
        }
        Some(Answer::ServiceUnavailable) => scim_error(StatusCode::SERVICE_UNAVAILABLE, None),
        Some(Answer::PreconditionFailed) => scim_error(StatusCode::PRECONDITION_FAILED, None),
        Some(Answer::OkWithResource) => {
            let patched = forward().await;
            assert_eq!(patched.status().as_u16(), 204);
            let resource = stand_in
                .http
                .get(&url)
                .bearer_auth(&stand_in.token)
                .send()
                .await
                .unwrap()
                .bytes()
                .await
                .unwrap();
            Response::builder()
                .status(200)
                .header("content-type", "application/json")
                .body(Body::from(resource))
                .unwrap()
        }
        None => {
            let upstream = forward().await;
            let mut response = Response::builder().status(upstream.status().as_u16());
            for name in ["content-type", "etag", "location"] {
                if let Some(value) = upstream.headers().get(name) {
                    response = response.header(name, value.as_bytes());
                }
            }
            response
                .body(Body::from(upstream.bytes().await.unwrap()))
                .unwrap()
        }
    };
    stand_in.in_flight.fetch_sub(1, Ordering::SeqCst);
    response
}

fn scim_error(status: StatusCode, retry_after: Option<&str>) -> Response {
    let body = serde_json::json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"],
        "status": status.as_u16().to_string(),
        "detail": status.canonical_reason().unwrap_or_default(),
    });
    let mut response = Response::builder()
        .status(status)
        .header("content-type", "application/scim+json");
    if let Some(retry_after) = retry_after {
        response = response.header("retry-after", retry_after);
    }
    response.body(Body::from(body.to_string())).unwrap()
}

fn destination(base_url: &str, max_attempts: u32, concurrency: usize) -> ScimDestination {
    let mut settings = settings(base_url, &scim_server().token);
    settings.max_attempts = max_attempts;
    settings.concurrency = concurrency;
    ScimDestination::new(settings).unwrap()
}

#[tokio::test]
async fn a_rate_limited_create_waits_as_retry_after_says_and_then_succeeds_once() {
    let too_many = Answer::TooManyRequests { retry_after: "1" };
    let (stand_in, base_url, direct) =
        stand_in(&[(Method::POST, too_many), (Method::POST, too_many)]).await;
    let destination = destination(&base_url, 5, 4);

    let id = destination
        .create(&new_user("main:1", &[("user_name", "kim")]))
        .await
        .unwrap();

    let posts = stand_in.seen(Method::POST);
    assert_eq!(posts.len(), 3);
    for pair in posts.windows(2) {
        assert!(
            pair[1].at - pair[0].at >= Duration::from_secs(1),
            "retried before Retry-After"
        );
    }
    let users = ScimReader::new(&direct)
        .users_where(r#"externalId eq "main:1""#)
        .await;
    assert_eq!(users.len(), 1);
    assert_eq!(users[0]["id"], id.as_str());
}

#[tokio::test]
async fn a_server_that_keeps_failing_is_unavailable_after_the_configured_attempts() {
    let faults = vec![(Method::GET, Answer::ServiceUnavailable); 3];
    let (stand_in, base_url, _) = stand_in(&faults).await;
    let destination = destination(&base_url, 3, 4);

    let error = destination.users().await.unwrap_err();
    assert!(
        matches!(&error, DestinationError::Unavailable { attempts: 3, detail } if detail.contains("503")),
        "{error:?}"
    );
    assert_eq!(stand_in.seen(Method::GET).len(), 3);
}

#[tokio::test]
async fn a_retry_after_longer_than_a_minute_is_not_waited_for() {
    let (_, base_url, _) = stand_in(&[(
        Method::POST,
        Answer::TooManyRequests {
            retry_after: "3600",
        },
    )])
    .await;
    let destination = destination(&base_url, 5, 4);
    let error = destination
        .create(&new_user("main:2", &[("user_name", "lou")]))
        .await
        .unwrap_err();
    assert!(
        matches!(&error, DestinationError::Unavailable { attempts: 1, .. }),
        "{error:?}"
    );
}

#[tokio::test]
async fn a_stale_etag_is_read_again_and_the_patch_sent_once_more() {
    let (stand_in, base_url, direct) =
        stand_in(&[(Method::PATCH, Answer::PreconditionFailed)]).await;
    let destination = destination(&base_url, 5, 4);
    let id = destination
        .create(&new_user(
            "main:3",
            &[("user_name", "max"), ("title", "Dev")],
        ))
        .await
        .unwrap();

    let change = FieldChange {
        field: "title".into(),
        old: Some(FieldValue::Text("Dev".into())),
        new: Some(FieldValue::Text("Lead".into())),
    };
    destination.update(&id, &[change]).await.unwrap();

    let patches = stand_in.seen(Method::PATCH);
    assert_eq!(patches.len(), 2);
    assert!(
        patches
            .iter()
            .all(|p| p.if_match.as_deref().is_some_and(|e| e.starts_with("W/"))),
        "{patches:?}"
    );
    let user_reads = stand_in
        .seen(Method::GET)
        .into_iter()
        .filter(|s| s.path.ends_with(id.as_str()))
        .count();
    assert_eq!(user_reads, 2);
    let held = ScimReader::new(&direct)
        .get(&format!("Users/{id}"), &[])
        .await;
    assert_eq!(held["title"], "Lead");
}

#[tokio::test]
async fn a_user_that_keeps_changing_is_unavailable_after_two_tries() {
    let faults = vec![(Method::PATCH, Answer::PreconditionFailed); 2];
    let (_, base_url, _) = stand_in(&faults).await;
    let destination = destination(&base_url, 5, 4);
    let id = destination
        .create(&new_user("main:4", &[("user_name", "ned")]))
        .await
        .unwrap();
    let change = FieldChange {
        field: "title".into(),
        old: None,
        new: Some(FieldValue::Text("Dev".into())),
    };
    let error = destination.update(&id, &[change]).await.unwrap_err();
    assert!(
        matches!(&error, DestinationError::Unavailable { attempts: 2, .. }),
        "{error:?}"
    );
}

#[tokio::test]
async fn a_patch_answered_200_with_the_user_is_a_success() {
    let (stand_in, base_url, direct) = stand_in(&[(Method::PATCH, Answer::OkWithResource)]).await;
    let destination = destination(&base_url, 5, 4);
    let id = destination
        .create(&new_user("main:5", &[("user_name", "olga")]))
        .await
        .unwrap();

    destination.set_active(&id, false).await.unwrap();
    assert_eq!(stand_in.seen(Method::PATCH).len(), 1);
    let held = ScimReader::new(&direct)
        .get(&format!("Users/{id}"), &[])
        .await;
    assert_eq!(held["active"], false);
}

#[tokio::test]
async fn requests_in_flight_never_exceed_the_configured_concurrency() {
    let (stand_in, base_url, _) = stand_in(&[]).await;
    let destination = destination(&base_url, 5, 2);
    let creates = (0..20).map(|n| {
        let user = new_user(&format!("main:{n}"), &[("user_name", &format!("p{n}"))]);
        let destination = &destination;
        async move { destination.create(&user).await }
    });
    futures::future::try_join_all(creates).await.unwrap();
    let most = stand_in.most_in_flight.load(Ordering::SeqCst);
    assert!(
        (1..=2).contains(&most),
        "{most} requests were in flight at once"
    );
}
