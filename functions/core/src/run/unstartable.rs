//! Runs that never start, recorded and emailed all the same: one whose tenant's adapters could
//! not be built (a credential missing, a destination unusable), and the notice of a revoked
//! Personio access.

use super::notify::{self, record_and_notify, Send};
use super::{recording, RunRequest};
use crate::config::TenantConfig;
use crate::history::{RunRecord, RunStatus};
use crate::ids::RunId;
use chrono::Utc;
use std::collections::BTreeMap;

/// Records and emails a run that could not start because the tenant's adapters could not be
/// built (a credential missing or refused for another origin, a destination unusable): no job
/// ends without a trace in the history and the admins' inbox. `failure` says what to fix.
pub async fn record_unstartable(
    store: &dyn crate::ports::Store,
    mailer: &dyn crate::ports::Mailer,
    config: &TenantConfig,
    request: &RunRequest,
    failure: String,
) -> Result<RunRecord, crate::ports::StoreError> {
    let run_id = request
        .run_id
        .clone()
        .unwrap_or_else(|| RunId::new(request.now));
    let mut record = recording::started(
        run_id,
        request.trigger.clone(),
        request.dry_run,
        request.now,
    );
    record.status = RunStatus::Failed;
    record.failure = Some(failure);
    record.finished_at = Some(Utc::now());
    let out = notify::Outbox {
        store,
        mailer,
        links: None,
    };
    if record.dry_run {
        // A dry run leaves no history; its caller sees the error.
        return Ok(record);
    }
    record_and_notify(&out, config, &mut record, &BTreeMap::new(), Send::Now).await?;
    Ok(record)
}

/// Records and emails the notice that an admin revoked the tenant's Personio access (the admin
/// API deleted its Personio credentials and disabled it): a `failed` record with trigger
/// `revocation` whose failure text says what happened and how to resume. Every admin on the
/// email list learns that runs stopped, not only the one who revoked.
pub async fn record_revocation(
    store: &dyn crate::ports::Store,
    mailer: &dyn crate::ports::Mailer,
    config: &TenantConfig,
    request: &RunRequest,
) -> Result<RunRecord, crate::ports::StoreError> {
    let accounts: Vec<&str> = config
        .personio
        .accounts
        .iter()
        .map(|account| account.name.as_str())
        .collect();
    let notice = format!(
        "Personio access was revoked through the admin API at {}: the stored Personio credentials (account{} {}) are deleted and the tenant is disabled, so no run reads Personio or changes the app. The app's accounts stay as they are. To sync again, store new Personio credentials and enable the tenant.",
        request.now.format("%Y-%m-%d %H:%M UTC"),
        if accounts.len() == 1 { "" } else { "s" },
        accounts.join(", "),
    );
    record_unstartable(store, mailer, config, request, notice).await
}
