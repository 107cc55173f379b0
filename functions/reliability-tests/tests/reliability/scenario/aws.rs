//! An AWS scenario: the worker Lambda's handler, in-process, on DynamoDB, Secrets Manager, SES
//! and SQS (moto) behind a fault proxy, syncing a fake Personio into scim2-server. Faults:
//! DynamoDB throttling (errors and `UnprocessedItems`), SES throttling and a rejected recipient,
//! SQS redelivery of a message that already succeeded, the worker stopped at a random point and
//! restarted, a deadline that splits the run into continuations — and a light destination fault
//! now and then (the worker's SCIM client has production timeouts, so no stalls here). One in
//! five scenarios that start from a synced app is an approval race instead (`approvals`).

use super::aws_faults::{draw_fault, rule, AwsFault};
use super::engine::protect;
use super::faults;
use super::{approvals, credentials, webhooks, Outcome};
use crate::known;
use crate::support::aws::AwsStack;
use crate::support::changes::{self, Change};
use crate::support::fault_proxy::Rule;
use crate::support::logs::LogScan;
use crate::support::view::AppView;
use crate::support::{checks, oracle};
use chrono::Utc;
use fake_personio::{generate_company, CompanySpec, FakePersonio};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use std::collections::BTreeSet;
use std::sync::Mutex;
use std::time::{Duration, Instant};
use sync_core::history::{RunStatus, Trigger};
use sync_core::ports::{ConfigStore, Job, JobTarget, Secrets, Store};
use test_support::harness::Harness;

/// Today where the tenants live: the day the worker's runs (which use the real clock) see.
fn today() -> chrono::NaiveDate {
    Utc::now()
        .with_timezone(&chrono_tz::Europe::Berlin)
        .date_naive()
}

/// Runs AWS scenario `index` from `seed`.
pub async fn run(index: usize, seed: u64, logs: &Mutex<LogScan>) -> Outcome {
    let started = Instant::now();
    let mut rng = StdRng::seed_from_u64(seed);
    let people = rng.gen_range(20..=40);
    let company = generate_company(&CompanySpec {
        employees: people,
        seed: rng.gen(),
        today: today(),
    });
    protect(logs, &company);
    let fake = FakePersonio::start(company, test_support::personio::fake_config())
        .await
        .expect("start the fake Personio");
    let stack = AwsStack::start(&fake, seed).await;
    logs.lock().expect("log scan lock").email(&stack.admins[0]);
    let mut reference = Harness::on(fake.clone(), "").await;
    let mut outcome = Outcome::new(index, seed, "aws");
    outcome.describe(format!("{people} people"));

    let synced_first = rng.gen_bool(0.5);
    if synced_first {
        outcome.describe("clean first sync".to_owned());
        let job = job(&stack, JobTarget::Everyone);
        let message = stack.enqueue(&job).await;
        outcome.runs += 1;
        let response = stack.deliver(&message, None, None).await;
        if response.is_none_or(|r| !r.batch_item_failures.is_empty()) {
            outcome
                .violations
                .push("a clean first sync asked for a retry".to_owned());
        }
        stack.delete(&message).await;
        let _ = reference.run_at(Utc::now()).await;
    }

    let drawn = changes::draw(&mut rng, &fake.company(), false);
    let mut joined = Vec::new();
    fake.update(|company| joined = changes::apply(company, &drawn));
    protect(logs, &fake.company());
    let mut touched: Vec<u64> = drawn.iter().filter_map(Change::person).collect();
    touched.extend(&joined);
    let target = match touched.choose(&mut rng) {
        Some(id) if rng.gen_bool(0.35) => JobTarget::Person {
            person: test_support::personio::key(*id),
        },
        _ => JobTarget::Everyone,
    };
    if synced_first && rng.gen_bool(0.2) {
        race(&stack, &mut reference, &fake, &mut rng, &mut outcome, logs).await;
        fake.shutdown();
        outcome.elapsed = started.elapsed();
        return outcome;
    }
    let family = rng.gen_range(0..100);
    if family < 36 {
        outcome.describe(format!(
            "changes {:?}",
            drawn.iter().map(Change::kind).collect::<Vec<_>>()
        ));
        if family < 12 {
            credentials::rotation(
                &stack,
                &mut reference,
                &fake,
                &target,
                &mut rng,
                &mut outcome,
                logs,
            )
            .await;
        } else if family < 24 {
            credentials::moved(&stack, &reference, &fake, &target, &mut rng, &mut outcome).await;
        } else {
            touched.sort_unstable();
            touched.dedup();
            webhooks::burst(&stack, &reference, &touched, &mut rng, &mut outcome).await;
        }
        outcome.violations.extend(
            logs.lock()
                .expect("log scan lock")
                .scan()
                .into_iter()
                .map(|leak| format!("secret or personal data in the logs: {leak}")),
        );
        fake.shutdown();
        outcome.elapsed = started.elapsed();
        return outcome;
    }
    let count = if rng.gen_bool(0.7) { 1 } else { 2 };
    let round_faults: Vec<AwsFault> = (0..count).map(|_| draw_fault(&mut rng)).collect();
    outcome.describe(format!(
        "changes {:?}; {target:?}; faults {round_faults:?}",
        drawn.iter().map(Change::kind).collect::<Vec<_>>()
    ));
    for fault in &round_faults {
        outcome.kind(fault.label());
    }
    let before = outcome.violations.len();
    faulty_round(&stack, &reference, &target, &round_faults, &mut outcome).await;
    let found = outcome.violations.split_off(before);
    let shape = known::Round {
        faults: &[],
        one_person: matches!(target, JobTarget::Person { .. }),
        first_sync: false,
    };
    outcome.violations.extend(known::tag(&shape, found));
    outcome.violations.extend(
        logs.lock()
            .expect("log scan lock")
            .scan()
            .into_iter()
            .map(|leak| format!("secret or personal data in the logs: {leak}")),
    );
    fake.shutdown();
    outcome.elapsed = started.elapsed();
    outcome
}

