//! Runs: sync now through the queue and the real worker, history pages, errors.csv, held runs
//! approved and rejected, and run ids that belong to another tenant.

use crate::support::{Fixture, Harness};
use serde_json::{json, Value};
use std::collections::BTreeSet;

const RUNS: &str = "/tenants/{tenant}/runs";
const RUN: &str = "/tenants/{tenant}/runs/{run}";
const APPROVE: &str = "/tenants/{tenant}/runs/{run}/approve";
const REJECT: &str = "/tenants/{tenant}/runs/{run}/reject";

/// Queues a run through the API and returns its id.
pub(crate) async fn sync_now(h: &Harness, tenant: &Fixture, body: Value) -> String {
    let answer = h.json("POST", RUNS, &tenant.params(), &body).await;
    assert_eq!(answer.status, 202, "{}", answer.text());
    let run_id = answer.json()["run_id"].as_str().expect("run id").to_owned();
    assert_eq!(
        answer.header("location"),
        Some(format!("/tenants/{}/runs/{run_id}", tenant.id))
    );
    run_id
}

pub(crate) async fn run(h: &Harness, tenant: &Fixture, run_id: &str) -> Value {
    let answer = h.get(RUN, &[("tenant", &tenant.id), ("run", run_id)]).await;
    assert_eq!(answer.status, 200, "{}", answer.text());
    answer.json()
}

/// Ids of people of the fake who have an active user after a first run and supervise nobody.
fn leavers(tenant: &Fixture, count: usize) -> Vec<u64> {
    let company = tenant.fake.company();
    let supervisors: BTreeSet<u64> = company
        .employees
        .iter()
        .filter_map(|e| e.supervisor)
        .collect();
    let today = chrono::Utc::now().date_naive();
    let ids: Vec<u64> = company
        .employees
        .iter()
        .filter(|e| !supervisors.contains(&e.id))
        .filter(|e| e.status == "active" && e.termination_date.is_none() && e.hire_date < today)
        .map(|e| e.id)
        .take(count)
        .collect();
    assert_eq!(ids.len(), count, "the company has too few plain employees");
    ids
}

#[tokio::test]
async fn sync_now_is_queued_then_run_by_the_worker_with_the_id_it_was_given() {
    let h = Harness::new().await;
    let tenant = h.tenant(8, 31).await;
    let run_id = sync_now(&h, &tenant, json!(null)).await;
    assert_eq!(
        run(&h, &tenant, &run_id).await,
        json!({"id": run_id, "status": "queued"})
    );

    assert_eq!(h.run_queued_jobs().await, 1);
    let done = run(&h, &tenant, &run_id).await;
    assert_eq!(done["status"], "completed");
    assert_eq!(done["trigger"], json!({"kind": "manual"}));
    assert_eq!(done["fetched"], 8);
    assert!(
        done["counts"]["created"].as_u64().unwrap_or(0) > 0,
        "{done}"
    );

    // A one-person dry run, by id as text.
    let person = tenant.fake.company().employees[0].id;
    let one = sync_now(
        &h,
        &tenant,
        json!({"dry_run": true, "person": {"id": person.to_string()}}),
    )
    .await;
    assert_eq!(h.run_queued_jobs().await, 1);
    let one = run(&h, &tenant, &one).await;
    assert_eq!(
        (one["status"].as_str(), one["fetched"].as_u64()),
        (Some("dry_run"), Some(1))
    );

    let bad_person = h
        .json(
            "POST",
            RUNS,
            &tenant.params(),
            &json!({"person": {"id": "abc"}}),
        )
        .await;
    assert_eq!(bad_person.status, 422);
    let unknown_account = h
        .json(
            "POST",
            RUNS,
            &tenant.params(),
            &json!({"person": {"account": "at", "id": 1}}),
        )
        .await;
    assert_eq!(unknown_account.status, 422);
    let never = h
        .get(
            RUN,
            &[("tenant", &tenant.id), ("run", "20200101T000000Z-abcdef")],
        )
        .await;
    assert_eq!(
        (never.status, never.code().as_str()),
        (404, "run_not_found")
    );
}

