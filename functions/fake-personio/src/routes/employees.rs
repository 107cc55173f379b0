//! `GET /v1/company/employees` (offset paging, filters, projection), a single employee, the
//! attribute catalogue and profile pictures (personio-api.md §1.3, §1.6-1.8).

use super::{json_response, server_error, v1_error, with_token};
use crate::catalog::{attribute_list, KeyFilter};
use crate::company::FakeEmployee;
use crate::fault::apply_shift;
use crate::render::{list_body, single_body, Metadata, RenderContext};
use crate::server::{Shared, State, Stats};
use axum::extract::{Path, Query};
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{NaiveDate, NaiveDateTime};
use std::sync::Arc;

type SharedState = axum::extract::State<Arc<Shared>>;

/// Page size without a `limit` since Personio's pagination enforcement of 2025-01-31.
const DEFAULT_LIMIT: usize = 50;
/// Larger limits are cut to this.
const MAX_LIMIT: usize = 100;
/// Personio's (German, trailing space included) 404 message.
const NOT_FOUND: &str = "Es ist ein Problem aufgetreten ";

/// The list endpoint's query parameters.
#[derive(Debug, PartialEq)]
struct ListQuery {
    limit: usize,
    offset: usize,
    email: Option<String>,
    updated_since: Option<NaiveDateTime>,
    attributes: Vec<String>,
}

impl ListQuery {
    /// Parses the parameters; the error is the 422 message.
    fn parse(pairs: &[(String, String)]) -> Result<Self, &'static str> {
        let mut query = ListQuery {
            limit: DEFAULT_LIMIT,
            offset: 0,
            email: None,
            updated_since: None,
            attributes: Vec::new(),
        };
        for (name, value) in pairs {
            match name.as_str() {
                "limit" => {
                    let limit: i64 = value
                        .trim()
                        .parse()
                        .map_err(|_| "The limit must be a whole number")?;
                    if limit < 1 {
                        return Err("The limit must be at least 1");
                    }
                    query.limit = usize::try_from(limit).unwrap_or(MAX_LIMIT).min(MAX_LIMIT);
                }
                "offset" => {
                    query.offset = value
                        .trim()
                        .parse()
                        .map_err(|_| "The offset must be a whole number of at least 0")?;
                }
                "email" => query.email = Some(value.trim().to_lowercase()),
                "updated_since" => {
                    query.updated_since = Some(parse_since(value).ok_or(
                        "updated_since must be an ISO 8601 date (2022-12-24) or date-time (2022-12-24T08:15:30)",
                    )?);
                }
                "attributes[]" | "attributes" => query.attributes.push(value.clone()),
                _ => {}
            }
        }
        Ok(query)
    }

    /// Whether a person is selected. The spec says `email` is ignored with `updated_since`.
    fn selects(&self, employee: &FakeEmployee) -> bool {
        match (&self.updated_since, &self.email) {
            (Some(since), _) => employee.last_modified_at > *since,
            (None, Some(email)) => employee.email.eq_ignore_ascii_case(email),
            (None, None) => true,
        }
    }
}

fn parse_since(value: &str) -> Option<NaiveDateTime> {
    let value = value.trim();
    NaiveDateTime::parse_from_str(value, "%Y-%m-%dT%H:%M:%S")
        .ok()
        .or_else(|| {
            NaiveDate::parse_from_str(value, "%Y-%m-%d")
                .ok()
                .map(|day| day.and_time(chrono::NaiveTime::MIN))
        })
}

/// Counts an employee request (`count`) and checks its token and the rate limit on arrival, as
/// a gateway does: a 401 or 429 is answered at once. Then waits out a
/// [`crate::fault::Fault::Slow`], and gives the token.
async fn admit(
    shared: &Shared,
    headers: &HeaderMap,
    count: fn(&mut Stats),
) -> Result<String, Box<Response>> {
    let (token, delay) = {
        let mut state = shared.lock();
        count(&mut state.stats);
        let token = state
            .authorize(headers)
            .map_err(|error| Box::new(error.into_response()))?;
        if let Some(response) = state.throttle() {
            return Err(Box::new(response));
        }
        (token, state.faults.delay())
    };
    if let Some(delay) = delay {
        tokio::time::sleep(delay).await;
    }
    Ok(token)
}

