//! What the app says about its users (RFC 7643 §6 and §7): the User resource type's schema and
//! extensions from `/ResourceTypes`, and their attributes from `/Schemas`. Auto-mapping (see
//! `homes`) sends a field without a path of its own to an attribute found here.
//!
//! Read once per destination, that is once per run, and only when a run writes to a user: a
//! no-op run still reads nothing from the app.

use crate::client::Client;
use crate::error::Failure;
use crate::json::member;
use crate::path::CORE_USER;
use serde_json::Value;

/// The User schema and extensions the app announced, with the attributes a field can fill.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Discovery {
    /// Whether the app answered `/ResourceTypes` and `/Schemas` at all. `false`: it publishes
    /// nothing, and only default and explicit paths are used (as before discovery existed).
    pub published: bool,
    /// The User resource type's extension schema URNs.
    pub extensions: Vec<String>,
    /// Every writable single-valued simple attribute of the User schema and its extensions.
    pub attributes: Vec<SchemaAttribute>,
}

/// One attribute a field could land in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SchemaAttribute {
    /// The schema URN it belongs to ([`CORE_USER`] for the core schema).
    pub schema: String,
    /// Its name as the app spells it.
    pub name: String,
    /// Its SCIM type, lower-case: `string`, `reference` or `datetime`.
    pub kind: AttributeKind,
}

/// The attribute types a field value can be written as.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AttributeKind {
    /// `string` (and `reference`): the value as text, dates `YYYY-MM-DD`.
    Text,
    /// `dateTime`: a date is sent as midnight UTC of that day.
    DateTime,
}

impl SchemaAttribute {
    /// The attribute's path: `name` in the core schema, `urn:…:name` in an extension.
    pub fn path(&self) -> String {
        if self.schema.eq_ignore_ascii_case(CORE_USER) {
            self.name.clone()
        } else {
            format!("{}:{}", self.schema, self.name)
        }
    }
}

impl Discovery {
    /// Reads `/ResourceTypes` and `/Schemas`. An app that does not publish them (any refusal but
    /// 401/403, or an answer that is no SCIM list) gets `published: false`; a refused token or an
    /// unreachable server is an error, as for any request.
    pub(crate) async fn read(client: &Client) -> Result<Self, Failure> {
        let Some(types) = client.published("ResourceTypes").await? else {
            return Ok(Self::default());
        };
        let Some(schemas) = client.published("Schemas").await? else {
            return Ok(Self::default());
        };
        Ok(Self::parse(&types, &schemas))
    }

    /// The discovery from a `/ResourceTypes` and a `/Schemas` answer.
    pub fn parse(types: &Value, schemas: &Value) -> Self {
        let user_type = resources(types).into_iter().find(|resource| {
            let text = |name| member(resource, name).and_then(Value::as_str);
            text("endpoint").is_some_and(|e| e.trim_matches('/').eq_ignore_ascii_case("Users"))
                || text("schema").is_some_and(|s| s.eq_ignore_ascii_case(CORE_USER))
        });
        let Some(user_type) = user_type else {
            return Self::default();
        };
        let core = member(user_type, "schema")
            .and_then(Value::as_str)
            .unwrap_or(CORE_USER)
            .to_owned();
        let extensions: Vec<String> = member(user_type, "schemaExtensions")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|extension| member(extension, "schema").and_then(Value::as_str))
            .map(str::to_owned)
            .collect();
        let wanted = |id: &str| {
            id.eq_ignore_ascii_case(&core) || extensions.iter().any(|e| e.eq_ignore_ascii_case(id))
        };
        let mut attributes = Vec::new();
        for schema in resources(schemas) {
            let Some(id) = member(schema, "id").and_then(Value::as_str) else {
                continue;
            };
            if !wanted(id) {
                continue;
            }
            let listed = member(schema, "attributes").and_then(Value::as_array);
            for attribute in listed.into_iter().flatten() {
                if let Some((name, kind)) = fillable(attribute) {
                    attributes.push(SchemaAttribute {
                        schema: id.to_owned(),
                        name,
                        kind,
                    });
                }
            }
        }
        Self {
            published: true,
            extensions,
            attributes,
        }
    }

    /// Whether the User resource type lists `urn` as an extension.
    pub fn has_extension(&self, urn: &str) -> bool {
        self.extensions.iter().any(|e| e.eq_ignore_ascii_case(urn))
    }
}

/// The resources of a list answer; servers that answer a bare array are read as well.
fn resources(answer: &Value) -> Vec<&Value> {
    match answer {
        Value::Array(items) => items.iter().collect(),
        other => member(other, "Resources")
            .and_then(Value::as_array)
            .map(|items| items.iter().collect())
            .unwrap_or_default(),
    }
}

/// The name and kind of an attribute a field can fill: simple, single-valued, writable, of a
/// type a text or a date can be written as.
fn fillable(attribute: &Value) -> Option<(String, AttributeKind)> {
    let text = |name| member(attribute, name).and_then(Value::as_str);
    let name = text("name")?.trim();
    if name.is_empty() || member(attribute, "multiValued").and_then(Value::as_bool) == Some(true) {
        return None;
    }
    let mutability = text("mutability").unwrap_or("readWrite");
    if ["readOnly", "immutable"]
        .iter()
        .any(|m| m.eq_ignore_ascii_case(mutability))
    {
        return None;
    }
    let kind = match text("type")
        .unwrap_or("string")
        .to_ascii_lowercase()
        .as_str()
    {
        "string" | "reference" => AttributeKind::Text,
        "datetime" => AttributeKind::DateTime,
        _ => return None,
    };
    Some((name.to_owned(), kind))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const HR: &str = "urn:example:params:scim:schemas:extension:hr:2.0:User";

    fn list(resources: Value) -> Value {
        json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"], "Resources": resources})
    }

    #[test]
    fn the_user_type_and_its_extensions_give_the_fillable_attributes() {
        let types = list(json!([
            {"id": "Group", "endpoint": "/Groups", "schema": "urn:ietf:params:scim:schemas:core:2.0:Group"},
            {"id": "User", "endpoint": "/Users", "schema": CORE_USER,
             "schemaExtensions": [{"schema": HR, "required": false}]}
        ]));
        let schemas = list(json!([
            {"id": CORE_USER, "attributes": [
                {"name": "nickName", "type": "string", "multiValued": false},
                {"name": "emails", "type": "complex", "multiValued": true},
                {"name": "id", "type": "string", "mutability": "readOnly"}
            ]},
            {"id": HR, "attributes": [
                {"name": "startDate", "type": "dateTime", "multiValued": false},
                {"name": "tags", "type": "string", "multiValued": true},
                {"name": "isAdmin", "type": "boolean"}
            ]},
            {"id": "urn:other:2.0:Unused", "attributes": [{"name": "gender", "type": "string"}]}
        ]));
        let discovery = Discovery::parse(&types, &schemas);
        assert!(discovery.published);
        assert!(discovery.has_extension(&HR.to_uppercase()));
        let found: Vec<(String, AttributeKind)> = discovery
            .attributes
            .iter()
            .map(|a| (a.path(), a.kind))
            .collect();
        assert_eq!(
            found,
            [
                ("nickName".to_owned(), AttributeKind::Text),
                (format!("{HR}:startDate"), AttributeKind::DateTime)
            ]
        );
    }

    #[test]
    fn answers_without_a_user_type_give_nothing_to_match() {
        let nothing = Discovery::parse(&json!({"detail": "no"}), &json!([]));
        assert_eq!(nothing, Discovery::default());
        assert!(!nothing.published);
    }
}
