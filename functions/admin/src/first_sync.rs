//! The tenant's first full sync, queued as soon as it can run: when the credentials just stored
//! complete a deployed tenant's set (every Personio account's and the SCIM token) and it has
//! never run. Josys's customers are told to "allow some time for data synchronization"; ours get
//! the data without asking for it.
//!
//! Only SCIM tenants qualify: a deployment cannot run a directory destination, and tenants that
//! are disabled or have a run in their history are left to their schedule and admins. A failure
//! here never fails the credentials call that stored what it stored: it is logged, and sync now
//! or the schedule runs the tenant later.

use crate::AdminDeps;
use chrono::Utc;
use sync_core::config::{DestinationConfig, TenantConfig};
use sync_core::ids::{AccountId, RunId};

/// Queues the first sync of `config`'s tenant when it is ready and has never run; its id then.
pub async fn queue_if_ready(deps: &AdminDeps, config: &TenantConfig) -> Option<RunId> {
    let tenant = &config.tenant;
    if !config.enabled || !matches!(config.destination, DestinationConfig::Scim { .. }) {
        return None;
    }
    let ready = async {
        let accounts: Vec<AccountId> = config
            .personio
            .accounts
            .iter()
            .map(|account| account.name.clone())
            .collect();
        let stored = deps
            .secrets_admin
            .stored(tenant, &accounts)
            .await
            .map_err(|error| error.to_string())?;
        let complete = stored.destination && stored.personio.values().all(|stored| *stored);
        if !complete {
            return Ok(false);
        }
        let never_ran = deps
            .store
            .runs(tenant, 1)
            .await
            .map_err(|error| error.to_string())?
            .is_empty();
        Ok::<_, String>(never_ran)
    };
    match ready.await {
        Ok(true) => {}
        Ok(false) => return None,
        Err(error) => {
            tracing::warn!(tenant_id = %tenant, error = %error, "could not tell whether the first sync is due");
            return None;
        }
    }
    match crate::runs::queueing(deps)
        .first_sync(tenant, Utc::now())
        .await
    {
        Ok(run_id) => {
            tracing::info!(tenant_id = %tenant, run_id = %run_id, "first sync queued");
            Some(run_id)
        }
        Err(error) => {
            tracing::warn!(tenant_id = %tenant, error = %error, "could not queue the first sync");
            None
        }
    }
}
