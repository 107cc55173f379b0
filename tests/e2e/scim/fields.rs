//! Auto-mapping against a scim2-server that publishes app-like schemas: every seed field with a
//! value in Personio arrives on the SCIM user with no `attribute_paths` configured, through the
//! app's own extension (by name or synonym) and the personio-sync extension; and a server that
//! publishes no schemas gets what it got before discovery existed.

use fake_personio::{FakeEmployee, FakePersonio};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use sync_core::history::RunStatus;
use sync_scim::{ENTERPRISE_USER, EXTENSION};
use test_support::personio::{company, fake_config, key};
use test_support::scim::{server_with_user_extensions, ScimHarness};

/// The app's own User extension: a learning platform's start date (a `dateTime`), gender, date
/// of birth and shirt size.
const LMS: &str = "urn:example:params:scim:schemas:extension:lms:2.0:User";

/// The sample company's custom attributes (fake-personio's roster).
const BIRTHDAY: &str = "dynamic_180883";
const LINKEDIN: &str = "dynamic_33121";
const SHIRT_SIZE: &str = "dynamic_40001";

fn attribute(name: &str, kind: &str) -> Value {
    json!({"name": name, "type": kind, "multiValued": false, "required": false,
           "caseExact": false, "mutability": "readWrite", "returned": "default",
           "uniqueness": "none"})
}

/// The demo's config (examples/demo.toml) with a SCIM destination instead of a folder, and
/// without the CLI's line naming a credentials file (the harness brings its own client).
fn demo_config(base_url: &str) -> String {
    let demo: String = include_str!("../../../examples/demo.toml")
        .lines()
        .filter(|line| !line.starts_with("credentials_file"))
        .map(|line| format!("{line}\n"))
        .collect();
    let start = demo.find("[destination]").expect("a destination section");
    let end = demo.find("[mapping]").expect("a mapping section");
    format!(
        "{}[destination]\nkind = \"scim\"\nbase_url = \"{base_url}\"\n\n{}",
        &demo[..start],
        &demo[end..]
    )
}

fn text<'a>(user: &'a Value, schema: &str, name: &str) -> Option<&'a str> {
    user[schema][name].as_str()
}

fn custom<'a>(employee: &'a FakeEmployee, key: &str) -> Option<&'a str> {
    employee
        .custom
        .get(key)
        .and_then(Value::as_str)
        .filter(|v| !v.is_empty())
}

