//! The AWS SDK, as `sync-aws` configures it, classifies the throttling answers the fault proxy
//! injects as retryable: DynamoDB's `ThrottlingException` (HTTP 400, awsJson1_0) and SES's
//! `Throttling` (HTTP 400, awsQuery) are retried until the call succeeds, and an
//! SES `MessageRejected` is not retried and reaches the caller without the rejected address;
//! Secrets Manager's and SQS's server errors are retried too, and once they outlast the SDK's
//! attempts they reach the caller as errors that say the service is unavailable.
//! Without this, the randomised AWS scenarios would test the proxy's answers, not the retries.

use crate::support::aws::{self, AwsStack};
use crate::support::fault_proxy::{Fault, Matcher, Pick, Rule};
use axum::http::Method;
use sync_core::email::Email;
use sync_core::ports::{ConfigStore, Job, JobTarget, Jobs, Mailer, Secrets};

async fn stack() -> AwsStack {
    let fake = fake_personio::FakePersonio::start(
        test_support::personio::company(5),
        test_support::personio::fake_config(),
    )
    .await
    .expect("start the fake Personio");
    AwsStack::start(&fake, 7).await
}

fn twice(matcher: Matcher, fault: Fault) -> Rule {
    Rule {
        matcher,
        pick: Pick::Nth { first: 1, every: 1 },
        fault,
        budget: 2,
    }
}

fn summary(stack: &AwsStack) -> Email {
    Email {
        from: "sync@vendor.example".to_owned(),
        to: stack.admins.clone(),
        subject: "[personio-sync] retry check".to_owned(),
        text: "text".to_owned(),
        html: "<p>html</p>".to_owned(),
        attachments: Vec::new(),
    }
}

#[tokio::test]
async fn dynamodb_throttling_is_retried_until_the_call_succeeds() {
    let stack = stack().await;
    stack.proxy.arm(vec![twice(
        Matcher {
            target: Some("DynamoDB_20120810."),
            ..Matcher::default()
        },
        Fault::Refuse(aws::dynamodb_throttling()),
    )]);
    let config = stack.deps.store.config(&stack.tenant).await;
    assert!(
        config.as_ref().is_ok_and(Option::is_some),
        "{:?}",
        config.err()
    );
    assert_eq!(stack.proxy.injected(), 2, "both throttles were answered");
}

#[tokio::test]
async fn ses_throttling_is_retried_until_the_mail_goes_out() {
    let stack = stack().await;
    stack.proxy.arm(vec![twice(
        Matcher {
            method: Some(Method::POST),
            target: Some("SendRawEmail"),
            ..Matcher::default()
        },
        Fault::Refuse(aws::ses_throttling()),
    )]);
    let sent = stack.deps.mailer.send(&summary(&stack)).await;
    assert!(sent.is_ok(), "{sent:?}");
    assert_eq!(stack.proxy.injected(), 2);
}

#[tokio::test]
async fn a_rejected_recipient_is_not_retried_and_its_address_is_not_repeated() {
    let stack = stack().await;
    let admin = stack.admins[0].clone();
    stack.proxy.arm(vec![twice(
        Matcher {
            method: Some(Method::POST),
            target: Some("SendRawEmail"),
            ..Matcher::default()
        },
        Fault::Refuse(aws::ses_rejection(&admin)),
    )]);
    let error = stack
        .deps
        .mailer
        .send(&summary(&stack))
        .await
        .expect_err("SES rejected the recipient");
    assert_eq!(stack.proxy.injected(), 1, "a rejection is final");
    assert!(error.detail.contains("MessageRejected"), "{error}");
    assert!(!error.to_string().contains(&admin), "{error}");
}

/// `budget` consecutive answers of `canned` to requests whose `X-Amz-Target` contains `target`.
fn failing(target: &'static str, canned: crate::support::fault_proxy::Canned, budget: u32) -> Rule {
    Rule {
        matcher: Matcher {
            target: Some(target),
            ..Matcher::default()
        },
        pick: Pick::Nth { first: 1, every: 1 },
        fault: Fault::Refuse(canned),
        budget,
    }
}

#[tokio::test]
async fn secrets_manager_errors_are_retried_and_past_the_attempts_reported_unavailable() {
    let stack = stack().await;
    stack.deps.secrets.forget(&stack.tenant).await;
    stack.proxy.arm(vec![failing(
        "secretsmanager.GetSecretValue",
        aws::secrets_unavailable(),
        2,
    )]);
    let token = stack.deps.secrets.destination_token(&stack.tenant).await;
    assert!(token.is_ok(), "{:?}", token.err());
    assert_eq!(stack.proxy.injected(), 2);

    stack.deps.secrets.forget(&stack.tenant).await;
    stack.proxy.reset_counts();
    stack.proxy.arm(vec![failing(
        "secretsmanager.GetSecretValue",
        aws::secrets_unavailable(),
        100,
    )]);
    let error = stack
        .deps
        .secrets
        .destination_token(&stack.tenant)
        .await
        .expect_err("Secrets Manager kept failing");
    assert!(
        matches!(error, sync_core::ports::SecretsError::Unavailable { .. }),
        "{error}"
    );
    assert!(stack.proxy.injected() > 1, "the SDK retried");
}

#[tokio::test]
async fn sqs_errors_are_retried_and_past_the_attempts_reach_the_caller() {
    let stack = stack().await;
    let job = Job {
        tenant: stack.tenant.clone(),
        target: JobTarget::Everyone,
        trigger: sync_core::history::Trigger::Manual,
        dry_run: false,
        run_id: None,
    };
    stack.proxy.arm(vec![failing(
        "AmazonSQS.SendMessage",
        aws::sqs_unavailable(),
        2,
    )]);
    let queued = stack.deps.jobs.enqueue(&job, "retried").await;
    assert!(queued.is_ok(), "{queued:?}");
    assert_eq!(stack.proxy.injected(), 2);

    stack.proxy.reset_counts();
    stack.proxy.arm(vec![failing(
        "AmazonSQS.SendMessage",
        aws::sqs_unavailable(),
        100,
    )]);
    let error = stack.deps.jobs.enqueue(&job, "refused").await;
    assert!(error.is_err(), "SQS kept failing");
    assert!(stack.proxy.injected() > 1, "the SDK retried");
}