#[tokio::test]
async fn history_pages_newest_first_with_a_cursor_that_never_skips_or_repeats() {
    let h = Harness::new().await;
    let tenant = h.tenant(3, 32).await;
    let mut ids = Vec::new();
    for _ in 0..3 {
        ids.push(sync_now(&h, &tenant, json!({"dry_run": true})).await);
        assert_eq!(h.run_queued_jobs().await, 1);
    }
    // Run ids sort by start time (to the second), then by their random suffix.
    ids.sort();
    ids.reverse();

    let first = h.get_query(RUNS, &tenant.params(), "limit=2").await.json();
    let page: Vec<&str> = first["runs"]
        .as_array()
        .expect("runs")
        .iter()
        .filter_map(|run| run["id"].as_str())
        .collect();
    assert_eq!(
        page,
        ids[..2].iter().map(String::as_str).collect::<Vec<_>>()
    );
    assert!(first["runs"][0].get("changes").is_none(), "summaries only");
    let next = first["next"].as_str().expect("a next cursor");
    assert_eq!(next, ids[1]);

    let second = h
        .get_query(RUNS, &tenant.params(), &format!("limit=2&before={next}"))
        .await
        .json();
    assert_eq!(second["runs"].as_array().map(Vec::len), Some(1));
    assert_eq!(second["runs"][0]["id"], ids[2].as_str());
    assert_eq!(second["next"], Value::Null);
}

#[tokio::test]
async fn errors_csv_is_the_email_attachment_of_the_run() {
    let h = Harness::new().await;
    let tenant = h.tenant(5, 33).await;
    // One person has no email in Personio: a required field, so an error row.
    let broken = tenant.fake.company().employees[0].id;
    tenant.fake.update(|company| {
        if let Some(person) = company.employees.iter_mut().find(|e| e.id == broken) {
            person.email = String::new();
        }
    });
    let run_id = sync_now(&h, &tenant, json!({})).await;
    h.run_queued_jobs().await;
    let answer = h
        .get(
            "/tenants/{tenant}/runs/{run}/errors.csv",
            &[("tenant", &tenant.id), ("run", &run_id)],
        )
        .await;
    assert_eq!(answer.status, 200);
    assert!(answer
        .header("content-type")
        .is_some_and(|t| t.starts_with("text/csv")));
    let csv = answer.text();
    let mut lines = csv.lines();
    assert_eq!(
        lines.next(),
        Some("personio_account,personio_id,name,action,error,how_to_fix")
    );
    // The person has only an error (no change names them), and the row still names them, as
    // the email's attachment did.
    let row = csv
        .lines()
        .find(|line| line.starts_with(&format!("main,{broken},")))
        .unwrap_or_else(|| panic!("no row for {broken}: {csv}"));
    let name = row.split(',').nth(2).unwrap_or_default();
    let person = tenant
        .fake
        .company()
        .employees
        .into_iter()
        .find(|e| e.id == broken)
        .expect("the person");
    assert!(
        !name.is_empty() && name.contains(&person.last_name),
        "{row}"
    );
    let stored = h.stored_runs(&tenant.id).await;
    assert_eq!(
        csv.lines().count() - 1,
        stored[0].counts.errors,
        "one row per error"
    );
}

