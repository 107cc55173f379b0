//! Held rehires: `POST /tenants/{tenant}/rehires` records an admin's decision for a new Personio
//! profile a run held because it has the user name of a departed profile's user
//! (`sync_core::rehire`). Only the tenant's state changes; the next run writes to the app.

use crate::error::ApiError;
use crate::request::{self, Ids, PersonBody};
use crate::tenants::load;
use crate::Deps;
use axum::body::Body;
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use sync_core::rehire::{self, RehireDecision, RehireError};

/// `{person, previous, decision}`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DecisionBody {
    person: PersonBody,
    previous: PersonBody,
    decision: RehireDecision,
}

/// `POST /tenants/{tenant}/rehires`: 200 with `{person, previous, decision, user}`.
pub async fn decide(deps: Deps, ids: Ids, body: Body) -> Result<Json<Value>, ApiError> {
    let bytes = request::read_body(body).await?;
    let body: DecisionBody = request::parse_body(&bytes, false)?;
    let config = load(&deps, &ids.tenant).await?.config;
    let person = body.person.key(&config, "person")?;
    let previous = body.previous.key(&config, "previous")?;
    let user = rehire::decide(
        deps.store.as_ref(),
        &ids.tenant,
        &person,
        &previous,
        body.decision,
    )
    .await
    .map_err(|error| match error {
        RehireError::Store(error) => error.into(),
        RehireError::NoPrevious { .. } => ApiError::new(
            StatusCode::NOT_FOUND,
            "previous_not_found",
            error.to_string(),
        ),
        RehireError::NotDeparted { .. } | RehireError::AlreadyLinked { .. } => {
            ApiError::new(StatusCode::CONFLICT, "rehire_not_held", error.to_string())
        }
        RehireError::SameProfile { .. } => ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_person",
            error.to_string(),
        ),
    })?;
    Ok(Json(json!({
        "person": person,
        "previous": previous,
        "decision": body.decision,
        "user": user.as_str(),
    })))
}
