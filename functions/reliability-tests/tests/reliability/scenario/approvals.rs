//! An AWS approval race: a run held by the deactivation guard, two approvals and a rejection
//! claimed at once, the winner's apply queued in the tenant's message group together with a
//! scheduled run (in either order), and the worker stopped mid-apply now and then and the job
//! delivered again. Exactly one decision goes on, the plan is applied once, the scheduled run
//! never overlaps it, and the app ends equal to the reference's.

use super::Outcome;
use crate::support::aws::AwsStack;
use rand::rngs::StdRng;
use rand::Rng;
use std::time::Duration;
use sync_core::history::{RunRecord, RunStatus, Trigger};
use sync_core::ids::RunId;
use sync_core::ports::{Job, JobTarget, Jobs, Store};
use sync_core::run;
use test_support::harness::Harness;

/// The guard both tenants run with in this family: more than one deactivation holds a run.
pub const MAX_DEACTIVATIONS: usize = 1;

/// Label of the family in the summary.
pub const LABEL: &str = "approval race";

fn job(stack: &AwsStack, trigger: Trigger, run_id: Option<RunId>) -> Job {
    Job {
        tenant: stack.tenant.clone(),
        target: JobTarget::Everyone,
        trigger,
        dry_run: false,
        run_id,
    }
}

