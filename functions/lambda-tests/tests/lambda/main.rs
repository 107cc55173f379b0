//! End-to-end tests of the AWS side: the real scheduler and worker handlers, called in-process
//! with the event payloads Lambda delivers (an EventBridge scheduled event, SQS batches built from
//! messages received from the FIFO queue), on the real AWS SDK clients against moto, with a fake
//! Personio over HTTP and a real destination (scim2-server, or the JSON directory).
//!
//! Servers: `eval "$(bash infra/moto-server.sh)"; eval "$(bash infra/scim2-server.sh)"` before
//! `cargo test -p lambda-tests`, or nothing, and the tests start both from `.venv` themselves.
//!
//! - `schedule`: a tick, the due tenants only, and everything a run leaves behind.
//! - `tick`: a tick at scale: hundreds of tenants, a retried tick, failing tenants beside others.
//! - `isolation`: tenants never see each other's data or credentials.
//! - `ordering`: a tenant's runs never overlap (FIFO message groups).
//! - `deadline`: partial runs, continuations, and crashes between write and save.
//! - `held`: jobs of a tenant whose run is held wait for approval.
//! - `no_op`: a run with nothing to do writes only its run record.
//! - `batch`: unreadable, final and transient failures in one batch.
//! - `webhook`: a Personio delivery through the webhook handler, the queue and the worker.
//! - `rotation`: a credential rotated while a warm worker holds the old one in its cache.
//! - `progress`: a running run's live progress, kept while it applies and removed at its end.
//! - `console`: the admins' console on the stack: email links, approvals and sync now through the queue.
//! - `pictures`: profile pictures hosted in the stack's S3 bucket by the worker, served by the console.
//! - `simulation`: 1,000 tenants over three ticks, measured (`#[ignore]`d; run with `--ignored`).

mod batch;
mod console;
mod deadline;
mod fields;
mod held;
mod incremental;
mod isolation;
mod no_op;
mod ordering;
mod origin;
mod pictures;
mod progress;
mod rotation;
mod schedule;
mod simulation;
mod support;
mod tick;
mod webhook;
