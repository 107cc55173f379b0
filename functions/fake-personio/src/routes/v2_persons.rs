//! `GET /v2/persons` (cursor-paged, filtered), `GET /v2/persons/{id}` (personio-api.md §2.2)
//! and each person's one employment (§2.4), from the same company v1 serves.

use super::json_response;
use super::v2::{bad_request, not_found};
use super::v2_admit::admit;
use super::v2_paging::{links, PageRequest, PERSON_LIMITS};
use crate::company::FakeEmployee;
use crate::render::v2::{employment, employment_id, person, person_status, V2Context};
use crate::server::{Shared, State};
use crate::throttle::Family;
use axum::extract::{Path, Query};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::Response;
use chrono::{DateTime, NaiveDateTime};
use serde_json::json;
use std::sync::Arc;

type SharedState = axum::extract::State<Arc<Shared>>;

/// The filters the fake applies; a cursor carries them.
const FILTERS: &[&str] = &["id", "email", "updated_at.gt", "status"];
/// Filters Personio documents that the fake does not apply: refused rather than ignored, so a
/// client relying on one does not silently get everyone.
const UNSUPPORTED: &[&str] = &[
    "first_name",
    "last_name",
    "preferred_name",
    "created_at",
    "created_at.gt",
    "created_at.lt",
    "updated_at",
    "updated_at.lt",
];

/// Which people a list request selects (the filters are ANDed).
#[derive(Debug, Default)]
struct PersonFilter {
    ids: Option<Vec<String>>,
    emails: Option<Vec<String>>,
    updated_after: Option<NaiveDateTime>,
    status: Option<&'static str>,
}

impl PersonFilter {
    fn parse(request: &PageRequest) -> Result<Self, String> {
        let list = |value: &str, lower: bool| {
            value
                .split(',')
                .map(str::trim)
                .filter(|item| !item.is_empty())
                .map(|item| {
                    if lower {
                        item.to_lowercase()
                    } else {
                        item.to_owned()
                    }
                })
                .collect::<Vec<_>>()
        };
        let mut filter = Self {
            ids: request.filter("id").map(|ids| list(ids, false)),
            emails: request.filter("email").map(|emails| list(emails, true)),
            ..Self::default()
        };
        if let Some(moment) = request.filter("updated_at.gt") {
            // An unencoded `+` of the offset arrives as a space.
            let moment = moment.trim().replace(' ', "+");
            let parsed = DateTime::parse_from_rfc3339(&moment).map_err(|_| {
                format!("updated_at.gt must be an RFC 3339 date-time, not {moment:?}.")
            })?;
            filter.updated_after = Some(parsed.naive_utc());
        }
        if let Some(status) = request.filter("status") {
            filter.status = Some(match status.trim() {
                "ACTIVE" => "ACTIVE",
                "INACTIVE" => "INACTIVE",
                other => return Err(format!("status must be ACTIVE or INACTIVE, not {other:?}.")),
            });
        }
        Ok(filter)
    }

    fn selects(&self, employee: &FakeEmployee) -> bool {
        let id = employee.id.to_string();
        self.ids.as_ref().is_none_or(|ids| ids.contains(&id))
            && self.emails.as_ref().is_none_or(|emails| {
                emails
                    .iter()
                    .any(|email| email.eq_ignore_ascii_case(&employee.email))
            })
            // `last_modified_at` is read as UTC, as v2's `updated_at` renders it.
            && self
                .updated_after
                .is_none_or(|moment| employee.last_modified_at > moment)
            && self
                .status
                .is_none_or(|status| person_status(&employee.status) == status)
    }
}

pub(super) fn context<'a>(state: &'a State, shared: &'a Shared) -> V2Context<'a> {
    V2Context {
        company: &state.company,
        base_url: &shared.base_url,
        whitelist: state.config.whitelist.as_ref(),
    }
}

