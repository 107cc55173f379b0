//! The overview, run reports and the people pages, on a state folder real runs wrote.

use crate::support::console;
use reqwest::header;

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
pub(crate) fn escape(text: &str) -> String {
    text.replace('&', "&#38;")
        .replace('<', "&#60;")
        .replace('>', "&#62;")
        .replace('"', "&#34;")
        .replace('\'', "&#39;")
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

#[tokio::test]
async fn a_persons_page_asks_personio_what_the_next_run_would_do_for_them() {
    let console = console().await;
    let cookie = console.session().await;
    let company = console.harness.fake.company();
    let mut active = company
        .employees
        .iter()
        .filter(|person| person.status == "active" && person.termination_date.is_none());
    let mover = active.next().expect("someone active").id;
    let leaver = active.next().expect("someone else").id;
    let steady = active.next().expect("a third").id;
    console.harness.fake.update(|company| {
        company.employee_mut(mover).expect("the mover").position = "Chief Tester".into();
        company.remove(leaver);
    });
    let next = |id: u64| format!("/tenants/{}/people/main:{id}/next", console.tenant);

    let (status, person) = console
        .get(
            &format!("/tenants/{}/people/main:{mover}", console.tenant),
            Some(&cookie),
        )
        .await;
    assert_eq!(status, 200);
    assert!(person.contains(&next(mover)), "{person}");
    let (status, page) = console.get(&next(mover), Some(&cookie)).await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("update their user in the app"), "{page}");
    assert!(page.contains("<dt>In scope</dt><dd>yes</dd>"), "{page}");
    let (_, page) = console.get(&next(leaver), Some(&cookie)).await;
    assert!(page.contains("deactivate their user"), "{page}");
    let (_, page) = console.get(&next(steady), Some(&cookie)).await;
    assert!(page.contains("change nothing"), "{page}");
    // Looking changed nothing: the mover's user still has the old title.
    let user = console.harness.user(mover).await.expect("the mover's user");
    assert_ne!(user.fields.text("title").as_deref(), Some("Chief Tester"));
    let (status, _) = console
        .get(
            &format!("/tenants/{}/people/main:999999/next", console.tenant),
            Some(&cookie),
        )
        .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn the_history_lists_every_run_page_by_page() {
    let console = console().await;
    console.harness.run().await;
    console.harness.run().await;
    let cookie = console.session().await;
    let overview = format!("/tenants/{}", console.tenant);
    let (_, page) = console.get(&overview, Some(&cookie)).await;
    assert!(page.contains(&format!("{overview}/runs\"")), "{page}");
    // On one machine no scheduler runs: the overview says how runs happen instead.
    assert!(page.contains("Runs happen when"), "{page}");
    let (status, history) = console
        .get(&format!("{overview}/runs"), Some(&cookie))
        .await;
    assert_eq!(status, 200, "{history}");
    assert_eq!(
        history.matches(&format!("{overview}/runs/")).count(),
        3,
        "{history}"
    );
    assert!(!history.contains("Older →"));
    let (status, beyond) = console
        .get(&format!("{overview}/runs?page=2"), Some(&cookie))
        .await;
    assert_eq!(status, 200);
    assert!(beyond.contains("No runs on this page"), "{beyond}");
}

#[tokio::test]
async fn a_report_lists_the_people_the_run_left_alone_and_warnings_csv_has_them_all() {
    let console = console().await;
    // A hire three months ahead: too early for an account (the default creates 7 days ahead).
    let today = chrono::Utc::now().date_naive();
    let mut hire = 0;
    console.harness.fake.update(|company| {
        hire = company.new_hire("Future", "Starter", today + chrono::Duration::days(90));
    });
    let outcome = console.harness.run().await;
    assert!(
        outcome.record.counts.skipped >= 1,
        "{:?}",
        outcome.record.counts
    );
    let cookie = console.session().await;
    let report = format!("/tenants/{}/runs/{}", console.tenant, outcome.record.id);
    let (status, page) = console.get(&report, Some(&cookie)).await;
    assert_eq!(status, 200);
    assert!(page.contains("Warnings: people left alone"), "{page}");
    assert!(page.contains("Future Starter"), "{page}");
    let (status, csv) = console
        .get(&format!("{report}/warnings.csv"), Some(&cookie))
        .await;
    assert_eq!(status, 200);
    assert!(
        csv.starts_with("personio_account,personio_id,name,reason\n"),
        "{csv}"
    );
    assert!(
        csv.lines()
            .any(|line| line.starts_with(&format!("main,{hire},Future Starter,"))),
        "{csv}"
    );
    assert_eq!(csv.lines().count() - 1, outcome.record.counts.skipped);
}
