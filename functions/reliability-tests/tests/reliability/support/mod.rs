//! Test support: the fault proxy, the faulty tenant and its clean reference, the AWS stack on
//! moto, the Personio changes between runs, the content views compared, the invariant checks,
//! the captured logs, the recording mailbox, and an oracle independent of the engine.

pub mod aws;
pub mod changes;
pub mod checks;
pub mod fault_proxy;
pub mod logs;
pub mod mailbox;
pub mod oracle;
pub mod tenant;
pub mod view;
