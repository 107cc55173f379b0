//! The people page: the accounts the sync keeps (from the tenant's snapshot), searchable, and per
//! person what the recent runs did to them.

use crate::pages::render;
use crate::problem::Problem;
use crate::session;
use crate::text;
use crate::ConsoleDeps;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use sync_core::ids::PersonKey;
use sync_core::record::USER_NAME;
use sync_core::state::{LinkState, Snapshot};

/// People per page.
const PER_PAGE: usize = 100;
/// Runs searched for what happened to one person.
const RUNS_LOOKED_AT: usize = 10;

/// One account as a row.
struct PersonRow {
    person: String,
    name: String,
    user_name: String,
    app_user: String,
    status: &'static str,
    groups: String,
    hire_date: String,
}

fn status(state: LinkState) -> &'static str {
    match state {
        LinkState::Active => "Active",
        LinkState::PreHire => "Pre-hire (inactive until the hire date)",
        LinkState::Inactive => "Inactive",
    }
}

/// The group names each person is a member of.
fn groups_of(snapshot: &Snapshot) -> BTreeMap<&PersonKey, BTreeSet<Cow<'_, str>>> {
    let mut groups: BTreeMap<&PersonKey, BTreeSet<Cow<'_, str>>> = BTreeMap::new();
    for group in snapshot.groups.values() {
        for member in &group.members {
            groups
                .entry(member)
                .or_default()
                .insert(group.key.display_name());
        }
    }
    groups
}

fn rows(snapshot: &Snapshot) -> Vec<PersonRow> {
    let groups = groups_of(snapshot);
    snapshot
        .links
        .values()
        .map(|link| {
            let record = &link.record;
            let field = |name: &str| record.text(name).unwrap_or_default();
            PersonRow {
                person: link.key.external_id(),
                name: format!("{} {}", field("given_name"), field("family_name"))
                    .trim()
                    .to_owned(),
                user_name: field(USER_NAME),
                app_user: link.destination_id.as_str().to_owned(),
                status: status(link.state),
                groups: groups
                    .get(&link.key)
                    .map(|names| {
                        names
                            .iter()
                            .map(AsRef::as_ref)
                            .collect::<Vec<&str>>()
                            .join(", ")
                    })
                    .unwrap_or_default(),
                hire_date: field("hire_date"),
            }
        })
        .collect()
}

/// `?q=&page=`.
#[derive(serde::Deserialize, Default)]
pub struct PeopleQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    page: Option<usize>,
}

#[derive(Template)]
#[template(path = "people.html")]
struct People {
    tenant: String,
    q: String,
    total: usize,
    matching: usize,
    page: usize,
    pages: usize,
    people: Vec<PersonRow>,
}

/// `GET /tenants/{tenant}/people`.
pub async fn list(
    State(deps): State<Arc<ConsoleDeps>>,
    Path(tenant): Path<String>,
    Query(query): Query<PeopleQuery>,
    headers: HeaderMap,
) -> Result<Response, Problem> {
    let (grant, _) = session::check(&deps, &headers, &tenant).await?;
    let snapshot = deps
        .store
        .snapshot(&grant.tenant)
        .await
        .map_err(|_| Problem::Unavailable)?;
    let all = rows(&snapshot);
    let q = query.q.trim().to_lowercase();
    let matching: Vec<PersonRow> = all
        .into_iter()
        .filter(|row| {
            q.is_empty()
                || row.name.to_lowercase().contains(&q)
                || row.person.contains(&q)
                || row.user_name.to_lowercase().contains(&q)
        })
        .collect();
    let pages = matching.len().div_ceil(PER_PAGE).max(1);
    let page = query.page.unwrap_or(1).clamp(1, pages);
    let count = matching.len();
    render(&People {
        tenant: grant.tenant.to_string(),
        q: query.q,
        total: snapshot.links.len(),
        matching: count,
        page,
        pages,
        people: matching
            .into_iter()
            .skip((page - 1) * PER_PAGE)
            .take(PER_PAGE)
            .collect(),
    })
}

/// One thing a run did to the person.
struct History {
    run: String,
    started: String,
    action: String,
    reason: String,
    error: bool,
}

#[derive(Template)]
#[template(path = "person.html")]
struct Person {
    tenant: String,
    row: PersonRow,
    history: Vec<History>,
    runs_looked_at: usize,
}

/// `GET /tenants/{tenant}/people/{person}` (`account:id`).
pub async fn one(
    State(deps): State<Arc<ConsoleDeps>>,
    Path((tenant, person)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, Problem> {
    let (grant, _) = session::check(&deps, &headers, &tenant).await?;
    let tenant = grant.tenant;
    let key = PersonKey::from_external_id(&person).ok_or(Problem::NotFound("person"))?;
    let snapshot = deps
        .store
        .snapshot(&tenant)
        .await
        .map_err(|_| Problem::Unavailable)?;
    if !snapshot.links.contains_key(&key) {
        return Err(Problem::NotFound("person"));
    }
    let row = rows(&snapshot)
        .into_iter()
        .find(|row| row.person == key.external_id())
        .ok_or(Problem::NotFound("person"))?;
    let recent = deps
        .store
        .runs(&tenant, RUNS_LOOKED_AT)
        .await
        .map_err(|_| Problem::Unavailable)?;
    let mut history = Vec::new();
    for summary in &recent {
        // Summaries may leave the changes out (DynamoDB's run headers): read each run whole.
        let Some(run) = deps
            .store
            .run(&tenant, &summary.id)
            .await
            .map_err(|_| Problem::Unavailable)?
        else {
            continue;
        };
        let started = text::when(run.started_at);
        for change in run.changes.iter().filter(|change| change.person == key) {
            history.push(History {
                run: run.id.as_str().to_owned(),
                started: started.clone(),
                action: change.action.clone(),
                reason: change.reason.clone(),
                error: false,
            });
        }
        for error in run
            .errors
            .iter()
            .filter(|error| error.person.as_ref() == Some(&key))
        {
            history.push(History {
                run: run.id.as_str().to_owned(),
                started: started.clone(),
                action: error.action.clone(),
                reason: format!("{} — {}", error.message, error.hint),
                error: true,
            });
        }
    }
    render(&Person {
        tenant: tenant.to_string(),
        row,
        history,
        runs_looked_at: recent.len(),
    })
}
