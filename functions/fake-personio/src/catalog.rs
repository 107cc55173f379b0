//! The v1 standard attributes (key, English label, type; personio-api.md §1.5) and which of them a
//! request may see: the credential's whitelist (§1.9) and the `attributes[]` projection (§1.3).
//!
//! Also renders `GET /v1/company/employees/attributes` (§1.8), which lists the same catalogue.

use crate::company::Company;
use serde::Serialize;
use std::collections::BTreeSet;

/// Which person field a standard attribute shows; the renderer matches on it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Field {
    Id,
    FirstName,
    LastName,
    PreferredName,
    Email,
    Gender,
    Status,
    Position,
    Supervisor,
    EmploymentType,
    WeeklyWorkingHours,
    HireDate,
    ContractEndDate,
    TerminationDate,
    TerminationType,
    TerminationReason,
    ProbationPeriodEnd,
    CreatedAt,
    LastModifiedAt,
    Subcompany,
    Office,
    Department,
    CostCenters,
    HolidayCalendar,
    AbsenceEntitlement,
    WorkSchedule,
    FixSalary,
    FixSalaryInterval,
    HourlySalary,
    LastWorkingDay,
    ProfilePicture,
    Team,
}

/// One standard attribute; its `universal_id` equals its key.
pub(crate) struct Standard {
    pub key: &'static str,
    pub label: &'static str,
    pub kind: &'static str,
    pub field: Field,
}

const fn standard(
    key: &'static str,
    label: &'static str,
    kind: &'static str,
    field: Field,
) -> Standard {
    Standard {
        key,
        label,
        kind,
        field,
    }
}

/// Every standard attribute, in the order of the spec's example response.
pub(crate) const STANDARD_ATTRIBUTES: &[Standard] = &[
    standard("id", "ID", "integer", Field::Id),
    standard("first_name", "First name", "standard", Field::FirstName),
    standard("last_name", "Last name", "standard", Field::LastName),
    standard(
        "preferred_name",
        "Name (preferred)",
        "standard",
        Field::PreferredName,
    ),
    standard("email", "Email", "standard", Field::Email),
    standard("gender", "Gender", "standard", Field::Gender),
    standard("status", "Status", "standard", Field::Status),
    standard("position", "Position", "standard", Field::Position),
    standard("supervisor", "Supervisor", "standard", Field::Supervisor),
    standard(
        "employment_type",
        "Employment type",
        "standard",
        Field::EmploymentType,
    ),
    standard(
        "weekly_working_hours",
        "Weekly hours",
        "standard",
        Field::WeeklyWorkingHours,
    ),
    standard("hire_date", "Hire date", "date", Field::HireDate),
    standard(
        "contract_end_date",
        "Contract ends",
        "date",
        Field::ContractEndDate,
    ),
    standard(
        "termination_date",
        "Termination date",
        "date",
        Field::TerminationDate,
    ),
    standard(
        "termination_type",
        "Termination type",
        "standard",
        Field::TerminationType,
    ),
    standard(
        "termination_reason",
        "Termination reason",
        "standard",
        Field::TerminationReason,
    ),
    standard(
        "probation_period_end",
        "Probation period end",
        "date",
        Field::ProbationPeriodEnd,
    ),
    standard("created_at", "created_at", "date", Field::CreatedAt),
    standard(
        "last_modified_at",
        "Last modified",
        "date",
        Field::LastModifiedAt,
    ),
    standard("subcompany", "Subcompany", "standard", Field::Subcompany),
    standard("office", "Office", "standard", Field::Office),
    standard("department", "Department", "standard", Field::Department),
    standard(
        "cost_centers",
        "Cost center",
        "standard",
        Field::CostCenters,
    ),
    standard(
        "holiday_calendar",
        "Public holidays",
        "standard",
        Field::HolidayCalendar,
    ),
    standard(
        "absence_entitlement",
        "Absence entitlement",
        "standard",
        Field::AbsenceEntitlement,
    ),
    standard(
        "work_schedule",
        "Work schedule",
        "standard",
        Field::WorkSchedule,
    ),
    standard("fix_salary", "Fix salary", "decimal", Field::FixSalary),
    standard(
        "fix_salary_interval",
        "Salary interval",
        "standard",
        Field::FixSalaryInterval,
    ),
    standard(
        "hourly_salary",
        "Hourly salary",
        "decimal",
        Field::HourlySalary,
    ),
    standard(
        "last_working_day",
        "Last day of work",
        "date",
        Field::LastWorkingDay,
    ),
    standard(
        "profile_picture",
        "Profile Picture",
        "standard",
        Field::ProfilePicture,
    ),
    standard("team", "Team", "standard", Field::Team),
];

