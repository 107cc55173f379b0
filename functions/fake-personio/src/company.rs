//! The fake company's data: people, org units and custom attribute definitions as plain, public,
//! mutable structs, so a test can turn one person into a mover, a leaver or a rehire between runs.
//!
//! This module only holds data and small helpers; [`crate::generate`] fills it and
//! [`crate::render`] turns it into Personio's v1 JSON.

use chrono::{NaiveDate, NaiveDateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashSet};

/// How an empty object attribute (office, department, team, subcompany, cost centers) is rendered.
/// Personio sometimes sends `""` or `[]` instead of `null` (personio-api.md §1.4).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum EmptyStyle {
    /// `null`, the documented form.
    #[default]
    Null,
    /// `""`.
    EmptyString,
    /// `[]`.
    EmptyArray,
}

/// How the UTC offset of a standard date attribute is written.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum OffsetStyle {
    /// `2014-11-09T00:00:00+01:00`, the common form.
    #[default]
    Colon,
    /// `2014-11-09T00:00:00+0100`, seen in the spec's schema examples.
    NoColon,
}

/// An org unit as Personio embeds it: department, team, subcompany or cost center.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrgUnit {
    /// Personio's id of the unit.
    pub id: u64,
    /// Display name; people refer to units by this name.
    pub name: String,
}

/// An office with the holiday calendar that goes with it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Office {
    /// Personio's id of the office.
    pub id: u64,
    /// Display name (`Berlin`); people refer to offices by this name.
    pub name: String,
    /// ISO country code of the holiday calendar (`DE`).
    pub country: String,
    /// Region of the holiday calendar (`Berlin`), when it has one.
    pub state: Option<String>,
    /// Id of the office's holiday calendar.
    pub holiday_calendar_id: u64,
    /// Name of the office's holiday calendar (`Deutschland (Berlin) Feiertage`).
    pub holiday_calendar_name: String,
}

/// A share of one person's cost, booked on a cost center.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CostCenterShare {
    /// Name of the cost center, as in [`Company::cost_centers`].
    pub name: String,
    /// Percentage of the person's cost (the shares of one person add up to 100).
    pub percentage: u32,
}

/// The definition of a custom (`dynamic_<n>`) attribute, as the attributes endpoint lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomAttribute {
    /// The attribute's key, `dynamic_<n>`.
    pub key: String,
    /// The admin-defined label (`Birthday`).
    pub label: String,
    /// Personio's attribute type: `standard`, `date`, `integer`, `decimal`, `list`, `link`,
    /// `tags` or `multiline`.
    pub kind: String,
    /// The cross-tenant name of well-known attributes (`date_of_birth`), else `None`.
    pub universal_id: Option<String>,
    /// The allowed values of `list` and `tags` attributes.
    pub options: Vec<String>,
}

