//! Whether a scheduled run reads everyone or only the people changed since the last clean run
//! (decision 0019). Pure: the run reads the history, this decides.
//!
//! Only schedules of `every_minutes` run incrementally: daily and weekly runs are a full run's
//! interval apart anyway. A scheduled run reads everyone when incremental runs are off, when
//! there is no full run to build on, when the config changed since the last full run, at the
//! first run of each day in the tenant's time zone (dates turn then), or when the last full run
//! is `full_every_hours` old. Otherwise it asks Personio for the people changed since the start of
//! the last clean run (completed, not a dry run, no per-person errors, read everyone or the
//! changes) at or after the last full run, less [`OVERLAP`] for clocks that disagree. A run with
//! errors does not move the mark on, so the people it failed for are read again by the next one.

use crate::config::TenantConfig;
use crate::history::{Reading, RunRecord, RunStatus, Trigger};
use chrono::{DateTime, Duration, Utc};

/// How far before the last clean run's start changes are asked for: our clock and Personio's may
/// disagree, and a change saved while that run was reading may carry a time just before it.
pub const OVERLAP: Duration = Duration::minutes(5);

/// How many past runs are looked through for the last full run: more than a day of runs every
/// five minutes. A tenant with more runs than that since its last full run gets a full run.
pub const HISTORY: usize = 400;

/// What a scheduled run reads, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision {
    /// Everyone.
    Full {
        /// Why, for the log.
        why: &'static str,
    },
    /// Only the people changed after `since`.
    Changed {
        /// The moment to ask from.
        since: DateTime<Utc>,
    },
}

/// Decides for a scheduled run at `now`, from the tenant's `history`, newest first.
pub fn decide(config: &TenantConfig, history: &[RunRecord], now: DateTime<Utc>) -> Decision {
    if !applies(config) {
        return Decision::Full {
            why: "incremental runs are off, or the schedule is daily or weekly",
        };
    }
    let Some(last_full) = history.iter().position(is_full_read) else {
        return Decision::Full {
            why: "no full run to build on",
        };
    };
    let full = &history[last_full];
    if full.config_fingerprint.as_deref() != Some(config.fingerprint().as_str()) {
        return Decision::Full {
            why: "the config changed since the last full run",
        };
    }
    // Hire, termination and retention dates turn at midnight in the tenant's time zone; only a
    // run that reads everyone acts on a date that arrived without an edit in Personio.
    let today = |at| crate::lifecycle::today_in(config.timezone, at);
    if today(now) != today(full.started_at) {
        return Decision::Full {
            why: "a new day began in the tenant's time zone",
        };
    }
    let every = Duration::hours(i64::from(config.schedule.full_every_hours));
    if now - full.started_at >= every {
        return Decision::Full {
            why: "the last full run is due again",
        };
    }
    let base = history[..=last_full]
        .iter()
        .find(|run| reads_people(run) && run.counts.errors == 0)
        .unwrap_or(full);
    Decision::Changed {
        since: base.started_at - OVERLAP,
    }
}

/// Whether the tenant's scheduled runs may read only the changes: incremental runs are on and
/// the schedule is `every_minutes`.
pub fn applies(config: &TenantConfig) -> bool {
    config.schedule.incremental && config.schedule.every_minutes.is_some()
}

/// A run that read everyone and finished: a full run to build on.
fn is_full_read(run: &RunRecord) -> bool {
    reads_people(run) && run.reading == Reading::Everyone
}

/// A completed, written run that read everyone or the changes. Approvals (a held plan applied),
/// undos and one-person runs read no list to build on; a partial run left writes undone.
fn reads_people(run: &RunRecord) -> bool {
    let reading_run = matches!(
        run.trigger,
        Trigger::Schedule | Trigger::Manual | Trigger::FirstSync
    );
    reading_run
        && run.status == RunStatus::Completed
        && !run.dry_run
        && run.reading != Reading::Person
}

#[cfg(test)]
#[path = "incremental_tests.rs"]
mod tests;
