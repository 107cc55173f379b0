//! The faults a scenario injects, drawn from its seeded generator: Personio's (armed on the fake
//! and the proxy in front of it by `personio`) and the SCIM destination's (a rule for the proxy
//! in front of scim2-server, [`scim_rule`]), with the labels the summary groups scenarios by.

use crate::support::fault_proxy::{Canned, Fault, Matcher, Pick, Rule};
use crate::support::tenant::PAGE_SIZE;
use axum::http::Method;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::Rng;
use std::time::Duration;

/// Attributes a whitelist change may take away: each one the default mapping or lifecycle reads.
const UNLISTABLE: &[&str] = &[
    "department",
    "position",
    "office",
    "status",
    "termination_date",
    "hire_date",
    "supervisor",
    "cost_centers",
    "email",
];

/// A Personio fault.
#[derive(Clone, Debug, PartialEq)]
pub enum PersonioFault {
    /// The next `requests` employee requests get 429 (every other one without `Retry-After`).
    Storm { requests: u32 },
    /// The list page at `page` answers `status` `times` times.
    ServerError {
        page: usize,
        status: u16,
        times: u32,
    },
    /// The `nth` employee request (and `times - 1` after it) stalls past the client's timeout.
    Timeout { nth: u32, times: u32 },
    /// Every employee response is `millis` late (under the client's timeout).
    Slow { millis: u64 },
    /// Every employee response is later than the client's timeout: the run must fail cleanly.
    SlowPastTimeout,
    /// Every token is revoked just before the `nth` employee request.
    TokenExpiry { nth: u32 },
    /// The list page at `page` is cut in half `times` times.
    Malformed { page: usize, times: u32 },
    /// Someone is hired (sorting first) after `after_pages` pages were served.
    JoinedWhilePaging { after_pages: u32 },
    /// Someone is deleted after `after_pages` pages were served.
    LeftWhilePaging { after_pages: u32 },
    /// The credential can no longer read `attribute`.
    Unlisted { attribute: &'static str },
    /// The list answers with no one.
    Empty,
}

/// Which writes a destination fault aims at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Aim {
    /// `POST /Users`.
    UserCreate,
    /// `POST /Groups`.
    GroupCreate,
    /// `PATCH` of users and groups.
    Patch,
    /// Any write.
    AnyWrite,
}

impl Aim {
    fn matcher(self) -> Matcher {
        match self {
            Self::UserCreate => Matcher {
                method: Some(Method::POST),
                path: Some("/Users"),
                ..Matcher::default()
            },
            Self::GroupCreate => Matcher {
                method: Some(Method::POST),
                path: Some("/Groups"),
                ..Matcher::default()
            },
            Self::Patch => Matcher {
                method: Some(Method::PATCH),
                ..Matcher::default()
            },
            Self::AnyWrite => Matcher {
                writes_only: true,
                ..Matcher::default()
            },
        }
    }
}

/// A destination fault.
#[derive(Clone, Debug, PartialEq)]
pub enum ScimFault {
    /// 429, with `Retry-After` when given.
    TooMany {
        retry_after: Option<u32>,
        chance: f64,
        budget: u32,
    },
    /// A 5xx from a gateway, before the server saw the request.
    ServerError {
        status: u16,
        chance: f64,
        budget: u32,
    },
    /// The write is applied, then the answer is held past the client's timeout.
    ApplyThenTimeout { aim: Aim, nth: u32, budget: u32 },
    /// The write is applied, then the connection is cut mid-answer.
    ApplyThenDrop { aim: Aim, nth: u32, budget: u32 },
    /// The write is applied, then a gateway answers 5xx.
    ApplyThenServerError {
        aim: Aim,
        status: u16,
        nth: u32,
        budget: u32,
    },
    /// 409 uniqueness, without applying.
    Conflict { aim: Aim, nth: u32, budget: u32 },
    /// The create is applied, then answered 409 (as a retried create sees it).
    ApplyThenConflict { nth: u32, budget: u32 },
    /// Answers are `millis` late (under the timeout).
    Slow {
        millis: u64,
        chance: f64,
        budget: u32,
    },
    /// The request stalls past the timeout without reaching the server.
    Timeout { chance: f64, budget: u32 },
}