pub(super) fn job(stack: &AwsStack, target: JobTarget) -> Job {
    Job {
        tenant: stack.tenant.clone(),
        target,
        trigger: Trigger::Manual,
        dry_run: false,
        run_id: None,
    }
}

/// Delivers the job under the faults until the worker consumes it, checks the result against
/// the reference, then syncs cleanly and checks convergence.
async fn faulty_round(
    stack: &AwsStack,
    reference: &Harness,
    target: &JobTarget,
    round_faults: &[AwsFault],
    outcome: &mut Outcome,
) {
    let message = stack.enqueue(&job(stack, target.clone())).await;
    let before = AppView::of_scim(&stack.reader).await;
    let known: BTreeSet<String> = stack
        .runs()
        .await
        .into_iter()
        .map(|run| run.id.as_str().to_owned())
        .collect();
    let mut rules: Vec<Rule> = round_faults
        .iter()
        .filter_map(|fault| rule(fault, &stack.admins[0]))
        .collect();
    // Where each drawn fault is armed, to tell afterwards whether it struck.
    let mut proxy_rules = 0;
    let mut scim_rules_seen = 0;
    let armed_at: Vec<Option<(bool, usize)>> = round_faults
        .iter()
        .map(|fault| {
            if rule(fault, &stack.admins[0]).is_some() {
                proxy_rules += 1;
                Some((false, proxy_rules - 1))
            } else if matches!(fault, AwsFault::Scim(_)) {
                scim_rules_seen += 1;
                Some((true, scim_rules_seen - 1))
            } else {
                None
            }
        })
        .collect();
    let mut killed = false;
    let scim_rules: Vec<Rule> = round_faults
        .iter()
        .filter_map(|fault| match fault {
            AwsFault::Scim(fault) => Some(faults::scim_rule(fault)),
            _ => None,
        })
        .collect();
    stack.proxy.reset_counts();
    stack.scim.reset_counts();
    stack.proxy.arm(std::mem::take(&mut rules));
    stack.scim.arm(scim_rules);
    let mut kill = round_faults.iter().find_map(|fault| match fault {
        AwsFault::Killed { millis } => Some(Duration::from_millis(*millis)),
        _ => None,
    });
    if round_faults
        .iter()
        .any(|fault| matches!(fault, AwsFault::SecretsUnavailable { .. }))
    {
        // A cold start: the worker reads the secrets afresh.
        stack.deps.secrets.forget(&stack.tenant).await;
    }
    let mut deadline = round_faults.iter().find_map(|fault| match fault {
        AwsFault::Deadline { millis } | AwsFault::SqsUnavailable { millis, .. } => {
            Some(Instant::now() + Duration::from_millis(*millis))
        }
        _ => None,
    });

    // Lambda's event source mapping: a failed or lost delivery comes back until it succeeds.
    let mut delivered = false;
    for _ in 0..8 {
        outcome.runs += 1;
        match deliver_checked(stack, &message, deadline.take(), kill.take(), outcome).await {
            None => {
                outcome.injected += 1;
                killed = true;
                outcome.describe("worker stopped mid-run; message delivered again".to_owned());
            }
            Some(response) if !response.batch_item_failures.is_empty() => {
                outcome.describe("worker asked for a retry; message delivered again".to_owned());
            }
            Some(_) => {
                delivered = true;
                break;
            }
        }
    }
    if !delivered {
        outcome
            .violations
            .push("the job never succeeded in 8 deliveries".to_owned());
    }
    if round_faults.contains(&AwsFault::Redelivery) {
        let runs = stack.runs().await;
        let clean = runs
            .last()
            .is_some_and(|run| run.status == RunStatus::Completed && run.errors.is_empty());
        stack.scim.reset_counts();
        outcome.runs += 1;
        outcome.injected += 1;
        let response = deliver_checked(stack, &message, None, None, outcome).await;
        if response.is_none_or(|r| !r.batch_item_failures.is_empty()) {
            outcome
                .violations
                .push("a redelivered message failed".to_owned());
        }
        if clean && stack.scim.writes() > 0 {
            outcome.violations.push(format!(
                "the redelivered job wrote {} times although its first delivery completed cleanly",
                stack.scim.writes()
            ));
        }
    }
    stack.delete(&message).await;
    // A run that met its deadline queued a continuation: run those to the end.
    let mut continued = false;
    for _ in 0..10 {
        let partial = stack
            .runs()
            .await
            .last()
            .is_some_and(|run| run.status == RunStatus::Partial);
        if !partial {
            break;
        }
        let Some(continuation) = stack.receive().await else {
            outcome
                .violations
                .push("a partial run queued no continuation".to_owned());
            break;
        };
        outcome.runs += 1;
        continued = true;
        let response = deliver_checked(stack, &continuation, None, None, outcome).await;
        if response.is_none_or(|r| !r.batch_item_failures.is_empty()) {
            outcome
                .violations
                .push("a continuation asked for a retry".to_owned());
        }
        stack.delete(&continuation).await;
    }
    outcome.injected += stack.proxy.injected() + stack.scim.injected();
    let proxy_struck = stack.proxy.struck_each();
    let scim_struck = stack.scim.struck_each();
    stack.proxy.disarm();
    stack.scim.disarm();

    let after = AppView::of_scim(&stack.reader).await;
    let reference_record = match target {
        JobTarget::Everyone => reference.run_at(Utc::now()).await,
        JobTarget::Person { person } => reference.run_person(person.id.get(), Utc::now()).await,
    };
    // A continuation is a full run whatever the job was (the snapshot knows what is done):
    // the reference does one as well.
    let reference_record = match (reference_record, continued) {
        (Ok(_), true) => reference.run_at(Utc::now()).await,
        (other, false) => other,
        (Err(error), true) => Err(error),
    };
    let reference_record = match reference_record {
        Ok(outcome) => outcome.record,
        Err(error) => {
            outcome
                .violations
                .push(format!("the reference run failed: {error}"));
            return;
        }
    };
    let expected = AppView::of_directory(&reference.directory).await;
    let records: Vec<_> = stack
        .runs()
        .await
        .into_iter()
        .filter(|run| !known.contains(run.id.as_str()))
        .collect();
    let out_of_time = records.iter().any(|run| {
        run.status == RunStatus::Partial
            || run
                .failure
                .as_deref()
                .is_some_and(|why| why.contains("time limit"))
    });
    let hits: Vec<bool> = round_faults
        .iter()
        .zip(&armed_at)
        .map(|(fault, armed)| match (fault, armed) {
            (_, Some((false, index))) => proxy_struck.get(*index).is_some_and(|n| *n > 0),
            (_, Some((true, index))) => scim_struck.get(*index).is_some_and(|n| *n > 0),
            (AwsFault::Killed { .. }, None) => killed,
            (AwsFault::Deadline { .. }, None) => out_of_time,
            // A redelivery is made by the scenario itself, always.
            _ => true,
        })
        .collect();
    outcome.note_strikes(hits);
    let v = &mut outcome.violations;
    v.extend(checks::no_duplicates(&after));
    v.extend(checks::no_wrongful_deactivation(&before, &after, &expected));
    let sent = stack.mailbox.sent();
    for record in &records {
        outcome.statuses.push(record.status);
        if record.status == RunStatus::Partial {
            // The deadline struck.
            outcome.injected += 1;
        }
        if record.status == RunStatus::Running {
            // The worker was stopped in this run: there is no one left to send its summary.
            continue;
        }
        if sent
            .iter()
            .any(|mail| mail.is_for(record.id.as_str()) && !mail.delivered)
        {
            outcome.describe(format!(
                "SES refused the summary of run {}; the worker logged it",
                record.id
            ));
        }
        outcome
            .violations
            .extend(checks::email_reports(record, &sent));
    }
    if let Some(last) = records
        .last()
        .filter(|run| run.status == RunStatus::Completed)
    {
        outcome.violations.extend(checks::differences_reported(
            last,
            &reference_record,
            &after,
            &expected,
        ));
    }

    let rejected = round_faults.contains(&AwsFault::SesRejection);
    follow_up(stack, reference, outcome).await;
    if !rejected {
        outcome.violations.extend(summaries_delivered(stack).await);
    }
}