/// `GET /v1/company/employees`.
pub(super) async fn list(
    axum::extract::State(shared): SharedState,
    headers: HeaderMap,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Response {
    let token = match admit(&shared, &headers, |stats| stats.list_requests += 1).await {
        Ok(token) => token,
        Err(response) => return *response,
    };
    let mut state = shared.lock();
    let query = match ListQuery::parse(&pairs) {
        Ok(query) => query,
        Err(message) => return v1_error(StatusCode::UNPROCESSABLE_ENTITY, message),
    };
    if let Some(status) = state.faults.take_server_error(query.offset) {
        if status >= 500 {
            state.stats.server_errors += 1;
        }
        return server_error(status);
    }
    if let Some(shift) = state.faults.take_shift() {
        let changed = apply_shift(&mut state.company, shift);
        tracing::debug!(
            ?shift,
            ?changed,
            "fake Personio shifted people during paging"
        );
    }
    let mut body = render_page(&state, &query, &shared.base_url);
    state.faults.page_served();
    if state.faults.take_malformed(query.offset) {
        // Half of a JSON object is never valid JSON: the closing braces are gone.
        body.truncate(body.len() / 2);
    }
    drop(state);
    with_token(json_response(StatusCode::OK, body), &token)
}

/// One page of the list, rendered under the lock: about as cheap as copying the people out.
fn render_page(state: &State, query: &ListQuery, base_url: &str) -> Vec<u8> {
    let context = RenderContext {
        company: &state.company,
        base_url,
        filter: KeyFilter {
            whitelist: state.config.whitelist.as_ref(),
            projection: Some(&query.attributes),
        },
    };
    let everyone: &[FakeEmployee] = if state.faults.empty_list() {
        &[]
    } else {
        &state.company.employees
    };
    let filtered = query.email.is_some() || query.updated_since.is_some();
    let (total, page): (usize, Vec<&FakeEmployee>) = if filtered {
        let selected = || everyone.iter().filter(|employee| query.selects(employee));
        let page = selected().skip(query.offset).take(query.limit).collect();
        (selected().count(), page)
    } else {
        let page = everyone
            .get(query.offset..)
            .unwrap_or_default()
            .iter()
            .take(query.limit)
            .collect();
        (everyone.len(), page)
    };
    let metadata = Metadata {
        total_elements: total,
        current_page: query.offset / query.limit,
        total_pages: total.div_ceil(query.limit),
    };
    list_body(context, metadata, query.offset, query.limit, &page)
}

/// `GET /v1/company/employees/{id}`.
pub(super) async fn single(
    axum::extract::State(shared): SharedState,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let token = match admit(&shared, &headers, |stats| stats.single_requests += 1).await {
        Ok(token) => token,
        Err(response) => return *response,
    };
    let state = shared.lock();
    let Some(employee) = id
        .parse::<u64>()
        .ok()
        .and_then(|id| state.company.employee(id))
    else {
        return v1_error(StatusCode::NOT_FOUND, NOT_FOUND);
    };
    let context = RenderContext {
        company: &state.company,
        base_url: &shared.base_url,
        filter: KeyFilter {
            whitelist: state.config.whitelist.as_ref(),
            projection: None,
        },
    };
    let body = single_body(context, employee);
    drop(state);
    with_token(json_response(StatusCode::OK, body), &token)
}

/// `GET /v1/company/employees/attributes` and its alias `/custom-attributes`.
pub(super) async fn attributes(
    axum::extract::State(shared): SharedState,
    headers: HeaderMap,
) -> Response {
    let mut state = shared.lock();
    state.stats.attribute_requests += 1;
    let token = match state.authorize(&headers) {
        Ok(token) => token,
        Err(error) => return error.into_response(),
    };
    let body = attribute_list(&state.company, state.config.whitelist.as_ref());
    drop(state);
    with_token(json_response(StatusCode::OK, body), &token)
}

/// `GET /v1/company/employees/{id}/profile-picture[/{width}]`: a PNG, or 404 when the person does
/// not exist, has no picture or the attribute is not readable (spec). Image responses carry no
/// token header, as personio-py observes.
pub(super) async fn picture(
    axum::extract::State(shared): SharedState,
    headers: HeaderMap,
    Path(params): Path<Vec<(String, String)>>,
) -> Response {
    let mut state = shared.lock();
    state.stats.picture_requests += 1;
    if let Err(error) = state.authorize(&headers) {
        return error.into_response();
    }
    let id = params
        .iter()
        .find(|(name, _)| name == "id")
        .and_then(|(_, value)| value.parse::<u64>().ok());
    let readable = KeyFilter {
        whitelist: state.config.whitelist.as_ref(),
        projection: None,
    }
    .allows("profile_picture");
    let picture = id
        .and_then(|id| state.company.employee(id))
        .filter(|employee| employee.profile_picture && !state.faults.picture_missing(employee.id))
        .map(|employee| crate::profile_picture_png(employee.id, employee.picture_version));
    drop(state);
    let Some(picture) = picture.filter(|_| readable) else {
        return v1_error(StatusCode::NOT_FOUND, "Etwas ist schiefgelaufen ...");
    };
    (
        [(CONTENT_TYPE, HeaderValue::from_static("image/png"))],
        picture,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(query: &[(&str, &str)]) -> Result<ListQuery, &'static str> {
        let pairs: Vec<(String, String)> = query
            .iter()
            .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
            .collect();
        ListQuery::parse(&pairs)
    }

    #[test]
    fn no_parameters_mean_the_first_50() {
        let query = parse(&[]).expect("valid");
        assert_eq!((query.limit, query.offset), (50, 0));
    }

    #[test]
    fn a_limit_above_100_is_cut_to_100() {
        assert_eq!(parse(&[("limit", "200")]).expect("valid").limit, 100);
    }

    #[test]
    fn a_limit_below_1_or_a_negative_offset_is_refused() {
        assert!(parse(&[("limit", "0")]).is_err());
        assert!(parse(&[("limit", "ten")]).is_err());
        assert!(parse(&[("offset", "-1")]).is_err());
    }

    #[test]
    fn repeated_attributes_are_collected() {
        let query = parse(&[("attributes[]", "email"), ("attributes[]", "status")]).expect("valid");
        assert_eq!(query.attributes, ["email", "status"]);
    }

    #[test]
    fn updated_since_takes_a_date_or_a_date_time() {
        let day = parse(&[("updated_since", "2022-12-24")]).expect("valid");
        let moment = parse(&[("updated_since", "2022-12-24T08:15:30")]).expect("valid");
        assert!(day.updated_since < moment.updated_since);
        assert!(parse(&[("updated_since", "yesterday")]).is_err());
    }
}
