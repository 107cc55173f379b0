//! Lenient readers for the value shapes of one v1 attribute (personio-api.md §1.4).
//!
//! Each reader takes the raw JSON `value` and answers `Some` when it recognises the shape. Deciding
//! which reader applies to which attribute, and whether a miss is an error, is `normalise`'s job.

use crate::employee::{AttrValue, NamedRef};
use chrono::{DateTime, NaiveDate, NaiveDateTime};
use serde_json::{Map, Value};

/// One attribute split into its parts. Accepts the documented wrapper `{label, value, type?,
/// universal_id?}` and, for old or odd responses, a bare value without the wrapper.
pub(super) struct RawAttribute<'a> {
    /// The declared `type` (`standard`, `date`, `integer`, …), when sent.
    pub declared: Option<&'a str>,
    /// The cross-tenant name, when sent and not null.
    pub universal_id: Option<&'a str>,
    /// The value itself.
    pub value: &'a Value,
}

impl<'a> RawAttribute<'a> {
    /// Splits `raw` into declared type, universal id and value.
    pub fn from_json(raw: &'a Value) -> Self {
        match raw.as_object().filter(|object| is_wrapper(object)) {
            Some(wrapper) => Self {
                declared: wrapper.get("type").and_then(Value::as_str),
                universal_id: wrapper
                    .get("universal_id")
                    .and_then(Value::as_str)
                    .filter(|id| !id.trim().is_empty()),
                value: wrapper.get("value").unwrap_or(&Value::Null),
            },
            None => Self {
                declared: None,
                universal_id: None,
                value: raw,
            },
        }
    }
}

// A wrapper always has `value` (maybe null) or at least a `label`; an object *value* (office,
// supervisor) has `type` and `attributes` instead, so the two never look alike.
fn is_wrapper(object: &Map<String, Value>) -> bool {
    object.contains_key("value")
        || (object.contains_key("label") && !object.contains_key("attributes"))
}

/// Whether Personio sent "nothing": `null`, `""` (or only spaces), `[]` or `{}`. Empty object
/// attributes arrive as `""` or `[]` instead of `null` (personio-py changelog).
pub(super) fn is_empty(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::String(text) => text.trim().is_empty(),
        Value::Array(items) => items.is_empty(),
        Value::Object(fields) => fields.is_empty(),
        Value::Bool(_) | Value::Number(_) => false,
    }
}

/// A calendar date from `2021-01-01`, `2014-11-09T00:00:00+01:00`, `…+0100`, `…Z` or a naive
/// date-time. The date is taken as written: Personio sends local midnight, and converting to UTC
/// would move a German hire date to the day before.
pub(super) fn date(value: &Value) -> Option<NaiveDate> {
    let text = value.as_str()?.trim();
    if let Ok(date) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        return Some(date);
    }
    if let Ok(moment) = DateTime::parse_from_rfc3339(text) {
        return Some(moment.date_naive());
    }
    // `%#z` accepts `+01:00`, `+0100` and `+01`; rfc3339 above already covered `Z`.
    for format in [
        "%Y-%m-%dT%H:%M:%S%#z",
        "%Y-%m-%dT%H:%M:%S%.f%#z",
        "%Y-%m-%dT%H:%M%#z",
    ] {
        if let Ok(moment) = DateTime::parse_from_str(text, format) {
            return Some(moment.date_naive());
        }
    }
    for format in [
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S",
    ] {
        if let Ok(moment) = NaiveDateTime::parse_from_str(text, format) {
            return Some(moment.date());
        }
    }
    None
}

/// A number sent as a JSON number or as text (`40`, `"40"`, `40.5`), as decimal text.
/// With `whole_only`, only whole numbers are accepted (a JSON `40.0` counts as whole).
pub(super) fn number(value: &Value, whole_only: bool) -> Option<String> {
    match value {
        Value::Number(number) if number.is_i64() || number.is_u64() => Some(number.to_string()),
        Value::Number(number) => {
            let float = number.as_f64()?;
            if !whole_only {
                Some(number.to_string())
            } else if float.fract() == 0.0 && float.abs() < 1e15 {
                // A JSON `40.0`; the cast is exact below 2^53.
                Some(format!("{}", float as i64))
            } else {
                None
            }
        }
        Value::String(text) => {
            let text = text.trim();
            let (whole, fraction) = match text.split_once('.') {
                Some((whole, fraction)) => (whole, Some(fraction)),
                None => (text, None),
            };
            let digits = whole.strip_prefix('-').unwrap_or(whole);
            let whole_ok = !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit());
            let fraction_ok = match fraction {
                None => true,
                Some(_) if whole_only => false,
                Some(fraction) => {
                    !fraction.is_empty() && fraction.bytes().all(|b| b.is_ascii_digit())
                }
            };
            (whole_ok && fraction_ok).then(|| text.to_owned())
        }
        _ => None,
    }
}

