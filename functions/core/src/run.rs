//! A run, start to finish: fetch → map → scope → plan → guard → apply → record → email.
//!
//! Also the two ways a held run ends: [`approve`] applies the held plan, [`reject`] drops it.

use crate::apply::{apply, ApplyContext, ApplyError};
use crate::config::TenantConfig;
use crate::guard::{self, GuardInput};
use crate::history::{Counts, RecordError, RunRecord, RunStatus, Trigger};
use crate::ids::{AccountId, PersonKey, RunId};
use crate::lifecycle;
use crate::plan::{self, ActionKind, Person, Plan, PlanInput};
use crate::ports::{
    Destination, DestinationError, DestinationUser, HeldRun, Mailer, Source, SourceError, Store,
    StoreError,
};
use crate::progress::Progress;
use crate::record::{EMAIL, USER_NAME};
use crate::report;
use crate::state::{Snapshot, SourceStats};
use chrono::{DateTime, Utc};
use std::collections::{BTreeMap, BTreeSet};

/// Above this many unmatched people, list all destination users once instead of one lookup each.
const LIST_ALL_ABOVE: usize = 20;

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
}

impl From<ApplyError> for RunError {
    fn from(error: ApplyError) -> Self {
        match error {
            ApplyError::Destination(error) => Self::Destination(error),
            ApplyError::Store(error) => Self::Store(error),
        }
    }
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
}

/// Everyone, or one person.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RunTarget {
    /// Every employee of every account.
    Everyone,
    /// One person (a webhook, `run --person`).
    Person(PersonKey),
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

struct Fetched {
    people: Vec<Person>,
    protected: BTreeSet<PersonKey>,
    gone: BTreeSet<PersonKey>,
    errors: Vec<RecordError>,
    stats: SourceStats,
    used_attributes: BTreeSet<String>,
}

/// Runs one sync.
#[tracing::instrument(skip_all, fields(tenant_id = %config.tenant, run_id))]
pub async fn run(
    ports: &Ports<'_>,
    config: &TenantConfig,
    request: RunRequest,
) -> Result<RunOutcome, RunError> {
    let tenant = &config.tenant;
    let run_id = request
        .run_id
        .clone()
        .unwrap_or_else(|| RunId::new(request.now));
    tracing::Span::current().record("run_id", run_id.as_str());
    let mut record = new_record(
        run_id.clone(),
        request.trigger.clone(),
        request.dry_run,
        request.now,
    );
    if !request.dry_run {
        if let Some(held) = pending_held(ports.store, config).await? {
            return Err(RunError::HeldRunPending { run_id: held });
        }
        ports.store.save_run(tenant, &record).await?;
    }
    let snapshot = ports.store.snapshot(tenant).await?;
    let mut fetched = match fetch(ports, config, &request.target).await {
        Ok(fetched) => fetched,
        Err(error) => return Err(fail(ports, config, record, error, &BTreeMap::new()).await),
    };
    record.fetched = fetched.people.len();
    let names = names(&fetched.people);
    let candidates = match candidates(
        ports.destination,
        config,
        &fetched.people,
        &snapshot,
        request.now,
    )
    .await
    {
        Ok(candidates) => candidates,
        Err(error) => return Err(fail(ports, config, record, error.into(), &names).await),
    };
    let complete = request.target == RunTarget::Everyone;
    let missing = guard::missing_attributes(
        &fetched.stats,
        &fetched.used_attributes,
        snapshot.source_stats.as_ref(),
    );
    if !missing.is_empty() {
        if complete {
            // A first sync has nothing to compare with: it goes ahead, and says what it lacks.
            if snapshot.source_stats.is_none() {
                fetched
                    .errors
                    .extend(missing.iter().map(|key| guard::unreadable_error(None, key)));
            }
        } else {
            // One person's answer lacks what most people had: the credential may no longer read
            // it. Leave the person as they are rather than blank a field or misread a status.
            for person in &fetched.people {
                fetched.protected.insert(person.key().clone());
                fetched.errors.extend(
                    missing
                        .iter()
                        .map(|key| guard::unreadable_error(Some(person.key().clone()), key)),
                );
            }
        }
    }
    let mut plan = plan::plan(PlanInput {
        config,
        people: &mut fetched.people,
        protected: &fetched.protected,
        complete,
        gone: &fetched.gone,
        snapshot: &snapshot,
        candidates: &candidates,
        now: request.now,
    });
    // The plan owns what it needs now; the people's remains are freed before applying.
    drop(std::mem::take(&mut fetched.people));
    plan.errors.splice(0..0, fetched.errors.iter().cloned());
    record.in_scope = plan.in_scope;
    let mut held_because = guard::check(&GuardInput {
        plan: &plan,
        snapshot: &snapshot,
        source: &fetched.stats,
        used_attributes: &fetched.used_attributes,
        complete,
        config: &config.guard,
    });
    if complete && snapshot.source_stats.is_none() {
        // Without status and dates nobody can tell who works there: a first sync that cannot
        // read them would give leavers accounts. Hold it rather than guess.
        held_because.extend(
            missing
                .iter()
                .filter(|key| guard::LIFECYCLE_ATTRIBUTES.contains(&key.as_str()))
                .map(|key| {
                    format!(
                        "Personio returned attribute `{key}` for nobody, so who joined and who left cannot be told; whitelist it for the API credential in Personio"
                    )
                }),
        );
    }
    tracing::info!(
        fetched = record.fetched,
        actions = plan.actions.len(),
        deactivations = plan.count("deactivate"),
        errors = plan.errors.len(),
        held = !held_because.is_empty(),
        "plan ready"
    );
    if request.dry_run || !held_because.is_empty() {
        record.status = if request.dry_run {
            RunStatus::DryRun
        } else {
            RunStatus::Held
        };
        record.held_because = held_because;
        describe_plan(config, &plan, &names, &mut record);
        record.finished_at = Some(Utc::now());
        if record.status == RunStatus::Held {
            let held = HeldRun {
                run_id: run_id.clone(),
                plan: plan.clone(),
                source_stats: fetched.stats.clone(),
            };
            ports.store.save_held(tenant, &held).await?;
        }
        ports.store.save_run(tenant, &record).await?;
        notify(ports, config, &record, &names).await;
        return Ok(RunOutcome { record, plan });
    }
    // Unchanged stats are not written again: a no-op run writes only its run record.
    let stats = complete
        .then_some(&fetched.stats)
        .filter(|stats| snapshot.source_stats.as_ref() != Some(*stats));
    finish(
        ports,
        config,
        record,
        &plan,
        snapshot,
        stats,
        &names,
        (request.now, request.deadline),
    )
    .await
    .map(|record| RunOutcome { record, plan })
}

