//! Tests of `normalise`: every value shape of personio-api.md §1.4 and the spec's full example
//! employee of §1.3 (`fixtures/spec_employees.json`, copied verbatim from the spec).

use super::*;
use crate::employee::NamedRef;
use chrono::NaiveDate;
use serde_json::json;

fn account() -> AccountId {
    AccountId::parse("de").unwrap()
}

fn attributes(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => panic!("test attributes must be an object"),
    }
}

fn wrapped(key: &str, value: Value, kind: &str) -> Map<String, Value> {
    attributes(json!({
        "id": {"label": "ID", "value": 7, "type": "integer", "universal_id": "id"},
        key: {"label": "Label", "value": value, "type": kind, "universal_id": null},
    }))
}

fn read(key: &str, value: Value, kind: &str) -> AttrValue {
    let employee = normalise(&account(), &wrapped(key, value, kind))
        .unwrap()
        .employee;
    employee.attributes[key].clone()
}

fn refusal(key: &str, value: Value, kind: &str) -> RecordError {
    normalise(&account(), &wrapped(key, value, kind)).unwrap_err()
}

fn day(text: &str) -> NaiveDate {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
}

fn spec_employee() -> Map<String, Value> {
    let page: Value = serde_json::from_str(include_str!("fixtures/spec_employees.json")).unwrap();
    attributes(page["data"][0]["attributes"].clone())
}

#[test]
fn the_spec_example_employee_reads_completely() {
    let read = normalise(&account(), &spec_employee()).unwrap();
    let employee = read.employee;
    assert_eq!(employee.key, PersonKey::new(account(), PersonioId::new(1)));
    assert_eq!(employee.status, Some(EmploymentStatus::Active));
    assert_eq!(employee.hire_date, Some(day("2014-11-09")));
    assert_eq!(employee.termination_date, None);
    assert_eq!(employee.supervisor, Some(PersonioId::new(2)));
    assert_eq!(employee.attributes.len(), 36);
    let get = |key: &str| employee.attributes[key].clone();
    assert_eq!(get("id"), AttrValue::Number("1".into()));
    assert_eq!(get("first_name"), AttrValue::Text("Alexander".into()));
    assert_eq!(
        get("email"),
        AttrValue::Text("alexander.bergmann@demo.email".into())
    );
    assert_eq!(get("weekly_working_hours"), AttrValue::Number("40".into()));
    assert_eq!(get("contract_end_date"), AttrValue::Empty);
    assert_eq!(get("termination_type"), AttrValue::Empty);
    assert_eq!(get("created_at"), AttrValue::Date(day("2017-05-23")));
    assert_eq!(
        get("office"),
        AttrValue::Object(NamedRef {
            id: Some(131014),
            name: "Munich".into()
        })
    );
    assert_eq!(
        get("cost_centers"),
        AttrValue::Objects(vec![NamedRef {
            id: Some(82957),
            name: "Cost center 1".into()
        }])
    );
    assert_eq!(
        get("absence_entitlement"),
        AttrValue::Objects(vec![NamedRef {
            id: Some(113437),
            name: "Paid vacation".into()
        }])
    );
    assert!(matches!(
        get("work_schedule"),
        AttrValue::Object(NamedRef {
            id: Some(97188),
            ..
        })
    ));
    assert_eq!(get("fix_salary"), AttrValue::Number("3000".into()));
    assert_eq!(get("hourly_salary"), AttrValue::Number("0".into()));
    assert_eq!(get("supervisor"), AttrValue::Employee(PersonioId::new(2)));
    assert_eq!(
        get("profile_picture"),
        AttrValue::Text(
            "https://api.personio.de/v1/company/employees/1132888/profile-picture".into()
        )
    );
    assert_eq!(get("dynamic_24407"), AttrValue::Text("Dr".into()));
    assert_eq!(get("dynamic_33400"), AttrValue::Date(day("2021-01-01")));
    assert!(employee.office() == Some("Munich"));

    let universal: BTreeMap<_, _> = read.universal_ids.into_iter().collect();
    assert_eq!(
        universal.get("iban").map(String::as_str),
        Some("dynamic_21827")
    );
    assert_eq!(
        universal.get("hire_date").map(String::as_str),
        Some("hire_date")
    );
    assert!(
        !universal.values().any(|key| key == "dynamic_24407"),
        "null universal ids are skipped"
    );
}

