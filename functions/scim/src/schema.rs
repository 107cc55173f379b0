//! Where each neutral record field lands in a SCIM User, and the JSON that follows from it.
//!
//! The defaults follow RFC 7643 §4.1 (core User) and §4.3 (enterprise extension). A tenant may
//! move a field, give a field without a SCIM home one (for instance a custom extension URN path),
//! or switch a field off with an empty path. Fields with no home here may get one from the app's
//! published schemas (`homes`, auto-mapping); [`fields_without_scim_home`] lists them so that an
//! offline `check-config` can say so.

use crate::discovery::AttributeKind;
use crate::json::member;
use crate::path::{AttrPath, CORE_USER};
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};
use sync_core::ids::DestinationId;
use sync_core::ports::{DestinationUser, NewUser};
use sync_core::record::{FieldValue, EMAIL, USER_NAME};

/// The enterprise User extension (RFC 7643 §4.3).
pub const ENTERPRISE_USER: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

/// The default home of every neutral field that has one.
pub const DEFAULT_PATHS: &[(&str, &str)] = &[
    ("user_name", "userName"),
    ("given_name", "name.givenName"),
    ("family_name", "name.familyName"),
    ("display_name", "displayName"),
    ("email", r#"emails[type eq "work"].value"#),
    ("title", "title"),
    ("employee_type", "userType"),
    (
        "employee_number",
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber",
    ),
    (
        "department",
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department",
    ),
    (
        "cost_center",
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:costCenter",
    ),
    ("location", r#"addresses[type eq "work"].locality"#),
    ("photo_url", r#"photos[type eq "photo"].value"#),
    ("preferred_language", "preferredLanguage"),
];

/// Attributes this adapter manages itself; a field mapped onto one would fight it.
pub(crate) const RESERVED: &[&str] = &[
    "id",
    "externalId",
    "active",
    "meta",
    "schemas",
    "groups",
    "password",
];

/// A field mapping that cannot work.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SchemaError {
    /// The path does not parse.
    #[error("attribute_paths maps field `{field}` to `{path}`, which is not a SCIM attribute path ({reason}); write for example `title`, `name.givenName`, `emails[type eq \"work\"].value` or `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:costCenter`")]
    InvalidPath {
        /// The neutral field.
        field: String,
        /// The configured path.
        path: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The path is one this adapter writes itself.
    #[error("attribute_paths maps field `{field}` to `{path}`, which this service manages itself (ids, externalId, active, manager, groups); map the field elsewhere")]
    Reserved {
        /// The neutral field.
        field: String,
        /// The configured path.
        path: String,
    },
    /// Two fields would write the same attribute.
    #[error("attribute_paths maps both `{first}` and `{second}` to `{path}`; give each field its own attribute")]
    Shared {
        /// One field.
        first: String,
        /// The other field.
        second: String,
        /// The shared path.
        path: String,
    },
    /// `user_name` was switched off.
    #[error("attribute_paths switches off `user_name`, but every SCIM user needs a userName; remove that entry")]
    NoUserName,
}

/// The field → SCIM path table of one tenant: the defaults plus its overrides, and after
/// discovery the attributes auto-mapping found (see `homes`).
#[derive(Clone, Debug)]
pub struct SchemaMap {
    paths: BTreeMap<String, AttrPath>,
    /// How a value is written where it is not text (a date into a `dateTime` attribute).
    kinds: BTreeMap<String, AttributeKind>,
    /// Fields the tenant gave a path of its own, or switched off (an empty path).
    pub(crate) configured: BTreeSet<String>,
}

impl SchemaMap {
    /// The defaults with `overrides` applied: field → path, an empty path switches a field off.
    pub fn new(overrides: &BTreeMap<String, String>) -> Result<Self, SchemaError> {
        let mut texts: BTreeMap<String, String> = DEFAULT_PATHS
            .iter()
            .map(|(field, path)| ((*field).to_owned(), (*path).to_owned()))
            .collect();
        for (field, path) in overrides {
            texts.insert(field.clone(), path.trim().to_owned());
        }
        let mut paths = BTreeMap::new();
        let mut owners: BTreeMap<String, String> = BTreeMap::new();
        let configured = overrides.keys().cloned().collect();
        for (field, text) in texts {
            if text.is_empty() {
                if field == USER_NAME {
                    return Err(SchemaError::NoUserName);
                }
                continue;
            }
            let path = AttrPath::parse(&text).map_err(|reason| SchemaError::InvalidPath {
                field: field.clone(),
                path: text.clone(),
                reason,
            })?;
            let reserved = path.schema().is_none()
                && RESERVED
                    .iter()
                    .any(|r| r.eq_ignore_ascii_case(path.attribute()))
                || path
                    .schema()
                    .is_some_and(|s| s.eq_ignore_ascii_case(ENTERPRISE_USER))
                    && path.attribute().eq_ignore_ascii_case("manager");
            if reserved {
                return Err(SchemaError::Reserved { field, path: text });
            }
            let key = path.to_string().to_ascii_lowercase();
            if let Some(first) = owners.insert(key, field.clone()) {
                return Err(SchemaError::Shared {
                    first,
                    second: field,
                    path: text,
                });
            }
            paths.insert(field, path);
        }
        Ok(Self {
            paths,
            kinds: BTreeMap::new(),
            configured,
        })
    }

    /// Sends `field` to `path`, a found attribute of `kind` (auto-mapping).
    pub(crate) fn insert(&mut self, field: &str, path: AttrPath, kind: AttributeKind) {
        if kind != AttributeKind::Text {
            self.kinds.insert(field.to_owned(), kind);
        }
        self.paths.insert(field.to_owned(), path);
    }

    /// The JSON of `value` for `field`'s attribute.
    pub(crate) fn value(&self, field: &str, value: &FieldValue) -> Value {
        match (self.kinds.get(field), value) {
            (Some(AttributeKind::DateTime), FieldValue::Date(date)) => {
                Value::String(format!("{}T00:00:00Z", date.format("%Y-%m-%d")))
            }
            _ => to_json(value),
        }
    }

    /// Where `field` lands, if anywhere.
    pub fn path(&self, field: &str) -> Option<&AttrPath> {
        self.paths.get(field)
    }

    /// Every mapped field and its path, in field order.
    pub fn paths(&self) -> impl Iterator<Item = (&str, &AttrPath)> {
        self.paths
            .iter()
            .map(|(field, path)| (field.as_str(), path))
    }

    /// The fields among `fields` that have no SCIM home and are therefore not sent.
    pub fn unmapped<'a>(&self, fields: impl IntoIterator<Item = &'a str>) -> Vec<&'a str> {
        fields
            .into_iter()
            .filter(|field| !self.paths.contains_key(*field))
            .collect()
    }

    /// The body of `POST /Users` for `user`.
    pub(crate) fn user_json(&self, user: &NewUser) -> Value {
        let mut body = json!({
            "schemas": [CORE_USER],
            "externalId": user.external_id,
            "active": user.active,
        });
        for (field, value) in user.record.fields() {
            if let Some(path) = self.path(field) {
                path.set(&mut body, self.value(field, value));
            }
        }
        body
    }

    /// The parts of a SCIM User the engine needs; `None` when it has no usable id.
    pub(crate) fn destination_user(&self, resource: &Value) -> Option<DestinationUser> {
        let id = member(resource, "id")?.as_str()?;
        let id = DestinationId::parse(id).ok()?;
        let text = |value: Option<&Value>| value.and_then(Value::as_str).map(str::to_owned);
        let email = self
            .path(EMAIL)
            .and_then(|path| text(path.get(resource)))
            .or_else(|| any_email(resource));
        let employee_number = self
            .path("employee_number")
            .and_then(|path| text(path.get(resource)));
        Some(DestinationUser {
            id,
            user_name: text(member(resource, "userName")).unwrap_or_default(),
            email,
            external_id: text(member(resource, "externalId")),
            employee_number,
            // RFC 7643 leaves a missing `active` undefined; servers that omit it (scim2-server
            // does when it was never set) do not treat the user as disabled.
            active: member(resource, "active")
                .and_then(Value::as_bool)
                .unwrap_or(true),
        })
    }
}

/// The fields among `fields` that would not be sent with these overrides (the defaults apply
/// to every field not named in `overrides`).
pub fn fields_without_scim_home<'a>(
    fields: impl IntoIterator<Item = &'a str>,
    overrides: &BTreeMap<String, String>,
) -> Result<Vec<&'a str>, SchemaError> {
    Ok(SchemaMap::new(overrides)?.unmapped(fields))
}

