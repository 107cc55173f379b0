//! The destination-neutral user record: what the mapping produces and the snapshot remembers.
//!
//! Field names are our own neutral names (`given_name`, `department`, `employee_number`, …, plus a
//! tenant's custom ones); each destination decides where a field lands (the SCIM adapter has a
//! table from these names to SCIM attribute paths, the local directory stores them as they are).

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;
use std::sync::{Mutex, OnceLock};

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
    /// Several values (tags, cost centers), in Personio's order. Boxed rather than a `Vec`:
    /// the value is then 24 bytes, not 32, in each of a run's millions of fields.
    List(Box<[String]>),
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

/// A field (or attribute) name, interned: every record of a run shares one copy of each name,
/// which halves the memory of 50,000 mapped people, and a name is one pointer (8 bytes, not a
/// 16-byte `Arc<str>`: 100,000 people's records and attributes hold about four million).
/// Employees' attribute keys use it too (`employee::AttrKey`).
///
/// Names are never freed, as the interner always kept them: there are as many as a tenant's
/// config and Personio's attribute keys name, not one per person.
#[derive(Clone, Eq)]
pub struct FieldName(&'static String);

impl std::hash::Hash for FieldName {
    // The text's hash, as `Borrow<str>` requires (equal names have equal text).
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.as_str().hash(state);
    }
}

impl PartialEq for FieldName {
    fn eq(&self, other: &Self) -> bool {
        // Interned: the same name is the same allocation, so most comparisons stop here.
        std::ptr::eq(self.0, other.0) || self.0 == other.0
    }
}

impl FieldName {
    /// The interned name.
    pub fn new(name: &str) -> Self {
        static NAMES: OnceLock<Mutex<HashMap<&'static str, &'static String>>> = OnceLock::new();
        let names = NAMES.get_or_init(Default::default);
        // A poisoned lock only means another thread panicked while inserting; the map is intact.
        let mut names = names
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(existing) = names.get(name) {
            return Self(existing);
        }
        let interned: &'static String = Box::leak(Box::new(name.to_owned()));
        names.insert(interned.as_str(), interned);
        Self(interned)
    }

    /// The name as text.
    pub fn as_str(&self) -> &str {
        self.0
    }

    /// Whether `other` is this name: one pointer compare, exact because names are interned.
    pub fn is(&self, other: &FieldName) -> bool {
        std::ptr::eq(self.0, other.0)
    }
}

impl PartialOrd for FieldName {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for FieldName {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        if std::ptr::eq(self.0, other.0) {
            return std::cmp::Ordering::Equal;
        }
        self.as_str().cmp(other.as_str())
    }
}

impl Serialize for FieldName {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.0)
    }
}

impl<'de> Deserialize<'de> for FieldName {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = std::borrow::Cow::<'de, str>::deserialize(deserializer)?;
        Ok(Self::new(&name))
    }
}

// Lets maps keyed by names be read with a plain `&str` (`attributes.get("office")`): the
// ordering, equality and hash of a name are those of its text.
impl std::borrow::Borrow<str> for FieldName {
    fn borrow(&self) -> &str {
        self.0
    }
}

impl From<&str> for FieldName {
    fn from(name: &str) -> Self {
        Self::new(name)
    }
}

impl From<String> for FieldName {
    fn from(name: String) -> Self {
        Self::new(&name)
    }
}

impl From<&String> for FieldName {
    fn from(name: &String) -> Self {
        Self::new(name)
    }
}

impl fmt::Debug for FieldName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

impl fmt::Display for FieldName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

/// A mapped user: field name → value, kept sorted by name. Absent fields are not set.
///
/// A sorted vector rather than a map: records are built once in name order (the mapping's
/// rules are sorted by target), read by binary search and diffed by one merge walk.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct UserRecord {
    fields: Vec<(FieldName, FieldValue)>,
}

impl UserRecord {
    /// An empty record.
    pub fn new() -> Self {
        Self::default()
    }
    /// An empty record with room for `fields` fields.
    pub fn with_capacity(fields: usize) -> Self {
        Self {
            fields: Vec::with_capacity(fields),
        }
    }
    fn position(&self, field: &str) -> Result<usize, usize> {
        self.fields
            .binary_search_by(|(name, _)| name.as_str().cmp(field))
    }
    /// Sets a field.
    pub fn set(&mut self, field: impl Into<FieldName>, value: FieldValue) {
        let field = field.into();
        // Appending in name order is the common case (mapping), and needs no search.
        if self.fields.last().is_none_or(|(last, _)| *last < field) {
            self.fields.push((field, value));
            return;
        }
        match self.position(field.as_str()) {
            Ok(index) => self.fields[index].1 = value,
            Err(index) => self.fields.insert(index, (field, value)),
        }
    }
    /// Removes a field.
    pub fn remove(&mut self, field: &str) -> Option<FieldValue> {
        self.position(field)
            .ok()
            .map(|index| self.fields.remove(index).1)
    }
    /// A field's value.
    pub fn get(&self, field: &str) -> Option<&FieldValue> {
        self.position(field).ok().map(|index| &self.fields[index].1)
    }
    /// A field's value as text.
    pub fn text(&self, field: &str) -> Option<String> {
        self.get(field).map(FieldValue::to_text)
    }
    /// A text field's value without copying it (`None` for dates, lists and absent fields).
    pub fn text_ref(&self, field: &str) -> Option<&str> {
        match self.get(field) {
            Some(FieldValue::Text(text)) => Some(text),
            _ => None,
        }
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
        let mut changes = Vec::new();
        let (mut old, mut new) = (
            self.fields.iter().peekable(),
            desired.fields.iter().peekable(),
        );
        loop {
            let change = match (old.peek(), new.peek()) {
                (None, None) => break,
                (Some((name, value)), None) => {
                    let change = (name, Some(value), None);
                    old.next();
                    change
                }
                (None, Some((name, value))) => {
                    let change = (name, None, Some(value));
                    new.next();
                    change
                }
                (Some((old_name, old_value)), Some((new_name, new_value))) => {
                    match old_name.cmp(new_name) {
                        std::cmp::Ordering::Less => {
                            let change = (old_name, Some(old_value), None);
                            old.next();
                            change
                        }
                        std::cmp::Ordering::Greater => {
                            let change = (new_name, None, Some(new_value));
                            new.next();
                            change
                        }
                        std::cmp::Ordering::Equal => {
                            let change = (old_name, Some(old_value), Some(new_value));
                            old.next();
                            new.next();
                            change
                        }
                    }
                }
            };
            let (name, old_value, new_value) = change;
            if old_value != new_value && !ignore.contains(name.as_str()) {
                changes.push(FieldChange {
                    field: name.to_string(),
                    old: old_value.cloned(),
                    new: new_value.cloned(),
                });
            }
        }
        changes
    }

    /// `self` with `changes` applied.
    pub fn apply(&mut self, changes: &[FieldChange]) {
        for change in changes {
            match &change.new {
                Some(value) => self.set(change.field.as_str(), value.clone()),
                None => {
                    self.remove(&change.field);
                }
            }
        }
    }
}

impl Serialize for UserRecord {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(Some(self.fields.len()))?;
        for (name, value) in &self.fields {
            map.serialize_entry(name.as_str(), value)?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for UserRecord {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let map = BTreeMap::<String, FieldValue>::deserialize(deserializer)?;
        let fields = map
            .into_iter()
            .map(|(name, value)| (FieldName::new(&name), value))
            .collect();
        Ok(Self { fields })
    }
}

impl fmt::Debug for UserRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set()
            .entries(self.fields.iter().map(|(name, _)| name))
            .finish()
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
