//! `DirectoryDestination` against a real temporary folder, asserting what ends up in the files.

use std::sync::Arc;
use sync_core::ids::DestinationId;
use sync_core::ports::{Destination, DestinationError, NewUser};
use sync_core::record::{FieldChange, FieldValue, UserRecord, EMAIL, USER_NAME};
use sync_local::DirectoryDestination;

fn text(value: &str) -> FieldValue {
    FieldValue::Text(value.into())
}

fn new_user(user_name: &str, external_id: &str) -> NewUser {
    let mut record = UserRecord::new();
    record.set(USER_NAME, text(user_name));
    record.set(EMAIL, text(&format!("{user_name}@acme.example")));
    record.set("title", text("Engineer"));
    record.set("employee_number", text(external_id));
    NewUser {
        external_id: external_id.into(),
        record,
        active: true,
    }
}

fn change(field: &str, new: Option<&str>) -> FieldChange {
    FieldChange {
        field: field.into(),
        old: None,
        new: new.map(text),
    }
}

fn open() -> (tempfile::TempDir, DirectoryDestination) {
    let dir = tempfile::tempdir().unwrap();
    let directory = DirectoryDestination::open(dir.path()).unwrap();
    (dir, directory)
}

#[tokio::test]
async fn a_created_user_is_stored_with_its_fields() {
    let (_dir, directory) = open();
    let user = new_user("jane", "main:1");
    let id = directory.create(&user).await.unwrap();

    let stored = directory.read_user(&id).await.unwrap().unwrap();
    assert!(
        id.as_str().starts_with("u-") && id.as_str().len() == 14,
        "{id}"
    );
    assert_eq!(stored.id, id);
    assert_eq!(stored.external_id.as_deref(), Some("main:1"));
    assert_eq!(stored.user_name, "jane");
    assert!(stored.active);
    assert_eq!(stored.manager, None);
    assert_eq!(stored.fields, user.record);
    assert_eq!(stored.meta.created, stored.meta.last_modified);

    let listed = directory.users().await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].email.as_deref(), Some("jane@acme.example"));
    assert_eq!(listed[0].employee_number.as_deref(), Some("main:1"));
    assert_eq!(directory.writes(), 1);
}

#[tokio::test]
async fn a_pre_hire_is_created_inactive() {
    let (_dir, directory) = open();
    let mut user = new_user("joe", "main:2");
    user.active = false;
    let id = directory.create(&user).await.unwrap();
    assert!(!directory.read_user(&id).await.unwrap().unwrap().active);
}

#[tokio::test]
async fn update_writes_changed_fields_and_renames() {
    let (_dir, directory) = open();
    let id = directory.create(&new_user("jane", "main:1")).await.unwrap();
    let changes = [
        change("title", Some("Lead")),
        change("employee_number", None),
        change(USER_NAME, Some("jane.doe")),
    ];
    directory.update(&id, &changes).await.unwrap();

    let stored = directory.read_user(&id).await.unwrap().unwrap();
    assert_eq!(stored.user_name, "jane.doe");
    assert_eq!(stored.fields.text("title").as_deref(), Some("Lead"));
    assert_eq!(stored.fields.get("employee_number"), None);
    assert!(stored.meta.last_modified >= stored.meta.created);
    assert_eq!(
        directory.find_user("JANE.DOE").await.unwrap().unwrap().id,
        id
    );
    assert_eq!(directory.find_user("jane").await.unwrap(), None);
    // The old name is free again.
    directory.create(&new_user("jane", "main:9")).await.unwrap();
}

#[tokio::test]
async fn find_user_matches_user_name_or_email_ignoring_case() {
    let (_dir, directory) = open();
    let id = directory.create(&new_user("jane", "main:1")).await.unwrap();
    assert_eq!(directory.find_user("JANE").await.unwrap().unwrap().id, id);
    let by_email = directory
        .find_user("Jane@ACME.example")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(by_email.id, id);
    assert_eq!(by_email.external_id.as_deref(), Some("main:1"));
    assert_eq!(directory.find_user("nobody").await.unwrap(), None);
}

