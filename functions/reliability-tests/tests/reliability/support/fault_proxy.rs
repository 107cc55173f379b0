//! [`FaultProxy`]: a reverse proxy on 127.0.0.1 that sits in front of a real server (scim2-server,
//! moto, the fake Personio) and misbehaves on request, one rule at a time or several at once:
//! refuse a request with a canned answer (429 with or without `Retry-After`, 5xx, 409, an AWS
//! throttling error), apply a request and then lie about it (answer 5xx or 409, stall past the
//! client's timeout, break the connection), delay it, stall it without applying it, or run an
//! action first (expire the fake's tokens mid-run).
//!
//! Which request a rule hits is decided per matching request: the n-th one, or each with a
//! probability drawn from the proxy's own seeded generator. The proxy counts what it forwarded
//! (writes) and what it injected, so a scenario can prove that a held run wrote
//! nothing and report how many faults it injected. It never logs a request or answer body.

use axum::body::{to_bytes, Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{header, HeaderName, HeaderValue, Method, StatusCode};
use axum::response::Response;
use axum::Router;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::task::JoinHandle;

/// An answer the proxy gives instead of (or after) the server's.
#[derive(Clone, Debug)]
pub struct Canned {
    /// HTTP status.
    pub status: u16,
    /// Extra headers (`Retry-After`, `x-amzn-ErrorType`, `Content-Type`).
    pub headers: Vec<(&'static str, String)>,
    /// The body.
    pub body: String,
}

impl Canned {
    /// A SCIM error body (RFC 7644 §3.12) with `status`.
    pub fn scim(status: u16, scim_type: Option<&str>, detail: &str) -> Self {
        let mut body = serde_json::json!({
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"],
            "status": status.to_string(),
            "detail": detail,
        });
        if let Some(scim_type) = scim_type {
            body["scimType"] = serde_json::Value::String(scim_type.to_owned());
        }
        Self {
            status,
            headers: vec![("Content-Type", "application/scim+json".to_owned())],
            body: body.to_string(),
        }
    }

    /// A SCIM 429, with `Retry-After: <seconds>` when given.
    pub fn too_many(retry_after: Option<u32>) -> Self {
        let mut canned = Self::scim(429, None, "too many requests");
        if let Some(seconds) = retry_after {
            canned.headers.push(("Retry-After", seconds.to_string()));
        }
        canned
    }

    /// A 5xx as a gateway sends it: an HTML body, not a SCIM error.
    pub fn gateway(status: u16) -> Self {
        Self {
            status,
            headers: vec![("Content-Type", "text/html".to_owned())],
            body: format!("<html><body>{status}</body></html>"),
        }
    }
}

/// Makes an answer from a request body.
pub type Answer = Arc<dyn Fn(&[u8]) -> Canned + Send + Sync>;

/// What a rule does to a request it hits.
#[derive(Clone)]
pub enum Fault {
    /// Answer without forwarding: the server never sees the request.
    Refuse(Canned),
    /// Forward (the server applies it), then answer this instead of the server's answer.
    ApplyThenAnswer(Canned),
    /// Forward, then hold the answer past the client's timeout.
    ApplyThenStall,
    /// Forward, then send the status line and break the connection in the middle of the body.
    ApplyThenDrop,
    /// Wait this long, then forward: a slow server.
    Slow(Duration),
    /// Hold the request past the client's timeout without forwarding it.
    Stall,
    /// Run the action, then forward as usual (the fake expires its tokens, say).
    Call(Arc<dyn Fn() + Send + Sync>),
    /// Answer without forwarding, with an answer made from the request body (DynamoDB's
    /// `UnprocessedItems`, which echo the request's items).
    RefuseWith(Answer),
}

impl std::fmt::Debug for Fault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Refuse(canned) => write!(f, "Refuse({})", canned.status),
            Self::ApplyThenAnswer(canned) => write!(f, "ApplyThenAnswer({})", canned.status),
            Self::ApplyThenStall => f.write_str("ApplyThenStall"),
            Self::ApplyThenDrop => f.write_str("ApplyThenDrop"),
            Self::Slow(delay) => write!(f, "Slow({delay:?})"),
            Self::Stall => f.write_str("Stall"),
            Self::Call(_) => f.write_str("Call"),
            Self::RefuseWith(_) => f.write_str("RefuseWith"),
        }
    }
}

/// Which requests a rule looks at.
#[derive(Clone, Debug, Default)]
pub struct Matcher {
    /// Only this method.
    pub method: Option<Method>,
    /// Only paths containing this.
    pub path: Option<&'static str>,
    /// Only requests whose operation contains this: the `X-Amz-Target` header (DynamoDB), or the
    /// `Action` form field of a query-protocol request (SES `SendRawEmail`).
    pub target: Option<&'static str>,
    /// Only writes (POST, PUT, PATCH, DELETE).
    pub writes_only: bool,
}

