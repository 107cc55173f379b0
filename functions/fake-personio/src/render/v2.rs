//! Renders people as Personio v2 JSON (personio-api.md §2.2-2.4): a `Person` and its one
//! `Employment`, with the same data v1 renders, the shapes of the official v2 specs
//! (`persons-service-api-v2`, `employment-contract-v2`) and the credential's whitelist applied
//! by v1 attribute key.
//!
//! v2 pages hold at most 50 people, so these build `serde_json::Value`s: simpler than v1's
//! hand-written serialisation and cheap enough at that size.

use super::shapes::{lookup, unit_id};
use crate::catalog::KeyFilter;
use crate::company::{Company, FakeEmployee};
use chrono::{NaiveDate, NaiveDateTime};
use serde_json::{json, Map, Value};
use std::collections::BTreeSet;

/// What every rendered person needs besides their own data.
#[derive(Clone, Copy)]
pub(crate) struct V2Context<'a> {
    pub company: &'a Company,
    /// Server URL without a trailing slash; every link starts with it.
    pub base_url: &'a str,
    /// The credential's readable v1 attribute keys; `None` means all.
    pub whitelist: Option<&'a BTreeSet<String>>,
}

impl V2Context<'_> {
    fn allows(&self, key: &str) -> bool {
        KeyFilter {
            whitelist: self.whitelist,
            projection: None,
        }
        .allows(key)
    }
}

/// A person's v2 `status`: `ACTIVE` while their employment is onboarding, active or on leave.
pub(crate) fn person_status(v1_status: &str) -> &'static str {
    match v1_status {
        "onboarding" | "active" | "leave" => "ACTIVE",
        _ => "INACTIVE",
    }
}

/// The id of a person's one employment: UUID-shaped like Personio's, stable, derived from the
/// person id (which it ends with, so it is unique).
pub(crate) fn employment_id(person_id: u64) -> String {
    // FNV-1a of the id: stable across runs and platforms.
    let hash = person_id
        .to_le_bytes()
        .iter()
        .fold(0xcbf2_9ce4_8422_2325_u64, |hash, byte| {
            (hash ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01b3)
        });
    format!(
        "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
        hash >> 32,
        (hash >> 16) & 0xffff,
        hash & 0xfff,
        0x8000 | ((hash >> 48) & 0x3fff),
        person_id & 0xffff_ffff_ffff
    )
}

