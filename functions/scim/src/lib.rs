//! The SCIM 2.0 destination (RFC 7643/7644): users with the enterprise extension, groups, and
//! PATCH, over HTTPS with a per-tenant bearer token, behind the core [`Destination`] port.
//!
//! # Layout
//! - `client`: HTTP, bearer token, bounded concurrency, retries with back-off and
//!   `Retry-After`, `/ServiceProviderConfig`, request counts.
//! - `error`: SCIM error bodies and their mapping to [`DestinationError`].
//! - `path` and `schema`: attribute paths, and which neutral field lands where.
//! - `discovery` and `homes`: the app's `/ResourceTypes` and `/Schemas`, and auto-mapping the
//!   fields without a path of their own onto what they publish.
//! - `patch`: field changes as PATCH operations, or as a rewritten resource for PUT.
//! - `resource`: PATCH or GET-modify-PUT with `If-Match` on one existing resource.
//! - `users` and `groups`: the resource-specific requests.
//!
//! Users are never deleted: the client has no way to send a DELETE.

mod client;
pub mod discovery;
mod error;
mod groups;
pub mod homes;
mod json;
mod patch;
pub mod path;
mod resource;
pub mod schema;
mod users;

pub use client::RequestCounts;
pub use homes::{FieldHome, HomeReason, EXTENSION};
pub use schema::{
    fields_without_scim_home, SchemaError, SchemaMap, DEFAULT_PATHS, ENTERPRISE_USER,
};

use async_trait::async_trait;
use client::{Client, ClientSettings};
use reqwest::Url;
use secrecy::SecretString;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::time::Duration;
use sync_core::ids::DestinationId;
use sync_core::ports::{Destination, DestinationError, DestinationUser, FieldPlacement, NewUser};
use sync_core::record::FieldChange;
use tokio::sync::OnceCell;

/// Requests in flight per tenant unless configured.
pub const DEFAULT_CONCURRENCY: usize = 4;
/// Attempts per request (the first plus retries) unless configured.
pub const DEFAULT_MAX_ATTEMPTS: u32 = 5;
/// Time allowed for one request unless configured.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// How to reach one tenant's SCIM server.
#[derive(Clone, Debug)]
pub struct ScimSettings {
    /// The tenant, named in errors (never the token).
    pub tenant: String,
    /// The SCIM base URL, e.g. `https://app.example/scim/v2`. Plain `http` only for loopback.
    pub base_url: String,
    /// The bearer token.
    pub token: SecretString,
    /// Requests in flight at once (retries included).
    pub concurrency: usize,
    /// Attempts per request before a 429/5xx/timeout becomes [`DestinationError::Unavailable`].
    pub max_attempts: u32,
    /// Time allowed for one request.
    pub request_timeout: Duration,
    /// The most bytes of one answer read into memory: [`sync_core::http::DEFAULT_BODY_LIMIT`]
    /// (32 MiB). A larger answer is an error, not a retry.
    pub max_body_bytes: usize,
    /// Neutral field → SCIM attribute path, over [`DEFAULT_PATHS`]; an empty path switches a
    /// field off. E.g. `hire_date` → `urn:example:params:scim:schemas:extension:hr:2.0:User:hireDate`.
    pub attribute_paths: BTreeMap<String, String>,
    /// The tenant's fields (its mapping's targets): those without a path get one by
    /// auto-mapping when the app publishes its schemas. Defaults to the default mapping's.
    pub fields: Vec<String>,
}

impl ScimSettings {
    /// Settings with the default concurrency, attempts, timeout and attribute paths.
    pub fn new(
        tenant: impl Into<String>,
        base_url: impl Into<String>,
        token: SecretString,
    ) -> Self {
        Self {
            tenant: tenant.into(),
            base_url: base_url.into(),
            token,
            concurrency: DEFAULT_CONCURRENCY,
            max_attempts: DEFAULT_MAX_ATTEMPTS,
            request_timeout: DEFAULT_REQUEST_TIMEOUT,
            max_body_bytes: sync_core::http::DEFAULT_BODY_LIMIT,
            attribute_paths: BTreeMap::new(),
            fields: sync_core::mapping::default_fields()
                .into_iter()
                .map(|rule| rule.target)
                .collect(),
        }
    }