#[tokio::test]
async fn every_seed_field_with_a_value_arrives_without_configured_paths() {
    let lms = json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Schema"],
        "id": LMS, "name": "LearnerProfile", "description": "An app's own user fields",
        "attributes": [attribute("startDate", "dateTime"), attribute("gender", "string"),
                       attribute("birthDate", "dateTime"), attribute("shirtSize", "string")]
    });
    let server = server_with_user_extensions(&[lms, sync_scim::homes::extension_schema()]).await;
    let fake = FakePersonio::start(company(80), fake_config())
        .await
        .expect("start the fake Personio");
    let harness = ScimHarness::on_server(fake, &server, demo_config).await;
    let outcome = harness.run().await;
    assert_eq!(outcome.record.status, RunStatus::Completed);
    assert!(
        outcome.record.errors.is_empty(),
        "{:?}",
        outcome.record.errors
    );

    let users: BTreeMap<String, Value> = harness
        .users()
        .await
        .into_iter()
        .filter_map(|user| Some((user.external_id?, user.body)))
        .collect();
    let ids: BTreeMap<&str, &str> = users
        .iter()
        .map(|(external, user)| (external.as_str(), user["id"].as_str().expect("id")))
        .collect();
    let company = harness.fake.company();
    let mut checked = 0;
    for employee in &company.employees {
        let Some(user) = users.get(&key(employee.id).external_id()) else {
            continue;
        };
        checked += 1;
        let who = format!("employee {}", employee.id);
        let date = |value: Option<&str>| value.map(|v| v[..10].to_owned());
        // The standard attributes.
        assert_eq!(user["userName"], employee.email, "{who}");
        assert_eq!(user["name"]["givenName"], employee.first_name, "{who}");
        assert_eq!(user["name"]["familyName"], employee.last_name, "{who}");
        assert_eq!(user["emails"][0]["value"], employee.email, "{who}");
        assert_eq!(user["title"], employee.position, "{who}");
        let employee_type = match employee.employment_type.as_str() {
            "internal" => "Employee",
            _ => "Contractor",
        };
        assert_eq!(user["userType"], employee_type, "{who}");
        let enterprise = &user[ENTERPRISE_USER];
        assert_eq!(enterprise["employeeNumber"], employee.id.to_string());
        assert_eq!(
            enterprise["department"].as_str(),
            employee.department.as_deref(),
            "{who}"
        );
        assert_eq!(
            enterprise["costCenter"].is_string(),
            !employee.cost_centers.is_empty(),
            "{who}"
        );
        assert_eq!(
            user["addresses"][0]["locality"].as_str(),
            employee.office.as_deref(),
            "{who}"
        );
        assert_eq!(
            user["photos"][0]["value"].is_string(),
            employee.profile_picture,
            "{who}"
        );
        let manager = employee
            .supervisor
            .and_then(|id| ids.get(key(id).external_id().as_str()).copied());
        assert_eq!(enterprise["manager"]["value"].as_str(), manager, "{who}");
        // Found by name or synonym in the app's own extension.
        assert_eq!(text(user, LMS, "gender"), Some(employee.gender.as_str()));
        assert_eq!(
            date(text(user, LMS, "startDate")),
            Some(employee.hire_date.to_string()),
            "{who}"
        );
        assert_eq!(
            date(text(user, LMS, "birthDate")),
            custom(employee, BIRTHDAY).map(str::to_owned),
            "{who}"
        );
        assert_eq!(
            text(user, LMS, "shirtSize"),
            custom(employee, SHIRT_SIZE),
            "{who}"
        );
        // The personio-sync extension, for what the app has no attribute of its own.
        assert_eq!(
            text(user, EXTENSION, "employmentStatus"),
            Some(employee.status.as_str()),
            "{who}"
        );
        assert_eq!(
            text(user, EXTENSION, "linkedIn"),
            custom(employee, LINKEDIN),
            "{who}"
        );
        assert_eq!(
            text(user, EXTENSION, "terminationDate"),
            employee.termination_date.map(|d| d.to_string()).as_deref(),
            "{who}"
        );
        assert_eq!(
            text(user, EXTENSION, "terminationType"),
            employee
                .termination_type
                .as_deref()
                .filter(|t| !t.is_empty()),
            "{who}"
        );
        // Matched in the app's extension first: not sent twice.
        assert_eq!(text(user, EXTENSION, "hireDate"), None, "{who}");
    }
    assert!(checked > 40, "only {checked} people were synced");

    // A second run of the unchanged company writes nothing.
    let before = harness.writes();
    let again = harness.run().await;
    assert_eq!(again.record.status, RunStatus::Completed);
    assert_eq!(
        harness.writes(),
        before,
        "an unchanged company writes nothing"
    );
}

#[tokio::test]
async fn a_server_without_the_extension_gets_only_the_standard_attributes() {
    let harness = ScimHarness::new(30).await;
    let outcome = harness.run().await;
    assert_eq!(outcome.record.status, RunStatus::Completed);
    let fields: Vec<String> = sync_core::mapping::default_fields()
        .into_iter()
        .map(|rule| rule.target)
        .collect();
    let homes = harness
        .destination
        .field_homes(&fields)
        .await
        .expect("field homes");
    let reason = |field: &str| {
        homes
            .iter()
            .find(|home| home.field == field)
            .map(|home| (home.path.clone(), home.reason.clone()))
            .expect("a home for every field")
    };
    assert_eq!(
        reason("hire_date"),
        (None, sync_scim::HomeReason::NoAttribute)
    );
    assert_eq!(reason("title").1, sync_scim::HomeReason::Standard);
    for user in harness.users().await {
        assert!(user.body.get(EXTENSION).is_none(), "{:?}", user.body);
    }
}

