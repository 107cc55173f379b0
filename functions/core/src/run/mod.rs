//! A run, start to finish, as the pipeline reads: fetch (with normalise, map and scope) → match
//! → guard the fetch → plan (with lifecycle) → guard the plan → apply → record → email. Each step
//! is a call into its own module; this file only orders them and decides how the run ends.
//! Before all of it, a run puts right what a stopped run of its tenant left behind (`recovery`):
//! an unsent summary, a `running` record no one will finish.
//!
//! Held runs end in `held`: [`approve`] applies the held plan, [`reject`] drops it.

mod continuation;
mod fetch;
mod held;
mod matching;
mod notify;
mod pictures;
mod placements;
mod queued;
mod recording;
mod recovery;
mod undo;
mod unstartable;
mod write_back;

pub use continuation::MAX_CONTINUATIONS;
pub use held::{apply_approved, approve, claim_for_approval, reject, release_approval};
pub use queued::{QueueError, Queueing};
pub use recovery::{INTERRUPTED, STALE_AFTER};
pub use undo::{plan_undo, undo, UndoInput};
pub use unstartable::{record_revocation, record_unstartable};

use crate::apply::{apply, Applied, ApplyContext, ApplyError};
use crate::config::TenantConfig;
use crate::guard::{self, GuardInput};
use crate::history::{RunRecord, RunStatus, Trigger};
use crate::ids::{AccountId, PersonKey, RunId};
use crate::journal::Before;
use crate::lifecycle;
use crate::plan::{self, Plan, PlanInput};
use crate::ports::{
    Destination, DestinationError, HeldRun, Mailer, Source, SourceError, Store, StoreError,
};
use crate::progress::Progress;
use crate::state::{Snapshot, SourceStats};
use chrono::{DateTime, Utc};
use notify::{notify, record_and_notify, Send};
use std::collections::BTreeMap;

/// Why a run stopped. Each message tells the admin what to do.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// Personio could not be read.
    #[error(transparent)]
    Source(#[from] SourceError),
    /// The destination refused us.
    #[error(transparent)]
    Destination(#[from] DestinationError),
    /// The state could not be read or written.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The picture store could not be read or written.
    #[error(transparent)]
    Pictures(#[from] crate::pictures::PictureError),
    /// A held run waits for a decision; no other run applies until then.
    #[error("run {run_id} is held and waits for approval; approve or reject it first (personio-sync approve {run_id} / reject {run_id})")]
    HeldRunPending {
        /// The held run.
        run_id: RunId,
    },
    /// Approve or reject of a run that is not held.
    #[error(
        "run {run_id} is not held (it is {status}); only held runs can be approved or rejected"
    )]
    NotHeld {
        /// The run.
        run_id: RunId,
        /// Its status.
        status: &'static str,
    },
    /// The run to undo changed nothing (or has no journal).
    #[error("run {run_id} left nothing to undo: it changed no user or group (or ran before this service kept what runs change)")]
    NothingToUndo {
        /// The run.
        run_id: RunId,
    },
    /// No such run for this tenant.
    #[error("this tenant has no run {run_id}; `personio-sync runs` lists them")]
    UnknownRun {
        /// The run asked for.
        run_id: RunId,
    },
    /// A one-person run for an account the tenant does not have.
    #[error("this tenant has no Personio account named {account}")]
    UnknownAccount {
        /// The account asked for.
        account: AccountId,
    },
    /// The run's time ran out before it could write anything (its deadline, a Lambda's limit).
    #[error("the run reached its time limit while {stage}, before writing anything; nothing was changed. If Personio is slow or rate-limited, raise the worker's Timeout (up to 900 s) or the account's rate limit")]
    OutOfTime {
        /// What it was doing.
        stage: &'static str,
    },
}

impl From<ApplyError> for RunError {
    fn from(error: ApplyError) -> Self {
        match error {
            ApplyError::Destination(error) => Self::Destination(error),
            ApplyError::Store(error) => Self::Store(error),
        }
    }
}

