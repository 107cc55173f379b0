//! End-to-end tests: the engine against the fake Personio over real HTTP on 127.0.0.1, the JSON
//! directory, the state folder and the outbox. One test binary, so it links once.

mod derived;
mod faults;
mod features;
mod groups;
mod guards;
mod incremental;
mod labels;
mod lifecycle;
mod pictures;
mod scim;
mod state;
mod stopped;
mod v2;
