//! The fake Personio as tests use it: the day generated companies are realistic for, companies
//! generated from a seed, the fake's settings with a rate limit generous enough for tests, and the
//! keys of its people. Starting one is `FakePersonio::start(company(n), fake_config())`.

use chrono::{DateTime, NaiveDate, Utc};
use fake_personio::{generate_company, Company, CompanySpec, FakeConfig, RateLimit};
use sync_core::ids::{AccountId, PersonKey, PersonioId};

/// The day the generated companies are realistic for.
pub const TODAY: &str = "2026-11-23";

/// `TODAY` at a time of day, as the moment of a run.
pub fn at(date: &str, time: &str) -> DateTime<Utc> {
    format!("{date}T{time}Z").parse().expect("test timestamp")
}

/// Noon UTC on `TODAY`.
pub fn now() -> DateTime<Utc> {
    at(TODAY, "12:00:00")
}

/// A date literal.
pub fn day(text: &str) -> NaiveDate {
    text.parse().expect("test date")
}

/// The fake's config for tests: real credentials, generous rate limit so tests stay quick.
pub fn fake_config() -> FakeConfig {
    FakeConfig {
        rate_limit: Some(RateLimit {
            per_minute: 60_000,
            burst: 100,
        }),
        ..FakeConfig::default()
    }
}

/// A generated company (seed 7) realistic for [`TODAY`].
pub fn company(employees: usize) -> Company {
    generate_company(&CompanySpec {
        employees,
        seed: 7,
        today: day(TODAY),
    })
}

/// The key of person `id` of the main account.
pub fn key(id: u64) -> PersonKey {
    PersonKey::new(AccountId::default(), PersonioId::new(id))
}

/// The id of the first person with `status` (and no termination date) in `company`.
pub fn first_with_status(company: &Company, status: &str) -> u64 {
    company
        .employees
        .iter()
        .find(|employee| employee.status == status && employee.termination_date.is_none())
        .map(|employee| employee.id)
        .expect("the generated company has someone with this status")
}
