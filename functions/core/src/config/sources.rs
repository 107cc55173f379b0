//! Where a tenant's people come from (its Personio accounts) and where they go (the destination).

use crate::ids::AccountId;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The Personio side.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PersonioConfig {
    /// One entry per Personio account (legal entity); they feed one destination.
    pub accounts: Vec<AccountConfig>,
}

/// One Personio account.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccountConfig {
    /// Its name within the tenant; part of every link key, so never rename it.
    #[serde(default)]
    pub name: AccountId,
    /// API base URL without `/v1` (Personio is moving domains, so it is configurable).
    #[serde(default = "default_base_url")]
    pub base_url: String,
    /// Requests per minute to the employees endpoint (Personio: 300).
    #[serde(default = "default_per_minute")]
    pub rate_limit_per_minute: u32,
    /// Burst of requests per second (Personio: 15).
    #[serde(default = "default_burst")]
    pub rate_limit_burst: u32,
    /// Sent as `X-Personio-Partner-ID` when set.
    #[serde(default)]
    pub partner_id: Option<String>,
    /// Sent as `X-Personio-App-ID` when set.
    #[serde(default)]
    pub app_id: Option<String>,
    /// Which API people are read through: `v1` (default) or `v2` (persons and employments).
    #[serde(default)]
    pub api: crate::personio::Api,
}

fn default_base_url() -> String {
    "https://api.personio.de".to_owned()
}
fn default_per_minute() -> u32 {
    300
}
fn default_burst() -> u32 {
    15
}

/// Where users go. Each kind carries exactly what it needs; where the secrets come from is not
/// part of it (Secrets Manager in AWS; the CLI's own keys, see the CLI's `secret_sources`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum DestinationConfig {
    /// A folder with one JSON file per user and group: local runs with the CLI only (relative
    /// paths are relative to the config file).
    Directory {
        /// The folder.
        path: String,
    },
    /// A SCIM 2.0 server.
    Scim {
        /// The base URL, e.g. `https://app.example/scim/v2`.
        base_url: String,
        /// Where each neutral field lands, overriding or adding to the defaults.
        #[serde(default)]
        attribute_paths: BTreeMap<String, String>,
    },
}