#[tokio::test]
async fn a_server_that_publishes_no_schemas_gets_what_it_got_before_discovery() {
    let server = test_support::scim::undiscoverable_server().await;
    let fake = FakePersonio::start(company(20), fake_config())
        .await
        .expect("start the fake Personio");
    let harness = ScimHarness::on_server(fake, &server, |base_url| {
        test_support::scim::scim_config_text(
            base_url,
            "[destination.attribute_paths]\nhire_date = \"nickName\"",
        )
    })
    .await;
    let outcome = harness.run().await;
    assert_eq!(outcome.record.status, RunStatus::Completed);
    assert!(
        outcome.record.errors.is_empty(),
        "{:?}",
        outcome.record.errors
    );
    let company = harness.fake.company();
    let users = harness.users().await;
    assert!(!users.is_empty());
    for user in &users {
        let id: u64 = user
            .employee_number
            .as_deref()
            .expect("employee number")
            .parse()
            .expect("id");
        let employee = company
            .employees
            .iter()
            .find(|e| e.id == id)
            .expect("employee");
        // A configured path is used; standard attributes are sent; nothing else is guessed.
        assert_eq!(user.body["nickName"], employee.hire_date.to_string());
        assert_eq!(user.title.as_deref(), Some(employee.position.as_str()));
        assert!(user.body.get(EXTENSION).is_none());
        assert!(!user.body.to_string().contains("gender"), "{}", user.body);
    }
    let homes = harness
        .destination
        .field_homes(&["gender".to_owned(), "hire_date".to_owned()])
        .await
        .expect("field homes");
    assert_eq!(homes[0].reason, sync_scim::HomeReason::NotPublished);
    assert_eq!(homes[1].reason, sync_scim::HomeReason::Configured);
}

/// An app that publishes the personio-sync extension only later (an upgrade of the app, say):
/// the seed fields it now has a place for reach every user at the next run that writes anything,
/// although nothing about them changed in Personio; and only once.
#[tokio::test]
async fn fields_the_app_gains_a_place_for_reach_every_user_at_the_next_run_that_writes() {
    let server = server_with_user_extensions(&[sync_scim::homes::extension_schema()]).await;
    let hidden = test_support::scim::undiscoverable_proxy(&server).await;
    let fake = FakePersonio::start(company(30), fake_config())
        .await
        .expect("start the fake Personio");
    let mut harness = ScimHarness::on_server(fake, &server, demo_config).await;
    let direct = harness.scim.base_url().to_owned();
    // First the app publishes nothing: the seed fields without a standard attribute stay home.
    harness.set_base_url(&direct.replacen(&server.url, &hidden.url, 1));
    assert_eq!(harness.run().await.record.status, RunStatus::Completed);
    let with_hire_date = |users: &[test_support::scim::ScimUser]| {
        users
            .iter()
            .filter(|user| text(&user.body, EXTENSION, "hireDate").is_some())
            .count()
    };
    assert_eq!(with_hire_date(&harness.users().await), 0);

    // Now it publishes the extension. A run with nothing to write asks nothing and sends nothing.
    harness.set_base_url(&direct);
    let quiet = harness.run().await;
    assert_eq!(quiet.record.counts.updated, 0);
    assert_eq!(harness.writes(), 0);
    assert_eq!(with_hire_date(&harness.users().await), 0);

    // The next run that writes (one person's new position) sends every user their hire date.
    let mover = harness.fake.company().employees[0].id;
    harness.fake.update(|company| {
        let employee = company
            .employees
            .iter_mut()
            .find(|e| e.id == mover)
            .expect("the person");
        employee.position = "Head of Pictures".to_owned();
    });
    let outcome = harness.run().await;
    assert_eq!(outcome.record.status, RunStatus::Completed);
    assert!(
        outcome.record.errors.is_empty(),
        "{:?}",
        outcome.record.errors
    );
    let users = harness.users().await;
    let linked = users
        .iter()
        .filter(|user| user.external_id.is_some())
        .count();
    assert!(linked > 10);
    let company = harness.fake.company();
    for user in &users {
        let Some(employee) = company
            .employees
            .iter()
            .find(|e| user.external_id.as_deref() == Some(key(e.id).external_id().as_str()))
        else {
            continue;
        };
        assert_eq!(
            text(&user.body, EXTENSION, "hireDate"),
            Some(employee.hire_date.to_string().as_str()),
            "employee {}",
            employee.id
        );
    }
    assert!(
        outcome.record.counts.updated >= linked - 1,
        "{:?}",
        outcome.record.counts
    );

    // Sent once: the run after writes nothing.
    let after = harness.run().await;
    assert_eq!(after.record.counts.updated, 0, "{:?}", after.record.changes);
}