impl RunError {
    /// Whether Personio or the destination refused the run's credentials (401, or Personio's
    /// 403): the one failure that a secret changed since it was read can explain.
    pub fn is_refused_credentials(&self) -> bool {
        matches!(
            self,
            Self::Source(SourceError::Unauthorized { .. } | SourceError::Forbidden { .. })
                | Self::Destination(DestinationError::Unauthorized { .. })
        )
    }
}

/// What a run does when Personio or the destination refuses its credentials before it wrote
/// anything.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OnRefusal {
    /// Record the failed run and email the admins.
    Report,
    /// Record the failed run but send no email: the caller reads the secrets again and runs once
    /// more under the same run id, and that run's record and email replace this one's. For a
    /// caller whose secrets may be a stale cached copy (the worker).
    RecordSilently,
}

/// The adapters a run works through.
pub struct Ports<'a> {
    /// One source per Personio account.
    pub sources: Vec<(AccountId, &'a dyn Source)>,
    /// Where users go.
    pub destination: &'a dyn Destination,
    /// The tenant's memory.
    pub store: &'a dyn Store,
    /// Summary and welcome emails.
    pub mailer: &'a dyn Mailer,
    /// Progress reporting.
    pub progress: &'a dyn Progress,
    /// Links to the console's report of a run, for the summary email; `None` when the deployment
    /// has no console.
    pub links: Option<&'a dyn crate::ports::RunLinks>,
    /// Where profile pictures are hosted for the app; `None`: Personio's address is sent as it is.
    pub pictures: Option<&'a dyn crate::pictures::PictureStore>,
}

/// Everyone, or one person.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RunTarget {
    /// Every employee of every account.
    Everyone,
    /// One person (a webhook, `run --person`).
    Person(PersonKey),
}

impl From<&crate::ports::JobTarget> for RunTarget {
    /// What a queued job asks to run.
    fn from(target: &crate::ports::JobTarget) -> Self {
        match target {
            crate::ports::JobTarget::Everyone => Self::Everyone,
            crate::ports::JobTarget::Person { person } => Self::Person(person.clone()),
        }
    }
}

/// What to run.
#[derive(Clone, Debug)]
pub struct RunRequest {
    /// Everyone or one person.
    pub target: RunTarget,
    /// Plan only, write nothing.
    pub dry_run: bool,
    /// What started it.
    pub trigger: Trigger,
    /// The moment of the run.
    pub now: DateTime<Utc>,
    /// Start no new write after this instant (a Lambda's time limit, with a margin).
    pub deadline: Option<std::time::Instant>,
    /// The run's id, when the caller chose it ahead (see `Job::run_id`); else a new one.
    pub run_id: Option<RunId>,
}

/// What a run produced: its history record and the plan it made.
#[derive(Debug)]
pub struct RunOutcome {
    /// The run record, as saved.
    pub record: RunRecord,
    /// The plan (what a dry run would do).
    pub plan: Plan,
}

/// Runs one sync; a failure is recorded and emailed.
pub async fn run(
    ports: &Ports<'_>,
    config: &TenantConfig,
    request: RunRequest,
) -> Result<RunOutcome, RunError> {
    run_with(ports, config, request, OnRefusal::Report).await
}

