//! Derived and structured values: an office by its id (Learn Amp's `primary_location`), tenure
//! from the hire date, the office's time zone, the preferred name as display name, and a language
//! attribute by its label.

use chrono::Datelike;
use sync_core::history::RunStatus;
use test_support::harness::*;
use test_support::personio::*;

const CONFIG: &str = r#"
[[mapping.fields]]
target = "primary_location"
source = "office"
object = "id"

[[mapping.fields]]
target = "tenure_months"
derive = "tenure_months"

[[mapping.fields]]
target = "timezone"
derive = "office_timezone"

[[mapping.fields]]
target = "display_name"
derive = "full_name"

[lifecycle.office_timezones]
London = "Europe/London"
"#;

#[tokio::test]
async fn offices_by_id_tenure_time_zone_and_display_name_reach_every_user() {
    let harness = Harness::with(CONFIG, company(60)).await;
    let outcome = harness.run().await;
    assert_eq!(outcome.record.status, RunStatus::Completed);
    assert!(
        outcome.record.errors.is_empty(),
        "{:?}",
        outcome.record.errors
    );
    let company = harness.fake.company();
    let today = day(TODAY);
    let mut checked = 0;
    for employee in &company.employees {
        let Some(user) = harness.user(employee.id).await else {
            continue;
        };
        checked += 1;
        let fields = &user.fields;
        let office = employee
            .office
            .as_deref()
            .and_then(|name| company.offices.iter().find(|o| o.name == name));
        assert_eq!(
            fields.text("primary_location"),
            office.map(|o| o.id.to_string()),
            "employee {}",
            employee.id
        );
        let hired = employee.hire_date;
        let mut months =
            (today.year() - hired.year()) * 12 + today.month() as i32 - hired.month() as i32;
        if today.day() < hired.day() {
            months -= 1;
        }
        let tenure = (months >= 0).then(|| months.to_string());
        assert_eq!(
            fields.text("tenure_months"),
            tenure,
            "employee {}",
            employee.id
        );
        let zone = match employee.office.as_deref() {
            Some("London") => "Europe/London",
            _ => "Europe/Berlin",
        };
        assert_eq!(fields.text("timezone").as_deref(), Some(zone));
        let preferred = employee.preferred_name.trim();
        let display = if preferred.is_empty() {
            format!("{} {}", employee.first_name, employee.last_name)
        } else {
            preferred.to_owned()
        };
        assert_eq!(fields.text("display_name"), Some(display));
    }
    assert!(checked > 30, "only {checked} users");
}
