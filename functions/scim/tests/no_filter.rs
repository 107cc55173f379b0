//! A server whose `/ServiceProviderConfig` says it cannot filter: scim2-server started with such
//! a configuration answers every `filter` with 501. Lookups then read the users and compare them
//! here, instead of failing every lookup.

mod support;

use serde_json::json;
use support::{new_user, settings};
use sync_core::ports::Destination;
use sync_scim::ScimDestination;
use test_support::scim::{ScimReader, ScimServer};

#[tokio::test]
async fn lookups_work_on_a_server_that_cannot_filter() {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = dir.path().join("service-provider-config.json");
    let body = json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"],
        "patch": {"supported": true},
        "bulk": {"supported": false, "maxOperations": 0, "maxPayloadSize": 0},
        "filter": {"supported": false, "maxResults": 200},
        "changePassword": {"supported": false},
        "sort": {"supported": false},
        "etag": {"supported": false}
    });
    std::fs::write(&config, body.to_string()).expect("write config");
    let server = ScimServer::spawn(&[
        "--service-provider-config",
        config.to_str().expect("utf-8 path"),
    ]);
    let base_url = server.tenant_url("nofilter");
    // The server refuses filters: what any lookup would get without this adapter's fallback.
    let reader = ScimReader::with_token(&base_url, &server.token);
    let refused = reqwest::Client::new()
        .get(format!("{base_url}/Users"))
        .query(&[("filter", "userName eq \"x\"")])
        .bearer_auth(&server.token)
        .send()
        .await
        .expect("GET");
    assert_eq!(refused.status(), 501);

    let destination =
        ScimDestination::new(settings(&base_url, &server.token)).expect("destination");
    let ada = new_user(
        "main:1",
        &[
            ("user_name", "ada@acme.example"),
            ("email", "ada@acme.example"),
        ],
    );
    let id = destination.create(&ada).await.expect("create");
    reader
        .post_user(support::foreign_user("grace", "grace@acme.example"))
        .await;

    let by_name = destination
        .find_user("ADA@acme.example")
        .await
        .expect("find");
    assert_eq!(by_name.map(|user| user.id), Some(id.clone()));
    let by_email = destination
        .find_user("Grace@Acme.example")
        .await
        .expect("find by email");
    assert_eq!(
        by_email.map(|user| user.user_name),
        Some("grace".to_owned())
    );
    assert_eq!(
        destination
            .find_user("nobody@acme.example")
            .await
            .expect("find"),
        None
    );
    // A repeated create (its answer lost) finds the user by externalId instead of failing.
    assert_eq!(destination.create(&ada).await.expect("create again"), id);
}
