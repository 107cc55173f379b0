//! Faults a test switches on at run time to see how a client copes with Personio misbehaving.
//!
//! Several faults can be active at once; each one counts itself down and disappears when used up.
//! [`Fault::ExpireToken`] is an action rather than a state: it takes effect when it is set.

use crate::company::Company;
use std::time::Duration;

/// One way the fake misbehaves. "Employee requests" are v1's list and single-employee endpoints
/// and v2's persons and employments endpoints; v2 reference data is never one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fault {
    /// The next `requests` employee requests get 429 with the v1 error body. Every second one
    /// (the 2nd, 4th, …) comes without its `Retry-After: 1` header, as a gateway may send it.
    RateLimitStorm {
        /// How many requests are refused.
        requests: u32,
    },
    /// The list page at item offset `offset` answers `status` `times` times, then works again.
    /// A 500 carries the v1 error envelope; any other status an HTML body, as a proxy sends it.
    /// v1 only: v2 pages have no offset.
    ServerError {
        /// Item offset of the failing page.
        offset: usize,
        /// HTTP status to answer (500, 502, 503, …).
        status: u16,
        /// How many times it fails.
        times: u32,
    },
    /// Every token issued so far becomes invalid now: the next call with one gets 401
    /// "The token has been blacklisted", and `/v1/auth` issues a new token.
    ExpireToken,
    /// The list page at `offset` answers 200 with a truncated JSON body, `times` times.
    MalformedJson {
        /// Item offset of the broken page.
        offset: usize,
        /// How many times the body is broken.
        times: u32,
    },
    /// Once `after_pages` list pages have been served since the fault was set, a new person is
    /// inserted with an id lower than everyone's (a hire whose id sorts first). Every later offset
    /// shifts by one: a naive pager sees the last person of the previous page twice and never
    /// sees the newcomer, and `total_elements` grows by one between pages.
    MovePersonDuringPaging {
        /// List pages served before the insertion.
        after_pages: u32,
    },
    /// Once `after_pages` list pages have been served, the lowest-id person who supervises nobody
    /// is removed. Every later offset shifts back by one: a naive pager never sees the person who
    /// moved up onto the already-served page, although they are still employed.
    RemovePersonDuringPaging {
        /// List pages served before the removal.
        after_pages: u32,
    },
    /// The list answers success with no employees and `total_elements` 0, until cleared.
    EmptyList,
    /// Every employee request that passes the token and rate-limit checks is answered `millis`
    /// late, until cleared (a 401 or 429 comes at once, as from a gateway).
    Slow {
        /// Delay per response, in milliseconds.
        millis: u64,
    },
    /// The picture of person `id` answers 404 although the attribute lists one (a picture removed
    /// between the list and the download), until cleared.
    PictureMissing {
        /// The person.
        id: u64,
    },
}

/// How the company changes under a client paging through it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Shift {
    Insert,
    Remove,
}

/// The active faults and their remaining counts.
#[derive(Default)]
pub(crate) struct Faults {
    active: Vec<Fault>,
    /// 429s sent by storms so far; decides which ones go without `Retry-After`.
    storm_sent: u32,
}

impl Faults {
    /// Activates a fault (not [`Fault::ExpireToken`], which the server applies at once).
    pub fn add(&mut self, fault: Fault) {
        self.active.push(fault);
    }

    /// Deactivates every fault.
    pub fn clear(&mut self) {
        self.active.clear();
    }

    /// The faults still active, with their remaining counts.
    pub fn active(&self) -> Vec<Fault> {
        self.active.clone()
    }

    /// The delay of employee responses, if a [`Fault::Slow`] is active.
    pub fn delay(&self) -> Option<Duration> {
        self.active
            .iter()
            .filter_map(|fault| match fault {
                Fault::Slow { millis } => Some(Duration::from_millis(*millis)),
                _ => None,
            })
            .max()
    }

    /// Whether person `id`'s picture is to answer 404.
    pub fn picture_missing(&self, id: u64) -> bool {
        self.active.contains(&Fault::PictureMissing { id })
    }

    /// Whether the list is to answer empty.
    pub fn empty_list(&self) -> bool {
        self.active.contains(&Fault::EmptyList)
    }

    /// Uses up one storm request: `Some(with_retry_after)` if this request is to get a 429.
    pub fn take_storm(&mut self) -> Option<bool> {
        let taken = self.take_counted(|fault| match fault {
            Fault::RateLimitStorm { requests } => Some(requests),
            _ => None,
        });
        if !taken {
            return None;
        }
        self.storm_sent += 1;
        Some(self.storm_sent % 2 == 1)
    }

    /// Uses up one failure of the page at `offset`: the status it answers.
    pub fn take_server_error(&mut self, offset: usize) -> Option<u16> {
        let status = self.active.iter().find_map(|fault| match fault {
            Fault::ServerError {
                offset: at, status, ..
            } if *at == offset => Some(*status),
            _ => None,
        })?;
        let taken = self.take_counted(|fault| match fault {
            Fault::ServerError {
                offset: at, times, ..
            } if *at == offset => Some(times),
            _ => None,
        });
        taken.then_some(status)
    }

