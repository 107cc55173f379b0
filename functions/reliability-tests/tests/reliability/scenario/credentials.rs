//! Two AWS families about the tenant's credentials, each from a random point:
//!
//! - **Rotation**: the Personio credential is rotated while a warm worker holds the old one in
//!   its cache, before the run's first request to Personio or in the middle of its fetch (the
//!   old credential's tokens revoked). Either the new one was stored already, and the run must
//!   not fail (the worker reads the secrets again and runs once more), or the admin stores it
//!   only later, and the run must fail once, recorded and emailed, and the job be consumed; the
//!   next run then works.
//! - **Moved**: the Personio or the SCIM base URL (or both) is repointed at another origin
//!   while the stored credentials remember the one they were entered for. Not one request may
//!   reach the new origin; the run fails, recorded and emailed; then the admin enters the
//!   credential again for the new address, or moves the config back, and the next run works.
//!
//! Both end with the clean follow-up (convergence with the reference and the oracle).

use super::aws::{deliver_checked, follow_up, job, summaries_delivered};
use super::Outcome;
use crate::support::aws::AwsStack;
use crate::support::checks;
use crate::support::fault_proxy::{Fault, FaultProxy, Matcher, Pick, Rule};
use crate::support::logs::LogScan;
use fake_personio::{FakeConfig, FakePersonio};
use rand::rngs::StdRng;
use rand::Rng;
use secrecy::SecretString;
use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use sync_core::config::DestinationConfig;
use sync_core::history::{RunRecord, RunStatus};
use sync_core::http::credential_origin;
use sync_core::ids::AccountId;
use sync_core::ports::{DestinationToken, JobTarget, PersonioCredentials, Secrets};
use test_support::harness::Harness;
use test_support::scim::scim_server;

/// The rotation family's label.
pub const ROTATION: &str = "personio credential rotated mid-run";
/// The moved family's label.
pub const MOVED: &str = "base URL changed, credential stored";

/// Queues `target`'s job and delivers it until the worker consumes it (at most 8 times); the
/// tenant's runs it made, oldest first.
async fn consume(stack: &AwsStack, target: &JobTarget, outcome: &mut Outcome) -> Vec<RunRecord> {
    let known: BTreeSet<String> = stack
        .runs()
        .await
        .into_iter()
        .map(|run| run.id.as_str().to_owned())
        .collect();
    let message = stack.enqueue(&job(stack, target.clone())).await;
    let mut consumed = false;
    for _ in 0..8 {
        outcome.runs += 1;
        let response = deliver_checked(stack, &message, None, None, outcome).await;
        if response.is_some_and(|r| r.batch_item_failures.is_empty()) {
            consumed = true;
            break;
        }
        outcome.describe("worker asked for a retry; message delivered again".to_owned());
    }
    stack.delete(&message).await;
    if !consumed {
        outcome
            .violations
            .push("the job never succeeded in 8 deliveries".to_owned());
    }
    let records: Vec<RunRecord> = stack
        .runs()
        .await
        .into_iter()
        .filter(|run| !known.contains(run.id.as_str()))
        .collect();
    let sent = stack.mailbox.sent();
    for record in &records {
        outcome.note_status(record.status);
        outcome
            .violations
            .extend(checks::email_reports(record, &sent));
    }
    records
}

/// The rotation family (module docs).
pub async fn rotation(
    stack: &AwsStack,
    reference: &mut Harness,
    fake: &FakePersonio,
    target: &JobTarget,
    rng: &mut StdRng,
    outcome: &mut Outcome,
    logs: &Mutex<LogScan>,
) {
    outcome.kind(ROTATION);
    let stored_first = rng.gen_bool(0.6);
    // Which request to Personio the rotation comes before: 1 is the token request, later ones
    // are in the middle of the fetch.
    let at = rng.gen_range(1..=3);
    let client_id = format!("rotated-{:08x}", rng.gen::<u32>());
    let secret = format!("rotated-secret-{:016x}", rng.gen::<u64>());
    logs.lock().expect("log scan lock").text(&secret);
    outcome.describe(format!(
        "{target:?}; rotated before Personio request {at}; new credential stored {}",
        if stored_first {
            "before the run"
        } else {
            "after it"
        }
    ));
    let rotated = PersonioCredentials {
        client_id: client_id.clone(),
        client_secret: SecretString::from(secret.clone()),
        origin: None,
    };
    // A warm worker: its cache holds the credential from before the rotation.
    let warm = stack
        .deps
        .secrets
        .personio(&stack.tenant, &AccountId::default())
        .await;
    if let Err(error) = warm {
        outcome
            .violations
            .push(format!("could not read the Personio credential: {error}"));
        return;
    }
    if stored_first {
        stack.put_personio(&rotated).await;
    }
    let rotate = {
        let (fake, client_id, secret) = (fake.clone(), client_id.clone(), secret.clone());
        Arc::new(move || fake.set_credentials(&client_id, &secret))
    };
    stack.personio.reset_counts();
    stack.personio.arm(vec![Rule {
        matcher: Matcher::default(),
        pick: Pick::Nth {
            first: at,
            every: 1,
        },
        fault: Fault::Call(rotate),
        budget: 1,
    }]);
    let records = consume(stack, target, outcome).await;
    let struck = stack.personio.struck_each().first().copied().unwrap_or(0) > 0;
    outcome.injected += stack.personio.injected();
    stack.personio.disarm();
    outcome.note_strikes([struck]);
    if !struck {
        // The run made fewer requests: rotate now, so that the follow-up meets the new one.
        fake.set_credentials(&client_id, &secret);
    }
    reference.use_credentials(&client_id, &secret);
    let failed: Vec<&RunRecord> = records
        .iter()
        .filter(|run| run.status == RunStatus::Failed)
        .collect();
    if stored_first {
        for run in failed {
            outcome.violations.push(format!(
                "run {} failed although the rotated credential was stored: {}",
                run.id,
                run.failure.as_deref().unwrap_or_default()
            ));
        }
    } else if struck {
        let says_personio = |run: &&RunRecord| {
            run.failure
                .as_deref()
                .is_some_and(|why| why.contains("Personio"))
        };
        if records.len() != 1 || failed.len() != 1 || !failed.iter().all(says_personio) {
            outcome.violations.push(format!(
                "a credential rotated in Personio and not yet stored should fail its run once, saying Personio refused it; the job made {:?}",
                records
                    .iter()
                    .map(|run| (run.status.as_str(), run.failure.clone()))
                    .collect::<Vec<_>>()
            ));
        }
    }
    if !stored_first {
        outcome.describe("the admin stores the rotated credential".to_owned());
        stack.put_personio(&rotated).await;
    }
    follow_up(stack, reference, outcome).await;
    outcome.violations.extend(summaries_delivered(stack).await);
}