#[test]
fn old_responses_without_type_or_universal_id_are_read() {
    let old = attributes(json!({
        "id": {"label": "ID", "value": 3},
        "status": {"label": "Status", "value": "Active"},
        "hire_date": {"label": "Hire date", "value": "2020-02-01T00:00:00+0100"},
        "weekly_working_hours": {"label": "Weekly hours", "value": "1"},
        "termination_type": {"label": "Termination type", "value": ""},
    }));
    let read = normalise(&account(), &old).unwrap();
    assert!(read.universal_ids.is_empty());
    assert_eq!(read.employee.status, Some(EmploymentStatus::Active));
    assert_eq!(read.employee.hire_date, Some(day("2020-02-01")));
    assert_eq!(
        read.employee.attributes["weekly_working_hours"],
        AttrValue::Number("1".into())
    );
    assert_eq!(
        read.employee.attributes["termination_type"],
        AttrValue::Empty
    );
}

#[test]
fn bare_values_without_the_wrapper_are_read() {
    let bare = attributes(json!({
        "id": "123",
        "first_name": "Ada",
        "status": "leave",
        "office": {"type": "Office", "attributes": {"id": 1, "name": "Munich"}},
        "supervisor": {"type": "Employee", "attributes": {"id": 2}},
    }));
    let employee = normalise(&account(), &bare).unwrap().employee;
    assert_eq!(employee.key.id, PersonioId::new(123));
    assert_eq!(
        employee.attributes["first_name"],
        AttrValue::Text("Ada".into())
    );
    assert_eq!(employee.status, Some(EmploymentStatus::Leave));
    assert_eq!(employee.office(), Some("Munich"));
    assert_eq!(employee.supervisor, Some(PersonioId::new(2)));
}

#[test]
fn empty_values_of_every_kind_read_as_empty() {
    for kind in [
        "standard",
        "date",
        "integer",
        "decimal",
        "list",
        "link",
        "tags",
        "multiline",
    ] {
        for value in [json!(null), json!(""), json!([])] {
            assert_eq!(read("dynamic_1", value, kind), AttrValue::Empty, "{kind}");
        }
    }
    for key in [
        "office",
        "department",
        "cost_centers",
        "supervisor",
        "hire_date",
        "status",
    ] {
        for value in [json!(null), json!(""), json!([])] {
            assert_eq!(read(key, value, "standard"), AttrValue::Empty, "{key}");
        }
    }
}

#[test]
fn numbers_arrive_as_numbers_or_text() {
    assert_eq!(
        read("weekly_working_hours", json!("40"), "standard"),
        AttrValue::Number("40".into())
    );
    assert_eq!(
        read("weekly_working_hours", json!(40), "standard"),
        AttrValue::Number("40".into())
    );
    assert_eq!(
        read("weekly_working_hours", json!(40.5), "standard"),
        AttrValue::Number("40.5".into())
    );
    assert_eq!(
        read("dynamic_1", json!("40"), "integer"),
        AttrValue::Number("40".into())
    );
    assert_eq!(
        read("dynamic_1", json!(40.5), "decimal"),
        AttrValue::Number("40.5".into())
    );
    assert_eq!(
        read("dynamic_1", json!("40.5"), "decimal"),
        AttrValue::Number("40.5".into())
    );
    // Text that only looks like a number stays text: leading zeros of an employee number matter.
    assert_eq!(
        read("dynamic_1", json!("007"), "standard"),
        AttrValue::Text("007".into())
    );
}

#[test]
fn weekly_hours_that_are_not_a_number_stay_text() {
    assert_eq!(
        read("weekly_working_hours", json!("about forty"), "standard"),
        AttrValue::Text("about forty".into())
    );
}

#[test]
fn dates_arrive_with_or_without_time_and_offset() {
    for text in [
        "2014-11-09T00:00:00+01:00",
        "2014-11-09T00:00:00+0100",
        "2014-11-09T00:00:00Z",
        "2014-11-09",
    ] {
        assert_eq!(
            read("dynamic_1", json!(text), "date"),
            AttrValue::Date(day("2014-11-09")),
            "{text}"
        );
    }
}

