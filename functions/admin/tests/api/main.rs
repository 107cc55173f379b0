//! The admin API end to end: the real router, called in-process as its Lambda calls it, on the
//! real AWS SDK clients against moto, with a fake Personio over HTTP per tenant and the real
//! worker running what it queues. Every response is checked against
//! `docs/admin-api.openapi.yaml`, and no response or log line may carry a secret.
//!
//! Servers: `eval "$(bash infra/moto-server.sh)"` first, or nothing, and the tests start moto from
//! `.venv` themselves.
//!
//! - `tenants`: create, read, replace (ETag / If-Match), enable, disable, delete, bad input.
//! - `credentials`: Personio credentials checked before they are stored, tokens, rotation.
//! - `settings`: mapping and scope checked against the live Personio attributes.
//! - `runs`: sync now, history pages, errors.csv, approve and reject.
//! - `preview`: who is in scope and what the next run would do.

mod credentials;
mod people;
mod preview;
mod rehires;
mod runs;
mod settings;
mod support;
mod tenants;
mod undo;
