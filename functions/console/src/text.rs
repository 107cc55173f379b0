//! How runs read on a page: labels for triggers and statuses, times and durations.

use chrono::{DateTime, Utc};
use sync_core::history::{Reading, RunRecord, RunStatus, Trigger};

/// One run as a row of a table.
pub struct RunRow {
    pub id: String,
    pub started: String,
    pub trigger: String,
    pub status: &'static str,
    pub status_label: &'static str,
    pub created: usize,
    pub updated: usize,
    pub deactivated: usize,
    pub errors: usize,
    pub duration: String,
}

impl RunRow {
    pub fn of(run: &RunRecord) -> Self {
        let counts = &run.counts;
        Self {
            id: run.id.as_str().to_owned(),
            started: when(run.started_at),
            trigger: trigger(run),
            status: run.status.as_str(),
            status_label: status(run.status),
            created: counts.created + counts.adopted,
            updated: counts.updated + counts.reactivated + counts.activated,
            deactivated: counts.deactivated,
            errors: counts.errors.max(run.errors.len()),
            duration: run
                .finished_at
                .map(|end| duration(end - run.started_at))
                .unwrap_or_else(|| "—".to_owned()),
        }
    }
}

/// A time as admins read it (UTC, to the minute).
pub fn when(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M UTC").to_string()
}

/// A duration in words: "42 s", "3 min 5 s".
pub fn duration(span: chrono::Duration) -> String {
    let seconds = span.num_seconds().max(0);
    if seconds < 60 {
        format!("{seconds} s")
    } else {
        format!("{} min {} s", seconds / 60, seconds % 60)
    }
}

fn trigger(run: &RunRecord) -> String {
    match &run.trigger {
        Trigger::Schedule => match run.reading {
            Reading::Changed { since } => format!("Schedule, changes since {}", when(since)),
            Reading::Everyone | Reading::Person => "Schedule".to_owned(),
        },
        Trigger::Manual => "Sync now".to_owned(),
        Trigger::FirstSync => "First sync".to_owned(),
        Trigger::Revocation => "Personio access revoked".to_owned(),
        Trigger::Undo { run, .. } => format!("Undo of {run}"),
        Trigger::Webhook { event } => format!("Personio event {event}"),
        Trigger::Approval { held_run } => format!("Approval of {held_run}"),
    }
}

fn status(status: RunStatus) -> &'static str {
    match status {
        RunStatus::Running => "Running",
        RunStatus::Completed => "Completed",
        RunStatus::DryRun => "Dry run",
        RunStatus::Held => "Held for approval",
        RunStatus::Approved => "Approved",
        RunStatus::Rejected => "Rejected",
        RunStatus::Failed => "Failed",
        RunStatus::Partial => "Partly done, continuing",
    }
}

/// The counts worth showing, in words, without zeros (the summary email's).
pub use sync_core::report::counts_parts as counts;

#[cfg(test)]
mod tests {
    use super::*;

    fn scheduled(reading: serde_json::Value) -> RunRecord {
        serde_json::from_value(serde_json::json!({
            "id": "20261203T091000.000Z-1a2b3c",
            "trigger": {"kind": "schedule"},
            "status": "completed",
            "dry_run": false,
            "started_at": "2026-12-03T09:10:00Z",
            "finished_at": "2026-12-03T09:10:02Z",
            "fetched": 3,
            "in_scope": 3,
            "counts": serde_json::to_value(sync_core::history::Counts::default())
                .expect("counts"),
            "held_because": [],
            "failure": null,
            "changes": [],
            "errors": [],
            "reading": reading,
        }))
        .expect("a run record")
    }

    #[test]
    fn an_incremental_run_says_since_when_it_read_the_changes() {
        let changed = scheduled(serde_json::json!({
            "kind": "changed", "since": "2026-12-03T09:00:00Z"
        }));
        assert_eq!(
            RunRow::of(&changed).trigger,
            "Schedule, changes since 2026-12-03 09:00 UTC"
        );
        let full = scheduled(serde_json::json!({"kind": "everyone"}));
        assert_eq!(RunRow::of(&full).trigger, "Schedule");
    }
}
