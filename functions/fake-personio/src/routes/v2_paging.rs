//! v2 cursor paging (personio-api.md §2.5): `limit`, opaque `cur_…` cursors that only the fake's
//! own `next` links carry, and the `_meta.links` of a list.
//!
//! A cursor holds the id of the last item served, not an offset, so people added or removed
//! between pages make nobody be skipped or served twice. It also holds the list's filters and
//! `limit`: whether Personio wants them re-sent with a cursor is undocumented, so the cursor
//! alone is enough and re-sent ones are ignored.

use super::v2::bad_request;
use axum::response::Response;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::fmt::Write;

/// A list's page sizes: the default and the largest `limit`.
#[derive(Clone, Copy)]
pub(super) struct Limits {
    pub default: usize,
    pub max: usize,
}

/// Persons and employments: 1-50, default 10.
pub(super) const PERSON_LIMITS: Limits = Limits {
    default: 10,
    max: 50,
};

/// One page request of a list, from its query or its cursor.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct PageRequest {
    /// Which list it pages (`persons`, `workplaces`, …): a cursor opens no other list.
    list: String,
    /// The id of the last item served; the page starts after it.
    pub after: Option<u64>,
    pub limit: usize,
    /// The list's filters as first sent (name, value).
    pub filters: Vec<(String, String)>,
}

impl PageRequest {
    /// The request of this page: from `cursor` when there is one (ignoring everything else),
    /// else from `limit` and the parameters named in `filter_names`. The error is the 400.
    pub fn parse(
        pairs: &[(String, String)],
        list: &str,
        limits: Limits,
        filter_names: &[&str],
        key: u64,
    ) -> Result<Self, Box<Response>> {
        let value = |wanted: &str| {
            pairs
                .iter()
                .find(|(name, _)| name == wanted)
                .map(|(_, value)| value.as_str())
        };
        if let Some(cursor) = value("cursor") {
            return decode(cursor, key)
                .filter(|request: &PageRequest| request.list == list)
                .ok_or_else(|| Box::new(bad_request("The cursor is not valid.")));
        }
        let limit = match value("limit") {
            None => limits.default,
            Some(text) => text
                .trim()
                .parse::<usize>()
                .ok()
                .filter(|limit| (1..=limits.max).contains(limit))
                .ok_or_else(|| {
                    Box::new(bad_request(&format!(
                        "limit must be a whole number between 1 and {}.",
                        limits.max
                    )))
                })?,
        };
        let filters = pairs
            .iter()
            .filter(|(name, _)| filter_names.contains(&name.as_str()))
            .cloned()
            .collect();
        Ok(Self {
            list: list.to_owned(),
            after: None,
            limit,
            filters,
        })
    }

    /// The value of filter `name`, if sent.
    pub fn filter(&self, name: &str) -> Option<&str> {
        self.filters
            .iter()
            .find(|(filter, _)| filter == name)
            .map(|(_, value)| value.as_str())
    }

    /// The page of `items` (ordered by id) this request asks for, and the request of the next
    /// page when more items follow.
    pub fn page<'a, T>(
        &self,
        items: impl Iterator<Item = &'a T>,
        id: impl Fn(&T) -> u64,
    ) -> (Vec<&'a T>, Option<PageRequest>) {
        let mut rest = items.filter(|item| self.after.is_none_or(|after| id(item) > after));
        let page: Vec<&T> = rest.by_ref().take(self.limit).collect();
        let next = match (rest.next(), page.last()) {
            (Some(_), Some(last)) => Some(PageRequest {
                after: Some(id(last)),
                ..self.clone()
            }),
            _ => None,
        };
        (page, next)
    }
}

/// `_meta.links` of a list page: `self` as requested, `next` only when a page follows.
pub(super) fn links(
    base_url: &str,
    path: &str,
    self_href: &str,
    next: Option<&PageRequest>,
    key: u64,
) -> Value {
    let mut links = json!({ "self": { "href": format!("{base_url}{self_href}") } });
    if let Some(next) = next {
        links["next"] = json!({ "href": format!("{base_url}{path}?cursor={}", encode(next, key)) });
    }
    json!({ "links": links })
}

