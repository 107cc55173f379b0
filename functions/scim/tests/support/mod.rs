//! Test support: destinations on a fresh tenant of the real scim2-server (`test_support::scim`:
//! `SCIM2_SERVER_URL`, else started once from `.venv`), and the records and users the adapter
//! tests send. What the server holds is read back with `test_support::scim::ScimReader`.

#![allow(dead_code)] // Each test binary uses a different part of this module.

use secrecy::SecretString;
use serde_json::{json, Value};
use sync_core::ports::NewUser;
use sync_core::record::{FieldValue, UserRecord};
use sync_scim::{ScimDestination, ScimSettings};
use test_support::scim::scim_server;

/// Settings for `base_url` with the server's token.
pub fn settings(base_url: &str, token: &str) -> ScimSettings {
    ScimSettings::new("acme", base_url, SecretString::from(token.to_owned()))
}

/// A destination on a fresh tenant of the shared server; returns it with its base URL.
pub fn fresh_destination(prefix: &str) -> (ScimDestination, String) {
    let server = scim_server();
    let base_url = server.tenant_url(prefix);
    let destination =
        ScimDestination::new(settings(&base_url, &server.token)).expect("destination");
    (destination, base_url)
}

/// A record from `(field, value)` pairs.
pub fn record(fields: &[(&str, &str)]) -> UserRecord {
    let mut record = UserRecord::new();
    for (field, value) in fields {
        record.set(*field, FieldValue::Text((*value).to_owned()));
    }
    record
}

/// An active new user with `fields`.
pub fn new_user(external_id: &str, fields: &[(&str, &str)]) -> NewUser {
    NewUser {
        external_id: external_id.to_owned(),
        record: record(fields),
        active: true,
    }
}

/// A user body that is not ours: no externalId.
pub fn foreign_user(user_name: &str, email: &str) -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": user_name,
        "emails": [{"type": "work", "value": email, "primary": true}],
        "active": true
    })
}
