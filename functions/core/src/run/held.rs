//! The two ways a held run ends — [`approve`] applies the held plan, [`reject`] drops it — and the
//! rule that no other run applies while one is held.

use super::recording::{names_from_plan, started};
use super::{finish, OnRefusal, Ports, RunError, RunOutcome};
use crate::config::TenantConfig;
use crate::history::{RunRecord, RunStatus, Trigger};
use crate::ids::{RunId, TenantId};
use crate::ports::{Store, StoreError};
use chrono::{DateTime, Utc};

/// Approves a held run and applies its plan at once, as a new run (the command line): the
/// claim and the apply of [`claim_for_approval`] and [`apply_approved`] in one.
pub async fn approve(
    ports: &Ports<'_>,
    config: &TenantConfig,
    run_id: &RunId,
    now: DateTime<Utc>,
) -> Result<RunOutcome, RunError> {
    let approving = RunId::new(now);
    claim_for_approval(ports.store, &config.tenant, run_id, &approving).await?;
    apply_approved(ports, config, run_id, approving, now).await
}

/// Claims held run `run_id` for the approving run `approving`, so that no second approval or a
/// rejection can take it; the apply is [`apply_approved`] (in AWS, a worker job in the tenant's
/// queue). [`RunError::NotHeld`] when it is not held or another approval or rejection has it.
pub async fn claim_for_approval(
    store: &dyn Store,
    tenant: &TenantId,
    run_id: &RunId,
    approving: &RunId,
) -> Result<(), RunError> {
    claim(store, tenant, run_id, approving.as_str())
        .await
        .map(|_| ())
}

/// Gives an approval's claim back (its job could not be queued), so the run can be approved or
/// rejected again.
pub async fn release_approval(
    store: &dyn Store,
    tenant: &TenantId,
    run_id: &RunId,
    approving: &RunId,
) -> Result<(), RunError> {
    Ok(store
        .release_held(tenant, run_id, approving.as_str())
        .await?)
}

/// Applies the plan of held run `run_id` as run `approving`, which claimed it; the held run
/// becomes `approved`. The held plan is removed only after the apply, so that it keeps blocking
/// the tenant's other runs meanwhile, and a job stopped mid-way applies it again when it comes
/// back (each action is idempotent: a create first looks for the user an earlier attempt made).
pub async fn apply_approved(
    ports: &Ports<'_>,
    config: &TenantConfig,
    run_id: &RunId,
    approving: RunId,
    now: DateTime<Utc>,
) -> Result<RunOutcome, RunError> {
    let tenant = &config.tenant;
    // Claimed again by the same run: a no-op for the claim's owner, refused for anyone else.
    let held_record = claim(ports.store, tenant, run_id, approving.as_str()).await?;
    let held = ports
        .store
        .held(tenant, run_id)
        .await?
        .ok_or_else(|| RunError::NotHeld {
            run_id: run_id.clone(),
            status: held_record.status.as_str(),
        })?;
    let mut record = started(
        approving,
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
    let snapshot = ports.store.snapshot(tenant).await?;
    let names = names_from_plan(&held.plan);
    record.fetched = approved.fetched;
    record.in_scope = approved.in_scope;
    let stats = (held.source_stats.employees > 0).then_some(&held.source_stats);
    let finished = finish(
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
    .await;
    // Applied or failed (recorded and emailed either way): the plan is done with. A failed
    // approval is not retried with a stale plan; the next run plans afresh.
    ports.store.remove_held(tenant, run_id).await?;
    let record = finished?;
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
    // A claim of its own, so that an approval in flight and this rejection never both go on.
    let by = format!("reject:{}", RunId::new(Utc::now()));
    let mut record = claim(store, tenant, run_id, &by).await?;
    record.status = RunStatus::Rejected;
    store.save_run(tenant, &record).await?;
    store.remove_held(tenant, run_id).await?;
    Ok(record)
}

/// Claims held run `run_id` for `by`; its record when claimed.
async fn claim(
    store: &dyn Store,
    tenant: &TenantId,
    run_id: &RunId,
    by: &str,
) -> Result<RunRecord, RunError> {
    let record = held_record(store, tenant, run_id).await?;
    if store.claim_held(tenant, run_id, by).await? {
        return Ok(record);
    }
    let status = if store.held(tenant, run_id).await?.is_some() {
        "already being approved or rejected"
    } else {
        record.status.as_str()
    };
    Err(RunError::NotHeld {
        run_id: run_id.clone(),
        status,
    })
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
