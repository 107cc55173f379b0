//! What the service remembers between runs of a tenant: the snapshot of what it last wrote.
//!
//! The snapshot is the source of truth for "what changed": the plan diffs mapped Personio records
//! against it, never against the destination, so a no-op run reads nothing from the destination
//! and writes nothing. It advances one successful action at a time (see `apply`).

use crate::ids::{DestinationId, PersonKey};
use crate::record::UserRecord;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// The lifecycle state we last put a linked destination user in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LinkState {
    /// `active: true`.
    Active,
    /// Created ahead of the hire date, `active: false` until then.
    PreHire,
    /// Deactivated (left, out of scope, gone from Personio). Deleted only by retention
    /// (`lifecycle.delete_after_days`), which then forgets the link.
    Inactive,
}

/// How a link began.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LinkOrigin {
    /// We created the user.
    Created,
    /// The user existed in the app and we adopted it (matched on first sync).
    Adopted,
}

impl LinkState {
    /// Whether the destination user is active in this state.
    pub fn is_active(self) -> bool {
        matches!(self, Self::Active)
    }
}

/// One Personio person linked to one destination user.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Link {
    /// Account and Personio id.
    pub key: PersonKey,
    /// The destination user's id.
    pub destination_id: DestinationId,
    /// The state we last wrote.
    pub state: LinkState,
    /// The fields we last wrote.
    pub record: UserRecord,
    /// The manager we last linked (by Personio key), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manager: Option<PersonKey>,
    /// The day we sent the welcome email, so it goes out once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invited_on: Option<chrono::NaiveDate>,
    /// Whether we created or adopted the user; `None` for links from before it was recorded,
    /// which retention treats as adopted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin: Option<LinkOrigin>,
    /// The tenant's day we last made the user inactive (a leaver's retention counts from it
    /// when Personio gives no termination date); `None` while active.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inactive_since: Option<chrono::NaiveDate>,
    /// An admin re-linked this departed profile's user to this person (a rehire under a new
    /// Personio profile): the next run writes our external id and every field to it, then
    /// clears this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub relinked_from: Option<PersonKey>,
    /// New Personio profiles an admin chose to give a new user rather than this departed
    /// profile's: they are not held as rehires of it again.
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub rehire_declined: BTreeSet<PersonKey>,
    /// The value write-back last wrote into the person's Personio attribute (`[write_back]`),
    /// so that it writes only what changed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub written_back: Option<String>,
}

/// Which attribute of a person a group stands for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GroupKind {
    /// Personio `department`.
    Department,
    /// Personio `team`.
    Team,
    /// Personio `office`.
    Office,
    /// One of Personio's `cost_centers` (a person in several is in each group).
    CostCenter,
    /// Personio `subcompany`: the legal entity.
    LegalEntity,
    /// Personio `position`: the job title.
    Position,
    /// A value of an attribute the tenant chose (`[groups] attributes`); the name carries the
    /// attribute's title: `Shirt size: M`.
    Attribute,
}

impl GroupKind {
    /// The kind as text.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Department => "department",
            Self::Team => "team",
            Self::Office => "office",
            Self::CostCenter => "cost_center",
            Self::LegalEntity => "legal_entity",
            Self::Position => "position",
            Self::Attribute => "attribute",
        }
    }
}

/// The name of one group we manage: its kind and Personio's display name.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct GroupKey {
    /// Department, team, office, cost center, legal entity, position or attribute value.
    pub kind: GroupKind,
    /// Personio's name (`Engineering`; `Shirt size: M` for an attribute's value).
    pub name: String,
}

impl GroupKey {
    /// The group's `displayName` in the app: Personio's name for departments, teams, offices
    /// and attribute values; with what it is for the kinds whose names say little alone
    /// (`Cost center: CC-100`, `Legal entity: Nordlicht GmbH`, `Position: Designer`).
    pub fn display_name(&self) -> std::borrow::Cow<'_, str> {
        let prefix = match self.kind {
            GroupKind::CostCenter => "Cost center",
            GroupKind::LegalEntity => "Legal entity",
            GroupKind::Position => "Position",
            GroupKind::Department | GroupKind::Team | GroupKind::Office | GroupKind::Attribute => {
                return std::borrow::Cow::Borrowed(&self.name)
            }
        };
        std::borrow::Cow::Owned(format!("{prefix}: {}", self.name))
    }

    /// The `externalId` of the destination group: `personio-sync:<kind>:<name>`, so a group we
    /// created is found again even when its link is lost.
    pub fn external_id(&self) -> String {
        format!("personio-sync:{}:{}", self.kind.as_str(), self.name)
    }
}

/// A destination group we created and keep in step.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GroupLink {
    /// Which group.
    pub key: GroupKey,
    /// The destination's id for it.
    pub destination_id: DestinationId,
    /// The members we last wrote.
    pub members: BTreeSet<PersonKey>,
}

/// Facts about the last source fetch that the guards compare the next one with.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SourceStats {
    /// How many employees Personio returned.
    pub employees: usize,
    /// For each attribute key: on how many employees Personio returned it.
    pub attribute_presence: BTreeMap<String, usize>,
    /// Where the destination wrote the tenant's fields (field → place) at the last run that wrote
    /// (see `Destination::placed_fields`); `None` before any such run, and for destinations that
    /// keep every field. A field that gains a place, or moves, is then sent to every user who
    /// has a value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub destination_fields: Option<BTreeMap<String, String>>,
}

/// Everything remembered for one tenant, loaded at the start of a run.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Snapshot {
    /// Linked people.
    pub links: BTreeMap<PersonKey, Link>,
    /// Groups we manage.
    pub groups: BTreeMap<GroupKey, GroupLink>,
    /// The last source fetch, if there was one.
    pub source_stats: Option<SourceStats>,
}

impl Snapshot {
    /// Logs that a store loaded this snapshot for `tenant` (counts and time only: links hold
    /// personal data), the same line from every store.
    pub fn log_loaded(&self, tenant: &crate::ids::TenantId, started: std::time::Instant) {
        tracing::debug!(
            tenant_id = %tenant,
            links = self.links.len(),
            groups = self.groups.len(),
            elapsed_ms = started.elapsed().as_millis() as u64,
            "snapshot loaded"
        );
    }
}