/// Every finished run's summary reached SES by now: one that SES throttled past the SDK's
/// attempts is sent by the next run. (A run stopped mid-way owes its summary until it is closed
/// as stale, and a rejected recipient is not tried again: neither is asked for.)
pub(super) async fn summaries_delivered(stack: &AwsStack) -> Vec<String> {
    let sent = stack.mailbox.sent();
    stack
        .runs()
        .await
        .into_iter()
        .filter(|run| run.status != RunStatus::Running)
        .filter(|run| {
            !sent
                .iter()
                .any(|mail| mail.delivered && mail.is_for(run.id.as_str()))
        })
        .map(|run| {
            format!(
                "the summary of {} run {} never reached SES",
                run.status.as_str(),
                run.id
            )
        })
        .collect()
}

/// Hands `message` to the worker as [`AwsStack::deliver`] does, then holds each run the delivery
/// recorded as held or failed to invariant 3 (`checks`): a held run wrote nothing, a failed one
/// wrote only what its record lists.
pub(super) async fn deliver_checked(
    stack: &AwsStack,
    message: &aws_sdk_sqs::types::Message,
    deadline: Option<Instant>,
    kill: Option<Duration>,
    outcome: &mut Outcome,
) -> Option<aws_lambda_events::sqs::SqsBatchResponse> {
    let before = AppView::of_scim(&stack.reader).await;
    let known: BTreeSet<String> = stack
        .runs()
        .await
        .into_iter()
        .map(|run| run.id.as_str().to_owned())
        .collect();
    let writes_before = stack.scim.writes();
    let response = stack.deliver(message, deadline, kill).await;
    let writes = stack.scim.writes().saturating_sub(writes_before);
    let stopped: Vec<_> = stack
        .runs()
        .await
        .into_iter()
        .filter(|run| !known.contains(run.id.as_str()))
        .filter(|run| matches!(run.status, RunStatus::Held | RunStatus::Failed))
        .collect();
    if !stopped.is_empty() {
        let after = AppView::of_scim(&stack.reader).await;
        for record in &stopped {
            outcome.violations.extend(match record.status {
                RunStatus::Held => checks::wrote_nothing("held", writes, &before, &after),
                _ => checks::failed_run_reports_writes(record, writes, &before, &after),
            });
        }
    }
    response
}