    /// These settings with what `config` says: its write concurrency, its fields (the mapping's
    /// targets and the invitation flag) and, for a SCIM destination, its attribute paths. The
    /// CLI, the worker and the tests all build the destination this way.
    pub fn with_config(mut self, config: &sync_core::config::TenantConfig) -> Self {
        self.concurrency = config.apply.concurrency;
        if let sync_core::config::DestinationConfig::Scim {
            attribute_paths, ..
        } = &config.destination
        {
            self.attribute_paths = attribute_paths.clone();
        }
        self.fields = config.field_targets();
        self
    }
}

/// A tenant's SCIM server as a [`Destination`].
pub struct ScimDestination {
    client: Client,
    /// Default and configured paths: enough to read users.
    schema: SchemaMap,
    fields: Vec<String>,
    /// What the app publishes about its users, read at the first write.
    discovery: OnceCell<discovery::Discovery>,
    /// [`Self::schema`] completed by auto-mapping for [`Self::fields`].
    resolved: OnceCell<SchemaMap>,
}

impl ScimDestination {
    /// Checks the settings and builds the client. Nothing is sent until the first call.
    pub fn new(settings: ScimSettings) -> Result<Self, DestinationError> {
        let invalid = |detail: String| DestinationError::Transport {
            detail: format!(
                "the SCIM settings of tenant {} are not usable: {detail}",
                settings.tenant
            ),
        };
        let schema =
            SchemaMap::new(&settings.attribute_paths).map_err(|e| invalid(e.to_string()))?;
        let base_url = parse_base_url(&settings.base_url).map_err(invalid)?;
        if settings.concurrency == 0 {
            return Err(invalid("concurrency must be at least 1".into()));
        }
        if settings.max_attempts == 0 {
            return Err(invalid("max_attempts must be at least 1".into()));
        }
        if settings.request_timeout.is_zero() {
            return Err(invalid("request_timeout must be longer than zero".into()));
        }
        let client = Client::new(ClientSettings {
            tenant: settings.tenant.clone(),
            base_url,
            token: settings.token,
            concurrency: settings.concurrency,
            max_attempts: settings.max_attempts,
            request_timeout: settings.request_timeout,
            max_body_bytes: settings.max_body_bytes,
        })
        .map_err(invalid)?;
        Ok(Self {
            client,
            schema,
            fields: settings.fields,
            discovery: OnceCell::new(),
            resolved: OnceCell::new(),
        })
    }

    /// HTTP requests sent so far, per method and retries included: a no-op run shows
    /// `writes() == 0`.
    pub fn requests(&self) -> RequestCounts {
        self.client.counts()
    }

    /// The default and configured field → SCIM path table (before auto-mapping).
    pub fn schema(&self) -> &SchemaMap {
        &self.schema
    }

    /// The table writes use: the app's `/ResourceTypes` and `/Schemas` read once, then kept.
    /// Fails only when the app cannot be reached or refuses the token.
    pub(crate) async fn write_schema(&self) -> Result<&SchemaMap, DestinationError> {
        let discovery = self.discovery().await?;
        Ok(self
            .resolved
            .get_or_init(|| async { homes::resolve(&self.schema, &self.fields, discovery).0 })
            .await)
    }

    async fn discovery(&self) -> Result<&discovery::Discovery, DestinationError> {
        self.discovery
            .get_or_try_init(|| async {
                discovery::Discovery::read(&self.client)
                    .await
                    .map_err(|f| f.into_collection_error(self.client.tenant(), "/Schemas"))
            })
            .await
    }

    /// Where each of `fields` lands in the app and why, after reading what the app publishes.
    pub async fn field_homes(&self, fields: &[String]) -> Result<Vec<FieldHome>, DestinationError> {
        Ok(homes::resolve(&self.schema, fields, self.discovery().await?).1)
    }
}

/// The base URL, refusing plain `http` except to this machine: the bearer token must not travel
/// in clear text.
fn parse_base_url(text: &str) -> Result<Url, String> {
    sync_core::http::credential_url(text).map_err(|problem| format!("base_url {problem}"))
}

