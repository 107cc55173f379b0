//! Invariants of the generated company.

use super::*;
use std::collections::HashSet;

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2025, 3, 14).expect("valid date")
}

fn company(employees: usize, seed: u64) -> Company {
    generate_company(&CompanySpec {
        employees,
        seed,
        today: today(),
    })
}

fn count_status(company: &Company, status: &str) -> usize {
    company
        .employees
        .iter()
        .filter(|employee| employee.status == status)
        .count()
}

#[test]
fn same_seed_gives_the_same_company() {
    assert_eq!(company(300, 42), company(300, 42));
}

#[test]
fn another_seed_gives_other_people() {
    assert_ne!(company(300, 42).employees, company(300, 43).employees);
}

#[test]
fn ids_start_at_1000_and_increase() {
    let company = company(500, 1);
    assert_eq!(company.employees.len(), 500);
    assert_eq!(company.employees[0].id, 1000);
    assert!(company
        .employees
        .windows(2)
        .all(|pair| pair[0].id < pair[1].id));
}

#[test]
fn emails_are_unique_and_lower_case() {
    let company = company(3000, 5);
    let emails: HashSet<&str> = company.employees.iter().map(|e| e.email.as_str()).collect();
    assert_eq!(emails.len(), company.employees.len());
    for email in emails {
        assert_eq!(email, email.to_lowercase());
        assert!(email.is_ascii());
        assert!(email.ends_with("@nordlicht.example"));
    }
}

#[test]
fn supervisor_tree_has_one_root_and_no_cycle() {
    let company = company(500, 9);
    let ids: HashSet<u64> = company.employees.iter().map(|e| e.id).collect();
    let roots: Vec<_> = company
        .employees
        .iter()
        .filter(|employee| employee.supervisor.is_none())
        .collect();
    assert_eq!(roots.len(), 1);
    assert_eq!(roots[0].position, "CEO");
    for employee in &company.employees {
        let mut seen = HashSet::from([employee.id]);
        let mut current = employee.supervisor;
        while let Some(supervisor) = current {
            assert!(ids.contains(&supervisor), "supervisor {supervisor} exists");
            assert!(seen.insert(supervisor), "no cycle through {supervisor}");
            current = company.employee(supervisor).and_then(|e| e.supervisor);
        }
    }
}

#[test]
fn department_heads_report_to_the_ceo_and_others_stay_in_their_department() {
    let company = company(500, 9);
    let ceo = company.employees[0].id;
    for employee in &company.employees[1..] {
        let supervisor = company
            .employee(employee.supervisor.expect("everyone but the CEO has one"))
            .expect("exists");
        if employee.position.starts_with("Head of ") {
            assert_eq!(supervisor.id, ceo);
        } else {
            assert_eq!(supervisor.department, employee.department);
        }
    }
}

#[test]
fn all_four_statuses_are_present_for_500_people() {
    let company = company(500, 3);
    for status in ["onboarding", "active", "leave", "inactive"] {
        assert!(count_status(&company, status) > 0, "{status} present");
    }
}

#[test]
fn status_proportions_are_realistic() {
    let company = company(10_000, 11);
    let percent = |status| count_status(&company, status) * 100 / company.employees.len();
    assert!(
        (80..=90).contains(&percent("active")),
        "{}",
        percent("active")
    );
    assert!((2..=6).contains(&percent("leave")));
    assert!((3..=7).contains(&percent("onboarding")));
    assert!((4..=8).contains(&percent("inactive")));
}

#[test]
fn dates_match_the_status() {
    let company = company(2000, 4);
    let today = company.today;
    let mut soon = 0;
    let mut later = 0;
    let mut notice = 0;
    for employee in &company.employees {
        match employee.status.as_str() {
            "onboarding" => {
                assert!(employee.hire_date > today);
                assert!(employee
                    .contract_end_date
                    .is_none_or(|end| end > employee.hire_date));
                if employee.hire_date <= today + Duration::days(7) {
                    soon += 1;
                } else {
                    later += 1;
                }
            }
            "inactive" => {
                let termination = employee.termination_date.expect("leavers have one");
                assert!(termination < today);
                assert!(employee.hire_date < termination);
            }
            _ => {
                assert!(employee.hire_date <= today);
                assert!(employee.contract_end_date.is_none_or(|end| end > today));
                if employee.termination_date.is_some_and(|date| date > today) {
                    notice += 1;
                }
            }
        }
        assert!(employee.created_at.date() <= today);
        assert!(employee.last_modified_at >= employee.created_at);
    }
    assert!(
        soon > 0 && later > 0 && notice > 0,
        "{soon} {later} {notice}"
    );
}

#[test]
fn most_people_have_custom_attributes_in_every_documented_form() {
    let company = company(2000, 8);
    let with_birthday = company
        .employees
        .iter()
        .filter(|e| e.custom.contains_key(BIRTHDAY))
        .count();
    assert!(with_birthday > 1600);
    let skills: Vec<&str> = company
        .employees
        .iter()
        .filter_map(|e| e.custom.get(SKILLS_KEY)?.as_str())
        .collect();
    assert!(skills.iter().any(|value| value.starts_with("[\"")));
    assert!(skills.iter().any(|value| !value.starts_with('[')));
    assert!(company
        .employees
        .iter()
        .any(|e| e.custom.get(DESK_NUMBER).is_some_and(Value::is_number)));
}

#[test]
fn some_people_use_the_quirky_forms() {
    let company = company(1000, 2);
    let people = &company.employees;
    assert!(people
        .iter()
        .any(|e| e.offset_style == OffsetStyle::NoColon));
    assert!(people
        .iter()
        .any(|e| e.empty_style == EmptyStyle::EmptyString));
    assert!(people
        .iter()
        .any(|e| e.empty_style == EmptyStyle::EmptyArray));
    assert!(people
        .iter()
        .any(|e| e.termination_type.as_deref() == Some("")));
    assert!(people.iter().any(|e| e.office.is_none()));
}

#[test]
fn tiny_companies_are_generated() {
    assert!(company(0, 1).employees.is_empty());
    let one = company(1, 1);
    assert_eq!(one.employees[0].position, "CEO");
    assert_eq!(company(5, 1).employees.len(), 5);
}

#[test]
fn a_company_of_50000_is_generated() {
    let company = company(50_000, 6);
    assert_eq!(company.employees.len(), 50_000);
}