#[tokio::test]
async fn a_held_run_is_approved_through_the_queue_and_only_a_held_run_can_be_approved() {
    let h = Harness::new().await;
    let tenant = h.tenant(12, 34).await;
    let other = h.tenant(2, 35).await;
    let mut config = tenant.config.clone();
    config["guard"] = json!({"max_deactivations": 1});
    let replaced = h
        .put_matching("/tenants/{tenant}", &tenant.params(), &config, "\"1\"")
        .await;
    assert_eq!(replaced.status, 200);

    let first = sync_now(&h, &tenant, json!({})).await;
    h.run_queued_jobs().await;
    assert_eq!(run(&h, &tenant, &first).await["status"], "completed");
    let not_held = h
        .json(
            "POST",
            APPROVE,
            &[("tenant", &tenant.id), ("run", &first)],
            &json!(null),
        )
        .await;
    assert_eq!(
        (not_held.status, not_held.code().as_str()),
        (409, "run_not_held")
    );

    let leaving = leavers(&tenant, 3);
    tenant.fake.update(|company| {
        for id in &leaving {
            company.remove(*id);
        }
    });
    let second = sync_now(&h, &tenant, json!({})).await;
    h.run_queued_jobs().await;
    let held = run(&h, &tenant, &second).await;
    assert_eq!(held["status"], "held", "{held}");

    // Another tenant's id with this run: not found, whatever the verb.
    let other_params = [("tenant", other.id.as_str()), ("run", second.as_str())];
    assert_eq!(h.get(RUN, &other_params).await.status, 404);
    let foreign = h.json("POST", APPROVE, &other_params, &json!(null)).await;
    assert_eq!(
        (foreign.status, foreign.code().as_str()),
        (404, "run_not_found")
    );

    // While it is held, only dry runs may be queued.
    let blocked = h.json("POST", RUNS, &tenant.params(), &json!({})).await;
    assert_eq!((blocked.status, blocked.code().as_str()), (409, "run_held"));

    let approved = h
        .json(
            "POST",
            APPROVE,
            &[("tenant", &tenant.id), ("run", &second)],
            &json!(null),
        )
        .await;
    assert_eq!(approved.status, 202, "{}", approved.text());
    let body = approved.json();
    assert_eq!(body["approved"], second.as_str());
    assert_eq!(body["status"], "queued");
    let applying = body["run_id"].as_str().unwrap().to_owned();
    assert_eq!(
        approved.header("location").as_deref(),
        Some(format!("/tenants/{}/runs/{applying}", tenant.id).as_str())
    );
    assert_eq!(run(&h, &tenant, &applying).await["status"], "queued");
    // Claimed but not applied yet: still held, so nothing else may write.
    let blocked = h.json("POST", RUNS, &tenant.params(), &json!({})).await;
    assert_eq!((blocked.status, blocked.code().as_str()), (409, "run_held"));

    assert_eq!(h.run_queued_jobs().await, 1);
    let applied = run(&h, &tenant, &applying).await;
    assert_eq!(applied["status"], "completed", "{applied}");
    assert_eq!(applied["trigger"]["kind"], "approval");
    assert_eq!(applied["counts"]["deactivated"], leaving.len());
    assert_eq!(run(&h, &tenant, &second).await["status"], "approved");

    let twice = h
        .json(
            "POST",
            APPROVE,
            &[("tenant", &tenant.id), ("run", &second)],
            &json!(null),
        )
        .await;
    assert_eq!((twice.status, twice.code().as_str()), (409, "run_not_held"));
}

/// A tenant whose second run is held (three leavers over a guard of one).
async fn held_tenant(h: &Harness, seed: u64) -> (Fixture, String) {
    let tenant = h.tenant(12, seed).await;
    let mut config = tenant.config.clone();
    config["guard"] = json!({"max_deactivations": 1});
    h.put_matching("/tenants/{tenant}", &tenant.params(), &config, "\"1\"")
        .await;
    sync_now(h, &tenant, json!({})).await;
    h.run_queued_jobs().await;
    let leaving = leavers(&tenant, 3);
    tenant.fake.update(|company| {
        for id in &leaving {
            company.remove(*id);
        }
    });
    let held = sync_now(h, &tenant, json!({})).await;
    h.run_queued_jobs().await;
    assert_eq!(run(h, &tenant, &held).await["status"], "held");
    (tenant, held)
}

