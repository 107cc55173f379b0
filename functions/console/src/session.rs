//! Opening a link, and the session cookie every page checks.

use crate::problem::Problem;
use crate::ConsoleDeps;
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use std::sync::Arc;
use sync_core::ids::TenantId;
use sync_core::links::{new_csrf_token, Grant};

/// The session cookie's name.
pub const COOKIE: &str = "console_session";

/// `GET /open?link=…`.
#[derive(serde::Deserialize)]
pub struct OpenQuery {
    link: Option<String>,
    /// Where to land: a run of the link's tenant (`/tenants/{tenant}/runs/{run}`), as the summary
    /// email's link to its run report asks; anything else lands on the overview.
    to: Option<String>,
}

/// `to` when it is a run report of `tenant`, so no link can redirect elsewhere.
fn landing(tenant: &sync_core::ids::TenantId, to: Option<&str>) -> String {
    let overview = format!("/tenants/{tenant}");
    let Some(run) = to.and_then(|to| to.strip_prefix(&format!("{overview}/runs/"))) else {
        return overview;
    };
    match sync_core::ids::RunId::parse(run) {
        Ok(run) => format!("{overview}/runs/{run}"),
        Err(_) => overview,
    }
}

/// Checks the link, starts a session and redirects to the overview, or the run `to` names (a URL
/// without the token).
pub async fn open(
    State(deps): State<Arc<ConsoleDeps>>,
    Query(query): Query<OpenQuery>,
) -> Result<Response, Problem> {
    let now = Utc::now();
    let token = query.link.as_deref().unwrap_or_default();
    let keys = keys(&deps).await?;
    let link = keys.open_link(token, now).map_err(Problem::Link)?;
    let session = Grant {
        expires: link.expires.min(now + deps.settings.session),
        ..link
    };
    let value = keys.session(&session, &new_csrf_token());
    let max_age = (session.expires - now).num_seconds().max(0);
    let secure = if deps.settings.secure_cookie {
        "; Secure"
    } else {
        ""
    };
    let cookie =
        format!("{COOKIE}={value}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age}{secure}");
    tracing::info!(tenant_id = %session.tenant, "console link opened");
    Ok((
        StatusCode::SEE_OTHER,
        [
            (header::SET_COOKIE, cookie),
            (
                header::LOCATION,
                landing(&session.tenant, query.to.as_deref()),
            ),
            // The page with the token is not cached, and no later request quotes it.
            (header::CACHE_CONTROL, "no-store".to_owned()),
            (header::REFERRER_POLICY, "no-referrer".to_owned()),
        ],
    )
        .into_response())
}

/// The session of a request for `tenant`'s pages: its grant and CSRF token.
pub async fn check(
    deps: &ConsoleDeps,
    headers: &HeaderMap,
    tenant: &str,
) -> Result<(Grant, String), Problem> {
    let value = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value)
        .ok_or(Problem::NoSession)?;
    let (grant, csrf) = keys(deps)
        .await?
        .open_session(value, Utc::now())
        .map_err(|_| Problem::NoSession)?;
    match TenantId::parse(tenant) {
        Ok(asked) if asked == grant.tenant => Ok((grant, csrf)),
        _ => Err(Problem::OtherTenant),
    }
}

/// The deployment's keys as they are now (a rotation reaches a warm console).
async fn keys(deps: &ConsoleDeps) -> Result<sync_core::links::LinkKeys, Problem> {
    deps.keys.link_keys().await.map_err(|error| {
        tracing::error!(error = %error, "the console's link keys could not be read");
        Problem::Unavailable
    })
}
