//! Progress of a run: the CLI's progress bar, and the live progress admins watch in the console
//! and read from the admin API (`GET …/runs/{run}`).
//!
//! The engine reports through the synchronous [`Progress`] trait from inside its loops. For live
//! progress, [`LiveProgress`] keeps the latest phase and count in memory and [`reporting`] writes
//! it to the tenant's [`ProgressLog`] at most once per interval while the run goes on: a 10,000-
//! change run makes a few dozen small writes, not 10,000.

use crate::ids::{RunId, TenantId};
use crate::personio::{FetchProgress, ProgressFn};
use crate::ports::StoreError;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

/// Receives progress; every method has a do-nothing default.
pub trait Progress: Send + Sync {
    /// A stage begins (`fetch`, `plan`, `apply`, `email`) with this many steps.
    fn start(&self, _stage: &str, _total: usize) {}
    /// `steps` more steps are done.
    fn advance(&self, _steps: usize) {}
    /// The stage is over.
    fn finish(&self) {}
}

/// Reports nothing.
pub struct NoProgress;

impl Progress for NoProgress {}

/// Where a run is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// Reading Personio (steps: pages of the employee list).
    Fetch,
    /// Matching, scoping, planning and guarding (no steps).
    Plan,
    /// Writing to the app (steps: the plan's actions).
    Apply,
    /// Recording the run and emailing the summary (no steps).
    Email,
}

impl Phase {
    /// The phase a stage name of [`Progress::start`] stands for.
    fn of_stage(stage: &str) -> Option<Self> {
        match stage {
            "fetch" => Some(Self::Fetch),
            "plan" => Some(Self::Plan),
            "apply" => Some(Self::Apply),
            "email" => Some(Self::Email),
            _ => None,
        }
    }

    /// For people: "Reading Personio", …
    pub fn label(self) -> &'static str {
        match self {
            Self::Fetch => "Reading Personio",
            Self::Plan => "Planning",
            Self::Apply => "Writing to the app",
            Self::Email => "Recording and emailing the summary",
        }
    }

    /// Its place among the four, from 1.
    pub fn number(self) -> usize {
        match self {
            Self::Fetch => 1,
            Self::Plan => 2,
            Self::Apply => 3,
            Self::Email => 4,
        }
    }
}

/// How far a run has come, as last written.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunProgress {
    /// The run.
    pub run: RunId,
    /// Its phase.
    pub phase: Phase,
    /// Steps done in the phase.
    pub done: u64,
    /// Steps the phase has, as far as known (0: the phase has no steps).
    pub total: u64,
    /// When this was written.
    pub updated_at: DateTime<Utc>,
}

/// Where live progress is kept: a small item per running run, beside its run record.
#[async_trait]
pub trait ProgressLog: Send + Sync {
    /// Writes `progress` over what was there for its run.
    async fn save_progress(
        &self,
        tenant: &TenantId,
        progress: &RunProgress,
    ) -> Result<(), StoreError>;
    /// The last progress written for `run`, if any.
    async fn progress(
        &self,
        tenant: &TenantId,
        run: &RunId,
    ) -> Result<Option<RunProgress>, StoreError>;
    /// Forgets `run`'s progress (it ended; its record says the rest).
    async fn clear_progress(&self, tenant: &TenantId, run: &RunId) -> Result<(), StoreError>;
}

/// The latest progress of one run in memory, and whether it changed since it was last taken.
#[derive(Clone)]
pub struct LiveProgress {
    state: Arc<Mutex<(RunProgress, bool)>>,
}

impl LiveProgress {
    /// A run about to start fetching.
    pub fn new(run: RunId) -> Self {
        let progress = RunProgress {
            run,
            phase: Phase::Fetch,
            done: 0,
            total: 0,
            updated_at: Utc::now(),
        };
        Self {
            state: Arc::new(Mutex::new((progress, true))),
        }
    }

