//! Retention (opt-in, `lifecycle.delete_after_days`): a leaver's deactivated user is deleted
//! once the days have passed since their termination date, or, when Personio gives none (status
//! inactive without a date, or gone from Personio), since the day we deactivated it. Counted in
//! the tenant's time zone, as the issue of GDPR deletion is the tenant's. Only users we created
//! qualify, unless `delete_adopted` says adopted ones (and links from before the origin was
//! recorded) may go too. People still employed but out of scope are never deleted.

use super::{Action, ActionKind, Plan};
use crate::config::TenantConfig;
use crate::ids::PersonKey;
use crate::state::{Link, LinkOrigin, LinkState, Snapshot};
use chrono::{Days, NaiveDate};

/// A leaver whose user is inactive and whom this run leaves as it is.
pub(super) struct Leaver {
    /// The person.
    pub key: PersonKey,
    /// Personio's termination date, when it gives one.
    pub termination: Option<NaiveDate>,
}

/// The day from which a leaver's retention counts: the termination date, else the day the user
/// became inactive; `None` when neither is known (a link deactivated before the day was
/// recorded, of someone Personio no longer lists).
fn counted_from(leaver: &Leaver, link: &Link) -> Option<NaiveDate> {
    leaver.termination.or(link.inactive_since)
}

/// Whether `days` have passed since `since` on `today`.
pub fn due(since: NaiveDate, days: u32, today: NaiveDate) -> bool {
    since
        .checked_add_days(Days::new(days.into()))
        .is_some_and(|due| due <= today)
}

/// Adds a deletion for each leaver whose retention is over; returns who is deleted.
pub(super) fn plan_deletions(
    config: &TenantConfig,
    snapshot: &Snapshot,
    leavers: &[Leaver],
    today: NaiveDate,
    plan: &mut Plan,
) -> Vec<PersonKey> {
    let Some(days) = config.lifecycle.delete_after_days else {
        return Vec::new();
    };
    let mut deleted = Vec::new();
    for leaver in leavers {
        let Some(link) = snapshot.links.get(&leaver.key) else {
            continue;
        };
        let ours = link.origin == Some(LinkOrigin::Created) || config.lifecycle.delete_adopted;
        if link.state != LinkState::Inactive || !ours {
            continue;
        }
        // A user another link points at too (a re-link that stopped half-way) is someone's.
        let shared = snapshot
            .links
            .values()
            .any(|other| other.key != link.key && other.destination_id == link.destination_id);
        if shared {
            continue;
        }
        let Some(since) = counted_from(leaver, link) else {
            continue;
        };
        if !due(since, days, today) {
            continue;
        }
        let reason = match leaver.termination {
            Some(date) => format!("left on {date}; the {days} days of retention are over"),
            None => format!("inactive since {since}; the {days} days of retention are over"),
        };
        plan.actions.push(Action {
            key: leaver.key.clone(),
            kind: ActionKind::Delete {
                destination_id: link.destination_id.clone(),
            },
            reason,
        });
        deleted.push(leaver.key.clone());
    }
    deleted
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    #[test]
    fn retention_is_over_on_the_day_the_days_have_passed() {
        assert!(!due(day("2026-11-01"), 30, day("2026-11-30")));
        assert!(due(day("2026-11-01"), 30, day("2026-12-01")));
        assert!(due(day("2026-11-01"), 30, day("2027-01-01")));
    }
}
