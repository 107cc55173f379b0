//! Write-back (`[write_back]`, opt-in): after the plan is applied, each linked person whose
//! Personio attribute does not hold their app user id (or user name) yet gets it, written with
//! `PATCH /company/employees/{id}`: so after a user is created, adopted or renamed. What was
//! written is kept on the link (`written_back`), so a run that changed nothing writes nothing,
//! and a write that failed (a per-person error) is tried again by the next run.
//!
//! Only the one configured custom attribute is ever written. A credential without write access
//! stops write-back for the run with one error that says so (every further write would fail
//! alike); the sync itself is unaffected.

use super::Ports;
use crate::config::{TenantConfig, WriteBackValue};
use crate::history::RecordError;
use crate::ports::{SourceError, StoreError};
use crate::record::USER_NAME;
use crate::state::{Link, LinkState, Snapshot};

/// Writes at most this many per run: turning write-back on for a large company fills the
/// attribute over several runs instead of spending one run's time at Personio's 5 requests a
/// second.
pub const PER_RUN: usize = 200;

/// What write-back wants in the attribute for `link`; `None` when it has nothing to write (an
/// inactive user, or no user name).
fn wanted(config: &TenantConfig, link: &Link) -> Option<String> {
    if link.state == LinkState::Inactive {
        return None;
    }
    match config.write_back.value {
        WriteBackValue::UserId => Some(link.destination_id.as_str().to_owned()),
        WriteBackValue::UserName => link.record.text_ref(USER_NAME).map(str::to_owned),
    }
}

/// Writes back what is due; the number written. Errors go into `errors`.
pub(super) async fn write_back(
    ports: &Ports<'_>,
    config: &TenantConfig,
    snapshot: &mut Snapshot,
    deadline: Option<std::time::Instant>,
    errors: &mut Vec<RecordError>,
) -> Result<usize, StoreError> {
    let Some(attribute) = &config.write_back.attribute else {
        return Ok(0);
    };
    let due: Vec<(crate::ids::PersonKey, String)> = snapshot
        .links
        .values()
        .filter_map(|link| {
            let value = wanted(config, link)?;
            (link.written_back.as_deref() != Some(value.as_str()))
                .then(|| (link.key.clone(), value))
        })
        .take(PER_RUN)
        .collect();
    let mut written = 0;
    for (key, value) in due {
        if deadline.is_some_and(|deadline| std::time::Instant::now() >= deadline) {
            break;
        }
        let Some((_, source)) = ports
            .sources
            .iter()
            .find(|(account, _)| *account == key.account)
        else {
            continue;
        };
        match source.write_attribute(key.id, attribute, &value).await {
            Ok(()) => {
                if let Some(link) = snapshot.links.get_mut(&key) {
                    link.written_back = Some(value);
                    ports.store.save_link(&config.tenant, link).await?;
                }
                written += 1;
            }
            Err(error @ (SourceError::WriteForbidden { .. } | SourceError::Unauthorized { .. })) => {
                errors.push(RecordError {
                    name: None,
                    person: None,
                    action: "write_back".to_owned(),
                    message: format!("write-back stopped: {error}"),
                    hint: "give the API credential write access to the attribute in Personio, or remove [write_back] from the config".to_owned(),
                });
                break;
            }
            Err(error) => errors.push(RecordError {
                name: None,
                person: Some(key),
                action: "write_back".to_owned(),
                message: error.to_string(),
                hint: "the next run tries again; check the attribute exists and the credential may write it".to_owned(),
            }),
        }
    }
    Ok(written)
}