    fn update(&self, change: impl FnOnce(&mut RunProgress)) {
        // A poisoned lock only means another reporter panicked mid-update; the numbers are
        // still a fine progress display.
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        change(&mut state.0);
        state.1 = true;
    }

    /// The progress, if it changed since the last call.
    pub fn take_changed(&self) -> Option<RunProgress> {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        if !state.1 {
            return None;
        }
        state.1 = false;
        let mut progress = state.0.clone();
        progress.updated_at = Utc::now();
        Some(progress)
    }

    /// The run it is the progress of.
    pub fn run(&self) -> RunId {
        let state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        state.0.run.clone()
    }

    /// A callback for the Personio client's page progress.
    pub fn fetch_callback(&self) -> ProgressFn {
        let live = self.clone();
        Arc::new(move |pages: FetchProgress| {
            live.update(|progress| {
                progress.phase = Phase::Fetch;
                progress.done = pages.pages_done;
                progress.total = pages.pages_total;
            });
        })
    }
}

impl Progress for LiveProgress {
    fn start(&self, stage: &str, total: usize) {
        let Some(phase) = Phase::of_stage(stage) else {
            return;
        };
        self.update(|progress| {
            // The fetch's pages are counted by the client's callback; a new fetch stage (the
            // next account) keeps the count it reports.
            if phase == Phase::Fetch && progress.phase == Phase::Fetch {
                return;
            }
            progress.phase = phase;
            progress.done = 0;
            progress.total = total as u64;
        });
    }

    fn advance(&self, steps: usize) {
        self.update(|progress| progress.done = progress.done.saturating_add(steps as u64));
    }

    fn finish(&self) {
        self.update(|progress| progress.done = progress.done.max(progress.total));
    }
}

/// Runs `work` and, while it runs, writes `live`'s progress to `log` whenever it changed, at
/// most once per `every` and not before the first `every` has passed; then removes what it
/// wrote (the run's record tells the end). A failed write is
/// logged and skipped: progress is a display, and a run never fails for it.
pub async fn reporting<F: std::future::Future>(
    live: &LiveProgress,
    log: &dyn ProgressLog,
    tenant: &TenantId,
    every: Duration,
    work: F,
) -> F::Output {
    let mut work = std::pin::pin!(work);
    // The first write after one interval: a run quicker than that (a no-op run) writes none.
    let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut written = false;
    loop {
        tokio::select! {
            output = &mut work => {
                if written {
                    if let Err(error) = log.clear_progress(tenant, &live.run()).await {
                        tracing::warn!(error = %error, "could not remove the progress of a run that ended");
                    }
                }
                return output;
            }
            _ = tick.tick() => {
                if let Some(progress) = live.take_changed() {
                    // Even a write that failed may have landed: it is removed at the end too.
                    written = true;
                    if let Err(error) = log.save_progress(tenant, &progress).await {
                        tracing::warn!(error = %error, "could not write the run's progress; the run goes on");
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stages_become_phases_and_steps_count() {
        let live = LiveProgress::new(RunId::parse("20261203T100000Z-abcdef").unwrap());
        (live.fetch_callback())(FetchProgress {
            pages_done: 2,
            pages_total: 5,
        });
        let fetch = live.take_changed().unwrap();
        assert_eq!((fetch.phase, fetch.done, fetch.total), (Phase::Fetch, 2, 5));
        assert_eq!(live.take_changed(), None, "nothing changed since");
        // The next account's fetch stage keeps the pages the callback counts.
        live.start("fetch", 0);
        assert_eq!(live.take_changed().unwrap().done, 2);
        live.start("apply", 10);
        live.advance(3);
        let apply = live.take_changed().unwrap();
        assert_eq!(
            (apply.phase, apply.done, apply.total),
            (Phase::Apply, 3, 10)
        );
        live.finish();
        assert_eq!(live.take_changed().unwrap().done, 10);
        live.start("unknown stage", 4);
        assert_eq!(live.take_changed(), None);
    }
}
