//! The two ways a held run ends — [`approve`] applies the held plan, [`reject`] drops it — and the
//! rule that no other run applies while one is held.

use super::recording::{names_from_plan, started};
use super::{finish, OnRefusal, Ports, RunError, RunOutcome};
use crate::config::TenantConfig;
use crate::history::{RunRecord, RunStatus, Trigger};
use crate::ids::{RunId, TenantId};
use crate::ports::{Store, StoreError};
use chrono::{DateTime, Utc};

/// Applies a held run's plan; the held run becomes `approved` and a new run records the apply.
pub async fn approve(
    ports: &Ports<'_>,
    config: &TenantConfig,
    run_id: &RunId,
    now: DateTime<Utc>,
) -> Result<RunOutcome, RunError> {
    let tenant = &config.tenant;
    let held_record = held_record(ports.store, tenant, run_id).await?;
    let held = ports
        .store
        .held(tenant, run_id)
        .await?
        .ok_or_else(|| RunError::NotHeld {
            run_id: run_id.clone(),
            status: held_record.status.as_str(),
        })?;
    let record = started(
        RunId::new(now),
        Trigger::Approval {
            held_run: run_id.clone(),
        },
        false,
        now,
    );
    ports.store.save_run(tenant, &record).await?;
    let mut approved = held_record;
    approved.status = RunStatus::Approved;
    ports.store.save_run(tenant, &approved).await?;
    ports.store.remove_held(tenant, run_id).await?;
    let snapshot = ports.store.snapshot(tenant).await?;
    let names = names_from_plan(&held.plan);
    let mut record = record;
    record.fetched = approved.fetched;
    record.in_scope = approved.in_scope;
    let stats = (held.source_stats.employees > 0).then_some(&held.source_stats);
    let record = finish(
        ports,
        config,
        record,
        &held.plan,
        snapshot,
        stats,
        &names,
        OnRefusal::Report,
        (now, None),
    )
    .await?;
    Ok(RunOutcome {
        record,
        plan: held.plan,
    })
}

/// Drops a held run: nothing is written, and the next run plans afresh.
///
/// It touches only the store: a tenant whose destination or Personio credentials are unusable can
/// still reject.
pub async fn reject(
    store: &dyn Store,
    tenant: &TenantId,
    run_id: &RunId,
) -> Result<RunRecord, RunError> {
    let mut record = held_record(store, tenant, run_id).await?;
    if store.held(tenant, run_id).await?.is_none() {
        return Err(RunError::NotHeld {
            run_id: run_id.clone(),
            status: record.status.as_str(),
        });
    }
    record.status = RunStatus::Rejected;
    store.save_run(tenant, &record).await?;
    store.remove_held(tenant, run_id).await?;
    Ok(record)
}

async fn held_record(
    store: &dyn Store,
    tenant: &TenantId,
    run_id: &RunId,
) -> Result<RunRecord, RunError> {
    store
        .run(tenant, run_id)
        .await?
        .ok_or_else(|| RunError::UnknownRun {
            run_id: run_id.clone(),
        })
}

/// The held run that keeps this tenant from applying, if any.
pub(super) async fn pending_held(
    store: &dyn Store,
    config: &TenantConfig,
) -> Result<Option<RunId>, StoreError> {
    Ok(store.held_runs(&config.tenant).await?.into_iter().next())
}
