//! SCIM attribute paths (RFC 7644 §3.10), limited to the forms a field mapping needs, and how
//! to read, write and remove them in a resource's JSON.
//!
//! Supported forms: `title`, `name.givenName`, `emails[type eq "work"].value`, and any of these
//! behind a schema URN (`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:costCenter`).
//! Turning a change into PATCH operations lives in `patch`; this module only knows paths.

use crate::json::{add_schema, ensure_object, is_empty, key_in, member, member_mut};
use serde_json::{Map, Value};
use std::fmt;

/// The core User schema; a path prefixed with it is a plain core path.
pub const CORE_USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";

/// A parsed attribute path: `[schema:]attribute[[filter]][.sub]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AttrPath {
    /// The extension schema URN, `None` for the core schema.
    schema: Option<String>,
    /// The top-level attribute.
    attribute: String,
    /// A value filter selecting one element of a multi-valued attribute.
    filter: Option<ValueFilter>,
    /// The sub-attribute.
    sub: Option<String>,
}

/// `[attribute eq "value"]`: the only filter a mapping needs to pick one element (the work email).
#[derive(Clone, Debug, PartialEq, Eq)]
struct ValueFilter {
    attribute: String,
    value: String,
}

impl AttrPath {
    /// Parses a path; the error says what is wrong with it.
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        if text.is_empty() {
            return Err("the path is empty".into());
        }
        // A schema URN contains ':' and '.', the attribute name never does: the URN ends at the
        // last ':' before any filter (whose literal may contain ':').
        let (schema, rest) = if text.len() > 4 && text[..4].eq_ignore_ascii_case("urn:") {
            let head_end = text.find('[').unwrap_or(text.len());
            let colon = text[..head_end]
                .rfind(':')
                .ok_or_else(|| "the schema URN has no attribute after it".to_owned())?;
            let schema = &text[..colon];
            let schema = (!schema.eq_ignore_ascii_case(CORE_USER)).then(|| schema.to_owned());
            (schema, &text[colon + 1..])
        } else {
            (None, text)
        };
        let name_end = rest.find(['[', '.']).unwrap_or(rest.len());
        let attribute = check_name(&rest[..name_end])?;
        let mut rest = &rest[name_end..];
        let filter = if let Some(inner) = rest.strip_prefix('[') {
            let (filter, after) = parse_filter(inner)?;
            rest = after;
            Some(filter)
        } else {
            None
        };
        let sub = match rest {
            "" => None,
            _ => match rest.strip_prefix('.') {
                Some(sub) => Some(check_name(sub)?),
                None => return Err(format!("unexpected {rest:?} after the attribute")),
            },
        };
        Ok(Self {
            schema,
            attribute,
            filter,
            sub,
        })
    }

    /// The extension schema URN this path lives in, if not the core schema.
    pub fn schema(&self) -> Option<&str> {
        self.schema.as_deref()
    }

    /// The top-level attribute name (`emails` for `emails[type eq "work"].value`).
    pub fn attribute(&self) -> &str {
        &self.attribute
    }

    /// Whether this path selects one element of a multi-valued attribute.
    pub fn has_filter(&self) -> bool {
        self.filter.is_some()
    }

    /// The path with its value filter dropped (`emails.value`), as a search filter uses it.
    pub fn without_filter(&self) -> String {
        let mut text = self.prefix();
        text.push_str(&self.attribute);
        if let Some(sub) = &self.sub {
            text.push('.');
            text.push_str(sub);
        }
        text
    }

    /// The path of the whole multi-valued attribute (`emails`), with its schema prefix.
    pub(crate) fn attribute_path(&self) -> String {
        format!("{}{}", self.prefix(), self.attribute)
    }

    /// The path of the selected element (`emails[type eq "work"]`), without the sub-attribute.
    pub(crate) fn element_path(&self) -> String {
        let mut text = self.attribute_path();
        if let Some(filter) = &self.filter {
            text.push_str(&filter.to_string());
        }
        text
    }

    /// Whether removing this path should remove the whole selected element: an email or photo
    /// without its `value` means nothing, while an address without its locality is still an
    /// address.
    pub(crate) fn removes_element(&self) -> bool {
        self.filter.is_some()
            && self
                .sub
                .as_deref()
                .is_none_or(|s| s.eq_ignore_ascii_case("value"))
    }

    fn prefix(&self) -> String {
        self.schema
            .as_ref()
            .map(|s| format!("{s}:"))
            .unwrap_or_default()
    }

    /// The value at this path in `resource`, if any. Attribute names match case-insensitively,
    /// as RFC 7643 §2.1 requires.
    pub fn get<'a>(&self, resource: &'a Value) -> Option<&'a Value> {
        let mut value = self.element(resource)?;
        if let Some(sub) = &self.sub {
            value = member(value, sub)?;
        }
        (!value.is_null()).then_some(value)
    }

    /// The attribute, or with a filter the element it selects, whatever its sub-attribute holds.
    pub(crate) fn element<'a>(&self, resource: &'a Value) -> Option<&'a Value> {
        let container = match &self.schema {
            Some(schema) => member(resource, schema)?,
            None => resource,
        };
        let value = member(container, &self.attribute)?;
        match &self.filter {
            Some(filter) => value.as_array()?.iter().find(|e| filter.matches(e)),
            None => Some(value),
        }
    }

    /// Sets the value at this path in `resource`, creating the containers on the way (and the
    /// selected element, as the primary one when no other is). Lists the extension schema in
    /// `schemas`.
    pub fn set(&self, resource: &mut Value, value: Value) {
        let Some(root) = ensure_object(resource) else {
            return;
        };
        let container = match &self.schema {
            Some(schema) => {
                add_schema(root, schema);
                let key = key_in(root, schema);
                match ensure_object(root.entry(key).or_insert_with(|| Value::Object(Map::new()))) {
                    Some(container) => container,
                    None => return,
                }
            }
            None => root,
        };
        let key = key_in(container, &self.attribute);
        let slot = container.entry(key).or_insert(Value::Null);
        let target = match &self.filter {
            Some(filter) => {
                if !slot.is_array() {
                    *slot = Value::Array(Vec::new());
                }
                let Some(elements) = slot.as_array_mut() else {
                    return;
                };
                match elements.iter().position(|e| filter.matches(e)) {
                    Some(index) => &mut elements[index],
                    None => {
                        elements.push(filter.new_element(elements));
                        let last = elements.len() - 1;
                        &mut elements[last]
                    }
                }
            }
            None => slot,
        };
        match &self.sub {
            Some(sub) => {
                if let Some(object) = ensure_object(target) {
                    let key = key_in(object, sub);
                    object.insert(key, value);
                }
            }
            None => *target = value,
        }
    }

    /// Removes the value at this path from `resource`; true when something was removed.
    pub fn remove(&self, resource: &mut Value) -> bool {
        let container = match &self.schema {
            Some(schema) => match member_mut(resource, schema) {
                Some(container) => container,
                None => return false,
            },
            None => resource,
        };
        let Some(object) = container.as_object_mut() else {
            return false;
        };
        let key = key_in(object, &self.attribute);
        let removed = match (&self.filter, &self.sub) {
            (None, None) => object.remove(&key).is_some_and(|v| !v.is_null()),
            (None, Some(sub)) => object
                .get_mut(&key)
                .and_then(Value::as_object_mut)
                .and_then(|inner| inner.remove(&key_in(inner, sub)))
                .is_some_and(|v| !v.is_null()),
            (Some(filter), _) => {
                let Some(elements) = object.get_mut(&key).and_then(Value::as_array_mut) else {
                    return false;
                };
                if self.removes_element() {
                    let before = elements.len();
                    elements.retain(|e| !filter.matches(e));
                    before != elements.len()
                } else {
                    let sub = self.sub.as_deref().unwrap_or_default();
                    elements
                        .iter_mut()
                        .filter(|e| filter.matches(e))
                        .filter_map(Value::as_object_mut)
                        .filter_map(|e| e.remove(&key_in(e, sub)))
                        .count()
                        > 0
                }
            }
        };
        // An empty list or extension object left behind would read as a value; drop it.
        if object.get(&key).is_some_and(is_empty) {
            object.remove(&key);
        }
        removed
    }

    /// A new element of the multi-valued attribute holding `value` at this path, as a PATCH
    /// `add` of the whole element sends it when no element matches the filter yet.
    pub(crate) fn new_element(&self, siblings: &[Value], value: Value) -> Value {
        let mut element = match &self.filter {
            Some(filter) => filter.new_element(siblings),
            None => Value::Object(Map::new()),
        };
        if let (Some(sub), Some(object)) = (&self.sub, element.as_object_mut()) {
            object.insert(sub.clone(), value);
        }
        element
    }

    /// The elements of the multi-valued attribute this path selects from.
    pub(crate) fn siblings<'a>(&self, resource: &'a Value) -> &'a [Value] {
        let container = match &self.schema {
            Some(schema) => member(resource, schema),
            None => Some(resource),
        };
        container
            .and_then(|c| member(c, &self.attribute))
            .and_then(Value::as_array)
            .map_or(&[], Vec::as_slice)
    }
}