/// One person in the fake company. Every field is rendered as one v1 attribute (personio-api.md
/// §1.5); `holiday_calendar`, `work_schedule` and `absence_entitlement` are derived from the office
/// and the weekly hours when rendered.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FakeEmployee {
    /// Personio employee id; the list is ordered by it.
    pub id: u64,
    /// `first_name`.
    pub first_name: String,
    /// `last_name`.
    pub last_name: String,
    /// `preferred_name`; often the full name, sometimes a nickname, sometimes empty.
    pub preferred_name: String,
    /// `email`, lower case and unique in the company.
    pub email: String,
    /// `gender`: `male`, `female` or `diverse`.
    pub gender: String,
    /// `status`: `onboarding`, `active`, `leave` or `inactive`. A string, so a test can also serve
    /// a value Personio does not document.
    pub status: String,
    /// `position` (job title).
    pub position: String,
    /// `employment_type`: `internal` or `external`.
    pub employment_type: String,
    /// `weekly_working_hours`, a decimal number as text (`"40"`, `"38.5"`), as Personio sends it.
    pub weekly_working_hours: String,
    /// `hire_date`; in the future for people still onboarding.
    pub hire_date: NaiveDate,
    /// `contract_end_date` of fixed-term contracts.
    pub contract_end_date: Option<NaiveDate>,
    /// `termination_date`; in the past for leavers, in the future during a notice period.
    pub termination_date: Option<NaiveDate>,
    /// `termination_type`: `None` renders `null`, `Some("")` renders `""`.
    pub termination_type: Option<String>,
    /// `termination_reason`: `None` renders `null`, `Some("")` renders `""`.
    pub termination_reason: Option<String>,
    /// `last_working_day`.
    pub last_working_day: Option<NaiveDate>,
    /// `probation_period_end`.
    pub probation_period_end: Option<NaiveDate>,
    /// `created_at`, local wall-clock time in the office's (Berlin-like) zone.
    pub created_at: NaiveDateTime,
    /// `last_modified_at`, local wall-clock time; [`Company::employee_mut`] moves it forward.
    pub last_modified_at: NaiveDateTime,
    /// `supervisor`: the supervisor's id. It may name someone no longer in the company.
    pub supervisor: Option<u64>,
    /// `department`, by name (see [`Company::departments`]).
    pub department: Option<String>,
    /// `office`, by name (see [`Company::offices`]).
    pub office: Option<String>,
    /// `team`, by name (see [`Company::teams`]).
    pub team: Option<String>,
    /// `subcompany` (legal entity), by name (see [`Company::subcompanies`]).
    pub subcompany: Option<String>,
    /// `cost_centers`; an empty list renders like an empty object (see `empty_style`).
    pub cost_centers: Vec<CostCenterShare>,
    /// `fix_salary` in EUR per `fix_salary_interval` (monthly).
    pub fix_salary: Option<u32>,
    /// `profile_picture`: whether the person has one (the attribute is then its URL, else `null`).
    pub profile_picture: bool,
    /// Which picture they have: the fake serves [`crate::profile_picture_png`] of their id and
    /// this; raise it to change the picture (Personio's address stays the same).
    pub picture_version: u32,
    /// Custom attribute values by key (`dynamic_180883`), exactly as they are sent. A defined
    /// attribute with no entry here renders as `null`.
    pub custom: BTreeMap<String, serde_json::Value>,
    /// How this person's empty object attributes are rendered.
    pub empty_style: EmptyStyle,
    /// How this person's standard dates write their UTC offset.
    pub offset_style: OffsetStyle,
}

/// The whole fake company. `employees` is kept ordered by id: the helpers preserve the order and the
/// server re-sorts after every [`crate::FakePersonio::update`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Company {
    /// The company's name (`Nordlicht GmbH`).
    pub name: String,
    /// The domain of everyone's email address.
    pub domain: String,
    /// The day the company was generated for; statuses and dates are realistic relative to it.
    pub today: NaiveDate,
    /// Offices people can be in.
    pub offices: Vec<Office>,
    /// Departments.
    pub departments: Vec<OrgUnit>,
    /// Teams.
    pub teams: Vec<OrgUnit>,
    /// Legal entities.
    pub subcompanies: Vec<OrgUnit>,
    /// Cost centers.
    pub cost_centers: Vec<OrgUnit>,
    /// Custom attribute definitions, in the order they are rendered.
    pub custom_attributes: Vec<CustomAttribute>,
    /// Everyone, ordered by id.
    pub employees: Vec<FakeEmployee>,
}

impl Company {
    /// The person with this id.
    pub fn employee(&self, id: u64) -> Option<&FakeEmployee> {
        self.employees.iter().find(|employee| employee.id == id)
    }

    /// The person with this id, to change. Moves their `last_modified_at` forward (to now, or one
    /// second after its old value), as Personio does on every change, so `updated_since` finds them.
    pub fn employee_mut(&mut self, id: u64) -> Option<&mut FakeEmployee> {
        let employee = self
            .employees
            .iter_mut()
            .find(|employee| employee.id == id)?;
        let now = Utc::now().naive_utc();
        let next = employee.last_modified_at + chrono::Duration::seconds(1);
        employee.last_modified_at = now.max(next);
        Some(employee)
    }

