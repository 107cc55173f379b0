//! The personio-sync engine: everything that decides who joins, moves and leaves, with no AWS in it.
//!
//! # Layout
//! The modules of a run, in pipeline order ([`run`] calls them in this order):
//! 1. `personio`: fetch — the Personio v1 client (auth, paging, rate limit, retries) and the lenient
//!    normalisation of its attribute shapes into [`employee::Employee`]; `attributes` says which
//!    attributes a tenant uses, so the fetch keeps only those.
//! 2. `people`: map (`mapping`) and scope (`scope`) each employee into a [`people::Person`].
//! 3. `pictures`: host profile pictures for the app and put their URLs into the records (when
//!    the deployment has a picture store).
//! 4. `run::matching`: existing app users that people without a user may adopt.
//! 5. `guard::protect`: who is left untouched because Personio's answer lacks an attribute.
//! 6. `plan`: what to do for each person (with `lifecycle`: who should be active today), then
//!    managers and groups.
//! 7. `guard::check`: whether the plan is held for an admin.
//! 8. `apply`: the plan through the destination, advancing the snapshot (`state`) per action.
//! 9. `run::recording` and `history`: the run's record, as import history.
//! 10. `summary`, `report` and `email`: the summary email (`summary`) with `errors.csv` (`report`).
//!
//! Around them: `ids`, `employee`, `record`, `state`, `history`, `email` (domain types); `config`
//! (what a tenant decides); `preview` (steps 1–7 without writing, for the preview screens);
//! `schedule` (when a tenant is due); `progress`; `links` (the signed, expiring links and session
//! tokens of the admins' console) and `console_site` (where the console is, its keys, the links
//! summary emails carry); and `ports`, the traits for source, destination,
//! store, mailer, secrets and jobs; `http` (the one HTTP client builder, rustls + ring) and `retry`
//! (the one back-off and `Retry-After` reading every adapter retries with). Adapters live in other
//! crates; a run reaches the world only through `ports`.

pub mod apply;
pub mod attributes;
pub mod config;
pub mod console_site;
pub mod email;
pub mod employee;
pub mod guard;
pub mod history;
pub mod http;
pub mod ids;
pub mod incremental;
pub mod journal;
pub mod lifecycle;
pub mod links;
pub mod mapping;
pub mod people;
pub mod personio;
pub mod pictures;
pub mod plan;
pub mod ports;
pub mod preview;
pub mod progress;
pub mod record;
pub mod rehire;
pub mod report;
pub mod retry;
pub mod run;
pub mod schedule;
pub mod scope;
pub mod state;
pub mod summary;
