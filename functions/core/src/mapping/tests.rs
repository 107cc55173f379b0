//! Tests of the mapping rules.

use super::derive::months_between;
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
