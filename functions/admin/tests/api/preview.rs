//! Preview: who is in scope and why, and what the next run would do — before and after a run.

use crate::support::Harness;
use serde_json::{json, Value};
use test_support::logs;

const PREVIEW: &str = "/tenants/{tenant}/preview";

fn total(counts: &Value) -> u64 {
    counts
        .as_object()
        .map(|counts| counts.values().filter_map(Value::as_u64).sum())
        .unwrap_or(0)
}

#[tokio::test]
async fn the_preview_says_per_person_what_the_next_run_would_do_and_pages() {
    let h = Harness::new().await;
    let tenant = h.tenant(9, 41).await;
    let first = h.get(PREVIEW, &tenant.params()).await;
    assert_eq!(first.status, 200, "{}", first.text());
    let body = first.json();
    assert_eq!(body["fetched"], 9);
    assert_eq!(total(&body["counts"]), body["total"].as_u64().unwrap_or(0));
    let people = body["people"].as_array().expect("people");
    assert_eq!(people.len() as u64, body["total"].as_u64().unwrap_or(0));
    assert!(body["counts"]["create"].as_u64().unwrap_or(0) > 0, "{body}");
    let fields = body["fields"].as_array().expect("where the fields go");
    assert!(
        fields.contains(&json!({"field": "given_name", "place": "fields.given_name",
                                "why": "kept as it is in the user's file"})),
        "{body}"
    );
    assert_eq!(body["fields_error"], Value::Null);
    for person in people {
        if person["would"] == "create" {
            assert_eq!(person["in_scope"], true, "{person}");
        }
        assert!(!person["reason"].as_str().unwrap_or_default().is_empty());
    }
    let keys: Vec<u64> = people
        .iter()
        .filter_map(|p| p["person"]["id"].as_u64())
        .collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted, "ordered by person");

    let page = h
        .get_query(PREVIEW, &tenant.params(), "limit=4&offset=4")
        .await
        .json();
    assert_eq!(page["people"].as_array().map(Vec::len), Some(4));
    assert_eq!(page["people"][0], people[4]);
    assert_eq!(page["next_offset"], 8);
    let creates = h
        .get_query(PREVIEW, &tenant.params(), "would=create")
        .await
        .json();
    assert_eq!(creates["total"], body["counts"]["create"]);

    // After a run, the app is up to date: the next run would create nobody.
    h.json(
        "POST",
        "/tenants/{tenant}/runs",
        &tenant.params(),
        &json!({}),
    )
    .await;
    h.run_queued_jobs().await;
    let after = h.get(PREVIEW, &tenant.params()).await.json();
    assert_eq!(after["counts"].get("create"), None, "{after}");
    let count = |body: &Value, would: &str| body["counts"][would].as_u64().unwrap_or(0);
    assert_eq!(
        count(&after, "nothing"),
        count(&body, "nothing") + count(&body, "create")
    );
    assert_eq!(h.bodies_containing(&tenant.fake_config.client_secret), 0);
    logs::assert_free_of(&[&tenant.fake_config.client_secret]);
}

#[tokio::test]
async fn a_preview_needs_credentials_and_valid_parameters() {
    let h = Harness::new().await;
    let tenant = h.tenant_without_credentials(2, 42).await;
    let answer = h.get(PREVIEW, &tenant.params()).await;
    assert_eq!(
        (answer.status, answer.code().as_str()),
        (409, "credentials_missing")
    );
    let bad = h.get_query(PREVIEW, &tenant.params(), "would=remove").await;
    assert_eq!(bad.status, 400);
    let too_many = h.get_query(PREVIEW, &tenant.params(), "limit=100000").await;
    assert_eq!(too_many.status, 400);
}