/// The clean follow-up: everything must now equal the reference (and the oracle's model).
pub(super) async fn follow_up(stack: &AwsStack, reference: &Harness, outcome: &mut Outcome) {
    // The clean follow-up: everything must now equal the reference.
    let message = stack.enqueue(&job(stack, JobTarget::Everyone)).await;
    outcome.runs += 1;
    let response = deliver_checked(stack, &message, None, None, outcome).await;
    if response.is_none_or(|r| !r.batch_item_failures.is_empty()) {
        outcome
            .violations
            .push("the clean follow-up run asked for a retry".to_owned());
    }
    stack.delete(&message).await;
    let _ = reference.run_at(Utc::now()).await;
    // A guard held the run (the changes deactivate more than it allows): compared as it stands
    // it equals the reference, and the oracle's model holds once an admin approves it.
    let after = AppView::of_scim(&stack.reader).await;
    let expected = AppView::of_directory(&reference.directory).await;
    outcome
        .violations
        .extend(checks::converged(&after, &expected));
    let held = stack
        .deps
        .store
        .held_runs(&stack.tenant)
        .await
        .unwrap_or_default();
    if !held.is_empty() {
        outcome.describe("the follow-up run was held; an admin approves it".to_owned());
        approvals::approve_what_is_held(stack, outcome).await;
        let reference_held = reference
            .store
            .held_runs(&reference.config.tenant)
            .await
            .unwrap_or_default();
        for run_id in reference_held {
            if let Err(error) = reference.approve(&run_id).await {
                outcome.violations.push(format!(
                    "the reference could not approve its held run: {error}"
                ));
            }
        }
    }
    let after = AppView::of_scim(&stack.reader).await;
    let expected = AppView::of_directory(&reference.directory).await;
    if !held.is_empty() {
        outcome
            .violations
            .extend(checks::converged(&after, &expected));
    }
    let company = reference.fake.company();
    outcome
        .violations
        .extend(oracle::violations(&after, &company, company.today));
}

