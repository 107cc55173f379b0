//! Email: the run's summary to the tenant's admins, when their policy wants one.
//!
//! A finished record is saved with `summary_pending` set, the email sent, and the record saved
//! again with it cleared. A run stopped in between (a Lambda killed or timed out) leaves the flag
//! set, and the tenant's next run sends that summary (`recovery`): an admin may get a summary
//! twice, never none.

use crate::config::TenantConfig;
use crate::history::RunRecord;
use crate::ids::PersonKey;
use crate::ports::{Mailer, RunLinks, Store, StoreError};
use crate::report;
use std::collections::BTreeMap;

/// Where a finished record and its summary go.
#[derive(Clone, Copy)]
pub(super) struct Outbox<'a> {
    pub store: &'a dyn Store,
    pub mailer: &'a dyn Mailer,
    pub links: Option<&'a dyn RunLinks>,
}

impl<'a> super::Ports<'a> {
    pub(super) fn outbox(&self) -> Outbox<'a> {
        Outbox {
            store: self.store,
            mailer: self.mailer,
            links: self.links,
        }
    }
}

/// Whether the summary is sent now or left to the next run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Send {
    Now,
    /// The caller may still run again under the same run id (a refused credential read again):
    /// the record is saved as pending, and a run that never comes leaves it to the next one.
    Later,
}

/// Saves the finished `record` and sends its summary if the tenant wants one. A mail failure is
/// logged, never fails the run: the run's effects are already recorded.
pub(super) async fn record_and_notify(
    out: &Outbox<'_>,
    config: &TenantConfig,
    record: &mut RunRecord,
    names: &BTreeMap<PersonKey, String>,
    send: Send,
) -> Result<(), StoreError> {
    record.summary_pending = report::should_send(config, record);
    // Kept with the errors, so that the stored errors.csv is the one the email attaches.
    report::name_errors(&mut record.errors, names);
    out.store.save_run(&config.tenant, record).await?;
    if record.summary_pending && send == Send::Now {
        notify_recorded(out, config, record, names).await;
    }
    Ok(())
}

/// Sends the summary of `record`, saved with `summary_pending`, and clears the flag.
pub(super) async fn notify_recorded(
    out: &Outbox<'_>,
    config: &TenantConfig,
    record: &mut RunRecord,
    names: &BTreeMap<PersonKey, String>,
) {
    if notify(out, config, record, names).await == Sent::Later {
        // Left pending: the tenant's next run sends it again.
        return;
    }
    // Cleared once sent or refused: a refused email is logged, and retrying it on every later
    // run would not make it arrive.
    record.summary_pending = false;
    if let Err(error) = out.store.save_run(&config.tenant, record).await {
        tracing::warn!(error = %error, "summary sent, but not marked sent: the next run may send it again");
    }
}

/// How sending a summary ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Sent {
    /// Sent, refused for good, or not wanted.
    Done,
    /// The mail service failed in a way that may pass: to be sent again later.
    Later,
}

/// Sends the summary if the tenant wants one.
pub(super) async fn notify(
    out: &Outbox<'_>,
    config: &TenantConfig,
    record: &RunRecord,
    names: &BTreeMap<PersonKey, String>,
) -> Sent {
    if !report::should_send(config, record) {
        return Sent::Done;
    }
    let from = config
        .email
        .from
        .clone()
        .unwrap_or_else(|| "personio-sync@localhost".to_owned());
    let link = out
        .links
        .and_then(|links| links.run_link(&config.tenant, record));
    let email = report::render_summary(config, record, &from, names, link.as_deref());
    match out.mailer.send(&email).await {
        Ok(()) => Sent::Done,
        Err(error) if error.transient => {
            tracing::warn!(error = %error, "could not send the summary email now; the next run sends it again");
            Sent::Later
        }
        Err(error) => {
            tracing::error!(error = %error, "could not send the summary email");
            Sent::Done
        }
    }
}