#[tokio::test]
async fn a_leaver_is_deactivated_and_reactivated_never_deleted() {
    let (dir, directory) = open();
    let id = directory.create(&new_user("jane", "main:1")).await.unwrap();
    directory.set_active(&id, false).await.unwrap();
    assert!(!directory.read_user(&id).await.unwrap().unwrap().active);
    assert!(dir.path().join(format!("users/{id}.json")).is_file());
    directory.set_active(&id, true).await.unwrap();
    assert!(directory.read_user(&id).await.unwrap().unwrap().active);
    assert_eq!(directory.read_all_users().await.unwrap().len(), 1);
}

#[tokio::test]
async fn a_deleted_user_is_gone_with_its_name_and_deleting_it_again_is_no_error() {
    let (dir, directory) = open();
    let id = directory.create(&new_user("jane", "main:1")).await.unwrap();
    let kept = directory.create(&new_user("max", "main:2")).await.unwrap();
    directory.delete_user(&id).await.unwrap();
    assert!(!dir.path().join(format!("users/{id}.json")).exists());
    assert_eq!(directory.find_user("jane").await.unwrap(), None);
    directory.delete_user(&id).await.unwrap();
    assert_eq!(directory.read_all_users().await.unwrap().len(), 1);
    assert!(directory.read_user(&kept).await.unwrap().is_some());
    // The name is free again.
    directory.create(&new_user("jane", "main:3")).await.unwrap();
}

#[tokio::test]
async fn managers_are_set_and_cleared() {
    let (_dir, directory) = open();
    let boss = directory.create(&new_user("boss", "main:1")).await.unwrap();
    let jane = directory.create(&new_user("jane", "main:2")).await.unwrap();
    directory.set_manager(&jane, Some(&boss)).await.unwrap();
    assert_eq!(
        directory.read_user(&jane).await.unwrap().unwrap().manager,
        Some(boss.clone())
    );
    directory.set_manager(&jane, None).await.unwrap();
    assert_eq!(
        directory.read_user(&jane).await.unwrap().unwrap().manager,
        None
    );

    let ghost = DestinationId::parse("u-000000000000").unwrap();
    let err = directory
        .set_manager(&jane, Some(&ghost))
        .await
        .unwrap_err();
    assert!(
        matches!(err, DestinationError::NotFound { what: "user", .. }),
        "{err:?}"
    );
}

