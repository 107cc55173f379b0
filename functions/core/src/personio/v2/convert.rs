//! A v2 person and their current employment as the v1 `attributes` object that
//! [`normalise`](crate::personio::normalise) reads: the same keys, labels, universal ids and value
//! shapes as v1 sends. So one reader serves both APIs, and mapping, scope, lifecycle and guards
//! behave the same whichever API an account uses.
//!
//! Pure: the names of the ids an employment refers to are resolved by the client beforehand
//! ([`Names`]). A reference whose name is unknown is left out, as v1 leaves out an attribute the
//! credential may not read, so the person's field is left as it is rather than emptied.

use super::wire::{id_text, Employment, Person};
use serde_json::{json, Map, Value};
use std::collections::HashMap;

/// What a name is looked up for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    /// An org unit of type `department`.
    Department,
    /// An org unit of type `team`.
    Team,
    /// A workplace (v1 `office`).
    Office,
    /// A legal entity (v1 `subcompany`).
    LegalEntity,
    /// A cost center.
    CostCenter,
}

/// The names of the ids employments refer to, by kind and id.
#[derive(Debug, Default)]
pub struct Names {
    names: HashMap<(Kind, String), String>,
}

impl Names {
    /// Records the name of `id`.
    pub fn insert(&mut self, kind: Kind, id: String, name: String) {
        self.names.insert((kind, id), name);
    }

    /// The name of `id`, when known.
    pub fn get(&self, kind: Kind, id: &str) -> Option<&str> {
        self.names.get(&(kind, id.to_owned())).map(String::as_str)
    }

    /// Whether the name of `id` is known.
    pub fn contains(&self, kind: Kind, id: &str) -> bool {
        self.get(kind, id).is_some()
    }
}

/// The ids `employment` refers to by kind, for the names to resolve.
pub fn references(employment: &Employment) -> Vec<(Kind, String)> {
    let mut found = Vec::new();
    for unit in &employment.org_units {
        let kind = match unit.kind.as_deref().map(str::to_ascii_lowercase).as_deref() {
            Some("department") => Kind::Department,
            Some("team") => Kind::Team,
            _ => continue,
        };
        if let Some(id) = id_text(&unit.id) {
            found.push((kind, id));
        }
    }
    if let Some(id) = employment.office.as_ref().and_then(|office| office.text()) {
        found.push((Kind::Office, id));
    }
    if let Some(id) = employment
        .legal_entity
        .as_ref()
        .and_then(|entity| entity.text())
    {
        found.push((Kind::LegalEntity, id));
    }
    for center in &employment.cost_centers {
        if let Some(id) = id_text(&center.id) {
            found.push((Kind::CostCenter, id));
        }
    }
    found
}

/// One v1 attribute wrapper: `{label, value, type, universal_id}`.
fn wrap(label: &str, kind: &str, universal_id: Option<&str>, value: Value) -> Value {
    json!({ "label": label, "value": value, "type": kind, "universal_id": universal_id })
}

/// A standard attribute: its universal id is its key.
fn standard(map: &mut Map<String, Value>, key: &str, label: &str, kind: &str, value: Value) {
    map.insert(key.to_owned(), wrap(label, kind, Some(key), value));
}

fn text(value: &Option<String>) -> Value {
    value.clone().map_or(Value::Null, Value::String)
}

/// An upper-case enum value as v1's lower-case text; `UNSPECIFIED` is no value.
fn lower(value: &Option<String>) -> Value {
    match value.as_deref().map(str::trim) {
        None | Some("") => Value::Null,
        Some(value) if value.eq_ignore_ascii_case("unspecified") => Value::Null,
        Some(value) => Value::String(value.to_ascii_lowercase()),
    }
}

/// v2's termination type in v1's words. Neither API documents v1's values; Personio's UI
/// offers "employee", "employer" and "mutual agreement", which v2 calls `EMPLOYEE`, `FIRED` and
/// `AGREEMENT` (our reading, the fake's too). Any other type reads as its name in lower case
/// (`CONTRACT_EXPIRED` → "contract expired"); `UNSPECIFIED` is no value.
fn termination_type(kind: Option<&str>) -> Value {
    let Some(kind) = kind.map(str::trim).filter(|kind| !kind.is_empty()) else {
        return Value::Null;
    };
    let words = match kind.to_ascii_uppercase().as_str() {
        "UNSPECIFIED" => return Value::Null,
        "EMPLOYEE" | "QUIT" => "employee".to_owned(),
        "FIRED" => "employer".to_owned(),
        "AGREEMENT" => "mutual agreement".to_owned(),
        other => other.to_ascii_lowercase().replace('_', " "),
    };
    Value::String(words)
}

/// `{id, name}` of a reference whose name is known.
fn named(names: &Names, kind: Kind, id: &str) -> Option<Value> {
    let name = names.get(kind, id)?;
    let id = id.parse::<i64>().map_or_else(|_| json!(id), |id| json!(id));
    Some(json!({ "id": id, "name": name }))
}

