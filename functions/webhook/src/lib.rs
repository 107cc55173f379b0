//! The Personio webhook receiver: checks a delivery, drops duplicates and queues the run it asks
//! for, within Personio's 3-second window (personio-api.md §3.2). Independent of Lambda and AWS:
//! [`handle`] works through the core ports, so tests call it in-process or behind any HTTP server,
//! and the Lambda binary only translates the HTTP API event.
//!
//! # Layout
//! - `handler`: [`handle`], [`WebhookDeps`], [`WebhookRequest`], [`WebhookResponse`].
//! - [`lambda`]: the API Gateway event in, the Lambda's answer out.
//! - `misses`: [`Misses`], tenants recently found without a config or webhook secret.
//! - [`envelope`]: the envelope `{company_id, event_name, occurred_at, payload, meta}` and what
//!   an event asks of the sync (including the payload assumption below).
//! - the tenant's webhook secret, its two forms and the constant-time token check, live in
//!   `sync_core::personio::webhooks::secret`, so every `Secrets` adapter reads it the same way;
//!   they are re-exported here.
//!
//! # Answers
//!
//! | delivery | status | queued |
//! | --- | --- | --- |
//! | body over 64 KiB (checked first) | 413 | nothing |
//! | content type other than `application/json` (parameters allowed) | 415 | nothing |
//! | malformed or unknown tenant id, no token, wrong token, another tenant's token | 401, one body for all | nothing |
//! | not JSON, or `company_id`/`event_name`/`occurred_at`/`payload` missing | 400 | nothing |
//! | `company_id` other than the one(s) the tenant's secret names | 400 | nothing |
//! | an event Personio does not document (logged by name) | 202 `ignored_unknown_event` | nothing: a 4xx would make Personio retry it for days |
//! | `ping` | 200 | nothing |
//! | a body seen in the last 72 hours (Personio's retries) | 200 `duplicate` | nothing |
//! | `person.*` or `employment.*` with a usable person id | 202 | a one-person run |
//! | any other documented event, or a person/employment event without a usable id | 202 | a full run, unless one is queued and not started yet |
//! | a port failed (config, secret, event log, queue) | 503 | nothing |
//! | the tenant's stored secret is unusable (logged as an error for the operator) | 401, as any refused token | nothing |
//!
//! `person.deleted` queues a one-person run as well: the engine finds the person gone from
//! Personio (404) and deactivates the linked user.
//!
//! # Assumptions
//!
//! Personio does not document the per-event payload (§3.4); the person id is read from
//! `payload.id` (person events only), `payload.person_id`, `payload.person.id` or
//! `payload.employee_id`, as a number or a numeric string. When none is there the event still
//! counts, as a full run. Personio sends no signature and no event id (§3.3): the per-tenant
//! static token authenticates, and the SHA-256 of the raw body identifies a delivery.
//!
//! A queued run is keyed by the delivery, so SQS drops only our own repeats of one delivery. Full
//! runs are debounced by a "full run pending" mark in the event log instead of a time window:
//! the first event queues a run and sets the mark, later ones queue nothing while it is set, and
//! the worker clears it as that run starts, before it reads Personio, so an event from then on
//! queues one more run (a window would swallow an event that arrives after the run has read
//! Personio but within its window). The fingerprint is recorded before the run is queued (one conditional write decides between
//! racing duplicates); if queueing fails, or recording itself fails, the fingerprint is forgotten
//! again and the answer is 503, so Personio's retry is taken as new. The Lambda's AWS clients give
//! up on a call after `SDK_OPERATION_TIMEOUT_MS` (template.yaml), so a hung service still leaves
//! time to forget within the function's 10 s. Only when forgetting fails too is the retry dropped;
//! the change then waits for the tenant's next scheduled run.
//!
//! Logs carry the tenant id, the event name, person ids and the outcome; never the body, the token
//! or anything personal.

pub mod envelope;
mod handler;
pub mod lambda;
mod misses;

pub use envelope::{Envelope, EnvelopeError, EventRequest};
pub use handler::{
    handle, WebhookDeps, WebhookRequest, WebhookResponse, DEDUPE_HOURS, FULL_RUN_PENDING_MINUTES,
    MAX_BODY_BYTES,
};
pub use misses::{Miss, Misses, MISS_TTL};
pub use sync_core::personio::webhooks::{CompanyCheck, SecretFormatError, WebhookSecret};