/// Runs one sync, doing what `on_refusal` says when a credential is refused before any write.
#[tracing::instrument(skip_all, fields(tenant_id = %config.tenant, run_id))]
pub async fn run_with(
    ports: &Ports<'_>,
    config: &TenantConfig,
    request: RunRequest,
    on_refusal: OnRefusal,
) -> Result<RunOutcome, RunError> {
    let tenant = &config.tenant;
    let mut record = begin(ports, config, &request).await?;
    record.config_fingerprint = Some(config.fingerprint());
    record.reading = match fetch::reading(ports, config, &request).await {
        Ok(reading) => reading,
        Err(error) => {
            let names = BTreeMap::new();
            return Err(fail(ports, config, record, error, &names, on_refusal).await);
        }
    };
    let snapshot = ports.store.snapshot(tenant).await?;

    // Fetch, normalise, map and scope; within the deadline, so that a slow Personio ends the run
    // with a recorded failure rather than the Lambda being stopped mid-way.
    let fetched = within(
        request.deadline,
        "reading Personio",
        fetch::fetch(ports, config, &request.target, record.reading, request.now),
    );
    let mut intake = match fetched.await {
        Ok(intake) => intake,
        Err(error) => {
            let names = BTreeMap::new();
            return Err(fail(ports, config, record, error, &names, on_refusal).await);
        }
    };
    record.fetched = intake.people.len();
    // The destination's fields are not the source's: what the last run recorded stands, so that
    // unchanged stats are not written again (`finish` records a change).
    intake.stats.destination_fields = snapshot
        .source_stats
        .as_ref()
        .and_then(|stats| stats.destination_fields.clone());
    let picture_warnings =
        match pictures::host(ports, config, &request, &mut intake, &snapshot).await {
            Ok(warnings) => warnings,
            Err(error) => {
                let names = intake.names();
                return Err(fail(ports, config, record, error, &names, on_refusal).await);
            }
        };
    let names = recording::names_of(&intake, &snapshot);

    // Match people without a user to existing app users they may adopt.
    ports.progress.start("plan", 0);
    let candidates = match matching::candidates(
        ports.destination,
        config,
        &intake.people,
        &snapshot,
        request.now,
    )
    .await
    {
        Ok(candidates) => candidates,
        Err(error) => {
            let error = error.into();
            return Err(fail(ports, config, record, error, &names, on_refusal).await);
        }
    };

    // Guard the fetch, then plan (lifecycle decides each person's desired state).
    // Only a run that read everyone can tell who left Personio.
    let complete = record.reading.is_everyone();
    guard::protect(&mut intake, &snapshot, complete);
    let mut plan = plan::plan(PlanInput {
        config,
        people: &mut intake.people,
        protected: &intake.protected,
        complete,
        gone: &intake.gone,
        snapshot: &snapshot,
        candidates: &candidates,
        now: request.now,
    });
    // The plan owns what it needs now; the people's remains are freed before applying.
    drop(std::mem::take(&mut intake.people));
    plan.errors.splice(0..0, std::mem::take(&mut intake.errors));
    plan.skips.extend(picture_warnings);
    record.in_scope = plan.in_scope;

    // Guard the plan.
    let held_because = guard::check(&GuardInput {
        plan: &plan,
        snapshot: &snapshot,
        source: &intake.stats,
        used_attributes: &intake.used_attributes,
        complete,
        config: &config.guard,
    });
    tracing::info!(
        fetched = record.fetched,
        actions = plan.actions.len(),
        deactivations = plan.count("deactivate"),
        errors = plan.errors.len(),
        held = !held_because.is_empty(),
        "plan ready"
    );
    if request.dry_run || !held_because.is_empty() {
        let source_stats = intake.stats.clone();
        return stop_before_apply(
            ports,
            config,
            record,
            plan,
            held_because,
            source_stats,
            &names,
        )
        .await;
    }

    // Apply, record and email. Unchanged stats are not written again: a no-op run writes only
    // its run record.
    let stats = complete
        .then_some(&intake.stats)
        .filter(|stats| snapshot.source_stats.as_ref() != Some(*stats));
    finish(
        ports,
        config,
        record,
        &plan,
        snapshot,
        stats,
        &names,
        on_refusal,
        (request.now, request.deadline),
    )
    .await
    .map(|record| RunOutcome { record, plan })
}

/// The record of a run starting as `request` says; a run that writes first puts right what a
/// stopped run left behind, is refused while a held run waits, and is saved as `running`.
async fn begin(
    ports: &Ports<'_>,
    config: &TenantConfig,
    request: &RunRequest,
) -> Result<RunRecord, RunError> {
    let run_id = request
        .run_id
        .clone()
        .unwrap_or_else(|| RunId::new(request.now));
    tracing::Span::current().record("run_id", run_id.as_str());
    let record = recording::started(
        run_id.clone(),
        request.trigger.clone(),
        request.dry_run,
        request.now,
    );
    if !request.dry_run {
        // Before the held check: the summary of a held run is among what a stopped run may owe.
        recovery::recover(ports, config, &run_id, request.now).await?;
        if let Some(held) = held::pending_held(ports.store, config).await? {
            return Err(RunError::HeldRunPending { run_id: held });
        }
        ports.store.save_run(&config.tenant, &record).await?;
    }
    Ok(record)
}