/// Applies a held run's plan; the held run becomes `approved` and a new run records the apply.
pub async fn approve(
    ports: &Ports<'_>,
    config: &TenantConfig,
    run_id: &RunId,
    now: DateTime<Utc>,
) -> Result<RunOutcome, RunError> {
    let tenant = &config.tenant;
    let held_record = held_record(ports.store, config, run_id).await?;
    let held = ports
        .store
        .held(tenant, run_id)
        .await?
        .ok_or_else(|| RunError::NotHeld {
            run_id: run_id.clone(),
            status: held_record.status.as_str(),
        })?;
    let record = new_record(
        RunId::new(now),
        Trigger::Approval {
            held_run: run_id.clone(),
        },
        false,
        now,
    );
    ports.store.save_run(tenant, &record).await?;
    let mut approved = held_record;
    approved.status = RunStatus::Approved;
    ports.store.save_run(tenant, &approved).await?;
    ports.store.remove_held(tenant, run_id).await?;
    let snapshot = ports.store.snapshot(tenant).await?;
    let names = names_from_plan(&held.plan);
    let mut record = record;
    record.fetched = approved.fetched;
    record.in_scope = approved.in_scope;
    let stats = (held.source_stats.employees > 0).then_some(&held.source_stats);
    let record = finish(
        ports,
        config,
        record,
        &held.plan,
        snapshot,
        stats,
        &names,
        (now, None),
    )
    .await?;
    Ok(RunOutcome {
        record,
        plan: held.plan,
    })
}

/// Drops a held run: nothing is written, and the next run plans afresh.
pub async fn reject(
    ports: &Ports<'_>,
    config: &TenantConfig,
    run_id: &RunId,
) -> Result<RunRecord, RunError> {
    let tenant = &config.tenant;
    let mut record = held_record(ports.store, config, run_id).await?;
    if ports.store.held(tenant, run_id).await?.is_none() {
        return Err(RunError::NotHeld {
            run_id: run_id.clone(),
            status: record.status.as_str(),
        });
    }
    record.status = RunStatus::Rejected;
    ports.store.save_run(tenant, &record).await?;
    ports.store.remove_held(tenant, run_id).await?;
    Ok(record)
}

