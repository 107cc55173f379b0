//! Links and sessions: a link opens a session on a URL without the token; every refusal is a
//! page that says what to do, never a 5xx.

use crate::support::console;
use chrono::{Duration, Utc};
use reqwest::header;
use sync_console::COOKIE;
use sync_core::ids::TenantId;
use sync_core::links::{Access, Grant};

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

    // A link may land on one of the tenant's runs, and nowhere else.
    let run = &console.harness.store_runs().await[0].id;
    let link = console.link(&console.tenant, Duration::days(7));
    let overview = format!("/tenants/{}", console.tenant);
    for (to, lands) in [
        (
            format!("{overview}/runs/{run}"),
            format!("{overview}/runs/{run}"),
        ),
        ("https://evil.example/".to_owned(), overview.clone()),
        ("//evil.example".to_owned(), overview.clone()),
        (format!("/tenants/globex/runs/{run}"), overview.clone()),
        (format!("{overview}/runs/..%2F..%2Fx"), overview.clone()),
    ] {
        let answer = console
            .http
            .get(&link)
            .query(&[("to", to.as_str())])
            .send()
            .await
            .expect("open the link");
        assert_eq!(answer.headers()[header::LOCATION], lands.as_str(), "{to}");
    }
}

#[tokio::test]
async fn refusals_are_pages_that_say_what_to_do() {
    let console = console().await;
    let overview = format!("/tenants/{}", console.tenant);

    let (status, page) = console.get(&overview, None).await;
    assert_eq!(status, 401);
    assert!(page.contains("Open the link in the newest summary email"));
    let answer = console
        .http
        .get(format!("{}{overview}", console.url))
        .send()
        .await
        .unwrap();
    assert!(answer.headers()[header::CONTENT_SECURITY_POLICY]
        .to_str()
        .unwrap()
        .contains("default-src 'none'"));

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