/// Runs `work` until `deadline`; past it, [`RunError::OutOfTime`] naming `stage`.
async fn within<T, E: Into<RunError>>(
    deadline: Option<std::time::Instant>,
    stage: &'static str,
    work: impl std::future::Future<Output = Result<T, E>>,
) -> Result<T, RunError> {
    let Some(deadline) = deadline else {
        return work.await.map_err(Into::into);
    };
    match tokio::time::timeout_at(deadline.into(), work).await {
        Ok(result) => result.map_err(Into::into),
        Err(_) => Err(RunError::OutOfTime { stage }),
    }
}

/// Ends a dry run, or a run a guard held: records the plan (and keeps it, when held, for an
/// approval to apply), and emails the summary.
async fn stop_before_apply(
    ports: &Ports<'_>,
    config: &TenantConfig,
    mut record: RunRecord,
    plan: Plan,
    held_because: Vec<String>,
    source_stats: SourceStats,
    names: &BTreeMap<PersonKey, String>,
) -> Result<RunOutcome, RunError> {
    let tenant = &config.tenant;
    record.status = if record.dry_run {
        RunStatus::DryRun
    } else {
        RunStatus::Held
    };
    record.held_because = held_because;
    recording::describe_plan(config, &plan, names, &mut record);
    record.finished_at = Some(Utc::now());
    ports.progress.start("email", 0);
    if record.status == RunStatus::Held {
        let held = HeldRun {
            run_id: record.id.clone(),
            plan: plan.clone(),
            source_stats,
        };
        ports.store.save_held(tenant, &held).await?;
    }
    record_and_notify(&ports.outbox(), config, &mut record, names, Send::Now).await?;
    Ok(RunOutcome { record, plan })
}

/// Applies, records and emails; on a run-stopping error records the failure and returns it.
#[allow(clippy::too_many_arguments)] // one call site each in run and approve; a struct would only rename them
async fn finish(
    ports: &Ports<'_>,
    config: &TenantConfig,
    mut record: RunRecord,
    plan: &Plan,
    mut snapshot: Snapshot,
    stats: Option<&SourceStats>,
    names: &BTreeMap<PersonKey, String>,
    on_refusal: OnRefusal,
    (now, deadline): (DateTime<Utc>, Option<std::time::Instant>),
) -> Result<RunRecord, RunError> {
    let sensitive = recording::sensitive_fields(config);
    let context = ApplyContext {
        tenant: &config.tenant,
        config,
        destination: ports.destination,
        store: ports.store,
        mailer: Some(ports.mailer),
        today: lifecycle::today_in(config.timezone, now),
        names,
        sensitive: &sensitive,
        progress: ports.progress,
        deadline,
    };
    // Fields the app gained a place for (or moved) since the last run that wrote go to everyone
    // with a value.
    let before = snapshot
        .source_stats
        .as_ref()
        .and_then(|stats| stats.destination_fields.clone());
    let checked = placements::check(ports.destination, plan, &snapshot.links, before.as_ref());
    // Within the run's deadline: an app that does not answer leaves the time to the writes, which
    // report it (and the fields go out with a later run).
    let placements = match deadline {
        Some(deadline) => tokio::time::timeout_at(deadline.into(), checked)
            .await
            .unwrap_or_default(),
        None => checked.await,
    };
    let plan = placements.extended.as_ref().unwrap_or(plan);
    let links_before = Before::of(plan, &snapshot);
    let mut applied = Applied::default();
    let outcome = apply(&context, plan, &mut snapshot, &mut applied).await;
    // What the run changed, kept for undo, whether it ended well or not.
    let journal = links_before.journal(&record.id, &snapshot);
    let kept = match journal.is_empty() {
        true => Ok(()),
        false => ports.store.save_journal(&config.tenant, &journal).await,
    };
    if let Err(error) = outcome {
        if let Err(store) = kept {
            tracing::warn!(error = %store, "the journal of a stopped run could not be saved; it cannot be undone");
        }
        // What was changed before the stop stays in the run's history and email.
        recording::applied(&mut record, plan, applied, names);
        return Err(fail(ports, config, record, error.into(), names, on_refusal).await);
    }
    kept?;
    // The new placements are remembered once the plan was applied to its end: after a deferral
    // the continuation sends the newly placed fields again (the same values). A person whose
    // write failed is in this run's errors and gets the field with their next change: waiting
    // for everyone's write to succeed would send it to all on every run while one error lasts.
    let deleted: Vec<PersonKey> = plan
        .actions
        .iter()
        .filter(|action| matches!(action.kind, plan::ActionKind::Delete { .. }))
        .filter(|action| !snapshot.links.contains_key(&action.key))
        .map(|action| action.key.clone())
        .collect();
    pictures::forget_deleted(ports, config, &deleted, &mut applied.errors).await;
    let written =
        write_back::write_back(ports, config, &mut snapshot, deadline, &mut applied.errors).await?;
    applied.counts.written_back = written;
    let placed = placements.placed.filter(|_| applied.deferred == 0);
    let stats = placed_stats(stats, &snapshot, placed, before.as_ref());
    if let Some(stats) = &stats {
        ports.store.save_source_stats(&config.tenant, stats).await?;
    }
    record.status = RunStatus::Completed;
    if applied.deferred > 0 {
        record.status = RunStatus::Partial;
        let progress = applied.counts.changed_anything() || !applied.errors.is_empty();
        if let Some(why) =
            continuation::refused(ports.store, &config.tenant, &record.id, progress).await?
        {
            // No continuation: the history, the admins and the operators' alarm say why.
            record.status = RunStatus::Failed;
            record.failure = Some(why);
        }
    }
    recording::applied(&mut record, plan, applied, names);
    record.finished_at = Some(Utc::now());
    tracing::info!(
        created = record.counts.created,
        updated = record.counts.updated,
        deactivated = record.counts.deactivated,
        deleted = record.counts.deleted,
        errors = record.counts.errors,
        "run completed"
    );
    ports.progress.start("email", 0);
    record_and_notify(&ports.outbox(), config, &mut record, names, Send::Now).await?;
    Ok(record)
}