#[test]
fn local_midnight_is_not_shifted_to_the_day_before() {
    let employee = normalise(
        &account(),
        &wrapped("hire_date", json!("2021-01-01T00:00:00+01:00"), "date"),
    )
    .unwrap()
    .employee;
    assert_eq!(employee.hire_date, Some(day("2021-01-01")));
}

#[test]
fn objects_and_lists_of_objects_become_refs() {
    let department =
        json!({"type": "Department", "attributes": {"id": 281521, "name": "Customer Support"}});
    assert_eq!(
        read("department", department, "standard"),
        AttrValue::Object(NamedRef {
            id: Some(281521),
            name: "Customer Support".into()
        })
    );
    let centers = json!([
        {"type": "CostCenter", "attributes": {"id": 1, "name": "CC1", "percentage": 50}},
        {"type": "CostCenter", "attributes": {"id": 2, "name": "CC2", "percentage": 50}}
    ]);
    assert_eq!(
        read("cost_centers", centers, "standard"),
        AttrValue::Objects(vec![
            NamedRef {
                id: Some(1),
                name: "CC1".into()
            },
            NamedRef {
                id: Some(2),
                name: "CC2".into()
            },
        ])
    );
    let calendar = json!({"type": "HolidayCalendar", "attributes": {"id": 2, "name": "Bayern", "country": "DE", "state": null}});
    assert!(matches!(
        read("holiday_calendar", calendar, "standard"),
        AttrValue::Object(_)
    ));
}

#[test]
fn supervisors_come_nested_or_plain() {
    let nested = json!({"type": "Employee", "attributes": {"id": {"label": "ID", "value": 2, "type": "integer", "universal_id": "id"}, "first_name": {"label": "First name", "value": "Bo"}}});
    let plain = json!({"type": "Employee", "attributes": {"id": 2}});
    for value in [nested, plain] {
        let employee = normalise(&account(), &wrapped("supervisor", value, "standard"))
            .unwrap()
            .employee;
        assert_eq!(employee.supervisor, Some(PersonioId::new(2)));
        assert_eq!(
            employee.attributes["supervisor"],
            AttrValue::Employee(PersonioId::new(2))
        );
    }
}

