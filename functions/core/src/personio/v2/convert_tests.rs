//! The spec's own examples (personio-api.md §2.2, §2.4), read through v1's reader.

use super::*;
use crate::employee::{AttrValue, EmploymentStatus, NamedRef};
use crate::ids::{AccountId, PersonioId};
use crate::personio::normalise;
use crate::personio::v2::wire::{Employment, Person};

fn person() -> Person {
    serde_json::from_value(json!({
        "id": "3003",
        "email": "jen.doe@personio.de",
        "created_at": "2017-07-21T17:32:28Z",
        "updated_at": "2017-07-21T17:32:28Z",
        "first_name": "John",
        "last_name": "Smith",
        "preferred_name": "John Smith",
        "gender": "MALE",
        "profile_picture": { "url": "https://api.personio.de/v1/company/employees/3003/profile-picture" },
        "status": "ACTIVE",
        "custom_attributes": [
            { "id": "dynamic_305", "type": "string", "value": "Red", "global_id": "color" },
            { "id": "dynamic_307", "type": "STRING_LIST", "value": ["Rust", "SQL"], "label": "Skills" },
            { "id": "dynamic_308", "type": "int", "value": 42 }
        ],
        "employments": [ { "id": "c85d978e-1104-4762-be94-c868525eef45" } ]
    }))
    .expect("the spec's person")
}

fn employment() -> Employment {
    serde_json::from_value(json!({
        "id": "2306b77a-35fb-4b1d-8044-3b14f7f2ca65",
        "status": "ACTIVE",
        "weekly_working_hours": 40,
        "probation_end_date": "2023-07-01",
        "employment_start_date": "2023-01-01",
        "employment_end_date": null,
        "type": "INTERNAL",
        "contract_end_date": "2024-01-01",
        "position": { "title": "Software Engineer" },
        "supervisor": { "id": "3003" },
        "office": { "id": "60302" },
        "legal_entity": { "id": "170" },
        "org_units": [ { "type": "team", "id": "4502" }, { "type": "department", "id": "401" } ],
        "cost_centers": [ { "id": "1000", "weight": 100 } ],
        "person": { "id": "5005" },
        "termination": {
            "termination_date": "2022-12-12",
            "last_working_date": "2023-01-07",
            "terminated_at": "2022-11-01",
            "type": "QUIT",
            "reason": "Moving to a different position"
        }
    }))
    .expect("the spec's employment")
}

fn names() -> Names {
    let mut names = Names::default();
    names.insert(Kind::Department, "401".into(), "Engineering".into());
    names.insert(Kind::Team, "4502".into(), "Platform".into());
    names.insert(Kind::LegalEntity, "170".into(), "Nordlicht GmbH".into());
    names.insert(
        Kind::CostCenter,
        "1000".into(),
        "CC-1100 Engineering".into(),
    );
    names
}

#[test]
fn a_v2_person_reads_as_the_v1_employee_with_the_same_values() {
    let attributes = v1_attributes(&person(), Some(&employment()), &names());
    let read = normalise(&AccountId::default(), &attributes).expect("readable");
    let employee = read.employee;
    assert_eq!(employee.key.id, PersonioId::new(3003));
    assert_eq!(employee.status, Some(EmploymentStatus::Active));
    assert_eq!(employee.hire_date, "2023-01-01".parse().ok());
    assert_eq!(employee.termination_date, "2022-12-12".parse().ok());
    assert_eq!(employee.supervisor, Some(PersonioId::new(3003)));
    let text = |key: &str| employee.attribute(key).and_then(AttrValue::to_text);
    assert_eq!(text("first_name").as_deref(), Some("John"));
    assert_eq!(text("email").as_deref(), Some("jen.doe@personio.de"));
    assert_eq!(text("gender").as_deref(), Some("male"));
    assert_eq!(text("position").as_deref(), Some("Software Engineer"));
    assert_eq!(text("employment_type").as_deref(), Some("internal"));
    assert_eq!(text("weekly_working_hours").as_deref(), Some("40"));
    assert_eq!(text("last_working_day").as_deref(), Some("2023-01-07"));
    assert_eq!(text("termination_type").as_deref(), Some("employee"));
    assert_eq!(
        employee.attribute("department"),
        Some(&AttrValue::Object(NamedRef {
            id: Some(401),
            name: "Engineering".into()
        }))
    );
    assert_eq!(text("team").as_deref(), Some("Platform"));
    assert_eq!(text("subcompany").as_deref(), Some("Nordlicht GmbH"));
    assert_eq!(text("cost_centers").as_deref(), Some("CC-1100 Engineering"));
    assert_eq!(text("dynamic_305").as_deref(), Some("Red"));
    assert_eq!(
        employee.attribute("dynamic_307"),
        Some(&AttrValue::Tags(vec!["Rust".into(), "SQL".into()]))
    );
    assert_eq!(
        employee.attribute("dynamic_308"),
        Some(&AttrValue::Number("42".into()))
    );
    assert!(read
        .universal_ids
        .contains(&("color".to_owned(), "dynamic_305".to_owned())));
    // The office's name is unknown: left out, as v1 leaves out what it may not read.
    assert_eq!(employee.attribute("office"), None);
}

#[test]
fn unspecified_values_and_missing_units_are_empty_not_absent() {
    let mut person = person();
    person.gender = Some("UNSPECIFIED".into());
    let mut employment = employment();
    employment.org_units.clear();
    employment.termination = None;
    let attributes = v1_attributes(&person, Some(&employment), &names());
    let employee = normalise(&AccountId::default(), &attributes)
        .expect("readable")
        .employee;
    assert_eq!(employee.attribute("gender"), Some(&AttrValue::Empty));
    assert_eq!(employee.attribute("department"), Some(&AttrValue::Empty));
    assert_eq!(employee.termination_date, None);
    assert_eq!(
        employee.attribute("termination_type"),
        Some(&AttrValue::Empty)
    );
}

#[test]
fn references_name_every_id_an_employment_points_at() {
    let mut found = references(&employment());
    found.sort_by_key(|(kind, id)| (format!("{kind:?}"), id.clone()));
    assert_eq!(
        found,
        vec![
            (Kind::CostCenter, "1000".to_owned()),
            (Kind::Department, "401".to_owned()),
            (Kind::LegalEntity, "170".to_owned()),
            (Kind::Office, "60302".to_owned()),
            (Kind::Team, "4502".to_owned()),
        ]
    );
}
