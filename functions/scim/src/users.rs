//! SCIM Users: listing with paging, searching by `externalId`, `userName` and email, creating
//! (with the retried-create check on 409), and the writes the engine makes to existing users.
//! Users are never deleted.

use crate::client::Verb;
use crate::error::{Failure, Refusal};
use crate::json::member;
use crate::patch::{self, PathChange};
use crate::path::{eq_filter, AttrPath};
use crate::resource::{Edit, Target};
use crate::schema::ENTERPRISE_USER;
use crate::ScimDestination;
use futures::future;
use futures::stream::{self, StreamExt, TryStreamExt};
use serde_json::{json, Value};
use std::collections::BTreeSet;
use sync_core::ids::DestinationId;
use sync_core::ports::{DestinationError, DestinationUser, NewUser};
use sync_core::record::{FieldChange, USER_NAME};

/// Users asked for per page; lowered to the server's `filter.maxResults` when smaller.
const PAGE_SIZE: usize = 100;
/// The most users a listing reads before giving up: twenty times the largest tenant planned
/// for (50,000 people), so that a server paging without end cannot fill our memory.
const MAX_USERS: usize = 1_000_000;
/// Users asked for in a search by a unique attribute: more than one is already suspicious.
const SEARCH_SIZE: usize = 10;

/// One page of `GET /Users`.
struct Page {
    total: usize,
    resources: Vec<Value>,
}

impl ScimDestination {
    /// Every user, paging through `GET /Users` (RFC 7644 §3.4.2.4). Pages after the first go
    /// out concurrently; a user seen twice (the list shifted while paging) is kept once.
    pub(crate) async fn list_users(&self) -> Result<Vec<DestinationUser>, DestinationError> {
        let tenant = self.client.tenant();
        let (resources, total) = self
            .list_resources()
            .await
            .map_err(|f| f.into_collection_error(tenant, "/Users"))?;
        let mut seen = BTreeSet::new();
        let users: Vec<DestinationUser> = resources
            .iter()
            .filter_map(|resource| self.schema.destination_user(resource))
            .filter(|user| seen.insert(user.id.clone()))
            .collect();
        tracing::info!(
            tenant,
            users = users.len(),
            total,
            "listed destination users"
        );
        Ok(users)
    }

    /// Every user resource, and the total the server claimed.
    async fn list_resources(&self) -> Result<(Vec<Value>, usize), Failure> {
        let tenant = self.client.tenant();
        let capabilities = self.client.capabilities().await?;
        let count = capabilities
            .max_results
            .map_or(PAGE_SIZE, |max| max.min(PAGE_SIZE));
        let first = self.page(None, 1, count).await?;
        // The server may return fewer than asked (RFC 7644 §3.4.2.4): step by what it gave.
        let step = first.resources.len();
        let mut resources = first.resources;
        if step > 0 && first.total > step {
            // `totalResults` is the server's claim, not a size: the start indexes are made as
            // the pages go out, and the list ends at the first empty page, so a server that
            // claims four billion users and holds two costs a few requests, not 16 GB.
            let starts = (1 + step..=first.total).step_by(step);
            let mut pages = stream::iter(starts)
                .map(|start| self.page(None, start, count))
                .buffered(self.client.concurrency())
                .try_take_while(|page| future::ready(Ok(!page.resources.is_empty())));
            let too_many = |read: usize| {
                Failure::Malformed(format!(
                    "the destination of tenant {tenant} listed more than {MAX_USERS} users \
                     ({read} so far, {} claimed); check that the SCIM base URL points at this \
                     tenant's users",
                    first.total
                ))
            };
            while let Some(page) = pages.try_next().await? {
                resources.extend(page.resources);
                if resources.len() > MAX_USERS {
                    return Err(too_many(resources.len()));
                }
            }
        }
        Ok((resources, first.total))
    }

    /// The user with this `userName` (servers compare it case-insensitively, RFC 7643 §4.1.1),
    /// else, for an email address, the user holding it.
    pub(crate) async fn find_user_by_name(
        &self,
        user_name: &str,
    ) -> Result<Option<DestinationUser>, DestinationError> {
        let tenant = self.client.tenant();
        let by_name = self
            .search("userName", user_name)
            .await
            .map_err(|f| f.into_collection_error(tenant, "/Users"))?;
        if let Some(user) = by_name.iter().find_map(|r| self.schema.destination_user(r)) {
            return Ok(Some(user));
        }
        let email_path = match self.schema.path(sync_core::record::EMAIL) {
            Some(path) if user_name.contains('@') => path.without_filter(),
            _ => return Ok(None),
        };
        match self.search(&email_path, user_name).await {
            Ok(found) => Ok(found.iter().find_map(|r| self.schema.destination_user(r))),
            // Not every server filters on emails; then there is simply no match by email.
            Err(Failure::Refused(refusal)) if refusal.status == 400 => {
                tracing::debug!(tenant, scim_type = ?refusal.scim_type, "the destination cannot filter by email");
                Ok(None)
            }
            Err(failure) => Err(failure.into_collection_error(tenant, "/Users")),
        }
    }

