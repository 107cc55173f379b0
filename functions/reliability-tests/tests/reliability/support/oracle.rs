//! An oracle independent of the engine: what the app must hold, computed from the fake Personio's
//! data by a small model written for the test, not by running the engine a second time (the
//! reference run could share a defect with the run it checks).
//!
//! The model covers the people whose fate the default config (pre-hires created 7 days ahead)
//! leaves no doubt about, with a day of margin around every date (time zones); the rest are left
//! to the reference comparison:
//! - employed now (`active` or on `leave`, hired a day ago or earlier, no termination, or one more than a day
//!   ahead: a notice period; no last working day or contract end within a day): an active user
//!   with the Personio email as `userName` and first and last name as given and family name;
//! - a pre-hire (starting in 2 to 5 days, not terminated): a user with those fields, inactive;
//! - not yet (starting more than 8 days ahead): no active user;
//! - gone (`inactive` and terminated more than a day ago, or no longer in Personio at all): no
//!   active user.

use super::view::AppView;
use chrono::{Days, NaiveDate};
use fake_personio::{Company, FakeEmployee};
use std::collections::BTreeSet;
use sync_core::ids::{AccountId, PersonKey, PersonioId};

/// The `externalId` the app knows Personio person `id` of the main account by.
fn external_id(id: u64) -> String {
    PersonKey::new(AccountId::default(), PersonioId::new(id)).external_id()
}

fn within_a_day(date: Option<NaiveDate>, today: NaiveDate) -> bool {
    date.is_some_and(|date| date <= today + Days::new(1))
}

/// The default config's pre-hire window, in days.
const PRE_HIRE_DAYS: u64 = 7;

/// Clearly employed on `today`, a notice period included.
fn employed(person: &FakeEmployee, today: NaiveDate) -> bool {
    matches!(person.status.as_str(), "active" | "leave")
        && !person.email.is_empty()
        && person.hire_date + Days::new(1) <= today
        && !within_a_day(person.termination_date, today)
        && !within_a_day(person.last_working_day, today)
        && !within_a_day(person.contract_end_date, today)
}

/// Clearly a pre-hire on `today`: starting more than a day ahead, and more than a day inside the
/// pre-hire window.
fn pre_hire(person: &FakeEmployee, today: NaiveDate) -> bool {
    person.status != "inactive"
        && !person.email.is_empty()
        && person.termination_date.is_none()
        && person.hire_date > today + Days::new(1)
        && person.hire_date + Days::new(1) < today + Days::new(PRE_HIRE_DAYS)
}

/// Clearly not yet due a user on `today`: starting more than a day past the pre-hire window.
fn not_yet(person: &FakeEmployee, today: NaiveDate) -> bool {
    person.status != "inactive" && person.hire_date > today + Days::new(PRE_HIRE_DAYS + 1)
}

/// Clearly gone on `today`.
fn gone(person: &FakeEmployee, today: NaiveDate) -> bool {
    person.status == "inactive"
        && person
            .termination_date
            .is_some_and(|date| date + Days::new(1) < today)
}

