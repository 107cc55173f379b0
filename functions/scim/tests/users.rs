//! Users against a real scim2-server: what we write is read back with plain GETs.

mod support;

use serde_json::json;
use support::{foreign_user, fresh_destination, new_user};
use sync_core::ids::DestinationId;
use sync_core::ports::Destination;
use sync_core::record::{FieldChange, FieldValue};
use sync_scim::{RequestCounts, ENTERPRISE_USER};
use test_support::scim::ScimReader;

fn text(value: &str) -> Option<FieldValue> {
    Some(FieldValue::Text(value.to_owned()))
}

fn change(field: &str, old: Option<FieldValue>, new: Option<FieldValue>) -> FieldChange {
    FieldChange {
        field: field.to_owned(),
        old,
        new,
    }
}

#[tokio::test]
async fn a_created_user_carries_the_enterprise_extension_and_our_external_id() {
    let (destination, base_url) = fresh_destination("create");
    let user = new_user(
        "main:1001",
        &[
            ("user_name", "ada@acme.example"),
            ("given_name", "Ada"),
            ("family_name", "Lovelace"),
            ("display_name", "Ada Lovelace"),
            ("email", "ada@acme.example"),
            ("title", "Engineer"),
            ("employee_type", "Full-time"),
            ("employee_number", "1001"),
            ("department", "R&D"),
            ("cost_center", "CC-7"),
            ("location", "Berlin"),
            ("photo_url", "https://img.acme.example/ada.jpg"),
            ("preferred_language", "de"),
            ("gender", "female"),
        ],
    );
    let id = destination.create(&user).await.unwrap();

    let held = ScimReader::new(&base_url)
        .get(&format!("Users/{id}"), &[])
        .await;
    assert_eq!(held["externalId"], "main:1001");
    assert_eq!(held["userName"], "ada@acme.example");
    assert_eq!(held["active"], true);
    assert_eq!(
        held["name"],
        json!({"givenName": "Ada", "familyName": "Lovelace"})
    );
    assert_eq!(held["displayName"], "Ada Lovelace");
    assert_eq!(
        held["emails"],
        json!([{"value": "ada@acme.example", "type": "work", "primary": true}])
    );
    assert_eq!(held["title"], "Engineer");
    assert_eq!(held["userType"], "Full-time");
    assert_eq!(held["addresses"][0]["locality"], "Berlin");
    assert_eq!(
        held["photos"][0]["value"],
        "https://img.acme.example/ada.jpg"
    );
    assert_eq!(held["preferredLanguage"], "de");
    assert_eq!(
        held[ENTERPRISE_USER],
        json!({"employeeNumber": "1001", "department": "R&D", "costCenter": "CC-7"})
    );
    assert!(held["schemas"]
        .as_array()
        .unwrap()
        .contains(&json!(ENTERPRISE_USER)));
    // Gender has no SCIM home by default and is not sent.
    assert!(!held.to_string().contains("female"));
    // Before the first write, the app's /ResourceTypes and /Schemas are read once.
    assert_eq!(
        destination.requests(),
        RequestCounts {
            get: 2,
            post: 1,
            ..Default::default()
        }
    );
}

#[tokio::test]
async fn listing_pages_through_more_users_than_one_page_holds() {
    let (destination, base_url) = fresh_destination("paging");
    let creates = (0..105).map(|n| {
        let user = new_user(
            &format!("main:{n}"),
            &[
                ("user_name", &format!("user{n}@acme.example")),
                ("employee_number", &n.to_string()),
            ],
        );
        let destination = &destination;
        async move { destination.create(&user).await }
    });
    let created = futures::future::try_join_all(creates).await.unwrap();
    ScimReader::new(&base_url)
        .post_user(foreign_user("outsider", "outsider@acme.example"))
        .await;

    let users = destination.users().await.unwrap();
    assert_eq!(users.len(), 106);
    for id in &created {
        assert!(users.iter().any(|user| &user.id == id));
    }
    let user7 = users
        .iter()
        .find(|u| u.external_id.as_deref() == Some("main:7"))
        .unwrap();
    assert_eq!(user7.user_name, "user7@acme.example");
    assert_eq!(user7.employee_number.as_deref(), Some("7"));
    let outsider = users.iter().find(|u| u.user_name == "outsider").unwrap();
    assert_eq!(outsider.external_id, None);
    assert_eq!(outsider.email.as_deref(), Some("outsider@acme.example"));
    // The schemas read before the first create (two), one config read and two pages of 100.
    assert_eq!(destination.requests().get, 5);
}

