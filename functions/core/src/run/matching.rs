//! Match: find the unlinked app users that people of this run may adopt (a first sync into an app
//! that already has accounts), by the tenant's matching field, user name or email.

use crate::config::TenantConfig;
use crate::people::Person;
use crate::ports::{Destination, DestinationError, DestinationUser};
use crate::record::{EMAIL, USER_NAME};
use crate::state::Snapshot;
use chrono::{DateTime, Utc};
use std::collections::{BTreeMap, BTreeSet};

/// Above this many unmatched people, list all destination users once instead of one lookup each.
const LIST_ALL_ABOVE: usize = 20;

/// Unlinked destination users that people of this run may adopt, by lower-cased userName and email.
pub(super) async fn candidates(
    destination: &dyn Destination,
    config: &TenantConfig,
    people: &[Person],
    snapshot: &Snapshot,
    now: DateTime<Utc>,
) -> Result<BTreeMap<String, DestinationUser>, DestinationError> {
    let unmatched: Vec<String> = people
        .iter()
        .filter(|person| !snapshot.links.contains_key(person.key()))
        .filter(|person| person.may_need_account(config, now))
        .filter_map(|person| person.record.as_ref().ok())
        .filter_map(|record| {
            record
                .text(&config.matching.field)
                .or_else(|| record.text(USER_NAME))
                .or_else(|| record.text(EMAIL))
        })
        .collect();
    if unmatched.is_empty() {
        return Ok(BTreeMap::new());
    }
    let users = if unmatched.len() > LIST_ALL_ABOVE {
        destination.users().await?
    } else {
        let mut found = Vec::new();
        for value in &unmatched {
            if let Some(user) = destination.find_user(value).await? {
                found.push(user);
            }
        }
        found
    };
    let linked: BTreeSet<&str> = snapshot
        .links
        .values()
        .map(|link| link.destination_id.as_str())
        .collect();
    let mut candidates = BTreeMap::new();
    for user in users
        .into_iter()
        .filter(|user| !linked.contains(user.id.as_str()))
    {
        let mut keys = vec![user.user_name.trim().to_lowercase()];
        keys.extend(user.email.iter().map(|email| email.trim().to_lowercase()));
        keys.extend(
            user.employee_number
                .iter()
                .map(|number| number.trim().to_lowercase()),
        );
        for key in keys {
            candidates.entry(key).or_insert_with(|| user.clone());
        }
    }
    Ok(candidates)
}
