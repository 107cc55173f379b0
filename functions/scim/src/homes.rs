//! Auto-mapping: where each field of a tenant lands in the app, and why.
//!
//! In order: a path the tenant configured (or switched off) always wins; then the field's
//! standard SCIM attribute ([`crate::DEFAULT_PATHS`]); then an attribute of the app's own schemas
//! with the field's name or a usual synonym (`hire_date` → `startDate`); then this service's
//! extension schema ([`EXTENSION`]) when the app lists it for its users; else the field is not
//! sent. Names compare case-insensitively and without `_` or `-`.

use crate::discovery::{AttributeKind, Discovery, SchemaAttribute};
use crate::path::{AttrPath, CORE_USER};
use crate::schema::{SchemaMap, RESERVED};
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::fmt;

/// The personio-sync User extension: the seed fields SCIM has no attribute for. An app that
/// lists it among its User resource type's `schemaExtensions` receives them without any
/// configuration; `docs/scim/personio-sync-extension.json` is its schema, to load into the app.
pub const EXTENSION: &str = "urn:personio-sync:params:scim:schemas:extension:hr:2.0:User";

/// Field → attribute of [`EXTENSION`], and what each holds.
pub const EXTENSION_ATTRIBUTES: &[(&str, &str, &str)] = &[
    ("birthday", "birthDate", "Date of birth, YYYY-MM-DD."),
    (
        "employment_status",
        "employmentStatus",
        "Personio's employment status: active, onboarding, leave or inactive.",
    ),
    ("gender", "gender", "Gender as Personio records it."),
    ("hire_date", "hireDate", "First working day, YYYY-MM-DD."),
    ("linkedin", "linkedIn", "LinkedIn profile address."),
    (
        "termination_date",
        "terminationDate",
        "Last working day, YYYY-MM-DD, once a termination is recorded.",
    ),
    (
        "termination_type",
        "terminationType",
        "Kind of termination as Personio records it (for example resignation).",
    ),
];

/// Names that mean the same attribute, compared after [`fold`].
const SYNONYMS: &[&[&str]] = &[
    &[
        "hiredate",
        "startdate",
        "employmentstartdate",
        "joindate",
        "joiningdate",
        "entrydate",
    ],
    &[
        "terminationdate",
        "enddate",
        "employmentenddate",
        "leavedate",
        "leavingdate",
        "exitdate",
    ],
    &["birthday", "birthdate", "dateofbirth"],
    &[
        "linkedin",
        "linkedinurl",
        "linkedinprofile",
        "linkedinprofileurl",
    ],
    &["gender", "sex"],
    &["employmentstatus", "employeestatus", "status"],
    &[
        "terminationtype",
        "terminationreason",
        "exitreason",
        "leavereason",
    ],
    &["employeetype", "employmenttype"],
    &["preferredname", "nickname"],
];

/// Where one field lands and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldHome {
    /// The neutral field.
    pub field: String,
    /// Its attribute path, `None` when it is not sent.
    pub path: Option<String>,
    /// Why.
    pub reason: HomeReason,
}

/// Why a field lands where it does (or nowhere).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HomeReason {
    /// `destination.attribute_paths` names its path.
    Configured,
    /// `destination.attribute_paths` switches it off (an empty path).
    SwitchedOff,
    /// Its standard SCIM attribute.
    Standard,
    /// An attribute of the app's own schemas with its name or a synonym.
    Matched,
    /// The personio-sync extension, which the app lists.
    Extension,
    /// Not sent: the app publishes no schemas (no `/ResourceTypes` or `/Schemas`).
    NotPublished,
    /// Not sent: no attribute of the app has its name or a synonym.
    NoAttribute,
    /// Not sent: several of the app's attributes match equally well.
    Ambiguous(Vec<String>),
}

impl fmt::Display for HomeReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Configured => f.write_str("configured in destination.attribute_paths"),
            Self::SwitchedOff => f.write_str("switched off in destination.attribute_paths"),
            Self::Standard => f.write_str("standard SCIM attribute"),
            Self::Matched => f.write_str("matched by name in the app's schema"),
            Self::Extension => f.write_str("personio-sync extension, which the app supports"),
            Self::NotPublished => f.write_str(
                "not sent: the app publishes no schemas; name an attribute in destination.attribute_paths",
            ),
            Self::NoAttribute => f.write_str(
                "not sent: the app has no attribute of this name; name one in destination.attribute_paths",
            ),
            Self::Ambiguous(paths) => write!(
                f,
                "not sent: several attributes match ({}); choose one in destination.attribute_paths",
                paths.join(", ")
            ),
        }
    }
}

