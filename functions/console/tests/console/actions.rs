//! Approve, reject, sync now and dry run from the pages: POST forms with the session's CSRF
//! token, and only for a session opened from an `act` link.

use crate::support::{console, held};
use sync_core::history::RunStatus;
use sync_core::links::Access;

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
    // Personio returned nobody for the leavers: their names come from what the sync last wrote.
    for id in &leaving {
        let user = console.harness.user(*id).await.expect("a user");
        let family = user.fields.text("family_name").expect("a family name");
        assert!(
            page.contains(&crate::pages::escape(&family)),
            "{family} unnamed: {page}"
        );
    }

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

    // The dry run leads to its plan, which shows the change, and writes nothing.
    let (status, location, _) = console
        .post(&format!("{overview}/dry-run"), &actor, Some(&csrf))
        .await;
    assert_eq!(status, 303);
    let (status, plan) = console.get(&location, Some(&actor)).await;
    assert_eq!(status, 200, "{plan}");
    assert!(plan.contains("what a sync would have done"), "{plan}");
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
    // Runs to draw now: the overview draws their trend.
    let (_, page) = console.get(&overview, Some(&actor)).await;
    assert!(page.contains(r#"<svg class="trend""#), "{page}");
}

#[tokio::test]
async fn the_operator_can_switch_the_consoles_actions_off_for_a_tenant() {
    use sync_console::COOKIE;
    use sync_core::links::Grant;
    use sync_core::ports::Store;

    let harness = test_support::harness::Harness::with(
        "[console]\nactions = false\n",
        test_support::personio::company(30),
    )
    .await;
    harness.run().await;
    let console = crate::support::serve(harness).await;
    let overview = format!("/tenants/{}", console.tenant);
    let actor = console.session_with(Access::Act).await;
    let (status, page) = console.get(&overview, Some(&actor)).await;
    assert_eq!(status, 200);
    assert!(!page.contains("Sync now"), "{page}");

    // Even a well-formed form from an `act` session changes nothing.
    let grant = Grant {
        tenant: console.tenant.clone(),
        access: Access::Act,
        expires: chrono::Utc::now() + chrono::Duration::hours(1),
    };
    let cookie = format!("{COOKIE}={}", console.keys.session(&grant, "known"));
    let runs = console
        .harness
        .store
        .runs(&console.tenant, 10)
        .await
        .expect("runs");
    let (status, _, page) = console
        .post(&format!("{overview}/sync"), &cookie, Some("known"))
        .await;
    assert_eq!(status, 403, "{page}");
    assert!(page.contains("switched off"), "{page}");
    let after = console
        .harness
        .store
        .runs(&console.tenant, 10)
        .await
        .expect("runs");
    assert_eq!(after.len(), runs.len(), "no run was started");
}

#[tokio::test]
async fn a_run_that_wrote_is_undone_from_its_page_after_a_dry_run() {
    let console = console().await;
    let harness = &console.harness;
    let person = test_support::personio::first_with_status(&harness.fake.company(), "active");
    let title = || async move {
        harness
            .user(person)
            .await
            .expect("a user")
            .fields
            .text("title")
    };
    let before = title().await;
    harness.fake.update(|company| {
        company.employee_mut(person).expect("person").position = "Chief Tinkerer".into();
    });
    let changed = harness.run().await;
    assert_eq!(changed.record.counts.updated, 1);
    let report = format!("/tenants/{}/runs/{}", console.tenant, changed.record.id);

    // A view session sees no undo.
    let view = console.session().await;
    let (_, page) = console.get(&report, Some(&view)).await;
    assert!(!page.contains("Undo this run"), "{page}");

    let cookie = console.session_with(Access::Act).await;
    let (_, page) = console.get(&report, Some(&cookie)).await;
    assert!(page.contains("Undo this run"), "{page}");
    let (status, confirm) = console.get(&format!("{report}/undo"), Some(&cookie)).await;
    assert_eq!(status, 200, "{confirm}");
    let csrf = form_csrf(&confirm);

    let (status, location, _) = console
        .post_with(
            &format!("{report}/undo"),
            &cookie,
            Some(&csrf),
            &[("dry_run", "true")],
        )
        .await;
    assert_eq!(status, 303);
    let (_, dry) = console.get(&location, Some(&cookie)).await;
    assert!(dry.contains("Nothing was written"), "{dry}");
    assert_eq!(title().await, Some("Chief Tinkerer".to_owned()));

    let (status, location, _) = console
        .post(&format!("{report}/undo"), &cookie, Some(&csrf))
        .await;
    assert_eq!(status, 303);
    let (_, undone) = console.get(&location, Some(&cookie)).await;
    assert!(
        undone.contains(&format!("Undo of {}", changed.record.id)),
        "{undone}"
    );
    assert_eq!(title().await, before, "the title is back");
}
