//! Fetch: read the run's people from the tenant's Personio accounts — everyone, the people
//! changed since the last clean run, or one person — into an [`Intake`], which maps and scopes
//! them as they arrive (normalisation happens in the source, so only the attributes the tenant
//! uses are kept).

use super::{Ports, RunError, RunRequest, RunTarget};
use crate::config::TenantConfig;
use crate::history::{Reading, Trigger};
use crate::ids::AccountId;
use crate::incremental::{self, Decision};
use crate::people::Intake;
use crate::ports::Source;

/// How much of Personio the run reads: a scheduled run of everyone may read only the changes
/// ([`incremental::decide`], from the tenant's history).
pub(super) async fn reading(
    ports: &Ports<'_>,
    config: &TenantConfig,
    request: &RunRequest,
) -> Result<Reading, RunError> {
    if let RunTarget::Person(_) = request.target {
        return Ok(Reading::Person);
    }
    if request.trigger != Trigger::Schedule || !incremental::applies(config) {
        return Ok(Reading::Everyone);
    }
    let history = ports
        .store
        .runs(&config.tenant, incremental::HISTORY)
        .await?;
    Ok(match incremental::decide(config, &history, request.now) {
        Decision::Full { why } => {
            tracing::info!(why, "scheduled run reads everyone");
            Reading::Everyone
        }
        Decision::Changed { since } => {
            tracing::info!(%since, "scheduled run reads the people changed since");
            Reading::Changed { since }
        }
    })
}

/// Reads the people `target` names, one account after the other: each account's batch is mapped
/// and scoped before the next is read, so a multi-account tenant never holds two raw batches.
pub(super) async fn fetch<'c>(
    ports: &Ports<'_>,
    config: &'c TenantConfig,
    target: &RunTarget,
    reading: Reading,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Intake<'c>, RunError> {
    let mut intake = Intake::new(config, now);
    let sources: Vec<&(AccountId, &dyn Source)> = match target {
        RunTarget::Everyone => ports.sources.iter().collect(),
        RunTarget::Person(key) => {
            let source = ports
                .sources
                .iter()
                .find(|(account, _)| *account == key.account);
            vec![source.ok_or_else(|| RunError::UnknownAccount {
                account: key.account.clone(),
            })?]
        }
    };
    for (account, source) in sources {
        match target {
            RunTarget::Everyone => {
                ports.progress.start("fetch", 0);
                let since = match reading {
                    Reading::Changed { since } => Some(since),
                    Reading::Everyone | Reading::Person => None,
                };
                // Mapped and scoped page by page as the source reads them: a full fetch of
                // 100,000 people never holds them all raw (issue 17).
                let prepared = source.read_prepared(since, &mut intake.preparer()).await?;
                ports.progress.finish();
                intake.add_prepared(account, prepared);
            }
            RunTarget::Person(key) => match source.employee(key.id).await? {
                Some(batch) => intake.add(account, batch),
                None => intake.add_gone(key.clone()),
            },
        }
    }
    Ok(intake)
}