/// The map of `base` completed for `fields` from what the app published, and every field's home.
pub fn resolve(
    base: &SchemaMap,
    fields: &[String],
    discovery: &Discovery,
) -> (SchemaMap, Vec<FieldHome>) {
    let mut map = base.clone();
    let mut taken: BTreeSet<String> = base
        .paths()
        .map(|(_, path)| path.to_string().to_ascii_lowercase())
        .collect();
    let mut homes = Vec::new();
    let fields: BTreeSet<&String> = fields.iter().collect();
    for field in fields {
        let (path, reason) = match base.path(field) {
            Some(path) if base.configured.contains(field.as_str()) => {
                (Some(path.to_string()), HomeReason::Configured)
            }
            Some(path) => (Some(path.to_string()), HomeReason::Standard),
            None if base.configured.contains(field.as_str()) => (None, HomeReason::SwitchedOff),
            None if !discovery.published => (None, HomeReason::NotPublished),
            None => match found(field, discovery, &taken) {
                Found::One(attribute) => {
                    let text = attribute.path();
                    place(&mut map, &mut taken, field, &text, attribute.kind)
                        .map_or((None, HomeReason::NoAttribute), |text| {
                            (Some(text), HomeReason::Matched)
                        })
                }
                Found::Several(paths) => (None, HomeReason::Ambiguous(paths)),
                Found::None => match extension_attribute(field) {
                    Some(name) if discovery.has_extension(EXTENSION) => {
                        let text = format!("{EXTENSION}:{name}");
                        place(&mut map, &mut taken, field, &text, AttributeKind::Text)
                            .map_or((None, HomeReason::NoAttribute), |text| {
                                (Some(text), HomeReason::Extension)
                            })
                    }
                    _ => (None, HomeReason::NoAttribute),
                },
            },
        };
        homes.push(FieldHome {
            field: field.clone(),
            path,
            reason,
        });
    }
    (map, homes)
}

/// Puts `field` at `text` unless another field has it; the path as written.
fn place(
    map: &mut SchemaMap,
    taken: &mut BTreeSet<String>,
    field: &str,
    text: &str,
    kind: AttributeKind,
) -> Option<String> {
    let path = AttrPath::parse(text).ok()?;
    if !taken.insert(path.to_string().to_ascii_lowercase()) {
        return None;
    }
    map.insert(field, path, kind);
    Some(text.to_owned())
}

enum Found<'a> {
    None,
    One(&'a SchemaAttribute),
    Several(Vec<String>),
}

/// The app's attribute for `field`: the ones with its very name, else the ones with a synonym;
/// never this service's own extension (that comes last) nor an attribute another field has.
fn found<'a>(field: &str, discovery: &'a Discovery, taken: &BTreeSet<String>) -> Found<'a> {
    let wanted = fold(field);
    let synonyms: &[&str] = SYNONYMS
        .iter()
        .find(|group| group.contains(&wanted.as_str()))
        .copied()
        .unwrap_or(&[]);
    let reserved = |attribute: &SchemaAttribute| {
        attribute.schema.eq_ignore_ascii_case(CORE_USER)
            && RESERVED
                .iter()
                .any(|r| r.eq_ignore_ascii_case(&attribute.name))
    };
    let usable = |attribute: &&SchemaAttribute| {
        !attribute.schema.eq_ignore_ascii_case(EXTENSION)
            && !reserved(attribute)
            && !taken.contains(&attribute.path().to_ascii_lowercase())
    };
    for matches in [
        &(|name: &str| name == wanted) as &dyn Fn(&str) -> bool,
        &|name: &str| synonyms.contains(&name),
    ] {
        let hits: Vec<&SchemaAttribute> = discovery
            .attributes
            .iter()
            .filter(usable)
            .filter(|attribute| matches(&fold(&attribute.name)))
            .collect();
        match hits.as_slice() {
            [] => continue,
            [one] => return Found::One(one),
            several => return Found::Several(several.iter().map(|a| a.path()).collect()),
        }
    }
    Found::None
}

/// `field`'s attribute in [`EXTENSION`], if it has one.
fn extension_attribute(field: &str) -> Option<&'static str> {
    EXTENSION_ATTRIBUTES
        .iter()
        .find(|(name, _, _)| *name == field)
        .map(|(_, attribute, _)| *attribute)
}

