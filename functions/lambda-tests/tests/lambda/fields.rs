//! Auto-mapping on the AWS path: the worker builds the tenant's SCIM destination through the
//! adapter factory from the stored config and token, and a tenant whose app lists the
//! personio-sync extension gets the seed fields SCIM has no attribute for, with no attribute paths
//! in its config.

use crate::support::stack::Stack;
use crate::support::tenant::{key, Spec, Tenant};
use sync_core::history::{RunStatus, Trigger};
use sync_scim::EXTENSION;
use test_support::scim::server_with_user_extensions;

#[tokio::test]
async fn the_worker_sends_the_seed_fields_to_the_extension_the_app_lists() {
    let stack = Stack::new().await;
    let server = server_with_user_extensions(&[sync_scim::homes::extension_schema()]).await;
    let spec = Spec {
        scim_server: Some(server),
        ..Spec::new(12, 94)
    };
    let tenant = Tenant::onboard(&stack, spec).await;
    tenant.enqueue(&stack, Trigger::Schedule, "fields").await;
    let received = stack.receive_exactly(1).await;
    let response = stack.deliver(&[&received[0]], None).await;
    assert!(response.batch_item_failures.is_empty(), "{response:?}");
    let runs = tenant.runs(&stack).await;
    assert_eq!(
        runs[0].status,
        RunStatus::Completed,
        "{:?}",
        runs[0].failure
    );

    let users = tenant.users().await;
    assert!(!users.is_empty());
    let company = tenant.fake.company();
    for employee in &company.employees {
        let external_id = key(employee.id).external_id();
        let Some(user) = users
            .iter()
            .find(|u| u.external_id.as_deref() == Some(external_id.as_str()))
        else {
            continue;
        };
        let extension = &user.body[EXTENSION];
        assert_eq!(
            extension["employmentStatus"], employee.status,
            "{external_id}"
        );
        assert_eq!(
            extension["hireDate"],
            employee.hire_date.to_string(),
            "{external_id}"
        );
        assert_eq!(extension["gender"], employee.gender, "{external_id}");
    }
}
