//! DynamoDB's size and capacity-unit rules, applied to the JSON of its wire protocol, so a proxy
//! can price the requests the real adapters send (moto reports no consumed capacity).
//!
//! Item size (DynamoDB developer guide, "Item sizes and formats"): per attribute, its name's UTF-8
//! bytes plus its value: a string's UTF-8 bytes, a binary's bytes, about one byte per two
//! significant digits of a number plus one, one byte for a boolean or null, and for a list or map
//! three bytes plus one byte per element plus the elements (and a map's keys).
//!
//! Units: a write costs one WRU per started KB of the item written (two in a transaction); a
//! read one RRU per started 4 KB, summed over the items of a Query page or per item of a GetItem,
//! half of that when eventually consistent. What the proxy cannot see it prices low and the
//! report says so: a delete is priced at one unit (DynamoDB charges the deleted item's size), an
//! update at the size of its key and new values (DynamoDB charges the larger of the item before
//! and after), and a Query with a projection at the projected size (DynamoDB charges whole items).

use serde_json::{Map, Value};

/// Bytes DynamoDB counts for one item given as `{"name": {"S": "…"}, …}`.
pub fn item_size(item: &Map<String, Value>) -> u64 {
    item.iter()
        .map(|(name, value)| name.len() as u64 + value_size(value))
        .sum()
}

/// Bytes of one attribute value (`{"S": "…"}`, `{"M": {…}}`, …).
pub fn value_size(value: &Value) -> u64 {
    let Some((kind, inner)) = value.as_object().and_then(|map| map.iter().next()) else {
        return 0;
    };
    match (kind.as_str(), inner) {
        ("S", Value::String(text)) => text.len() as u64,
        ("N", Value::String(text)) => number_size(text),
        // Base64 on the wire: three bytes per four characters.
        ("B", Value::String(text)) => text.len() as u64 * 3 / 4,
        ("BOOL" | "NULL", _) => 1,
        ("L", Value::Array(items)) => 3 + items.iter().map(|v| 1 + value_size(v)).sum::<u64>(),
        ("M", Value::Object(map)) => 3 + map.len() as u64 + item_size(map),
        ("SS", Value::Array(items)) => items.iter().map(text_len).sum(),
        ("BS", Value::Array(items)) => items.iter().map(|v| text_len(v) * 3 / 4).sum(),
        ("NS", Value::Array(items)) => items
            .iter()
            .map(|v| number_size(v.as_str().unwrap_or_default()))
            .sum(),
        _ => 0,
    }
}

fn text_len(value: &Value) -> u64 {
    value.as_str().map_or(0, |text| text.len() as u64)
}

/// One byte per two significant digits, plus one.
fn number_size(text: &str) -> u64 {
    let digits: String = text.chars().filter(char::is_ascii_digit).collect();
    let significant = digits.trim_start_matches('0').trim_end_matches('0').len() as u64;
    significant.max(1).div_ceil(2) + 1
}

/// Write units of writing an item of `bytes`: one per started KB, at least one.
pub fn write_units(bytes: u64) -> f64 {
    bytes.div_ceil(1024).max(1) as f64
}

/// Read units of reading `bytes` in one item or one Query page: one per started 4 KB, at least
/// one; half when eventually consistent.
pub fn read_units(bytes: u64, consistent: bool) -> f64 {
    let units = bytes.div_ceil(4096).max(1) as f64;
    if consistent {
        units
    } else {
        units / 2.0
    }
}

/// The items of a JSON array of items (`Items`, a table's `Responses`).
pub fn items_of(value: Option<&Value>) -> impl Iterator<Item = &Map<String, Value>> {
    value
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_object)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn size(item: Value) -> u64 {
        item_size(item.as_object().expect("an item"))
    }

    #[test]
    fn sizes_follow_the_rules_of_the_developer_guide() {
        // "pk" 2 + 8, "sk" 2 + 6.
        assert_eq!(
            size(json!({"pk": {"S": "TENANT#a"}, "sk": {"S": "CONFIG"}})),
            18
        );
        // "n" 1 + (3 significant digits -> 2) + 1.
        assert_eq!(size(json!({"n": {"N": "12300"}})), 4);
        // "m" 1 + 3 + 1 per element + "a" 1 + true 1.
        assert_eq!(size(json!({"m": {"M": {"a": {"BOOL": true}}}})), 7);
        assert_eq!(
            size(json!({"l": {"L": [{"S": "xy"}, {"NULL": true}]}})),
            1 + 3 + 3 + 2
        );
    }

    #[test]
    fn units_round_up_per_started_block() {
        assert_eq!(write_units(0), 1.0);
        assert_eq!(write_units(1025), 2.0);
        assert_eq!(read_units(4097, true), 2.0);
        assert_eq!(read_units(100, false), 0.5);
    }
}
