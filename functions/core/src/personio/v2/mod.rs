//! Personio's v2 API as a source of people (personio-api.md §2): persons and their employments,
//! read into the same [`crate::employee::Employee`] as v1.
//!
//! - `wire`: the JSON of persons, employments, cursor-paged lists and reference items.
//! - `convert`: a person and their employment as v1's `attributes` object, so v1's reader
//!   (`normalise`) reads both APIs the same way.
//! - `read` (private): the requests: persons page by page, employments, reference names.

pub mod convert;
pub(super) mod read;
pub mod wire;
