//! An engine scenario: a generated company in the fake Personio, a [`FaultyTenant`] syncing it
//! into scim2-server through fault proxies, and the clean reference (`test_support::harness::Harness`, a JSON
//! directory) on the same fake. Optionally a clean first sync; then one or two rounds of Personio
//! changes, each followed by a faulty full or one-person (webhook-style) run, the invariant
//! checks against the reference's same run, and a clean follow-up run that must converge.

use super::faults::{self, AnyFault, PersonioFault, ScimFault};
use super::personio;
use super::Outcome;
use crate::known;
use crate::support::changes::{self, Change};
use crate::support::logs::LogScan;
use crate::support::tenant::{FaultyTenant, Patience};
use crate::support::view::AppView;
use crate::support::{checks, oracle};
use fake_personio::{generate_company, Company, CompanySpec, FakePersonio};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use std::collections::BTreeSet;
use std::sync::Mutex;
use sync_core::history::{RunRecord, RunStatus};
use sync_core::run::{RunError, RunOutcome, RunTarget};
use test_support::harness::Harness;

/// Puts every person of `company` on the log scan's list.
pub fn protect(logs: &Mutex<LogScan>, company: &Company) {
    let mut logs = logs.lock().expect("log scan lock");
    for e in &company.employees {
        logs.person(&e.first_name, &e.last_name, &e.preferred_name, &e.email);
    }
}

/// The faults of one round: none (a control), one, or a mix of two or three.
fn draw_faults(rng: &mut StdRng, people: usize) -> Vec<AnyFault> {
    let count = match rng.gen_range(0..100) {
        0..=4 => 0,
        5..=64 => 1,
        65..=89 => 2,
        _ => 3,
    };
    (0..count)
        .map(|_| {
            if rng.gen_bool(0.45) {
                AnyFault::Personio(faults::personio_fault(rng, people))
            } else {
                AnyFault::Scim(faults::scim_fault(rng))
            }
        })
        .collect()
}

/// The person a one-person run is about: someone this round touched, else anyone.
fn pick_person(rng: &mut StdRng, company: &Company, touched: &[u64]) -> u64 {
    if !touched.is_empty() && rng.gen_bool(0.7) {
        return *touched.choose(rng).expect("someone touched");
    }
    company.employees.choose(rng).map(|e| e.id).unwrap_or(1000)
}

/// The reference's run, approved at once when a guard held it (a legitimate hold: the admin of
/// the ideal world approves it).
async fn reference_run(reference: &Harness, target: &RunTarget) -> Result<RunRecord, String> {
    let outcome = match target {
        RunTarget::Everyone => reference.run_at(test_support::personio::now()).await,
        RunTarget::Person(key) => {
            reference
                .run_person(key.id.get(), test_support::personio::now())
                .await
        }
    }
    .map_err(|error| format!("the reference run failed: {error}"))?;
    if outcome.record.status == RunStatus::Held {
        let approved = reference
            .approve(&outcome.record.id)
            .await
            .map_err(|error| format!("the reference approval failed: {error}"))?;
        return Ok(approved.record);
    }
    Ok(outcome.record)
}

/// The record of a faulty run: the outcome's, or for a failed run the record it left behind.
async fn record_of(
    tenant: &FaultyTenant,
    result: &Result<RunOutcome, RunError>,
    known: &BTreeSet<String>,
) -> Option<RunRecord> {
    match result {
        Ok(outcome) => Some(outcome.record.clone()),
        Err(_) => tenant
            .runs()
            .await
            .into_iter()
            .find(|run| !known.contains(run.id.as_str())),
    }
}

/// A clean full run of the faulty tenant that finishes what is pending: a run held by a fault is
/// rejected first, a run held again (a legitimate hold) is approved. Returns its records.
async fn recover(
    tenant: &FaultyTenant,
    held: Option<&RunRecord>,
) -> Result<Vec<RunRecord>, String> {
    if let Some(held) = held {
        tenant
            .reject(&held.id)
            .await
            .map_err(|error| format!("could not reject the held run: {error}"))?;
    }
    let outcome = tenant
        .run(RunTarget::Everyone, Patience::Patient)
        .await
        .map_err(|error| format!("the clean follow-up run failed: {error}"))?;
    let mut records = vec![outcome.record.clone()];
    if outcome.record.status == RunStatus::Held {
        let approved = tenant
            .approve(&outcome.record.id)
            .await
            .map_err(|error| format!("approving the follow-up run failed: {error}"))?;
        records.push(approved.record);
    }
    Ok(records)
}

