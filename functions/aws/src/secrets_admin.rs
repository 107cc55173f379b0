//! The `SecretsAdmin` port on [`SecretsManagerSecrets`]: what the admin API stores credentials
//! with, under the names `secrets` documents.
//!
//! Writes go through [`SecretsManagerSecrets::put_secret`] (create or new version, cache dropped).
//! The webhook secret is read past the cache for a rotation, so a rotation always starts from the
//! newest value. Existence is checked with `DescribeSecret`, which never returns a value. Deletes
//! skip the recovery window (`ForceDeleteWithoutRecovery`): a deleted tenant is gone at once, and
//! a tenant created again with the same id can store its secrets under the same names right away.

use crate::secrets::{
    destination_secret_name, personio_secret_name, webhook_secret_name, SecretWriteError,
};
use crate::SecretsManagerSecrets;
use async_trait::async_trait;
use aws_sdk_secretsmanager::error::{ProvideErrorMetadata, SdkError};
use secrecy::SecretString;
use sync_core::ids::{AccountId, TenantId};
use sync_core::ports::{
    DestinationToken, PersonioCredentials, SecretsAdmin, SecretsAdminError, StoredSecrets,
};

fn from_write(error: SecretWriteError) -> SecretsAdminError {
    SecretsAdminError {
        action: "store",
        name: error.name,
        detail: error.detail,
    }
}

/// A Secrets Manager error as a [`SecretsAdminError`]: the service's code and a hint, never a value.
fn service_error<E: ProvideErrorMetadata, R>(
    action: &'static str,
    name: &str,
    err: &SdkError<E, R>,
) -> SecretsAdminError {
    let detail = match err.code() {
        Some("AccessDeniedException") => format!(
            "access denied; allow secretsmanager:{} on personio-sync/* for the function's role",
            match action {
                "read" => "GetSecretValue",
                "check" => "DescribeSecret",
                _ => "DeleteSecret",
            }
        ),
        Some(code) => format!("Secrets Manager answered {code}"),
        None => "Secrets Manager did not answer; try again".to_owned(),
    };
    SecretsAdminError {
        action,
        name: name.to_owned(),
        detail,
    }
}

fn is_not_found<E: ProvideErrorMetadata, R>(err: &SdkError<E, R>) -> bool {
    err.code() == Some("ResourceNotFoundException")
}

impl SecretsManagerSecrets {
    /// Whether secret `name` exists (and is not scheduled for deletion).
    async fn exists(&self, name: &str) -> Result<bool, SecretsAdminError> {
        match self.client().describe_secret().secret_id(name).send().await {
            Ok(output) => Ok(output.deleted_date.is_none()),
            Err(err) if is_not_found(&err) => Ok(false),
            Err(err) => Err(service_error("check", name, &err)),
        }
    }

    /// Deletes secret `name` without a recovery window; a missing secret is fine.
    async fn delete(&self, name: &str) -> Result<(), SecretsAdminError> {
        self.forget_secret(name);
        let deleted = self
            .client()
            .delete_secret()
            .secret_id(name)
            .force_delete_without_recovery(true)
            .send()
            .await;
        match deleted {
            Ok(_) => {
                tracing::info!(secret = name, "secret deleted");
                Ok(())
            }
            Err(err) if is_not_found(&err) => Ok(()),
            Err(err) => Err(service_error("delete", name, &err)),
        }
    }
}

#[async_trait]
impl SecretsAdmin for SecretsManagerSecrets {
    async fn store_personio(
        &self,
        tenant: &TenantId,
        account: &AccountId,
        credentials: &PersonioCredentials,
    ) -> Result<(), SecretsAdminError> {
        self.put_personio(tenant, account, credentials)
            .await
            .map_err(from_write)
    }

    async fn store_destination_token(
        &self,
        tenant: &TenantId,
        token: &DestinationToken,
    ) -> Result<(), SecretsAdminError> {
        self.put_destination_token(tenant, token)
            .await
            .map_err(from_write)
    }

    async fn webhook_secret(
        &self,
        tenant: &TenantId,
    ) -> Result<Option<SecretString>, SecretsAdminError> {
        let name = webhook_secret_name(tenant);
        match self
            .client()
            .get_secret_value()
            .secret_id(&name)
            .send()
            .await
        {
            Ok(output) => Ok(output.secret_string.map(SecretString::from)),
            Err(err) if is_not_found(&err) => Ok(None),
            Err(err) => Err(service_error("read", &name, &err)),
        }
    }

    async fn store_webhook_secret(
        &self,
        tenant: &TenantId,
        value: &SecretString,
    ) -> Result<(), SecretsAdminError> {
        self.put_secret(&webhook_secret_name(tenant), value)
            .await
            .map_err(from_write)
    }

    async fn stored(
        &self,
        tenant: &TenantId,
        accounts: &[AccountId],
    ) -> Result<StoredSecrets, SecretsAdminError> {
        let mut stored = StoredSecrets::default();
        for account in accounts {
            let exists = self.exists(&personio_secret_name(tenant, account)).await?;
            stored.personio.insert(account.clone(), exists);
        }
        stored.destination = self.exists(&destination_secret_name(tenant)).await?;
        stored.webhook = self.exists(&webhook_secret_name(tenant)).await?;
        Ok(stored)
    }

    async fn delete_account_secrets(
        &self,
        tenant: &TenantId,
        accounts: &[AccountId],
    ) -> Result<(), SecretsAdminError> {
        for account in accounts {
            self.delete(&personio_secret_name(tenant, account)).await?;
        }
        Ok(())
    }

    async fn delete_tenant_secrets(
        &self,
        tenant: &TenantId,
        accounts: &[AccountId],
    ) -> Result<(), SecretsAdminError> {
        self.delete_account_secrets(tenant, accounts).await?;
        self.delete(&destination_secret_name(tenant)).await?;
        self.delete(&webhook_secret_name(tenant)).await
    }
}