#[tokio::test]
async fn of_concurrent_approvals_and_a_rejection_exactly_one_goes_on_and_it_applies_once() {
    let h = Harness::new().await;
    let (tenant, held) = held_tenant(&h, 40).await;
    let params = [("tenant", tenant.id.as_str()), ("run", held.as_str())];
    let (a, b, c, d) = tokio::join!(
        h.json("POST", APPROVE, &params, &json!(null)),
        h.json("POST", APPROVE, &params, &json!(null)),
        h.json("POST", REJECT, &params, &json!(null)),
        h.json("POST", APPROVE, &params, &json!(null)),
    );
    let answers = [&a, &b, &c, &d];
    let won: Vec<_> = answers
        .iter()
        .filter(|answer| answer.status == 200 || answer.status == 202)
        .collect();
    assert_eq!(won.len(), 1, "{:?}", answers.map(|a| a.text()));
    for lost in answers
        .iter()
        .filter(|a| a.status != 200 && a.status != 202)
    {
        assert_eq!((lost.status, lost.code().as_str()), (409, "run_not_held"));
    }
    h.run_queued_jobs().await;
    let runs = h.get(RUNS, &tenant.params()).await.json()["runs"]
        .as_array()
        .unwrap()
        .clone();
    let approvals = runs
        .iter()
        .filter(|run| run["trigger"]["kind"] == "approval")
        .count();
    let status = run(&h, &tenant, &held).await["status"].clone();
    if c.status == 200 {
        assert_eq!(status, "rejected");
        assert_eq!(approvals, 0);
    } else {
        assert_eq!(status, "approved");
        assert_eq!(approvals, 1, "applied once");
    }
}

#[tokio::test]
async fn a_disabled_tenant_cannot_approve_and_an_approval_dropped_by_disabling_can_be_made_again() {
    let h = Harness::new().await;
    let (tenant, held) = held_tenant(&h, 41).await;
    let params = [("tenant", tenant.id.as_str()), ("run", held.as_str())];
    let approved = h.json("POST", APPROVE, &params, &json!(null)).await;
    assert_eq!(approved.status, 202, "{}", approved.text());
    // Disabled before the worker got to it: the job is dropped and its claim given back.
    let disable = h
        .json(
            "POST",
            "/tenants/{tenant}/disable",
            &tenant.params(),
            &json!(null),
        )
        .await;
    assert_eq!(disable.status, 200);
    h.run_queued_jobs().await;
    assert_eq!(run(&h, &tenant, &held).await["status"], "held");
    let refused = h.json("POST", APPROVE, &params, &json!(null)).await;
    assert_eq!(
        (refused.status, refused.code().as_str()),
        (409, "tenant_disabled")
    );

    let enable = h
        .json(
            "POST",
            "/tenants/{tenant}/enable",
            &tenant.params(),
            &json!(null),
        )
        .await;
    assert_eq!(enable.status, 200);
    let again = h.json("POST", APPROVE, &params, &json!(null)).await;
    assert_eq!(again.status, 202, "{}", again.text());
    h.run_queued_jobs().await;
    assert_eq!(run(&h, &tenant, &held).await["status"], "approved");
}

#[tokio::test]
async fn a_rejected_run_writes_nothing_and_frees_the_tenant() {
    let h = Harness::new().await;
    let tenant = h.tenant(12, 36).await;
    let mut config = tenant.config.clone();
    config["guard"] = json!({"max_deactivations": 1});
    h.put_matching("/tenants/{tenant}", &tenant.params(), &config, "\"1\"")
        .await;
    sync_now(&h, &tenant, json!({})).await;
    h.run_queued_jobs().await;
    let app = tenant.dir.path().join("app");
    let leaving = leavers(&tenant, 3);
    tenant.fake.update(|company| {
        for id in &leaving {
            company.remove(*id);
        }
    });
    let held = sync_now(&h, &tenant, json!({})).await;
    h.run_queued_jobs().await;
    let before = snapshot_of(&app);
    let answer = h
        .json(
            "POST",
            REJECT,
            &[("tenant", &tenant.id), ("run", &held)],
            &json!(null),
        )
        .await;
    assert_eq!(answer.status, 200, "{}", answer.text());
    assert_eq!(answer.json()["run"]["status"], "rejected");
    assert_eq!(snapshot_of(&app), before, "nothing written to the app");
    let again = h
        .json(
            "POST",
            REJECT,
            &[("tenant", &tenant.id), ("run", &held)],
            &json!(null),
        )
        .await;
    assert_eq!(again.status, 409);
    // The tenant may sync again.
    sync_now(&h, &tenant, json!({"dry_run": true})).await;
}

/// Every file of the app directory with its content.
fn snapshot_of(dir: &std::path::Path) -> Vec<(String, Vec<u8>)> {
    let mut files = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(path) = stack.pop() {
        for entry in std::fs::read_dir(&path).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let content = std::fs::read(&path).unwrap_or_default();
                files.push((path.display().to_string(), content));
            }
        }
    }
    files.sort();
    files
}

