//! SCIM Groups (RFC 7643 §4.2): creating a group with its members and adding or removing
//! members. The engine only touches groups it created; groups are never deleted.

use crate::client::Verb;
use crate::error::Failure;
use crate::json::member;
use crate::path::string_literal;
use crate::resource::{Edit, Target};
use crate::ScimDestination;
use serde_json::{json, Value};
use std::collections::BTreeSet;
use sync_core::ids::DestinationId;
use sync_core::ports::DestinationError;
use sync_core::retry::{Failed, GaveUp};

/// What a create of a group came to: posted now, or found from an earlier attempt.
enum Created {
    Posted(crate::client::Reply),
    Found(DestinationId),
}

/// The core Group schema.
pub const CORE_GROUP: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";

impl ScimDestination {
    /// `POST /Groups` with the members and our `externalId`; returns the group's id. A group that
    /// already carries the `externalId` (ours, from a create whose link was lost) gets the members
    /// added and is returned instead, so no group is ever created twice.
    pub(crate) async fn create_group_with(
        &self,
        display_name: &str,
        external_id: &str,
        members: &[DestinationId],
    ) -> Result<DestinationId, DestinationError> {
        let tenant = self.client.tenant();
        let body = json!({
            "schemas": [CORE_GROUP],
            "displayName": display_name,
            "externalId": external_id,
            "members": members.iter().map(member_value).collect::<Vec<_>>(),
        });
        // Groups have no unique attribute a server could refuse a second copy on, so a POST is
        // never repeated blindly: before each attempt, look for the group the last one may have
        // created before its answer was lost.
        let body = &body;
        let outcome = self
            .client
            .backoff(self.client.max_attempts())
            .retry(|_| async move {
                if let Some(id) = self.find_group(external_id).await.map_err(Failed::Final)? {
                    return Ok(Created::Found(id));
                }
                match self
                    .client
                    .send_limited(Verb::Post, &["Groups"], &[], Some(body), None, 1)
                    .await
                {
                    Ok(reply) => Ok(Created::Posted(reply)),
                    Err(failure @ Failure::Exhausted { .. }) => Err(Failed::transient(failure)),
                    Err(failure) => Err(Failed::Final(
                        failure.into_collection_error(tenant, "/Groups"),
                    )),
                }
            })
            .await;
        let reply = match outcome {
            Ok(Created::Posted(reply)) => reply,
            Ok(Created::Found(id)) => {
                self.update_group_members(&id, members, &[]).await?;
                tracing::info!(tenant, id = %id, "re-linked an existing group");
                return Ok(id);
            }
            Err(GaveUp::Final(error)) => return Err(error),
            Err(GaveUp::Exhausted { failure, .. } | GaveUp::TooLongToWait { failure, .. }) => {
                return Err(failure.into_collection_error(tenant, "/Groups"))
            }
        };
        let id = reply
            .body
            .as_ref()
            .and_then(|body| member(body, "id"))
            .and_then(Value::as_str)
            .and_then(|id| DestinationId::parse(id).ok())
            .ok_or_else(|| DestinationError::Transport {
                detail: "the destination created a group but returned no id for it".into(),
            })?;
        tracing::info!(tenant, id = %id, members = members.len(), "created group");
        Ok(id)
    }

    /// The group carrying `external_id` (compared exactly), if any.
    async fn find_group(
        &self,
        external_id: &str,
    ) -> Result<Option<DestinationId>, DestinationError> {
        let tenant = self.client.tenant();
        let query = [
            ("filter", crate::path::eq_filter("externalId", external_id)),
            ("count", "10".to_owned()),
        ];
        let reply = self
            .client
            .send(Verb::Get, &["Groups"], &query, None, None)
            .await
            .map_err(|f| f.into_collection_error(tenant, "/Groups"))?;
        let found = reply
            .body
            .as_ref()
            .and_then(|body| member(body, "Resources"))
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter(|group| {
                member(group, "externalId").and_then(Value::as_str) == Some(external_id)
            })
            .find_map(|group| {
                member(group, "id")
                    .and_then(Value::as_str)
                    .and_then(|id| DestinationId::parse(id).ok())
            });
        Ok(found)
    }

