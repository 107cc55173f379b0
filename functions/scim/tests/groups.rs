//! Groups against a real scim2-server: members as the server holds them afterwards.

mod support;

use serde_json::Value;
use std::collections::BTreeSet;
use support::{fresh_destination, new_user};
use sync_core::ids::DestinationId;
use sync_core::ports::Destination;
use test_support::scim::ScimReader;

async fn members(reader: &ScimReader, id: &DestinationId) -> BTreeSet<String> {
    let group = reader.get(&format!("Groups/{id}"), &[]).await;
    group["members"]
        .as_array()
        .map(|members| {
            members
                .iter()
                .filter_map(|m| m["value"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

fn set(ids: &[&DestinationId]) -> BTreeSet<String> {
    ids.iter().map(|id| id.to_string()).collect()
}

#[tokio::test]
async fn a_group_is_created_with_members_and_members_are_added_and_removed() {
    let (destination, base_url) = fresh_destination("groups");
    let mut ids = Vec::new();
    for n in 0..4 {
        let user = new_user(
            &format!("main:{n}"),
            &[("user_name", &format!("member{n}"))],
        );
        ids.push(destination.create(&user).await.unwrap());
    }
    let reader = ScimReader::new(&base_url);

    let group = destination
        .create_group("R&D \"Berlin\"", "personio-sync:department:test", &ids[..2])
        .await
        .unwrap();
    let held = reader.get(&format!("Groups/{group}"), &[]).await;
    assert_eq!(held["displayName"], Value::from("R&D \"Berlin\""));
    assert_eq!(members(&reader, &group).await, set(&[&ids[0], &ids[1]]));

    destination
        .update_group(&group, &ids[2..], &ids[..1])
        .await
        .unwrap();
    assert_eq!(
        members(&reader, &group).await,
        set(&[&ids[1], &ids[2], &ids[3]])
    );

    // Adding who is there and removing who is not changes nothing and fails nothing.
    destination
        .update_group(&group, &ids[1..2], &ids[..1])
        .await
        .unwrap();
    assert_eq!(
        members(&reader, &group).await,
        set(&[&ids[1], &ids[2], &ids[3]])
    );

    let before = destination.requests();
    destination.update_group(&group, &[], &[]).await.unwrap();
    assert_eq!(
        destination.requests(),
        before,
        "an empty change sends nothing"
    );
}

#[tokio::test]
async fn a_group_without_members_can_be_created_and_filled() {
    let (destination, base_url) = fresh_destination("empty-group");
    let user = destination
        .create(&new_user("main:1", &[("user_name", "solo")]))
        .await
        .unwrap();
    let group = destination
        .create_group("Ops", "personio-sync:department:test", &[])
        .await
        .unwrap();
    destination
        .update_group(&group, std::slice::from_ref(&user), &[])
        .await
        .unwrap();
    assert_eq!(
        members(&ScimReader::new(&base_url), &group).await,
        set(&[&user])
    );
}
