//! Whether a run that reached its deadline with work left may be continued by another. A run that
//! made no progress would be continued forever, and so would a tenant whose every run takes longer
//! than the time limit: both end as a failed run instead, which the admins are emailed and the
//! worker reports as a failed job (the operators' alarm).

use crate::history::RunStatus;
use crate::ids::{RunId, TenantId};
use crate::ports::{Store, StoreError};

/// At most this many runs in a row may stop at their deadline and be continued; the next one
/// that does fails instead.
pub const MAX_CONTINUATIONS: usize = 5;

/// `Some(why)` when the run `current` (stopped at its deadline; `progress`: it applied or tried
/// something) must not be continued.
pub(super) async fn refused(
    store: &dyn Store,
    tenant: &TenantId,
    current: &RunId,
    progress: bool,
) -> Result<Option<String>, StoreError> {
    if !progress {
        return Ok(Some(
            "the run reached its time limit before applying anything, so another run would stop \
             at the same point; nothing was changed. Raise the worker's Timeout (up to 900 s), or \
             lower the load (fewer people per account, a higher Personio rate limit)"
                .to_owned(),
        ));
    }
    // The runs just before this one (newest first): how many in a row stopped at the deadline.
    let earlier = store.runs(tenant, MAX_CONTINUATIONS + 1).await?;
    let in_a_row = earlier
        .iter()
        .filter(|run| run.id != *current)
        .take_while(|run| run.status == RunStatus::Partial)
        .count();
    if in_a_row < MAX_CONTINUATIONS {
        return Ok(None);
    }
    Ok(Some(format!(
        "{} runs in a row reached their time limit with work left; no further run is queued. \
         What they applied stays applied. Raise the worker's Timeout (up to 900 s) or the apply \
         concurrency, then start a run",
        in_a_row + 1
    )))
}