    /// One more than the highest id in use (1000 for an empty company).
    pub fn next_id(&self) -> u64 {
        self.employees
            .iter()
            .map(|employee| employee.id + 1)
            .max()
            .unwrap_or(1000)
    }

    /// Adds a person as given and returns their id. An `id` of 0 is replaced by [`Self::next_id`].
    /// A person with an id already in use replaces the old one.
    pub fn add_employee(&mut self, mut employee: FakeEmployee) -> u64 {
        if employee.id == 0 {
            employee.id = self.next_id();
        }
        let id = employee.id;
        match self
            .employees
            .binary_search_by_key(&id, |existing| existing.id)
        {
            Ok(index) => self.employees[index] = employee,
            Err(index) => self.employees.insert(index, employee),
        }
        id
    }

    /// Hires someone with realistic data and returns their new id: `onboarding` when `hire_date` is
    /// after [`Self::today`], else `active`; in Engineering (or the first department) at the first
    /// office, reporting to the department's most senior member; with a unique email.
    pub fn new_hire(&mut self, first_name: &str, last_name: &str, hire_date: NaiveDate) -> u64 {
        let department = self
            .departments
            .iter()
            .find(|department| department.name == "Engineering")
            .or_else(|| self.departments.first())
            .map(|department| department.name.clone());
        let supervisor = self
            .employees
            .iter()
            .find(|employee| employee.department == department && employee.status != "inactive")
            .map(|employee| employee.id);
        let office = self.offices.first().map(|office| office.name.clone());
        let cost_centers = self
            .cost_centers
            .first()
            .map(|center| CostCenterShare {
                name: center.name.clone(),
                percentage: 100,
            })
            .into_iter()
            .collect();
        let taken: HashSet<&str> = self.employees.iter().map(|e| e.email.as_str()).collect();
        let email = unique_email(first_name, last_name, &self.domain, |candidate| {
            taken.contains(candidate)
        });
        let status = if hire_date > self.today {
            "onboarding"
        } else {
            "active"
        };
        let created_at = self.today.and_hms_opt(9, 30, 0).unwrap_or_default();
        let employee = FakeEmployee {
            id: 0,
            first_name: first_name.to_owned(),
            last_name: last_name.to_owned(),
            preferred_name: format!("{first_name} {last_name}"),
            email,
            gender: "diverse".to_owned(),
            status: status.to_owned(),
            position: "Software Engineer".to_owned(),
            employment_type: "internal".to_owned(),
            weekly_working_hours: "40".to_owned(),
            hire_date,
            contract_end_date: None,
            termination_date: None,
            termination_type: None,
            termination_reason: None,
            last_working_day: None,
            probation_period_end: hire_date.checked_add_months(chrono::Months::new(6)),
            created_at,
            last_modified_at: created_at,
            supervisor,
            department,
            office,
            team: None,
            subcompany: self.subcompanies.first().map(|unit| unit.name.clone()),
            cost_centers,
            fix_salary: Some(5000),
            profile_picture: false,
            picture_version: 0,
            custom: BTreeMap::new(),
            empty_style: EmptyStyle::Null,
            offset_style: OffsetStyle::Colon,
        };
        self.add_employee(employee)
    }

    /// Removes a person and returns them. Nobody else changes: people they supervised keep a
    /// supervisor id that no longer resolves, which a sync engine must report, not guess.
    pub fn remove(&mut self, id: u64) -> Option<FakeEmployee> {
        let index = self
            .employees
            .iter()
            .position(|employee| employee.id == id)?;
        Some(self.employees.remove(index))
    }

    /// The office with this name.
    pub fn office(&self, name: &str) -> Option<&Office> {
        self.offices.iter().find(|office| office.name == name)
    }
}

/// `first.last@domain`, lower case and ASCII, with a number appended (`first.last2@…`) when the
/// plain form is taken.
pub(crate) fn unique_email(
    first_name: &str,
    last_name: &str,
    domain: &str,
    is_taken: impl Fn(&str) -> bool,
) -> String {
    let local = format!("{}.{}", email_part(first_name), email_part(last_name));
    let plain = format!("{local}@{domain}");
    if !is_taken(&plain) {
        return plain;
    }
    (2u32..)
        .map(|n| format!("{local}{n}@{domain}"))
        .find(|candidate| !is_taken(candidate))
        .unwrap_or(plain)
}

