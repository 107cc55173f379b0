//! The webhook burst family: Personio sends one event per changed person (and now and then a
//! company-wide one) all at once to the webhook Lambda's handler, on moto, while the queue
//! misbehaves (SQS refusing sends past the SDK's attempts, or taking a message and then failing
//! the answer) and webhook instances die mid-delivery. Personio delivers again whatever got no
//! 2xx, as it does for three days; the worker drains the queue between rounds.
//!
//! The invariant is that no change is lost: once Personio has had a 2xx for every event and the
//! queue is empty, the app equals a reference that ran each event's run (a one-person run per
//! person event, a full run for a company-wide one) — without a scheduled run to catch up —
//! except where a run recorded an error about the person (runs in another order: a manager who
//! had no user yet), which the follow-up full run then mends.

use super::aws::{deliver_checked, follow_up, summaries_delivered};
use super::Outcome;
use crate::support::aws::{self, AwsStack};
use crate::support::checks;
use crate::support::fault_proxy::{Canned, Fault, Matcher, Pick, Rule};
use crate::support::view::AppView;
use chrono::Utc;
use rand::rngs::StdRng;
use rand::Rng;
use secrecy::SecretString;
use std::time::Duration;
use test_support::harness::Harness;
use webhook::{Misses, WebhookDeps, WebhookRequest};

/// The family's label.
pub const LABEL: &str = "webhook burst, queue faults, webhook killed";

/// Rounds of Personio's redeliveries before the scenario gives up.
const ROUNDS: usize = 8;

/// One event Personio sends: `Some(person)` or a company-wide one.
#[derive(Clone, Copy, Debug)]
enum Event {
    Person(u64),
    Company(u64),
}

impl Event {
    fn body(self) -> Vec<u8> {
        let (name, payload) = match self {
            Self::Person(id) => (
                "person.updated",
                serde_json::json!({ "id": id.to_string() }),
            ),
            Self::Company(id) => ("absence-period.created", serde_json::json!({ "id": id })),
        };
        serde_json::to_vec(&serde_json::json!({
            "company_id": "4711",
            "event_name": name,
            "occurred_at": Utc::now().to_rfc3339(),
            "payload": payload,
        }))
        .expect("an envelope")
    }
}

/// The queue faults of a scenario.
fn queue_faults(rng: &mut StdRng) -> Vec<(Rule, &'static str)> {
    let send = Matcher {
        target: Some("AmazonSQS.SendMessage"),
        ..Matcher::default()
    };
    let mut faults = Vec::new();
    if rng.gen_bool(0.5) {
        faults.push((
            Rule {
                matcher: send.clone(),
                pick: Pick::Nth {
                    first: rng.gen_range(1..=3),
                    every: 1,
                },
                fault: Fault::Refuse(aws::sqs_unavailable()),
                // Past the SDK's 5 attempts for one or two deliveries.
                budget: rng.gen_range(5..=10),
            },
            "sqs refuses",
        ));
    }
    if rng.gen_bool(0.4) {
        faults.push((
            Rule {
                matcher: send,
                pick: Pick::Chance(0.3),
                fault: Fault::ApplyThenAnswer(Canned {
                    status: 500,
                    headers: vec![("Content-Type", "application/x-amz-json-1.0".to_owned())],
                    body: aws::sqs_unavailable().body,
                }),
                budget: rng.gen_range(1..=3),
            },
            "sqs takes the message, answers 500",
        ));
    }
    if rng.gen_bool(0.3) {
        faults.push((
            Rule {
                matcher: Matcher {
                    target: Some("DynamoDB_20120810."),
                    ..Matcher::default()
                },
                pick: Pick::Chance(0.3),
                fault: Fault::Refuse(aws::dynamodb_throttling()),
                budget: rng.gen_range(5..=12),
            },
            "dynamodb throttles",
        ));
    }
    faults
}

/// Drains the queue: each message delivered to the worker until it is consumed (at most 8
/// times, as the event source mapping would), then deleted.
async fn drain(stack: &AwsStack, outcome: &mut Outcome) {
    while let Some(message) = stack.receive_now().await {
        let mut consumed = false;
        for _ in 0..8 {
            outcome.runs += 1;
            let response = deliver_checked(stack, &message, None, None, outcome).await;
            if response.is_some_and(|r| r.batch_item_failures.is_empty()) {
                consumed = true;
                break;
            }
        }
        if !consumed {
            outcome
                .violations
                .push("a queued job never succeeded in 8 deliveries".to_owned());
        }
        stack.delete(&message).await;
    }
}