/// The approval race (`approvals`): both tenants hold a run with more than
/// [`approvals::MAX_DEACTIVATIONS`] deactivations, two people leave, and the decisions race.
async fn race(
    stack: &AwsStack,
    reference: &mut Harness,
    fake: &FakePersonio,
    rng: &mut StdRng,
    outcome: &mut Outcome,
    logs: &Mutex<LogScan>,
) {
    outcome.kind(approvals::LABEL);
    reference.config.guard.max_deactivations = approvals::MAX_DEACTIVATIONS;
    let stored = stack
        .deps
        .store
        .config(&stack.tenant)
        .await
        .expect("read the config")
        .expect("a config");
    let mut config = stored.config;
    config.guard.max_deactivations = approvals::MAX_DEACTIVATIONS;
    stack
        .deps
        .store
        .put_config(&config, Some(stored.version))
        .await
        .expect("store the guard");
    let active: Vec<u64> = fake
        .company()
        .employees
        .iter()
        .filter(|person| person.status == "active")
        .map(|person| person.id)
        .collect();
    let leaving: Vec<u64> = active.choose_multiple(rng, 2).copied().collect();
    fake.update(|company| {
        for id in &leaving {
            company.remove(*id);
        }
    });
    protect(logs, &fake.company());
    outcome.describe(format!(
        "approval race; {} people left Personio",
        leaving.len()
    ));
    let before = outcome.violations.len();
    let struck = approvals::round(stack, reference, rng, outcome).await;
    outcome.note_strikes([struck]);
    if outcome.violations.len() == before {
        approvals::approve_what_is_held(stack, outcome).await;
        follow_up(stack, reference, outcome).await;
    }
    outcome.violations.extend(
        logs.lock()
            .expect("log scan lock")
            .scan()
            .into_iter()
            .map(|leak| format!("secret or personal data in the logs: {leak}")),
    );
}
