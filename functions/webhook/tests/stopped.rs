//! A webhook Lambda stopped in the middle of a delivery (killed, out of time) loses no change:
//! nothing it did keeps Personio's retry, or the next event, from queueing the run.

mod support;

use serde_json::json;
use std::sync::Arc;
use support::*;
use sync_core::ports::JobTarget;
use tokio::sync::Notify;
use webhook::WebhookRequest;

const JSON: &str = "application/json";

fn request(body: &str) -> WebhookRequest {
    WebhookRequest {
        tenant_id: TENANT.to_owned(),
        authorization: Some(TOKEN.to_owned()),
        content_type: Some(JSON.to_owned()),
        body: body.as_bytes().to_vec(),
    }
}

/// Hands `body` to the handler and stops it (drops its future) as it calls the queue.
async fn stopped_while_queueing(harness: &Harness, body: &str) {
    let entered = Arc::new(Notify::new());
    harness.ports.jobs.set_stuck(Some(entered.clone()));
    let deps = harness.ports.deps();
    tokio::select! {
        answer = webhook::handle(&deps, request(body)) => {
            panic!("the delivery was to be stopped in the queue call, and was answered {answer:?}")
        }
        () = entered.notified() => {}
    }
    harness.ports.jobs.set_stuck(None);
}

#[tokio::test]
async fn personios_retry_of_a_delivery_stopped_while_queueing_queues_the_run() {
    let harness = Harness::start(3).await;
    let body = envelope("person.updated", json!({"id": "2"}));
    stopped_while_queueing(&harness, &body).await;
    assert!(harness.ports.jobs.pending().is_empty());

    // Personio got no answer and delivers the same body again.
    let answer = webhook::handle(&harness.ports.deps(), request(&body)).await;
    assert_eq!(answer.status, 202, "{answer:?}");
    let jobs = harness.ports.jobs.pending();
    assert_eq!(jobs.len(), 1, "{jobs:?}");
    assert_eq!(jobs[0].target, JobTarget::Person { person: key(2) });
}

#[tokio::test]
async fn an_event_after_a_full_run_stopped_while_queueing_queues_it() {
    let harness = Harness::start(3).await;
    let first = envelope("absence-period.created", json!({"id": 1}));
    stopped_while_queueing(&harness, &first).await;

    // The stopped delivery had marked a full run as pending; the next event must not wait on it.
    let second = envelope("absence-period.created", json!({"id": 2}));
    let answer = webhook::handle(&harness.ports.deps(), request(&second)).await;
    assert_eq!(answer.status, 202, "{answer:?}");
    let jobs = harness.ports.jobs.pending();
    assert_eq!(jobs.len(), 1, "{jobs:?}");
    assert_eq!(jobs[0].target, JobTarget::Everyone);

    // And Personio's retry of the stopped one queues nothing more: that run reads its change.
    let retry = webhook::handle(&harness.ports.deps(), request(&first)).await;
    assert_eq!(retry.status, 202, "{retry:?}");
    assert_eq!(harness.ports.jobs.pending().len(), 1);
}