#[tokio::test]
async fn groups_are_created_and_their_members_changed() {
    let (_dir, directory) = open();
    let a = directory.create(&new_user("a", "main:1")).await.unwrap();
    let b = directory.create(&new_user("b", "main:2")).await.unwrap();
    let c = directory.create(&new_user("c", "main:3")).await.unwrap();
    let group = directory
        .create_group(
            "R&D / Berlin",
            "personio-sync:department:test",
            &[a.clone(), b.clone(), a.clone()],
        )
        .await
        .unwrap();
    assert!(group.as_str().starts_with("g-"), "{group}");

    directory
        .update_group(&group, &[c.clone(), b.clone()], std::slice::from_ref(&a))
        .await
        .unwrap();
    let stored = directory.read_group(&group).await.unwrap().unwrap();
    assert_eq!(stored.display_name, "R&D / Berlin");
    assert_eq!(stored.members, [b.clone(), c.clone()]);
    assert_eq!(directory.read_all_groups().await.unwrap(), [stored]);

    let ghost = DestinationId::parse("g-000000000000").unwrap();
    let err = directory
        .update_group(&ghost, std::slice::from_ref(&a), &[])
        .await
        .unwrap_err();
    assert!(
        matches!(err, DestinationError::NotFound { what: "group", .. }),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_taken_user_name_is_a_conflict() {
    let (_dir, directory) = open();
    directory.create(&new_user("jane", "main:1")).await.unwrap();
    let err = directory
        .create(&new_user("JANE", "main:2"))
        .await
        .unwrap_err();
    assert!(matches!(err, DestinationError::Conflict { .. }), "{err:?}");

    let joe = directory.create(&new_user("joe", "main:3")).await.unwrap();
    let err = directory
        .update(&joe, &[change(USER_NAME, Some("Jane"))])
        .await
        .unwrap_err();
    assert!(matches!(err, DestinationError::Conflict { .. }), "{err:?}");
    assert_eq!(
        directory.read_user(&joe).await.unwrap().unwrap().user_name,
        "joe"
    );
    assert_eq!(directory.read_all_users().await.unwrap().len(), 2);
}

#[tokio::test]
async fn a_user_the_app_already_had_is_a_conflict_until_adopted() {
    let (_dir, directory) = open();
    let mut record = UserRecord::new();
    record.set(USER_NAME, text("jane"));
    let existing = directory.seed_user(&record, true).await.unwrap();
    let err = directory
        .create(&new_user("jane", "main:1"))
        .await
        .unwrap_err();
    assert!(matches!(err, DestinationError::Conflict { .. }), "{err:?}");

    directory.adopt(&existing, "main:1").await.unwrap();
    let found = directory.find_user("jane").await.unwrap().unwrap();
    assert_eq!(found.external_id.as_deref(), Some("main:1"));
    // Once it carries our externalId, the same create is a retry and returns that user.
    assert_eq!(
        directory.create(&new_user("jane", "main:1")).await.unwrap(),
        existing
    );
}

#[tokio::test]
async fn a_retried_create_returns_the_same_user_without_creating_another() {
    let (_dir, directory) = open();
    let user = new_user("jane", "main:1");
    let first = directory.create(&user).await.unwrap();
    let writes = directory.writes();
    let second = directory.create(&user).await.unwrap();
    assert_eq!(first, second);
    assert_eq!(directory.read_all_users().await.unwrap().len(), 1);
    assert_eq!(directory.writes(), writes);
}

#[tokio::test]
async fn unknown_and_unsafe_ids_are_not_found() {
    let (_dir, directory) = open();
    for id in ["u-000000000000", "../users/u-1", "a/b"] {
        let id = DestinationId::parse(id).unwrap();
        let err = directory.set_active(&id, false).await.unwrap_err();
        assert!(
            matches!(err, DestinationError::NotFound { what: "user", .. }),
            "{err:?}"
        );
        let err = directory.update(&id, &[]).await.unwrap_err();
        assert!(matches!(err, DestinationError::NotFound { .. }), "{err:?}");
        assert!(directory.read_user(&id).await.unwrap().is_none());
    }
}

#[tokio::test]
async fn removing_the_user_name_is_rejected() {
    let (_dir, directory) = open();
    let id = directory.create(&new_user("jane", "main:1")).await.unwrap();
    let err = directory
        .update(&id, &[change(USER_NAME, None)])
        .await
        .unwrap_err();
    assert!(
        matches!(err, DestinationError::Rejected { status: 400, .. }),
        "{err:?}"
    );
    let err = directory
        .create(&NewUser {
            external_id: "main:2".into(),
            record: UserRecord::new(),
            active: true,
        })
        .await
        .unwrap_err();
    assert!(matches!(err, DestinationError::Rejected { .. }), "{err:?}");
}

#[tokio::test]
async fn calls_that_change_nothing_write_nothing() {
    let (_dir, directory) = open();
    let boss = directory.create(&new_user("boss", "main:1")).await.unwrap();
    let jane = directory.create(&new_user("jane", "main:2")).await.unwrap();
    let group = directory
        .create_group(
            "Platform",
            "personio-sync:department:test",
            std::slice::from_ref(&jane),
        )
        .await
        .unwrap();
    directory.set_manager(&jane, Some(&boss)).await.unwrap();
    let before = directory.read_user(&jane).await.unwrap().unwrap();
    let writes = directory.writes();
    assert_eq!(writes, 4);

    directory.set_active(&jane, true).await.unwrap();
    directory.set_manager(&jane, Some(&boss)).await.unwrap();
    directory
        .update(&jane, &[change("title", Some("Engineer"))])
        .await
        .unwrap();
    directory.update(&jane, &[]).await.unwrap();
    directory.adopt(&jane, "main:2").await.unwrap();
    directory
        .update_group(
            &group,
            std::slice::from_ref(&jane),
            std::slice::from_ref(&boss),
        )
        .await
        .unwrap();
    directory.users().await.unwrap();
    directory.find_user("jane").await.unwrap();

    assert_eq!(directory.writes(), writes);
    assert_eq!(directory.read_user(&jane).await.unwrap().unwrap(), before);
}

#[tokio::test]
async fn concurrent_creates_of_distinct_users_all_land_with_unique_ids() {
    let (_dir, directory) = open();
    let directory = Arc::new(directory);
    let mut tasks = Vec::new();
    for task in 0..8 {
        let directory = directory.clone();
        tasks.push(tokio::spawn(async move {
            let mut ids = Vec::new();
            for n in 0..25 {
                let person = task * 25 + n;
                let user = new_user(&format!("user{person}"), &format!("main:{person}"));
                ids.push(directory.create(&user).await.unwrap());
            }
            ids
        }));
    }
    let mut ids = Vec::new();
    for task in tasks {
        ids.extend(task.await.unwrap());
    }
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 200);
    assert_eq!(directory.read_all_users().await.unwrap().len(), 200);
    assert_eq!(directory.writes(), 200);
}

#[tokio::test]
async fn concurrent_creates_of_one_user_name_make_one_user() {
    let (_dir, directory) = open();
    let directory = Arc::new(directory);
    let mut tasks = Vec::new();
    for n in 0..8 {
        let directory = directory.clone();
        tasks.push(tokio::spawn(async move {
            directory
                .create(&new_user("jane", &format!("main:{n}")))
                .await
        }));
    }
    let mut created = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(_) => created += 1,
            Err(err) => assert!(matches!(err, DestinationError::Conflict { .. }), "{err:?}"),
        }
    }
    assert_eq!(created, 1);
    assert_eq!(directory.read_all_users().await.unwrap().len(), 1);
}