    /// The user carrying `external_id` (compared exactly: `externalId` is case-exact,
    /// RFC 7643 §3.1), if any.
    pub async fn find_by_external_id(
        &self,
        external_id: &str,
    ) -> Result<Option<DestinationUser>, DestinationError> {
        let found = self
            .search("externalId", external_id)
            .await
            .map_err(|f| f.into_collection_error(self.client.tenant(), "/Users"))?;
        Ok(found
            .iter()
            .filter_map(|resource| self.schema.destination_user(resource))
            .find(|user| user.external_id.as_deref() == Some(external_id)))
    }

    /// `POST /Users`. On 409, a user that already carries our `externalId` is the result of an
    /// earlier attempt of this create (a timeout after the server acted, a retried run), so its
    /// id is returned instead of creating a second user.
    pub(crate) async fn create_user(
        &self,
        user: &NewUser,
    ) -> Result<DestinationId, DestinationError> {
        let tenant = self.client.tenant();
        let body = self.write_schema().await?.user_json(user);
        match self
            .client
            .send(Verb::Post, &["Users"], &[], Some(&body), None)
            .await
        {
            Ok(reply) => {
                let id = reply
                    .body
                    .as_ref()
                    .and_then(|body| member(body, "id"))
                    .and_then(Value::as_str)
                    .map(str::to_owned)
                    .or_else(|| reply.location.as_deref().and_then(last_segment));
                let id = id
                    .and_then(|id| DestinationId::parse(&id).ok())
                    .ok_or_else(|| DestinationError::Transport {
                        detail: "the destination created a user but returned no id for it".into(),
                    })?;
                tracing::info!(tenant, id = %id, "created user");
                Ok(id)
            }
            Err(Failure::Refused(refusal)) if refusal.status == 409 => {
                match self
                    .earlier_create(user)
                    .await
                    .map_err(|f| f.into_collection_error(tenant, "/Users"))?
                {
                    Some(id) => {
                        tracing::info!(tenant, id = %id, "create answered 409 for a user that already carries our externalId; using it");
                        Ok(id)
                    }
                    None => Err(DestinationError::Conflict {
                        detail: refusal.detail,
                    }),
                }
            }
            Err(failure) => Err(failure.into_collection_error(tenant, "/Users")),
        }
    }

    /// The user an earlier attempt of this create made: found by `externalId`, or by
    /// `userName` for servers that cannot filter on `externalId`, and carrying ours.
    async fn earlier_create(&self, user: &NewUser) -> Result<Option<DestinationId>, Failure> {
        let ours = |resource: &&Value| {
            member(resource, "externalId").and_then(Value::as_str)
                == Some(user.external_id.as_str())
        };
        let id_of = |resource: &Value| {
            member(resource, "id")
                .and_then(Value::as_str)
                .and_then(|id| DestinationId::parse(id).ok())
        };
        match self.search("externalId", &user.external_id).await {
            Ok(found) => {
                if let Some(id) = found.iter().find(ours).and_then(id_of) {
                    return Ok(Some(id));
                }
            }
            Err(Failure::Refused(refusal)) if refusal.status == 400 => {}
            Err(failure) => return Err(failure),
        }
        let Some(user_name) = user.record.text(USER_NAME) else {
            return Ok(None);
        };
        let found = self.search("userName", &user_name).await?;
        Ok(found.iter().find(ours).and_then(id_of))
    }

    /// Writes the changed fields that have a SCIM home; the others are not sent.
    pub(crate) async fn update_user(
        &self,
        id: &DestinationId,
        changes: &[FieldChange],
    ) -> Result<(), DestinationError> {
        let schema = self.write_schema().await?;
        let changes: Vec<PathChange<'_>> = changes
            .iter()
            .filter_map(|change| {
                let path = schema.path(&change.field)?;
                Some(PathChange {
                    path,
                    value: change
                        .new
                        .as_ref()
                        .map(|value| schema.value(&change.field, value)),
                })
            })
            .collect();
        if changes.is_empty() {
            return Ok(());
        }
        let operations = |current: &Value| patch::operations(&changes, current);
        let rewrite = |current: &Value| patch::rewrite(&changes, current);
        let edit = Edit {
            blind: None,
            operations: &operations,
            rewrite: &rewrite,
        };
        self.write(user(id), edit).await?;
        tracing::info!(tenant = self.client.tenant(), id = %id, fields = changes.len(), "updated user");
        Ok(())
    }

