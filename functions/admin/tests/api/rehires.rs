//! `POST /tenants/{tenant}/rehires` on moto through the real worker: a rehire under a new
//! Personio profile is held, and re-linking it through the API gives it the departed profile's
//! user in the app.

use crate::support::Harness;
use serde_json::{json, Value};

const REHIRES: &str = "/tenants/{tenant}/rehires";

/// Queues a full run and runs it through the worker; the run's record.
async fn sync(h: &Harness, tenant: &str) -> Value {
    let params = [("tenant", tenant)];
    let started = h
        .json("POST", "/tenants/{tenant}/runs", &params, &json!({}))
        .await;
    assert_eq!(started.status, 202, "{}", started.text());
    let run = started.json()["run_id"]
        .as_str()
        .expect("run id")
        .to_owned();
    assert_eq!(h.run_queued_jobs().await, 1);
    h.get(
        "/tenants/{tenant}/runs/{run}",
        &[("tenant", tenant), ("run", &run)],
    )
    .await
    .json()
}

#[tokio::test]
async fn a_held_rehire_is_relinked_through_the_api_and_the_next_run_keeps_the_old_user() {
    let h = Harness::new().await;
    let tenant = h.tenant(8, 71).await;
    let params = tenant.params();
    sync(&h, &tenant.id).await;
    let company = tenant.fake.company();
    let old = company
        .employees
        .iter()
        .find(|e| e.status == "active" && e.termination_date.is_none())
        .expect("an active person")
        .clone();
    tenant.fake.update(|company| {
        company.remove(old.id);
    });
    let left = sync(&h, &tenant.id).await;
    assert_eq!(left["counts"]["deactivated"], 1, "{left}");
    let new = tenant.fake.company().next_id();
    tenant.fake.update(|company| {
        let mut again = old.clone();
        again.id = new;
        company.add_employee(again);
    });
    let held = sync(&h, &tenant.id).await;
    let skips = held["skips"].as_array().expect("skips");
    assert!(
        skips.iter().any(|skip| skip["person"]["id"] == new),
        "{skips:?}"
    );

    let body = |decision: &str| {
        json!({
            "person": {"id": new},
            "previous": {"account": "main", "id": old.id.to_string()},
            "decision": decision,
        })
    };
    // The departed profile must be one with a user.
    let unknown = h
        .json(
            "POST",
            REHIRES,
            &params,
            &json!({"person": {"id": new}, "previous": {"id": 999_999}, "decision": "relink"}),
        )
        .await;
    assert_eq!(unknown.status, 404, "{}", unknown.text());
    assert_eq!(unknown.code(), "previous_not_found");

    let decided = h.json("POST", REHIRES, &params, &body("relink")).await;
    assert_eq!(decided.status, 200, "{}", decided.text());
    let user = decided.json()["user"].as_str().expect("user").to_owned();
    let relinked = sync(&h, &tenant.id).await;
    assert_eq!(relinked["counts"]["adopted"], 1, "{relinked}");
    assert_eq!(relinked["counts"]["created"], 0, "{relinked}");
    let app_user: Value = serde_json::from_slice(
        &std::fs::read(tenant.dir.path().join(format!("app/users/{user}.json"))).expect("the user"),
    )
    .expect("JSON");
    assert_eq!(app_user["externalId"], format!("main:{new}"));
    assert_eq!(app_user["active"], true);

    // Decided and applied: a second decision is refused.
    let again = h.json("POST", REHIRES, &params, &body("create_new")).await;
    assert_eq!(again.status, 409, "{}", again.text());
    assert_eq!(again.code(), "rehire_not_held");
}