impl Matcher {
    fn matches(&self, method: &Method, path: &str, target: &str) -> bool {
        self.method.as_ref().is_none_or(|m| m == method)
            && self.path.is_none_or(|p| path.contains(p))
            && self.target.is_none_or(|t| target.contains(t))
            && (!self.writes_only || is_write(method))
    }
}

/// When a matching request is hit.
#[derive(Clone, Copy, Debug)]
pub enum Pick {
    /// The n-th matching request (from 1), then every `every`-th after it.
    Nth {
        /// The first hit.
        first: u32,
        /// Distance between hits (1: every request from `first` on).
        every: u32,
    },
    /// Each matching request with this probability.
    Chance(f64),
}

/// One fault, the requests it applies to, and how many times it may strike.
#[derive(Clone, Debug)]
pub struct Rule {
    /// Which requests.
    pub matcher: Matcher,
    /// Which of them.
    pub pick: Pick,
    /// What happens to them.
    pub fault: Fault,
    /// How many times it strikes at most.
    pub budget: u32,
}

struct Armed {
    rule: Rule,
    seen: u32,
    struck: u32,
}

struct Shared {
    upstream: String,
    http: reqwest::Client,
    stall: Duration,
    rules: Mutex<(Vec<Armed>, StdRng)>,
    forwarded: AtomicU64,
    writes: AtomicU64,
    injected: AtomicU64,
}

