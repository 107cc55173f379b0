//! The destination-neutral user record: what the mapping produces and the snapshot remembers.
//!
//! Field names are our own neutral names (`given_name`, `department`, `employee_number`, …, plus a
//! tenant's custom ones); each destination decides where a field lands (the SCIM adapter has a
//! table from these names to SCIM attribute paths, the local directory stores them as they are).

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

/// The field that carries the user's login name (SCIM `userName`). Always mapped.
pub const USER_NAME: &str = "user_name";
/// The field that carries the work email. Used for adoption by email.
pub const EMAIL: &str = "email";

/// One mapped value.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(untagged)]
pub enum FieldValue {
    /// A date, written `YYYY-MM-DD`. Listed first so that such text reads back as a date.
    Date(NaiveDate),
    /// Text.
    Text(String),
    /// Several values (tags, cost centers), in Personio's order.
    List(Vec<String>),
}

impl FieldValue {
    /// The value as one line of text (lists joined with ", ").
    pub fn to_text(&self) -> String {
        match self {
            Self::Date(date) => date.format("%Y-%m-%d").to_string(),
            Self::Text(text) => text.clone(),
            Self::List(values) => values.join(", "),
        }
    }
}

impl fmt::Debug for FieldValue {
    // Values are personal data; logs and panics never show them.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("FieldValue(<redacted>)")
    }
}

/// A mapped user: field name → value. Absent fields are not set.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct UserRecord {
    fields: BTreeMap<String, FieldValue>,
}

impl UserRecord {
    /// An empty record.
    pub fn new() -> Self {
        Self::default()
    }
    /// Sets a field.
    pub fn set(&mut self, field: impl Into<String>, value: FieldValue) {
        self.fields.insert(field.into(), value);
    }
    /// Removes a field.
    pub fn remove(&mut self, field: &str) -> Option<FieldValue> {
        self.fields.remove(field)
    }
    /// A field's value.
    pub fn get(&self, field: &str) -> Option<&FieldValue> {
        self.fields.get(field)
    }
    /// A field's value as text.
    pub fn text(&self, field: &str) -> Option<String> {
        self.fields.get(field).map(FieldValue::to_text)
    }
    /// All fields in name order.
    pub fn fields(&self) -> impl Iterator<Item = (&str, &FieldValue)> {
        self.fields
            .iter()
            .map(|(name, value)| (name.as_str(), value))
    }
    /// Number of fields set.
    pub fn len(&self) -> usize {
        self.fields.len()
    }
    /// True when no field is set.
    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }

    /// The changes that turn `self` (what we last wrote) into `desired`, field by field, ignoring
    /// the fields in `ignore` (create-only fields). Sorted by field name.
    pub fn diff(&self, desired: &UserRecord, ignore: &BTreeSet<String>) -> Vec<FieldChange> {
        let names: BTreeSet<&String> = self.fields.keys().chain(desired.fields.keys()).collect();
        names
            .into_iter()
            .filter(|name| !ignore.contains(*name))
            .filter_map(|name| {
                let old = self.fields.get(name);
                let new = desired.fields.get(name);
                (old != new).then(|| FieldChange {
                    field: name.clone(),
                    old: old.cloned(),
                    new: new.cloned(),
                })
            })
            .collect()
    }

    /// `self` with `changes` applied.
    pub fn apply(&mut self, changes: &[FieldChange]) {
        for change in changes {
            match &change.new {
                Some(value) => self.set(change.field.clone(), value.clone()),
                None => {
                    self.remove(&change.field);
                }
            }
        }
    }
}

impl fmt::Debug for UserRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.fields.keys()).finish()
    }
}

/// One field changed from `old` to `new`; `None` means unset.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldChange {
    /// The neutral field name.
    pub field: String,
    /// What we last wrote.
    pub old: Option<FieldValue>,
    /// What we write now.
    pub new: Option<FieldValue>,
}

impl fmt::Debug for FieldChange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "FieldChange({})", self.field)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(pairs: &[(&str, &str)]) -> UserRecord {
        let mut record = UserRecord::new();
        for (name, value) in pairs {
            record.set(*name, FieldValue::Text((*value).into()));
        }
        record
    }

    #[test]
    fn diff_lists_set_changed_and_unset_fields() {
        let old = record(&[("title", "Dev"), ("department", "R&D"), ("gender", "f")]);
        let new = record(&[
            ("title", "Lead"),
            ("department", "R&D"),
            ("location", "Berlin"),
        ]);
        let changes = old.diff(&new, &BTreeSet::new());
        let names: Vec<_> = changes.iter().map(|c| c.field.as_str()).collect();
        assert_eq!(names, ["gender", "location", "title"]);
        let mut applied = old.clone();
        applied.apply(&changes);
        assert_eq!(applied, new);
    }

    #[test]
    fn create_only_fields_are_not_diffed() {
        let old = record(&[("title", "Dev")]);
        let new = record(&[("title", "Lead")]);
        let ignore = BTreeSet::from(["title".to_owned()]);
        assert!(old.diff(&new, &ignore).is_empty());
    }

    #[test]
    fn dates_round_trip_through_json_as_dates() {
        let mut record = UserRecord::new();
        record.set("hire_date", FieldValue::Date("2026-01-05".parse().unwrap()));
        let json = serde_json::to_string(&record).unwrap();
        assert_eq!(json, r#"{"hire_date":"2026-01-05"}"#);
        assert_eq!(serde_json::from_str::<UserRecord>(&json).unwrap(), record);
    }
}