/// A record value as SCIM JSON: SCIM attributes a mapping targets are strings, so dates are
/// written `YYYY-MM-DD` and lists joined with ", ".
pub(crate) fn to_json(value: &FieldValue) -> Value {
    Value::String(value.to_text())
}

/// The primary email, else the first, for servers that keep no `work` email.
fn any_email(resource: &Value) -> Option<String> {
    let emails = member(resource, "emails")?.as_array()?;
    let primary = emails
        .iter()
        .find(|e| member(e, "primary").and_then(Value::as_bool) == Some(true));
    primary
        .or_else(|| emails.first())
        .and_then(|e| member(e, "value"))
        .and_then(Value::as_str)
        .map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;
    use sync_core::record::UserRecord;

    fn text(value: &str) -> FieldValue {
        FieldValue::Text(value.to_owned())
    }

    #[test]
    fn a_new_user_carries_core_enterprise_and_multi_valued_fields() {
        let mut record = UserRecord::new();
        record.set("user_name", text("ada@acme.example"));
        record.set("given_name", text("Ada"));
        record.set("email", text("ada@acme.example"));
        record.set("department", text("R&D"));
        record.set("location", text("Berlin"));
        record.set("gender", text("female"));
        let user = NewUser {
            external_id: "main:7".into(),
            record,
            active: false,
        };
        let body = SchemaMap::new(&BTreeMap::new()).unwrap().user_json(&user);
        assert_eq!(
            body,
            json!({
                "schemas": [CORE_USER, ENTERPRISE_USER],
                "externalId": "main:7",
                "active": false,
                "userName": "ada@acme.example",
                "name": {"givenName": "Ada"},
                "emails": [{"type": "work", "value": "ada@acme.example", "primary": true}],
                "addresses": [{"type": "work", "locality": "Berlin", "primary": true}],
                ENTERPRISE_USER: {"department": "R&D"}
            })
        );
    }

    #[test]
    fn fields_without_a_home_are_listed_until_a_tenant_maps_them() {
        let fields = ["gender", "title", "hire_date", "dynamic_99"];
        let none = BTreeMap::new();
        assert_eq!(
            fields_without_scim_home(fields, &none).unwrap(),
            ["gender", "hire_date", "dynamic_99"]
        );
        let overrides = BTreeMap::from([
            (
                "hire_date".to_owned(),
                "urn:example:params:scim:schemas:extension:hr:2.0:User:hireDate".to_owned(),
            ),
            ("title".to_owned(), String::new()),
        ]);
        assert_eq!(
            fields_without_scim_home(fields, &overrides).unwrap(),
            ["gender", "title", "dynamic_99"]
        );
    }

    #[test]
    fn unusable_overrides_are_refused_with_the_field_named() {
        let bad = |field: &str, path: &str| {
            SchemaMap::new(&BTreeMap::from([(field.to_owned(), path.to_owned())])).unwrap_err()
        };
        assert!(
            matches!(bad("title", "ti tle"), SchemaError::InvalidPath { field, .. } if field == "title")
        );
        assert!(matches!(
            bad("gender", "externalId"),
            SchemaError::Reserved { .. }
        ));
        assert!(matches!(
            bad("gender", &format!("{ENTERPRISE_USER}:manager")),
            SchemaError::Reserved { .. }
        ));
        assert!(matches!(bad("gender", "TITLE"), SchemaError::Shared { .. }));
        assert_eq!(bad("user_name", ""), SchemaError::NoUserName);
    }

    #[test]
    fn a_destination_user_falls_back_to_the_primary_email_and_counts_as_active() {
        let resource = json!({
            "id": "u1", "userName": "ada", "externalId": "main:7",
            "emails": [{"type": "home", "value": "h@x"}, {"type": "other", "value": "p@x", "primary": true}],
            ENTERPRISE_USER: {"employeeNumber": "7"}
        });
        let user = SchemaMap::new(&BTreeMap::new())
            .unwrap()
            .destination_user(&resource)
            .unwrap();
        assert_eq!(user.email.as_deref(), Some("p@x"));
        assert_eq!(user.employee_number.as_deref(), Some("7"));
        assert_eq!(user.external_id.as_deref(), Some("main:7"));
        assert!(user.active);
    }
}
