//! [`ScimProxy`]: a reverse proxy on 127.0.0.1 in front of scim2-server that counts the write
//! requests the worker sends (the worker builds its own `ScimDestination`, so its counters are out
//! of reach) and can play a slow server: hold one create until a moment has passed.

use axum::body::{to_bytes, Body};
use axum::extract::{Request, State};
use axum::http::{header, Method, StatusCode};
use axum::response::Response;
use axum::Router;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// A create the proxy holds back: the one after `after_creates` creates is answered only once
/// `until` has passed.
#[derive(Clone, Copy, Debug)]
struct Hold {
    after_creates: u64,
    until: Instant,
}

struct Shared {
    upstream: String,
    http: reqwest::Client,
    writes: AtomicU64,
    creates: AtomicU64,
    hold: Mutex<Option<Hold>>,
    /// Creates after this many wait until the gate opens (`true`).
    gate: Mutex<Option<(u64, tokio::sync::watch::Receiver<bool>)>>,
}

/// Opens a gate [`ScimProxy::gate_creates`] closed.
pub struct Gate(tokio::sync::watch::Sender<bool>);

impl Gate {
    /// Lets the held creates (and every later one) through.
    pub fn open(&self) {
        let _ = self.0.send(true);
    }
}

/// A counting proxy to scim2-server; requests to `<url>/<path>` go to `<upstream>/<path>`.
pub struct ScimProxy {
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    shared: Arc<Shared>,
}

impl ScimProxy {
    /// Starts a proxy to `upstream` (a server URL without tenant path) in this test's runtime.
    pub async fn start(upstream: &str) -> Self {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let shared = Arc::new(Shared {
            upstream: upstream.trim_end_matches('/').to_owned(),
            http: reqwest::Client::new(),
            writes: AtomicU64::new(0),
            creates: AtomicU64::new(0),
            hold: Mutex::new(None),
            gate: Mutex::new(None),
        });
        let router = Router::new()
            .fallback(forward)
            .with_state(Arc::clone(&shared));
        let url = super::serve(router).await;
        Self { url, shared }
    }

    /// Write requests (POST, PUT, PATCH, DELETE) forwarded so far.
    pub fn writes(&self) -> u64 {
        self.shared.writes.load(Ordering::SeqCst)
    }

    /// User creates (`POST …/Users`) forwarded so far.
    pub fn creates(&self) -> u64 {
        self.shared.creates.load(Ordering::SeqCst)
    }

    /// From now on, the create that follows the first `after_creates` creates is held until
    /// `until`: a server that answers slowly while a Lambda's deadline passes.
    pub fn hold_create(&self, after_creates: u64, until: Instant) {
        *self.shared.hold.lock().expect("hold lock") = Some(Hold {
            after_creates,
            until,
        });
    }
}

impl ScimProxy {
    /// From now on, every create after the first `after_creates` waits until the returned gate
    /// is opened: a run stopped mid-apply for as long as a test looks at it.
    pub fn gate_creates(&self, after_creates: u64) -> Gate {
        let (open, opened) = tokio::sync::watch::channel(false);
        *self.shared.gate.lock().expect("gate lock") = Some((after_creates, opened));
        Gate(open)
    }
}

async fn forward(State(shared): State<Arc<Shared>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let method = parts.method.clone();
    let path = parts
        .uri
        .path_and_query()
        .map(|pq| pq.as_str().to_owned())
        .unwrap_or_default();
    let body = to_bytes(body, usize::MAX).await.unwrap_or_default();
    if method != Method::GET && method != Method::HEAD {
        shared.writes.fetch_add(1, Ordering::SeqCst);
    }
    if method == Method::POST && parts.uri.path().ends_with("/Users") {
        let before = shared.creates.fetch_add(1, Ordering::SeqCst);
        let hold = *shared.hold.lock().expect("hold lock");
        if let Some(hold) = hold.filter(|hold| hold.after_creates == before) {
            tokio::time::sleep_until(hold.until.into()).await;
        }
        let gate = shared.gate.lock().expect("gate lock").clone();
        if let Some((_, mut opened)) = gate.filter(|(after, _)| before >= *after) {
            let _ = opened.wait_for(|open| *open).await;
        }
    }
    let mut upstream = shared
        .http
        .request(method, format!("{}{path}", shared.upstream))
        .body(body);
    for (name, value) in &parts.headers {
        if name != header::HOST && name != header::CONTENT_LENGTH {
            upstream = upstream.header(name, value);
        }
    }
    match upstream.send().await {
        Ok(answer) => {
            let mut response = Response::builder().status(answer.status());
            for (name, value) in answer.headers() {
                if name != header::TRANSFER_ENCODING && name != header::CONTENT_LENGTH {
                    response = response.header(name, value);
                }
            }
            let bytes = answer.bytes().await.unwrap_or_default();
            response
                .body(Body::from(bytes))
                .unwrap_or_else(|_| bad_gateway())
        }
        Err(_) => bad_gateway(),
    }
}

fn bad_gateway() -> Response {
    let mut response = Response::new(Body::empty());
    *response.status_mut() = StatusCode::BAD_GATEWAY;
    response
}
