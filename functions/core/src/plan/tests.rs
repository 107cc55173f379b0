//! Plan decisions, one lifecycle rule per test.

use super::*;
use crate::config::TenantConfig;
use crate::employee::{AttrValue, Employee, EmploymentStatus, NamedRef};
use crate::ids::{AccountId, DestinationId, PersonioId};
use crate::state::{GroupKind, Link, LinkState};

const CONFIG: &str = r#"
    tenant = "acme"
    timezone = "Europe/Berlin"
    [[personio.accounts]]
    [destination]
    kind = "directory"
    path = "d"
"#;

fn config() -> TenantConfig {
    TenantConfig::from_toml(CONFIG).unwrap()
}

fn key(id: u64) -> Key {
    Key::new(AccountId::default(), PersonioId::new(id))
}

fn employee(id: u64, status: EmploymentStatus) -> Employee {
    let text = |value: String| AttrValue::Text(value);
    Employee {
        key: key(id),
        status: Some(status),
        hire_date: Some("2020-01-01".parse().unwrap()),
        termination_date: None,
        supervisor: None,
        attributes: crate::employee::Attributes::from([
            ("id".into(), AttrValue::Number(id.to_string())),
            ("first_name".into(), text(format!("First{id}"))),
            ("last_name".into(), text(format!("Last{id}"))),
            ("email".into(), text(format!("p{id}@acme.example"))),
            ("position".into(), text("Engineer".into())),
            ("status".into(), text(status.as_str().into())),
            (
                "department".into(),
                AttrValue::Object(NamedRef {
                    id: Some(1),
                    name: "Engineering".into(),
                }),
            ),
        ]),
    }
}

fn people(config: &TenantConfig, employees: Vec<Employee>) -> Vec<Person> {
    let mut intake = crate::people::Intake::new(config, now());
    let batch = crate::ports::SourceBatch {
        employees,
        universal_ids: BTreeMap::new(),
        errors: Vec::new(),
        unreadable: Vec::new(),
    };
    intake.add(&crate::ids::AccountId::default(), batch);
    intake.people
}

/// The snapshot a previous run would have left for these people.
fn linked(config: &TenantConfig, employees: Vec<Employee>) -> Snapshot {
    let now = "2026-11-23T12:00:00Z".parse().unwrap();
    let people = people(config, employees);
    let empty = Snapshot::default();
    let result = run_plan(config, people, &empty, now);
    let mut snapshot = Snapshot::default();
    for action in &result.actions {
        if let ActionKind::Create { record, state } = &action.kind {
            let link = Link {
                key: action.key.clone(),
                destination_id: DestinationId::parse(&format!("u{}", action.key.id)).unwrap(),
                state: *state,
                record: record.clone(),
                manager: None,
                invited_on: None,
                origin: None,
                inactive_since: None,
                relinked_from: None,
                rehire_declined: Default::default(),
                written_back: None,
            };
            snapshot.links.insert(action.key.clone(), link);
        }
    }
    snapshot
}

fn run_plan(
    config: &TenantConfig,
    mut people: Vec<Person>,
    snapshot: &Snapshot,
    now: DateTime<Utc>,
) -> Plan {
    plan(PlanInput {
        config,
        people: &mut people,
        protected: &BTreeSet::new(),
        complete: true,
        gone: &BTreeSet::new(),
        snapshot,
        candidates: &BTreeMap::new(),
        now,
    })
}

fn now() -> DateTime<Utc> {
    "2026-11-23T12:00:00Z".parse().unwrap()
}

#[test]
fn joiner_is_created_and_put_in_the_department_group() {
    let config = config();
    let plan = run_plan(
        &config,
        people(&config, vec![employee(1, EmploymentStatus::Active)]),
        &Snapshot::default(),
        now(),
    );
    assert_eq!(plan.count("create"), 1);
    assert!(
        matches!(&plan.groups[0], GroupAction::Create { key, members }
        if key.kind == GroupKind::Department && members.contains(&self::key(1)))
    );
}