/// Runs engine scenario `index` from `seed`.
pub async fn run(index: usize, seed: u64, logs: &Mutex<LogScan>) -> Outcome {
    let started = std::time::Instant::now();
    let mut rng = StdRng::seed_from_u64(seed);
    let people = rng.gen_range(20..=80);
    let company = generate_company(&CompanySpec {
        employees: people,
        seed: rng.gen(),
        today: test_support::personio::day(test_support::personio::TODAY),
    });
    protect(logs, &company);
    let fake = FakePersonio::start(company, test_support::personio::fake_config())
        .await
        .expect("start the fake Personio");
    let tenant = FaultyTenant::start(&fake, seed).await;
    let reference = Harness::on(fake.clone(), "").await;
    let mut outcome = Outcome::new(index, seed, "engine");
    outcome.describe(format!("{people} people"));

    if rng.gen_bool(0.5) {
        outcome.describe("clean first sync".to_owned());
        clean_sync(&tenant, &reference, &mut outcome).await;
    }
    // No full run has completed yet: the guards have no history to compare with.
    let mut first_sync = outcome.runs == 0;
    let rounds = if rng.gen_bool(0.3) { 2 } else { 1 };
    for round in 0..rounds {
        let mass = rng.gen_bool(0.08);
        let drawn = changes::draw(&mut rng, &fake.company(), mass);
        let mut joined = Vec::new();
        fake.update(|company| joined = changes::apply(company, &drawn));
        protect(logs, &fake.company());
        let mut touched: Vec<u64> = drawn.iter().filter_map(Change::person).collect();
        touched.extend(&joined);
        let target = if rng.gen_bool(0.35) {
            let id = pick_person(&mut rng, &fake.company(), &touched);
            RunTarget::Person(test_support::personio::key(id))
        } else {
            RunTarget::Everyone
        };
        let round_faults = draw_faults(&mut rng, people);
        outcome.describe(format!(
            "round {}: changes {:?}; {} run; faults {:?}",
            round + 1,
            drawn.iter().map(Change::kind).collect::<Vec<_>>(),
            match &target {
                RunTarget::Everyone => "full".to_owned(),
                RunTarget::Person(key) => format!("one-person ({key})"),
            },
            round_faults
        ));
        outcome.faults_of(&round_faults);
        let found = faulty_round(
            &fake,
            &tenant,
            &reference,
            &target,
            &round_faults,
            &mut outcome,
        )
        .await
        .into_iter()
        .map(|violation| format!("round {}: {violation}", round + 1))
        .collect();
        let shape = known::Round {
            faults: &round_faults,
            one_person: matches!(target, RunTarget::Person(_)),
            first_sync,
        };
        outcome.violations.extend(known::tag(&shape, found));
        // Each round ends with a clean full run.
        first_sync = false;
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
    outcome
}

/// A clean full run of both; they must agree.
async fn clean_sync(tenant: &FaultyTenant, reference: &Harness, outcome: &mut Outcome) {
    outcome.runs += 1;
    match tenant.run(RunTarget::Everyone, Patience::Patient).await {
        Ok(_) => {}
        Err(error) => outcome
            .violations
            .push(format!("a clean first sync failed: {error}")),
    }
    if let Err(error) = reference_run(reference, &RunTarget::Everyone).await {
        outcome.violations.push(error);
    }
    let after = tenant.view().await;
    let expected = AppView::of_directory(&reference.directory).await;
    let found = checks::converged(&after, &expected)
        .into_iter()
        .map(|v| format!("clean first sync: {v}"))
        .collect();
    let shape = known::Round {
        faults: &[],
        one_person: false,
        first_sync: true,
    };
    outcome.violations.extend(known::tag(&shape, found));
}

/// One faulty run and its checks, then the clean follow-up and its convergence check.
async fn faulty_round(
    fake: &FakePersonio,
    tenant: &FaultyTenant,
    reference: &Harness,
    target: &RunTarget,
    round_faults: &[AnyFault],
    outcome: &mut Outcome,
) -> Vec<String> {
    let mut v = Vec::new();
    let personio: Vec<PersonioFault> = round_faults
        .iter()
        .filter_map(|f| match f {
            AnyFault::Personio(fault) => Some(fault.clone()),
            AnyFault::Scim(_) => None,
        })
        .collect();
    let scim: Vec<ScimFault> = round_faults
        .iter()
        .filter_map(|f| match f {
            AnyFault::Scim(fault) => Some(fault.clone()),
            AnyFault::Personio(_) => None,
        })
        .collect();
    let before = tenant.view().await;
    let known: BTreeSet<String> = tenant
        .runs()
        .await
        .into_iter()
        .map(|run| run.id.as_str().to_owned())
        .collect();
    tenant.scim.reset_counts();
    tenant.personio.reset_counts();
    let personio_rules = personio::arm(fake, tenant, &personio);
    tenant
        .scim
        .arm(scim.iter().map(faults::scim_rule).collect());

    // Short timeouts only where the round injects timeouts: elsewhere a loaded machine must not
    // time out by itself, or the faults of a scenario would not be the ones it names.
    let patience = if round_faults.iter().any(injects_timeouts) {
        Patience::Short
    } else {
        Patience::Patient
    };
    outcome.runs += 1;
    let result = tenant.run(target.clone(), patience).await;

    let left = fake.faults();
    // Which drawn faults struck: the fake's by their budgets, the proxies' by their rules.
    let proxy_struck = tenant.personio.struck_each();
    let scim_struck = tenant.scim.struck_each();
    let fake_struck = personio::strikes_each(&personio, &left);
    let personio_hits = personio_rules
        .iter()
        .zip(&fake_struck)
        .map(|(rule, fake)| match rule {
            Some(index) => proxy_struck.get(*index).is_some_and(|n| *n > 0),
            None => *fake > 0,
        });
    outcome.note_strikes(personio_hits.chain(scim_struck.iter().map(|n| *n > 0)));
    personio::disarm(fake, tenant);
    tenant.scim.disarm();
    outcome.injected +=
        personio::strikes(&personio, &left) + tenant.personio.injected() + tenant.scim.injected();
    let writes = tenant.scim.writes();
    let after = tenant.view().await;
    let reference_record = match reference_run(reference, target).await {
        Ok(record) => record,
        Err(error) => {
            v.push(error);
            return v;
        }
    };
    let expected = AppView::of_directory(&reference.directory).await;
    let Some(record) = record_of(tenant, &result, &known).await else {
        v.push(format!("the faulty run left no run record ({result:?})"));
        return v;
    };
    outcome.note_status(record.status);
    v.extend(checks::no_duplicates(&after));
    v.extend(checks::no_wrongful_deactivation(&before, &after, &expected));
    match record.status {
        RunStatus::Held | RunStatus::Failed => v.extend(checks::wrote_nothing(
            record.status.as_str(),
            writes,
            &before,
            &after,
        )),
        // Personio's list answered with no one and the engine had no one to lose (a first
        // sync): nobody's run completed, so nothing may have been written. (A one-person run
        // of someone deleted in Personio fetches no one too, and rightly deactivates them.)
        RunStatus::Completed if record.fetched == 0 && *target == RunTarget::Everyone => {
            v.extend(checks::wrote_nothing("empty", writes, &before, &after))
        }
        RunStatus::Completed => v.extend(checks::differences_reported(
            &record,
            &reference_record,
            &after,
            &expected,
        )),
        other => v.push(format!("unexpected run status {}", other.as_str())),
    }
    v.extend(checks::email_reports(&record, &tenant.mailbox.sent()));

    let held = (record.status == RunStatus::Held).then_some(&record);
    match recover(tenant, held).await {
        Ok(records) => {
            outcome.runs += records.len() as u32;
            for record in &records {
                v.extend(checks::email_reports(record, &tenant.mailbox.sent()));
            }
        }
        Err(error) => v.push(error),
    }
    if let Err(error) = reference_run(reference, &RunTarget::Everyone).await {
        v.push(error);
    }
    let after = tenant.view().await;
    let expected = AppView::of_directory(&reference.directory).await;
    v.extend(checks::converged(&after, &expected));
    let company = fake.company();
    v.extend(oracle::violations(&after, &company, company.today));
    v
}

/// Whether a fault needs the short timeouts to strike.
fn injects_timeouts(fault: &AnyFault) -> bool {
    matches!(
        fault,
        AnyFault::Personio(PersonioFault::Timeout { .. } | PersonioFault::SlowPastTimeout)
            | AnyFault::Scim(ScimFault::ApplyThenTimeout { .. } | ScimFault::Timeout { .. })
    )
}
