//! Test support: the fault proxy, the faulty tenant and its clean reference, the AWS stack on
//! moto, the Personio changes between runs, the content views compared, the invariant checks,
//! the captured logs and the recording mailbox.

pub mod aws;
pub mod changes;
pub mod checks;
pub mod fault_proxy;
pub mod logs;
pub mod mailbox;
pub mod tenant;
pub mod view;

/// moto on 127.0.0.1, shared with lambda-tests: the same file, compiled into this binary, so
/// the two suites start and find moto the same way (`MOTO_URL`, else `.venv/bin/moto_server`).
#[path = "../../../../lambda-tests/tests/lambda/support/moto.rs"]
#[allow(dead_code)] // Only `shared` and `unique` are used here; the recorder is lambda-tests'.
pub mod moto;