#[test]
fn tags_come_as_comma_text_or_json_list_text() {
    let expected = AttrValue::Tags(vec!["English".into(), "French".into()]);
    assert_eq!(
        read("dynamic_3", json!("English, French"), "tags"),
        expected
    );
    assert_eq!(
        read("dynamic_3", json!(r#"["English","French"]"#), "tags"),
        expected
    );
    assert_eq!(read("dynamic_3", json!("[]"), "tags"), AttrValue::Empty);
}

#[test]
fn list_link_and_multiline_values_are_text_whatever_their_shape() {
    assert_eq!(
        read("dynamic_2", json!("married"), "list"),
        AttrValue::Text("married".into())
    );
    assert_eq!(
        read("dynamic_4", json!("https://x.test"), "link"),
        AttrValue::Text("https://x.test".into())
    );
    assert_eq!(
        read("dynamic_5", json!("a\nb"), "multiline"),
        AttrValue::Text("a\nb".into())
    );
    assert_eq!(
        read("dynamic_5", json!({"odd": true}), "multiline"),
        AttrValue::Text(r#"{"odd":true}"#.into())
    );
    assert_eq!(
        read("dynamic_6", json!("x"), "some_new_type"),
        AttrValue::Text("x".into())
    );
}

#[test]
fn a_bad_typed_value_makes_the_person_unreadable_without_showing_the_value() {
    let error = refusal("hire_date", json!("9th of May"), "date");
    assert_eq!(
        error.person,
        Some(PersonKey::new(account(), PersonioId::new(7)))
    );
    assert_eq!(error.action, "fetch");
    assert_eq!(
        error.message,
        "attribute `hire_date` is not a date (expected YYYY-MM-DD or ISO 8601)"
    );
    assert_eq!(error.hint, "correct the value in Personio");
    assert!(!error.message.contains("May"));
}

#[test]
fn every_strict_attribute_refuses_values_it_cannot_read() {
    let cases = [
        ("termination_date", json!("soon"), "date", "a date"),
        ("hire_date", json!(20141109), "standard", "a date"),
        ("dynamic_1", json!("31.12.2020"), "date", "a date"),
        ("dynamic_1", json!("forty"), "integer", "a whole number"),
        ("dynamic_1", json!(40.5), "integer", "a whole number"),
        ("dynamic_1", json!("1,5"), "decimal", "a number"),
        (
            "status",
            json!("retired"),
            "standard",
            "an employment status",
        ),
        (
            "supervisor",
            json!({"type": "Employee", "attributes": {}}),
            "standard",
            "an employee reference",
        ),
        (
            "supervisor",
            json!("Bo"),
            "standard",
            "an employee reference",
        ),
    ];
    for (key, value, kind, expected) in cases {
        let error = refusal(key, value, kind);
        assert!(
            error
                .message
                .starts_with(&format!("attribute `{key}` is not {expected}")),
            "{key}: {}",
            error.message
        );
    }
}

#[test]
fn several_bad_attributes_are_named_in_one_error() {
    let mut record = wrapped("hire_date", json!("x"), "date");
    record.insert(
        "dynamic_9".into(),
        json!({"label": "Anniversary", "value": "y", "type": "date"}),
    );
    let error = normalise(&account(), &record).unwrap_err();
    assert!(error.message.contains("`hire_date`") && error.message.contains("`dynamic_9`"));
}

#[test]
fn a_missing_or_bad_id_leaves_the_person_unnamed() {
    for record in [
        json!({"first_name": {"label": "First name", "value": "Ada"}}),
        json!({"id": {"label": "ID", "value": 0}}),
        json!({"id": {"label": "ID", "value": "abc"}}),
        json!({"id": {"label": "ID", "value": null}}),
    ] {
        let error = normalise(&account(), &attributes(record)).unwrap_err();
        assert_eq!(error.person, None);
        assert!(error.message.contains("`id`"));
    }
}

#[test]
fn an_id_given_as_text_is_accepted() {
    let record = attributes(json!({"id": {"label": "ID", "value": "123", "type": "integer"}}));
    let employee = normalise(&account(), &record).unwrap().employee;
    assert_eq!(employee.key.id, PersonioId::new(123));
    assert_eq!(employee.attributes["id"], AttrValue::Number("123".into()));
}

#[test]
fn a_selection_keeps_the_named_attributes_and_the_id_only() {
    let named =
        |keys: &[&str]| -> BTreeSet<String> { keys.iter().map(|k| k.to_string()).collect() };
    let only_names =
        normalise_selected(&account(), &spec_employee(), Some(&named(&["first_name"])))
            .unwrap()
            .employee;
    assert_eq!(only_names.attributes.len(), 2, "first_name and id");
    assert_eq!(only_names.supervisor, None, "supervisor not asked for");
    let keep = named(&[
        "first_name",
        "iban",
        "status",
        "hire_date",
        "termination_date",
        "supervisor",
    ]);
    let read = normalise_selected(&account(), &spec_employee(), Some(&keep)).unwrap();
    let keys: Vec<&str> = read
        .employee
        .attributes
        .keys()
        .map(|key| key.as_str())
        .collect();
    assert_eq!(
        keys,
        [
            "dynamic_21827",
            "first_name",
            "hire_date",
            "id",
            "status",
            "supervisor",
            "termination_date"
        ]
    );
    assert_eq!(read.employee.supervisor, Some(PersonioId::new(2)));
    assert_eq!(
        read.universal_ids.len(),
        34,
        "every universal id is still reported"
    );
}

#[test]
fn attributes_left_out_of_a_selection_are_not_checked() {
    let record = wrapped("dynamic_1", json!("not a date"), "date");
    let keep = BTreeSet::from(["first_name".to_owned()]);
    assert!(normalise_selected(&account(), &record, Some(&keep)).is_ok());
    assert!(normalise(&account(), &record).is_err());
}
