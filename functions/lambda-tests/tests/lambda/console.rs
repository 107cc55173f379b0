//! The admins' console as the console Lambda serves it: its link keys in Secrets Manager, its
//! pages on the DynamoDB state, its actions through the tenant's FIFO queue and the real worker.
//! A held run's summary email (sent through SES by a worker that knows the console) carries a
//! link; opening it, confirming and approving queues the approval, whose run the page shows
//! queued, then done, with the leavers' users inactive. Sync now goes the same way.

use crate::support::stack::Stack;
use crate::support::tenant::{key, Spec, Tenant};
use reqwest::header;
use secrecy::SecretString;
use std::collections::BTreeSet;
use std::sync::Arc;
use sync_aws::console::SecretKeys;
use sync_core::console_site::{ConsoleAddress, KeySource};
use sync_core::history::{RunStatus, Trigger};

/// The stack's console keys, as the template generates them.
const KEYS: &str = r#"{"id": "k1", "key": "Zq3v9XkP2mL7wR4tY8uB1nC6eH0sJ5dF3gA9hK2pQ7xM4zV8"}"#;

/// A console served on 127.0.0.1 over the stack, as the console Lambda builds it.
struct Console {
    url: String,
    address: ConsoleAddress,
    http: reqwest::Client,
}

impl Console {
    async fn start(stack: &Stack) -> Self {
        let name = format!(
            "{}-console-link-keys",
            stack.queue_name.trim_end_matches(".fifo")
        );
        stack
            .deps
            .secrets
            .put_secret(&name, &SecretString::from(KEYS.to_owned()))
            .await
            .expect("store the keys");
        let keys: Arc<dyn KeySource> = Arc::new(SecretKeys::new(stack.deps.secrets.clone(), name));
        let mut deps = console_lambda::console_deps(&stack.deps, keys.clone());
        // Plain http on 127.0.0.1 here; API Gateway serves it over https.
        deps.settings.secure_cookie = false;
        let url = crate::support::serve(sync_console::app(deps)).await;
        let http = sync_core::http::builder(std::time::Duration::from_secs(10))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("an HTTP client");
        Self {
            address: ConsoleAddress {
                url: url.clone(),
                keys,
            },
            url,
            http,
        }
    }

    /// Opens `link`: the session cookie and where it lands.
    async fn open(&self, link: &str) -> (String, String) {
        let answer = self.http.get(link).send().await.expect("open the link");
        assert_eq!(answer.status(), 303, "{link}");
        let cookie = answer.headers()[header::SET_COOKIE]
            .to_str()
            .expect("text")
            .split(';')
            .next()
            .expect("name=value")
            .to_owned();
        let location = answer.headers()[header::LOCATION]
            .to_str()
            .expect("text")
            .to_owned();
        (cookie, location)
    }

    async fn get(&self, path: &str, cookie: &str) -> (u16, String) {
        let answer = self
            .http
            .get(format!("{}{path}", self.url))
            .header(header::COOKIE, cookie)
            .send()
            .await
            .expect("a page");
        (answer.status().as_u16(), answer.text().await.expect("html"))
    }