/// A stored local time read as UTC, as v2's `created_at`/`updated_at` (`2017-07-21T17:32:28Z`).
pub(super) fn utc(at: NaiveDateTime) -> String {
    at.and_utc()
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// One `Person` (personio-api.md §2.2).
pub(crate) fn person(context: V2Context<'_>, employee: &FakeEmployee) -> Value {
    let base = context.base_url;
    let mut person = Map::new();
    person.insert("id".into(), employee.id.to_string().into());
    let mut put = |key: &str, v1_key: &str, value: Value| {
        if context.allows(v1_key) {
            person.insert(key.into(), value);
        }
    };
    put("email", "email", employee.email.as_str().into());
    put(
        "first_name",
        "first_name",
        employee.first_name.as_str().into(),
    );
    put("last_name", "last_name", employee.last_name.as_str().into());
    put(
        "preferred_name",
        "preferred_name",
        employee.preferred_name.as_str().into(),
    );
    let gender = match employee.gender.as_str() {
        "male" => "MALE",
        "female" => "FEMALE",
        "diverse" => "DIVERSE",
        _ => "UNSPECIFIED",
    };
    put("gender", "gender", gender.into());
    put("created_at", "created_at", utc(employee.created_at).into());
    put(
        "updated_at",
        "last_modified_at",
        utc(employee.last_modified_at).into(),
    );
    put("status", "status", person_status(&employee.status).into());
    // Readable but absent is `{"url": null}`, as v1 sends a readable attribute even when empty;
    // only a field the credential may not read is left out (our reading of §2.8).
    let url = employee.profile_picture.then(|| {
        format!(
            "{base}/v1/company/employees/{}/profile-picture",
            employee.id
        )
    });
    put("profile_picture", "profile_picture", json!({ "url": url }));
    person.insert(
        "custom_attributes".into(),
        custom_attributes(context, employee),
    );
    person.insert(
        "employments".into(),
        json!([{ "id": employment_id(employee.id) }]),
    );
    person.insert(
        "_meta".into(),
        json!({ "links": { "employments": {
            "href": format!("{base}/v2/persons/{}/employments", employee.id),
        } } }),
    );
    Value::Object(person)
}

/// A person's one `Employment` (personio-api.md §2.4). Every field but `id`, `person` and
/// `_meta` is shown only when its v1 attribute is readable; org units, office, legal entity
/// and cost centers by id, resolvable through the reference endpoints.
pub(crate) fn employment(context: V2Context<'_>, employee: &FakeEmployee) -> Value {
    let base = context.base_url;
    let company = context.company;
    let mut employment = Map::new();
    employment.insert("id".into(), employment_id(employee.id).into());
    employment.insert("person".into(), json!({ "id": employee.id.to_string() }));
    let mut put = |key: &str, v1_key: &str, value: Value| {
        if context.allows(v1_key) {
            employment.insert(key.into(), value);
        }
    };
    let status = match employee.status.as_str() {
        "onboarding" => "ONBOARDING",
        "active" => "ACTIVE",
        "leave" => "LEAVE",
        "inactive" => "INACTIVE",
        _ => "UNSPECIFIED",
    };
    put("status", "status", status.into());
    put(
        "position",
        "position",
        json!({ "title": employee.position }),
    );
    let kind = match employee.employment_type.as_str() {
        "internal" => "INTERNAL",
        "external" => "EXTERNAL",
        _ => "UNSPECIFIED",
    };
    put("type", "employment_type", kind.into());
    // `"38.5"` → 38.5, `"40"` → 40; text that is no number → null.
    let hours = serde_json::from_str::<serde_json::Number>(employee.weekly_working_hours.trim())
        .map_or(Value::Null, Value::Number);
    put("weekly_working_hours", "weekly_working_hours", hours);
    put(
        "employment_start_date",
        "hire_date",
        day(Some(employee.hire_date)),
    );
    put(
        "contract_end_date",
        "contract_end_date",
        day(employee.contract_end_date),
    );
    put(
        "probation_end_date",
        "probation_period_end",
        day(employee.probation_period_end),
    );
    put(
        "employment_end_date",
        "termination_date",
        day(employee.termination_date),
    );
    put("created_at", "created_at", utc(employee.created_at).into());
    put(
        "updated_at",
        "last_modified_at",
        utc(employee.last_modified_at).into(),
    );
    let reference = |id: Option<u64>| id.map_or(Value::Null, |id| json!({ "id": id.to_string() }));
    put("supervisor", "supervisor", reference(employee.supervisor));
    let office = employee
        .office
        .as_deref()
        .map(|name| unit_id(company.office(name).map(|office| office.id), name));
    put("office", "office", reference(office));
    let legal_entity = employee
        .subcompany
        .as_deref()
        .map(|name| lookup(&company.subcompanies, name));
    put("legal_entity", "subcompany", reference(legal_entity));
    let centers: Vec<Value> = employee
        .cost_centers
        .iter()
        .map(|share| {
            json!({
                "id": lookup(&company.cost_centers, &share.name).to_string(),
                "weight": share.percentage,
            })
        })
        .collect();
    put("cost_centers", "cost_centers", centers.into());
    if context.allows("department") || context.allows("team") {
        employment.insert("org_units".into(), org_units(context, employee));
    }
    if let Some(termination) = termination(context, employee) {
        employment.insert("termination".into(), termination);
    }
    let mut links = json!({ "person": { "href": format!("{base}/v2/persons/{}", employee.id) } });
    if let Some(supervisor) = employee.supervisor.filter(|_| context.allows("supervisor")) {
        links["supervisor"] = json!({ "href": format!("{base}/v2/persons/{supervisor}") });
    }
    employment.insert("_meta".into(), json!({ "links": links }));
    Value::Object(employment)
}

/// `[{"type":"department","id":…},{"type":"team","id":…}]`, for the readable ones they have.
fn org_units(context: V2Context<'_>, employee: &FakeEmployee) -> Value {
    let company = context.company;
    let units = [
        ("department", &company.departments, &employee.department),
        ("team", &company.teams, &employee.team),
    ];
    let entries: Vec<Value> = units
        .into_iter()
        .filter(|(kind, ..)| context.allows(kind))
        .filter_map(|(kind, units, name)| {
            let id = lookup(units, name.as_deref()?);
            Some(json!({ "type": kind, "id": id.to_string() }))
        })
        .collect();
    entries.into()
}

/// The `termination` of someone with a termination date (its other fields as readable).
fn termination(context: V2Context<'_>, employee: &FakeEmployee) -> Option<Value> {
    let date = employee
        .termination_date
        .filter(|_| context.allows("termination_date"))?;
    let mut termination = Map::new();
    termination.insert("termination_date".into(), day(Some(date)));
    if context.allows("last_working_day") {
        termination.insert("last_working_day".into(), day(employee.last_working_day));
    }
    if context.allows("termination_type") {
        let kind = employee
            .termination_type
            .as_deref()
            .and_then(termination_type);
        termination.insert("type".into(), kind.into());
    }
    if context.allows("termination_reason") {
        termination.insert(
            "reason".into(),
            employee.termination_reason.as_deref().into(),
        );
    }
    Some(Value::Object(termination))
}

/// v2's termination type for v1's free text; empty text is none at all.
fn termination_type(v1_type: &str) -> Option<&'static str> {
    let kind = match v1_type.trim().to_lowercase().as_str() {
        "" => return None,
        "employee" | "quit" => "EMPLOYEE",
        "employer" | "fired" => "FIRED",
        "mutual agreement" | "agreement" => "AGREEMENT",
        "contract expired" | "contract_expired" => "CONTRACT_EXPIRED",
        "retirement" => "RETIREMENT",
        "death" => "DEATH",
        _ => "UNSPECIFIED",
    };
    Some(kind)
}