#[async_trait]
impl Destination for ScimDestination {
    async fn users(&self) -> Result<Vec<DestinationUser>, DestinationError> {
        self.list_users().await
    }

    async fn find_user(
        &self,
        user_name: &str,
    ) -> Result<Option<DestinationUser>, DestinationError> {
        self.find_user_by_name(user_name).await
    }

    async fn create(&self, user: &NewUser) -> Result<DestinationId, DestinationError> {
        self.create_user(user).await
    }

    async fn update(
        &self,
        id: &DestinationId,
        changes: &[FieldChange],
    ) -> Result<(), DestinationError> {
        self.update_user(id, changes).await
    }

    async fn adopt(&self, id: &DestinationId, external_id: &str) -> Result<(), DestinationError> {
        self.set_user_attribute(
            id,
            "externalId",
            Some(Value::String(external_id.to_owned())),
        )
        .await
    }

    async fn set_active(&self, id: &DestinationId, active: bool) -> Result<(), DestinationError> {
        self.set_user_attribute(id, "active", Some(Value::Bool(active)))
            .await
    }

    async fn delete_user(&self, id: &DestinationId) -> Result<(), DestinationError> {
        ScimDestination::delete_user(self, id).await
    }

    async fn set_manager(
        &self,
        id: &DestinationId,
        manager: Option<&DestinationId>,
    ) -> Result<(), DestinationError> {
        let value = manager.map(|manager| json!({"value": manager.as_str()}));
        self.set_user_attribute(id, &Self::manager_path(), value)
            .await
    }

    async fn create_group(
        &self,
        display_name: &str,
        external_id: &str,
        members: &[DestinationId],
    ) -> Result<DestinationId, DestinationError> {
        self.create_group_with(display_name, external_id, members)
            .await
    }

    async fn update_group(
        &self,
        id: &DestinationId,
        add: &[DestinationId],
        remove: &[DestinationId],
    ) -> Result<(), DestinationError> {
        self.update_group_members(id, add, remove).await
    }

    async fn placed_fields(&self) -> Result<Option<BTreeMap<String, String>>, DestinationError> {
        let schema = self.write_schema().await?;
        Ok(Some(
            self.fields
                .iter()
                .filter_map(|field| Some((field.clone(), schema.path(field)?.to_string())))
                .collect(),
        ))
    }

    async fn field_placements(
        &self,
        fields: &[String],
    ) -> Result<Vec<FieldPlacement>, DestinationError> {
        Ok(self
            .field_homes(fields)
            .await?
            .into_iter()
            .map(|home| FieldPlacement {
                field: home.field,
                place: home.path,
                why: home.reason.to_string(),
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_http_is_refused_except_to_loopback() {
        assert!(parse_base_url("https://app.example/scim/v2").is_ok());
        assert!(parse_base_url("http://127.0.0.1:8080/acme/v2").is_ok());
        assert!(parse_base_url("http://localhost/v2").is_ok());
        assert!(parse_base_url("http://app.example/scim/v2").is_err());
        assert!(parse_base_url("http://127.0.0.2:8080/acme/v2").is_ok());
        assert!(parse_base_url("http://[::1]:8080/acme/v2").is_ok());
        assert!(parse_base_url("http://127.0.0.1.app.example/v2").is_err());
        assert!(parse_base_url("http://localhost.app.example/v2").is_err());
        assert!(parse_base_url("ftp://app.example").is_err());
        assert!(parse_base_url("app.example/scim").is_err());
    }

    #[test]
    fn settings_with_a_bad_attribute_path_are_refused_naming_the_field() {
        let mut settings = ScimSettings::new(
            "acme",
            "https://app.example/scim/v2",
            SecretString::from("t"),
        );
        settings
            .attribute_paths
            .insert("title".into(), "not a path".into());
        let error = ScimDestination::new(settings).err().unwrap();
        assert!(error.to_string().contains("`title`"), "{error}");
    }

    #[test]
    fn debug_output_never_shows_the_token() {
        let settings = ScimSettings::new(
            "acme",
            "https://app.example/scim/v2",
            SecretString::from("s3cr3t-token"),
        );
        assert!(!format!("{settings:?}").contains("s3cr3t"));
    }
}
