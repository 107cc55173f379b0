//! How scim2-server's refusals reach the engine: conflicts, retried creates, rejected records,
//! a wrong token, unknown ids and an unreachable server.

mod support;

use std::time::Duration;
use support::{foreign_user, fresh_destination, new_user, settings};
use sync_core::ids::DestinationId;
use sync_core::ports::{Destination, DestinationError};
use sync_core::record::{FieldChange, FieldValue};
use sync_scim::ScimDestination;
use test_support::scim::{scim_server, ScimReader};

#[tokio::test]
async fn a_user_name_taken_by_someone_else_is_a_conflict_with_the_servers_detail() {
    let (destination, base_url) = fresh_destination("conflict");
    ScimReader::new(&base_url)
        .post_user(foreign_user("taken@acme.example", "taken@acme.example"))
        .await;

    let error = destination
        .create(&new_user("main:1", &[("user_name", "TAKEN@acme.example")]))
        .await
        .unwrap_err();
    assert!(
        matches!(&error, DestinationError::Conflict { detail } if detail.contains("already in use")),
        "{error:?}"
    );
}

#[tokio::test]
async fn a_retried_create_returns_the_first_users_id_and_creates_no_second_user() {
    let (destination, base_url) = fresh_destination("retried");
    let user = new_user(
        "main:2",
        &[("user_name", "once@acme.example"), ("title", "Dev")],
    );
    let first = destination.create(&user).await.unwrap();
    let again = destination.create(&user).await.unwrap();

    assert_eq!(again, first);
    let reader = ScimReader::new(&base_url);
    assert_eq!(
        reader.users_where(r#"externalId eq "main:2""#).await.len(),
        1
    );
    assert_eq!(
        reader
            .users_where(r#"userName eq "once@acme.example""#)
            .await
            .len(),
        1
    );
}

#[tokio::test]
async fn a_record_the_server_refuses_is_rejected_with_its_scim_type_and_detail() {
    let (destination, _) = fresh_destination("rejected");
    let error = destination
        .create(&new_user("main:3", &[("title", "No login")]))
        .await
        .unwrap_err();
    match error {
        DestinationError::Rejected {
            status,
            scim_type,
            detail,
        } => {
            assert_eq!(status, 400);
            assert_eq!(scim_type.as_deref(), Some("invalidValue"));
            assert!(detail.contains("userName"), "{detail}");
        }
        other => panic!("expected Rejected, got {other:?}"),
    }
}

#[tokio::test]
async fn a_field_mapped_to_an_attribute_the_server_lacks_is_rejected_on_update() {
    let server = scim_server();
    let base_url = server.tenant_url("bad-path");
    let mut settings = settings(&base_url, &server.token);
    settings
        .attribute_paths
        .insert("title".into(), "jobTitle".into());
    let destination = ScimDestination::new(settings).unwrap();
    let id = destination
        .create(&new_user("main:4", &[("user_name", "gus")]))
        .await
        .unwrap();

    let change = FieldChange {
        field: "title".into(),
        old: None,
        new: Some(FieldValue::Text("Dev".into())),
    };
    let error = destination.update(&id, &[change]).await.unwrap_err();
    assert!(
        matches!(&error, DestinationError::Rejected { status: 400, scim_type: Some(t), detail } if t == "invalidPath" && detail.contains("jobTitle")),
        "{error:?}"
    );
}

#[tokio::test]
async fn a_wrong_token_is_unauthorized_and_stops_the_run() {
    let server = scim_server();
    let base_url = server.tenant_url("token");
    let destination = ScimDestination::new(settings(&base_url, "not-the-token")).unwrap();
    let error = destination.users().await.unwrap_err();
    assert!(error.stops_run());
    assert!(
        error
            .to_string()
            .starts_with("the destination rejected the token of tenant acme"),
        "{error}"
    );
    let create = destination
        .create(&new_user("main:5", &[("user_name", "hal")]))
        .await
        .unwrap_err();
    assert!(
        matches!(create, DestinationError::Unauthorized { .. }),
        "{create:?}"
    );
}

#[tokio::test]
async fn writes_to_an_unknown_id_are_not_found() {
    let (destination, _) = fresh_destination("unknown");
    let missing = DestinationId::parse("no-such-user").unwrap();
    let change = FieldChange {
        field: "title".into(),
        old: None,
        new: Some(FieldValue::Text("Dev".into())),
    };

    for error in [
        destination.update(&missing, &[change]).await.unwrap_err(),
        destination.set_active(&missing, false).await.unwrap_err(),
        destination.set_manager(&missing, None).await.unwrap_err(),
    ] {
        assert!(
            matches!(&error, DestinationError::NotFound { what: "user", id } if id == "no-such-user"),
            "{error:?}"
        );
    }
    let group = destination
        .update_group(&missing, std::slice::from_ref(&missing), &[])
        .await
        .unwrap_err();
    assert!(
        matches!(group, DestinationError::NotFound { what: "group", .. }),
        "{group:?}"
    );
}

#[tokio::test]
async fn an_unreachable_server_is_unavailable_after_the_configured_attempts() {
    // A port that was free a moment ago: nothing listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut settings = settings(&format!("http://127.0.0.1:{port}/v2"), "t");
    settings.max_attempts = 2;
    settings.request_timeout = Duration::from_secs(2);
    let destination = ScimDestination::new(settings).unwrap();

    let error = destination.users().await.unwrap_err();
    assert!(
        matches!(&error, DestinationError::Unavailable { attempts: 2, .. }),
        "{error:?}"
    );
    assert_eq!(destination.requests().get, 2);
}
