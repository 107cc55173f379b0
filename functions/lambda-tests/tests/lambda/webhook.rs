//! A Personio webhook through the AWS side: the webhook handler on moto (token from Secrets
//! Manager, dedupe marker in DynamoDB, job onto the SQS FIFO queue), then the worker on the message
//! it left, then the destination and the summary email; a delivery the queue does not take; and
//! full runs asked for while one is already running.

use crate::support::hung::HungEndpoint;
use crate::support::stack::{job_of, Stack};
use crate::support::template;
use crate::support::tenant::{key, Spec, Tenant};
use chrono::Utc;
use secrecy::SecretString;
use std::time::Instant;
use sync_core::history::RunStatus;
use sync_core::ids::{AccountId, PersonKey, PersonioId};
use sync_core::ports::JobTarget;
use webhook::{WebhookDeps, WebhookRequest};

/// A `person.updated` body as Personio sends it.
fn body(person: u64) -> Vec<u8> {
    body_from("4711", person)
}

/// A `person.updated` body from Personio company `company`.
fn body_from(company: &str, person: u64) -> Vec<u8> {
    let body = serde_json::json!({
        "company_id": company,
        "event_name": "person.updated",
        "occurred_at": Utc::now().to_rfc3339(),
        "payload": { "id": person.to_string() },
    });
    serde_json::to_vec(&body).expect("json")
}

/// An `absence-period.created` body: a company-wide change, which asks for a full run.
fn company_event(absence: u64) -> Vec<u8> {
    let body = serde_json::json!({
        "company_id": "4711",
        "event_name": "absence-period.created",
        "occurred_at": Utc::now().to_rfc3339(),
        "payload": { "id": absence },
    });
    serde_json::to_vec(&body).expect("json")
}

fn delivery(tenant: &Tenant, token: &str, body: &[u8]) -> WebhookRequest {
    WebhookRequest {
        tenant_id: tenant.id.to_string(),
        authorization: Some(token.to_owned()),
        content_type: Some("application/json".to_owned()),
        body: body.to_vec(),
    }
}

/// Stores the tenant's webhook secret: `token`, for Personio company 4711.
async fn set_webhook_token(stack: &Stack, tenant: &Tenant, token: &str) {
    let secret = serde_json::json!({ "token": token, "company_id": "4711" }).to_string();
    stack
        .deps
        .secrets
        .put_webhook_token(&tenant.id, &SecretString::from(secret))
        .await
        .expect("store the webhook secret");
}

#[tokio::test]
async fn a_delivery_the_queue_does_not_answer_gets_a_5xx_in_time_and_its_retry_is_queued() {
    let stack = Stack::new().await;
    let tenant = Tenant::onboard(&stack, Spec::directory(3, 72)).await;
    let token = "webhook-token-0123456789abcdef";
    set_webhook_token(&stack, &tenant, token).await;
    // The webhook Lambda as deployed: its environment and its time limit from template.yaml.
    let function = template::function("WebhookFunction");
    let aws = stack.deps_of(&function, &stack.moto_url).await;
    let hung = HungEndpoint::start().await;
    let hung_sqs = stack.deps_of(&function, hung.url()).await;
    let body = body(7);

    let deps = WebhookDeps {
        configs: &aws.store,
        secrets: &aws.secrets,
        events: &aws.store,
        jobs: &hung_sqs.jobs,
        misses: &stack.misses,
        now: Utc::now(),
    };
    let answer = tokio::time::timeout(
        function.timeout,
        webhook::handle(&deps, delivery(&tenant, token, &body)),
    )
    .await
    .unwrap_or_else(|_| {
        panic!(
            "no answer within the webhook's Timeout of {:?}: Lambda would end it before it forgets the delivery",
            function.timeout
        )
    });
    assert!(answer.status >= 500, "{} {}", answer.status, answer.body);

    // SQS is back; Personio delivers the same body again.
    let deps = WebhookDeps {
        jobs: &aws.jobs,
        ..deps
    };
    let retry = webhook::handle(&deps, delivery(&tenant, token, &body)).await;
    assert_eq!(retry.status, 202, "{}", retry.body);
    let messages = stack.receive_exactly(1).await;
    assert_eq!(
        job_of(&messages[0]).target,
        JobTarget::Person { person: key(7) }
    );
}