    /// Adds and removes members: one PATCH with an `add` of the new members and a `remove` of
    /// `members[value eq "id"]` per leaver (RFC 7644 §3.5.2.2), or GET-modify-PUT.
    pub(crate) async fn update_group_members(
        &self,
        id: &DestinationId,
        add: &[DestinationId],
        remove: &[DestinationId],
    ) -> Result<(), DestinationError> {
        if add.is_empty() && remove.is_empty() {
            return Ok(());
        }
        let add: BTreeSet<&str> = add.iter().map(DestinationId::as_str).collect();
        let remove: BTreeSet<&str> = remove.iter().map(DestinationId::as_str).collect();
        let blind = operations(&add, &remove);
        // With the group in hand, only add who is missing and remove who is there: what a strict
        // server that refuses `noTarget` removals needs.
        let derived = |current: &Value| {
            let present = member_ids(current);
            let missing: BTreeSet<&str> = add
                .iter()
                .copied()
                .filter(|m| !present.contains(m))
                .collect();
            let there: BTreeSet<&str> = remove
                .iter()
                .copied()
                .filter(|m| present.contains(m))
                .collect();
            operations(&missing, &there)
        };
        let rewrite = |current: &Value| {
            let present = member_ids(current);
            let mut group = current.clone();
            let object = group.as_object_mut()?;
            let key = object
                .keys()
                .find(|k| k.eq_ignore_ascii_case("members"))
                .cloned()
                .unwrap_or_else(|| "members".into());
            let mut members: Vec<Value> = match object.remove(&key) {
                Some(Value::Array(members)) => members,
                _ => Vec::new(),
            };
            members.retain(|m| !member_id(m).is_some_and(|id| remove.contains(id)));
            members.extend(
                add.iter()
                    .filter(|m| !present.contains(**m))
                    .map(|m| json!({"value": m})),
            );
            object.insert(key, Value::Array(members));
            (group != *current).then_some(group)
        };
        let edit = Edit {
            blind: Some(blind),
            operations: &derived,
            rewrite: &rewrite,
        };
        let target = Target {
            collection: "Groups",
            what: "group",
            id,
        };
        self.write(target, edit).await?;
        tracing::info!(tenant = self.client.tenant(), id = %id, added = add.len(), removed = remove.len(), "updated group members");
        Ok(())
    }
}

fn member_value(id: &DestinationId) -> Value {
    json!({"value": id.as_str()})
}

fn operations(add: &BTreeSet<&str>, remove: &BTreeSet<&str>) -> Vec<Value> {
    let mut operations = Vec::new();
    if !add.is_empty() {
        let members: Vec<Value> = add.iter().map(|id| json!({"value": id})).collect();
        operations.push(json!({"op": "add", "path": "members", "value": members}));
    }
    for id in remove {
        operations.push(json!({
            "op": "remove",
            "path": format!("members[value eq {}]", string_literal(id)),
        }));
    }
    operations
}

fn member_id(member_entry: &Value) -> Option<&str> {
    member(member_entry, "value").and_then(Value::as_str)
}

fn member_ids(group: &Value) -> BTreeSet<&str> {
    member(group, "members")
        .and_then(Value::as_array)
        .map(|members| members.iter().filter_map(member_id).collect())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn member_changes_become_one_add_and_a_filtered_remove_each() {
        let add = BTreeSet::from(["u1", "u2"]);
        let remove = BTreeSet::from(["u\"3"]);
        assert_eq!(
            operations(&add, &remove),
            [
                json!({"op": "add", "path": "members", "value": [{"value": "u1"}, {"value": "u2"}]}),
                json!({"op": "remove", "path": r#"members[value eq "u\"3"]"#}),
            ]
        );
    }
}