/// `GET /v2/persons`.
pub(super) async fn list(
    axum::extract::State(shared): SharedState,
    headers: HeaderMap,
    uri: Uri,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Response {
    let admitted = match admit(&shared, &headers, Family::Persons).await {
        Ok(admitted) => admitted,
        Err(response) => return *response,
    };
    admitted.finish(list_page(&shared, &uri, &pairs))
}

fn list_page(shared: &Shared, uri: &Uri, pairs: &[(String, String)]) -> Response {
    let resent_cursor = pairs.iter().any(|(name, _)| name == "cursor");
    if let Some((name, _)) = pairs
        .iter()
        .find(|(name, _)| !resent_cursor && UNSUPPORTED.contains(&name.as_str()))
    {
        return bad_request(&format!(
            "The fake Personio does not support the filter {name}."
        ));
    }
    let request =
        match PageRequest::parse(pairs, "persons", PERSON_LIMITS, FILTERS, shared.cursor_key) {
            Ok(request) => request,
            Err(response) => return *response,
        };
    let filter = match PersonFilter::parse(&request) {
        Ok(filter) => filter,
        Err(detail) => return bad_request(&detail),
    };
    let state = shared.lock();
    let selected = state
        .company
        .employees
        .iter()
        .filter(|employee| filter.selects(employee));
    let (page, next) = request.page(selected, |employee| employee.id);
    let context = context(&state, shared);
    let data: Vec<_> = page
        .into_iter()
        .map(|employee| person(context, employee))
        .collect();
    let self_href = uri.path_and_query().map_or("/v2/persons", |p| p.as_str());
    let meta = links(
        &shared.base_url,
        "/v2/persons",
        self_href,
        next.as_ref(),
        shared.cursor_key,
    );
    drop(state);
    let body = json!({ "_data": data, "_meta": meta });
    json_response(StatusCode::OK, body.to_string().into_bytes())
}

/// `GET /v2/persons/{id}`: the bare `Person`.
pub(super) async fn single(
    axum::extract::State(shared): SharedState,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let admitted = match admit(&shared, &headers, Family::Persons).await {
        Ok(admitted) => admitted,
        Err(response) => return *response,
    };
    let state = shared.lock();
    let response = match find(&state, &id) {
        Some(employee) => {
            let body = person(context(&state, &shared), employee);
            json_response(StatusCode::OK, body.to_string().into_bytes())
        }
        None => not_found(),
    };
    drop(state);
    admitted.finish(response)
}

/// The person with the id of a path, if any.
pub(super) fn find<'a>(state: &'a State, id: &str) -> Option<&'a FakeEmployee> {
    let id = id.trim().parse::<u64>().ok()?;
    state.company.employee(id)
}

/// `GET /v2/persons/{person_id}/employments`: the person's one employment in a list. `limit` is
/// checked like the persons list; one employment never needs a second page.
pub(super) async fn employments(
    axum::extract::State(shared): SharedState,
    headers: HeaderMap,
    uri: Uri,
    Path(person_id): Path<String>,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Response {
    let admitted = match admit(&shared, &headers, Family::Employments).await {
        Ok(admitted) => admitted,
        Err(response) => return *response,
    };
    let request = PageRequest::parse(&pairs, "employments", PERSON_LIMITS, &[], shared.cursor_key);
    if let Err(response) = request {
        return admitted.finish(*response);
    }
    let state = shared.lock();
    let response = match find(&state, &person_id) {
        Some(employee) => {
            let data = [employment(context(&state, &shared), employee)];
            let self_href = uri.path_and_query().map_or(uri.path(), |p| p.as_str());
            let path = uri.path();
            let meta = links(&shared.base_url, path, self_href, None, shared.cursor_key);
            let body = json!({ "_data": data, "_meta": meta });
            json_response(StatusCode::OK, body.to_string().into_bytes())
        }
        None => not_found(),
    };
    drop(state);
    admitted.finish(response)
}

/// `GET /v2/persons/{person_id}/employments/{id}`: the bare `Employment`.
pub(super) async fn single_employment(
    axum::extract::State(shared): SharedState,
    headers: HeaderMap,
    Path((person_id, id)): Path<(String, String)>,
) -> Response {
    let admitted = match admit(&shared, &headers, Family::Employments).await {
        Ok(admitted) => admitted,
        Err(response) => return *response,
    };
    let state = shared.lock();
    let found = find(&state, &person_id).filter(|employee| employment_id(employee.id) == id);
    let response = match found {
        Some(employee) => {
            let body = employment(context(&state, &shared), employee);
            json_response(StatusCode::OK, body.to_string().into_bytes())
        }
        None => not_found(),
    };
    drop(state);
    admitted.finish(response)
}