#[tokio::test]
async fn an_event_after_the_queued_full_run_started_queues_one_more_full_run() {
    let stack = Stack::new().await;
    let tenant = Tenant::onboard(&stack, Spec::directory(3, 73)).await;
    let token = "webhook-token-0123456789abcdef";
    set_webhook_token(&stack, &tenant, token).await;
    // Both events arrive at one moment, so within one debounce window whatever its length.
    let deps = WebhookDeps {
        configs: &stack.deps.store,
        secrets: &stack.deps.secrets,
        events: &stack.deps.store,
        jobs: &stack.deps.jobs,
        misses: &stack.misses,
        now: Utc::now(),
    };

    let first = webhook::handle(&deps, delivery(&tenant, token, &company_event(1))).await;
    assert_eq!(first.status, 202, "{}", first.body);
    let running = stack.receive_exactly(1).await;
    assert_eq!(job_of(&running[0]).target, JobTarget::Everyone);
    // The worker takes the job and its run reads Personio as it is now; the message stays in
    // flight until Lambda's event source deletes it after the run, as in AWS.
    let event = stack.sqs_event(&[&running[0]]);
    let response = worker::handle(&stack.worker(), event, None).await;
    assert!(response.batch_item_failures.is_empty());

    // A change after that read is not in the run: it needs a run of its own.
    let second = webhook::handle(&deps, delivery(&tenant, token, &company_event(2))).await;
    assert_eq!(second.status, 202, "{}", second.body);
    // The first run ends; FIFO hands out the tenant's next message only after that.
    stack.settle(&[&running[0]], &response).await;
    let queued = stack.receive_exactly(1).await;
    assert_eq!(job_of(&queued[0]).target, JobTarget::Everyone);
}

#[tokio::test]
async fn a_person_updated_delivery_reaches_the_destination_through_the_queue_and_the_worker() {
    let stack = Stack::new().await;
    let tenant = Tenant::onboard(&stack, Spec::new(20, 71)).await;
    let token = "webhook-token-0123456789abcdef";
    let secret = serde_json::json!({ "token": token, "company_id": "4711" }).to_string();
    stack
        .deps
        .secrets
        .put_webhook_token(&tenant.id, &SecretString::from(secret))
        .await
        .expect("store the webhook secret");

    // A first full run links everyone.
    tenant
        .enqueue(&stack, sync_core::history::Trigger::Schedule, "first")
        .await;
    let first = stack.receive_exactly(1).await;
    assert!(stack
        .deliver(&[&first[0]], None)
        .await
        .batch_item_failures
        .is_empty());
    let person = test_support::personio::first_with_status(&tenant.fake.company(), "active");
    let mails_before = stack.mail_to(&tenant.admins).await.len();

    tenant.fake.update(|company| {
        company.employee_mut(person).expect("person").position = "Head of Webhooks".into();
    });
    let deps = WebhookDeps {
        configs: &stack.deps.store,
        secrets: &stack.deps.secrets,
        events: &stack.deps.store,
        jobs: &stack.deps.jobs,
        misses: &stack.misses,
        now: Utc::now(),
    };
    let body = body(person);
    let started = Instant::now();
    let answer = webhook::handle(&deps, delivery(&tenant, token, &body)).await;
    let answered = started.elapsed();
    assert_eq!(answer.status, 202, "{}", answer.body);

    // Personio retries the same body: a duplicate, nothing more queued.
    let again = webhook::handle(&deps, delivery(&tenant, token, &body)).await;
    assert_eq!(again.status, 200, "{}", again.body);

    let messages = stack.receive_exactly(1).await;
    let response = stack.deliver(&[&messages[0]], None).await;
    assert!(response.batch_item_failures.is_empty());
    let reached = started.elapsed();

    let users = tenant.users().await;
    let external = key(person).external_id();
    let user = users
        .iter()
        .find(|user| user.external_id.as_deref() == Some(external.as_str()))
        .expect("the person's user");
    assert_eq!(user.body["title"], "Head of Webhooks");
    let runs = tenant.runs(&stack).await;
    let run = runs
        .iter()
        .find(|run| matches!(run.trigger, sync_core::history::Trigger::Webhook { .. }))
        .expect("the webhook's run");
    assert_eq!(run.status, RunStatus::Completed);
    assert_eq!(run.counts.updated, 1);
    let mails = stack.mail_to(&tenant.admins).await;
    assert_eq!(
        mails.len(),
        mails_before + 1,
        "one summary for the webhook's run"
    );
    let summary = mails.last().expect("summary").text();
    assert!(summary.contains("1 updated"), "{summary}");
    assert!(summary.contains("title"), "{summary}");
    println!(
        "webhook through moto: handler answered in {:.1} ms; the destination had the change {:.0} ms after the delivery",
        answered.as_secs_f64() * 1000.0,
        reached.as_secs_f64() * 1000.0
    );
}