impl fmt::Display for AttrPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.element_path())?;
        if let Some(sub) = &self.sub {
            write!(f, ".{sub}")?;
        }
        Ok(())
    }
}

impl ValueFilter {
    fn matches(&self, element: &Value) -> bool {
        // `type` and most sub-attributes are caseExact=false (RFC 7643 §4.1.2).
        member(element, &self.attribute)
            .and_then(Value::as_str)
            .is_some_and(|v| v.eq_ignore_ascii_case(&self.value))
    }

    fn new_element(&self, siblings: &[Value]) -> Value {
        let mut element = Map::new();
        element.insert(self.attribute.clone(), Value::String(self.value.clone()));
        // RFC 7643 §2.4: at most one element may be primary.
        let has_primary = siblings
            .iter()
            .any(|e| member(e, "primary").and_then(Value::as_bool) == Some(true));
        if !has_primary {
            element.insert("primary".into(), Value::Bool(true));
        }
        Value::Object(element)
    }
}

impl fmt::Display for ValueFilter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[{} eq {}]", self.attribute, string_literal(&self.value))
    }
}

/// A filter string literal (RFC 7644 §3.4.2.2): a JSON string, so quotes and backslashes are
/// escaped and a value can never end the literal early.
pub fn string_literal(value: &str) -> String {
    Value::String(value.to_owned()).to_string()
}

