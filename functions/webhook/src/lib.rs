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
//! A delivery is recorded (its fingerprint kept for 72 hours) only after its run is queued, so a
//! delivery cut short anywhere before that (the Lambda stopped mid-way, a port failing past the
//! SDK's attempts) leaves nothing that would drop Personio's retry as a duplicate. Repeats are
//! kept out by the queue instead: a one-person run is queued under the delivery's fingerprint, and
//! SQS FIFO drops a second message with the same deduplication id within 5 minutes (past that, a
//! retry queues one more run, which finds nothing to change).
//!
//! Full runs are debounced by a "full run pending" mark in the event log, not a time window. The
//! first event of a burst creates the mark with its id; every event until the worker clears it
//! queues its run under that id, so the queue keeps one message. The worker clears the mark as
//! that run starts, before it reads Personio, so an event from then on gets a new id and queues
//! one more run (a window would swallow an event that arrives after the run has read Personio).
//! An event whose Lambda died between setting the mark and queueing leaves a mark that the next
//! event, or Personio's retry, queues under: no change waits on a run that was never queued.
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