/// Any fault, for labels and counting.
#[derive(Clone, Debug, PartialEq)]
pub enum AnyFault {
    /// On Personio's side.
    Personio(PersonioFault),
    /// On the destination's side.
    Scim(ScimFault),
}

impl AnyFault {
    /// The scenario-kind label of this fault.
    pub fn label(&self) -> &'static str {
        match self {
            Self::Personio(fault) => match fault {
                PersonioFault::Storm { .. } => "personio 429 storm",
                PersonioFault::ServerError { .. } => "personio 5xx page",
                PersonioFault::Timeout { .. } => "personio page timeout",
                PersonioFault::Slow { .. } => "personio slow",
                PersonioFault::SlowPastTimeout => "personio slow past timeout",
                PersonioFault::TokenExpiry { .. } => "personio token expiry",
                PersonioFault::Malformed { .. } => "personio malformed page",
                PersonioFault::JoinedWhilePaging { .. } => "personio hire while paging",
                PersonioFault::LeftWhilePaging { .. } => "personio removal while paging",
                PersonioFault::Unlisted { .. } => "personio attribute unlisted",
                PersonioFault::Empty => "personio empty list",
            },
            Self::Scim(fault) => match fault {
                ScimFault::TooMany {
                    retry_after: Some(_),
                    ..
                } => "scim 429 with Retry-After",
                ScimFault::TooMany { .. } => "scim 429 without Retry-After",
                ScimFault::ServerError { .. } => "scim 5xx",
                ScimFault::ApplyThenTimeout { .. } => "scim timeout after apply",
                ScimFault::ApplyThenDrop { .. } => "scim dropped after apply",
                ScimFault::ApplyThenServerError { .. } => "scim 5xx after apply",
                ScimFault::Conflict { .. } => "scim 409",
                ScimFault::ApplyThenConflict { .. } => "scim 409 after apply",
                ScimFault::Slow { .. } => "scim slow",
                ScimFault::Timeout { .. } => "scim timeout",
            },
        }
    }
}

/// Draws one Personio fault for a company of `people`.
pub fn personio_fault(rng: &mut StdRng, people: usize) -> PersonioFault {
    let pages = people.div_ceil(PAGE_SIZE as usize).max(1);
    let page = rng.gen_range(0..pages) * PAGE_SIZE as usize;
    let after_pages = rng.gen_range(1..=pages.max(2) as u32 - 1);
    match rng.gen_range(0..11) {
        0 => PersonioFault::Storm {
            requests: *[2, 4, 8, 30].choose(rng).expect("choices"),
        },
        1 => PersonioFault::ServerError {
            page,
            status: *[500, 502, 503, 504].choose(rng).expect("choices"),
            times: rng.gen_range(1..=6),
        },
        2 => PersonioFault::Timeout {
            nth: rng.gen_range(1..=pages as u32),
            times: rng.gen_range(1..=2),
        },
        3 => PersonioFault::Slow {
            millis: rng.gen_range(20..=120),
        },
        4 => PersonioFault::SlowPastTimeout,
        5 => PersonioFault::TokenExpiry {
            nth: rng.gen_range(1..=pages as u32 + 1),
        },
        6 => PersonioFault::Malformed {
            page,
            times: rng.gen_range(1..=3),
        },
        7 => PersonioFault::JoinedWhilePaging { after_pages },
        8 => PersonioFault::LeftWhilePaging { after_pages },
        9 => PersonioFault::Unlisted {
            attribute: UNLISTABLE.choose(rng).expect("choices"),
        },
        _ => PersonioFault::Empty,
    }
}

