//! The company without people: offices, departments, teams, legal entities, cost centers and
//! custom attribute definitions, built from the roster with stable ids.

use crate::company::{Company, CustomAttribute, Office, OrgUnit};
use crate::roster::{
    BIRTHDAY, DEPARTMENTS, DESK_NUMBER, LINKEDIN, OFFICES, SHIRT_SIZE, SHIRT_SIZES, SKILLS,
    SKILLS_KEY, SUBCOMPANIES, TITLE,
};
use chrono::NaiveDate;

/// Cost center of people outside any department (the CEO).
pub(crate) const MANAGEMENT_COST_CENTER: &str = "CC-1000 Management";

/// `CC-1100 Engineering`: one cost center per department.
pub(crate) fn cost_center_name(department: &str) -> String {
    let index = DEPARTMENTS
        .iter()
        .position(|plan| plan.name == department)
        .unwrap_or(0);
    format!("CC-{} {department}", 1100 + index * 100)
}

/// The company without people: offices, departments, teams, legal entities, cost centers and
/// custom attribute definitions.
pub(crate) fn org_structure(today: NaiveDate) -> Company {
    let offices = OFFICES
        .iter()
        .map(|plan| Office {
            id: plan.id,
            name: plan.name.to_owned(),
            country: plan.country.to_owned(),
            state: plan.state.map(str::to_owned),
            holiday_calendar_id: plan.holiday_calendar_id,
            holiday_calendar_name: plan.holiday_calendar_name.to_owned(),
        })
        .collect();
    let departments = units(281501, DEPARTMENTS.iter().map(|plan| plan.name.to_owned()));
    let teams = units(
        59001,
        DEPARTMENTS
            .iter()
            .flat_map(|plan| plan.teams.iter().map(|team| (*team).to_owned())),
    );
    let subcompanies = units(7033, SUBCOMPANIES.iter().map(|name| (*name).to_owned()));
    let cost_centers = units(
        82950,
        std::iter::once(MANAGEMENT_COST_CENTER.to_owned())
            .chain(DEPARTMENTS.iter().map(|plan| cost_center_name(plan.name))),
    );
    Company {
        name: SUBCOMPANIES[0].to_owned(),
        domain: "nordlicht.example".to_owned(),
        today,
        offices,
        departments,
        teams,
        subcompanies,
        cost_centers,
        custom_attributes: custom_attributes(),
        employees: Vec::new(),
    }
}

fn units(first_id: u64, names: impl Iterator<Item = String>) -> Vec<OrgUnit> {
    names
        .zip(first_id..)
        .map(|(name, id)| OrgUnit { id, name })
        .collect()
}

fn custom_attributes() -> Vec<CustomAttribute> {
    let define =
        |key: &str, label: &str, kind: &str, universal_id: Option<&str>, options: &[&str]| {
            CustomAttribute {
                key: key.to_owned(),
                label: label.to_owned(),
                kind: kind.to_owned(),
                universal_id: universal_id.map(str::to_owned),
                options: options.iter().map(|option| (*option).to_owned()).collect(),
            }
        };
    vec![
        define(TITLE, "Titel", "standard", None, &[]),
        define(BIRTHDAY, "Birthday", "date", Some("date_of_birth"), &[]),
        define(LINKEDIN, "LinkedIn", "link", Some("linkedin"), &[]),
        define(SHIRT_SIZE, "Shirt size", "list", None, SHIRT_SIZES),
        define(SKILLS_KEY, "Skills", "tags", None, SKILLS),
        define(DESK_NUMBER, "Desk number", "integer", None, &[]),
    ]
}