#[tokio::test]
async fn a_user_is_found_by_user_name_case_insensitively_and_by_email() {
    let (destination, base_url) = fresh_destination("find");
    let ours = new_user(
        "main:5",
        &[("user_name", r#"ada"quote\slash@acme.example"#)],
    );
    let id = destination.create(&ours).await.unwrap();
    let reader = ScimReader::new(&base_url);
    let other = reader
        .post_user(foreign_user("grace", "grace.hopper@acme.example"))
        .await
        .id;

    let found = destination
        .find_user(r#"ADA"QUOTE\SLASH@acme.example"#)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.id, id);
    assert_eq!(found.external_id.as_deref(), Some("main:5"));
    let by_email = destination
        .find_user("Grace.Hopper@acme.example")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(by_email.id.as_str(), other);
    assert_eq!(by_email.external_id, None);
    assert_eq!(
        destination.find_user("nobody@acme.example").await.unwrap(),
        None
    );
    assert_eq!(destination.find_user("nobody").await.unwrap(), None);
}

#[tokio::test]
async fn an_update_patches_only_the_changed_fields_and_removes_a_cleared_one() {
    let (destination, base_url) = fresh_destination("update");
    let user = new_user(
        "main:2",
        &[
            ("user_name", "bob@acme.example"),
            ("title", "Dev"),
            ("department", "R&D"),
            ("location", "Berlin"),
        ],
    );
    let id = destination.create(&user).await.unwrap();
    let before = destination.requests();

    let changes = [
        change("title", text("Dev"), text("Lead")),
        change("department", text("R&D"), None),
        change("email", None, text("bob@acme.example")),
        change("given_name", None, text("Bob")),
        change(
            "birthday",
            None,
            Some(FieldValue::Date("1990-01-02".parse().unwrap())),
        ),
    ];
    destination.update(&id, &changes).await.unwrap();

    let held = ScimReader::new(&base_url)
        .get(&format!("Users/{id}"), &[])
        .await;
    assert_eq!(held["title"], "Lead");
    assert_eq!(held["name"]["givenName"], "Bob");
    assert_eq!(
        held["emails"],
        json!([{"value": "bob@acme.example", "type": "work", "primary": true}])
    );
    assert!(held[ENTERPRISE_USER].get("department").is_none(), "{held}");
    assert_eq!(held["addresses"][0]["locality"], "Berlin");
    assert!(!held.to_string().contains("1990"));
    // The configuration (read once, on the first write), the user, and one PATCH (answered
    // 204 without a body).
    let after = destination.requests();
    assert_eq!(
        (
            after.get - before.get,
            after.patch - before.patch,
            after.put
        ),
        (2, 1, 0)
    );
}

#[tokio::test]
async fn an_update_the_server_already_holds_or_with_no_scim_home_sends_no_write() {
    let (destination, _) = fresh_destination("noop");
    let user = new_user(
        "main:3",
        &[("user_name", "carl@acme.example"), ("title", "Dev")],
    );
    let id = destination.create(&user).await.unwrap();
    let before = destination.requests();

    destination
        .update(&id, &[change("gender", None, text("male"))])
        .await
        .unwrap();
    assert_eq!(
        destination.requests(),
        before,
        "a field with no SCIM home needs no request at all"
    );
    destination
        .update(&id, &[change("title", text("Old"), text("Dev"))])
        .await
        .unwrap();
    assert_eq!(destination.requests().writes(), before.writes());
}

#[tokio::test]
async fn deactivating_and_reactivating_keeps_the_user_and_its_id() {
    let (destination, base_url) = fresh_destination("active");
    let id = destination
        .create(&new_user("main:4", &[("user_name", "dora")]))
        .await
        .unwrap();
    let reader = ScimReader::new(&base_url);

    destination.set_active(&id, false).await.unwrap();
    assert_eq!(
        reader.get(&format!("Users/{id}"), &[]).await["active"],
        false
    );
    let listed = destination.find_user("dora").await.unwrap().unwrap();
    assert_eq!((listed.id.clone(), listed.active), (id.clone(), false));

    destination.set_active(&id, true).await.unwrap();
    let held = reader.get(&format!("Users/{id}"), &[]).await;
    assert_eq!(held["active"], true);
    assert_eq!(held["id"], id.as_str());
    assert_eq!(
        reader.users_where(r#"externalId eq "main:4""#).await.len(),
        1
    );
}

#[tokio::test]
async fn a_manager_is_set_and_cleared() {
    let (destination, base_url) = fresh_destination("manager");
    let boss = destination
        .create(&new_user("main:10", &[("user_name", "boss")]))
        .await
        .unwrap();
    let id = destination
        .create(&new_user("main:11", &[("user_name", "report")]))
        .await
        .unwrap();
    let reader = ScimReader::new(&base_url);

    destination.set_manager(&id, Some(&boss)).await.unwrap();
    let held = reader.get(&format!("Users/{id}"), &[]).await;
    assert_eq!(held[ENTERPRISE_USER]["manager"]["value"], boss.as_str());

    destination.set_manager(&id, None).await.unwrap();
    let held = reader.get(&format!("Users/{id}"), &[]).await;
    assert!(
        held.get(ENTERPRISE_USER)
            .and_then(|e| e.get("manager"))
            .is_none(),
        "{held}"
    );
    // Clearing a manager that is not set is fine too.
    destination.set_manager(&id, None).await.unwrap();
}

#[tokio::test]
async fn adopting_links_an_existing_user_to_our_external_id() {
    let (destination, base_url) = fresh_destination("adopt");
    let reader = ScimReader::new(&base_url);
    let theirs = reader
        .post_user(foreign_user("eve", "eve@acme.example"))
        .await
        .id;
    let id = DestinationId::parse(&theirs).unwrap();

    destination.adopt(&id, "main:12").await.unwrap();
    let held = reader.get(&format!("Users/{id}"), &[]).await;
    assert_eq!(held["externalId"], "main:12");
    assert_eq!(held["emails"][0]["value"], "eve@acme.example");
}

#[tokio::test]
async fn a_whole_lifecycle_never_sends_a_delete_and_the_user_remains() {
    let (destination, base_url) = fresh_destination("nodelete");
    let id = destination
        .create(&new_user(
            "main:13",
            &[("user_name", "fay"), ("title", "Dev")],
        ))
        .await
        .unwrap();
    destination
        .update(&id, &[change("title", text("Dev"), None)])
        .await
        .unwrap();
    destination.set_active(&id, false).await.unwrap();

    // Deactivating sends no DELETE: the user is still there, deactivated.
    let counts = destination.requests();
    assert_eq!(
        counts,
        RequestCounts {
            get: 4,
            post: 1,
            put: 0,
            patch: 2,
            delete: 0,
        }
    );
    let held = ScimReader::new(&base_url)
        .get(&format!("Users/{id}"), &[])
        .await;
    assert_eq!(held["active"], false);
    assert!(held.get("title").is_none());
}
