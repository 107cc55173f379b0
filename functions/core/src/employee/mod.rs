//! The typed, normalised view of one Personio employee that the engine works on.
//!
//! Personio's v1 API returns every attribute as `{label, value, type, universal_id}` with loose value
//! shapes (personio-api.md §1.4). `personio::normalise` turns those into [`AttrValue`]s once, at the
//! edge; everything after it (mapping, scope, plan) only sees this module's types.

use crate::ids::{PersonKey, PersonioId};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::fmt;

mod attributes;
pub use attributes::Attributes;

/// Personio's employment status (`status` attribute).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EmploymentStatus {
    /// Hired, not started yet.
    Onboarding,
    /// Working.
    Active,
    /// On leave (parental leave, sabbatical): keeps access.
    Leave,
    /// Left the company.
    Inactive,
}

impl EmploymentStatus {
    /// Parses Personio's status text, case-insensitively.
    pub fn parse(value: &str) -> Option<Self> {
        match value.trim().to_ascii_lowercase().as_str() {
            "onboarding" => Some(Self::Onboarding),
            "active" => Some(Self::Active),
            "leave" => Some(Self::Leave),
            "inactive" => Some(Self::Inactive),
            _ => None,
        }
    }
    /// The status as Personio writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Onboarding => "onboarding",
            Self::Active => "active",
            Self::Leave => "leave",
            Self::Inactive => "inactive",
        }
    }
}

/// An object-valued attribute such as an office, department, team or cost center.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NamedRef {
    /// Personio's id of the object, when it sent one.
    pub id: Option<i64>,
    /// Its display name.
    pub name: String,
}

/// One attribute value after lenient parsing. `null`, `""` and `[]` all become [`AttrValue::Empty`],
/// so "returned but empty" stays distinguishable from "not returned at all" (not whitelisted).
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "value", rename_all = "snake_case")]
pub enum AttrValue {
    /// Returned with no value.
    Empty,
    /// Text (`standard`, `list`, `link`, `multiline`).
    Text(String),
    /// A number, kept as Personio's decimal text (`"40"`, `"3000.5"`) so nothing is lost to floats.
    Number(String),
    /// A calendar date; a time and offset, when sent, are dropped (Personio sends midnight local).
    Date(NaiveDate),
    /// One object (office, department, team, subcompany, holiday calendar, work schedule).
    Object(NamedRef),
    /// Several objects (cost centers, absence entitlements).
    Objects(Vec<NamedRef>),
    /// Another employee (supervisor).
    Employee(PersonioId),
    /// A multiple selection (`tags`), as separate values.
    Tags(Vec<String>),
}

impl AttrValue {
    /// The value as display text, as it would be mapped into a text field; `None` when empty.
    /// Several objects or tags are joined with ", ".
    pub fn to_text(&self) -> Option<String> {
        let text = match self {
            Self::Empty => return None,
            Self::Text(text) | Self::Number(text) => text.clone(),
            Self::Date(date) => date.format("%Y-%m-%d").to_string(),
            Self::Object(object) => object.name.clone(),
            Self::Objects(objects) => objects
                .iter()
                .map(|object| object.name.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            Self::Employee(id) => id.to_string(),
            Self::Tags(tags) => tags.join(", "),
        };
        (!text.is_empty()).then_some(text)
    }
}

impl fmt::Debug for AttrValue {
    // Attribute values are personal data: they never reach a log line, not even through `{:?}`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AttrValue(<redacted>)")
    }
}

/// An attribute key (`first_name`, `dynamic_24407`), interned like field names: 50,000 employees
/// share one copy of each key.
pub type AttrKey = crate::record::FieldName;

/// One employee as the engine sees it.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct Employee {
    /// Account and id: the link to the destination user.
    pub key: PersonKey,
    /// `status`, when readable.
    pub status: Option<EmploymentStatus>,
    /// `hire_date`, when readable and set.
    pub hire_date: Option<NaiveDate>,
    /// `termination_date`, when readable and set.
    pub termination_date: Option<NaiveDate>,
    /// `supervisor`'s id, when readable and set.
    pub supervisor: Option<PersonioId>,
    /// Every attribute Personio returned, by its key (`first_name`, `dynamic_24407`), normalised.
    /// Attributes the credential may not read are absent (personio-api.md §1.9).
    pub attributes: Attributes,
}

impl Employee {
    /// The value of attribute `key`, if Personio returned it.
    pub fn attribute(&self, key: &str) -> Option<&AttrValue> {
        self.attributes.get(key)
    }

    /// The office's name, used for per-office time zones.
    pub fn office(&self) -> Option<&str> {
        match self.attributes.get("office") {
            Some(AttrValue::Object(office)) => Some(office.name.as_str()),
            _ => None,
        }
    }
}

impl fmt::Debug for Employee {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Employee")
            .field("key", &self.key)
            .field("status", &self.status)
            .field("attributes", &self.attributes.len())
            .finish_non_exhaustive()
    }
}

/// What Personio says about one attribute of a tenant (`GET /v1/company/employees/attributes`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttributeInfo {
    /// The key in employee records (`first_name`, `dynamic_24407`).
    pub key: String,
    /// The tenant's label (in the company's language).
    pub label: String,
    /// Personio's attribute type (`standard`, `date`, `list`, …).
    pub kind: String,
    /// The cross-tenant name of well-known attributes (`date_of_birth`), if any.
    pub universal_id: Option<String>,
    /// Allowed values of `list`/`tags` attributes.
    pub options: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_never_shows_values() {
        let value = AttrValue::Text("ada@example.com".into());
        assert!(!format!("{value:?}").contains("ada"));
    }

    #[test]
    fn objects_and_tags_join_as_text() {
        let objects = AttrValue::Objects(vec![
            NamedRef {
                id: Some(1),
                name: "CC1".into(),
            },
            NamedRef {
                id: Some(2),
                name: "CC2".into(),
            },
        ]);
        assert_eq!(objects.to_text().as_deref(), Some("CC1, CC2"));
        assert_eq!(AttrValue::Empty.to_text(), None);
        assert_eq!(AttrValue::Text(String::new()).to_text(), None);
    }
}