/// Holds a run, races the decisions, applies the winner through the queue. `false` when the run
/// was not held (nothing to race: the draw did not strike).
pub async fn round(
    stack: &AwsStack,
    reference: &Harness,
    rng: &mut StdRng,
    outcome: &mut Outcome,
) -> bool {
    // The held run.
    let message = stack.enqueue(&job(stack, Trigger::Schedule, None)).await;
    outcome.runs += 1;
    let _ = stack.deliver(&message, None, None).await;
    stack.delete(&message).await;
    let Some(held) = stack
        .runs()
        .await
        .into_iter()
        .rev()
        .find(|run| run.status == RunStatus::Held)
    else {
        outcome.describe("the run was not held".to_owned());
        return false;
    };
    let reference_held = match reference.run_at(chrono::Utc::now()).await {
        Ok(outcome) => outcome.record,
        Err(error) => {
            outcome
                .violations
                .push(format!("the reference run failed: {error}"));
            return true;
        }
    };
    if reference_held.status == RunStatus::Held {
        if let Err(error) = reference.approve(&reference_held.id).await {
            outcome
                .violations
                .push(format!("the reference approval failed: {error}"));
        }
    }

    // Two approvals and a rejection at once: exactly one claim wins.
    let store = &stack.deps.store;
    let (first, second) = (
        RunId::new(chrono::Utc::now()),
        RunId::new(chrono::Utc::now()),
    );
    let reject_too = rng.gen_bool(0.3);
    let (a, b, r) = tokio::join!(
        run::claim_for_approval(store, &stack.tenant, &held.id, &first),
        run::claim_for_approval(store, &stack.tenant, &held.id, &second),
        async {
            if reject_too {
                Some(run::reject(store, &stack.tenant, &held.id).await)
            } else {
                None
            }
        }
    );
    // The race is the fault: each concurrent decision strikes once.
    outcome.injected += 2 + u64::from(reject_too);
    let rejected = matches!(r, Some(Ok(_)));
    let winners = usize::from(a.is_ok()) + usize::from(b.is_ok()) + usize::from(rejected);
    outcome.describe(format!(
        "claims: approve {}, approve {}, reject {}",
        a.is_ok(),
        b.is_ok(),
        r.as_ref().map_or("-".to_owned(), |r| r.is_ok().to_string())
    ));
    if winners != 1 {
        outcome
            .violations
            .push(format!("{winners} of the concurrent decisions went on"));
        return true;
    }
    let winner = match (a.is_ok(), b.is_ok()) {
        (true, _) => Some(first),
        (_, true) => Some(second),
        _ => None,
    };

    // The approval's job and a scheduled run, in the tenant's group, in either order.
    let scheduled = job(stack, Trigger::Schedule, None);
    let approval = winner.clone().map(|id| {
        job(
            stack,
            Trigger::Approval {
                held_run: held.id.clone(),
            },
            Some(id),
        )
    });
    let mut queued: Vec<Job> = approval.into_iter().collect();
    if rng.gen_bool(0.5) {
        queued.push(scheduled);
    } else {
        queued.insert(0, scheduled);
    }
    for (n, job) in queued.iter().enumerate() {
        let key = format!("race-{n}-{}", test_support::moto::unique("k"));
        if let Err(error) = stack.deps.jobs.enqueue(job, &key).await {
            outcome
                .violations
                .push(format!("could not queue a job: {error}"));
            return true;
        }
    }
    let kill = rng
        .gen_bool(0.5)
        .then(|| Duration::from_millis(rng.gen_range(5..=300)));
    for _ in 0..queued.len() {
        let Some(message) = stack.receive().await else {
            outcome
                .violations
                .push("a queued job never arrived".to_owned());
            return true;
        };
        let is_approval = message
            .body
            .as_deref()
            .is_some_and(|body| body.contains("approval"));
        let mut kill_now = if is_approval { kill } else { None };
        let mut done = false;
        for _ in 0..4 {
            outcome.runs += 1;
            match stack.deliver(&message, None, kill_now.take()).await {
                None => {
                    outcome.injected += 1;
                    outcome.describe("worker stopped mid-approval; delivered again".to_owned())
                }
                Some(response) if response.batch_item_failures.is_empty() => {
                    done = true;
                    break;
                }
                Some(_) => outcome.describe("a job asked for a retry".to_owned()),
            }
        }
        if !done {
            outcome
                .violations
                .push("a job did not succeed in 4 deliveries".to_owned());
        }
        stack.delete(&message).await;
    }

    // Decided once, applied once, and nothing left held.
    let runs = stack.runs().await;
    let status = runs
        .iter()
        .find(|run| run.id == held.id)
        .map(|run| run.status);
    let applying: Vec<&RunRecord> = runs
        .iter()
        .filter(|run| matches!(run.trigger, Trigger::Approval { .. }))
        .collect();
    match &winner {
        Some(id) => {
            if status != Some(RunStatus::Approved) {
                outcome
                    .violations
                    .push(format!("the approved run is {status:?}"));
            }
            if applying.len() != 1 || applying[0].id != *id {
                outcome
                    .violations
                    .push(format!("{} approval runs for one approval", applying.len()));
            } else if applying[0].status != RunStatus::Completed {
                outcome
                    .violations
                    .push(format!("the approval run is {:?}", applying[0].status));
            }
        }
        None => {
            if status != Some(RunStatus::Rejected) || !applying.is_empty() {
                outcome.violations.push(format!(
                    "a rejected run is {status:?} with {} approval runs",
                    applying.len()
                ));
            }
        }
    }
    // The decided run is held no more. (After a rejection the scheduled run, planning afresh,
    // may be held again for the same leavers: that is a new held run.)
    match store.held_runs(&stack.tenant).await {
        Ok(left) if left.contains(&held.id) => outcome
            .violations
            .push("the decided run is still held".to_owned()),
        Ok(left) if winner.is_some() && !left.is_empty() => outcome
            .violations
            .push(format!("{} runs held after an approval", left.len())),
        Ok(_) => {}
        Err(error) => outcome
            .violations
            .push(format!("could not list held runs: {error}")),
    }
    // A late second approval finds nothing to take.
    let late = RunId::new(chrono::Utc::now());
    if run::claim_for_approval(store, &stack.tenant, &held.id, &late)
        .await
        .is_ok()
    {
        outcome
            .violations
            .push("an approval after the decision claimed the run again".to_owned());
    }
    if winner.is_none() {
        outcome.describe("rejected: the next run plans afresh and is held again".to_owned());
    }
    true
}

/// After a rejection the next run holds again (the leavers are still gone): run it and approve
/// it through the queue, as the reference did, so the follow-up can converge.
pub async fn approve_what_is_held(stack: &AwsStack, outcome: &mut Outcome) {
    let store = &stack.deps.store;
    if store
        .held_runs(&stack.tenant)
        .await
        .is_ok_and(|held| held.is_empty())
    {
        let message = stack.enqueue(&job(stack, Trigger::Schedule, None)).await;
        outcome.runs += 1;
        let _ = stack.deliver(&message, None, None).await;
        stack.delete(&message).await;
    }
    let Ok(held) = store.held_runs(&stack.tenant).await else {
        return;
    };
    for held_run in held {
        let id = RunId::new(chrono::Utc::now());
        if let Err(error) = run::claim_for_approval(store, &stack.tenant, &held_run, &id).await {
            outcome
                .violations
                .push(format!("could not claim a held run: {error}"));
            continue;
        }
        let approval = job(stack, Trigger::Approval { held_run }, Some(id));
        let message = stack.enqueue(&approval).await;
        outcome.runs += 1;
        let _ = stack.deliver(&message, None, None).await;
        stack.delete(&message).await;
    }
}
