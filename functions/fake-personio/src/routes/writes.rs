//! `POST /v1/company/employees` and `PATCH /v1/company/employees/{id}` (personio-api.md §1.6, the
//! official OpenAPI file's write endpoints): JSON `{"employee": {…}}`, custom attributes under
//! `custom_attributes`. A credential without the "Write" right gets 403
//! ([`crate::FakePersonio::set_write_access`]).
//!
//! Where the documents are silent, the fake is strict and says so in its message: an unknown
//! custom attribute key is a 422 (Personio's exact wording is unknown), as is an email already in
//! use. Departments, offices and legal entities that do not exist are ignored with a `meta`
//! message, as the spec documents.

use super::{json_response, v1_error, with_token};
use crate::server::{Shared, State};
use axum::body::Bytes;
use axum::extract::Path;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::NaiveDate;
use serde_json::{json, Map, Value};
use std::sync::Arc;

type SharedState = axum::extract::State<Arc<Shared>>;

/// The answer to send instead, boxed: a refusal is rare and a response is large.
type Refusal = Box<Response>;

/// The message of a write the credential may not make (the fake's wording).
const NO_WRITE: &str = "The API credentials do not have write access to employees";

/// Authorises a write; the token, or the answer to send.
fn authorize_write(state: &mut State, headers: &HeaderMap) -> Result<String, Refusal> {
    state.stats.write_requests += 1;
    let token = state
        .authorize(headers)
        .map_err(|error| Box::new(error.into_response()))?;
    if !state.write_access {
        return Err(Box::new(v1_error(StatusCode::FORBIDDEN, NO_WRITE)));
    }
    if let Some(response) = state.throttle() {
        return Err(Box::new(response));
    }
    Ok(token)
}

/// The `employee` object of a write's body, or the 422 to send.
fn employee_of(body: &Bytes) -> Result<Map<String, Value>, Refusal> {
    let parsed: Value = serde_json::from_slice(body).map_err(|_| {
        Box::new(v1_error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "The request body is not valid JSON",
        ))
    })?;
    match parsed.get("employee") {
        Some(Value::Object(employee)) => Ok(employee.clone()),
        _ => Err(Box::new(v1_error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "The employee object is required",
        ))),
    }
}

/// The custom attribute values of a write, checked against the company's definitions.
fn custom_values(
    state: &State,
    employee: &Map<String, Value>,
) -> Result<Vec<(String, Value)>, Refusal> {
    let Some(custom) = employee.get("custom_attributes") else {
        return Ok(Vec::new());
    };
    let Some(custom) = custom.as_object() else {
        return Err(Box::new(v1_error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "custom_attributes must be an object",
        )));
    };
    let mut values = Vec::new();
    for (key, value) in custom {
        let defined = state
            .company
            .custom_attributes
            .iter()
            .any(|attribute| &attribute.key == key);
        if !defined {
            return Err(Box::new(v1_error(
                StatusCode::UNPROCESSABLE_ENTITY,
                &format!("Attribute {key} does not exist"),
            )));
        }
        values.push((key.clone(), value.clone()));
    }
    Ok(values)
}

fn text<'a>(employee: &'a Map<String, Value>, key: &str) -> Option<&'a str> {
    employee
        .get(key)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|value| !value.is_empty())
}

/// `PATCH /v1/company/employees/{id}`: names, position and custom attributes; the email cannot
/// change (ignored, as documented).
pub(super) async fn update(
    axum::extract::State(shared): SharedState,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let mut state = shared.lock();
    let token = match authorize_write(&mut state, &headers) {
        Ok(token) => token,
        Err(response) => return *response,
    };
    let Some(id) = id
        .parse::<u64>()
        .ok()
        .filter(|id| state.company.employee(*id).is_some())
    else {
        return v1_error(StatusCode::NOT_FOUND, "Es ist ein Problem aufgetreten ");
    };
    let employee = match employee_of(&body) {
        Ok(employee) => employee,
        Err(response) => return *response,
    };
    let custom = match custom_values(&state, &employee) {
        Ok(custom) => custom,
        Err(response) => return *response,
    };
    let names = ["first_name", "last_name", "preferred_name", "position"];
    let changes = !custom.is_empty() || names.iter().any(|key| text(&employee, key).is_some());
    // An empty update changes nothing, not even the last-modified time.
    let person = if changes {
        state.company.employee_mut(id)
    } else {
        None
    };
    if let Some(person) = person {
        for (key, value) in custom {
            person.custom.insert(key, value);
        }
        for (key, field) in [
            ("first_name", &mut person.first_name),
            ("last_name", &mut person.last_name),
            ("preferred_name", &mut person.preferred_name),
            ("position", &mut person.position),
        ] {
            if let Some(value) = text(&employee, key) {
                *field = value.to_owned();
            }
        }
    }
    let body = json!({"success": true, "data": {"id": id}, "meta": []});
    with_token(
        json_response(StatusCode::OK, body.to_string().into_bytes()),
        &token,
    )
}