#[tokio::test]
async fn a_reopened_directory_knows_the_existing_user_names() {
    let dir = tempfile::tempdir().unwrap();
    let first = DirectoryDestination::open(dir.path()).unwrap();
    let id = first.create(&new_user("jane", "main:1")).await.unwrap();
    drop(first);

    let reopened = DirectoryDestination::open(dir.path()).unwrap();
    assert_eq!(reopened.writes(), 0);
    assert_eq!(
        reopened.create(&new_user("jane", "main:1")).await.unwrap(),
        id
    );
    let err = reopened
        .create(&new_user("Jane", "main:2"))
        .await
        .unwrap_err();
    assert!(matches!(err, DestinationError::Conflict { .. }), "{err:?}");
}

#[tokio::test]
async fn user_files_hold_the_documented_shape() {
    let (dir, directory) = open();
    let boss = directory.create(&new_user("boss", "main:1")).await.unwrap();
    let jane = directory.create(&new_user("jane", "main:2")).await.unwrap();
    directory.set_manager(&jane, Some(&boss)).await.unwrap();
    let raw = std::fs::read_to_string(dir.path().join(format!("users/{jane}.json"))).unwrap();
    let json: serde_json::Value = serde_json::from_str(&raw).unwrap();
    assert_eq!(json["id"], jane.as_str());
    assert_eq!(json["externalId"], "main:2");
    assert_eq!(json["userName"], "jane");
    assert_eq!(json["active"], true);
    assert_eq!(json["manager"], boss.as_str());
    assert_eq!(json["fields"]["title"], "Engineer");
    assert!(json["meta"]["created"].is_string() && json["meta"]["lastModified"].is_string());
}
