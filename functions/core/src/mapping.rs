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

    fn value(&self, derive: Derive, employee: &Employee) -> Option<FieldValue> {
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
fn months_between(from: chrono::NaiveDate, to: chrono::NaiveDate) -> Option<u32> {
    use chrono::Datelike;
    let mut months = (to.year() - from.year()) * 12 + to.month() as i32 - from.month() as i32;
    if to.day() < from.day() {
        months -= 1;
    }
    u32::try_from(months).ok()
}

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
        let raw = self
            .source
            .as_ref()
            .and_then(|source| source.value(employee, universal_ids));
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
                (!tags.is_empty()).then_some(FieldValue::List(tags))
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
    takes: Vec<Option<String>>,
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
                    Some(key.clone())
                }
                _ => None,
            })
            .collect();
        Self {
            rules,
            takes,
            derivation: Derivation::default(),
        }
    }

    /// The rules.
    pub fn rules(&self) -> impl Iterator<Item = &FieldRule> {
        self.rules.iter().map(|(_, rule)| rule)
    }

    /// Maps one employee: see [`map_employee`].
    pub fn map(
        &self,
        employee: &Employee,
        universal_ids: &BTreeMap<String, String>,
    ) -> Result<UserRecord, Vec<RecordError>> {
        map_with(employee, &self.rules, universal_ids, &self.derivation)
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
        for ((_, rule), take) in self.rules.iter().zip(&self.takes) {
            values.push(match take {
                None => rule.value(employee, universal_ids, &self.derivation),
                Some(_) => None,
            });
        }
        for (index, take) in self.takes.iter().enumerate() {
            if let Some(key) = take {
                let raw = employee.attributes.remove(key.as_str());
                values[index] = self.rules[index].1.owned_value(raw);
            }
        }
        let mut record = UserRecord::with_capacity(self.rules.len());
        let mut errors = Vec::new();
        for ((target, rule), value) in self.rules.iter().zip(values) {
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
}

fn required_error(employee: &Employee, rule: &FieldRule) -> RecordError {
    RecordError {
name: None,
        person: Some(employee.key.clone()),
        action: "map".to_owned(),
        message: format!(
            "required field `{}` is empty (Personio attribute `{}`)",
            rule.target,
            rule.source
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

fn map_with(
    employee: &Employee,
    rules: &[(FieldName, FieldRule)],
    universal_ids: &BTreeMap<String, String>,
    derivation: &Derivation,
) -> Result<UserRecord, Vec<RecordError>> {
    let mut record = UserRecord::with_capacity(rules.len());
    let mut errors = Vec::new();
    for (target, rule) in rules {
        match rule.value(employee, universal_ids, derivation) {
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

/// `errors`, each naming its person from what did map (for the email and errors.csv).
fn named(mut errors: Vec<RecordError>, record: &UserRecord) -> Vec<RecordError> {
    let name = crate::people::display_name(record);
    for error in &mut errors {
        error.name.clone_from(&name);
    }
    errors
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::employee::NamedRef;
    use crate::ids::{AccountId, PersonKey, PersonioId};

    fn employee(pairs: Vec<(&str, AttrValue)>) -> Employee {
        Employee {
            key: PersonKey::new(AccountId::default(), PersonioId::new(7)),
            status: None,
            hire_date: None,
            termination_date: None,
            supervisor: None,
            attributes: pairs.into_iter().map(|(k, v)| (k.into(), v)).collect(),
        }
    }

    fn text(value: &str) -> AttrValue {
        AttrValue::Text(value.to_owned())
    }

    #[test]
    fn derived_values_and_object_ids() {
        let mut person = employee(vec![
            ("first_name", text("Ada")),
            ("last_name", text("Lovelace")),
            ("preferred_name", text(" ")),
            (
                "office",
                AttrValue::Object(NamedRef {
                    id: Some(4711),
                    name: "London".into(),
                }),
            ),
        ]);
        person.hire_date = Some("2024-03-15".parse().unwrap());
        let rule = |target: &str, derive: Option<Derive>| FieldRule {
            derive,
            ..FieldRule::new(target, "office")
        };
        let office_id = FieldRule {
            object: ObjectPart::Id,
            ..rule("location_id", None)
        };
        let rules = vec![
            office_id,
            rule("tenure", Some(Derive::TenureMonths)),
            rule("years", Some(Derive::TenureYears)),
            rule("zone", Some(Derive::OfficeTimezone)),
            rule("display_name", Some(Derive::FullName)),
        ];
        let derivation = Derivation {
            today: Some("2026-03-14".parse().unwrap()),
            timezone: Some(chrono_tz::Europe::Berlin),
            office_timezones: BTreeMap::from([("London".into(), chrono_tz::Europe::London)]),
        };
        let record = Mapping::new(rules.clone())
            .on(derivation.clone())
            .map(&person, &BTreeMap::new())
            .unwrap();
        assert_eq!(record.text("location_id").as_deref(), Some("4711"));
        // 15 March 2024 to 14 March 2026: the 24th month is not complete yet.
        assert_eq!(record.text("tenure").as_deref(), Some("23"));
        assert_eq!(record.text("years").as_deref(), Some("1"));
        assert_eq!(record.text("zone").as_deref(), Some("Europe/London"));
        // An empty preferred name falls back to first and last name.
        assert_eq!(record.text("display_name").as_deref(), Some("Ada Lovelace"));
        // Without the run's day there is no tenure; the rest does not need it.
        let undated = Mapping::new(rules).map(&person, &BTreeMap::new()).unwrap();
        assert_eq!(undated.get("tenure"), None);
        assert_eq!(undated.text("zone"), None);
        assert_eq!(
            months_between("2024-03-15".parse().unwrap(), "2024-03-15".parse().unwrap()),
            Some(0)
        );
        assert_eq!(
            months_between("2024-03-15".parse().unwrap(), "2024-03-14".parse().unwrap()),
            None
        );
    }

    #[test]
    fn defaults_map_the_seed_fields() {
        let person = employee(vec![
            ("id", AttrValue::Number("7".into())),
            ("first_name", text(" Ada ")),
            ("last_name", text("Lovelace")),
            ("email", text(" Ada@Example.COM")),
            ("position", text("CTO")),
            (
                "department",
                AttrValue::Object(NamedRef {
                    id: Some(1),
                    name: "Engineering".into(),
                }),
            ),
            ("dynamic_9", AttrValue::Date("1990-04-01".parse().unwrap())),
        ]);
        let universal = BTreeMap::from([("date_of_birth".to_owned(), "dynamic_9".to_owned())]);
        let record = map_employee(&person, &default_fields(), &universal).unwrap();
        assert_eq!(record.text(USER_NAME).as_deref(), Some("ada@example.com"));
        assert_eq!(record.text("given_name").as_deref(), Some("Ada"));
        assert_eq!(record.text("title").as_deref(), Some("CTO"));
        assert_eq!(record.text("department").as_deref(), Some("Engineering"));
        assert_eq!(record.text("employee_number").as_deref(), Some("7"));
        assert_eq!(record.text("birthday").as_deref(), Some("1990-04-01"));
        assert_eq!(record.get("gender"), None);
    }

    #[test]
    fn mapping_an_owned_employee_gives_the_same_record_as_mapping_a_borrowed_one() {
        let mut person = employee(vec![
            ("id", AttrValue::Number("7".into())),
            ("first_name", text(" Ada ")),
            ("last_name", text("Lovelace")),
            ("email", text(" Ada@Example.COM")),
            ("position", text("CTO")),
            (
                "department",
                AttrValue::Object(NamedRef {
                    id: Some(1),
                    name: "Eng".into(),
                }),
            ),
            ("dynamic_9", AttrValue::Date("1990-04-01".parse().unwrap())),
        ]);
        let universal = BTreeMap::from([("date_of_birth".to_owned(), "dynamic_9".to_owned())]);
        let mut rules = default_fields();
        // A key read by a rule of its own and, through its universal id, by a default rule.
        rules.push(FieldRule::new("born", "dynamic_9"));
        // As a tenant with department groups has it: the plan reads `department` after mapping.
        let mapping = Mapping::with_kept(rules, |key| key == "department");
        let borrowed = mapping.map(&person, &universal).unwrap();
        let owned = mapping.map_owned(&mut person, &universal).unwrap();
        assert_eq!(owned, borrowed);
        assert_eq!(owned.text("born").as_deref(), Some("1990-04-01"));
        assert_eq!(owned.text("birthday").as_deref(), Some("1990-04-01"));
        assert!(
            person.attribute("department").is_some(),
            "groups still read it"
        );
        assert!(
            person.attribute("position").is_none(),
            "moved into the record"
        );
    }

    #[test]
    fn missing_required_field_is_a_record_error_naming_the_field() {
        let person = employee(vec![("first_name", text("Ada")), ("last_name", text("L"))]);
        let errors = map_employee(&person, &default_fields(), &BTreeMap::new()).unwrap_err();
        assert!(errors.iter().any(|e| e.message.contains("`email`")));
        assert!(errors.iter().all(|e| !e.message.contains("Ada")));
    }

    #[test]
    fn value_map_and_default_apply_after_transforms() {
        let mut rule = FieldRule::new("employee_type", "employment_type");
        rule.transforms = vec![Transform::Trim];
        rule.values = BTreeMap::from([("external".to_owned(), "Contractor".to_owned())]);
        rule.default = Some("Employee".to_owned());
        let external = employee(vec![("employment_type", text(" External "))]);
        let unknown = employee(vec![]);
        let rules = [rule];
        let universal = BTreeMap::new();
        let mapped = map_employee(&external, &rules, &universal).unwrap();
        assert_eq!(mapped.text("employee_type").as_deref(), Some("Contractor"));
        let defaulted = map_employee(&unknown, &rules, &universal).unwrap();
        assert_eq!(defaulted.text("employee_type").as_deref(), Some("Employee"));
    }

    #[test]
    fn source_refs_parse_keys_and_universal_ids() {
        assert_eq!(
            SourceRef::parse("dynamic_12"),
            Ok(SourceRef::Key("dynamic_12".into()))
        );
        assert_eq!(
            SourceRef::parse("universal:linkedin"),
            Ok(SourceRef::Universal("linkedin".into()))
        );
        assert!(SourceRef::parse("first name").is_err());
        assert!(SourceRef::parse("universal:").is_err());
    }
}
