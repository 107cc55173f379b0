//! Personio attributes named by their label as admins see it (`label:Shirt size`): resolved to
//! the account's key through `/company/employees/attributes`, in mappings and scope rules alike;
//! an unknown label stops the run and lists the labels there are.

use sync_core::history::RunStatus;
use test_support::harness::*;
use test_support::personio::*;

/// The sample company's "Shirt size" (fake-personio's roster).
const SHIRT_SIZE: &str = "dynamic_40001";

#[tokio::test]
async fn a_label_maps_and_scopes_like_the_attributes_key() {
    let extra = r#"
[[mapping.fields]]
target = "shirt_size"
source = "label:shirt SIZE"

[scope]
statuses = ["active", "leave", "onboarding"]

[[scope.rules]]
attribute = "label:Shirt size"
allowed = ["M", "L"]
"#;
    let harness = Harness::with(extra, company(60)).await;
    let outcome = harness.run().await;
    assert_eq!(outcome.record.status, RunStatus::Completed);
    // Only managers outside the scope are reported: their reports keep no manager.
    assert!(
        outcome.record.errors.iter().all(|e| e.action == "manager"),
        "{:?}",
        outcome.record.errors
    );
    let company = harness.fake.company();
    let mut synced = 0;
    for employee in &company.employees {
        let size = employee.custom.get(SHIRT_SIZE).and_then(|v| v.as_str());
        let user = harness.user(employee.id).await;
        let in_scope = employee.status != "inactive"
            && employee.termination_date.is_none_or(|d| d >= day(TODAY))
            && matches!(size, Some("M" | "L"));
        if !in_scope {
            assert!(
                user.as_ref().is_none_or(|u| !u.active),
                "employee {} is out of scope",
                employee.id
            );
            continue;
        }
        let Some(user) = user else {
            // A pre-hire too far ahead has no user yet.
            assert!(employee.hire_date > day(TODAY), "employee {}", employee.id);
            continue;
        };
        synced += 1;
        assert_eq!(
            user.fields.text("shirt_size").as_deref(),
            size,
            "employee {}",
            employee.id
        );
    }
    assert!(synced > 5, "only {synced} people were in scope");
}

#[tokio::test]
async fn an_unknown_label_stops_the_run_naming_the_labels_there_are() {
    let extra = "[[mapping.fields]]\ntarget = \"shirt_size\"\nsource = \"label:Shirt sise\"\n";
    let harness = Harness::with(extra, company(10)).await;
    let error = harness
        .run_at(now())
        .await
        .expect_err("the run cannot start");
    let message = error.to_string();
    assert!(message.contains("`label:Shirt sise`"), "{message}");
    assert!(message.contains("Shirt size"), "{message}");
    assert!(harness.users().await.is_empty(), "nothing was written");
}