/// The family (module docs). `touched` are the people the round's changes touched.
pub async fn burst(
    stack: &AwsStack,
    reference: &Harness,
    touched: &[u64],
    rng: &mut StdRng,
    outcome: &mut Outcome,
) {
    outcome.kind(LABEL);
    let token = format!("webhook-token-{:016x}", rng.gen::<u64>());
    let secret = serde_json::json!({ "token": token, "company_id": "4711" }).to_string();
    stack.put_webhook_token(&SecretString::from(secret)).await;
    let mut events: Vec<Event> = touched.iter().map(|id| Event::Person(*id)).collect();
    if events.is_empty() || rng.gen_bool(0.25) {
        events.push(Event::Company(rng.gen_range(1..1_000_000)));
    }
    // Personio sends some events twice.
    if rng.gen_bool(0.3) {
        let again = events[rng.gen_range(0..events.len())];
        events.push(again);
    }
    let kill_chance = if rng.gen_bool(0.7) { 0.35 } else { 0.0 };
    let faults = queue_faults(rng);
    outcome.describe(format!(
        "{} events; webhook killed with chance {kill_chance}; queue faults {:?}",
        events.len(),
        faults.iter().map(|(_, what)| *what).collect::<Vec<_>>()
    ));
    let bodies: Vec<Vec<u8>> = events.iter().map(|event| event.body()).collect();
    let misses = Misses::default();
    stack.proxy.reset_counts();
    stack
        .proxy
        .arm(faults.iter().map(|(rule, _)| rule.clone()).collect());

    // Personio: every delivery that got no 2xx comes again in the next round.
    let mut waiting: Vec<usize> = (0..bodies.len()).collect();
    let mut kills = 0;
    for round in 0..ROUNDS {
        if waiting.is_empty() {
            break;
        }
        let deps = WebhookDeps {
            configs: &stack.deps.store,
            secrets: &stack.deps.secrets,
            events: &stack.deps.store,
            jobs: &stack.deps.jobs,
            misses: &misses,
            now: Utc::now(),
        };
        let deliveries = waiting.iter().map(|index| {
            let request = WebhookRequest {
                tenant_id: stack.tenant.to_string(),
                authorization: Some(token.clone()),
                content_type: Some("application/json".to_owned()),
                body: bodies[*index].clone(),
            };
            let kill = (round + 1 < ROUNDS && rng.gen_bool(kill_chance))
                .then(|| Duration::from_millis(rng.gen_range(0..=60)));
            let deps = &deps;
            async move {
                let handled = webhook::handle(deps, request);
                let answer = match kill {
                    Some(after) => tokio::time::timeout(after, handled).await.ok(),
                    None => Some(handled.await),
                };
                (*index, answer)
            }
        });
        let answers = futures::future::join_all(deliveries.collect::<Vec<_>>()).await;
        waiting.clear();
        for (index, answer) in answers {
            match answer {
                Some(answer) if (200..300).contains(&answer.status) => {}
                Some(answer) if answer.status >= 500 => waiting.push(index),
                Some(answer) => {
                    outcome.violations.push(format!(
                        "a well-formed delivery was refused with {}: {}",
                        answer.status, answer.body
                    ));
                }
                None => {
                    kills += 1;
                    waiting.push(index);
                }
            }
        }
        drain(stack, outcome).await;
    }
    let struck = stack.proxy.struck_each();
    outcome.injected += stack.proxy.injected() + kills;
    stack.proxy.disarm();
    drain(stack, outcome).await;
    let mut hits: Vec<bool> = struck.iter().map(|n| *n > 0).collect();
    if kill_chance > 0.0 {
        hits.push(kills > 0);
    }
    outcome.note_strikes(hits);
    if !waiting.is_empty() {
        outcome.violations.push(format!(
            "{} deliveries still had no 2xx after {ROUNDS} rounds",
            waiting.len()
        ));
    }

    // The reference runs what each event asks for.
    for event in &events {
        let run = match event {
            Event::Person(id) => reference.run_person(*id, Utc::now()).await,
            Event::Company(_) => reference.run_at(Utc::now()).await,
        };
        if let Err(error) = run {
            outcome
                .violations
                .push(format!("the reference run failed: {error}"));
            return;
        }
    }
    let after = AppView::of_scim(&stack.reader).await;
    let expected = AppView::of_directory(&reference.directory).await;
    let records = stack.runs().await;
    outcome
        .violations
        .extend(lost_without_a_trace(&after, &expected, &records));
    let sent = stack.mailbox.sent();
    for record in records {
        if record.status != sync_core::history::RunStatus::Running {
            outcome
                .violations
                .extend(checks::email_reports(&record, &sent));
        }
    }
    follow_up(stack, reference, outcome).await;
    outcome.violations.extend(summaries_delivered(stack).await);
}

/// What differs from the reference after the burst with no run error to say why: a lost change.
///
/// One-person runs in another order than the reference's may differ legitimately, and say so: a
/// person whose run came before their new manager's has no manager yet, and the run recorded
/// "supervisor … has no user in the app yet" (the next full run links it; the follow-up checks
/// that). A change lost with no run at all, or with a run that recorded nothing, is a violation.
fn lost_without_a_trace(
    after: &AppView,
    expected: &AppView,
    records: &[sync_core::history::RunRecord],
) -> Vec<String> {
    let reported: std::collections::BTreeSet<String> = records
        .iter()
        .flat_map(|record| &record.errors)
        .filter_map(|error| error.person.as_ref().map(|key| key.external_id()))
        .collect();
    let mut lost: Vec<String> = checks::no_duplicates(after);
    lost.extend(
        after
            .differing(expected)
            .into_iter()
            .filter(|key| !reported.contains(key))
            .map(|key| {
                format!(
                    "after the burst, with no scheduled run, and no run error about it: {}",
                    after.describe_difference(&key, expected)
                )
            }),
    );
    for group in after.differing_groups(expected) {
        let unexplained: std::collections::BTreeSet<String> = after
            .member_difference(&group, expected)
            .into_iter()
            .filter(|member| !reported.contains(member))
            .collect();
        if !unexplained.is_empty() {
            lost.push(format!(
                "after the burst, group {group} differs from the reference (members {unexplained:?}) with no run error about them"
            ));
        }
    }
    lost
}
