//! A server whose `/ServiceProviderConfig` announces no PATCH: scim2-server started with such a
//! configuration (it then answers PATCH with 501), so every write is GET, modify, PUT with
//! `If-Match`.

mod support;

use serde_json::json;
use std::sync::OnceLock;
use support::{new_user, settings};
use sync_core::ports::Destination;
use sync_core::record::{FieldChange, FieldValue};
use sync_scim::{ScimDestination, ENTERPRISE_USER};
use test_support::scim::{ScimReader, ScimServer};

fn server_without_patch() -> &'static ScimServer {
    static SERVER: OnceLock<(ScimServer, tempfile::TempDir)> = OnceLock::new();
    let (server, _) = SERVER.get_or_init(|| {
        let dir = tempfile::tempdir().expect("temp dir");
        let config = dir.path().join("service-provider-config.json");
        let body = json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"],
            "patch": {"supported": false},
            "bulk": {"supported": false, "maxOperations": 0, "maxPayloadSize": 0},
            "filter": {"supported": true, "maxResults": 1000},
            "changePassword": {"supported": false},
            "sort": {"supported": false},
            "etag": {"supported": true}
        });
        std::fs::write(&config, body.to_string()).expect("write config");
        let config = config.to_str().expect("utf-8 path").to_owned();
        (
            ScimServer::spawn(&["--service-provider-config", &config]),
            dir,
        )
    });
    server
}

fn destination(prefix: &str) -> (ScimDestination, String) {
    let server = server_without_patch();
    let base_url = server.tenant_url(prefix);
    (
        ScimDestination::new(settings(&base_url, &server.token)).unwrap(),
        base_url,
    )
}

fn text(value: &str) -> Option<FieldValue> {
    Some(FieldValue::Text(value.to_owned()))
}

#[tokio::test]
async fn without_patch_an_update_rewrites_the_user_with_put_and_keeps_the_rest() {
    let (destination, base_url) = destination("put-update");
    let user = new_user(
        "main:1",
        &[
            ("user_name", "ida"),
            ("title", "Dev"),
            ("department", "R&D"),
            ("cost_center", "CC-1"),
        ],
    );
    let id = destination.create(&user).await.unwrap();

    let changes = [
        FieldChange {
            field: "title".into(),
            old: text("Dev"),
            new: text("Lead"),
        },
        FieldChange {
            field: "department".into(),
            old: text("R&D"),
            new: None,
        },
        FieldChange {
            field: "email".into(),
            old: None,
            new: text("ida@acme.example"),
        },
    ];
    destination.update(&id, &changes).await.unwrap();

    let held = ScimReader::with_token(&base_url, &server_without_patch().token)
        .get(&format!("Users/{id}"), &[])
        .await;
    assert_eq!(held["title"], "Lead");
    assert_eq!(held["externalId"], "main:1");
    assert_eq!(held["active"], true);
    assert_eq!(
        held["emails"],
        json!([{"value": "ida@acme.example", "type": "work", "primary": true}])
    );
    assert_eq!(held[ENTERPRISE_USER], json!({"costCenter": "CC-1"}));
    let counts = destination.requests();
    assert_eq!((counts.patch, counts.put), (0, 1), "{counts:?}");
}

#[tokio::test]
async fn without_patch_activity_manager_adoption_and_groups_still_work() {
    let (destination, base_url) = destination("put-rest");
    let reader = ScimReader::with_token(&base_url, &server_without_patch().token);
    let boss = destination
        .create(&new_user("main:2", &[("user_name", "boss")]))
        .await
        .unwrap();
    let id = destination
        .create(&new_user(
            "main:3",
            &[("user_name", "jan"), ("department", "Ops")],
        ))
        .await
        .unwrap();

    destination.set_active(&id, false).await.unwrap();
    destination.set_manager(&id, Some(&boss)).await.unwrap();
    destination.adopt(&id, "main:33").await.unwrap();
    let held = reader.get(&format!("Users/{id}"), &[]).await;
    assert_eq!(held["active"], false);
    assert_eq!(held["externalId"], "main:33");
    assert_eq!(
        held[ENTERPRISE_USER],
        json!({"department": "Ops", "manager": {"value": boss.as_str()}})
    );

    destination.set_manager(&id, None).await.unwrap();
    let held = reader.get(&format!("Users/{id}"), &[]).await;
    assert_eq!(held[ENTERPRISE_USER], json!({"department": "Ops"}));

    let group = destination
        .create_group(
            "Ops",
            "personio-sync:department:test",
            std::slice::from_ref(&boss),
        )
        .await
        .unwrap();
    destination
        .update_group(
            &group,
            std::slice::from_ref(&id),
            std::slice::from_ref(&boss),
        )
        .await
        .unwrap();
    let held = reader.get(&format!("Groups/{group}"), &[]).await;
    assert_eq!(held["members"].as_array().unwrap().len(), 1);
    assert_eq!(held["members"][0]["value"], id.as_str());
    assert_eq!(destination.requests().patch, 0);
}
