//! Reading and writing item attributes: JSON documents, numbers, and documents split into chunks
//! that each fit in one item.
//!
//! DynamoDB items are at most 400 KB. A run with thousands of changes, or a held plan for
//! thousands of people, is larger, so its JSON text is cut into pieces of at most
//! [`CHUNK_BYTES`] (at character boundaries) stored as separate items and joined on read.

use aws_sdk_dynamodb::types::AttributeValue;
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::collections::HashMap;
use sync_core::ports::StoreError;

/// One item as the SDK holds it.
pub type Item = HashMap<String, AttributeValue>;

/// Bytes of JSON text per chunk item: well under the 400 KB item limit, leaving room for the
/// keys and the other attributes.
pub const CHUNK_BYTES: usize = 350_000;

/// A string attribute.
pub fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

/// A number attribute.
pub fn n(value: u64) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

/// A new item with its keys.
pub fn item(pk: &str, sk: &str) -> Item {
    let mut item = Item::new();
    item.insert(super::keys::PK.to_owned(), s(pk));
    item.insert(super::keys::SK.to_owned(), s(sk));
    item
}

/// Where an item is, for error messages: `table T item pk/sk`.
pub fn location(table: &str, pk: &str, sk: &str) -> String {
    format!("table {table} item {pk} / {sk}")
}

/// The sort key of an item read back.
pub fn sort_key(item: &Item) -> Option<&str> {
    item.get(super::keys::SK)
        .and_then(|v| v.as_s().ok())
        .map(String::as_str)
}

/// A string attribute of an item read back.
pub fn text<'a>(item: &'a Item, name: &str, location: &str) -> Result<&'a str, StoreError> {
    match item.get(name) {
        Some(AttributeValue::S(value)) => Ok(value),
        Some(_) => Err(corrupt(
            location,
            format!("attribute {name} is not a string"),
        )),
        None => Err(corrupt(location, format!("attribute {name} is missing"))),
    }
}

/// A number attribute of an item read back; a missing one reads as `default`.
pub fn number(item: &Item, name: &str, default: u64, location: &str) -> Result<u64, StoreError> {
    match item.get(name) {
        Some(AttributeValue::N(value)) => value
            .parse()
            .map_err(|_| corrupt(location, format!("attribute {name} is not a whole number"))),
        Some(_) => Err(corrupt(
            location,
            format!("attribute {name} is not a number"),
        )),
        None => Ok(default),
    }
}

/// JSON text of `value`.
pub fn to_json<T: Serialize>(value: &T, location: &str) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(|err| StoreError::Io {
        action: "write",
        location: location.to_owned(),
        detail: format!("could not encode the value as JSON: {}", json_detail(&err)),
    })
}

/// Parses JSON text read back from the table.
pub fn from_json<T: DeserializeOwned>(json: &str, location: &str) -> Result<T, StoreError> {
    serde_json::from_str(json).map_err(|err| corrupt(location, json_detail(&err)))
}

/// A damaged item.
pub fn corrupt(location: &str, detail: String) -> StoreError {
    StoreError::Corrupt {
        location: location.to_owned(),
        detail,
    }
}

/// What a JSON error says, without the values it may quote: stored documents hold names and
/// emails, and this text reaches admins and logs.
fn json_detail(err: &serde_json::Error) -> String {
    use serde_json::error::Category;
    let at = format!("line {} column {}", err.line(), err.column());
    let message = err.to_string();
    match err.classify() {
        // "missing field `x`" names a field of ours, never a value.
        Category::Data if message.starts_with("missing field") => message,
        Category::Data => format!("a field has an unexpected type or value at {at}"),
        Category::Syntax | Category::Eof => format!("it is not complete, valid JSON (at {at})"),
        Category::Io => format!("it could not be read ({at})"),
    }
}

/// Cuts `json` into pieces of at most `max` bytes at character boundaries; empty text gives no
/// pieces.
pub fn split_chunks(json: &str, max: usize) -> Vec<&str> {
    let mut pieces = Vec::new();
    let mut rest = json;
    while !rest.is_empty() {
        let mut end = max.min(rest.len());
        // A UTF-8 character is at most 4 bytes, so this steps back at most 3 times.
        while !rest.is_char_boundary(end) {
            end -= 1;
        }
        let (piece, tail) = rest.split_at(end);
        pieces.push(piece);
        rest = tail;
    }
    pieces
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_rejoin_to_the_original_text_even_across_multibyte_characters() {
        let text = "äöü€😀".repeat(1000);
        for max in [4, 5, 7, 350] {
            let pieces = split_chunks(&text, max);
            assert!(pieces.iter().all(|p| p.len() <= max && !p.is_empty()));
            assert_eq!(pieces.concat(), text);
        }
        assert!(split_chunks("", 10).is_empty());
    }

    #[test]
    fn json_errors_never_quote_values() {
        #[derive(serde::Deserialize, Debug)]
        struct Person {
            #[allow(dead_code)] // Only parsed, to provoke the error.
            age: u32,
        }
        let err = from_json::<Person>(r#"{"age": "Ada Lovelace"}"#, "here").unwrap_err();
        assert!(!err.to_string().contains("Ada"), "{err}");
        let err = from_json::<Person>("{}", "here").unwrap_err();
        assert!(err.to_string().contains("missing field `age`"), "{err}");
    }
}
