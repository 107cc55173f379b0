//! The console over real HTTP on 127.0.0.1, on a state folder that real runs wrote: a link opens
//! a session and lands on a URL without the token; the overview and the run report show the
//! history; every refusal is a page that says what to do, never a 5xx.

use chrono::{Duration, Utc};
use reqwest::header;
use std::sync::Arc;
use sync_console::{app, ConsoleDeps, ConsoleSettings, COOKIE};
use sync_core::ids::TenantId;
use sync_core::links::{Access, Grant, LinkKey, LinkKeys};
use sync_local::FolderStore;
use test_support::harness::Harness;

struct Console {
    url: String,
    keys: LinkKeys,
    tenant: TenantId,
    http: reqwest::Client,
    harness: Harness,
}

fn keys() -> LinkKeys {
    LinkKeys::new(LinkKey::new("k1", vec![9; 32]).expect("a key"), None)
}

/// A console on the state of a company of 30 after its first sync.
async fn console() -> Console {
    let harness = Harness::new(30).await;
    harness.run().await;
    let deps = ConsoleDeps {
        store: Arc::new(FolderStore::new(harness.path().join("state"))),
        keys: keys(),
        settings: ConsoleSettings::default(),
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a free port");
    let url = format!("http://{}", listener.local_addr().expect("an address"));
    tokio::spawn(async move { axum::serve(listener, app(deps)).await });
    let http = sync_core::http::builder(std::time::Duration::from_secs(10))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("an HTTP client");
    Console {
        url,
        keys: keys(),
        tenant: harness.config.tenant.clone(),
        http,
        harness,
    }
}

impl Console {
    fn link(&self, tenant: &TenantId, expires_in: Duration) -> String {
        let grant = Grant {
            tenant: tenant.clone(),
            access: Access::View,
            expires: Utc::now() + expires_in,
        };
        format!("{}/open?link={}", self.url, self.keys.link(&grant))
    }

    /// Opens a link for the tenant; the session cookie (name=value).
    async fn session(&self) -> String {
        let answer = self
            .http
            .get(self.link(&self.tenant, Duration::days(7)))
            .send()
            .await
            .expect("open the link");
        assert_eq!(answer.status(), 303);
        let cookie = answer
            .headers()
            .get(header::SET_COOKIE)
            .and_then(|v| v.to_str().ok())
            .expect("a session cookie")
            .to_owned();
        cookie.split(';').next().expect("name=value").to_owned()
    }

    async fn get(&self, path: &str, cookie: Option<&str>) -> (u16, String) {
        let mut request = self.http.get(format!("{}{path}", self.url));
        if let Some(cookie) = cookie {
            request = request.header(header::COOKIE, cookie);
        }
        let answer = request.send().await.expect("a page");
        let status = answer.status().as_u16();
        (status, answer.text().await.expect("a body"))
    }
}

#[tokio::test]
async fn a_link_starts_a_session_on_a_url_without_the_token() {
    let console = console().await;
    let answer = console
        .http
        .get(console.link(&console.tenant, Duration::days(7)))
        .send()
        .await
        .expect("open the link");
    assert_eq!(answer.status(), 303);
    let location = answer.headers()[header::LOCATION].to_str().unwrap();
    assert_eq!(location, format!("/tenants/{}", console.tenant));
    assert_eq!(answer.headers()[header::REFERRER_POLICY], "no-referrer");
    let cookie = answer.headers()[header::SET_COOKIE].to_str().unwrap();
    for part in ["HttpOnly", "SameSite=Strict", "Secure", "Path=/"] {
        assert!(cookie.contains(part), "{cookie}");
    }
    assert!(cookie.starts_with(&format!("{COOKIE}=s1.")), "{cookie}");
    // Thirty minutes, not the link's seven days.
    assert!(cookie.contains("Max-Age=1800") || cookie.contains("Max-Age=1799"));
}

#[tokio::test]
async fn the_overview_and_the_report_show_the_history() {
    let console = console().await;
    let cookie = console.session().await;
    let runs = console.harness.store_runs().await;
    let first = &runs[0];
    let (status, overview) = console
        .get(&format!("/tenants/{}", console.tenant), Some(&cookie))
        .await;
    assert_eq!(status, 200, "{overview}");
    assert!(overview.contains(&format!("Sync of {}", console.tenant)));
    assert!(overview.contains(&format!("/runs/{}", first.id)));
    assert!(overview.contains(&format!("{} created", first.counts.created)));
    assert!(!overview.contains("A run is held"));

    let report_path = format!("/tenants/{}/runs/{}", console.tenant, first.id);
    let (status, report) = console.get(&report_path, Some(&cookie)).await;
    assert_eq!(status, 200, "{report}");
    assert!(report.contains(&format!(
        "<strong>{}</strong> created",
        first.counts.created
    )));
    let change = &first.changes[0];
    let name = change.name.clone().expect("a name");
    assert!(report.contains(&escape(&name)), "{name}");
    assert!(report.contains(&format!("{} changes.", first.changes.len())));

    // Search by id finds one person; filter by an action nobody has finds no one.
    let id = change.person.external_id();
    let (_, found) = console
        .get(&format!("{report_path}?q={id}"), Some(&cookie))
        .await;
    assert!(found.contains("1 changes."), "{id}");
    let (_, none) = console
        .get(&format!("{report_path}?action=deactivate"), Some(&cookie))
        .await;
    assert!(none.contains("0 changes."));
}

/// What askama makes of text in HTML.
fn escape(text: &str) -> String {
    text.replace('&', "&#38;")
        .replace('<', "&#60;")
        .replace('>', "&#62;")
        .replace('"', "&#34;")
        .replace('\'', "&#39;")
}

#[tokio::test]
async fn refusals_are_pages_that_say_what_to_do() {
    let console = console().await;
    let overview = format!("/tenants/{}", console.tenant);

    let (status, page) = console.get(&overview, None).await;
    assert_eq!(status, 401);
    assert!(page.contains("Open the link in the newest summary email"));

    let expired = console.link(&console.tenant, Duration::seconds(-5));
    let answer = console.http.get(expired).send().await.unwrap();
    assert_eq!(answer.status(), 401);
    assert!(answer.text().await.unwrap().contains("expired"));

    let tampered = console
        .link(&console.tenant, Duration::days(1))
        .replace(".view.", ".act.");
    let answer = console.http.get(tampered).send().await.unwrap();
    assert_eq!(answer.status(), 401);
    assert!(answer.headers().get(header::SET_COOKIE).is_none());
    assert!(answer.text().await.unwrap().contains("altered"));

    let (status, page) = console.get("/open", None).await;
    assert_eq!(status, 401, "{page}");

    let cookie = console.session().await;
    let (status, page) = console.get("/tenants/globex", Some(&cookie)).await;
    assert_eq!(status, 403);
    assert!(page.contains("another organisation"));
    let (status, _) = console
        .get(
            "/tenants/globex/runs/20261203T000000.000Z-000000",
            Some(&cookie),
        )
        .await;
    assert_eq!(status, 403);

    let (status, page) = console
        .get(
            &format!("{overview}/runs/20261203T000000.000Z-000000"),
            Some(&cookie),
        )
        .await;
    assert_eq!(status, 404);
    assert!(page.contains("no such run"));
    let (status, _) = console
        .get(&format!("{overview}/runs/not-a-run"), Some(&cookie))
        .await;
    assert_eq!(status, 404);
    let (status, _) = console.get("/nowhere", None).await;
    assert_eq!(status, 404);

    // A session cookie for another tenant opens nothing here either.
    let other = TenantId::parse("globex").unwrap();
    let grant = Grant {
        tenant: other,
        access: Access::Act,
        expires: Utc::now() + Duration::minutes(5),
    };
    let foreign = format!("{COOKIE}={}", console.keys.session(&grant, "csrf"));
    let (status, _) = console.get(&overview, Some(&foreign)).await;
    assert_eq!(status, 403);
}

#[tokio::test]
async fn the_stylesheet_is_served_by_the_console() {
    let console = console().await;
    let answer = console
        .http
        .get(format!("{}/assets/console.css", console.url))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);
    assert!(answer.headers()[header::CONTENT_TYPE]
        .to_str()
        .unwrap()
        .starts_with("text/css"));
}
