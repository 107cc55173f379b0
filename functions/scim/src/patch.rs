//! Turning field changes into PATCH operations (RFC 7644 §3.5.2) or into a modified resource for
//! a PUT, given the user as the server holds it now.
//!
//! The current resource is needed because RFC 7644 §3.5.2.3 makes `replace` of
//! `emails[type eq "work"].value` fail with `noTarget` when the user has no work email yet
//! (scim2-server follows that); such a value is added as a whole new element instead. Values the
//! server already holds are not sent again, and removals of values it does not hold are dropped.

use crate::path::AttrPath;
use serde_json::{json, Value};

/// The `schemas` value of a PATCH request body.
pub const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

/// One field change resolved to its SCIM path: the value to write, or `None` to remove it.
#[derive(Clone, Debug)]
pub(crate) struct PathChange<'a> {
    /// Where the field lands.
    pub path: &'a AttrPath,
    /// The new value; `None` removes it.
    pub value: Option<Value>,
}

/// The PATCH operations that bring `current` to the changed values; empty when it already holds
/// them.
pub(crate) fn operations(changes: &[PathChange<'_>], current: &Value) -> Vec<Value> {
    let mut operations = Vec::new();
    // Changes apply to a working copy, so that two fields in one element (two sub-attributes of
    // the work address) produce one `add` of the element and then a `replace`.
    let mut working = current.clone();
    for change in changes {
        let held = change.path.get(&working).cloned();
        match &change.value {
            Some(value) if held.as_ref() == Some(value) => {}
            Some(value) => {
                let element_missing =
                    change.path.has_filter() && change.path.element(&working).is_none();
                if element_missing {
                    let element = change
                        .path
                        .new_element(change.path.siblings(&working), value.clone());
                    operations.push(json!({
                        "op": "add",
                        "path": change.path.attribute_path(),
                        "value": [element],
                    }));
                } else {
                    operations.push(json!({
                        "op": "replace",
                        "path": change.path.to_string(),
                        "value": value,
                    }));
                }
                change.path.set(&mut working, value.clone());
            }
            None if held.is_none() => {}
            None => {
                let path = if change.path.removes_element() {
                    change.path.element_path()
                } else {
                    change.path.to_string()
                };
                operations.push(json!({"op": "remove", "path": path}));
                change.path.remove(&mut working);
            }
        }
    }
    operations
}

/// The body of a PATCH request carrying `operations`.
pub(crate) fn request(operations: Vec<Value>) -> Value {
    json!({"schemas": [PATCH_OP], "Operations": operations})
}

/// `resource` with the changes applied, as a PUT sends it back; `None` when nothing changed.
pub(crate) fn rewrite(changes: &[PathChange<'_>], resource: &Value) -> Option<Value> {
    let mut rewritten = resource.clone();
    for change in changes {
        match &change.value {
            Some(value) => change.path.set(&mut rewritten, value.clone()),
            None => {
                change.path.remove(&mut rewritten);
            }
        }
    }
    (rewritten != *resource).then_some(rewritten)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path(text: &str) -> AttrPath {
        AttrPath::parse(text).unwrap()
    }

    #[test]
    fn a_missing_work_email_is_added_as_an_element_and_an_existing_one_replaced() {
        let email = path(r#"emails[type eq "work"].value"#);
        let change = [PathChange {
            path: &email,
            value: Some(json!("w@x")),
        }];
        let none = json!({"emails": [{"type": "home", "value": "h@x", "primary": true}]});
        assert_eq!(
            operations(&change, &none),
            [json!({"op": "add", "path": "emails", "value": [{"type": "work", "value": "w@x"}]})]
        );
        let held = json!({"emails": [{"type": "work", "value": "old@x"}]});
        assert_eq!(
            operations(&change, &held),
            [json!({"op": "replace", "path": r#"emails[type eq "work"].value"#, "value": "w@x"})]
        );
    }

    #[test]
    fn values_already_held_and_removals_of_absent_values_send_nothing() {
        let title = path("title");
        let given = path("name.givenName");
        let changes = [
            PathChange {
                path: &title,
                value: Some(json!("Dev")),
            },
            PathChange {
                path: &given,
                value: None,
            },
        ];
        assert!(operations(&changes, &json!({"title": "Dev"})).is_empty());
        assert!(rewrite(&changes, &json!({"title": "Dev"})).is_none());
    }

    #[test]
    fn removing_the_work_email_removes_its_element() {
        let email = path(r#"emails[type eq "work"].value"#);
        let change = [PathChange {
            path: &email,
            value: None,
        }];
        let held = json!({"emails": [{"type": "work", "value": "w@x"}]});
        assert_eq!(
            operations(&change, &held),
            [json!({"op": "remove", "path": r#"emails[type eq "work"]"#})]
        );
    }

    #[test]
    fn a_rewrite_applies_sets_and_removals() {
        let title = path("title");
        let dept = path("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department");
        let changes = [
            PathChange {
                path: &title,
                value: None,
            },
            PathChange {
                path: &dept,
                value: Some(json!("Ops")),
            },
        ];
        let rewritten = rewrite(&changes, &json!({"schemas": ["core"], "title": "Dev"})).unwrap();
        assert_eq!(
            rewritten,
            json!({
                "schemas": ["core", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"department": "Ops"}
            })
        );
    }
}