/// Which attribute keys one response may contain.
#[derive(Clone, Copy, Default)]
pub(crate) struct KeyFilter<'a> {
    /// The credential's readable attributes; `None` means all.
    pub whitelist: Option<&'a BTreeSet<String>>,
    /// The request's `attributes[]`; `None` (or empty) means all readable ones.
    pub projection: Option<&'a [String]>,
}

impl KeyFilter<'_> {
    /// Whether `key` is rendered. `id` always is: Personio identifies every record by it and a
    /// credential cannot be set up without it.
    pub fn allows(&self, key: &str) -> bool {
        if key == "id" {
            return true;
        }
        let readable = self.whitelist.is_none_or(|keys| keys.contains(key));
        let requested = match self.projection {
            Some(keys) if !keys.is_empty() => keys.iter().any(|wanted| wanted == key),
            _ => true,
        };
        readable && requested
    }
}

impl Company {
    /// Every attribute key the company has, standard and custom: the whitelist that reads
    /// everything. Tests remove a key from it to model an admin unticking an attribute.
    pub fn attribute_keys(&self) -> BTreeSet<String> {
        STANDARD_ATTRIBUTES
            .iter()
            .map(|attribute| attribute.key.to_owned())
            .chain(
                self.custom_attributes
                    .iter()
                    .map(|attribute| attribute.key.clone()),
            )
            .collect()
    }
}

#[derive(Serialize)]
struct AttributeInfo<'a> {
    key: &'a str,
    label: &'a str,
    #[serde(rename = "type")]
    kind: &'a str,
    universal_id: Option<&'a str>,
    options: &'a [String],
}

#[derive(Serialize)]
struct AttributeList<'a> {
    success: bool,
    data: Vec<AttributeInfo<'a>>,
}

/// The body of `GET /v1/company/employees/attributes`: every readable attribute but `id`, standard
/// ones first, then the custom ones with their options.
pub(crate) fn attribute_list(company: &Company, whitelist: Option<&BTreeSet<String>>) -> Vec<u8> {
    let filter = KeyFilter {
        whitelist,
        projection: None,
    };
    let standard = STANDARD_ATTRIBUTES
        .iter()
        .filter(|attribute| attribute.field != Field::Id && filter.allows(attribute.key))
        .map(|attribute| AttributeInfo {
            key: attribute.key,
            label: attribute.label,
            kind: attribute.kind,
            universal_id: Some(attribute.key),
            options: &[],
        });
    let custom = company
        .custom_attributes
        .iter()
        .filter(|attribute| filter.allows(&attribute.key))
        .map(|attribute| AttributeInfo {
            key: &attribute.key,
            label: &attribute.label,
            kind: &attribute.kind,
            universal_id: attribute.universal_id.as_deref(),
            options: &attribute.options,
        });
    let body = AttributeList {
        success: true,
        data: standard.chain(custom).collect(),
    };
    // Serialising plain strings and slices into a Vec cannot fail.
    serde_json::to_vec(&body).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn id_is_always_readable() {
        let whitelist = BTreeSet::from(["email".to_owned()]);
        let filter = KeyFilter {
            whitelist: Some(&whitelist),
            projection: None,
        };
        assert!(filter.allows("id"));
        assert!(filter.allows("email"));
        assert!(!filter.allows("first_name"));
    }

    #[test]
    fn projection_narrows_the_whitelist() {
        let whitelist = BTreeSet::from(["email".to_owned(), "status".to_owned()]);
        let projection = vec!["status".to_owned(), "first_name".to_owned()];
        let filter = KeyFilter {
            whitelist: Some(&whitelist),
            projection: Some(&projection),
        };
        assert!(filter.allows("status"));
        assert!(!filter.allows("email"));
        assert!(!filter.allows("first_name"));
    }

    #[test]
    fn catalogue_keys_are_unique() {
        let keys: BTreeSet<&str> = STANDARD_ATTRIBUTES.iter().map(|a| a.key).collect();
        assert_eq!(keys.len(), STANDARD_ATTRIBUTES.len());
    }
}
