//! The destination port: where users end up (a SCIM 2.0 server, or a JSON directory for local
//! runs), its errors, and what it is given and returns.

use crate::ids::DestinationId;
use crate::record::{FieldChange, UserRecord};
use async_trait::async_trait;

/// A user as the destination holds it: enough to find adoption candidates.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DestinationUser {
    /// The destination's id.
    pub id: DestinationId,
    /// Login name (SCIM `userName`).
    pub user_name: String,
    /// Work or primary email, if any.
    pub email: Option<String>,
    /// `externalId`, if set.
    pub external_id: Option<String>,
    /// Employee number, if set (enterprise extension `employeeNumber`).
    pub employee_number: Option<String>,
    /// Whether the user is active.
    pub active: bool,
}

/// A user to create.
#[derive(Clone, Debug, PartialEq)]
pub struct NewUser {
    /// Written to `externalId`: `PersonKey::external_id`.
    pub external_id: String,
    /// The mapped fields.
    pub record: UserRecord,
    /// Whether it starts active (pre-hires do not).
    pub active: bool,
}

/// Where one of the tenant's fields lands in the destination, and why: what `check-config
/// --online` and the admin API's preview show.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct FieldPlacement {
    /// The neutral field (a mapping target).
    pub field: String,
    /// Where it is written (a SCIM attribute path), `None` when it is not sent.
    pub place: Option<String>,
    /// Why there, or why not at all, in words an admin can act on.
    pub why: String,
}

/// A destination write or read that failed.
#[derive(Debug, thiserror::Error)]
pub enum DestinationError {
    /// The destination refused our credentials: the whole run stops.
    #[error("the destination rejected the token of tenant {tenant} ({detail}); update the destination token")]
    Unauthorized {
        /// The tenant.
        tenant: String,
        /// What the destination said.
        detail: String,
    },
    /// A uniqueness conflict (SCIM 409) that could not be resolved by adoption.
    #[error("the destination already has a user with this user name or email ({detail})")]
    Conflict {
        /// What the destination said.
        detail: String,
    },
    /// The destination refused this record (SCIM 400 with `scimType`).
    #[error("the destination refused the record: {detail}")]
    Rejected {
        /// HTTP status.
        status: u16,
        /// SCIM `scimType`, if given.
        scim_type: Option<String>,
        /// The destination's `detail`.
        detail: String,
    },
    /// The user or group is gone from the destination.
    #[error("the destination has no {what} with id {id}; it may have been deleted there")]
    NotFound {
        /// `user` or `group`.
        what: &'static str,
        /// The id.
        id: String,
    },
    /// Still rate limited or failing after every retry.
    #[error("the destination did not accept the write after {attempts} attempts ({detail})")]
    Unavailable {
        /// Attempts made.
        attempts: u32,
        /// Last status or error.
        detail: String,
    },
    /// Local storage or transport failure.
    #[error("could not reach the destination: {detail}")]
    Transport {
        /// The error.
        detail: String,
    },
}

impl DestinationError {
    /// Whether this error stops the whole run rather than one record.
    pub fn stops_run(&self) -> bool {
        matches!(self, Self::Unauthorized { .. })
    }
}

/// Where users end up: a SCIM 2.0 server, or a JSON directory for local runs.
///
/// Implementations retry transient failures (429, 5xx) themselves; an `Err` is final for this run.
/// Only [`Destination::delete_user`] deletes, and the engine calls it only for a leaver whose
/// retention (`lifecycle.delete_after_days`) is over.
#[async_trait]
pub trait Destination: Send + Sync {
    /// Every user, owned or not. Used on first sync to find users to adopt.
    async fn users(&self) -> Result<Vec<DestinationUser>, DestinationError>;
    /// The user with this `userName` (case-insensitive) or email, if any. Used instead of
    /// [`Destination::users`] when only a few people need a match.
    async fn find_user(&self, user_name: &str)
        -> Result<Option<DestinationUser>, DestinationError>;
    /// Creates a user; returns its id. On a uniqueness conflict, implementations look the user up
    /// by `externalId` and return its id when it carries ours (a retried create), never creating
    /// twice; otherwise [`DestinationError::Conflict`].
    async fn create(&self, user: &NewUser) -> Result<DestinationId, DestinationError>;
    /// Writes only the changed fields.
    async fn update(
        &self,
        id: &DestinationId,
        changes: &[FieldChange],
    ) -> Result<(), DestinationError>;
    /// Links an existing user to `external_id` (adoption), so later lookups find it as ours.
    async fn adopt(&self, id: &DestinationId, external_id: &str) -> Result<(), DestinationError>;
    /// Sets `active`.
    async fn set_active(&self, id: &DestinationId, active: bool) -> Result<(), DestinationError>;
    /// Deletes the user; one that is already gone counts as deleted.
    async fn delete_user(&self, id: &DestinationId) -> Result<(), DestinationError>;
    /// Sets or clears the manager.
    async fn set_manager(
        &self,
        id: &DestinationId,
        manager: Option<&DestinationId>,
    ) -> Result<(), DestinationError>;
    /// Creates a group carrying `external_id` with these members; returns its id. When a group
    /// with that `externalId` already exists (a create whose link was lost: a crash, a timeout
    /// after the server acted, a state restored from backup), implementations add the members
    /// to it and return its id instead of creating a second group.
    async fn create_group(
        &self,
        display_name: &str,
        external_id: &str,
        members: &[DestinationId],
    ) -> Result<DestinationId, DestinationError>;
    /// Adds and removes group members.
    async fn update_group(
        &self,
        id: &DestinationId,
        add: &[DestinationId],
        remove: &[DestinationId],
    ) -> Result<(), DestinationError>;
    /// Where each of `fields` lands and why. A SCIM destination reads what the app publishes
    /// about its users (at most once per destination) to answer.
    async fn field_placements(
        &self,
        fields: &[String],
    ) -> Result<Vec<FieldPlacement>, DestinationError>;
    /// Where this destination writes the tenant's fields (field → place), for a run about to
    /// write: a SCIM destination reads what the app publishes (as its first write would) and
    /// leaves out the fields with no place in it. `None` for a destination that keeps every field
    /// as it is, which never has a field to send again (see `run::placements`).
    async fn placed_fields(
        &self,
    ) -> Result<Option<std::collections::BTreeMap<String, String>>, DestinationError> {
        Ok(None)
    }
}