#[test]
fn unchanged_people_produce_an_empty_plan() {
    let config = config();
    let staff = vec![
        employee(1, EmploymentStatus::Active),
        employee(2, EmploymentStatus::Leave),
    ];
    let mut snapshot = linked(&config, staff.clone());
    let first = run_plan(
        &config,
        people(&config, staff.clone()),
        &Snapshot::default(),
        now(),
    );
    for group in &first.groups {
        if let GroupAction::Create { key, members } = group {
            snapshot.groups.insert(
                key.clone(),
                crate::state::GroupLink {
                    key: key.clone(),
                    destination_id: DestinationId::parse("g1").unwrap(),
                    members: members.clone(),
                },
            );
        }
    }
    let plan = run_plan(&config, people(&config, staff), &snapshot, now());
    assert!(plan.is_empty(), "{plan:?}");
}

#[test]
fn mover_gets_only_the_changed_fields() {
    let config = config();
    let before = employee(1, EmploymentStatus::Active);
    let snapshot = linked(&config, vec![before.clone()]);
    let mut after = before;
    after
        .attributes
        .insert("position".into(), AttrValue::Text("Lead".into()));
    let plan = run_plan(&config, people(&config, vec![after]), &snapshot, now());
    let [action] = plan.actions.as_slice() else {
        panic!("{plan:?}")
    };
    let ActionKind::Update { changes, .. } = &action.kind else {
        panic!("{action:?}")
    };
    assert_eq!(changes.len(), 1);
    assert_eq!(changes[0].field, "title");
    assert_eq!(action.reason, "title changed");
}

#[test]
fn leaver_is_deactivated_the_day_after_the_termination_date_never_deleted() {
    let config = config();
    let mut leaver = employee(1, EmploymentStatus::Active);
    let snapshot = linked(&config, vec![leaver.clone()]);
    leaver.termination_date = Some("2026-11-23".parse().unwrap());
    let on_last_day = run_plan(
        &config,
        people(&config, vec![leaver.clone()]),
        &snapshot,
        now(),
    );
    assert_eq!(on_last_day.count("deactivate"), 0);
    // 23:30 UTC on the 23rd is already the 24th in Berlin.
    let next_day = run_plan(
        &config,
        people(&config, vec![leaver]),
        &snapshot,
        "2026-11-23T23:30:00Z".parse().unwrap(),
    );
    assert_eq!(next_day.count("deactivate"), 1);
    assert!(next_day.actions[0].reason.contains("left on 2026-11-23"));
}

#[test]
fn pre_hire_is_created_inactive_and_activated_on_the_hire_date() {
    let config = config();
    let mut joiner = employee(1, EmploymentStatus::Onboarding);
    joiner.hire_date = Some("2026-11-26".parse().unwrap());
    let plan = run_plan(
        &config,
        people(&config, vec![joiner.clone()]),
        &Snapshot::default(),
        now(),
    );
    assert!(matches!(
        plan.actions[0].kind,
        ActionKind::Create {
            state: LinkState::PreHire,
            ..
        }
    ));
    let snapshot = linked(&config, vec![joiner.clone()]);
    let hire_day = run_plan(
        &config,
        people(&config, vec![joiner]),
        &snapshot,
        "2026-11-26T08:00:00Z".parse().unwrap(),
    );
    assert!(matches!(
        hire_day.actions[0].kind,
        ActionKind::Activate {
            from: LinkState::PreHire,
            ..
        }
    ));
}

#[test]
fn rehire_reactivates_the_same_user() {
    let config = config();
    let person = employee(1, EmploymentStatus::Active);
    let mut snapshot = linked(&config, vec![person.clone()]);
    snapshot.links.get_mut(&key(1)).unwrap().state = LinkState::Inactive;
    let plan = run_plan(&config, people(&config, vec![person]), &snapshot, now());
    let ActionKind::Activate {
        destination_id,
        from,
        ..
    } = &plan.actions[0].kind
    else {
        panic!()
    };
    assert_eq!(destination_id.as_str(), "u1");
    assert_eq!(*from, LinkState::Inactive);
}

