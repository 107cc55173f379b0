//! `POST /tenants/{tenant}/console-links`: a signed, expiring link into the tenant's console, for
//! the vendor's backend to hand to an admin (a "manage sync" button, a support answer). The link
//! is a capability: whoever holds it may do what it says until it expires.

use crate::error::ApiError;
use crate::request::{self, Ids};
use crate::tenants::load;
use crate::Deps;
use axum::body::Body;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::{Duration, Utc};
use serde::Deserialize;
use serde_json::json;
use sync_core::ids::RunId;
use sync_core::links::Access;

/// Longest a minted link works.
pub const MAX_DAYS: i64 = 30;
/// How long a link works when `days` is not given (as the summary emails' links).
const DEFAULT_DAYS: i64 = sync_core::console_site::EMAIL_LINK_DAYS;

/// `{access?: "view"|"act", days?: 1..=30, run?: <run id>}`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MintBody {
    #[serde(default)]
    access: Option<String>,
    #[serde(default)]
    days: Option<i64>,
    #[serde(default)]
    run: Option<String>,
}

fn unprocessable(message: String) -> ApiError {
    ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_link", message)
}

/// Mints the link: `201 {url, access, expires}`.
pub async fn mint(deps: Deps, ids: Ids, body: Body) -> Result<Response, ApiError> {
    let bytes = request::read_body(body).await?;
    let body: MintBody = request::parse_body(&bytes, true)?;
    let access = match body.access.as_deref() {
        None | Some("view") => Access::View,
        Some("act") => Access::Act,
        Some(other) => {
            return Err(unprocessable(format!(
                "access: `{other}` is neither `view` nor `act`"
            )))
        }
    };
    let days = body.days.unwrap_or(DEFAULT_DAYS);
    if !(1..=MAX_DAYS).contains(&days) {
        return Err(unprocessable(format!(
            "days: {days} is not between 1 and {MAX_DAYS}"
        )));
    }
    let config = load(&deps, &ids.tenant).await?.config;
    let to = match &body.run {
        Some(run) => {
            let run = RunId::parse(run).map_err(|error| unprocessable(format!("run: {error}")))?;
            if deps.store.run(&ids.tenant, &run).await?.is_none() {
                return Err(unprocessable(format!(
                    "run: tenant {} has no run {run}",
                    ids.tenant
                )));
            }
            Some(format!("/tenants/{}/runs/{run}", ids.tenant))
        }
        None => None,
    };
    let console = deps.console.as_ref().ok_or_else(|| {
        ApiError::new(
            StatusCode::CONFLICT,
            "console_not_deployed",
            "this deployment has no console (CONSOLE_URL and CONSOLE_KEYS_SECRET are not set)"
                .to_owned(),
        )
    })?;
    let site = console.site().await.map_err(|error| {
        tracing::error!(error = %error, "the console's link keys could not be read");
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "secrets_unavailable",
            "the console's link keys could not be read; try again in a minute".to_owned(),
        )
    })?;
    let expires = Utc::now() + Duration::days(days);
    let url = site.link(&ids.tenant, access, expires, to.as_deref());
    tracing::info!(tenant_id = %ids.tenant, act = access.may_act(), days, "console link minted");
    let mut answer = json!({
        "url": url,
        "access": if access.may_act() { "act" } else { "view" },
        "expires": expires.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
    });
    if access.may_act() && !config.console.actions {
        answer["warning"] = json!("the tenant's [console] actions is false: the link views only");
    }
    Ok((StatusCode::CREATED, Json(answer)).into_response())
}
