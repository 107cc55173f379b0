//! Pages for what went wrong: each says what happened and what to do, in the page's own words,
//! with the right status and no detail of the server.

use askama::Template;
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use sync_core::links::LinkError;

/// Something a page could not show.
#[derive(Debug)]
pub enum Problem {
    /// No session, or an expired one.
    NoSession,
    /// A link that does not open.
    Link(LinkError),
    /// A session for another tenant.
    OtherTenant,
    /// No such run (or page).
    NotFound(&'static str),
    /// The store could not be read.
    Unavailable,
    /// A session that may only view tried to act (or the console has no actions).
    ViewOnly,
    /// The tenant's operator has switched the console's actions off.
    ActionsOff,
    /// A form without the session's CSRF token (an old page, or another site's form).
    StaleForm,
    /// A decision on a run that is no longer held (its status).
    NotHeld(&'static str),
    /// The action was refused; the message says why.
    Refused(String),
    /// The action failed; the message says what to do.
    ActionFailed(String),
}

#[derive(Template)]
#[template(path = "problem.html")]
struct ProblemPage {
    title: &'static str,
    message: String,
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let (status, title, message) = match self {
            Self::NoSession => (
                StatusCode::UNAUTHORIZED,
                "Please open the link again",
                "Your session has ended or was never started. Open the link in the newest summary email to see this page.".to_owned(),
            ),
            Self::Link(error) => (
                StatusCode::UNAUTHORIZED,
                "This link does not open the console",
                error.to_string(),
            ),
            Self::OtherTenant => (
                StatusCode::FORBIDDEN,
                "This page belongs to another organisation",
                "Your link opens the console of one organisation only. Open the link from that organisation's summary email.".to_owned(),
            ),
            Self::NotFound(what) => (
                StatusCode::NOT_FOUND,
                "Not found",
                format!("There is no such {what}. Go back to the overview and pick it from the list."),
            ),
            Self::ViewOnly => (
                StatusCode::FORBIDDEN,
                "This link lets you view only",
                "Approving, rejecting and syncing need a link that allows acting. Ask the person who runs the sync for one.".to_owned(),
            ),
            Self::ActionsOff => (
                StatusCode::FORBIDDEN,
                "Actions are switched off for this organisation",
                "Whoever runs the sync for your organisation has made these pages view only. Nothing was changed; ask them to approve, reject or start a sync.".to_owned(),
            ),
            Self::StaleForm => (
                StatusCode::FORBIDDEN,
                "This form has expired",
                "Nothing was changed. Go back, reload the page and try again.".to_owned(),
            ),
            Self::NotHeld(status) => (
                StatusCode::CONFLICT,
                "This run is no longer held",
                format!("It is {status} now: someone decided it already. Nothing was changed; the overview shows what happened."),
            ),
            Self::Refused(message) => (StatusCode::CONFLICT, "This could not be done", message),
            Self::ActionFailed(message) => (
                StatusCode::SERVICE_UNAVAILABLE,
                "This could not be done right now",
                message,
            ),
            Self::Unavailable => (
                StatusCode::SERVICE_UNAVAILABLE,
                "The history cannot be read right now",
                "The sync's state could not be read. Try again in a minute; nothing was changed.".to_owned(),
            ),
        };
        let page = ProblemPage { title, message };
        let headers = [
            (header::CACHE_CONTROL, "no-store"),
            (header::REFERRER_POLICY, "no-referrer"),
            (header::X_FRAME_OPTIONS, "DENY"),
            (header::CONTENT_SECURITY_POLICY, crate::pages::CSP),
        ];
        match page.render() {
            Ok(html) => (status, headers, Html(html)).into_response(),
            Err(_) => (status, headers, title).into_response(),
        }
    }
}

/// The fallback: any other path.
pub async fn not_found() -> Problem {
    Problem::NotFound("page")
}