/// Lower-case, without anything but letters and digits: `hire_date`, `hireDate` → `hiredate`.
fn fold(name: &str) -> String {
    name.chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// The RFC 7643 §7 schema of [`EXTENSION`], as an app loads it.
pub fn extension_schema() -> Value {
    let attributes: Vec<Value> = EXTENSION_ATTRIBUTES
        .iter()
        .map(|(_, name, description)| {
            json!({
                "name": name,
                "type": "string",
                "multiValued": false,
                "description": description,
                "required": false,
                "caseExact": false,
                "mutability": "readWrite",
                "returned": "default",
                "uniqueness": "none"
            })
        })
        .collect();
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Schema"],
        "id": EXTENSION,
        "name": "PersonioSyncUser",
        "description": "Personio fields that SCIM has no attribute for, sent by personio-sync.",
        "attributes": attributes,
        "meta": {"resourceType": "Schema", "location": format!("/v2/Schemas/{EXTENSION}")}
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    const APP: &str = "urn:example:params:scim:schemas:extension:lms:2.0:User";

    fn attribute(schema: &str, name: &str, kind: AttributeKind) -> SchemaAttribute {
        SchemaAttribute {
            schema: schema.into(),
            name: name.into(),
            kind,
        }
    }

    fn discovery(extensions: &[&str], attributes: Vec<SchemaAttribute>) -> Discovery {
        Discovery {
            published: true,
            extensions: extensions.iter().map(|e| (*e).to_owned()).collect(),
            attributes,
        }
    }

    fn fields(names: &[&str]) -> Vec<String> {
        names.iter().map(|n| (*n).to_owned()).collect()
    }

    fn homes(
        overrides: &[(&str, &str)],
        names: &[&str],
        found: &Discovery,
    ) -> BTreeMap<String, (Option<String>, HomeReason)> {
        let overrides = overrides
            .iter()
            .map(|(f, p)| ((*f).to_owned(), (*p).to_owned()))
            .collect();
        let base = SchemaMap::new(&overrides).unwrap();
        let (map, homes) = resolve(&base, &fields(names), found);
        for home in &homes {
            assert_eq!(
                map.path(&home.field).map(ToString::to_string).is_some(),
                home.path.is_some(),
                "{home:?}"
            );
        }
        homes
            .into_iter()
            .map(|h| (h.field, (h.path, h.reason)))
            .collect()
    }

    #[test]
    fn configured_then_standard_then_matched_then_extension() {
        let found = discovery(
            &[APP, EXTENSION],
            vec![
                attribute(APP, "startDate", AttributeKind::DateTime),
                attribute(APP, "Gender", AttributeKind::Text),
                attribute(EXTENSION, "hireDate", AttributeKind::Text),
                attribute(CORE_USER, "nickName", AttributeKind::Text),
            ],
        );
        let homes = homes(
            &[("linkedin", "urn:x:2.0:User:profile"), ("title", "")],
            &[
                "hire_date",
                "gender",
                "termination_date",
                "linkedin",
                "title",
                "department",
                "preferred_name",
                "dynamic_9",
            ],
            &found,
        );
        let at = |field: &str| homes[field].clone();
        assert_eq!(
            at("hire_date"),
            (Some(format!("{APP}:startDate")), HomeReason::Matched)
        );
        assert_eq!(
            at("gender"),
            (Some(format!("{APP}:Gender")), HomeReason::Matched)
        );
        assert_eq!(
            at("termination_date"),
            (
                Some(format!("{EXTENSION}:terminationDate")),
                HomeReason::Extension
            )
        );
        assert_eq!(
            at("linkedin"),
            (
                Some("urn:x:2.0:User:profile".into()),
                HomeReason::Configured
            )
        );
        assert_eq!(at("title"), (None, HomeReason::SwitchedOff));
        assert_eq!(at("department").1, HomeReason::Standard);
        assert_eq!(
            at("preferred_name"),
            (Some("nickName".into()), HomeReason::Matched)
        );
        assert_eq!(at("dynamic_9"), (None, HomeReason::NoAttribute));
    }

    #[test]
    fn a_tie_is_not_guessed_and_a_silent_app_keeps_the_old_behaviour() {
        let found = discovery(
            &[APP],
            vec![
                attribute(APP, "startDate", AttributeKind::Text),
                attribute(APP, "joinDate", AttributeKind::Text),
            ],
        );
        let homes_of = homes(&[], &["hire_date"], &found);
        assert!(matches!(
            &homes_of["hire_date"],
            (None, HomeReason::Ambiguous(paths)) if paths.len() == 2
        ));
        let silent = homes(&[], &["hire_date", "title"], &Discovery::default());
        assert_eq!(silent["hire_date"], (None, HomeReason::NotPublished));
        assert_eq!(silent["title"].1, HomeReason::Standard);
    }

    #[test]
    fn dates_go_to_a_date_time_attribute_as_midnight_utc() {
        let found = discovery(
            &[APP],
            vec![attribute(APP, "startDate", AttributeKind::DateTime)],
        );
        let base = SchemaMap::new(&BTreeMap::new()).unwrap();
        let (map, _) = resolve(&base, &fields(&["hire_date"]), &found);
        let date = chrono::NaiveDate::from_ymd_opt(2024, 3, 1).unwrap();
        assert_eq!(
            map.value("hire_date", &sync_core::record::FieldValue::Date(date)),
            json!("2024-03-01T00:00:00Z")
        );
    }

    #[test]
    fn the_documented_extension_schema_is_the_one_the_code_uses() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../docs/scim/personio-sync-extension.json"
        );
        let text = std::fs::read_to_string(path).expect("docs/scim/personio-sync-extension.json");
        let documented: Value = serde_json::from_str(&text).expect("JSON");
        assert_eq!(
            documented,
            extension_schema(),
            "regenerate it: cargo run -p sync-scim --example extension_schema > docs/scim/personio-sync-extension.json"
        );
    }
}
