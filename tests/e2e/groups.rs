//! Organisation groups beyond departments: cost centers, legal entities, positions and the values
//! of a list attribute, each opt-in, named as documented, with exact membership, and kept in step
//! when people move.

use std::collections::{BTreeMap, BTreeSet};
use sync_core::history::RunStatus;
use test_support::harness::*;
use test_support::personio::*;

const CONFIG: &str = r#"
[groups]
departments = false
cost_centers = true
legal_entities = true
positions = true
attributes = ["label:Shirt size"]
"#;

/// The sample company's "Shirt size" (fake-personio's roster).
const SHIRT_SIZE: &str = "dynamic_40001";

/// Group display name → member user ids, for the groups this test's config makes.
async fn groups(harness: &Harness) -> BTreeMap<String, BTreeSet<String>> {
    harness
        .directory
        .read_all_groups()
        .await
        .expect("groups")
        .into_iter()
        .map(|group| {
            let members = group.members.iter().map(ToString::to_string).collect();
            (group.display_name, members)
        })
        .collect()
}

/// What the groups should be: every person whose user is active or starts soon, by name.
async fn expected(harness: &Harness) -> BTreeMap<String, BTreeSet<String>> {
    let mut expected: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let today = day(TODAY);
    for employee in &harness.fake.company().employees {
        let Some(user) = harness.user(employee.id).await else {
            continue;
        };
        if !user.active && employee.hire_date <= today {
            continue;
        }
        let mut names: Vec<String> = employee
            .cost_centers
            .iter()
            .map(|share| format!("Cost center: {}", share.name))
            .collect();
        names.extend(
            employee
                .subcompany
                .iter()
                .map(|entity| format!("Legal entity: {entity}")),
        );
        names.push(format!("Position: {}", employee.position.trim()));
        if let Some(size) = employee.custom.get(SHIRT_SIZE).and_then(|v| v.as_str()) {
            names.push(format!("Shirt size: {size}"));
        }
        for name in names {
            expected
                .entry(name)
                .or_default()
                .insert(user.id.to_string());
        }
    }
    expected
}

#[tokio::test]
async fn cost_centers_legal_entities_positions_and_list_values_become_exact_groups() {
    let harness = Harness::with(CONFIG, company(80)).await;
    let first = harness.run().await;
    assert_eq!(first.record.status, RunStatus::Completed);
    assert!(first.record.errors.is_empty(), "{:?}", first.record.errors);
    let held = groups(&harness).await;
    let wanted = expected(&harness).await;
    assert!(wanted.keys().any(|name| name.starts_with("Cost center: ")));
    assert!(wanted.keys().any(|name| name.starts_with("Legal entity: ")));
    assert!(wanted.keys().any(|name| name.starts_with("Shirt size: ")));
    assert_eq!(held, wanted, "the groups and their members");

    // A mover changes position and shirt size: they leave the old groups and join the new.
    let company = harness.fake.company();
    let mover = company
        .employees
        .iter()
        .find(|e| {
            e.status == "active"
                && e.termination_date.is_none()
                && e.custom.get(SHIRT_SIZE).and_then(|v| v.as_str()) == Some("M")
        })
        .expect("someone active in M")
        .id;
    harness.fake.update(|company| {
        let person = company.employee_mut(mover).expect("mover");
        person.position = "Chief Shirt Officer".into();
        person.custom.insert(SHIRT_SIZE.into(), "XXL".into());
    });
    let second = harness.run().await;
    assert!(
        second.record.errors.is_empty(),
        "{:?}",
        second.record.errors
    );
    let held = groups(&harness).await;
    let wanted = expected(&harness).await;
    let user = harness.user(mover).await.expect("user").id.to_string();
    assert!(held["Position: Chief Shirt Officer"].contains(&user));
    assert!(held["Shirt size: XXL"].contains(&user));
    assert!(!held["Shirt size: M"].contains(&user));
    // Groups that emptied out stay, empty (never deleted); every other group is exact.
    for (name, members) in &held {
        assert_eq!(
            members,
            wanted.get(name).unwrap_or(&BTreeSet::new()),
            "group {name}"
        );
    }
}
