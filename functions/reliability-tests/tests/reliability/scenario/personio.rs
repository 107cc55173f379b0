//! Arming Personio's faults — the fake's own switchable faults, its whitelist, and rules on the
//! proxy in front of it — switching them off again, and counting how many times they struck.

use super::faults::PersonioFault;
use crate::support::fault_proxy::{Fault, Matcher, Pick, Rule};
use crate::support::tenant::{FaultyTenant, PERSONIO_TIMEOUT};
use fake_personio::{Company, FakePersonio};
use std::collections::BTreeSet;
use std::sync::Arc;

/// Every attribute key the fake renders, for whitelists.
pub fn attribute_keys(company: &Company) -> BTreeSet<String> {
    company
        .employees
        .first()
        .map(|employee| {
            let json = fake_personio::employee_json(company, employee, "http://127.0.0.1");
            json["attributes"]
                .as_object()
                .map(|attributes| attributes.keys().cloned().collect())
                .unwrap_or_default()
        })
        .unwrap_or_default()
}

/// Arms the Personio faults: the fake's own, its whitelist, and the proxy's rules.
/// Arms `faults`; for each, the index of its rule in the Personio proxy when the proxy injects it
/// (`None`: the fake does).
pub fn arm(
    fake: &FakePersonio,
    tenant: &FaultyTenant,
    faults: &[PersonioFault],
) -> Vec<Option<usize>> {
    let mut indexes = Vec::with_capacity(faults.len());
    use fake_personio::Fault as Fake;
    let mut rules = Vec::new();
    let employees = Matcher {
        path: Some("/v1/company/employees"),
        ..Matcher::default()
    };
    for fault in faults {
        indexes.push(
            matches!(
                fault,
                PersonioFault::Timeout { .. } | PersonioFault::TokenExpiry { .. }
            )
            .then_some(rules.len()),
        );
        match fault {
            PersonioFault::Storm { requests } => fake.set_fault(Fake::RateLimitStorm {
                requests: *requests,
            }),
            PersonioFault::ServerError {
                page,
                status,
                times,
            } => fake.set_fault(Fake::ServerError {
                offset: *page,
                status: *status,
                times: *times,
            }),
            PersonioFault::Timeout { nth, times } => rules.push(Rule {
                matcher: employees.clone(),
                pick: Pick::Nth {
                    first: *nth,
                    every: 1,
                },
                fault: Fault::Stall,
                budget: *times,
            }),
            PersonioFault::Slow { millis } => fake.set_fault(Fake::Slow { millis: *millis }),
            PersonioFault::SlowPastTimeout => fake.set_fault(Fake::Slow {
                millis: PERSONIO_TIMEOUT.as_millis() as u64 + 200,
            }),
            PersonioFault::TokenExpiry { nth } => {
                let fake = fake.clone();
                rules.push(Rule {
                    matcher: employees.clone(),
                    pick: Pick::Nth {
                        first: *nth,
                        every: 1,
                    },
                    fault: Fault::Call(Arc::new(move || fake.set_fault(Fake::ExpireToken))),
                    budget: 1,
                });
            }
            PersonioFault::Malformed { page, times } => fake.set_fault(Fake::MalformedJson {
                offset: *page,
                times: *times,
            }),
            PersonioFault::JoinedWhilePaging { after_pages } => {
                fake.set_fault(Fake::MovePersonDuringPaging {
                    after_pages: *after_pages,
                })
            }
            PersonioFault::LeftWhilePaging { after_pages } => {
                fake.set_fault(Fake::RemovePersonDuringPaging {
                    after_pages: *after_pages,
                })
            }
            PersonioFault::Unlisted { attribute } => {
                let mut keys = attribute_keys(&fake.company());
                keys.remove(*attribute);
                fake.set_whitelist(Some(keys));
            }
            PersonioFault::Empty => fake.set_fault(Fake::EmptyList),
        }
    }
    tenant.personio.arm(rules);
    indexes
}

/// Switches every Personio fault off again.
pub fn disarm(fake: &FakePersonio, tenant: &FaultyTenant) {
    fake.clear_faults();
    fake.set_whitelist(None);
    tenant.personio.disarm();
}

/// How many times the fake's own faults struck: their budgets less what is left of them.
pub fn strikes(faults: &[PersonioFault], left: &[fake_personio::Fault]) -> u64 {
    strikes_each(faults, left).iter().sum()
}

/// [`strikes`] per fault (faults of one kind share what is left of them; proxy faults count 0).
pub fn strikes_each(faults: &[PersonioFault], left: &[fake_personio::Fault]) -> Vec<u64> {
    use fake_personio::Fault as Fake;
    let remaining =
        |pick: &dyn Fn(&Fake) -> Option<u32>| -> u32 { left.iter().filter_map(pick).sum() };
    faults
        .iter()
        .map(|fault| match fault {
            PersonioFault::Storm { requests } => u64::from(
                requests
                    - remaining(&|f| match f {
                        Fake::RateLimitStorm { requests } => Some(*requests),
                        _ => None,
                    }),
            ),
            PersonioFault::ServerError { times, .. } => {
                u64::from(times.saturating_sub(remaining(&|f| match f {
                    Fake::ServerError { times, .. } => Some(*times),
                    _ => None,
                })))
            }
            PersonioFault::Malformed { times, .. } => {
                u64::from(times.saturating_sub(remaining(&|f| match f {
                    Fake::MalformedJson { times, .. } => Some(*times),
                    _ => None,
                })))
            }
            PersonioFault::JoinedWhilePaging { .. } => u64::from(
                !left
                    .iter()
                    .any(|f| matches!(f, Fake::MovePersonDuringPaging { .. })),
            ),
            PersonioFault::LeftWhilePaging { .. } => u64::from(
                !left
                    .iter()
                    .any(|f| matches!(f, Fake::RemovePersonDuringPaging { .. })),
            ),
            // Standing faults: they struck if the run asked Personio anything at all.
            PersonioFault::Slow { .. }
            | PersonioFault::SlowPastTimeout
            | PersonioFault::Unlisted { .. }
            | PersonioFault::Empty => 1,
            // Counted by the proxy.
            PersonioFault::Timeout { .. } | PersonioFault::TokenExpiry { .. } => 0,
        })
        .collect()
}
