//! Values computed from the person rather than read from one attribute (tenure, the office's
//! time zone, a full name), and which part of an object attribute a rule maps.

use super::SourceRef;
use crate::employee::{AttrValue, Employee};
use crate::record::FieldValue;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Which part of an object attribute (office, department, team, subcompany) a rule maps.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ObjectPart {
    /// Its display name (`Berlin`).
    #[default]
    Name,
    /// Personio's id of it (`4711`), for apps that key locations by id.
    Id,
}

/// A value computed from the person rather than read from one attribute.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Derive {
    /// Whole months since the hire date, as of the run's day in the tenant's time zone.
    TenureMonths,
    /// Whole years since the hire date.
    TenureYears,
    /// The IANA time zone of the person's office (`[lifecycle.office_timezones]`), else the
    /// tenant's.
    OfficeTimezone,
    /// The preferred name when Personio has one, else first and last name.
    FullName,
}

impl Derive {
    /// The attribute the derivation reads, so that the fetch keeps it.
    pub fn source(self) -> SourceRef {
        SourceRef::Key(
            match self {
                Self::TenureMonths | Self::TenureYears => "hire_date",
                Self::OfficeTimezone => "office",
                Self::FullName => "preferred_name",
            }
            .to_owned(),
        )
    }
}

/// What derived values depend on besides the person: the run's day and the time zones.
#[derive(Clone, Debug, Default)]
pub struct Derivation {
    /// The run's day in the tenant's time zone; without it tenure is not computed.
    pub today: Option<chrono::NaiveDate>,
    /// The tenant's time zone.
    pub timezone: Option<chrono_tz::Tz>,
    /// Office name → time zone.
    pub office_timezones: BTreeMap<String, chrono_tz::Tz>,
}

impl Derivation {
    /// The derivation of `config` on the run at `now`.
    pub fn of(config: &crate::config::TenantConfig, now: chrono::DateTime<chrono::Utc>) -> Self {
        Self {
            today: Some(now.with_timezone(&config.timezone).date_naive()),
            timezone: Some(config.timezone),
            office_timezones: config.lifecycle.office_timezones.clone(),
        }
    }

    pub(super) fn value(&self, derive: Derive, employee: &Employee) -> Option<FieldValue> {
        let text = |text: String| Some(FieldValue::Text(text));
        match derive {
            Derive::TenureMonths | Derive::TenureYears => {
                let (hired, today) = (employee.hire_date?, self.today?);
                let months = months_between(hired, today)?;
                let value = if derive == Derive::TenureYears {
                    months / 12
                } else {
                    months
                };
                text(value.to_string())
            }
            Derive::OfficeTimezone => {
                let zone = employee
                    .office()
                    .and_then(|office| self.office_timezones.get(office))
                    .copied()
                    .or(self.timezone)?;
                text(zone.name().to_owned())
            }
            Derive::FullName => {
                let attribute = |key: &str| {
                    employee
                        .attributes
                        .get(key)
                        .and_then(AttrValue::to_text)
                        .map(|text| text.trim().to_owned())
                        .filter(|text| !text.is_empty())
                };
                attribute("preferred_name")
                    .or_else(|| {
                        let parts: Vec<String> = ["first_name", "last_name"]
                            .iter()
                            .filter_map(|key| attribute(key))
                            .collect();
                        (!parts.is_empty()).then(|| parts.join(" "))
                    })
                    .and_then(text)
            }
        }
    }
}

/// Whole months from `from` to `to` (a month counts once its day is reached); `None` before.
pub(super) fn months_between(from: chrono::NaiveDate, to: chrono::NaiveDate) -> Option<u32> {
    use chrono::Datelike;
    let mut months = (to.year() - from.year()) * 12 + to.month() as i32 - from.month() as i32;
    if to.day() < from.day() {
        months -= 1;
    }
    u32::try_from(months).ok()
}
