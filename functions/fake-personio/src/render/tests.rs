//! Shapes of rendered attributes, checked against personio-api.md §1.3-1.5.

use super::*;
use crate::company::{EmptyStyle, OffsetStyle};
use crate::generate::{generate_company, CompanySpec};
use chrono::NaiveDate;
use serde_json::json;
use std::collections::BTreeSet;

fn company() -> Company {
    generate_company(&CompanySpec {
        employees: 60,
        seed: 21,
        today: NaiveDate::from_ymd_opt(2025, 3, 14).expect("valid date"),
    })
}

fn render(company: &Company, employee: &FakeEmployee) -> Value {
    employee_json(company, employee, "http://127.0.0.1:9")
}

#[test]
fn standard_attributes_have_label_value_type_and_universal_id() {
    let company = company();
    let person = &company.employees[12];
    let json = render(&company, person);
    assert_eq!(json["type"], "Employee");
    let attributes = &json["attributes"];
    assert_eq!(
        attributes["id"],
        json!({"label": "ID", "value": person.id, "type": "integer", "universal_id": "id"})
    );
    assert_eq!(
        attributes["first_name"],
        json!({"label": "First name", "value": person.first_name, "type": "standard", "universal_id": "first_name"})
    );
    assert_eq!(
        attributes["weekly_working_hours"]["value"],
        json!(person.weekly_working_hours)
    );
    assert_eq!(attributes["status"]["value"], json!(person.status));
}

#[test]
fn dates_carry_a_berlin_offset_in_the_persons_style() {
    let mut company = company();
    let mut person = company.employees[10].clone();
    person.hire_date = NaiveDate::from_ymd_opt(2014, 11, 9).expect("valid date");
    person.termination_date = NaiveDate::from_ymd_opt(2024, 7, 1);
    person.offset_style = OffsetStyle::Colon;
    company.employees[10] = person.clone();
    let json = render(&company, &person);
    assert_eq!(
        json["attributes"]["hire_date"]["value"],
        "2014-11-09T00:00:00+01:00"
    );
    assert_eq!(json["attributes"]["hire_date"]["type"], "date");
    assert_eq!(
        json["attributes"]["termination_date"]["value"],
        "2024-07-01T00:00:00+02:00"
    );
    person.offset_style = OffsetStyle::NoColon;
    let json = render(&company, &person);
    assert_eq!(
        json["attributes"]["hire_date"]["value"],
        "2014-11-09T00:00:00+0100"
    );
}

#[test]
fn objects_are_typed_and_empty_ones_follow_the_persons_style() {
    let company = company();
    let mut person = company.employees[20].clone();
    person.department = Some("Sales".to_owned());
    person.supervisor = Some(2);
    person.team = None;
    person.cost_centers.clear();
    person.empty_style = EmptyStyle::Null;
    let json = render(&company, &person);
    let attributes = &json["attributes"];
    assert_eq!(
        attributes["department"]["value"],
        json!({"type": "Department", "attributes": {"id": 281502, "name": "Sales"}})
    );
    assert_eq!(
        attributes["supervisor"]["value"],
        json!({"type": "Employee", "attributes": {"id": {"label": "ID", "value": 2, "type": "integer", "universal_id": "id"}}})
    );
    assert_eq!(attributes["team"]["value"], Value::Null);
    assert_eq!(attributes["cost_centers"]["value"], Value::Null);
    person.empty_style = EmptyStyle::EmptyString;
    assert_eq!(render(&company, &person)["attributes"]["team"]["value"], "");
    person.empty_style = EmptyStyle::EmptyArray;
    assert_eq!(
        render(&company, &person)["attributes"]["team"]["value"],
        json!([])
    );
}

#[test]
fn an_invented_department_gets_a_stable_id() {
    let company = company();
    let mut person = company.employees[20].clone();
    person.department = Some("Legal".to_owned());
    let first = render(&company, &person)["attributes"]["department"]["value"].clone();
    let second = render(&company, &person)["attributes"]["department"]["value"].clone();
    assert_eq!(first, second);
    assert_eq!(first["attributes"]["name"], "Legal");
}

#[test]
fn cost_centers_salary_and_picture_follow_the_spec() {
    let company = company();
    let mut person = company.employees[30].clone();
    person.profile_picture = true;
    person.fix_salary = Some(4200);
    let json = render(&company, &person);
    let attributes = &json["attributes"];
    let center = &attributes["cost_centers"]["value"][0];
    assert_eq!(center["type"], "CostCenter");
    assert!(center["attributes"]["percentage"].is_number());
    assert_eq!(attributes["fix_salary"]["value"], 4200);
    assert_eq!(attributes["fix_salary"]["currency"], "EUR");
    assert_eq!(
        attributes["profile_picture"]["value"],
        format!(
            "http://127.0.0.1:9/v1/company/employees/{}/profile-picture",
            person.id
        )
    );
}

#[test]
fn custom_attributes_render_with_their_definitions() {
    let company = company();
    let mut person = company.employees[15].clone();
    person
        .custom
        .insert("dynamic_180883".to_owned(), json!("1990-04-01"));
    person.custom.remove("dynamic_24407");
    person
        .custom
        .insert("dynamic_99".to_owned(), json!("extra"));
    let json = render(&company, &person);
    let attributes = &json["attributes"];
    assert_eq!(
        attributes["dynamic_180883"],
        json!({"label": "Birthday", "value": "1990-04-01", "type": "date", "universal_id": "date_of_birth"})
    );
    assert_eq!(
        attributes["dynamic_24407"],
        json!({"label": "Titel", "value": null, "type": "standard", "universal_id": null})
    );
    assert_eq!(attributes["dynamic_99"]["label"], "dynamic_99");
}

#[test]
fn keys_outside_the_whitelist_are_omitted() {
    let company = company();
    let person = &company.employees[5];
    let whitelist = BTreeSet::from(["first_name".to_owned(), "dynamic_180883".to_owned()]);
    let context = RenderContext {
        company: &company,
        base_url: "http://x",
        filter: KeyFilter {
            whitelist: Some(&whitelist),
            projection: None,
        },
    };
    let body: Value = serde_json::from_slice(&single_body(context, person)).expect("json");
    let keys: BTreeSet<&str> = body["data"]["attributes"]
        .as_object()
        .expect("object")
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(keys, BTreeSet::from(["id", "first_name", "dynamic_180883"]));
}