/// `cur_<hex of the JSON request><16 hex digits of a keyed checksum>`: opaque, and a cursor the
/// fake did not make (or made for another server) fails the checksum.
fn encode(request: &PageRequest, key: u64) -> String {
    let json = serde_json::to_vec(request).unwrap_or_default();
    let mut cursor = String::with_capacity(4 + 2 * json.len() + 16);
    cursor.push_str("cur_");
    for byte in &json {
        let _ = write!(cursor, "{byte:02x}");
    }
    let _ = write!(cursor, "{:016x}", checksum(&json, key));
    cursor
}

fn decode(cursor: &str, key: u64) -> Option<PageRequest> {
    let hex = cursor.trim().strip_prefix("cur_")?;
    if hex.len() < 16 || !hex.is_ascii() || hex.len() % 2 != 0 {
        return None;
    }
    let (payload, sum) = hex.split_at(hex.len() - 16);
    let json = (0..payload.len())
        .step_by(2)
        .map(|at| u8::from_str_radix(&payload[at..at + 2], 16).ok())
        .collect::<Option<Vec<u8>>>()?;
    if u64::from_str_radix(sum, 16).ok()? != checksum(&json, key) {
        return None;
    }
    serde_json::from_slice(&json).ok()
}

/// FNV-1a over the server's key and the payload: not cryptographic, only to tell the fake's own
/// cursors from others.
fn checksum(payload: &[u8], key: u64) -> u64 {
    key.to_le_bytes()
        .iter()
        .chain(payload)
        .fold(0xcbf2_9ce4_8422_2325_u64, |hash, byte| {
            (hash ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01b3)
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(query: &[(&str, &str)]) -> Vec<(String, String)> {
        query
            .iter()
            .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
            .collect()
    }

    #[test]
    fn a_cursor_round_trips_and_carries_limit_and_filters() {
        let first = PageRequest::parse(
            &pairs(&[("limit", "2"), ("status", "ACTIVE"), ("other", "x")]),
            "persons",
            PERSON_LIMITS,
            &["status"],
            7,
        )
        .expect("valid");
        let items = [1u64, 2, 3];
        let (page, next) = first.page(items.iter(), |id| *id);
        assert_eq!(page, [&1, &2]);
        let next = next.expect("a next page");
        let cursor = encode(&next, 7);
        assert!(cursor.starts_with("cur_"));
        let again = PageRequest::parse(
            &pairs(&[("cursor", &cursor), ("limit", "0")]),
            "persons",
            PERSON_LIMITS,
            &["status"],
            7,
        )
        .expect("the cursor alone counts");
        assert_eq!(again, next);
        assert_eq!(again.filter("status"), Some("ACTIVE"));
        let (page, next) = again.page(items.iter(), |id| *id);
        assert_eq!((page, next), (vec![&3], None));
    }

    #[test]
    fn foreign_tampered_and_other_lists_cursors_are_refused() {
        let request = PageRequest {
            list: "persons".to_owned(),
            after: Some(5),
            limit: 10,
            filters: Vec::new(),
        };
        let cursor = encode(&request, 7);
        assert_eq!(decode(&cursor, 7), Some(request));
        assert_eq!(decode(&cursor, 8), None);
        assert_eq!(decode("cur_234ls0f02lalfdd", 7), None);
        let parse =
            |list| PageRequest::parse(&pairs(&[("cursor", &cursor)]), list, PERSON_LIMITS, &[], 7);
        assert!(parse("persons").is_ok());
        assert!(parse("workplaces").is_err());
    }

    #[test]
    fn limits_outside_the_range_are_refused() {
        for limit in ["0", "51", "ten", "-1"] {
            let parsed = PageRequest::parse(
                &pairs(&[("limit", limit)]),
                "persons",
                PERSON_LIMITS,
                &[],
                7,
            );
            assert!(parsed.is_err(), "{limit}");
        }
    }
}
