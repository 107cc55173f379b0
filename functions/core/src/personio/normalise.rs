//! Turns one v1 employee's `attributes` object into a typed [`Employee`] (personio-api.md §1.4).
//!
//! Lenient by design: Personio's value shapes drift (numbers as text, `""` for empty objects,
//! dates with and without offsets), so every documented and reported shape is accepted and
//! unknown shapes of text-like attributes become text. Only values the engine must trust — the id,
//! the status, the hire and termination dates, the supervisor, and any attribute declared `date`,
//! `integer` or `decimal` — make the person unreadable when they do not parse. The error names
//! the attribute and the expected shape, never the value: values are personal data.
//!
//! The value readers live in `values`; fetching lives in `client`.

use super::values::{self, RawAttribute};
use crate::employee::{AttrKey, AttrValue, Attributes, Employee, EmploymentStatus};
use crate::history::RecordError;
use crate::ids::{AccountId, PersonKey, PersonioId};
use serde_json::{Map, Value};
use std::collections::{BTreeMap, BTreeSet};

/// What `RecordError::action` says for errors found while reading Personio.
pub const FETCH_ACTION: &str = "fetch";
const FIX_IN_PERSONIO: &str = "correct the value in Personio";

/// One employee read from Personio, with the `universal_id` → key pairs its attributes declared
/// (`date_of_birth` → `dynamic_180883`), so mappings can name attributes across tenants.
#[derive(Debug, Clone, PartialEq)]
pub struct NormalisedEmployee {
    /// The typed employee.
    pub employee: Employee,
    /// `(universal_id, attribute key)` for every attribute that carried a universal id.
    pub universal_ids: Vec<(String, String)>,
}

// Standard attributes that hold dates even when an old response leaves out `type`.
const DATE_KEYS: &[&str] = &[
    "hire_date",
    "termination_date",
    "contract_end_date",
    "probation_period_end",
    "last_working_day",
    "created_at",
    "last_modified_at",
];

// Standard attributes that hold numbers although Personio types some of them `standard` and sends
// text (`weekly_working_hours: "40"`, personio-api.md §1.4).
const NUMBER_KEYS: &[&str] = &[
    "weekly_working_hours",
    "fix_salary",
    "hourly_salary",
    "vacation_day_balance",
];

/// How one attribute must be read, and what the error says when it cannot be.
#[derive(Clone, Copy)]
enum Rule {
    /// Must be a date or empty.
    Date,
    /// Must be a whole number or empty.
    Integer,
    /// Must be a number or empty.
    Decimal,
    /// Must be a known employment status or empty.
    Status,
    /// Must be another employee or empty.
    Supervisor,
    /// A multiple selection; odd shapes fall back to text.
    Tags,
    /// A date if it reads as one, else whatever it is.
    MaybeDate,
    /// A number if it reads as one, else whatever it is.
    MaybeNumber,
    /// Whatever it is; never an error.
    Anything,
}

impl Rule {
    fn for_attribute(key: &str, declared: Option<&str>) -> Self {
        match (key, declared) {
            ("status", _) => Self::Status,
            ("supervisor", _) => Self::Supervisor,
            ("hire_date" | "termination_date", _) => Self::Date,
            (_, Some("date")) => Self::Date,
            (_, Some("integer")) => Self::Integer,
            (_, Some("decimal")) => Self::Decimal,
            (_, Some("tags")) => Self::Tags,
            _ if DATE_KEYS.contains(&key) => Self::MaybeDate,
            _ if NUMBER_KEYS.contains(&key) => Self::MaybeNumber,
            _ => Self::Anything,
        }
    }

    /// The attribute's value, or the shape it should have had.
    fn apply(self, value: &Value) -> Result<AttrValue, &'static str> {
        if values::is_empty(value) {
            return Ok(AttrValue::Empty);
        }
        match self {
            Self::Date => values::date(value)
                .map(AttrValue::Date)
                .ok_or("a date (expected YYYY-MM-DD or ISO 8601)"),
            Self::Integer => values::number(value, true)
                .map(AttrValue::Number)
                .ok_or("a whole number (expected digits such as 40)"),
            Self::Decimal => values::number(value, false)
                .map(AttrValue::Number)
                .ok_or("a number (expected a decimal such as 40.5)"),
            Self::Status => value
                .as_str()
                .and_then(EmploymentStatus::parse)
                .map(|status| AttrValue::Text(status.as_str().to_owned()))
                .ok_or("an employment status (expected onboarding, active, leave or inactive)"),
            Self::Supervisor => values::employee_ref(value)
                .map(|id| AttrValue::Employee(PersonioId::new(id)))
                .ok_or("an employee reference (expected {type: Employee, attributes: {id}})"),
            Self::Tags => Ok(match values::tags(value) {
                Some(tags) if tags.is_empty() => AttrValue::Empty,
                Some(tags) => AttrValue::Tags(tags),
                None => values::anything(value),
            }),
            Self::MaybeDate => Ok(values::date(value)
                .map(AttrValue::Date)
                .unwrap_or_else(|| values::anything(value))),
            Self::MaybeNumber => Ok(values::number(value, false)
                .map(AttrValue::Number)
                .unwrap_or_else(|| values::anything(value))),
            Self::Anything => Ok(values::anything(value)),
        }
    }
}

