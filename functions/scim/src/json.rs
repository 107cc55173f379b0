//! JSON object access the way SCIM wants it: attribute names match case-insensitively
//! (RFC 7643 §2.1), and a write keeps the spelling the server used.

use serde_json::{Map, Value};

/// Member `name` of a JSON object, matched case-insensitively.
pub(crate) fn member<'a>(value: &'a Value, name: &str) -> Option<&'a Value> {
    let object = value.as_object()?;
    object.get(name).or_else(|| {
        object
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    })
}

/// Member `name` of a JSON object for writing, matched case-insensitively.
pub(crate) fn member_mut<'a>(value: &'a mut Value, name: &str) -> Option<&'a mut Value> {
    let object = value.as_object_mut()?;
    let key = key_in(object, name);
    object.get_mut(&key)
}

/// The key under which `name` is (or will be) stored: the existing spelling when there is one.
pub(crate) fn key_in(object: &Map<String, Value>, name: &str) -> String {
    object
        .keys()
        .find(|key| key.eq_ignore_ascii_case(name))
        .cloned()
        .unwrap_or_else(|| name.to_owned())
}

/// `value` as an object, replacing anything else (null, a stray string) with an empty one.
pub(crate) fn ensure_object(value: &mut Value) -> Option<&mut Map<String, Value>> {
    if !value.is_object() {
        *value = Value::Object(Map::new());
    }
    value.as_object_mut()
}

/// Lists `schema` in the resource's `schemas` unless it is there: RFC 7643 §3 requires every
/// extension a resource carries to be listed.
pub(crate) fn add_schema(root: &mut Map<String, Value>, schema: &str) {
    let key = key_in(root, "schemas");
    let schemas = root.entry(key).or_insert_with(|| Value::Array(Vec::new()));
    if let Some(list) = schemas.as_array_mut() {
        let listed = list
            .iter()
            .any(|s| s.as_str().is_some_and(|s| s.eq_ignore_ascii_case(schema)));
        if !listed {
            list.push(Value::String(schema.to_owned()));
        }
    }
}

/// An empty list or object: left behind by a removal, it would read as a value.
pub(crate) fn is_empty(value: &Value) -> bool {
    match value {
        Value::Array(list) => list.is_empty(),
        Value::Object(map) => map.is_empty(),
        _ => false,
    }
}
