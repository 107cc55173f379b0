//! Adding a person to Personio (`POST /tenants/{tenant}/personio/{account}/employees`): the
//! body is checked against the tenant's `[add_person]` before anything is sent, then Personio's
//! `POST /company/employees` creates the employee with the account's stored credentials. The
//! next run links the new person as usual; nothing is written to the app here.

use crate::error::ApiError;
use crate::request::{self, Ids};
use crate::tenants::load;
use crate::Deps;
use axum::body::Body;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;
use sync_core::personio::add::NewEmployee;
use sync_core::ports::Source;

/// `POST /tenants/{tenant}/personio/{account}/employees`: 201 with `{account, id}`.
pub async fn add(deps: Deps, ids: Ids, body: Body) -> Result<Response, ApiError> {
    let account = ids.account()?.clone();
    let bytes = request::read_body(body).await?;
    let employee: NewEmployee = request::parse_body(&bytes, false)?;
    let config = load(&deps, &ids.tenant).await?.config;
    if !config.personio.accounts.iter().any(|a| a.name == account) {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "account_not_found",
            format!(
                "tenant {} has no Personio account named {account}",
                ids.tenant
            ),
        ));
    }
    let problems = employee.problems(&config.add_person);
    if !problems.is_empty() {
        return Err(ApiError::invalid_person(problems));
    }
    let clients = crate::wiring::personio_clients(&deps, &config).await?;
    let Some((_, client)) = clients.iter().find(|(name, _)| *name == account) else {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "account_not_found",
            format!(
                "tenant {} has no Personio account named {account}",
                ids.tenant
            ),
        ));
    };
    let id = client
        .add_employee(&employee)
        .await
        .map_err(|error| ApiError::personio(&error))?;
    tracing::info!(tenant_id = %ids.tenant, account = %account, "person added to Personio");
    Ok((
        StatusCode::CREATED,
        Json(json!({"account": account.as_str(), "id": id.get()})),
    )
        .into_response())
}
