//! The console over real HTTP on 127.0.0.1, on a state folder that real runs wrote: a link opens
//! a session and lands on a URL without the token; the overview and the run report show the
//! history; every refusal is a page that says what to do, never a 5xx.

//!
//! - `session`: links, sessions and the pages that refuse.
//! - `pages`: the overview, run reports and people.
//! - `actions`: approve, reject, sync now and dry run.
//! - `progress`: a queued or running run's live progress.

mod actions;
mod pages;
mod progress;
mod session;
mod support;