#[tokio::test]
async fn a_running_run_answers_with_its_live_progress() {
    use sync_core::ids::{RunId, TenantId};
    use sync_core::ports::Store;
    use sync_core::progress::{Phase, ProgressLog, RunProgress};

    let h = Harness::new().await;
    let tenant = h.tenant(4, 33).await;
    let first = sync_now(&h, &tenant, json!(null)).await;
    assert_eq!(h.run_queued_jobs().await, 1);
    // A run the worker has started and not finished, as it keeps them in DynamoDB: a `running`
    // record and its progress item.
    let id = TenantId::parse(&tenant.id).expect("tenant id");
    let mut running = h
        .aws
        .store
        .run(&id, &RunId::parse(&first).expect("run id"))
        .await
        .expect("read")
        .expect("the first run");
    running.id = RunId::new(chrono::Utc::now());
    running.status = sync_core::history::RunStatus::Running;
    running.finished_at = None;
    h.aws.store.save_run(&id, &running).await.expect("save");
    let progress = RunProgress {
        run: running.id.clone(),
        phase: Phase::Apply,
        done: 3,
        total: 10,
        updated_at: chrono::Utc::now(),
    };
    h.aws
        .store
        .save_progress(&id, &progress)
        .await
        .expect("save progress");

    let answer = run(&h, &tenant, running.id.as_str()).await;
    assert_eq!(answer["status"], "running");
    assert_eq!(answer["progress"]["phase"], "apply");
    assert_eq!(
        (
            answer["progress"]["done"].as_u64(),
            answer["progress"]["total"].as_u64()
        ),
        (Some(3), Some(10))
    );
    // A finished run has no progress.
    assert!(run(&h, &tenant, &first).await.get("progress").is_none());
}

#[tokio::test]
async fn a_console_link_is_minted_for_the_tenant_and_opens_what_it_says() {
    use crate::support::{console_keys, CONSOLE_URL};
    const LINKS: &str = "/tenants/{tenant}/console-links";

    let h = Harness::new().await;
    let tenant = h.tenant(3, 35).await;
    let first = sync_now(&h, &tenant, json!(null)).await;
    assert_eq!(h.run_queued_jobs().await, 1);

    let answer = h
        .json(
            "POST",
            LINKS,
            &tenant.params(),
            &json!({"access": "act", "days": 2, "run": first}),
        )
        .await;
    assert_eq!(answer.status, 201, "{}", answer.text());
    let body = answer.json();
    let url = body["url"].as_str().expect("a url");
    assert!(
        url.starts_with(&format!("{CONSOLE_URL}/open?link=")),
        "{url}"
    );
    assert!(
        url.ends_with(&format!("&to=/tenants/{}/runs/{first}", tenant.id)),
        "{url}"
    );
    let token = url
        .split("link=")
        .nth(1)
        .and_then(|rest| rest.split('&').next())
        .expect("a token");
    let grant = console_keys()
        .open_link(token, chrono::Utc::now())
        .expect("the console opens it");
    assert_eq!(grant.tenant.as_str(), tenant.id);
    assert!(grant.access.may_act());
    let days = (grant.expires - chrono::Utc::now()).num_hours();
    assert!((47..=48).contains(&days), "{days} hours");

    // A view link by default, for 7 days.
    let answer = h.json("POST", LINKS, &tenant.params(), &json!({})).await;
    assert_eq!(answer.status, 201);
    assert_eq!(answer.json()["access"], "view");

    for bad in [
        json!({"access": "admin"}),
        json!({"days": 0}),
        json!({"days": 31}),
        json!({"run": "20200101T000000Z-abcdef"}),
    ] {
        let answer = h.json("POST", LINKS, &tenant.params(), &bad).await;
        assert_eq!(answer.status, 422, "{bad}: {}", answer.text());
    }
    let unknown = h
        .json("POST", LINKS, &[("tenant", "nobody")], &json!({}))
        .await;
    assert_eq!(unknown.status, 404);
}
