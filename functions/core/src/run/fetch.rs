//! Fetch: read the run's people from the tenant's Personio accounts — everyone, or one person —
//! into an [`Intake`], which maps and scopes them as they arrive (normalisation happens in the
//! source, so only the attributes the tenant uses are kept).

use super::{Ports, RunError, RunTarget};
use crate::config::TenantConfig;
use crate::ids::AccountId;
use crate::people::Intake;
use crate::ports::Source;

/// Reads the people `target` names, one account after the other: each account's batch is mapped
/// and scoped before the next is read, so a multi-account tenant never holds two raw batches.
pub(super) async fn fetch<'c>(
    ports: &Ports<'_>,
    config: &'c TenantConfig,
    target: &RunTarget,
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
        let batch = match target {
            RunTarget::Everyone => {
                ports.progress.start("fetch", 0);
                let batch = source.employees().await?;
                ports.progress.finish();
                batch
            }
            RunTarget::Person(key) => match source.employee(key.id).await? {
                Some(batch) => batch,
                None => {
                    intake.add_gone(key.clone());
                    continue;
                }
            },
        };
        intake.add(account, batch);
    }
    Ok(intake)
}