/// A running fault proxy. Requests to `<url>/<path>` go to `<upstream>/<path>`.
pub struct FaultProxy {
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    shared: Arc<Shared>,
    server: JoinHandle<()>,
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl FaultProxy {
    /// Starts a proxy to `upstream` (scheme, host and port). `stall` is how long stalled requests
    /// are held: longer than the client's timeout. `seed` drives [`Pick::Chance`].
    pub async fn start(upstream: &str, stall: Duration, seed: u64) -> Self {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let shared = Arc::new(Shared {
            upstream: upstream.trim_end_matches('/').to_owned(),
            http: reqwest::Client::builder()
                .pool_max_idle_per_host(8)
                .build()
                .expect("proxy HTTP client"),
            stall,
            rules: Mutex::new((Vec::new(), StdRng::seed_from_u64(seed))),
            forwarded: AtomicU64::new(0),
            writes: AtomicU64::new(0),
            injected: AtomicU64::new(0),
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the fault proxy");
        let url = format!("http://{}", listener.local_addr().expect("proxy address"));
        let router = Router::new()
            .fallback(handle)
            .with_state(Arc::clone(&shared));
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        Self {
            url,
            shared,
            server,
        }
    }

    /// Replaces the active rules; their counters start from zero.
    pub fn arm(&self, rules: Vec<Rule>) {
        let mut guard = self.shared.rules.lock().expect("rules lock");
        guard.0 = rules
            .into_iter()
            .map(|rule| Armed {
                rule,
                seen: 0,
                struck: 0,
            })
            .collect();
    }

    /// How many times each armed rule struck, in the order [`FaultProxy::arm`] was given them
    /// (read before [`FaultProxy::disarm`]).
    pub fn struck_each(&self) -> Vec<u32> {
        let guard = self.shared.rules.lock().expect("rules lock");
        guard.0.iter().map(|armed| armed.struck).collect()
    }

    /// Removes every rule: from now on the proxy only forwards.
    pub fn disarm(&self) {
        self.arm(Vec::new());
    }

    /// Sets every counter back to zero.
    pub fn reset_counts(&self) {
        for counter in [
            &self.shared.forwarded,
            &self.shared.writes,
            &self.shared.injected,
        ] {
            counter.store(0, Ordering::SeqCst);
        }
    }

    /// Requests that reached the server since the last reset.
    pub fn forwarded(&self) -> u64 {
        self.shared.forwarded.load(Ordering::SeqCst)
    }

    /// Write requests (POST, PUT, PATCH, DELETE) that reached the server since the last reset.
    pub fn writes(&self) -> u64 {
        self.shared.writes.load(Ordering::SeqCst)
    }

    /// Faults injected since the last reset.
    pub fn injected(&self) -> u64 {
        self.shared.injected.load(Ordering::SeqCst)
    }
}

fn is_write(method: &Method) -> bool {
    matches!(
        *method,
        Method::POST | Method::PUT | Method::PATCH | Method::DELETE
    )
}

/// The `Action` of a query-protocol request body (`Action=SendRawEmail&...`), else empty.
fn query_action(body: &[u8]) -> String {
    String::from_utf8_lossy(body)
        .split('&')
        .find_map(|pair| pair.strip_prefix("Action="))
        .unwrap_or_default()
        .to_owned()
}

/// The fault for this request, if a rule strikes.
fn strike(shared: &Shared, method: &Method, path: &str, target: &str) -> Option<Fault> {
    let mut guard = shared.rules.lock().expect("rules lock");
    let (rules, rng) = &mut *guard;
    for armed in rules.iter_mut() {
        if armed.struck >= armed.rule.budget || !armed.rule.matcher.matches(method, path, target) {
            continue;
        }
        armed.seen += 1;
        let hit = match armed.rule.pick {
            Pick::Nth { first, every } => {
                armed.seen >= first && (armed.seen - first) % every.max(1) == 0
            }
            Pick::Chance(p) => rng.gen_bool(p.clamp(0.0, 1.0)),
        };
        if hit {
            armed.struck += 1;
            shared.injected.fetch_add(1, Ordering::SeqCst);
            return Some(armed.rule.fault.clone());
        }
    }
    None
}

async fn handle(State(shared): State<Arc<Shared>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let method = parts.method.clone();
    let path = parts.uri.path().to_owned();
    let body = to_bytes(body, usize::MAX).await.unwrap_or_default();
    let target = parts
        .headers
        .get("x-amz-target")
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned)
        .unwrap_or_else(|| query_action(&body));
    let fault = strike(&shared, &method, &path, &target);
    match &fault {
        Some(Fault::Refuse(canned)) => return canned_response(canned),
        Some(Fault::RefuseWith(answer)) => return canned_response(&answer(&body)),
        Some(Fault::Stall) => {
            // The client gives up long before; the request never reaches the server.
            tokio::time::sleep(shared.stall).await;
            return canned_response(&Canned::gateway(504));
        }
        Some(Fault::Slow(delay)) => tokio::time::sleep(*delay).await,
        Some(Fault::Call(action)) => action(),
        _ => {}
    }
    let answer = forward(&shared, &parts, &method, body).await;
    match fault {
        Some(Fault::ApplyThenAnswer(canned)) => canned_response(&canned),
        Some(Fault::ApplyThenStall) => {
            tokio::time::sleep(shared.stall).await;
            answer
        }
        Some(Fault::ApplyThenDrop) => broken(answer.status()),
        _ => answer,
    }
}

async fn forward(
    shared: &Shared,
    parts: &axum::http::request::Parts,
    method: &Method,
    body: Bytes,
) -> Response {
    shared.forwarded.fetch_add(1, Ordering::SeqCst);
    if is_write(method) {
        shared.writes.fetch_add(1, Ordering::SeqCst);
    }
    let path_and_query = parts
        .uri
        .path_and_query()
        .map(|pq| pq.as_str().to_owned())
        .unwrap_or_default();
    let mut upstream = shared
        .http
        .request(
            method.clone(),
            format!("{}{path_and_query}", shared.upstream),
        )
        .body(body);
    for (name, value) in &parts.headers {
        if name != header::HOST && name != header::CONTENT_LENGTH {
            upstream = upstream.header(name, value);
        }
    }
    let Ok(answer) = upstream.send().await else {
        return canned_response(&Canned::gateway(502));
    };
    let mut response = Response::builder().status(answer.status());
    for (name, value) in answer.headers() {
        if name != header::TRANSFER_ENCODING
            && name != header::CONTENT_LENGTH
            && name != header::CONNECTION
        {
            response = response.header(name, value);
        }
    }
    let bytes = answer.bytes().await.unwrap_or_default();
    response
        .body(Body::from(bytes))
        .unwrap_or_else(|_| canned_response(&Canned::gateway(502)))
}

fn canned_response(canned: &Canned) -> Response {
    let mut response = Response::new(Body::from(canned.body.clone()));
    *response.status_mut() = StatusCode::from_u16(canned.status).unwrap_or(StatusCode::BAD_GATEWAY);
    for (name, value) in &canned.headers {
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(value),
        ) {
            response.headers_mut().insert(name, value);
        }
    }
    response
}

/// A response whose body breaks off: the status line and headers go out, then the connection
/// is cut, as when a load balancer drops it.
fn broken(status: StatusCode) -> Response {
    let stream = futures::stream::iter([
        Ok::<Bytes, std::io::Error>(Bytes::from_static(b"{\"schemas\":")),
        Err(std::io::Error::other(
            "connection dropped by the fault proxy",
        )),
    ]);
    let mut response = Response::new(Body::from_stream(stream));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/scim+json"),
    );
    response
}