/// The stats `finish` saves: the run's (`stats`, when they changed), or else the snapshot's, with
/// the destination's fields when they changed; `None` when nothing changed.
fn placed_stats(
    stats: Option<&SourceStats>,
    snapshot: &Snapshot,
    placed: Option<BTreeMap<String, String>>,
    before: Option<&BTreeMap<String, String>>,
) -> Option<SourceStats> {
    let placed = placed.filter(|placed| Some(placed) != before);
    let mut saved = stats.cloned();
    if let Some(placed) = placed {
        // Without stats of any run yet (a first one-person run) there is nothing to add them to.
        saved = saved.or_else(|| snapshot.source_stats.clone());
        if let Some(saved) = &mut saved {
            saved.destination_fields = Some(placed);
        }
    }
    saved
}

/// Records a failed run, emails admins (unless `on_refusal` keeps a refused credential quiet for
/// the caller's retry), and hands the error back.
async fn fail(
    ports: &Ports<'_>,
    config: &TenantConfig,
    mut record: RunRecord,
    error: RunError,
    names: &BTreeMap<PersonKey, String>,
    on_refusal: OnRefusal,
) -> RunError {
    // The caller reports the error to the admin; the log keeps it for operators.
    tracing::info!(error = %error, "run failed");
    if record.dry_run {
        return error;
    }
    record.status = RunStatus::Failed;
    record.failure = Some(error.to_string());
    record.finished_at = Some(Utc::now());
    // Recorded even when quiet, so that the run is in the history should the retry never start
    // (the Lambda stops, the secret is gone): the next run then sends its summary.
    let quiet = on_refusal == OnRefusal::RecordSilently && error.is_refused_credentials();
    let send = if quiet { Send::Later } else { Send::Now };
    if let Err(store_error) =
        record_and_notify(&ports.outbox(), config, &mut record, names, send).await
    {
        tracing::error!(error = %store_error, "could not record the failed run");
        // The history cannot say it: the email still must.
        if !quiet {
            let _ = notify(&ports.outbox(), config, &record, names).await;
        }
    }
    error
}
