//! Lifecycle rules: where a person should stand today, from their status and dates.
//!
//! "Today" is the calendar date in the tenant's time zone (or the office's), because Personio
//! dates are local calendar dates: someone whose last day is the 20th keeps access through the
//! 20th in Berlin, even while it is already the 21st in Sydney.

use crate::employee::{Employee, EmploymentStatus};
use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;

/// Where a person should stand today.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Desired {
    /// Working: an active user.
    Active,
    /// Hired, starting within the pre-hire window: an inactive user, activated on the hire date.
    PreHire {
        /// The hire date.
        hire_date: NaiveDate,
    },
    /// Hired, starting later than the pre-hire window: no user yet.
    NotYet {
        /// The hire date.
        hire_date: Option<NaiveDate>,
    },
    /// Left: an inactive user.
    Gone(GoneReason),
}

/// Why a person is gone.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GoneReason {
    /// Personio status `inactive`.
    StatusInactive,
    /// The termination date has passed.
    Terminated(NaiveDate),
}

impl GoneReason {
    /// A human reason for the summary.
    pub fn describe(self) -> String {
        match self {
            Self::StatusInactive => "status is inactive in Personio".to_owned(),
            Self::Terminated(date) => format!("left on {date}"),
        }
    }
}

/// The calendar date at `now` in `zone`.
pub fn today_in(zone: Tz, now: DateTime<Utc>) -> NaiveDate {
    now.with_timezone(&zone).date_naive()
}

/// Where `employee` should stand on `today`, creating joiners `pre_hire_days` ahead.
///
/// Leavers keep access through their termination date and lose it the day after. People on leave
/// stay active. A missing status (not whitelisted) counts as active: Personio lists them, and the
/// vanished-attribute guard stops runs where `status` disappears for everyone.
pub fn desired(employee: &Employee, today: NaiveDate, pre_hire_days: u32) -> Desired {
    if employee.status == Some(EmploymentStatus::Inactive) {
        return Desired::Gone(GoneReason::StatusInactive);
    }
    if let Some(terminated) = employee.termination_date {
        if terminated < today {
            return Desired::Gone(GoneReason::Terminated(terminated));
        }
    }
    match employee.hire_date {
        Some(hire_date) if hire_date > today => {
            let days_ahead = (hire_date - today).num_days();
            if days_ahead <= i64::from(pre_hire_days) {
                Desired::PreHire { hire_date }
            } else {
                Desired::NotYet {
                    hire_date: Some(hire_date),
                }
            }
        }
        // Onboarding without a hire date: wait, since nobody knows when to activate the user.
        None if employee.status == Some(EmploymentStatus::Onboarding) => {
            Desired::NotYet { hire_date: None }
        }
        _ => Desired::Active,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::{AccountId, PersonKey, PersonioId};

    fn person(status: EmploymentStatus, hire: Option<&str>, end: Option<&str>) -> Employee {
        Employee {
            key: PersonKey::new(AccountId::default(), PersonioId::new(1)),
            status: Some(status),
            hire_date: hire.map(|d| d.parse().unwrap()),
            termination_date: end.map(|d| d.parse().unwrap()),
            supervisor: None,
            attributes: Default::default(),
        }
    }

    fn day(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    #[test]
    fn leaver_keeps_access_through_the_termination_date() {
        let leaver = person(
            EmploymentStatus::Active,
            Some("2020-01-01"),
            Some("2026-11-20"),
        );
        assert_eq!(desired(&leaver, day("2026-11-20"), 7), Desired::Active);
        assert_eq!(
            desired(&leaver, day("2026-11-21"), 7),
            Desired::Gone(GoneReason::Terminated(day("2026-11-20")))
        );
    }

    #[test]
    fn joiner_is_created_ahead_and_activated_on_the_hire_date() {
        let joiner = person(EmploymentStatus::Onboarding, Some("2026-12-01"), None);
        assert!(matches!(
            desired(&joiner, day("2026-11-20"), 7),
            Desired::NotYet { .. }
        ));
        assert!(matches!(
            desired(&joiner, day("2026-11-24"), 7),
            Desired::PreHire { .. }
        ));
        assert_eq!(desired(&joiner, day("2026-12-01"), 7), Desired::Active);
    }

    #[test]
    fn leave_stays_active_and_inactive_is_gone() {
        let on_leave = person(EmploymentStatus::Leave, Some("2020-01-01"), None);
        assert_eq!(desired(&on_leave, day("2026-11-20"), 7), Desired::Active);
        let inactive = person(EmploymentStatus::Inactive, Some("2020-01-01"), None);
        assert_eq!(
            desired(&inactive, day("2026-11-20"), 7),
            Desired::Gone(GoneReason::StatusInactive)
        );
    }

    #[test]
    fn today_follows_the_time_zone() {
        let now: DateTime<Utc> = "2026-11-20T23:30:00Z".parse().unwrap();
        assert_eq!(today_in(chrono_tz::Europe::London, now), day("2026-11-20"));
        assert_eq!(today_in(chrono_tz::Europe::Berlin, now), day("2026-11-21"));
    }
}