/// The search filter `path eq "value"`, with the value escaped.
pub fn eq_filter(path: &str, value: &str) -> String {
    format!("{path} eq {}", string_literal(value))
}

/// ATTRNAME of RFC 7644 §3.10 (`ALPHA *(nameChar)`), plus `$ref`.
fn check_name(name: &str) -> Result<String, String> {
    let mut chars = name.chars();
    let first_ok = chars.next().is_some_and(|c| c.is_ascii_alphabetic());
    let rest_ok = chars.all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if (first_ok && rest_ok) || name == "$ref" {
        Ok(name.to_owned())
    } else {
        Err(format!("{name:?} is not an attribute name"))
    }
}

/// Parses `attr eq "literal"]`, returning the filter and what follows the `]`.
fn parse_filter(text: &str) -> Result<(ValueFilter, &str), String> {
    let text = text.trim_start();
    let name_end = text
        .find(char::is_whitespace)
        .ok_or("the value filter is incomplete")?;
    let attribute = check_name(&text[..name_end])?;
    let text = text[name_end..].trim_start();
    let operator = text.get(..2).ok_or("the value filter is incomplete")?;
    if !operator.eq_ignore_ascii_case("eq") {
        return Err("only `eq` value filters are supported".into());
    }
    let text = text[2..].trim_start();
    let mut literals = serde_json::Deserializer::from_str(text).into_iter::<String>();
    let value = match literals.next() {
        Some(Ok(value)) => value,
        _ => return Err("the value filter needs a quoted string".into()),
    };
    let rest = text[literals.byte_offset()..].trim_start();
    let rest = rest
        .strip_prefix(']')
        .ok_or("the value filter is not closed with ']'")?;
    Ok((ValueFilter { attribute, value }, rest))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

    fn path(text: &str) -> AttrPath {
        AttrPath::parse(text).unwrap()
    }

    #[test]
    fn paths_print_back_as_parsed() {
        for text in [
            "title",
            "name.givenName",
            r#"emails[type eq "work"].value"#,
            r#"addresses[type eq "work"].locality"#,
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:costCenter",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value",
        ] {
            assert_eq!(path(text).to_string(), text);
        }
    }

    #[test]
    fn a_core_schema_prefix_is_dropped_and_an_extension_kept() {
        assert_eq!(path(&format!("{CORE_USER}:title")), path("title"));
        let cost = path(&format!("{ENTERPRISE}:costCenter"));
        assert_eq!(cost.schema(), Some(ENTERPRISE));
        assert_eq!(cost.attribute(), "costCenter");
    }

    #[test]
    fn filter_literals_may_hold_quotes_colons_and_brackets() {
        let tricky = path(r#"emails[type eq "a\"b:]c"].value"#);
        assert_eq!(tricky.to_string(), r#"emails[type eq "a\"b:]c"].value"#);
    }

    #[test]
    fn malformed_paths_are_refused() {
        for text in [
            "",
            "1title",
            "name.",
            "emails[type eq work].value",
            "emails[type co \"w\"]",
            "a b",
        ] {
            assert!(AttrPath::parse(text).is_err(), "{text} should be refused");
        }
    }

    #[test]
    fn setting_a_filtered_path_creates_a_primary_element_once() {
        let email = path(r#"emails[type eq "work"].value"#);
        let mut user = json!({"emails": [{"type": "home", "value": "h@x"}]});
        email.set(&mut user, json!("w@x"));
        email.set(&mut user, json!("w2@x"));
        assert_eq!(
            user["emails"],
            json!([{"type": "home", "value": "h@x"}, {"type": "work", "value": "w2@x", "primary": true}])
        );
        assert_eq!(email.get(&user), Some(&json!("w2@x")));
    }

    #[test]
    fn setting_an_extension_path_lists_the_schema() {
        let mut user = json!({"schemas": [CORE_USER]});
        path(&format!("{ENTERPRISE}:department")).set(&mut user, json!("R&D"));
        assert_eq!(user["schemas"], json!([CORE_USER, ENTERPRISE]));
        assert_eq!(user[ENTERPRISE]["department"], json!("R&D"));
    }

    #[test]
    fn removing_a_value_drops_its_element_but_a_locality_only_itself() {
        let mut user = json!({
            "emails": [{"type": "work", "value": "w@x"}],
            "addresses": [{"type": "work", "locality": "Berlin", "country": "DE"}],
            "name": {"givenName": "Ada"}
        });
        assert!(path(r#"emails[type eq "work"].value"#).remove(&mut user));
        assert!(path(r#"addresses[type eq "work"].locality"#).remove(&mut user));
        assert!(path("name.givenName").remove(&mut user));
        assert!(!path("title").remove(&mut user));
        assert_eq!(
            user,
            json!({"addresses": [{"type": "work", "country": "DE"}]})
        );
    }

    #[test]
    fn reads_match_attribute_names_case_insensitively() {
        let user = json!({"UserName": "ada", "Emails": [{"Type": "Work", "Value": "w@x"}]});
        assert_eq!(path("userName").get(&user), Some(&json!("ada")));
        assert_eq!(
            path(r#"emails[type eq "work"].value"#).get(&user),
            Some(&json!("w@x"))
        );
    }

    #[test]
    fn filter_values_are_escaped_per_rfc_7644() {
        assert_eq!(
            eq_filter("userName", r#"a"b\c"#),
            r#"userName eq "a\"b\\c""#
        );
    }
}