/// Draws one destination fault.
pub fn scim_fault(rng: &mut StdRng) -> ScimFault {
    let aim = *[Aim::UserCreate, Aim::GroupCreate, Aim::Patch, Aim::AnyWrite]
        .choose(rng)
        .expect("choices");
    // Where the aimed-at writes are few (groups are created on a first sync only), aim early.
    let nth = match aim {
        Aim::UserCreate => rng.gen_range(1..=6),
        Aim::GroupCreate => rng.gen_range(1..=3),
        Aim::Patch => rng.gen_range(1..=8),
        Aim::AnyWrite => rng.gen_range(1..=10),
    };
    let budget = rng.gen_range(1..=3);
    let chance = *[0.05, 0.15, 0.3].choose(rng).expect("choices");
    match rng.gen_range(0..10) {
        0 => ScimFault::TooMany {
            retry_after: Some(*[0, 0, 1].choose(rng).expect("choices")),
            chance,
            budget: rng.gen_range(1..=8),
        },
        1 => ScimFault::TooMany {
            retry_after: None,
            chance,
            budget: rng.gen_range(1..=8),
        },
        2 => ScimFault::ServerError {
            status: *[500, 502, 503, 504].choose(rng).expect("choices"),
            chance,
            budget: rng.gen_range(1..=8),
        },
        3 => ScimFault::ApplyThenTimeout { aim, nth, budget },
        4 => ScimFault::ApplyThenDrop { aim, nth, budget },
        5 => ScimFault::ApplyThenServerError {
            aim,
            status: *[500, 502, 503].choose(rng).expect("choices"),
            nth,
            budget,
        },
        6 => ScimFault::Conflict {
            aim: *[Aim::UserCreate, Aim::Patch].choose(rng).expect("choices"),
            nth,
            budget,
        },
        7 => ScimFault::ApplyThenConflict { nth, budget },
        8 => ScimFault::Slow {
            millis: rng.gen_range(20..=150),
            chance,
            budget: rng.gen_range(5..=40),
        },
        _ => ScimFault::Timeout {
            chance,
            budget: rng.gen_range(1..=3),
        },
    }
}

/// The proxy rule of a destination fault.
pub fn scim_rule(fault: &ScimFault) -> Rule {
    let nth = |aim: Aim, nth: u32, budget: u32, fault: Fault| Rule {
        matcher: aim.matcher(),
        pick: Pick::Nth {
            first: nth,
            every: 3,
        },
        fault,
        budget,
    };
    let chance = |chance: f64, budget: u32, fault: Fault| Rule {
        matcher: Matcher::default(),
        pick: Pick::Chance(chance),
        fault,
        budget,
    };
    match fault {
        ScimFault::TooMany {
            retry_after,
            chance: p,
            budget,
        } => chance(*p, *budget, Fault::Refuse(Canned::too_many(*retry_after))),
        ScimFault::ServerError {
            status,
            chance: p,
            budget,
        } => chance(*p, *budget, Fault::Refuse(Canned::gateway(*status))),
        ScimFault::ApplyThenTimeout {
            aim,
            nth: n,
            budget,
        } => nth(*aim, *n, *budget, Fault::ApplyThenStall),
        ScimFault::ApplyThenDrop {
            aim,
            nth: n,
            budget,
        } => nth(*aim, *n, *budget, Fault::ApplyThenDrop),
        ScimFault::ApplyThenServerError {
            aim,
            status,
            nth: n,
            budget,
        } => nth(
            *aim,
            *n,
            *budget,
            Fault::ApplyThenAnswer(Canned::gateway(*status)),
        ),
        ScimFault::Conflict {
            aim,
            nth: n,
            budget,
        } => nth(
            *aim,
            *n,
            *budget,
            Fault::Refuse(Canned::scim(
                409,
                Some("uniqueness"),
                "userName is already taken",
            )),
        ),
        ScimFault::ApplyThenConflict { nth: n, budget } => nth(
            Aim::UserCreate,
            *n,
            *budget,
            Fault::ApplyThenAnswer(Canned::scim(
                409,
                Some("uniqueness"),
                "userName is already taken",
            )),
        ),
        ScimFault::Slow {
            millis,
            chance: p,
            budget,
        } => chance(*p, *budget, Fault::Slow(Duration::from_millis(*millis))),
        ScimFault::Timeout { chance: p, budget } => chance(*p, *budget, Fault::Stall),
    }
}
