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

/// Removes the hosted pictures of people whose users retention deleted in this run (when nobody
/// else has the same picture) and forgets them in the index. A picture that cannot be removed is
/// an error of the run naming the file; the deletion itself stands.
pub(super) async fn forget_deleted(
    ports: &Ports<'_>,
    config: &TenantConfig,
    deleted: &[crate::ids::PersonKey],
    errors: &mut Vec<crate::history::RecordError>,
) {
    let Some(store) = ports.pictures.filter(|_| !deleted.is_empty()) else {
        return;
    };
    let failed =
        |person: Option<&crate::ids::PersonKey>, message: String| crate::history::RecordError {
            name: None,
            person: person.cloned(),
            action: "picture".to_owned(),
            message,
            hint: "remove the file from the pictures store by hand; the user is deleted".to_owned(),
        };
    let mut index = match store.index(&config.tenant).await {
        Ok(index) => index,
        Err(error) => {
            errors.push(failed(
                None,
                format!("the pictures of deleted users stay: {error}"),
            ));
            return;
        }
    };
    for file in pictures::forget(&mut index, deleted) {
        if let Err(error) = store.remove(&config.tenant, &file).await {
            errors.push(failed(
                None,
                format!("picture {file} of a deleted user stays: {error}"),
            ));
        }
    }
    if let Err(error) = store.save_index(&config.tenant, &index).await {
        errors.push(failed(
            None,
            format!("the pictures index still names deleted users: {error}"),
        ));
    }
}
