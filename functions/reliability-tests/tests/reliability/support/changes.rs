//! What happens in Personio between two runs: joiners (starting today, within the pre-hire
//! window, or months ahead), movers (title, department, office, manager, sometimes a new email),
//! leavers (past their last day, in their notice period, or only set inactive), rehires, and
//! people deleted outright. Drawn from the scenario's generator, applied to the fake's company.

use chrono::{Duration, NaiveDate};
use fake_personio::Company;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::Rng;

/// Names of joiners; a new hire gets a unique email whatever the name.
const JOINERS: &[(&str, &str)] = &[
    ("Ines", "Hartwig"),
    ("Bartosz", "Zieliński"),
    ("Aoife", "Ní Bhriain"),
    ("Emeka", "Okafor"),
    ("Henrike", "Vossberg"),
    ("Rafael", "Quintero"),
];

const POSITIONS: &[&str] = &[
    "Principal Engineer",
    "Team Lead",
    "Operations Analyst",
    "Head of Partnerships",
];

/// One change to the company.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Change {
    /// A new person, `days` from today (negative: already started).
    Joiner {
        /// Index into the joiner names.
        name: usize,
        /// Hire date relative to today.
        days: i64,
    },
    /// A new title, department, office or manager, and sometimes a new email.
    Mover {
        /// The person.
        id: u64,
        /// Also a new email (and so a new `userName`).
        new_email: bool,
    },
    /// Leaves: `days` relative to today for the termination date (negative: already gone);
    /// `None` sets only the status to inactive.
    Leaver {
        /// The person.
        id: u64,
        /// Termination date relative to today.
        days: Option<i64>,
    },
    /// Back: active again, termination cleared.
    Rehire {
        /// The person.
        id: u64,
    },
    /// Deleted from Personio.
    Removed {
        /// The person.
        id: u64,
    },
}

impl Change {
    /// Short name for summaries.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Joiner { .. } => "joiner",
            Self::Mover { .. } => "mover",
            Self::Leaver { .. } => "leaver",
            Self::Rehire { .. } => "rehire",
            Self::Removed { .. } => "removed",
        }
    }

    /// The person it is about, once applied (joiners get their id then).
    pub fn person(&self) -> Option<u64> {
        match self {
            Self::Joiner { .. } => None,
            Self::Mover { id, .. }
            | Self::Leaver { id, .. }
            | Self::Rehire { id }
            | Self::Removed { id } => Some(*id),
        }
    }
}

fn working(company: &Company, today: NaiveDate) -> Vec<u64> {
    company
        .employees
        .iter()
        .filter(|e| e.status != "inactive" && e.termination_date.is_none_or(|d| d >= today))
        .filter(|e| e.hire_date <= today)
        .map(|e| e.id)
        .collect()
}

/// Draws a round of changes for `company`. `mass_leavers` makes enough people leave at once for
/// the deactivation guard to hold the run.
pub fn draw(rng: &mut StdRng, company: &Company, mass_leavers: bool) -> Vec<Change> {
    let today = company.today;
    let mut working = working(company, today);
    working.shuffle(rng);
    let mut changes = Vec::new();
    for _ in 0..rng.gen_range(0..=2) {
        let days = *[-3i64, 0, 3, 6, 40].choose(rng).expect("choices");
        changes.push(Change::Joiner {
            name: rng.gen_range(0..JOINERS.len()),
            days,
        });
    }
    let leavers = if mass_leavers {
        (working.len() / 5).max(4)
    } else {
        rng.gen_range(0..=2)
    };
    let movers = rng.gen_range(0..=3);
    let mut people = working.into_iter();
    for id in people.by_ref().take(leavers) {
        let days = *[Some(-1i64), Some(-10), Some(12), None]
            .choose(rng)
            .expect("choices");
        changes.push(Change::Leaver { id, days });
    }
    for id in people.by_ref().take(movers) {
        changes.push(Change::Mover {
            id,
            new_email: rng.gen_bool(0.2),
        });
    }
    if rng.gen_bool(0.15) {
        if let Some(id) = people.next() {
            changes.push(Change::Removed { id });
        }
    }
    let gone: Vec<u64> = company
        .employees
        .iter()
        .filter(|e| e.status == "inactive")
        .map(|e| e.id)
        .collect();
    if rng.gen_bool(0.4) {
        if let Some(id) = gone.choose(rng) {
            changes.push(Change::Rehire { id: *id });
        }
    }
    changes
}

/// Applies `changes`; returns the ids of the joiners, in order.
pub fn apply(company: &mut Company, changes: &[Change]) -> Vec<u64> {
    let today = company.today;
    let mut joined = Vec::new();
    for change in changes {
        match change {
            Change::Joiner { name, days } => {
                let (first, last) = JOINERS[*name % JOINERS.len()];
                joined.push(company.new_hire(first, last, today + Duration::days(*days)));
            }
            Change::Mover { id, new_email } => {
                let departments: Vec<String> =
                    company.departments.iter().map(|d| d.name.clone()).collect();
                let offices: Vec<String> = company.offices.iter().map(|o| o.name.clone()).collect();
                let supervisor = company
                    .employees
                    .iter()
                    .find(|e| e.id != *id && e.status == "active")
                    .map(|e| e.id);
                let domain = company.domain.clone();
                let Some(person) = company.employee_mut(*id) else {
                    continue;
                };
                let step = (*id as usize) % 4;
                person.position = POSITIONS[step].to_owned();
                if step.is_multiple_of(2) {
                    person.department = departments.get(step).cloned();
                }
                if step != 1 {
                    person.office = offices.get(step).cloned();
                }
                if step == 3 {
                    person.supervisor = supervisor;
                }
                if *new_email {
                    person.email = format!("moved.{id}@{domain}");
                }
            }
            Change::Leaver { id, days } => {
                let Some(person) = company.employee_mut(*id) else {
                    continue;
                };
                match days {
                    Some(days) => {
                        let date = today + Duration::days(*days);
                        person.termination_date = Some(date);
                        person.last_working_day = Some(date);
                        person.termination_type = Some("employee".to_owned());
                        if *days < 0 {
                            person.status = "inactive".to_owned();
                        }
                    }
                    None => person.status = "inactive".to_owned(),
                }
            }
            Change::Rehire { id } => {
                let Some(person) = company.employee_mut(*id) else {
                    continue;
                };
                person.status = "active".to_owned();
                person.termination_date = None;
                person.last_working_day = None;
                person.termination_type = None;
                person.termination_reason = None;
            }
            Change::Removed { id } => {
                company.remove(*id);
            }
        }
    }
    joined
}