/// The person (with `employment`, their current one, when read) as v1 attributes.
pub fn v1_attributes(
    person: &Person,
    employment: Option<&Employment>,
    names: &Names,
) -> Map<String, Value> {
    let mut map = Map::new();
    if let Some(id) = id_text(&person.id) {
        let id = id.parse::<u64>().map_or_else(|_| json!(id), |id| json!(id));
        standard(&mut map, "id", "ID", "standard", id);
    }
    standard(
        &mut map,
        "first_name",
        "First name",
        "standard",
        text(&person.first_name),
    );
    standard(
        &mut map,
        "last_name",
        "Last name",
        "standard",
        text(&person.last_name),
    );
    let preferred = text(&person.preferred_name);
    standard(
        &mut map,
        "preferred_name",
        "Preferred name",
        "standard",
        preferred,
    );
    standard(&mut map, "email", "Email", "standard", text(&person.email));
    standard(
        &mut map,
        "gender",
        "Gender",
        "standard",
        lower(&person.gender),
    );
    standard(
        &mut map,
        "created_at",
        "created_at",
        "date",
        text(&person.created_at),
    );
    let modified = text(&person.updated_at);
    standard(
        &mut map,
        "last_modified_at",
        "Last modified",
        "date",
        modified,
    );
    if let Some(picture) = &person.profile_picture {
        let url = text(&picture.url);
        standard(
            &mut map,
            "profile_picture",
            "Profile Picture",
            "standard",
            url,
        );
    }
    if let Some(employment) = employment {
        employment_attributes(&mut map, employment, names);
    }
    for attribute in &person.custom_attributes {
        let Some(key) = attribute.id.as_deref().filter(|key| !key.trim().is_empty()) else {
            continue;
        };
        let kind = match attribute
            .kind
            .as_deref()
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            Some("int") | Some("integer") => "integer",
            Some("double") | Some("decimal") => "decimal",
            Some("date") => "date",
            Some("string_list") => "tags",
            _ => "standard",
        };
        let label = attribute.label.as_deref().unwrap_or(key);
        let value = wrap(
            label,
            kind,
            attribute.global_id.as_deref(),
            attribute.value.clone(),
        );
        map.insert(key.to_owned(), value);
    }
    map
}

fn employment_attributes(map: &mut Map<String, Value>, employment: &Employment, names: &Names) {
    standard(
        map,
        "status",
        "Status",
        "standard",
        lower(&employment.status),
    );
    let title = employment
        .position
        .as_ref()
        .map_or(Value::Null, |position| text(&position.title));
    standard(map, "position", "Position", "standard", title);
    let kind = lower(&employment.kind);
    standard(map, "employment_type", "Employment type", "standard", kind);
    let hours = employment.weekly_working_hours.clone();
    standard(
        map,
        "weekly_working_hours",
        "Weekly hours",
        "standard",
        hours,
    );
    let hired = text(&employment.employment_start_date);
    standard(map, "hire_date", "Hire date", "date", hired);
    let contract = text(&employment.contract_end_date);
    standard(map, "contract_end_date", "Contract ends", "date", contract);
    let probation = text(&employment.probation_end_date);
    standard(
        map,
        "probation_period_end",
        "Probation period end",
        "date",
        probation,
    );
    let termination = employment.termination.clone().unwrap_or_default();
    let date = text(&termination.termination_date);
    standard(map, "termination_date", "Termination date", "date", date);
    let last_day = text(&termination.last_working_day);
    standard(
        map,
        "last_working_day",
        "Last day of work",
        "date",
        last_day,
    );
    let kind = termination_type(termination.kind.as_deref());
    standard(
        map,
        "termination_type",
        "Termination type",
        "standard",
        kind,
    );
    let reason = text(&termination.reason);
    standard(
        map,
        "termination_reason",
        "Termination reason",
        "standard",
        reason,
    );
    let supervisor = employment
        .supervisor
        .as_ref()
        .and_then(|supervisor| supervisor.text())
        .and_then(|id| id.parse::<u64>().ok())
        .map_or(Value::Null, |id| {
            json!({ "type": "Employee", "attributes": { "id": { "label": "ID", "value": id } } })
        });
    standard(map, "supervisor", "Supervisor", "standard", supervisor);

    let mut put_unit = |key: &str, label: &str, kind: Kind, id: Option<String>| match id {
        // No unit is a value: none.
        None => standard(map, key, label, "standard", Value::Null),
        Some(id) => {
            if let Some(value) = named(names, kind, &id) {
                standard(map, key, label, "standard", value);
            }
        }
    };
    let unit = |wanted: &str| {
        employment
            .org_units
            .iter()
            .find(|unit| {
                unit.kind
                    .as_deref()
                    .is_some_and(|kind| kind.eq_ignore_ascii_case(wanted))
            })
            .and_then(|unit| id_text(&unit.id))
    };
    put_unit(
        "department",
        "Department",
        Kind::Department,
        unit("department"),
    );
    put_unit("team", "Team", Kind::Team, unit("team"));
    let office = employment.office.as_ref().and_then(|office| office.text());
    put_unit("office", "Office", Kind::Office, office);
    let entity = employment
        .legal_entity
        .as_ref()
        .and_then(|entity| entity.text());
    put_unit("subcompany", "Subcompany", Kind::LegalEntity, entity);

    let centers: Option<Vec<Value>> = employment
        .cost_centers
        .iter()
        .map(|center| id_text(&center.id).and_then(|id| named(names, Kind::CostCenter, &id)))
        .collect();
    // All or nothing: a list missing one name would drop a cost center from the user.
    if let Some(centers) = centers {
        standard(
            map,
            "cost_centers",
            "Cost center",
            "standard",
            Value::Array(centers),
        );
    }
}

#[cfg(test)]
#[path = "convert_tests.rs"]
mod tests;
