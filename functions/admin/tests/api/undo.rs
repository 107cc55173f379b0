//! `POST /tenants/{tenant}/runs/{run}/undo` on moto through the real worker.

use crate::runs::{run, sync_now};
use crate::support::Harness;
use serde_json::{json, Value};

const UNDO: &str = "/tenants/{tenant}/runs/{run}/undo";

/// An undo through the API on moto: the journal is kept in DynamoDB, the worker runs the undo
/// (a dry run first), and the app's user gets its title back.
#[tokio::test]
async fn a_run_is_undone_through_the_queue_with_a_dry_run_first() {
    let h = Harness::new().await;
    let tenant = h.tenant(6, 91).await;
    sync_now(&h, &tenant, json!({})).await;
    assert_eq!(h.run_queued_jobs().await, 1);
    let person = test_support::personio::first_with_status(&tenant.fake.company(), "active");
    let title = || -> Value {
        let dir = tenant.dir.path().join("app/users");
        let user: Value = std::fs::read_dir(&dir)
            .expect("users")
            .filter_map(Result::ok)
            .map(|entry| {
                serde_json::from_slice(&std::fs::read(entry.path()).expect("read")).expect("JSON")
            })
            .find(|user: &Value| user["externalId"] == format!("main:{person}"))
            .expect("the person's user");
        user["fields"]["title"].clone()
    };
    let before = title();
    tenant.fake.update(|company| {
        company.employee_mut(person).expect("person").position = "Chief Tinkerer".into();
    });
    let changed = sync_now(&h, &tenant, json!({})).await;
    assert_eq!(h.run_queued_jobs().await, 1);
    assert_eq!(title(), json!("Chief Tinkerer"));
    let at = |run: &str| [("tenant", tenant.id.clone()), ("run", run.to_owned())];
    let params =
        |pairs: &[(&'static str, String); 2]| -> Vec<(&'static str, String)> { pairs.to_vec() };

    // The dry run shows it and changes nothing.
    let p = params(&at(&changed));
    let p: Vec<(&str, &str)> = p.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let dry = h.json("POST", UNDO, &p, &json!({"dry_run": true})).await;
    assert_eq!(dry.status, 202, "{}", dry.text());
    assert_eq!(dry.json()["undoes"], json!(changed));
    let dry_id = dry.json()["run_id"].as_str().expect("id").to_owned();
    assert_eq!(h.run_queued_jobs().await, 1);
    let dry_run = run(&h, &tenant, &dry_id).await;
    assert_eq!(dry_run["status"], "dry_run", "{dry_run}");
    assert_eq!(dry_run["trigger"]["kind"], "undo");
    assert_eq!(title(), json!("Chief Tinkerer"));

    let done = h.json("POST", UNDO, &p, &json!({})).await;
    assert_eq!(done.status, 202, "{}", done.text());
    let done_id = done.json()["run_id"].as_str().expect("id").to_owned();
    assert_eq!(h.run_queued_jobs().await, 1);
    let undone = run(&h, &tenant, &done_id).await;
    assert_eq!(undone["status"], "completed", "{undone}");
    assert_eq!(title(), before, "the title is back");

    // A run that changed nothing, and one that does not exist, cannot be undone.
    tenant.fake.update(|company| {
        company.employee_mut(person).expect("person").position = "Chief Tinkerer".into();
    });
    sync_now(&h, &tenant, json!({})).await;
    assert_eq!(h.run_queued_jobs().await, 1);
    let quiet = sync_now(&h, &tenant, json!({})).await;
    assert_eq!(h.run_queued_jobs().await, 1);
    let q = [("tenant", tenant.id.as_str()), ("run", quiet.as_str())];
    let nothing = h.json("POST", UNDO, &q, &json!({})).await;
    assert_eq!(nothing.status, 409, "{}", nothing.text());
    assert_eq!(nothing.code(), "nothing_to_undo");
    let unknown = h
        .json(
            "POST",
            UNDO,
            &[
                ("tenant", tenant.id.as_str()),
                ("run", "20200101T000000Z-000000"),
            ],
            &json!({}),
        )
        .await;
    assert_eq!(unknown.status, 404, "{}", unknown.text());
}