/// What `after` holds that the model of `company` on `today` forbids.
pub fn violations(after: &AppView, company: &Company, today: NaiveDate) -> Vec<String> {
    let mut found = Vec::new();
    let mut in_personio = BTreeSet::new();
    for person in &company.employees {
        let key = external_id(person.id);
        in_personio.insert(key.clone());
        let user = after.users.get(&key);
        let (employed, pre_hire) = (employed(person, today), pre_hire(person, today));
        if employed || pre_hire {
            let what = if employed { "employed" } else { "a pre-hire" };
            let Some(user) = user else {
                found.push(format!("oracle: {key} is {what} and has no user"));
                continue;
            };
            if user.active != employed {
                found.push(format!(
                    "oracle: {key} is {what} and its user is {}",
                    if user.active { "active" } else { "inactive" }
                ));
            }
            if user.user_name != person.email.to_lowercase() {
                found.push(format!(
                    "oracle: {key}'s userName is not its Personio email"
                ));
            }
            for (field, want) in [
                ("given_name", &person.first_name),
                ("family_name", &person.last_name),
            ] {
                if user.fields.get(field).map(String::as_str) != Some(want.as_str()) {
                    found.push(format!("oracle: {key}'s {field} is not its Personio value"));
                }
            }
        } else if gone(person, today) && user.is_some_and(|user| user.active) {
            found.push(format!(
                "oracle: {key} left Personio's company and is still active"
            ));
        } else if not_yet(person, today) && user.is_some_and(|user| user.active) {
            found.push(format!(
                "oracle: {key} starts more than a week ahead and already has an active user"
            ));
        }
    }
    for (key, user) in &after.users {
        if user.active && !in_personio.contains(key) {
            found.push(format!(
                "oracle: {key} is no longer in Personio and is still active"
            ));
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::support::view::UserView;
    use fake_personio::{generate_company, CompanySpec};
    use std::collections::BTreeMap;

    fn user(person: &FakeEmployee, active: bool) -> UserView {
        UserView {
            user_name: person.email.to_lowercase(),
            active,
            fields: BTreeMap::from([
                ("given_name".to_owned(), person.first_name.clone()),
                ("family_name".to_owned(), person.last_name.clone()),
            ]),
            manager: None,
        }
    }

    /// The model as the engine should meet it, and each kind of departure it must catch.
    #[test]
    fn the_model_accepts_a_correct_app_and_names_each_kind_of_wrong_one() {
        let mut company = generate_company(&CompanySpec {
            employees: 60,
            seed: 7,
            today: test_support::personio::day(test_support::personio::TODAY),
        });
        let today = company.today;
        // Two leavers, as the scenarios' changes make them.
        for person in company.employees.iter_mut().take(2) {
            person.status = "inactive".into();
            person.termination_date = Some(today - Days::new(10));
        }
        // At the end of the list (the wrong apps below change people from its start): one
        // working out a notice period, one starting in 3 days, one in 20.
        let last = company.employees.len() - 1;
        let (notice, soon, later) = (
            company.employees[last].id,
            company.employees[last - 1].id,
            company.employees[last - 2].id,
        );
        for (index, person) in company.employees.iter_mut().enumerate().skip(last - 2) {
            person.status = "active".into();
            person.last_working_day = None;
            person.contract_end_date = None;
            match last - index {
                0 => {
                    person.termination_date = Some(today + Days::new(14));
                    person.hire_date = today - Days::new(400);
                }
                1 => {
                    person.termination_date = None;
                    person.hire_date = today + Days::new(3);
                }
                _ => {
                    person.termination_date = None;
                    person.hire_date = today + Days::new(20);
                }
            }
        }
        let employed: Vec<&FakeEmployee> = company
            .employees
            .iter()
            .filter(|p| super::employed(p, today))
            .collect();
        let gone: Vec<&FakeEmployee> = company
            .employees
            .iter()
            .filter(|p| super::gone(p, today))
            .collect();
        let pre_hires: Vec<&FakeEmployee> = company
            .employees
            .iter()
            .filter(|p| super::pre_hire(p, today))
            .collect();
        assert!(
            employed.len() > 10 && gone.len() == 2,
            "a company to test on"
        );
        assert!(employed.iter().any(|p| p.id == notice));
        assert!(pre_hires.iter().any(|p| p.id == soon));
        assert!(company
            .employees
            .iter()
            .any(|p| p.id == later && super::not_yet(p, today)));
        let mut app = AppView::default();
        for person in &employed {
            app.users.insert(external_id(person.id), user(person, true));
        }
        for person in gone.iter().chain(&pre_hires) {
            app.users
                .insert(external_id(person.id), user(person, false));
        }
        assert_eq!(violations(&app, &company, today), Vec::<String>::new());

        let mut wrong = app.clone();
        wrong.users.remove(&external_id(employed[0].id));
        wrong
            .users
            .get_mut(&external_id(employed[1].id))
            .unwrap()
            .active = false;
        wrong
            .users
            .get_mut(&external_id(employed[2].id))
            .unwrap()
            .user_name = "x@y".into();
        wrong
            .users
            .get_mut(&external_id(employed[3].id))
            .unwrap()
            .fields
            .insert("family_name".into(), "Other".into());
        wrong
            .users
            .get_mut(&external_id(gone[0].id))
            .unwrap()
            .active = true;
        wrong
            .users
            .insert(external_id(999_999), user(employed[4], true));
        // The notice period ended early, the pre-hire got access early, the later one has a user.
        wrong.users.get_mut(&external_id(notice)).unwrap().active = false;
        wrong.users.get_mut(&external_id(soon)).unwrap().active = true;
        let later_person = company.employees.iter().find(|p| p.id == later).unwrap();
        wrong
            .users
            .insert(external_id(later), user(later_person, true));
        let found = violations(&wrong, &company, today);
        assert_eq!(found.len(), 9, "{found:#?}");
    }
}
