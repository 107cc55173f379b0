//! Record: the run's history entry — started, described from its plan (dry runs and held runs),
//! and the names the summary shows.

use crate::config::TenantConfig;
use crate::history::{Counts, RunRecord, RunStatus, SkipItem, Trigger};
use crate::ids::{PersonKey, RunId};
use crate::people::display_name;
use crate::plan::{ActionKind, Plan};
use crate::report;
use chrono::{DateTime, Utc};
use std::collections::{BTreeMap, BTreeSet};

/// A new record of a run that has just started.
pub(super) fn started(id: RunId, trigger: Trigger, dry_run: bool, now: DateTime<Utc>) -> RunRecord {
    RunRecord {
        id,
        trigger,
        status: RunStatus::Running,
        dry_run,
        started_at: now,
        finished_at: None,
        fetched: 0,
        in_scope: 0,
        counts: Counts::default(),
        held_because: Vec::new(),
        failure: None,
        changes: Vec::new(),
        errors: Vec::new(),
        summary_pending: false,
        skips: Vec::new(),
        reading: crate::history::Reading::Everyone,
        config_fingerprint: None,
    }
}

/// The mapped fields whose values never appear in emails, history or logs.
pub(super) fn sensitive_fields(config: &TenantConfig) -> BTreeSet<String> {
    config
        .mapping
        .effective_fields()
        .into_iter()
        .filter(|rule| rule.sensitive)
        .map(|rule| rule.target)
        .collect()
}

/// Fills a dry-run or held record with the planned counts and change list.
pub(super) fn describe_plan(
    config: &TenantConfig,
    plan: &Plan,
    names: &BTreeMap<PersonKey, String>,
    record: &mut RunRecord,
) {
    let sensitive = sensitive_fields(config);
    let counts = &mut record.counts;
    for action in &plan.actions {
        let changes = match &action.kind {
            ActionKind::Create { .. } => {
                counts.created += 1;
                &[][..]
            }
            ActionKind::Adopt { .. } => {
                counts.adopted += 1;
                &[][..]
            }
            ActionKind::Update { changes, .. } => {
                counts.updated += 1;
                changes.as_slice()
            }
            ActionKind::Activate { changes, from, .. } => {
                if *from == crate::state::LinkState::PreHire {
                    counts.activated += 1
                } else {
                    counts.reactivated += 1
                }
                changes.as_slice()
            }
            ActionKind::Deactivate { changes, .. } => {
                counts.deactivated += 1;
                changes.as_slice()
            }
            ActionKind::Delete { .. } => {
                counts.deleted += 1;
                &[][..]
            }
        };
        let item = report::change_item(
            &action.key,
            names.get(&action.key),
            action.name(),
            &action.reason,
            changes,
            &sensitive,
        );
        record.changes.push(item);
    }
    counts.managers = plan.managers.len();
    counts.groups = plan.groups.len();
    counts.invited = plan.invites.len();
    counts.skipped = plan.skips.len();
    record.errors = plan.errors.clone();
    counts.errors = record.errors.len();
    record.skips = skips(plan, names);
}

/// The plan's skips as the record keeps them, named.
pub(super) fn skips(plan: &Plan, names: &BTreeMap<PersonKey, String>) -> Vec<SkipItem> {
    plan.skips
        .iter()
        .map(|skip| SkipItem {
            person: skip.key.clone(),
            name: names.get(&skip.key).cloned(),
            reason: skip.reason.clone(),
        })
        .collect()
}

/// Display names of the people a held plan creates or adopts (the people themselves are gone).
pub(super) fn names_from_plan(plan: &Plan) -> BTreeMap<PersonKey, String> {
    plan.actions
        .iter()
        .filter_map(|action| match &action.kind {
            ActionKind::Create { record, .. } | ActionKind::Adopt { record, .. } => {
                Some((action.key.clone(), display_name(record)?))
            }
            _ => None,
        })
        .collect()
}

/// Puts what applying did into `record`: counts, the changes, the plan's and the apply's errors.
/// Used for a run that ended and for one that a stopping error cut short alike.
pub(super) fn applied(
    record: &mut RunRecord,
    plan: &Plan,
    applied: crate::apply::Applied,
    names: &BTreeMap<PersonKey, String>,
) {
    record.counts = applied.counts;
    record.counts.skipped = plan.skips.len();
    record.skips = skips(plan, names);
    record.changes = applied.changes;
    record.errors = plan.errors.iter().cloned().chain(applied.errors).collect();
    record.counts.errors = record.errors.len();
}

/// Everyone's display name: as Personio returned it, else (people Personio returned nobody for,
/// leavers of a complete read) as the sync last wrote it, so that the held run's page and the
/// email name everyone they list.
pub(super) fn names_of(
    intake: &crate::people::Intake<'_>,
    snapshot: &crate::state::Snapshot,
) -> BTreeMap<PersonKey, String> {
    let mut names = intake.names();
    for (key, link) in &snapshot.links {
        if !names.contains_key(key) {
            if let Some(name) = display_name(&link.record) {
                names.insert(key.clone(), name);
            }
        }
    }
    names
}
