//! Mapping: one Personio employee → one destination-neutral [`UserRecord`], by the tenant's rules.
//!
//! The 18 default fields are those every seed vendor syncs (Engagedly's list is the superset):
//! first and last name, email, gender, status, position, supervisor (handled as the manager link,
//! not a field), hire date, termination date and type, office, department, cost center, profile
//! picture, birthday, LinkedIn, employment type and employee id — plus `user_name`, which every
//! destination needs.

use crate::employee::{AttrValue, Employee};
use crate::history::RecordError;
use crate::record::{FieldName, FieldValue, UserRecord, EMAIL, USER_NAME};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// How a label reference starts: `label:Shirt size`.
const LABEL: &str = crate::personio::labels::PREFIX;

/// Where a field's value comes from: an attribute key (`position`, `dynamic_24407`); written
/// `universal:<id>`, the attribute with that `universal_id` (`universal:date_of_birth`), which
/// finds custom attributes without knowing each tenant's numeric key; or written `label:<label>`,
/// the attribute with that label as admins see it in Personio (`label:Shirt size`).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum SourceRef {
    /// An attribute key.
    Key(String),
    /// An attribute's `universal_id`.
    Universal(String),
    /// An attribute's label, kept with its `label:` prefix: the fetch resolves it to a key and
    /// reports the pair under that very text, so a lookup allocates nothing.
    Label(String),
}

impl SourceRef {
    /// Parses `key` or `universal:<id>`.
    pub fn parse(text: &str) -> Result<Self, String> {
        let valid = |s: &str| {
            !s.is_empty()
                && s.len() <= 100
                && s.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        };
        if let Some(label) = text.strip_prefix(LABEL) {
            let label = label.trim();
            if label.is_empty()
                || label.chars().count() > 100
                || label.chars().any(char::is_control)
            {
                return Err(format!(
                    "`{text}` is not a Personio attribute label: write `label:` and the label as Personio shows it (1-100 characters)"
                ));
            }
            return Ok(Self::Label(format!("{LABEL}{label}")));
        }
        match text.strip_prefix("universal:") {
            Some(id) if valid(id) => Ok(Self::Universal(id.to_owned())),
            None if valid(text) => Ok(Self::Key(text.to_owned())),
            _ => Err(format!(
                "`{text}` is not a Personio attribute: use its key (`position`, `dynamic_123`), `universal:<universal_id>` or `label:<label>`"
            )),
        }
    }

    /// The attribute key this refers to for a batch with these `universal_id`s (which also
    /// carry the fetch's resolved labels, under their `label:…` text).
    pub fn resolve<'a>(&'a self, universal_ids: &'a BTreeMap<String, String>) -> Option<&'a str> {
        match self {
            Self::Key(key) => Some(key),
            Self::Universal(id) | Self::Label(id) => universal_ids.get(id).map(String::as_str),
        }
    }

    /// The value of this attribute on `employee`, if Personio returned it.
    pub fn value<'a>(
        &self,
        employee: &'a Employee,
        universal_ids: &BTreeMap<String, String>,
    ) -> Option<&'a AttrValue> {
        self.resolve(universal_ids)
            .and_then(|key| employee.attributes.get(key))
    }
}

impl TryFrom<String> for SourceRef {
    type Error = String;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<SourceRef> for String {
    fn from(value: SourceRef) -> String {
        value.to_string()
    }
}

impl fmt::Display for SourceRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Key(key) | Self::Label(key) => f.write_str(key),
            Self::Universal(id) => write!(f, "universal:{id}"),
        }
    }
}

/// A text transform, applied in the order listed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Transform {
    /// Strip surrounding white space.
    Trim,
    /// Lower-case (emails, user names).
    Lower,
    /// Upper-case.
    Upper,
}

mod derive;
#[cfg(test)]
mod tests;

pub use derive::{Derivation, Derive, ObjectPart};

/// How one destination field is filled.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FieldRule {
    /// The neutral destination field (`title`, `department`, or a custom name).
    pub target: String,
    /// The Personio attribute; none for a constant field (then `default` is the value).
    #[serde(default)]
    pub source: Option<SourceRef>,
    /// A person without a value is an error (and is not synced) instead of a missing field.
    #[serde(default)]
    pub required: bool,
    /// Text transforms, in order.
    #[serde(default)]
    pub transforms: Vec<Transform>,
    /// Value map applied after the transforms (`internal` → `Employee`); keys compare
    /// case-insensitively, unmapped values pass through.
    #[serde(default)]
    pub values: BTreeMap<String, String>,
    /// Value used when Personio has none.
    #[serde(default)]
    pub default: Option<String>,
    /// Written when the user is created, never updated afterwards.
    #[serde(default)]
    pub create_only: bool,
    /// Synced, but its values never appear in emails, history or logs.
    #[serde(default)]
    pub sensitive: bool,
    /// `false` switches a default field off.
    #[serde(default = "enabled")]
    pub enabled: bool,
    /// For an object attribute: map its name (default) or its id.
    #[serde(default, skip_serializing_if = "is_name")]
    pub object: ObjectPart,
    /// A computed value instead of the attribute's (tenure, office time zone, full name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub derive: Option<Derive>,
}