async fn held_record(
    store: &dyn Store,
    config: &TenantConfig,
    run_id: &RunId,
) -> Result<RunRecord, RunError> {
    store
        .run(&config.tenant, run_id)
        .await?
        .ok_or_else(|| RunError::UnknownRun {
            run_id: run_id.clone(),
        })
}

async fn pending_held(
    store: &dyn Store,
    config: &TenantConfig,
) -> Result<Option<RunId>, StoreError> {
    // Runs of a held tenant cannot apply, so a held run is always among the latest records.
    let runs = store.runs(&config.tenant, 100).await?;
    Ok(runs
        .into_iter()
        .find(|run| run.status == RunStatus::Held)
        .map(|run| run.id))
}

fn new_record(id: RunId, trigger: Trigger, dry_run: bool, now: DateTime<Utc>) -> RunRecord {
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
    }
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
    (now, deadline): (DateTime<Utc>, Option<std::time::Instant>),
) -> Result<RunRecord, RunError> {
    let sensitive = sensitive_fields(config);
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
    let applied = match apply(&context, plan, &mut snapshot).await {
        Ok(applied) => applied,
        Err(error) => return Err(fail(ports, config, record, error.into(), names).await),
    };
    if let Some(stats) = stats {
        ports.store.save_source_stats(&config.tenant, stats).await?;
    }
    record.status = if applied.deferred > 0 {
        RunStatus::Partial
    } else {
        RunStatus::Completed
    };
    record.counts = applied.counts;
    record.counts.skipped = plan.skips.len();
    record.changes = applied.changes;
    record.errors = plan.errors.iter().cloned().chain(applied.errors).collect();
    record.counts.errors = record.errors.len();
    record.finished_at = Some(Utc::now());
    ports.store.save_run(&config.tenant, &record).await?;
    tracing::info!(
        created = record.counts.created,
        updated = record.counts.updated,
        deactivated = record.counts.deactivated,
        errors = record.counts.errors,
        "run completed"
    );
    notify(ports, config, &record, names).await;
    Ok(record)
}

/// Records a failed run, emails admins, and hands the error back.
async fn fail(
    ports: &Ports<'_>,
    config: &TenantConfig,
    mut record: RunRecord,
    error: RunError,
    names: &BTreeMap<PersonKey, String>,
) -> RunError {
    // The caller reports the error to the admin; the log keeps it for operators.
    tracing::info!(error = %error, "run failed");
    record.status = RunStatus::Failed;
    record.failure = Some(error.to_string());
    record.finished_at = Some(Utc::now());
    if !record.dry_run {
        if let Err(store_error) = ports.store.save_run(&config.tenant, &record).await {
            tracing::error!(error = %store_error, "could not record the failed run");
        }
        notify(ports, config, &record, names).await;
    }
    error
}

