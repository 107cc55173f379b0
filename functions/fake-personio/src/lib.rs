//! A fake Personio v1 API for integration tests, benchmarks and the demo.
//!
//! It speaks the documented v1 shapes (personio-api.md §1): `POST /v1/auth` with
//! stable `papi-` tokens, offset-paged `GET /v1/company/employees` with the credential's attribute
//! whitelist, single employees, the attribute catalogue, the two writes (`POST` a new employee,
//! `PATCH` one, `routes::writes`; a credential without write access gets 403), Personio's rate
//! limit, and faults a test
//! can switch on at run time (429 storms, 5xx pages, expired tokens, malformed bodies, people
//! moving between pages, empty lists, slow answers).
//!
//! It also speaks the parts of v2 a webhook setup needs (§2.1, §3): `POST /v2/auth/token`, the
//! webhook management API under `/v2/webhooks`, and event delivery: [`FakePersonio::emit`] POSTs
//! Personio's envelope to every enabled, subscribed webhook with its token verbatim in
//! `Authorization`, retries unacknowledged requests like Personio (on a millisecond schedule),
//! and records every request ([`FakePersonio::deliveries`]).
//!
//! And it serves the same company over v2 (§2.2-2.7), so a v2 client reads the same people as a
//! v1 client, with v2 tokens only (a v1 token gets 401, as does a credential without the read
//! right):
//!
//! - `GET /v2/persons`: cursor-paged by id (`limit` 1-50, default 10; opaque `cur_…` cursors
//!   that carry the filters and the limit), filters `id`, `email` (comma lists), `updated_at.gt`
//!   and `status`; `GET /v2/persons/{id}`: the bare `Person`.
//! - `GET /v2/persons/{id}/employments`: the person's one `Employment` in a list (`_data`,
//!   `_meta.links.self`); `GET /v2/persons/{id}/employments/{employment_id}`: the bare one. Its
//!   id is a stable UUID-shaped string derived from the person id.
//! - Reference data, to resolve an employment's ids to the names v1 shows (ids are strings):
//!   `GET /v2/org-units/{id}?type=department|team` → `{"id", "type", "name"}`;
//!   `GET /v2/legal-entities[/{id}]` (1-100, default 20) → `{"id", "name", "country"}`;
//!   `GET /v2/workplaces` (offices) and `GET /v2/cost-centers` (1-200, default 100) →
//!   `{"id", "name"}`. The lists are cursor-paged by id and take an `id` filter.
//! - Rate limits (§2.9): a token bucket per family (persons, employments, reference data), apart
//!   from v1's, reported on every answer in `x-ratelimit-replenish-rate`, `-burst-capacity`,
//!   `-requested-tokens` and `-remaining`; over it, 429 with `Retry-After: 1`. It starts at
//!   [`FakeConfig::rate_limit`]; [`FakePersonio::set_v2_rate_limit`] changes it.
//!
//! # Layout
//!
//! - [`company`]: the people and org units as plain, mutable structs.
//! - [`generate`]: a seeded, deterministic company generator.
//! - `roster`: the names and org structure the generator draws from; `org` builds the company
//!   without people from it.
//! - `catalog`: the standard attribute table and the whitelist / projection filter.
//! - `render`: people → v1 JSON, written straight into the response buffer (`render::shapes`:
//!   the value shapes); `render::v2`: people → v2 `Person` and `Employment` values.
//! - [`server`]: the [`FakePersonio`] handle and its shared state; `routes`: the HTTP handlers.
//! - `auth`, `throttle`, [`fault`]: tokens, the token buckets (v1's, and v2's per family) and
//!   the switchable faults.
//! - [`webhooks`]: subscriptions, the delivery policy and the delivery record; `delivery` sends
//!   events; `routes::v2` serves the token and webhook endpoints.
//! - `routes::v2_persons`: the v2 persons and employments endpoints, behind `routes::v2_admit`
//!   (token, read right, storms, delays) and paged by `routes::v2_paging` (cursors, links);
//!   `routes::v2_reference`: the reference data.
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! use fake_personio::{generate_company, CompanySpec, FakeConfig, FakePersonio};
//! let today = chrono::NaiveDate::from_ymd_opt(2025, 3, 14).unwrap();
//! let company = generate_company(&CompanySpec { employees: 500, seed: 1, today });
//! let fake = FakePersonio::start(company, FakeConfig::default()).await?;
//! println!("{}/v1/company/employees", fake.url());
//! # Ok(()) }
//! ```

mod auth;
mod catalog;
pub mod company;
mod delivery;
pub mod fault;
pub mod generate;
mod org;
mod picture;
mod render;
mod roster;
mod routes;
pub mod server;
mod throttle;
pub mod webhooks;

pub use company::{
    Company, CostCenterShare, CustomAttribute, EmptyStyle, FakeEmployee, Office, OffsetStyle,
    OrgUnit,
};
pub use fault::Fault;
pub use generate::{generate_company, CompanySpec};
pub use picture::profile_picture_png;
pub use render::employee_json;
pub use server::{FakeConfig, FakePersonio, RateLimit, Stats};
pub use throttle::LimitModel;
pub use webhooks::{AuthType, Delivery, DeliveryPolicy, Webhook, WebhookStatus, WEBHOOK_EVENTS};