/// `POST /v1/company/employees`: email, first and last name required; the status follows the
/// hire date unless given.
pub(super) async fn create(
    axum::extract::State(shared): SharedState,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut state = shared.lock();
    let token = match authorize_write(&mut state, &headers) {
        Ok(token) => token,
        Err(response) => return *response,
    };
    let employee = match employee_of(&body) {
        Ok(employee) => employee,
        Err(response) => return *response,
    };
    for required in ["email", "first_name", "last_name"] {
        if text(&employee, required).is_none() {
            return v1_error(
                StatusCode::UNPROCESSABLE_ENTITY,
                &format!("The {required} field is required."),
            );
        }
    }
    let email = text(&employee, "email").unwrap_or_default().to_lowercase();
    if state
        .company
        .employees
        .iter()
        .any(|existing| existing.email.eq_ignore_ascii_case(&email))
    {
        return v1_error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "The email has already been taken.",
        );
    }
    let hire_date = match text(&employee, "hire_date") {
        None => state.company.today,
        Some(date) => match NaiveDate::parse_from_str(date, "%Y-%m-%d") {
            Ok(date) => date,
            Err(_) => {
                return v1_error(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "The hire date must be a date in the format yyyy-mm-dd",
                )
            }
        },
    };
    let custom = match custom_values(&state, &employee) {
        Ok(custom) => custom,
        Err(response) => return *response,
    };
    let first = text(&employee, "first_name").unwrap_or_default().to_owned();
    let last = text(&employee, "last_name").unwrap_or_default().to_owned();
    // Org units are set only when they exist in the company, as the spec says; the others are
    // ignored with a `meta` message.
    let company = &state.company;
    let mut meta = Vec::new();
    let mut unit = |key: &str, exists: &dyn Fn(&str) -> bool| match text(&employee, key) {
        Some(name) if exists(name) => Some(name.to_owned()),
        Some(name) => {
            meta.push(format!("{key} {name} does not exist and was ignored"));
            None
        }
        None => None,
    };
    let department = unit("department", &|name| {
        company.departments.iter().any(|u| u.name == name)
    });
    let office = unit("office", &|name| {
        company.offices.iter().any(|o| o.name == name)
    });
    let subcompany = unit("subcompany", &|name| {
        company.subcompanies.iter().any(|u| u.name == name)
    });
    let id = state.company.new_hire(&first, &last, hire_date);
    if let Some(person) = state.company.employee_mut(id) {
        person.email = email;
        person.preferred_name = text(&employee, "preferred_name")
            .unwrap_or_default()
            .to_owned();
        if let Some(position) = text(&employee, "position") {
            person.position = position.to_owned();
        }
        if let Some(gender) = text(&employee, "gender") {
            person.gender = gender.to_owned();
        }
        if let Some(status) = text(&employee, "status") {
            person.status = status.to_owned();
        }
        if let Some(supervisor) = employee.get("supervisor_id").and_then(Value::as_u64) {
            person.supervisor = Some(supervisor);
        }
        for (field, value) in [
            (&mut person.department, department),
            (&mut person.office, office),
            (&mut person.subcompany, subcompany),
        ] {
            if value.is_some() {
                *field = value;
            }
        }
        for (key, value) in custom {
            person.custom.insert(key, value);
        }
    }
    let body = json!({"success": true, "data": {"id": id, "message": "success"}, "meta": meta});
    with_token(
        json_response(StatusCode::OK, body.to_string().into_bytes()),
        &token,
    )
}
