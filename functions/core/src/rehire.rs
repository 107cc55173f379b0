//! Rehires under a new Personio profile: a run holds a person without a user whose user name
//! (the `matching.field` value) is that of a departed profile's inactive user, rather than
//! creating a second user or failing on the taken name. An admin decides here, through the CLI
//! (`personio-sync rehire`) or the admin API (`POST /tenants/{tenant}/rehires`):
//!
//! - **re-link**: the departed profile's user becomes the new profile's. Its link moves to the
//!   new key, marked `relinked_from`, and the next run adopts it (our external id, every field,
//!   active as Personio says), so the app keeps one account with its history;
//! - **create new**: the departed profile remembers the new one in `rehire_declined`, and the next
//!   run treats the new profile like any joiner.
//!
//! Both change only the tenant's state; the run that follows writes to the app and records the
//! decision in its history (an `adopt` whose reason names the departed profile, or a `create`).

use crate::ids::{DestinationId, PersonKey, TenantId};
use crate::ports::{Store, StoreError};
use crate::state::{Link, LinkState};

/// How the reason of a held rehire begins, so that the summary email and the CLI can list the
/// people waiting for a decision.
pub const HELD: &str = "held as a possible rehire";

/// Whether a skip's reason is a held rehire's.
pub fn is_held(reason: &str) -> bool {
    reason.starts_with(HELD)
}

/// What an admin chose for a held rehire.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RehireDecision {
    /// Give the departed profile's user to the new profile.
    Relink,
    /// Give the new profile a user of its own.
    CreateNew,
}

/// Why a decision could not be recorded.
#[derive(Debug, thiserror::Error)]
pub enum RehireError {
    /// The departed profile has no user in this tenant.
    #[error("Personio profile {previous} has no user in this tenant; name the departed profile the held person's reason names")]
    NoPrevious {
        /// The departed profile.
        previous: PersonKey,
    },
    /// The previous profile's user is not inactive.
    #[error("the user of Personio profile {previous} is not inactive; only a departed profile's user can be re-linked")]
    NotDeparted {
        /// The previous profile.
        previous: PersonKey,
    },
    /// The new profile has a user already.
    #[error("Personio profile {person} already has user {destination_id} in the app; there is nothing to decide")]
    AlreadyLinked {
        /// The new profile.
        person: PersonKey,
        /// Its user.
        destination_id: DestinationId,
    },
    /// The same profile twice.
    #[error("--person and --previous name the same Personio profile {person}")]
    SameProfile {
        /// The profile.
        person: PersonKey,
    },
    /// The state could not be read or written.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Records `decision` for new profile `person`, held as a rehire of departed profile `previous`;
/// returns the departed profile's user. Repeating a re-link that stopped half-way finishes it.
pub async fn decide(
    store: &dyn Store,
    tenant: &TenantId,
    person: &PersonKey,
    previous: &PersonKey,
    decision: RehireDecision,
) -> Result<DestinationId, RehireError> {
    if person == previous {
        return Err(RehireError::SameProfile {
            person: person.clone(),
        });
    }
    let snapshot = store.snapshot(tenant).await?;
    let old = snapshot.links.get(previous);
    if let Some(link) = snapshot.links.get(person) {
        let finishing =
            decision == RehireDecision::Relink && link.relinked_from.as_ref() == Some(previous);
        if !finishing {
            return Err(RehireError::AlreadyLinked {
                person: person.clone(),
                destination_id: link.destination_id.clone(),
            });
        }
        // Saved, but the departed profile's link was not removed yet.
        if old.is_some() {
            store.remove_link(tenant, previous).await?;
        }
        return Ok(link.destination_id.clone());
    }
    let Some(old) = old else {
        return Err(RehireError::NoPrevious {
            previous: previous.clone(),
        });
    };
    if old.state != LinkState::Inactive {
        return Err(RehireError::NotDeparted {
            previous: previous.clone(),
        });
    }
    match decision {
        RehireDecision::Relink => {
            let moved = Link {
                key: person.clone(),
                manager: None,
                relinked_from: Some(previous.clone()),
                rehire_declined: Default::default(),
                written_back: None,
                ..old.clone()
            };
            // The new link first: should removing the old one fail, both point at the user,
            // and repeating the decision finishes (above) instead of losing the user.
            store.save_link(tenant, &moved).await?;
            store.remove_link(tenant, previous).await?;
        }
        RehireDecision::CreateNew => {
            let mut kept = old.clone();
            kept.rehire_declined.insert(person.clone());
            store.save_link(tenant, &kept).await?;
        }
    }
    tracing::info!(tenant_id = %tenant, decision = ?decision, "rehire decided");
    Ok(old.destination_id.clone())
}