    /// Uses up one broken body of the page at `offset`.
    pub fn take_malformed(&mut self, offset: usize) -> bool {
        self.take_counted(|fault| match fault {
            Fault::MalformedJson { offset: at, times } if *at == offset => Some(times),
            _ => None,
        })
    }

    /// The change due before the next list page, if any; the fault that caused it is used up.
    pub fn take_shift(&mut self) -> Option<Shift> {
        let index = self.active.iter().position(|fault| {
            matches!(
                fault,
                Fault::MovePersonDuringPaging { after_pages: 0 }
                    | Fault::RemovePersonDuringPaging { after_pages: 0 }
            )
        })?;
        match self.active.remove(index) {
            Fault::MovePersonDuringPaging { .. } => Some(Shift::Insert),
            _ => Some(Shift::Remove),
        }
    }

    /// Counts one served list page towards the paging faults.
    pub fn page_served(&mut self) {
        for fault in &mut self.active {
            if let Fault::MovePersonDuringPaging { after_pages }
            | Fault::RemovePersonDuringPaging { after_pages } = fault
            {
                *after_pages = after_pages.saturating_sub(1);
            }
        }
    }

    /// Decrements the first fault whose counter `counter` picks out; removes it when it reaches
    /// zero. `false` when no such fault has uses left.
    fn take_counted(&mut self, mut counter: impl FnMut(&mut Fault) -> Option<&mut u32>) -> bool {
        let Some(index) = self
            .active
            .iter_mut()
            .position(|fault| counter(fault).is_some_and(|count| *count > 0))
        else {
            return false;
        };
        let exhausted = counter(&mut self.active[index]).is_some_and(|count| {
            *count -= 1;
            *count == 0
        });
        if exhausted {
            self.active.remove(index);
        }
        true
    }
}

/// Applies a paging shift to the company and returns the id of the person inserted or removed.
pub(crate) fn apply_shift(company: &mut Company, shift: Shift) -> Option<u64> {
    match shift {
        Shift::Insert => {
            let lowest = company.employees.iter().map(|employee| employee.id).min();
            let today = company.today;
            let hired = company.new_hire("Paula", "Zwischenberg", today);
            // Ids are positive; with nobody below 2 the newcomer cannot sort first.
            let Some(id) = lowest.filter(|lowest| *lowest > 1).map(|lowest| lowest - 1) else {
                return Some(hired);
            };
            let mut newcomer = company.remove(hired)?;
            newcomer.id = id;
            Some(company.add_employee(newcomer))
        }
        Shift::Remove => {
            let id = company
                .employees
                .iter()
                .find(|candidate| {
                    !company
                        .employees
                        .iter()
                        .any(|employee| employee.supervisor == Some(candidate.id))
                })?
                .id;
            company.remove(id).map(|removed| removed.id)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::generate::{generate_company, CompanySpec};

    #[test]
    fn a_storm_counts_down_and_every_second_429_lacks_retry_after() {
        let mut faults = Faults::default();
        faults.add(Fault::RateLimitStorm { requests: 3 });
        assert_eq!(faults.take_storm(), Some(true));
        assert_eq!(faults.take_storm(), Some(false));
        assert_eq!(faults.take_storm(), Some(true));
        assert_eq!(faults.take_storm(), None);
        assert!(faults.active().is_empty());
    }

    #[test]
    fn a_server_error_hits_only_its_page_and_wears_off() {
        let mut faults = Faults::default();
        faults.add(Fault::ServerError {
            offset: 100,
            status: 503,
            times: 2,
        });
        assert_eq!(faults.take_server_error(0), None);
        assert_eq!(faults.take_server_error(100), Some(503));
        assert_eq!(faults.take_server_error(100), Some(503));
        assert_eq!(faults.take_server_error(100), None);
    }

    #[test]
    fn a_paging_shift_waits_for_its_pages() {
        let mut faults = Faults::default();
        faults.add(Fault::MovePersonDuringPaging { after_pages: 2 });
        assert_eq!(faults.take_shift(), None);
        faults.page_served();
        assert_eq!(faults.take_shift(), None);
        faults.page_served();
        assert_eq!(faults.take_shift(), Some(Shift::Insert));
        assert_eq!(faults.take_shift(), None);
    }

    #[test]
    fn inserting_puts_a_newcomer_first_and_removing_takes_a_non_supervisor() {
        let mut company = generate_company(&CompanySpec {
            employees: 50,
            seed: 1,
            today: chrono::NaiveDate::from_ymd_opt(2025, 3, 14).expect("valid date"),
        });
        let inserted = apply_shift(&mut company, Shift::Insert).expect("inserted");
        assert_eq!(inserted, 999);
        assert_eq!(company.employees[0].id, 999);
        assert_eq!(company.employees.len(), 51);
        let removed = apply_shift(&mut company, Shift::Remove).expect("removed");
        assert!(company.employee(removed).is_none());
        assert!(company
            .employees
            .iter()
            .all(|e| e.supervisor != Some(removed)));
    }
}