/// Reads one employee's `attributes` object (the map of attribute key → `{label, value, …}`),
/// keeping every attribute.
///
/// Fails, as one [`RecordError`] naming every bad attribute, when the id is missing or a value the
/// engine relies on does not parse. `person` is `None` only when the id itself is unreadable.
pub fn normalise(
    account: &AccountId,
    attributes: &Map<String, Value>,
) -> Result<NormalisedEmployee, RecordError> {
    normalise_selected(account, attributes, None)
}

/// [`normalise`], keeping only the attributes named in `keep` — by key (`dynamic_24407`) or by
/// universal id (`date_of_birth`) — and `id`. A tenant's `keep` is
/// [`crate::attributes::UsedAttributes::fetch_filter`], which names the typed fields the engine
/// reads (status, dates, supervisor when managers are linked). Attributes left out are neither stored
/// nor checked, so a bad value in an attribute nobody maps does not make a person unreadable, and
/// 50,000 employees fit in memory (each kept attribute costs about 130 bytes per person).
/// `universal_ids` still lists every pair seen.
pub fn normalise_selected(
    account: &AccountId,
    attributes: &Map<String, Value>,
    keep: Option<&BTreeSet<String>>,
) -> Result<NormalisedEmployee, RecordError> {
    normalise_known(account, attributes, keep, &BTreeMap::new())
}

/// [`normalise_selected`], leaving out of `universal_ids` the pairs already in `known`: every
/// employee of a page carries the same pairs, and copying them for each of 50,000 people is
/// millions of allocations for nothing.
pub(crate) fn normalise_known(
    account: &AccountId,
    attributes: &Map<String, Value>,
    keep: Option<&BTreeSet<String>>,
    known: &BTreeMap<String, String>,
) -> Result<NormalisedEmployee, RecordError> {
    let id = attributes
        .get("id")
        .map(|raw| RawAttribute::from_json(raw).value)
        .and_then(values::id)
        .ok_or_else(|| RecordError {
name: None,
            person: None,
            action: FETCH_ACTION.to_owned(),
            message: "attribute `id` is missing or not a positive whole number".to_owned(),
            hint: "allow the API credential to read the ID attribute in Personio, or correct the record there"
                .to_owned(),
        })?;
    let key = PersonKey::new(account.clone(), PersonioId::new(id));

    let mut read = Vec::with_capacity(attributes.len());
    let mut universal_ids = Vec::new();
    let mut problems = Vec::new();
    for (name, raw) in attributes {
        let attribute = RawAttribute::from_json(raw);
        if let Some(universal_id) = attribute.universal_id {
            if known.get(universal_id) != Some(name) {
                universal_ids.push((universal_id.to_owned(), name.clone()));
            }
        }
        let kept = keep.is_none_or(|keep| {
            name == "id"
                || keep.contains(name)
                || attribute
                    .universal_id
                    .is_some_and(|universal_id| keep.contains(universal_id))
        });
        if !kept {
            continue;
        }
        let value = if name == "id" {
            Ok(AttrValue::Number(id.to_string()))
        } else {
            Rule::for_attribute(name, attribute.declared).apply(attribute.value)
        };
        match value {
            Ok(value) => read.push((AttrKey::new(name), value)),
            Err(expected) => problems.push(format!("attribute `{}` is not {expected}", clip(name))),
        }
    }
    if !problems.is_empty() {
        return Err(RecordError {
            name: None,
            person: Some(key),
            action: FETCH_ACTION.to_owned(),
            message: problems.join("; "),
            hint: FIX_IN_PERSONIO.to_owned(),
        });
    }
    // A JSON object's keys come sorted, so this keeps the vector as read, shrunk to fit.
    let read = Attributes::from_sorted(read);

    let employee = Employee {
        key,
        status: match read.get("status") {
            Some(AttrValue::Text(status)) => EmploymentStatus::parse(status),
            _ => None,
        },
        hire_date: date_of(&read, "hire_date"),
        termination_date: date_of(&read, "termination_date"),
        supervisor: match read.get("supervisor") {
            Some(AttrValue::Employee(id)) => Some(*id),
            _ => None,
        },
        attributes: read,
    };
    Ok(NormalisedEmployee {
        employee,
        universal_ids,
    })
}

fn date_of(read: &Attributes, key: &str) -> Option<chrono::NaiveDate> {
    match read.get(key) {
        Some(AttrValue::Date(date)) => Some(*date),
        _ => None,
    }
}

// Attribute keys come from Personio (`dynamic_24407`), not from people, but keep a hostile one from
// flooding a report.
fn clip(key: &str) -> String {
    key.chars().take(80).collect()
}

#[cfg(test)]
#[path = "normalise_tests.rs"]
mod tests;