/// The path of the tenant's SCIM base URL below `proxy`'s address.
fn scim_path(config: &sync_core::config::TenantConfig, proxy: &FaultProxy) -> String {
    match &config.destination {
        DestinationConfig::Scim { base_url, .. } => base_url
            .strip_prefix(&proxy.url)
            .unwrap_or_default()
            .to_owned(),
        DestinationConfig::Directory { .. } => String::new(),
    }
}

/// The moved family (module docs).
pub async fn moved(
    stack: &AwsStack,
    reference: &Harness,
    fake: &FakePersonio,
    target: &JobTarget,
    rng: &mut StdRng,
    outcome: &mut Outcome,
) {
    outcome.kind(MOVED);
    // 0: Personio moves, 1: the app moves, 2: both.
    let which = rng.gen_range(0..3);
    let personio_moves = which != 1;
    let scim_moves = which != 0;
    let enter_again = rng.gen_bool(0.5);
    outcome.describe(format!(
        "{target:?}; moved: {}; then the admin {}",
        ["Personio", "the app", "both"][which],
        if enter_again {
            "enters the credentials again"
        } else {
            "moves the config back"
        }
    ));
    // The credentials as the admin API stores them: with the origin they were entered for. A
    // worker whose cache has expired since reads them.
    let origin = |url: &str| credential_origin(url).ok();
    let defaults = FakeConfig::default();
    let personio_credentials = |origin: Option<String>| PersonioCredentials {
        client_id: defaults.client_id.clone(),
        client_secret: SecretString::from(defaults.client_secret.clone()),
        origin,
    };
    let token = |origin: Option<String>| DestinationToken {
        token: SecretString::from(scim_server().token.clone()),
        origin,
    };
    stack
        .put_personio(&personio_credentials(origin(&stack.personio.url)))
        .await;
    stack
        .put_destination_token(&token(origin(&stack.scim.url)))
        .await;
    stack.deps.secrets.forget(&stack.tenant).await;

    // Another origin for the same servers: what a typo, or a config an attacker could edit,
    // points at.
    let elsewhere_personio = FaultProxy::start(&fake.url(), Duration::from_secs(1), 3).await;
    let elsewhere_scim = FaultProxy::start(&scim_server().url, Duration::from_secs(1), 4).await;
    let stored = stack.config().await;
    let original = stored.config.clone();
    let mut config = stored.config;
    if personio_moves {
        config.personio.accounts[0].base_url = elsewhere_personio.url.clone();
    }
    if scim_moves {
        let path = scim_path(&config, &stack.scim);
        if let DestinationConfig::Scim { base_url, .. } = &mut config.destination {
            *base_url = format!("{}{path}", elsewhere_scim.url);
        }
    }
    stack.put_config(&config, stored.version).await;

    let records = consume(stack, target, outcome).await;
    let reached = elsewhere_personio.forwarded() + elsewhere_scim.forwarded();
    if reached > 0 {
        outcome.violations.push(format!(
            "{reached} requests reached the new address with a credential entered for the old one"
        ));
    }
    let refused = records.iter().any(|run| {
        run.status == RunStatus::Failed
            && run
                .failure
                .as_deref()
                .is_some_and(|why| why.contains("entered for") && why.contains("entered again"))
    });
    outcome.note_strikes([refused]);
    outcome.injected += u64::from(refused);
    if !refused || records.len() != 1 {
        outcome.violations.push(format!(
            "a moved base URL should fail its run once, saying the credential was entered for another address; the job made {:?}",
            records
                .iter()
                .map(|run| (run.status.as_str(), run.failure.clone()))
                .collect::<Vec<_>>()
        ));
    }
    if enter_again {
        if personio_moves {
            stack
                .put_personio(&personio_credentials(origin(&elsewhere_personio.url)))
                .await;
        }
        if scim_moves {
            stack
                .put_destination_token(&token(origin(&elsewhere_scim.url)))
                .await;
        }
    } else {
        let version = stack.config().await.version;
        stack.put_config(&original, version).await;
    }
    follow_up(stack, reference, outcome).await;
    outcome.violations.extend(summaries_delivered(stack).await);
    if enter_again && elsewhere_personio.forwarded() + elsewhere_scim.forwarded() == 0 {
        outcome
            .violations
            .push("the credentials entered for the new address were not used there".to_owned());
    }
}