fn is_name(part: &ObjectPart) -> bool {
    *part == ObjectPart::Name
}

fn enabled() -> bool {
    true
}

impl FieldRule {
    /// A rule mapping `source` to `target` with no options.
    pub fn new(target: &str, source: &str) -> Self {
        Self {
            target: target.to_owned(),
            source: SourceRef::parse(source).ok(),
            required: false,
            transforms: Vec::new(),
            values: BTreeMap::new(),
            default: None,
            create_only: false,
            sensitive: false,
            enabled: true,
            object: ObjectPart::Name,
            derive: None,
        }
    }

    fn required(mut self) -> Self {
        self.required = true;
        self
    }

    fn transforms(mut self, transforms: &[Transform]) -> Self {
        self.transforms = transforms.to_vec();
        self
    }

    fn sensitive(mut self) -> Self {
        self.sensitive = true;
        self
    }

    /// Problems with this rule, for config validation.
    pub fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        let target_ok = !self.target.is_empty()
            && self.target.len() <= 100
            && self
                .target
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_');
        if !target_ok {
            problems.push(format!(
                "mapping.fields: target `{}` must be 1-100 of a-z, 0-9 and _",
                self.target
            ));
        }
        if self.enabled && self.source.is_none() && self.default.is_none() && self.derive.is_none()
        {
            problems.push(format!(
                "mapping.fields.{}: give a `source` attribute, a `derive` or a constant `default`",
                self.target
            ));
        }
        problems
    }

    /// The attribute this rule reads: its source, else what its derivation reads.
    pub fn reads(&self) -> Option<SourceRef> {
        self.source
            .clone()
            .or_else(|| self.derive.map(Derive::source))
    }

    /// This rule's value for `employee`, after transforms, value map and default.
    fn value(
        &self,
        employee: &Employee,
        universal_ids: &BTreeMap<String, String>,
        derivation: &Derivation,
    ) -> Option<FieldValue> {
        let raw = self
            .source
            .as_ref()
            .and_then(|source| source.value(employee, universal_ids));
        self.value_from(raw, employee, derivation)
    }

    /// [`FieldRule::value`] from the attribute value its source reads (`raw`), found by the caller.
    fn value_from(
        &self,
        raw: Option<&AttrValue>,
        employee: &Employee,
        derivation: &Derivation,
    ) -> Option<FieldValue> {
        if let Some(derive) = self.derive {
            let derived = derivation
                .value(derive, employee)
                .and_then(|value| match value {
                    FieldValue::Text(text) => {
                        let text = self.finish(text);
                        (!text.is_empty()).then_some(FieldValue::Text(text))
                    }
                    other => Some(other),
                });
            return derived.or_else(|| self.default.clone().map(FieldValue::Text));
        }
        self.owned_value(raw.cloned())
    }

    /// This rule's value from an attribute value it owns: text moves into the record instead of
    /// being copied.
    fn owned_value(&self, raw: Option<AttrValue>) -> Option<FieldValue> {
        let text = |text: String| {
            Some(text)
                .filter(|text| !text.is_empty())
                .map(|text| self.finish(text))
                .filter(|text| !text.is_empty())
                .map(FieldValue::Text)
        };
        let value = match raw {
            Some(AttrValue::Date(date)) => Some(FieldValue::Date(date)),
            Some(AttrValue::Tags(tags)) => {
                let tags: Vec<String> = tags
                    .into_iter()
                    .map(|tag| self.finish(tag))
                    .filter(|tag| !tag.is_empty())
                    .collect();
                (!tags.is_empty()).then(|| FieldValue::List(tags.into_boxed_slice()))
            }
            Some(AttrValue::Text(value) | AttrValue::Number(value)) => text(value),
            Some(AttrValue::Object(object)) => match self.object {
                ObjectPart::Name => text(object.name),
                ObjectPart::Id => object.id.map(|id| id.to_string()).and_then(text),
            },
            Some(other) => other.to_text().and_then(text),
            None => None,
        };
        value.or_else(|| self.default.clone().map(FieldValue::Text))
    }

    /// Applies the transforms and the value map. Works on the owned text and copies only when a
    /// transform changes something: mapping runs for every field of every person.
    fn finish(&self, mut text: String) -> String {
        for transform in &self.transforms {
            match transform {
                Transform::Trim => {
                    let trimmed = text.trim();
                    if trimmed.len() != text.len() {
                        text = trimmed.to_owned();
                    }
                }
                Transform::Lower if text.chars().any(char::is_uppercase) => {
                    text = text.to_lowercase();
                }
                Transform::Upper if text.chars().any(char::is_lowercase) => {
                    text = text.to_uppercase();
                }
                Transform::Lower | Transform::Upper => {}
            }
        }
        if self.values.is_empty() {
            return text;
        }
        match self
            .values
            .iter()
            .find(|(from, _)| from.eq_ignore_ascii_case(&text))
        {
            Some((_, to)) => to.clone(),
            None => text,
        }
    }
}