/// A name as it appears in an email address: lower-case ASCII letters and digits, with German and
/// other European letters transliterated (`Müller` → `mueller`, `O'Brien` → `obrien`).
pub(crate) fn email_part(name: &str) -> String {
    let mut part = String::with_capacity(name.len());
    for letter in name.chars().flat_map(char::to_lowercase) {
        match letter {
            'ä' => part.push_str("ae"),
            'ö' => part.push_str("oe"),
            'ü' => part.push_str("ue"),
            'ß' => part.push_str("ss"),
            'á' | 'à' | 'â' | 'å' => part.push('a'),
            'é' | 'è' | 'ê' | 'ë' => part.push('e'),
            'í' | 'ì' | 'î' | 'ï' => part.push('i'),
            'ó' | 'ò' | 'ô' | 'ø' => part.push('o'),
            'ú' | 'ù' | 'û' => part.push('u'),
            'ñ' | 'ń' => part.push('n'),
            'ç' | 'ć' => part.push('c'),
            'ł' => part.push('l'),
            'ś' => part.push('s'),
            'ź' | 'ż' => part.push('z'),
            'ę' => part.push('e'),
            'ą' => part.push('a'),
            'ı' => part.push('i'),
            letter if letter.is_ascii_alphanumeric() => part.push(letter),
            _ => {}
        }
    }
    part
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::generate::{generate_company, CompanySpec};

    fn small_company() -> Company {
        generate_company(&CompanySpec {
            employees: 40,
            seed: 7,
            today: NaiveDate::from_ymd_opt(2025, 3, 14).expect("valid date"),
        })
    }

    #[test]
    fn email_parts_are_transliterated_ascii() {
        assert_eq!(email_part("Jürgen"), "juergen");
        assert_eq!(email_part("O'Brien"), "obrien");
        assert_eq!(email_part("van der Berg"), "vanderberg");
        assert_eq!(email_part("José"), "jose");
    }

    #[test]
    fn a_taken_email_gets_a_number() {
        let taken: HashSet<&str> = ["ana.lopez@x.example", "ana.lopez2@x.example"].into();
        assert_eq!(
            unique_email("Ana", "López", "x.example", |c| taken.contains(c)),
            "ana.lopez3@x.example"
        );
    }

    #[test]
    fn new_hire_in_the_future_is_onboarding_with_the_next_id() {
        let mut company = small_company();
        let expected_id = company.next_id();
        let hire_date = company.today + chrono::Duration::days(10);
        let id = company.new_hire("Nora", "Neumann", hire_date);
        assert_eq!(id, expected_id);
        let hire = company.employee(id).expect("hired");
        assert_eq!(hire.status, "onboarding");
        assert!(hire.supervisor.is_some());
        assert!(company.employees.windows(2).all(|w| w[0].id < w[1].id));
    }

    #[test]
    fn added_employee_with_a_low_id_keeps_the_order() {
        let mut company = small_company();
        let mut person = company.employees[3].clone();
        person.id = 5;
        person.email = "low.id@x.example".to_owned();
        assert_eq!(company.add_employee(person), 5);
        assert_eq!(company.employees[0].id, 5);
    }

    #[test]
    fn employee_mut_moves_last_modified_forward() {
        let mut company = small_company();
        let id = company.employees[5].id;
        let before = company.employees[5].last_modified_at;
        company.employee_mut(id).expect("exists").position = "Mover".to_owned();
        assert!(company.employee(id).expect("exists").last_modified_at > before);
    }

    #[test]
    fn remove_leaves_reports_with_a_dangling_supervisor() {
        let mut company = small_company();
        // The CEO supervises the department heads.
        let head = company.employees[0].id;
        let removed = company.remove(head).expect("exists");
        assert_eq!(removed.id, head);
        assert!(company.employee(head).is_none());
        assert!(company
            .employees
            .iter()
            .any(|employee| employee.supervisor == Some(head)));
    }
}
