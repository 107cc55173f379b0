//! In-memory peers for the ports that have no local adapter yet (`ConfigStore`, `Secrets`,
//! `Jobs`). They are test peers with the documented semantics of the real adapters, not mocks of
//! the handler: the event log under test is sync-local's real `FolderStore`.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use secrecy::SecretString;
use std::collections::{BTreeMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex};
use sync_core::config::TenantConfig;
use sync_core::ids::{AccountId, TenantId};
use sync_core::personio::webhooks::WebhookSecret;
use sync_core::ports::{
    ConfigStore, DueTenant, Job, Jobs, JobsError, PersonioCredentials, Secrets, SecretsError,
    StoreError, VersionedConfig,
};

/// Tenant configs in a map.
#[derive(Default)]
pub struct MemoryConfigs {
    configs: Mutex<BTreeMap<TenantId, VersionedConfig>>,
}

impl MemoryConfigs {
    /// Stores `config` (as version 1).
    pub fn insert(&self, config: TenantConfig) {
        self.configs.lock().unwrap().insert(
            config.tenant.clone(),
            VersionedConfig { config, version: 1 },
        );
    }
}

#[async_trait]
impl ConfigStore for MemoryConfigs {
    async fn config(&self, tenant: &TenantId) -> Result<Option<VersionedConfig>, StoreError> {
        Ok(self.configs.lock().unwrap().get(tenant).cloned())
    }

    async fn put_config(
        &self,
        config: &TenantConfig,
        _expected: Option<u64>,
    ) -> Result<u64, StoreError> {
        self.insert(config.clone());
        Ok(1)
    }

    async fn due(&self, _now: DateTime<Utc>) -> Result<Vec<DueTenant>, StoreError> {
        Ok(Vec::new())
    }

    async fn set_next_due(
        &self,
        _tenant: &TenantId,
        _next: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        Ok(())
    }
}

/// Webhook secrets in a map, as stored text read through the same parser as Secrets Manager's
/// adapter (`WebhookSecret::from_stored`); other secrets are missing.
#[derive(Default)]
pub struct MemorySecrets {
    webhook: Mutex<BTreeMap<TenantId, String>>,
    webhook_reads: std::sync::atomic::AtomicUsize,
}

impl MemorySecrets {
    /// How many times a webhook secret was asked for (each a Secrets Manager call in AWS).
    pub fn webhook_reads(&self) -> usize {
        self.webhook_reads.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Stores the webhook secret of `tenant` (the bare token or the JSON form).
    pub fn set_webhook(&self, tenant: &TenantId, value: &str) {
        self.webhook
            .lock()
            .unwrap()
            .insert(tenant.clone(), value.to_owned());
    }
}

fn missing(tenant: &TenantId, what: &str) -> SecretsError {
    SecretsError::Missing {
        name: format!("personio-sync/{tenant}/{what}"),
    }
}

#[async_trait]
impl Secrets for MemorySecrets {
    async fn personio(
        &self,
        tenant: &TenantId,
        _account: &AccountId,
    ) -> Result<PersonioCredentials, SecretsError> {
        Err(missing(tenant, "personio"))
    }

    async fn destination_token(
        &self,
        tenant: &TenantId,
    ) -> Result<sync_core::ports::DestinationToken, SecretsError> {
        Err(missing(tenant, "destination"))
    }

    async fn webhook(&self, tenant: &TenantId) -> Result<WebhookSecret, SecretsError> {
        self.webhook_reads
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let stored = self
            .webhook
            .lock()
            .unwrap()
            .get(tenant)
            .map(|value| SecretString::from(value.clone()))
            .ok_or_else(|| missing(tenant, "webhook"))?;
        WebhookSecret::from_stored(&format!("personio-sync/{tenant}/webhook"), &stored)
    }
}

/// A FIFO queue that, like SQS FIFO, drops a job whose dedupe key it has seen (for the whole
/// test rather than SQS's five minutes).
#[derive(Default)]
pub struct QueueJobs {
    state: Mutex<(VecDeque<Job>, HashSet<String>)>,
    /// When set, every enqueue fails, as a queue outage would.
    broken: Mutex<bool>,
    /// When set, every enqueue signals it and then never returns: the caller is stopped there
    /// (its future dropped), as when a Lambda dies mid-call.
    stuck: Mutex<Option<Arc<tokio::sync::Notify>>>,
}

impl QueueJobs {
    /// Takes every queued job, oldest first.
    pub fn drain(&self) -> Vec<Job> {
        self.state.lock().unwrap().0.drain(..).collect()
    }

    /// The jobs queued and not yet taken.
    pub fn pending(&self) -> Vec<Job> {
        self.state.lock().unwrap().0.iter().cloned().collect()
    }

    /// Makes every later enqueue fail (`true`) or work again.
    pub fn set_broken(&self, broken: bool) {
        *self.broken.lock().unwrap() = broken;
    }

    /// Makes every later enqueue notify `entered` and then hang (`Some`), or work again (`None`).
    pub fn set_stuck(&self, entered: Option<Arc<tokio::sync::Notify>>) {
        *self.stuck.lock().unwrap() = entered;
    }
}

#[async_trait]
impl Jobs for QueueJobs {
    async fn enqueue(&self, job: &Job, dedupe_key: &str) -> Result<(), JobsError> {
        if *self.broken.lock().unwrap() {
            return Err(JobsError {
                detail: "the queue is unavailable".to_owned(),
            });
        }
        let stuck = self.stuck.lock().unwrap().clone();
        if let Some(entered) = stuck {
            entered.notify_one();
            std::future::pending::<()>().await;
        }
        let mut state = self.state.lock().unwrap();
        if state.1.insert(dedupe_key.to_owned()) {
            state.0.push_back(job.clone());
        }
        Ok(())
    }
}