/// The webhook handler as the Lambda wires it, on `stack`'s adapters.
fn receiver(stack: &Stack) -> WebhookDeps<'_> {
    WebhookDeps {
        configs: &stack.deps.store,
        secrets: &stack.deps.secrets,
        events: &stack.deps.store,
        jobs: &stack.deps.jobs,
        misses: &stack.misses,
        now: Utc::now(),
    }
}

#[tokio::test]
async fn a_delivery_from_a_company_the_secret_does_not_pin_is_refused_and_queues_nothing() {
    let stack = Stack::new().await;
    let tenant = Tenant::onboard(&stack, Spec::directory(0, 72)).await;
    let token = "webhook-token-pinned-0123456789";
    let secret = serde_json::json!({ "token": token, "company_id": "4711" }).to_string();
    stack
        .deps
        .secrets
        .put_webhook_token(&tenant.id, &SecretString::from(secret))
        .await
        .expect("store the webhook secret");

    let foreign = webhook::handle(
        &receiver(&stack),
        delivery(&tenant, token, &body_from("9999", 7)),
    )
    .await;
    assert_eq!(
        (foreign.status, foreign.body.as_str()),
        (400, r#"{"error":"company_mismatch"}"#)
    );
    assert!(
        stack.receive(10, 0).await.is_empty(),
        "nothing may be queued for another company"
    );
    let own = webhook::handle(
        &receiver(&stack),
        delivery(&tenant, token, &body_from("4711", 7)),
    )
    .await;
    assert_eq!(own.status, 202, "{}", own.body);
}

#[tokio::test]
async fn a_person_event_of_a_tenant_with_several_accounts_queues_one_person_of_the_pinned_account()
{
    let stack = Stack::new().await;
    let mut spec = Spec::directory(0, 73);
    spec.extra =
        "[[personio.accounts]]\nname = \"at\"\nbase_url = \"http://127.0.0.1:9\"\n".to_owned();
    let tenant = Tenant::onboard(&stack, spec).await;
    assert_eq!(tenant.config.personio.accounts.len(), 2);
    let token = "webhook-token-accounts-0123456789";
    let secret = serde_json::json!({
        "token": token,
        "companies": { "4711": "main", "4712": "at" },
    })
    .to_string();
    stack
        .deps
        .secrets
        .put_webhook_token(&tenant.id, &SecretString::from(secret))
        .await
        .expect("store the webhook secret");

    let answer = webhook::handle(
        &receiver(&stack),
        delivery(&tenant, token, &body_from("4712", 1042)),
    )
    .await;
    assert_eq!(answer.status, 202, "{}", answer.body);
    let messages = stack.receive_exactly(1).await;
    let at = AccountId::parse("at").expect("account id");
    assert_eq!(
        job_of(&messages[0]).target,
        JobTarget::Person {
            person: PersonKey::new(at, PersonioId::new(1042))
        }
    );
}