/// A positive whole id: `2`, `"2"`, or a nested wrapper `{"value": 2, …}` as inside a supervisor.
pub(super) fn id(value: &Value) -> Option<u64> {
    let id = match value {
        Value::Number(number) => number.as_u64(),
        Value::String(text) => text.trim().parse::<u64>().ok(),
        Value::Object(wrapper) => wrapper.get("value").and_then(id),
        _ => None,
    }?;
    (id > 0).then_some(id)
}

/// The id of another employee: `{type: "Employee", attributes: {id: {value: 2, …}}}`, the same
/// with a plain `id: 2`, or a bare id.
pub(super) fn employee_ref(value: &Value) -> Option<u64> {
    match value {
        Value::Object(object) => {
            let fields = object
                .get("attributes")
                .and_then(Value::as_object)
                .unwrap_or(object);
            fields.get("id").and_then(id)
        }
        Value::Number(_) | Value::String(_) => id(value),
        _ => None,
    }
}

/// An office, department, team, … : `{type, attributes: {id, name, …}}` or a flat `{id, name}`.
pub(super) fn named_ref(value: &Value) -> Option<NamedRef> {
    let object = value.as_object()?;
    let fields = object
        .get("attributes")
        .and_then(Value::as_object)
        .unwrap_or(object);
    let name = match fields.get("name")? {
        Value::String(name) => name.clone(),
        Value::Object(wrapper) => wrapper.get("value")?.as_str()?.to_owned(),
        _ => return None,
    };
    let id = fields.get("id").and_then(|raw| match raw {
        Value::Number(number) => number.as_i64(),
        Value::String(text) => text.trim().parse().ok(),
        Value::Object(wrapper) => wrapper.get("value").and_then(Value::as_i64),
        _ => None,
    });
    Some(NamedRef { id, name })
}

/// A multiple selection: `"A, B"`, a JSON-encoded list in a string (`'["A","B"]'`, reported by
/// personio-py), or a JSON array of strings. `None` for any other shape.
pub(super) fn tags(value: &Value) -> Option<Vec<String>> {
    match value {
        Value::String(text) => {
            let text = text.trim();
            if text.starts_with('[') {
                if let Ok(items) = serde_json::from_str::<Vec<Value>>(text) {
                    return Some(items.iter().filter_map(tag_text).collect());
                }
            }
            Some(
                text.split(',')
                    .map(str::trim)
                    .filter(|tag| !tag.is_empty())
                    .map(str::to_owned)
                    .collect(),
            )
        }
        Value::Array(items) if items.iter().all(|item| item.is_string()) => {
            Some(items.iter().filter_map(tag_text).collect())
        }
        _ => None,
    }
}

fn tag_text(item: &Value) -> Option<String> {
    let text = match item {
        Value::String(text) => text.trim().to_owned(),
        Value::Null => return None,
        other => other.to_string(),
    };
    (!text.is_empty()).then_some(text)
}

