//! Mapping and scope: checked against what Personio really returns for the tenant's credential,
//! every problem listed at once, nothing saved on a problem, warnings saved and reported.

use crate::support::Harness;
use serde_json::json;

const MAPPING: &str = "/tenants/{tenant}/mapping";
const SCOPE: &str = "/tenants/{tenant}/scope";
/// A custom list attribute of the fake's companies ("Shirt size", options XS to XXL).
const SHIRT_SIZE: &str = "dynamic_40001";

fn problems(answer: &crate::support::Answer) -> Vec<String> {
    answer.json()["error"]["problems"]
        .as_array()
        .map(|list| {
            list.iter()
                .filter_map(|p| p.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn a_mapping_of_attributes_personio_does_not_return_names_each_of_them_and_saves_nothing() {
    let h = Harness::new().await;
    let tenant = h.tenant(4, 21).await;
    // The credential may read everything but `position`.
    let mut readable = tenant.fake.company().attribute_keys();
    readable.remove("position");
    tenant.fake.set_whitelist(Some(readable));
    let mapping = json!({
        "fields": [
            {"target": "title", "source": "position"},
            {"target": "nickname", "source": "universal:nickname"},
            {"target": "cost", "source": "dynamic_999999"},
            {"target": "user_name", "enabled": false},
            {"target": "shirt", "source": SHIRT_SIZE},
            {"target": "shirt_again", "source": "label:SHIRT size"},
            {"target": "desk", "source": "label:Desk numbr"},
        ]
    });
    let answer = h
        .put_matching(MAPPING, &tenant.params(), &mapping, "\"1\"")
        .await;
    assert_eq!(
        (answer.status, answer.code().as_str()),
        (422, "invalid_config")
    );
    let problems = problems(&answer);
    assert!(problems.len() >= 5, "{problems:#?}");
    for named in [
        "`position`",
        "`universal:nickname`",
        "`dynamic_999999`",
        "user_name",
        // An unknown label names the labels there are.
        "`label:Desk numbr`",
        "Shirt size",
    ] {
        assert!(
            problems.iter().any(|p| p.contains(named)),
            "{named} is not named in {problems:#?}"
        );
    }
    assert!(!problems.iter().any(|p| p.contains(SHIRT_SIZE)));
    assert!(!problems.iter().any(|p| p.contains("SHIRT size")));
    assert_eq!(h.stored_version(&tenant.id).await, Some(1), "nothing saved");
    let read = h.get(MAPPING, &tenant.params()).await.json();
    assert_eq!(read["mapping"]["fields"], json!([]));
}

#[tokio::test]
async fn a_good_mapping_is_saved_and_an_optional_default_that_stays_empty_is_a_warning() {
    let h = Harness::new().await;
    let tenant = h.tenant(4, 22).await;
    let mut readable = tenant.fake.company().attribute_keys();
    readable.remove("gender");
    tenant.fake.set_whitelist(Some(readable));

    let mapping = json!({"fields": [{"target": "shirt", "source": SHIRT_SIZE}]});
    let missing = h.json("PUT", MAPPING, &tenant.params(), &mapping).await;
    assert_eq!(missing.status, 428);

    let answer = h
        .put_matching(MAPPING, &tenant.params(), &mapping, "\"1\"")
        .await;
    assert_eq!(answer.status, 200, "{}", answer.text());
    assert_eq!(answer.header("etag").as_deref(), Some("\"2\""));
    let body = answer.json();
    assert_eq!(body["mapping"]["fields"][0]["source"], SHIRT_SIZE);
    let warnings = body["warnings"].to_string();
    assert!(warnings.contains("gender"), "{warnings}");

    let read = h.get(MAPPING, &tenant.params()).await;
    assert_eq!(read.header("etag").as_deref(), Some("\"2\""));
    assert_eq!(read.json()["mapping"], body["mapping"]);
    assert!(read.json().get("warnings").is_none());
}

#[tokio::test]
async fn a_scope_is_checked_against_the_attribute_and_its_options() {
    let h = Harness::new().await;
    let tenant = h.tenant(4, 23).await;
    let bad = json!({
        "statuses": [],
        "rules": [{"attribute": "dynamic_777", "allowed": ["x"]}],
    });
    let answer = h.put_matching(SCOPE, &tenant.params(), &bad, "\"1\"").await;
    assert_eq!(answer.status, 422);
    let problems = problems(&answer);
    assert!(
        problems.iter().any(|p| p.contains("scope.statuses")),
        "{problems:?}"
    );
    assert!(
        problems.iter().any(|p| p.contains("dynamic_777")),
        "{problems:?}"
    );

    let good = json!({
        "statuses": ["active", "leave"],
        "rules": [{"attribute": SHIRT_SIZE, "allowed": ["M", "XXXL-unheard-of"]}],
        "out_of_scope": "leave",
    });
    let answer = h
        .put_matching(SCOPE, &tenant.params(), &good, "\"1\"")
        .await;
    assert_eq!(answer.status, 200, "{}", answer.text());
    let body = answer.json();
    assert_eq!(body["scope"]["out_of_scope"], "leave");
    let warnings = body["warnings"].to_string();
    assert!(warnings.contains("XXXL-unheard-of"), "{warnings}");
    assert!(!warnings.contains("`M`"), "{warnings}");
    assert_eq!(h.get(SCOPE, &tenant.params()).await.json()["version"], 2);
}

#[tokio::test]
async fn checking_a_mapping_needs_stored_personio_credentials() {
    let h = Harness::new().await;
    let tenant = h.tenant_without_credentials(2, 24).await;
    let answer = h
        .put_matching(MAPPING, &tenant.params(), &json!({}), "\"1\"")
        .await;
    assert_eq!(
        (answer.status, answer.code().as_str()),
        (409, "credentials_missing")
    );
    let unknown = h
        .put_matching(MAPPING, &tenant.params(), &json!({"feilds": []}), "\"1\"")
        .await;
    assert_eq!(unknown.status, 400);
    assert!(
        unknown.message().contains("feilds"),
        "{}",
        unknown.message()
    );
}

#[tokio::test]
async fn stored_credentials_personio_no_longer_accepts_are_a_conflict_not_a_server_error() {
    let h = Harness::new().await;
    let tenant = h.tenant(2, 25).await;
    tenant.fake.set_employee_access(false);
    let answer = h
        .put_matching(SCOPE, &tenant.params(), &json!({}), "\"1\"")
        .await;
    assert_eq!(
        (answer.status, answer.code().as_str()),
        (409, "stored_credentials_forbidden")
    );
}