    /// Deletes user `id` (`DELETE /Users/{id}`, RFC 7644 §3.6): retention's last step. A user
    /// already gone (404) counts as deleted, so a retried deletion whose answer was lost ends.
    pub(crate) async fn delete_user(&self, id: &DestinationId) -> Result<(), DestinationError> {
        match self
            .client
            .send(Verb::Delete, &["Users", id.as_str()], &[], None, None)
            .await
        {
            Ok(_) | Err(Failure::Refused(Refusal { status: 404, .. })) => {
                tracing::info!(tenant = self.client.tenant(), id = %id, "deleted user");
                Ok(())
            }
            Err(failure) => Err(failure.into_error(self.client.tenant(), "user", id.as_str())),
        }
    }

    /// Sets one attribute the adapter owns (`active`, `externalId`, the manager), or removes it.
    pub(crate) async fn set_user_attribute(
        &self,
        id: &DestinationId,
        path: &str,
        value: Option<Value>,
    ) -> Result<(), DestinationError> {
        let path = AttrPath::parse(path).map_err(|reason| DestinationError::Transport {
            detail: format!("internal path {path:?} does not parse: {reason}"),
        })?;
        let change = [PathChange {
            path: &path,
            value: value.clone(),
        }];
        let blind = match &value {
            Some(value) => json!({"op": "replace", "path": path.to_string(), "value": value}),
            None => json!({"op": "remove", "path": path.to_string()}),
        };
        let operations = |current: &Value| patch::operations(&change, current);
        let rewrite = |current: &Value| patch::rewrite(&change, current);
        let edit = Edit {
            blind: Some(vec![blind]),
            operations: &operations,
            rewrite: &rewrite,
        };
        self.write(user(id), edit).await?;
        tracing::info!(tenant = self.client.tenant(), id = %id, attribute = path.attribute(), set = value.is_some(), "wrote user attribute");
        Ok(())
    }

    /// The path of the enterprise manager.
    pub(crate) fn manager_path() -> String {
        format!("{ENTERPRISE_USER}:manager")
    }

    /// Users whose `path` equals `value`: a filter's first page, or, for an app whose
    /// `/ServiceProviderConfig` says it cannot filter, every user compared here (costly, but
    /// such apps are small and rare, and a refused filter would fail every lookup).
    async fn search(&self, path: &str, value: &str) -> Result<Vec<Value>, Failure> {
        if self.client.capabilities().await?.filter {
            let filter = eq_filter(path, value);
            return Ok(self.page(Some(filter), 1, SEARCH_SIZE).await?.resources);
        }
        // `externalId` is case-exact (RFC 7643 §3.1); user names and emails are not.
        let exact = path.eq_ignore_ascii_case("externalId");
        let (resources, _) = self.list_resources().await?;
        Ok(resources
            .into_iter()
            .filter(|resource| holds(resource, path, value, exact))
            .collect())
    }

    async fn page(
        &self,
        filter: Option<String>,
        start: usize,
        count: usize,
    ) -> Result<Page, Failure> {
        let mut query = vec![
            ("startIndex", start.to_string()),
            ("count", count.to_string()),
        ];
        if let Some(filter) = filter {
            query.push(("filter", filter));
        }
        let reply = self
            .client
            .send(Verb::Get, &["Users"], &query, None, None)
            .await?;
        let body = reply.body.ok_or_else(|| {
            Failure::Malformed("the destination answered a user list without a body".into())
        })?;
        let resources = match member(&body, "Resources") {
            Some(Value::Array(resources)) => resources.clone(),
            // RFC 7644 §3.4.2: `Resources` may be left out when there are no results.
            None | Some(Value::Null) => Vec::new(),
            Some(_) => {
                return Err(Failure::Malformed(
                    "the destination's user list has no Resources array".into(),
                ))
            }
        };
        let total = member(&body, "totalResults")
            .and_then(Value::as_u64)
            .and_then(|total| usize::try_from(total).ok())
            .unwrap_or(resources.len());
        Ok(Page { total, resources })
    }
}

fn user(id: &DestinationId) -> Target<'_> {
    Target {
        collection: "Users",
        what: "user",
        id,
    }
}

/// The id at the end of a `Location` URL.
fn last_segment(location: &str) -> Option<String> {
    let segment = location.trim_end_matches('/').rsplit('/').next()?;
    (!segment.is_empty()).then(|| segment.to_owned())
}

/// Whether `resource` holds `value` at `path` (`userName`, `emails.value`): for a multi-valued
/// attribute, in any of its elements.
fn holds(resource: &Value, path: &str, value: &str, exact: bool) -> bool {
    let same = |held: &Value| {
        held.as_str().is_some_and(|held| {
            if exact {
                held == value
            } else {
                held.to_lowercase() == value.to_lowercase()
            }
        })
    };
    let (head, sub) = path
        .split_once('.')
        .map_or((path, None), |(h, s)| (h, Some(s)));
    let Some(top) = member(resource, head) else {
        return false;
    };
    match (top, sub) {
        (Value::Array(items), Some(sub)) => {
            items.iter().any(|item| member(item, sub).is_some_and(same))
        }
        (top, Some(sub)) => member(top, sub).is_some_and(same),
        (top, None) => same(top),
    }
}