/// Sends the summary if the tenant wants one. A mail failure is logged, never fails the run:
/// the run's effects are already recorded.
async fn notify(
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

fn sensitive_fields(config: &TenantConfig) -> BTreeSet<String> {
    config
        .mapping
        .effective_fields()
        .into_iter()
        .filter(|rule| rule.sensitive)
        .map(|rule| rule.target)
        .collect()
}

/// Fills a dry-run or held record with the planned counts and change list.
fn describe_plan(
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
}

fn display_name(record: &crate::record::UserRecord) -> Option<String> {
    let parts: Vec<String> = ["given_name", "family_name"]
        .iter()
        .filter_map(|field| record.text(field))
        .collect();
    (!parts.is_empty()).then(|| parts.join(" "))
}

fn names(people: &[Person]) -> BTreeMap<PersonKey, String> {
    people
        .iter()
        .filter_map(|person| {
            let record = person.record.as_ref().ok()?;
            Some((person.key().clone(), display_name(record)?))
        })
        .collect()
}

fn names_from_plan(plan: &Plan) -> BTreeMap<PersonKey, String> {
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

async fn fetch(
    ports: &Ports<'_>,
    config: &TenantConfig,
    target: &RunTarget,
) -> Result<Fetched, RunError> {
    let rules = config.mapping.effective_fields();
    let mapping = crate::mapping::Mapping::new(rules.clone());
    let mut fetched = Fetched {
        people: Vec::new(),
        protected: BTreeSet::new(),
        gone: BTreeSet::new(),
        errors: Vec::new(),
        stats: SourceStats::default(),
        used_attributes: BTreeSet::new(),
    };
    let sources: Vec<&(AccountId, &dyn Source)> = match target {
        RunTarget::Everyone => ports.sources.iter().collect(),
        RunTarget::Person(key) => {
            let source = ports
                .sources
                .iter()
                .find(|(account, _)| *account == key.account);
            vec![source.ok_or_else(|| RunError::UnknownAccount {
                account: key.account.clone(),
            })?]
        }
    };
    for (account, source) in sources {
        let batch = match target {
            RunTarget::Everyone => {
                ports.progress.start("fetch", 0);
                let batch = source.employees().await?;
                ports.progress.finish();
                batch
            }
            RunTarget::Person(key) => match source.employee(key.id).await? {
                Some(batch) => batch,
                None => {
                    fetched.gone.insert(key.clone());
                    continue;
                }
            },
        };
        for id in &batch.unreadable {
            fetched
                .protected
                .insert(PersonKey::new(account.clone(), *id));
        }
        fetched.errors.extend(batch.errors);
        for rule in &rules {
            if let Some(key) = rule
                .source
                .as_ref()
                .and_then(|source| source.resolve(&batch.universal_ids))
            {
                fetched.used_attributes.insert(key.to_owned());
            }
        }
        for rule in &config.scope.rules {
            if let Some(key) = rule.attribute.resolve(&batch.universal_ids) {
                fetched.used_attributes.insert(key.to_owned());
            }
        }
        fetched
            .used_attributes
            .extend(["status", "hire_date", "termination_date"].map(String::from));
        // Read outside the mapping: losing them would clear managers or empty groups.
        let relations = [
            (config.mapping.manager, "supervisor"),
            (config.groups.departments, "department"),
            (config.groups.teams, "team"),
            (
                config.groups.offices || !config.lifecycle.office_timezones.is_empty(),
                "office",
            ),
        ];
        fetched.used_attributes.extend(
            relations
                .into_iter()
                .filter(|(on, _)| *on)
                .map(|(_, key)| key.to_owned()),
        );
        fetched.stats.employees += batch.employees.len();
        for employee in batch.employees {
            for key in employee.attributes.keys() {
                // Look up before inserting: one String per attribute, not per person.
                match fetched.stats.attribute_presence.get_mut(key.as_str()) {
                    Some(count) => *count += 1,
                    None => {
                        fetched.stats.attribute_presence.insert(key.to_string(), 1);
                    }
                }
            }
            fetched.people.push(Person::prepare(
                employee,
                &mapping,
                config,
                &batch.universal_ids,
            ));
        }
    }
    Ok(fetched)
}

/// Unlinked destination users that people of this run may adopt, by lower-cased userName and email.
async fn candidates(
    destination: &dyn Destination,
    config: &TenantConfig,
    people: &[Person],
    snapshot: &Snapshot,
    now: DateTime<Utc>,
) -> Result<BTreeMap<String, DestinationUser>, DestinationError> {
    let unmatched: Vec<String> = people
        .iter()
        .filter(|person| !snapshot.links.contains_key(person.key()))
        .filter(|person| person.may_need_account(config, now))
        .filter_map(|person| person.record.as_ref().ok())
        .filter_map(|record| {
            record
                .text(&config.matching.field)
                .or_else(|| record.text(USER_NAME))
                .or_else(|| record.text(EMAIL))
        })
        .collect();
    if unmatched.is_empty() {
        return Ok(BTreeMap::new());
    }
    let users = if unmatched.len() > LIST_ALL_ABOVE {
        destination.users().await?
    } else {
        let mut found = Vec::new();
        for value in &unmatched {
            if let Some(user) = destination.find_user(value).await? {
                found.push(user);
            }
        }
        found
    };
    let linked: BTreeSet<&str> = snapshot
        .links
        .values()
        .map(|link| link.destination_id.as_str())
        .collect();
    let mut candidates = BTreeMap::new();
    for user in users
        .into_iter()
        .filter(|user| !linked.contains(user.id.as_str()))
    {
        let mut keys = vec![user.user_name.trim().to_lowercase()];
        keys.extend(user.email.iter().map(|email| email.trim().to_lowercase()));
        keys.extend(
            user.employee_number
                .iter()
                .map(|number| number.trim().to_lowercase()),
        );
        for key in keys {
            candidates.entry(key).or_insert_with(|| user.clone());
        }
    }
    Ok(candidates)
}
