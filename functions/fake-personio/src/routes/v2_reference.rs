//! v2 reference data (personio-api.md §2.7): the names behind the ids of an employment. Org
//! units one by one (`GET /v2/org-units/{id}`), legal entities, workplaces and cost centers as
//! cursor-paged lists, from the company's org structure with the ids v1 renders.

use super::json_response;
use super::v2::{bad_request, not_found};
use super::v2_admit::admit;
use super::v2_paging::{links, Limits, PageRequest};
use crate::company::{Company, OrgUnit};
use crate::server::Shared;
use crate::throttle::Family;
use axum::extract::{Path, Query};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::Response;
use serde_json::{json, Value};
use std::sync::Arc;

type SharedState = axum::extract::State<Arc<Shared>>;

/// Legal entities: 1-100, default 20 (listlegalentities).
const LEGAL_ENTITY_LIMITS: Limits = Limits {
    default: 20,
    max: 100,
};
/// Workplaces and cost centers: v2's common pagination, 1-200, default 100.
const COMMON_LIMITS: Limits = Limits {
    default: 100,
    max: 200,
};

/// The ISO country of a legal entity, from its legal form (the fake's entities have none stored).
fn country(name: &str) -> Option<&'static str> {
    let forms = [
        ("GmbH", "DE"),
        ("AG", "DE"),
        ("Ltd", "GB"),
        ("S.L.", "ES"),
        ("B.V.", "NL"),
    ];
    forms
        .iter()
        .find(|(form, _)| name.ends_with(form))
        .map(|(_, country)| *country)
}

fn legal_entity(unit: &OrgUnit) -> Value {
    json!({ "id": unit.id.to_string(), "name": unit.name, "country": country(&unit.name) })
}

fn id_name(id: u64, name: &str) -> Value {
    json!({ "id": id.to_string(), "name": name })
}

#[derive(serde::Deserialize)]
pub(super) struct OrgUnitQuery {
    #[serde(rename = "type")]
    kind: Option<String>,
}

/// `GET /v2/org-units/{id}?type=department|team` → `{"id", "type", "name"}`. Without `type`
/// both kinds are searched (their ids do not overlap).
pub(super) async fn org_unit(
    axum::extract::State(shared): SharedState,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(query): Query<OrgUnitQuery>,
) -> Response {
    let admitted = match admit(&shared, &headers, Family::Reference).await {
        Ok(admitted) => admitted,
        Err(response) => return *response,
    };
    let kinds: &[&str] = match query.kind.as_deref() {
        None => &["department", "team"],
        Some("department") => &["department"],
        Some("team") => &["team"],
        Some(_) => return admitted.finish(bad_request("type must be department or team.")),
    };
    let state = shared.lock();
    let company = &state.company;
    let found = id.trim().parse::<u64>().ok().and_then(|id| {
        kinds.iter().find_map(|kind| {
            let units = match *kind {
                "department" => &company.departments,
                _ => &company.teams,
            };
            let unit = units.iter().find(|unit| unit.id == id)?;
            Some(json!({ "id": unit.id.to_string(), "type": kind, "name": unit.name }))
        })
    });
    drop(state);
    let response = match found {
        Some(body) => json_response(StatusCode::OK, body.to_string().into_bytes()),
        None => not_found(),
    };
    admitted.finish(response)
}

/// `GET /v2/legal-entities/{id}` → the bare legal entity.
pub(super) async fn legal_entity_by_id(
    axum::extract::State(shared): SharedState,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let admitted = match admit(&shared, &headers, Family::Reference).await {
        Ok(admitted) => admitted,
        Err(response) => return *response,
    };
    let state = shared.lock();
    let found = id
        .trim()
        .parse::<u64>()
        .ok()
        .and_then(|id| state.company.subcompanies.iter().find(|unit| unit.id == id))
        .map(legal_entity);
    drop(state);
    let response = match found {
        Some(body) => json_response(StatusCode::OK, body.to_string().into_bytes()),
        None => not_found(),
    };
    admitted.finish(response)
}

/// The three reference lists.
#[derive(Clone, Copy)]
enum List {
    LegalEntities,
    Workplaces,
    CostCenters,
}

impl List {
    fn name(self) -> &'static str {
        match self {
            Self::LegalEntities => "legal-entities",
            Self::Workplaces => "workplaces",
            Self::CostCenters => "cost-centers",
        }
    }

    fn limits(self) -> Limits {
        match self {
            Self::LegalEntities => LEGAL_ENTITY_LIMITS,
            _ => COMMON_LIMITS,
        }
    }

    /// Every item with its id, ordered by id.
    fn items(self, company: &Company) -> Vec<(u64, Value)> {
        let mut items: Vec<(u64, Value)> = match self {
            Self::LegalEntities => company
                .subcompanies
                .iter()
                .map(|unit| (unit.id, legal_entity(unit)))
                .collect(),
            Self::Workplaces => company
                .offices
                .iter()
                .map(|office| (office.id, id_name(office.id, &office.name)))
                .collect(),
            Self::CostCenters => company
                .cost_centers
                .iter()
                .map(|unit| (unit.id, id_name(unit.id, &unit.name)))
                .collect(),
        };
        items.sort_by_key(|(id, _)| *id);
        items
    }
}

/// `GET /v2/legal-entities`.
pub(super) async fn legal_entities(
    state: SharedState,
    headers: HeaderMap,
    uri: Uri,
    query: Query<Vec<(String, String)>>,
) -> Response {
    list(state, headers, uri, query, List::LegalEntities).await
}

/// `GET /v2/workplaces`.
pub(super) async fn workplaces(
    state: SharedState,
    headers: HeaderMap,
    uri: Uri,
    query: Query<Vec<(String, String)>>,
) -> Response {
    list(state, headers, uri, query, List::Workplaces).await
}

/// `GET /v2/cost-centers`.
pub(super) async fn cost_centers(
    state: SharedState,
    headers: HeaderMap,
    uri: Uri,
    query: Query<Vec<(String, String)>>,
) -> Response {
    list(state, headers, uri, query, List::CostCenters).await
}

/// One page of a reference list, filtered by `id` (a comma list) when given.
async fn list(
    axum::extract::State(shared): SharedState,
    headers: HeaderMap,
    uri: Uri,
    Query(pairs): Query<Vec<(String, String)>>,
    list: List,
) -> Response {
    let admitted = match admit(&shared, &headers, Family::Reference).await {
        Ok(admitted) => admitted,
        Err(response) => return *response,
    };
    let request = match PageRequest::parse(
        &pairs,
        list.name(),
        list.limits(),
        &["id"],
        shared.cursor_key,
    ) {
        Ok(request) => request,
        Err(response) => return admitted.finish(*response),
    };
    let wanted: Option<Vec<&str>> = request
        .filter("id")
        .map(|ids| ids.split(',').map(str::trim).collect());
    let items = list.items(&shared.lock().company);
    let selected = items.iter().filter(|(id, _)| {
        wanted
            .as_ref()
            .is_none_or(|wanted| wanted.contains(&id.to_string().as_str()))
    });
    let (page, next) = request.page(selected, |(id, _)| *id);
    let path = format!("/v2/{}", list.name());
    let self_href = uri.path_and_query().map_or(path.as_str(), |p| p.as_str());
    let meta = links(
        &shared.base_url,
        &path,
        self_href,
        next.as_ref(),
        shared.cursor_key,
    );
    let data: Vec<&Value> = page.into_iter().map(|(_, item)| item).collect();
    let body = json!({ "_data": data, "_meta": meta });
    admitted.finish(json_response(StatusCode::OK, body.to_string().into_bytes()))
}
