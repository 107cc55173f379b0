//! The console over real HTTP on 127.0.0.1, on a state folder that real runs wrote: a link opens
//! a session and lands on a URL without the token; the overview and the run report show the
//! history; every refusal is a page that says what to do, never a 5xx.

use chrono::{Duration, Utc};
use reqwest::header;
use std::sync::Arc;
use sync_console::{app, ActionError, Actions, ConsoleDeps, ConsoleSettings, COOKIE};
use sync_core::history::{RunRecord, RunStatus};
use sync_core::ids::{RunId, TenantId};
use sync_core::links::{Access, Grant, LinkKey, LinkKeys};
use sync_core::run::RunError;
use sync_local::FolderStore;
use test_support::harness::Harness;

struct Console {
    url: String,
    keys: LinkKeys,
    tenant: TenantId,
    http: reqwest::Client,
    harness: Arc<Harness>,
}

/// The console's actions on one machine: the engine's own approve and reject on the harness.
struct HarnessActions(Arc<Harness>);

fn action_error(error: RunError) -> ActionError {
    match error {
        RunError::NotHeld { .. } => ActionError::Refused(error.to_string()),
        other => ActionError::Failed(other.to_string()),
    }
}

#[async_trait::async_trait]
impl Actions for HarnessActions {
    async fn approve(&self, _tenant: &TenantId, run: &RunId) -> Result<RunId, ActionError> {
        // The engine's apply future is not `Send` (its per-action closures), and axum's
        // handlers must be: the approval runs on a blocking thread of the same runtime, as the
        // CLI does.
        let (harness, run) = (self.0.clone(), run.clone());
        tokio::task::spawn_blocking(move || {
            tokio::runtime::Handle::current().block_on(async move { harness.approve(&run).await })
        })
        .await
        .map_err(|error| ActionError::Failed(error.to_string()))?
        .map(|outcome| outcome.record.id)
        .map_err(action_error)
    }

    async fn reject(&self, _tenant: &TenantId, run: &RunId) -> Result<(), ActionError> {
        self.0.reject(run).await.map_err(action_error)
    }

    async fn sync_now(&self, _tenant: &TenantId) -> Result<RunId, ActionError> {
        let harness = self.0.clone();
        tokio::task::spawn_blocking(move || {
            tokio::runtime::Handle::current()
                .block_on(async move { harness.run_at(test_support::personio::now()).await })
        })
        .await
        .map_err(|error| ActionError::Failed(error.to_string()))?
        .map(|outcome| outcome.record.id)
        .map_err(action_error)
    }

    async fn dry_run(&self, _tenant: &TenantId) -> Result<RunRecord, ActionError> {
        let harness = self.0.clone();
        tokio::task::spawn_blocking(move || {
            tokio::runtime::Handle::current()
                .block_on(async move { harness.dry_run(test_support::personio::now()).await })
        })
        .await
        .map_err(|error| ActionError::Failed(error.to_string()))
        .map(|outcome| outcome.record)
    }
}

fn keys() -> LinkKeys {
    LinkKeys::new(LinkKey::new("k1", vec![9; 32]).expect("a key"), None)
}

/// A console on the state of a company of 30 after its first sync.
async fn console() -> Console {
    let harness = Harness::new(30).await;
    harness.run().await;
    serve(harness).await
}

/// A console whose tenant's last run was held: 5 of 30 people left Personio (over 10%).
async fn held() -> (Console, Vec<u64>, RunId) {
    let harness = Harness::new(30).await;
    harness.run().await;
    let leaving: Vec<u64> = harness
        .fake
        .company()
        .employees
        .iter()
        .filter(|person| person.status == "active")
        .take(5)
        .map(|person| person.id)
        .collect();
    harness.fake.update(|company| {
        for id in &leaving {
            company.remove(*id);
        }
    });
    let outcome = harness.run().await;
    assert_eq!(outcome.record.status, RunStatus::Held);
    let run = outcome.record.id;
    (serve(harness).await, leaving, run)
}

