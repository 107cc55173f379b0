//! The run's picture step ([`crate::pictures`]), when the deployment has a picture store and the
//! tenant hosts pictures: between mapping and planning, so that the plan compares hosted URLs.

use super::{Ports, RunError, RunRequest};
use crate::config::TenantConfig;
use crate::lifecycle;
use crate::people::Intake;
use crate::pictures::{self, Hosting};
use crate::plan::Skip;
use crate::state::Snapshot;

/// Hosts the pictures of the intake's people; returns the warnings for the run's report.
pub(super) async fn host(
    ports: &Ports<'_>,
    config: &TenantConfig,
    request: &RunRequest,
    intake: &mut Intake<'_>,
    snapshot: &Snapshot,
) -> Result<Vec<Skip>, RunError> {
    let Some(store) = ports.pictures.filter(|_| config.pictures.host) else {
        return Ok(Vec::new());
    };
    ports.progress.start("pictures", 0);
    let hosting = Hosting {
        store,
        tenant: &config.tenant,
        settings: &config.pictures,
        today: lifecycle::today_in(config.timezone, request.now),
        write: !request.dry_run,
        deadline: request.deadline,
    };
    let outcome = pictures::host(
        &hosting,
        &ports.sources,
        &mut intake.people,
        &snapshot.links,
    )
    .await?;
    ports.progress.finish();
    tracing::info!(
        downloaded = outcome.downloaded,
        stored = outcome.stored,
        warnings = outcome.warnings.len(),
        "pictures hosted"
    );
    Ok(outcome.warnings)
}
