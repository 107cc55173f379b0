//! Email: the run's summary to the tenant's admins, when their policy wants one.

use super::Ports;
use crate::config::TenantConfig;
use crate::history::RunRecord;
use crate::ids::PersonKey;
use crate::report;
use std::collections::BTreeMap;

/// Sends the summary if the tenant wants one. A mail failure is logged, never fails the run:
/// the run's effects are already recorded.
pub(super) async fn notify(
    ports: &Ports<'_>,
    config: &TenantConfig,
    record: &RunRecord,
    names: &BTreeMap<PersonKey, String>,
) {
    if !report::should_send(config, record) {
        return;
    }
    let from = config
        .email
        .from
        .clone()
        .unwrap_or_else(|| "personio-sync@localhost".to_owned());
    let email = report::render_summary(config, record, &from, names);
    if let Err(error) = ports.mailer.send(&email).await {
        tracing::error!(error = %error, "could not send the summary email");
    }
}
