//! Adding a person to Personio (Josys's "add a user account"): what an admin enters, checked
//! against what the tenant allows (`[add_person]`) before anything is sent, and the body of
//! `POST /v1/company/employees` (personio-api.md §1.6). The next run links the new person as
//! usual.

use crate::config::{is_custom_key, AddPersonConfig};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

/// A person to add, as an admin entered them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewEmployee {
    /// The work email; Personio requires it and cannot change it later.
    pub email: String,
    /// First name.
    pub first_name: String,
    /// Last name.
    pub last_name: String,
    /// Further attributes by key (`position`, `hire_date`, `dynamic_40010`), as text.
    #[serde(default)]
    pub attributes: BTreeMap<String, String>,
}

impl NewEmployee {
    /// Every problem with it under `config`, each naming the field; empty when it may be sent.
    pub fn problems(&self, config: &AddPersonConfig) -> Vec<String> {
        let mut problems = Vec::new();
        let email = self.email.trim();
        let valid_email = email.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty() && domain.contains('.') && !domain.contains('@')
        }) && !email.contains(char::is_whitespace);
        if !valid_email {
            problems.push("email: give a work email like jane.doe@example.com".to_owned());
        }
        for (field, value) in [
            ("first_name", &self.first_name),
            ("last_name", &self.last_name),
        ] {
            if value.trim().is_empty() {
                problems.push(format!("{field}: must not be empty"));
            }
        }
        for (key, value) in &self.attributes {
            if !config.attributes.contains(key) {
                problems.push(format!(
                    "{key}: this tenant does not allow setting it when adding a person (allowed: {})",
                    config.attributes.join(", ")
                ));
                continue;
            }
            if let Some(problem) = value_problem(key, value.trim()) {
                problems.push(format!("{key}: {problem}"));
            }
        }
        problems
    }

    /// The JSON body of `POST /v1/company/employees`: `{"employee": {…}}`, custom attributes under
    /// `custom_attributes`, numbers as numbers.
    pub fn body(&self) -> Value {
        let mut employee = Map::new();
        employee.insert("email".into(), json!(self.email.trim()));
        employee.insert("first_name".into(), json!(self.first_name.trim()));
        employee.insert("last_name".into(), json!(self.last_name.trim()));
        let mut custom = Map::new();
        for (key, value) in &self.attributes {
            let value = value.trim();
            if is_custom_key(key) {
                custom.insert(key.clone(), json!(value));
                continue;
            }
            let typed = match key.as_str() {
                "supervisor_id" => value.parse::<u64>().map(|id| json!(id)).ok(),
                "weekly_working_hours" => value.parse::<f64>().map(|hours| json!(hours)).ok(),
                _ => None,
            };
            employee.insert(key.clone(), typed.unwrap_or_else(|| json!(value)));
        }
        if !custom.is_empty() {
            employee.insert("custom_attributes".into(), Value::Object(custom));
        }
        json!({ "employee": employee })
    }
}

/// What is wrong with `value` for standard attribute `key`, if anything.
fn value_problem(key: &str, value: &str) -> Option<String> {
    let one_of = |allowed: &[&str]| {
        (!allowed.contains(&value)).then(|| format!("must be one of {}", allowed.join(", ")))
    };
    match key {
        "hire_date" => chrono::NaiveDate::parse_from_str(value, "%Y-%m-%d")
            .is_err()
            .then(|| "must be a date like 2026-12-01".to_owned()),
        "gender" => one_of(&["male", "female", "diverse"]),
        "status" => one_of(&["onboarding", "active", "leave", "inactive"]),
        "supervisor_id" => value
            .parse::<u64>()
            .is_err()
            .then(|| "must be a Personio employee id (a number)".to_owned()),
        "weekly_working_hours" => (!value
            .parse::<f64>()
            .is_ok_and(|hours| (0.0..=168.0).contains(&hours)))
        .then(|| "must be a number of hours between 0 and 168".to_owned()),
        _ if value.is_empty() => Some("must not be empty (leave it out instead)".to_owned()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn person(attributes: &[(&str, &str)]) -> NewEmployee {
        NewEmployee {
            email: "jane.doe@example.com".into(),
            first_name: "Jane".into(),
            last_name: "Doe".into(),
            attributes: attributes
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        }
    }

    #[test]
    fn a_valid_person_becomes_personios_body_with_custom_attributes_apart() {
        let config = AddPersonConfig {
            attributes: vec![
                "hire_date".into(),
                "supervisor_id".into(),
                "dynamic_7".into(),
            ],
        };
        let new = person(&[
            ("hire_date", "2026-12-01"),
            ("supervisor_id", "1003"),
            ("dynamic_7", "L"),
        ]);
        assert!(
            new.problems(&config).is_empty(),
            "{:?}",
            new.problems(&config)
        );
        assert_eq!(
            new.body(),
            json!({"employee": {
                "email": "jane.doe@example.com", "first_name": "Jane", "last_name": "Doe",
                "hire_date": "2026-12-01", "supervisor_id": 1003,
                "custom_attributes": {"dynamic_7": "L"},
            }})
        );
    }

    #[test]
    fn every_problem_is_named_before_anything_is_sent() {
        let mut new = person(&[("hire_date", "1 Dec"), ("salary", "1"), ("position", "")]);
        new.email = "jane".into();
        new.last_name = " ".into();
        let problems = new.problems(&AddPersonConfig::default());
        assert_eq!(problems.len(), 5, "{problems:?}");
        for field in ["email", "last_name", "hire_date", "salary", "position"] {
            assert!(
                problems.iter().any(|p| p.starts_with(&format!("{field}:"))),
                "{field}: {problems:?}"
            );
        }
    }
}
