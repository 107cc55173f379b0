//! The contract: `docs/admin-api.openapi.yaml`, loaded once, and the check every test response
//! goes through — the status is documented for the operation, required headers are there, and the
//! body matches the documented schema (JSON Schema 2020-12, as OpenAPI 3.1 uses) or content type.

use serde_json::{json, Value};
use std::sync::OnceLock;

/// The OpenAPI document as JSON.
pub fn document() -> &'static Value {
    static DOCUMENT: OnceLock<Value> = OnceLock::new();
    DOCUMENT.get_or_init(|| {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../docs/admin-api.openapi.yaml"
        );
        let text = std::fs::read_to_string(path).expect("read docs/admin-api.openapi.yaml");
        serde_norway::from_str(&text).expect("the OpenAPI file is YAML")
    })
}

/// Follows a local `$ref` (`#/components/…`), if `value` is one.
fn resolve(value: &Value) -> &Value {
    match value.get("$ref").and_then(Value::as_str) {
        Some(pointer) => document()
            .pointer(pointer.trim_start_matches('#'))
            .unwrap_or_else(|| panic!("dangling $ref {pointer}")),
        None => value,
    }
}

/// Validates `instance` against `schema`, with the document's components in reach of `$ref`.
pub fn validate(schema: &Value, instance: &Value) -> Result<(), String> {
    let mut root = json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "components": document()["components"],
    });
    if let (Some(root), Some(schema)) = (root.as_object_mut(), schema.as_object()) {
        for (key, value) in schema {
            root.insert(key.clone(), value.clone());
        }
    }
    let validator = jsonschema::draft202012::new(&root).map_err(|e| format!("bad schema: {e}"))?;
    let errors: Vec<String> = validator
        .iter_errors(instance)
        .map(|error| format!("{} at {}", error, error.instance_path()))
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors.join("; "))
    }
}

/// Checks one response of `method template` against the document; panics with the reason.
pub fn check(
    method: &str,
    template: &str,
    status: u16,
    headers: &axum::http::HeaderMap,
    body: &[u8],
) {
    let operation = document()["paths"]
        .get(template)
        .and_then(|path| path.get(method.to_ascii_lowercase()))
        .unwrap_or_else(|| panic!("{method} {template} is not in the OpenAPI file"));
    let response = operation["responses"]
        .get(status.to_string())
        .map(resolve)
        .unwrap_or_else(|| {
            panic!(
                "{method} {template} answered {status}, which the OpenAPI file does not document: {}",
                String::from_utf8_lossy(body)
            )
        });
    for (name, header) in response["headers"].as_object().into_iter().flatten() {
        let header = resolve(header);
        let value = headers.get(name.as_str()).and_then(|v| v.to_str().ok());
        if header["required"].as_bool() == Some(true) {
            let value = value.unwrap_or_else(|| {
                panic!("{method} {template} {status}: required header {name} is missing")
            });
            validate(&header["schema"], &json!(value))
                .unwrap_or_else(|e| panic!("{method} {template} {status}: header {name}: {e}"));
        }
    }
    let Some(content) = response.get("content").and_then(Value::as_object) else {
        assert!(
            body.is_empty(),
            "{method} {template} {status} documents no body but sent {}",
            String::from_utf8_lossy(body)
        );
        return;
    };
    let content_type = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let (media, spec) = content
        .iter()
        .find(|(media, _)| content_type.starts_with(media.as_str()))
        .unwrap_or_else(|| {
            panic!("{method} {template} {status}: content type {content_type:?} is not documented")
        });
    if media == "application/json" {
        let json: Value = serde_json::from_slice(body)
            .unwrap_or_else(|e| panic!("{method} {template} {status}: the body is not JSON ({e})"));
        validate(&spec["schema"], &json).unwrap_or_else(|e| {
            panic!("{method} {template} {status}: the body does not match the OpenAPI schema: {e}\n{json:#}")
        });
    }
}
