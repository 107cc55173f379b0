//! A scim2-server of a test's own whose User resource type lists extra schema extensions (an
//! app's own, the personio-sync extension), as an app that publishes them does.

use super::{scim_server, ScimReader, ScimServer};
use serde_json::{json, Value};

/// Starts a scim2-server publishing RFC 7643's schemas (as the shared server serves them) plus
/// `extensions`, each listed on the User resource type. It stops when dropped.
pub async fn server_with_user_extensions(extensions: &[Value]) -> ScimServer {
    let standard = ScimReader::new(&scim_server().tenant_url("schemas"));
    let mut schemas = standard.get("Schemas", &[]).await["Resources"]
        .as_array()
        .cloned()
        .expect("the standard schemas");
    let mut types = standard.get("ResourceTypes", &[]).await["Resources"]
        .as_array()
        .cloned()
        .expect("the standard resource types");
    for extension in extensions {
        schemas.push(extension.clone());
        let user = types
            .iter_mut()
            .find(|t| t["id"] == "User")
            .expect("a User type");
        user["schemaExtensions"]
            .as_array_mut()
            .expect("extensions")
            .push(json!({"schema": extension["id"], "required": false}));
    }
    // The server reads the files as it starts; the folder stays until the process ends.
    let dir = tempfile::tempdir().expect("temp dir").keep();
    let write = |name: &str, value: Vec<Value>| {
        let path = dir.join(name);
        std::fs::write(&path, Value::Array(value).to_string()).expect("write the schema file");
        path.to_string_lossy().into_owned()
    };
    let schemas = write("schemas.json", schemas);
    let types = write("types.json", types);
    ScimServer::spawn(&["--schema", &schemas, "--resource-type", &types])
}