    /// POSTs the form on `page` (its CSRF token) to `path`; where it leads.
    async fn post(&self, path: &str, cookie: &str, page: &str) -> (u16, String) {
        let start = page.find(r#"name="csrf" value=""#).expect("a form") + 19;
        let csrf = page[start..].split('"').next().expect("a token");
        let answer = self
            .http
            .post(format!("{}{path}", self.url))
            .header(header::COOKIE, cookie)
            .form(&[("csrf", csrf)])
            .send()
            .await
            .expect("an answer");
        let status = answer.status().as_u16();
        let location = answer
            .headers()
            .get(header::LOCATION)
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        (status, location)
    }
}

/// Runs the one queued job through the worker, which links its summary to `console`.
async fn work(stack: &Stack, console: &Console) {
    let messages = stack.receive_exactly(1).await;
    let mut worker = stack.worker();
    worker.console = Some(&console.address);
    let batch = [&messages[0]];
    let response = worker::handle(&worker, stack.sqs_event(&batch), None).await;
    stack.settle(&batch, &response).await;
    assert!(response.batch_item_failures.is_empty(), "{response:?}");
}

/// The console link in the newest summary email to `tenant`'s admins.
async fn emailed_link(stack: &Stack, tenant: &Tenant, console: &Console) -> String {
    let mails = stack.mail_to(&tenant.admins).await;
    let text = mails.last().expect("a summary").text();
    let start = text
        .find(&format!("{}/open?link=", console.url))
        .unwrap_or_else(|| panic!("no console link in {text}"));
    text[start..]
        .split(|c: char| c.is_whitespace() || c == '"' || c == '<' || c == '>')
        .next()
        .expect("a link")
        .replace("&amp;", "&")
}

#[tokio::test]
async fn a_held_runs_email_link_approves_it_through_the_queue_and_the_leavers_lose_access() {
    let stack = Stack::new().await;
    let console = Console::start(&stack).await;
    let spec = Spec {
        extra: "[guard]\nmax_deactivations = 2\n".to_owned(),
        ..Spec::new(16, 81)
    };
    let tenant = Tenant::onboard(&stack, spec).await;
    tenant.enqueue(&stack, Trigger::Schedule, "first").await;
    work(&stack, &console).await;

    // Three people with a user, who supervise nobody, leave Personio: over the guard's limit.
    let company = tenant.fake.company();
    let supervisors: BTreeSet<u64> = company
        .employees
        .iter()
        .filter_map(|e| e.supervisor)
        .collect();
    let synced = tenant.expected_external_ids();
    let leaving: Vec<String> = company
        .employees
        .iter()
        .filter(|e| !supervisors.contains(&e.id) && synced.contains(&key(e.id).external_id()))
        .take(3)
        .map(|e| key(e.id).external_id())
        .collect();
    tenant.fake.update(|company| {
        for id in &leaving {
            let id: u64 = id
                .rsplit(':')
                .next()
                .and_then(|id| id.parse().ok())
                .expect("an id");
            company.remove(id);
        }
    });
    tenant.enqueue(&stack, Trigger::Schedule, "second").await;
    work(&stack, &console).await;
    let held = tenant.runs(&stack).await.remove(0);
    assert_eq!(held.status, RunStatus::Held);

    // The summary's link lands on the held run's report, whose session may act.
    let link = emailed_link(&stack, &tenant, &console).await;
    let (cookie, location) = console.open(&link).await;
    assert_eq!(location, format!("/tenants/{}/runs/{}", tenant.id, held.id));
    let (status, report) = console.get(&location, &cookie).await;
    assert_eq!(status, 200);
    assert!(
        report.contains("Why it was held") && report.contains("Review and approve"),
        "{report}"
    );
    let (status, confirm) = console
        .get(&format!("{location}/decide?to=approve"), &cookie)
        .await;
    assert_eq!(status, 200);

    // Approving queues the run that applies the plan; its page says so until the worker ran it.
    let (status, applying) = console
        .post(&format!("{location}/approve"), &cookie, &confirm)
        .await;
    assert_eq!(status, 303);
    let (status, queued) = console.get(&applying, &cookie).await;
    assert_eq!(status, 200);
    assert!(queued.contains("Waiting in the queue"), "{queued}");
    work(&stack, &console).await;
    let (status, done) = console.get(&applying, &cookie).await;
    assert_eq!(status, 200);
    assert!(done.contains("status-completed"), "{done}");
    let inactive: BTreeSet<String> = tenant
        .users()
        .await
        .into_iter()
        .filter(|user| !user.active)
        .filter_map(|user| user.external_id)
        .collect();
    let leaving: BTreeSet<String> = leaving.into_iter().collect();
    assert!(
        leaving.is_subset(&inactive),
        "{leaving:?} not in {inactive:?}"
    );
    assert_eq!(tenant.runs(&stack).await[1].status, RunStatus::Approved);
}

#[tokio::test]
async fn sync_now_from_the_console_is_queued_then_its_page_shows_the_report() {
    let stack = Stack::new().await;
    let console = Console::start(&stack).await;
    let tenant = Tenant::onboard(&stack, Spec::new(6, 83)).await;
    let site = console.address.site().await.expect("the keys");
    let link = site.link(
        &tenant.id,
        sync_core::links::Access::Act,
        chrono::Utc::now() + chrono::Duration::hours(1),
        None,
    );
    let (cookie, overview) = console.open(&link).await;
    let (_, page) = console.get(&overview, &cookie).await;
    // The stack's scheduler runs the tenant's schedule: the overview says when, in its time.
    assert!(page.contains("Next scheduled run:</strong> 20"), "{page}");
    let (status, run_page) = console
        .post(&format!("{overview}/sync"), &cookie, &page)
        .await;
    assert_eq!(status, 303);
    let (status, queued) = console.get(&run_page, &cookie).await;
    assert_eq!(status, 200);
    assert!(queued.contains("Waiting in the queue"), "{queued}");
    work(&stack, &console).await;
    let (_, report) = console.get(&run_page, &cookie).await;
    assert!(report.contains("status-completed"), "{report}");
    assert!(report.contains("<strong>6</strong> created"), "{report}");

    // One person's next run, read from Personio with the tenant's stored credentials.
    let someone = tenant.fake.company().employees[0].id;
    let (status, next) = console
        .get(
            &format!("{overview}/people/{}/next", key(someone).external_id()),
            &cookie,
        )
        .await;
    assert_eq!(status, 200, "{next}");
    assert!(next.contains("The next run would"), "{next}");

    // A tampered link opens nothing.
    let tampered = link.replacen(".act.", ".view.", 1);
    let answer = console.http.get(&tampered).send().await.expect("an answer");
    assert_eq!(answer.status(), 401);
}