/// The default rules: the 18 seed fields plus `user_name`.
pub fn default_fields() -> Vec<FieldRule> {
    use Transform::{Lower, Trim};
    vec![
        FieldRule::new(USER_NAME, "email")
            .required()
            .transforms(&[Trim, Lower]),
        FieldRule::new("given_name", "first_name")
            .required()
            .transforms(&[Trim]),
        FieldRule::new("family_name", "last_name")
            .required()
            .transforms(&[Trim]),
        FieldRule::new(EMAIL, "email")
            .required()
            .transforms(&[Trim, Lower]),
        FieldRule::new("gender", "gender"),
        FieldRule::new("employment_status", "status"),
        FieldRule::new("title", "position").transforms(&[Trim]),
        FieldRule::new("hire_date", "hire_date"),
        FieldRule::new("termination_date", "termination_date"),
        FieldRule::new("termination_type", "termination_type"),
        FieldRule::new("location", "office"),
        FieldRule::new("department", "department"),
        FieldRule::new("cost_center", "cost_centers"),
        FieldRule::new("photo_url", "profile_picture"),
        FieldRule::new("birthday", "universal:date_of_birth").sensitive(),
        FieldRule::new("linkedin", "universal:linkedin"),
        FieldRule::new("employee_type", "employment_type"),
        FieldRule::new("employee_number", "id"),
    ]
}

/// A tenant's effective rules, ready to map many people: each target name interned once.
pub struct Mapping {
    rules: Vec<(FieldName, FieldRule)>,
    /// Per rule: the attribute key it may take out of the employee instead of copying, because
    /// no other rule reads that key and nothing reads it after mapping.
    takes: Vec<Option<FieldName>>,
    /// Per rule: the attribute key it reads when the source names a key (not a universal id or a
    /// label), interned, so that finding it among a person's attributes compares pointers, not
    /// text (string compares were a fifth of mapping's time, issue 17).
    keys: Vec<Option<FieldName>>,
    /// The run's day and time zones, for derived values.
    derivation: Derivation,
}

impl Mapping {
    /// These rules on the run whose day and time zones `derivation` holds (tenure counts to
    /// that day).
    pub fn on(mut self, derivation: Derivation) -> Self {
        self.derivation = derivation;
        self
    }

    /// Prepares `rules` (as [`crate::config::MappingConfig::effective_fields`] returns them) for
    /// [`Mapping::map`]; [`Mapping::map_owned`] then copies every value.
    pub fn new(rules: Vec<FieldRule>) -> Self {
        Self::with_kept(rules, |_| true)
    }

    /// The tenant's effective rules, where [`Mapping::map_owned`] may move a value out of the
    /// employee when nothing reads it after mapping (see `UsedAttributes::kept_after_mapping`).
    pub fn of(config: &crate::config::TenantConfig) -> Self {
        let used = config.attributes();
        Self::with_kept(config.mapping.effective_fields(), |key| {
            used.kept_after_mapping(key)
        })
    }

    fn with_kept(rules: Vec<FieldRule>, kept_after_mapping: impl Fn(&str) -> bool) -> Self {
        let mut rules: Vec<(FieldName, FieldRule)> = rules
            .into_iter()
            .map(|rule| (FieldName::new(&rule.target), rule))
            .collect();
        // Records are built by appending in name order.
        rules.sort_by(|(a, _), (b, _)| a.cmp(b));
        let readers = |key: &str| {
            rules
                .iter()
                .filter(
                    |(_, rule)| matches!(&rule.source, Some(SourceRef::Key(other)) if other == key),
                )
                .count()
        };
        let takes = rules
            .iter()
            .map(|(_, rule)| match &rule.source {
                Some(SourceRef::Key(key)) if readers(key) == 1 && !kept_after_mapping(key) => {
                    Some(FieldName::new(key))
                }
                _ => None,
            })
            .collect();
        let keys = rules
            .iter()
            .map(|(_, rule)| match &rule.source {
                Some(SourceRef::Key(key)) => Some(FieldName::new(key)),
                _ => None,
            })
            .collect();
        Self {
            rules,
            takes,
            keys,
            derivation: Derivation::default(),
        }
    }

