//! The ports of the admin API: what it needs of the state store beyond [`Store`] and
//! [`ConfigStore`] ([`TenantAdmin`]), and writing secrets ([`SecretsAdmin`]). Kept apart from the
//! engine's ports, which a run needs; re-exported from [`crate::ports`].
//!
//! [`Store`]: crate::ports::Store
//! [`ConfigStore`]: crate::ports::ConfigStore

use super::{PersonioCredentials, StoreError};
use crate::history::RunRecord;
use crate::ids::{RunId, TenantId};
use async_trait::async_trait;
use std::collections::BTreeMap;

/// What the admin API needs of the state store beyond `Store` and `ConfigStore`: paged
/// history, notes of queued runs, and removing a tenant.
#[async_trait]
pub trait TenantAdmin: Send + Sync {
    /// Run records started before run `before` (every run when `None`), newest first, at most
    /// `limit`: one page of import history. Implementations may return summaries as
    /// [`crate::ports::Store::runs`] does.
    async fn runs_before(
        &self,
        tenant: &TenantId,
        before: Option<&RunId>,
        limit: usize,
    ) -> Result<Vec<RunRecord>, StoreError>;
    /// Notes that run `run_id` was queued and has not started yet; the note lapses at `until`.
    async fn mark_queued(
        &self,
        tenant: &TenantId,
        run_id: &RunId,
        until: chrono::DateTime<chrono::Utc>,
    ) -> Result<(), StoreError>;
    /// Whether run `run_id` was noted as queued and the note has not lapsed at `now`.
    async fn queued(
        &self,
        tenant: &TenantId,
        run_id: &RunId,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<bool, StoreError>;
    /// Removes everything stored for `tenant`: links, groups, source stats, runs, held runs,
    /// webhook event markers, queued-run notes, its schedule entry, and its config last, so that
    /// a call that failed half-way can simply be repeated.
    async fn delete_tenant(&self, tenant: &TenantId) -> Result<(), StoreError>;
}

/// Storing, reading for rotation, or deleting a secret failed. Names the secret, never its value.
#[derive(Debug, thiserror::Error)]
#[error("could not {action} the secret {name}: {detail}")]
pub struct SecretsAdminError {
    /// `store`, `read`, `check` or `delete`.
    pub action: &'static str,
    /// The secret's name.
    pub name: String,
    /// The service's error code and a hint.
    pub detail: String,
}

/// Which of a tenant's secrets exist (never their values).
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct StoredSecrets {
    /// Per Personio account: whether its credentials are stored.
    pub personio: BTreeMap<crate::ids::AccountId, bool>,
    /// Whether the destination token is stored.
    pub destination: bool,
    /// Whether the webhook secret is stored.
    pub webhook: bool,
}

/// Writing per-tenant secrets: what the admin API stores credentials with. Values go in and never
/// come out, except the webhook secret, which is read only to rotate it.
#[async_trait]
pub trait SecretsAdmin: Send + Sync {
    /// Stores the Personio credentials of one account (`{"client_id", "client_secret"}`).
    async fn store_personio(
        &self,
        tenant: &TenantId,
        account: &crate::ids::AccountId,
        credentials: &PersonioCredentials,
    ) -> Result<(), SecretsAdminError>;
    /// Stores the destination's bearer token, with the origin it was entered for.
    async fn store_destination_token(
        &self,
        tenant: &TenantId,
        token: &crate::ports::DestinationToken,
    ) -> Result<(), SecretsAdminError>;
    /// The webhook secret as stored (bare token or JSON), for a rotation; `None` when absent.
    async fn webhook_secret(
        &self,
        tenant: &TenantId,
    ) -> Result<Option<secrecy::SecretString>, SecretsAdminError>;
    /// Replaces the webhook secret with `value` (the text the webhook receiver reads).
    async fn store_webhook_secret(
        &self,
        tenant: &TenantId,
        value: &secrecy::SecretString,
    ) -> Result<(), SecretsAdminError>;
    /// Which of the tenant's secrets exist, for these Personio accounts.
    async fn stored(
        &self,
        tenant: &TenantId,
        accounts: &[crate::ids::AccountId],
    ) -> Result<StoredSecrets, SecretsAdminError>;
    /// Deletes the Personio credentials of accounts removed from the tenant, without a recovery
    /// window (an account added again under the same name must not inherit them); a secret that
    /// does not exist is not an error.
    async fn delete_account_secrets(
        &self,
        tenant: &TenantId,
        accounts: &[crate::ids::AccountId],
    ) -> Result<(), SecretsAdminError>;
    /// Deletes every secret of the tenant (these accounts' credentials, destination, webhook) at
    /// once, without a recovery window; a secret that does not exist is not an error.
    async fn delete_tenant_secrets(
        &self,
        tenant: &TenantId,
        accounts: &[crate::ids::AccountId],
    ) -> Result<(), SecretsAdminError>;
}