/// Any value, read without complaint: the fallback for `standard`, `list`, `link`, `multiline`
/// and unknown types. Shapes it does not recognise become their compact JSON text.
pub(super) fn anything(value: &Value) -> AttrValue {
    if is_empty(value) {
        return AttrValue::Empty;
    }
    match value {
        Value::String(text) => AttrValue::Text(text.clone()),
        Value::Number(number) => AttrValue::Number(number.to_string()),
        Value::Bool(flag) => AttrValue::Text(flag.to_string()),
        Value::Object(object) => {
            let is_employee = object.get("type").and_then(Value::as_str) == Some("Employee");
            let reference = if is_employee {
                employee_ref(value)
            } else {
                None
            };
            match (reference, named_ref(value)) {
                (Some(id), _) => AttrValue::Employee(crate::ids::PersonioId::new(id)),
                (None, Some(object)) => AttrValue::Object(object),
                (None, None) => AttrValue::Text(value.to_string()),
            }
        }
        Value::Array(items) => {
            let objects: Option<Vec<NamedRef>> = items.iter().map(named_ref).collect();
            match (objects, tags(value)) {
                (Some(objects), _) => AttrValue::Objects(objects),
                (None, Some(tags)) => AttrValue::Tags(tags),
                (None, None) => AttrValue::Text(value.to_string()),
            }
        }
        Value::Null => AttrValue::Empty,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn day(text: &str) -> Option<NaiveDate> {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").ok()
    }

    #[test]
    fn dates_keep_the_calendar_day_as_written_whatever_the_offset() {
        for text in [
            "2014-11-09",
            "2014-11-09T00:00:00+01:00",
            "2014-11-09T00:00:00+0100",
            "2014-11-09T00:00:00Z",
            "2014-11-09T00:00:00.000+01:00",
            "2014-11-09T00:00:00",
            "2014-11-09T23:30:00-05:00",
            " 2014-11-09 ",
        ] {
            assert_eq!(date(&json!(text)), day("2014-11-09"), "{text}");
        }
    }

    #[test]
    fn things_that_are_not_dates_are_refused() {
        for value in [
            json!("09.11.2014"),
            json!("2014-13-01"),
            json!("soon"),
            json!(20141109),
        ] {
            assert_eq!(date(&value), None);
        }
    }

    #[test]
    fn numbers_are_read_from_numbers_and_text() {
        assert_eq!(number(&json!(40), true).as_deref(), Some("40"));
        assert_eq!(number(&json!("40"), true).as_deref(), Some("40"));
        assert_eq!(number(&json!(40.0), true).as_deref(), Some("40"));
        assert_eq!(number(&json!(40.5), false).as_deref(), Some("40.5"));
        assert_eq!(number(&json!(" 40.5 "), false).as_deref(), Some("40.5"));
        assert_eq!(number(&json!("-3"), true).as_deref(), Some("-3"));
        assert_eq!(number(&json!(40.5), true), None);
        assert_eq!(number(&json!("40.5"), true), None);
        assert_eq!(number(&json!("forty"), false), None);
        assert_eq!(number(&json!("40,5"), false), None);
        assert_eq!(number(&json!("4."), false), None);
        assert_eq!(number(&json!(true), false), None);
    }

    #[test]
    fn ids_accept_numbers_text_and_nested_wrappers_but_not_zero() {
        assert_eq!(id(&json!(2)), Some(2));
        assert_eq!(id(&json!("123")), Some(123));
        assert_eq!(
            id(&json!({"label": "ID", "value": 2, "type": "integer"})),
            Some(2)
        );
        assert_eq!(id(&json!(0)), None);
        assert_eq!(id(&json!(-1)), None);
        assert_eq!(id(&json!("12a")), None);
        assert_eq!(id(&json!(1.5)), None);
    }

    #[test]
    fn supervisors_are_read_in_every_known_shape() {
        let nested = json!({"type": "Employee", "attributes": {"id": {"label": "ID", "value": 2, "type": "integer", "universal_id": "id"}}});
        let plain = json!({"type": "Employee", "attributes": {"id": 2}});
        assert_eq!(employee_ref(&nested), Some(2));
        assert_eq!(employee_ref(&plain), Some(2));
        assert_eq!(employee_ref(&json!(2)), Some(2));
        assert_eq!(
            employee_ref(&json!({"type": "Employee", "attributes": {}})),
            None
        );
    }

    #[test]
    fn object_values_become_named_refs() {
        let office = json!({"type": "Office", "attributes": {"id": 131014, "name": "Munich"}});
        assert_eq!(
            named_ref(&office),
            Some(NamedRef {
                id: Some(131014),
                name: "Munich".into()
            })
        );
        let flat = json!({"name": "Munich"});
        assert_eq!(
            named_ref(&flat),
            Some(NamedRef {
                id: None,
                name: "Munich".into()
            })
        );
        assert_eq!(
            named_ref(&json!({"type": "Office", "attributes": {"id": 1}})),
            None
        );
    }

    #[test]
    fn tags_come_as_comma_lists_json_lists_or_arrays() {
        let expected = Some(vec!["A".to_owned(), "B".to_owned()]);
        assert_eq!(tags(&json!("A, B")), expected);
        assert_eq!(tags(&json!("A,B,")), expected);
        assert_eq!(tags(&json!(r#"["A","B"]"#)), expected);
        assert_eq!(tags(&json!(["A", "B"])), expected);
        assert_eq!(
            tags(&json!(r#"["AT Power-Point","CI/CD"]"#)),
            Some(vec!["AT Power-Point".to_owned(), "CI/CD".to_owned()])
        );
        assert_eq!(
            tags(&json!("[not json")),
            Some(vec!["[not json".to_owned()])
        );
        assert_eq!(tags(&json!({"a": 1})), None);
    }

    #[test]
    fn empty_values_are_null_blank_text_and_empty_lists() {
        for value in [json!(null), json!(""), json!("  "), json!([]), json!({})] {
            assert!(is_empty(&value));
            assert_eq!(anything(&value), AttrValue::Empty);
        }
        assert!(!is_empty(&json!(0)));
    }

    #[test]
    fn unknown_shapes_become_text_instead_of_errors() {
        assert_eq!(anything(&json!(true)), AttrValue::Text("true".into()));
        assert_eq!(
            anything(&json!({"odd": 1})),
            AttrValue::Text(r#"{"odd":1}"#.into())
        );
        assert_eq!(
            anything(&json!([1, "a"])),
            AttrValue::Text(r#"[1,"a"]"#.into())
        );
    }

    #[test]
    fn a_bare_value_without_the_wrapper_is_accepted() {
        let bare = json!("Ada");
        let attribute = RawAttribute::from_json(&bare);
        assert_eq!(attribute.value, &bare);
        assert_eq!(attribute.declared, None);
        let office = json!({"type": "Office", "attributes": {"id": 1, "name": "Munich"}});
        assert_eq!(RawAttribute::from_json(&office).value, &office);
        let old = json!({"label": "First name", "value": "Ada"});
        let attribute = RawAttribute::from_json(&old);
        assert_eq!(attribute.value, &json!("Ada"));
        assert_eq!(attribute.universal_id, None);
        let no_value = json!({"label": "First name"});
        assert_eq!(RawAttribute::from_json(&no_value).value, &Value::Null);
    }
}