    /// The rules.
    pub fn rules(&self) -> impl Iterator<Item = &FieldRule> {
        self.rules.iter().map(|(_, rule)| rule)
    }

    /// Rule `index`'s value for `employee`: a key source is found by its interned name.
    fn value(
        &self,
        index: usize,
        employee: &Employee,
        universal_ids: &BTreeMap<String, String>,
    ) -> Option<FieldValue> {
        let rule = &self.rules[index].1;
        match &self.keys[index] {
            Some(key) => rule.value_from(
                employee.attributes.get_name(key),
                employee,
                &self.derivation,
            ),
            None => rule.value(employee, universal_ids, &self.derivation),
        }
    }

    /// Maps one employee: see [`map_employee`].
    pub fn map(
        &self,
        employee: &Employee,
        universal_ids: &BTreeMap<String, String>,
    ) -> Result<UserRecord, Vec<RecordError>> {
        let values = (0..self.rules.len())
            .map(|index| self.value(index, employee, universal_ids))
            .collect();
        record_of(employee, &self.rules, values)
    }

    /// Maps one employee whose attributes are not needed afterwards (but those the plan reads):
    /// values read by a single rule are moved into the record, not copied. Rules that may
    /// share an attribute (universal ids) read first, so a moved value is never missed.
    pub fn map_owned(
        &self,
        employee: &mut Employee,
        universal_ids: &BTreeMap<String, String>,
    ) -> Result<UserRecord, Vec<RecordError>> {
        let mut values: Vec<Option<FieldValue>> = Vec::with_capacity(self.rules.len());
        for index in 0..self.rules.len() {
            values.push(match self.takes[index] {
                None => self.value(index, employee, universal_ids),
                Some(_) => None,
            });
        }
        for (index, take) in self.takes.iter().enumerate() {
            if let Some(key) = take {
                let raw = employee.attributes.remove_name(key);
                values[index] = self.rules[index].1.owned_value(raw);
            }
        }
        record_of(employee, &self.rules, values)
    }
}

/// The record of `employee` from each rule's value (in the rules' order): the values that are
/// there, or the errors of the required ones that are not, named from what did map.
fn record_of(
    employee: &Employee,
    rules: &[(FieldName, FieldRule)],
    values: Vec<Option<FieldValue>>,
) -> Result<UserRecord, Vec<RecordError>> {
    // Exactly the room of the values there are: a record lives as long as the run, and
    // shrinking it afterwards would copy it.
    let mut record = UserRecord::with_capacity(values.iter().flatten().count());
    let mut errors = Vec::new();
    for ((target, rule), value) in rules.iter().zip(values) {
        match value {
            Some(value) => record.set(target.clone(), value),
            None if rule.required => errors.push(required_error(employee, rule)),
            None => {}
        }
    }
    if errors.is_empty() {
        Ok(record)
    } else {
        Err(named(errors, &record))
    }
}

fn required_error(employee: &Employee, rule: &FieldRule) -> RecordError {
    RecordError {
name: None,
        person: Some(employee.key.clone()),
        action: "map".to_owned(),
        message: format!(
            "required field `{}` is empty (Personio attribute `{}`)",
            rule.target,
            rule.reads()
                .as_ref()
                .map(ToString::to_string)
                .unwrap_or_default()
        ),
        hint: "fill it in Personio, whitelist the attribute for the API credential, or make the field optional in the mapping".to_owned(),
    }
}

/// Maps one employee. A required field without a value makes the whole record an error: a user
/// without a name or email is worse than no user.
pub fn map_employee(
    employee: &Employee,
    rules: &[FieldRule],
    universal_ids: &BTreeMap<String, String>,
) -> Result<UserRecord, Vec<RecordError>> {
    Mapping::new(rules.to_vec()).map(employee, universal_ids)
}

/// `errors`, each naming its person from what did map (for the email and errors.csv).
fn named(mut errors: Vec<RecordError>, record: &UserRecord) -> Vec<RecordError> {
    let name = crate::people::display_name(record);
    for error in &mut errors {
        error.name.clone_from(&name);
    }
    errors
}