/// `YYYY-MM-DD`, or null.
fn day(date: Option<NaiveDate>) -> Value {
    date.map_or(Value::Null, |date| {
        date.format("%Y-%m-%d").to_string().into()
    })
}

/// One entry per custom attribute the person has a value for, in the company's order, then any
/// a test set without defining (as strings labelled with their key, as v1 renders them).
fn custom_attributes(context: V2Context<'_>, employee: &FakeEmployee) -> Value {
    let definitions = &context.company.custom_attributes;
    let defined = definitions.iter().filter_map(|definition| {
        let value = employee.custom.get(&definition.key)?;
        Some((
            definition.key.as_str(),
            v2_type(&definition.kind),
            definition.universal_id.as_deref(),
            definition.label.as_str(),
            value,
        ))
    });
    let undefined = employee
        .custom
        .iter()
        .filter(|(key, _)| !definitions.iter().any(|d| &d.key == *key))
        .map(|(key, value)| (key.as_str(), "string", None, key.as_str(), value));
    let entries: Vec<Value> = defined
        .chain(undefined)
        .filter(|(key, ..)| context.allows(key))
        .map(|(key, kind, global_id, label, value)| {
            let value = if kind == "string_list" {
                string_list(value)
            } else {
                value.clone()
            };
            json!({ "id": key, "type": kind, "global_id": global_id, "label": label, "value": value })
        })
        .collect();
    Value::Array(entries)
}

/// The lower-case v2 type of a v1 attribute type (every spec example writes them lower case).
fn v2_type(v1_kind: &str) -> &'static str {
    match v1_kind {
        "date" => "date",
        "integer" => "int",
        "decimal" => "double",
        "boolean" | "checkbox" => "boolean",
        "tags" => "string_list",
        _ => "string",
    }
}

/// A tags value as a list: v1 sends `a,b` or a JSON-encoded list inside the string.
fn string_list(value: &Value) -> Value {
    let Value::String(text) = value else {
        return value.clone();
    };
    let trimmed = text.trim();
    if trimmed.starts_with('[') {
        if let Ok(list) = serde_json::from_str::<Vec<String>>(trimmed) {
            return list.into();
        }
    }
    let items: Vec<&str> = trimmed
        .split(',')
        .map(str::trim)
        .filter(|item| !item.is_empty())
        .collect();
    items.into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn employment_ids_are_uuid_shaped_stable_and_distinct() {
        let id = employment_id(1042);
        assert_eq!(id.len(), 36);
        assert_eq!(id.matches('-').count(), 4);
        assert_eq!(&id[14..15], "4");
        assert_eq!(employment_id(1042), id);
        assert_ne!(employment_id(1043), id);
    }

    #[test]
    fn tags_become_lists_whichever_way_v1_wrote_them() {
        assert_eq!(string_list(&json!("Rust, Go")), json!(["Rust", "Go"]));
        assert_eq!(
            string_list(&json!("[\"Rust\",\"Go\"]")),
            json!(["Rust", "Go"])
        );
        assert_eq!(string_list(&json!("")), json!([]));
        assert_eq!(string_list(&Value::Null), Value::Null);
    }

    #[test]
    fn local_times_are_read_as_utc() {
        let at = chrono::NaiveDate::from_ymd_opt(2017, 7, 21)
            .and_then(|day| day.and_hms_opt(17, 32, 28))
            .expect("valid");
        assert_eq!(utc(at), "2017-07-21T17:32:28Z");
    }
}