#[test]
fn people_missing_from_a_full_run_are_deactivated_but_protected_ones_are_not() {
    let config = config();
    let snapshot = linked(
        &config,
        vec![
            employee(1, EmploymentStatus::Active),
            employee(2, EmploymentStatus::Active),
        ],
    );
    let plan = run_plan(&config, Vec::new(), &snapshot, now());
    assert_eq!(plan.count("deactivate"), 2);
    let protected = BTreeSet::from([key(1)]);
    let plan = super::plan(PlanInput {
        config: &config,
        people: &mut [],
        protected: &protected,
        complete: true,
        gone: &BTreeSet::new(),
        snapshot: &snapshot,
        candidates: &BTreeMap::new(),
        now: now(),
    });
    assert_eq!(plan.count("deactivate"), 1);
    assert_eq!(plan.actions[0].key, key(2));
}

#[test]
fn two_people_with_one_email_are_both_errors() {
    let config = config();
    let first = employee(1, EmploymentStatus::Active);
    let mut second = employee(2, EmploymentStatus::Active);
    second
        .attributes
        .insert("email".into(), AttrValue::Text("P1@acme.example".into()));
    let plan = run_plan(
        &config,
        people(&config, vec![first, second]),
        &Snapshot::default(),
        now(),
    );
    assert!(plan.actions.is_empty());
    assert_eq!(plan.errors.len(), 2);
}

#[test]
fn existing_user_with_the_same_user_name_is_adopted() {
    let config = config();
    let candidates = BTreeMap::from([(
        "p1@acme.example".to_owned(),
        DestinationUser {
            id: DestinationId::parse("existing").unwrap(),
            user_name: "P1@acme.example".into(),
            email: None,
            external_id: None,
            employee_number: None,
            active: true,
        },
    )]);
    let mut people = people(&config, vec![employee(1, EmploymentStatus::Active)]);
    let plan = super::plan(PlanInput {
        config: &config,
        people: &mut people,
        protected: &BTreeSet::new(),
        complete: true,
        gone: &BTreeSet::new(),
        snapshot: &Snapshot::default(),
        candidates: &candidates,
        now: now(),
    });
    assert!(
        matches!(&plan.actions[0].kind, ActionKind::Adopt { destination_id, .. } if destination_id.as_str() == "existing")
    );
}

#[test]
fn managers_link_in_a_second_pass_and_unknown_ones_are_reported() {
    let config = config();
    let boss = employee(1, EmploymentStatus::Active);
    let mut report = employee(2, EmploymentStatus::Active);
    report.supervisor = Some(PersonioId::new(1));
    let mut orphan = employee(3, EmploymentStatus::Active);
    orphan.supervisor = Some(PersonioId::new(99));
    let plan = run_plan(
        &config,
        people(&config, vec![boss, report, orphan]),
        &Snapshot::default(),
        now(),
    );
    assert_eq!(
        plan.managers,
        vec![ManagerLink {
            key: key(2),
            manager: Some(key(1))
        }]
    );
    assert!(plan
        .errors
        .iter()
        .any(|e| e.action == "manager" && e.person == Some(key(3))));
}

#[test]
fn out_of_scope_people_are_deactivated_or_left_alone_per_setting() {
    let mut config = config();
    let person = employee(1, EmploymentStatus::Active);
    let snapshot = linked(&config, vec![person.clone()]);
    config.scope.rules.push(crate::config::ScopeRule {
        attribute: crate::mapping::SourceRef::Key("department".into()),
        allowed: vec!["Sales".into()],
    });
    let plan = run_plan(
        &config,
        people(&config, vec![person.clone()]),
        &snapshot,
        now(),
    );
    assert_eq!(plan.count("deactivate"), 1);
    config.scope.out_of_scope = crate::config::OutOfScope::Leave;
    let plan = run_plan(&config, people(&config, vec![person]), &snapshot, now());
    assert!(plan.actions.is_empty());
    assert_eq!(plan.skips.len(), 1);
}