async fn serve(harness: Harness) -> Console {
    let harness = Arc::new(harness);
    let deps = ConsoleDeps {
        store: Arc::new(FolderStore::new(harness.path().join("state"))),
        keys: keys(),
        actions: Some(Arc::new(HarnessActions(harness.clone()))),
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
        self.link_with(tenant, Access::View, expires_in)
    }

    fn link_with(&self, tenant: &TenantId, access: Access, expires_in: Duration) -> String {
        let grant = Grant {
            tenant: tenant.clone(),
            access,
            expires: Utc::now() + expires_in,
        };
        format!("{}/open?link={}", self.url, self.keys.link(&grant))
    }

    /// Opens a view link for the tenant; the session cookie (name=value).
    async fn session(&self) -> String {
        self.session_with(Access::View).await
    }

    /// Opens a link with `access` for the tenant; the session cookie (name=value).
    async fn session_with(&self, access: Access) -> String {
        let answer = self
            .http
            .get(self.link_with(&self.tenant, access, Duration::days(7)))
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

    async fn post(&self, path: &str, cookie: &str, csrf: Option<&str>) -> (u16, String, String) {
        let mut form = Vec::new();
        if let Some(csrf) = csrf {
            form.push(("csrf", csrf));
        }
        let answer = self
            .http
            .post(format!("{}{path}", self.url))
            .header(header::COOKIE, cookie)
            .form(&form)
            .send()
            .await
            .expect("an answer");
        let status = answer.status().as_u16();
        let location = answer
            .headers()
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        (status, location, answer.text().await.expect("a body"))
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

    // errors.csv is the stored run's error file, byte for byte.
    let csv = console
        .http
        .get(format!("{}{report_path}/errors.csv", console.url))
        .header(header::COOKIE, &cookie)
        .send()
        .await
        .expect("errors.csv");
    assert_eq!(csv.status(), 200);
    assert!(csv.headers()[header::CONTENT_DISPOSITION]
        .to_str()
        .unwrap()
        .contains("attachment"));
    assert_eq!(
        csv.bytes().await.expect("bytes").as_ref(),
        sync_core::report::stored_run_errors_csv(first).as_slice()
    );
    let (status, _) = console
        .get(&format!("{report_path}/errors.csv"), None)
        .await;
    assert_eq!(status, 401);

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

/// The CSRF token a confirmation page's form carries.
fn form_csrf(page: &str) -> String {
    let start = page.find(r#"name="csrf" value=""#).expect("a CSRF field") + 19;
    page[start..]
        .split('"')
        .next()
        .expect("its value")
        .to_owned()
}

#[tokio::test]
async fn an_act_link_approves_a_held_run_after_confirming_and_the_leavers_lose_access() {
    let (console, leaving, held_run) = held().await;
    let cookie = console.session_with(Access::Act).await;
    let overview = format!("/tenants/{}", console.tenant);
    let (_, page) = console.get(&overview, Some(&cookie)).await;
    assert!(page.contains("A run is held"), "{page}");
    assert!(page.contains(&format!("/runs/{held_run}")));
    let report = format!("{overview}/runs/{held_run}");
    let (_, page) = console.get(&report, Some(&cookie)).await;
    assert!(page.contains("Review and approve"), "{page}");

    // The confirmation page changes nothing; its form carries the session's CSRF token.
    let (status, confirm) = console
        .get(&format!("{report}/decide?to=approve"), Some(&cookie))
        .await;
    assert_eq!(status, 200, "{confirm}");
    let csrf = form_csrf(&confirm);
    for id in &leaving {
        assert!(console.harness.user(*id).await.expect("a user").active);
    }

    // A POST without the token (another site's form) is refused and changes nothing.
    let (status, _, page) = console
        .post(&format!("{report}/approve"), &cookie, None)
        .await;
    assert_eq!(status, 403);
    assert!(page.contains("expired"));
    let (status, _, _) = console
        .post(&format!("{report}/approve"), &cookie, Some("not-the-token"))
        .await;
    assert_eq!(status, 403);
    assert!(console.harness.user(leaving[0]).await.unwrap().active);

    let (status, location, _) = console
        .post(&format!("{report}/approve"), &cookie, Some(&csrf))
        .await;
    assert_eq!(status, 303);
    assert!(
        location.starts_with(&format!("{overview}/runs/")),
        "{location}"
    );
    assert_ne!(location, report);
    for id in &leaving {
        let user = console.harness.user(*id).await.expect("a user");
        assert!(!user.active, "person {id} keeps access after the approval");
    }
    let (status, applied) = console.get(&location, Some(&cookie)).await;
    assert_eq!(status, 200);
    assert!(
        applied.contains("<strong>5</strong> deactivated"),
        "{applied}"
    );

    // A second approval finds nothing held.
    let (status, _, page) = console
        .post(&format!("{report}/approve"), &cookie, Some(&csrf))
        .await;
    assert_eq!(status, 409, "{page}");
}

#[tokio::test]
async fn a_view_link_cannot_decide_and_a_rejection_changes_nothing() {
    let (console, leaving, held_run) = held().await;
    let report = format!("/tenants/{}/runs/{held_run}", console.tenant);

    let viewer = console.session().await;
    let (_, page) = console.get(&report, Some(&viewer)).await;
    assert!(!page.contains("Review and approve"));
    let (status, _) = console
        .get(&format!("{report}/decide?to=approve"), Some(&viewer))
        .await;
    assert_eq!(status, 403);
    let (status, _, page) = console
        .post(&format!("{report}/approve"), &viewer, Some("any"))
        .await;
    assert_eq!(status, 403);
    assert!(page.contains("view only"));

    let actor = console.session_with(Access::Act).await;
    let (_, confirm) = console
        .get(&format!("{report}/decide?to=reject"), Some(&actor))
        .await;
    let csrf = form_csrf(&confirm);
    let (status, location, _) = console
        .post(&format!("{report}/reject"), &actor, Some(&csrf))
        .await;
    assert_eq!(status, 303);
    assert_eq!(location, report);
    let runs = console.harness.store_runs().await;
    let decided = runs.iter().find(|run| run.id == held_run).expect("the run");
    assert_eq!(decided.status, RunStatus::Rejected);
    for id in &leaving {
        assert!(console.harness.user(*id).await.expect("a user").active);
    }
    // A decided run has no confirmation page any more.
    let (status, _) = console
        .get(&format!("{report}/decide?to=approve"), Some(&actor))
        .await;
    assert_eq!(status, 409);
}

#[tokio::test]
async fn sync_now_and_a_dry_run_from_the_overview() {
    let console = console().await;
    let mover = console
        .harness
        .fake
        .company()
        .employees
        .iter()
        .find(|person| person.status == "active")
        .map(|person| person.id)
        .expect("someone active");
    console.harness.fake.update(|company| {
        company.employee_mut(mover).expect("the mover").position = "Head of Console Tests".into();
    });
    let title = |user: Option<sync_local::StoredUser>| {
        user.and_then(|user| user.fields.text("title"))
            .unwrap_or_default()
    };
    let overview = format!("/tenants/{}", console.tenant);

    // A view link shows no buttons, and its session cannot sync.
    let viewer = console.session().await;
    let (_, page) = console.get(&overview, Some(&viewer)).await;
    assert!(!page.contains("Sync now"));
    let (status, _, _) = console
        .post(&format!("{overview}/sync"), &viewer, Some("any"))
        .await;
    assert_eq!(status, 403);

    let actor = console.session_with(Access::Act).await;
    let (_, page) = console.get(&overview, Some(&actor)).await;
    assert!(
        page.contains("Sync now") && page.contains("Dry run"),
        "{page}"
    );
    let csrf = form_csrf(&page);
    let (status, _, _) = console
        .post(&format!("{overview}/sync"), &actor, None)
        .await;
    assert_eq!(status, 403);

    // The dry run shows the change and writes nothing.
    let (status, _, plan) = console
        .post(&format!("{overview}/dry-run"), &actor, Some(&csrf))
        .await;
    assert_eq!(status, 200, "{plan}");
    assert!(plan.contains("Dry run: what a sync would do now"));
    assert!(plan.contains("Head of Console Tests"), "{plan}");
    assert_ne!(
        title(console.harness.user(mover).await),
        "Head of Console Tests"
    );

    // Sync now applies it and leads to the run's report.
    let (status, location, _) = console
        .post(&format!("{overview}/sync"), &actor, Some(&csrf))
        .await;
    assert_eq!(status, 303);
    assert!(
        location.starts_with(&format!("{overview}/runs/")),
        "{location}"
    );
    assert_eq!(
        title(console.harness.user(mover).await),
        "Head of Console Tests"
    );
    let (status, report) = console.get(&location, Some(&actor)).await;
    assert_eq!(status, 200);
    assert!(report.contains("<strong>1</strong> updated"), "{report}");
    // Two runs now: the overview draws their trend.
    let (_, page) = console.get(&overview, Some(&actor)).await;
    assert!(page.contains(r#"<svg class="trend""#), "{page}");
}

#[tokio::test]
async fn the_people_page_lists_the_synced_accounts_and_what_runs_did_to_each() {
    let console = console().await;
    let cookie = console.session().await;
    let users = console.harness.users().await;
    let linked: Vec<String> = users
        .iter()
        .filter_map(|user| user.external_id.clone())
        .collect();
    let people = format!("/tenants/{}/people", console.tenant);
    let (status, page) = console.get(&people, Some(&cookie)).await;
    assert_eq!(status, 200, "{page}");
    assert!(
        page.contains(&format!("{n} of {n} people", n = linked.len())),
        "{page}"
    );

    let someone = &linked[0];
    let (_, found) = console
        .get(&format!("{people}?q={someone}"), Some(&cookie))
        .await;
    assert!(
        found.contains(&format!("1 of {} people", linked.len())),
        "{found}"
    );

    let (status, person) = console
        .get(&format!("{people}/{someone}"), Some(&cookie))
        .await;
    assert_eq!(status, 200, "{person}");
    assert!(person.contains("What the last 1 runs did"), "{person}");
    assert!(person.contains("<td>create</td>"), "{person}");

    let (status, _) = console
        .get(&format!("{people}/main:999999"), Some(&cookie))
        .await;
    assert_eq!(status, 404);
    let (status, _) = console
        .get(&format!("{people}/nonsense"), Some(&cookie))
        .await;
    assert_eq!(status, 404);
    let (status, _) = console.get("/tenants/globex/people", Some(&cookie)).await;
    assert_eq!(status, 403);
}
