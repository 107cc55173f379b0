//! `Mailer` on SES `SendRawEmail` and `Jobs` on SQS FIFO (moto): the raw MIME that reaches SES, read back
//! from moto and parsed; jobs grouped by tenant and deduplicated.

mod support;

use aws_sdk_sqs::types::{MessageSystemAttributeName, QueueAttributeName};
use std::collections::HashMap;
use sync_aws::{parse_job, SesMailer, SqsJobs};
use sync_core::email::{Attachment, Email};
use sync_core::history::Trigger;
use sync_core::ids::{AccountId, PersonKey, PersonioId};
use sync_core::ports::{BatchJob, Job, JobTarget, Jobs, Mailer};

const CSV: &str = "person,action,message,hint\nmain:7,create,the destination refused the record,check the mapping\n";

fn summary(from: &str, to: &[&str]) -> Email {
    Email {
        from: from.to_owned(),
        to: to.iter().map(|address| (*address).to_owned()).collect(),
        subject: "personio-sync: 3 created, 1 error".into(),
        text: "3 users created, 1 error".into(),
        html: "<p>3 users created, 1 error</p>".into(),
        attachments: vec![Attachment {
            filename: "errors.csv".into(),
            content_type: "text/csv".into(),
            bytes: CSV.as_bytes().to_vec(),
        }],
    }
}

async fn verified_sender(client: &aws_sdk_ses::Client) -> String {
    let sender = format!("{}@vendor.example", support::unique("sync"));
    client
        .verify_email_identity()
        .email_address(&sender)
        .send()
        .await
        .unwrap();
    sender
}

#[tokio::test]
async fn a_summary_reaches_ses_as_raw_mime_with_its_attachment() {
    let deps = support::deps_with("unused").await;
    let sender = verified_sender(&deps.clients.ses).await;
    let recipient = format!("{}@customer.example", support::unique("admin"));
    let mailer = SesMailer::new(deps.clients.ses.clone());

    let email = summary(&sender, &[&recipient, "second-admin@customer.example"]);
    mailer.send(&email).await.unwrap();

    let sent = support::sent_mail_to(&recipient).await;
    assert_eq!(sent.len(), 1, "one message to this test's recipient");
    let message = &sent[0].message;
    assert_eq!(message.header("subject"), Some(email.subject.as_str()));
    assert!(message
        .header("from")
        .is_some_and(|from| from.contains(&sender)));
    assert!(message
        .header("to")
        .is_some_and(|to| to.contains(&recipient)));
    let leaves = message.leaves();
    let csv = leaves
        .iter()
        .find(|part| part.filename().as_deref() == Some("errors.csv"))
        .expect("errors.csv is attached");
    assert!(csv
        .header("content-type")
        .is_some_and(|t| t.starts_with("text/csv")));
    assert_eq!(
        String::from_utf8(csv.decoded())
            .unwrap()
            .replace("\r\n", "\n"),
        CSV
    );
    assert!(leaves.iter().any(|part| part
        .header("content-type")
        .is_some_and(|t| t.starts_with("text/html"))));
}

#[tokio::test]
async fn an_email_without_recipients_is_refused_before_ses() {
    let deps = support::deps_with("unused").await;
    let mailer = SesMailer::new(deps.clients.ses.clone());
    let err = mailer
        .send(&summary("sync@vendor.example", &[]))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("no recipients"), "{err}");
}

#[tokio::test]
async fn a_refused_send_reports_the_ses_code_and_no_address() {
    let deps = support::deps_with("unused").await;
    let mailer = SesMailer::new(deps.clients.ses.clone());
    let sender = format!("{}@unverified.example", support::unique("nobody"));
    let recipient = format!("{}@customer.example", support::unique("admin"));
    let err = mailer
        .send(&summary(&sender, &[&recipient]))
        .await
        .unwrap_err();
    let text = err.to_string();
    assert!(text.contains("MessageRejected"), "{text}");
    assert!(
        !text.contains(&sender) && !text.contains(&recipient),
        "{text}"
    );
    assert!(support::sent_mail_to(&recipient).await.is_empty());
}

fn job(tenant: &str, person: Option<u64>) -> Job {
    Job {
        tenant: sync_core::ids::TenantId::parse(tenant).unwrap(),
        target: match person {
            None => JobTarget::Everyone,
            Some(id) => JobTarget::Person {
                person: PersonKey::new(AccountId::default(), PersonioId::new(id)),
            },
        },
        trigger: match person {
            None => Trigger::Schedule,
            Some(_) => Trigger::Webhook {
                event: "person.updated".into(),
            },
        },
        dry_run: false,
        run_id: None,
    }
}

#[tokio::test]
async fn jobs_reach_the_fifo_queue_grouped_by_tenant_and_deduplicated() {
    let deps = support::deps_with("unused").await;
    let sqs = &deps.clients.sqs;
    let queue_url = fifo_queue(sqs).await;
    let jobs = SqsJobs::new(sqs.clone(), &queue_url);

    let (acme, globex) = (support::tenant(), support::tenant());
    let scheduled = job(acme.as_str(), None);
    let webhook = job(globex.as_str(), Some(42));
    // The scheduler fires twice for the same slot: the second send collapses into the first.
    let slot = format!("schedule:{acme}:2026-11-23T10:00Z");
    jobs.enqueue(&scheduled, &slot).await.unwrap();
    jobs.enqueue(&scheduled, &slot).await.unwrap();
    jobs.enqueue(&webhook, &format!("webhook:{}", "x".repeat(300)))
        .await
        .unwrap();

    let received = drain(sqs, &queue_url).await;
    assert_eq!(received.len(), 2, "one group per tenant");
    assert_eq!(received[acme.as_str()], vec![scheduled]);
    assert_eq!(received[globex.as_str()], vec![webhook]);
}

/// A new FIFO queue of this test's own; its URL.
async fn fifo_queue(sqs: &aws_sdk_sqs::Client) -> String {
    sqs.create_queue()
        .queue_name(format!("{}.fifo", support::unique("jobs")))
        .attributes(QueueAttributeName::FifoQueue, "true")
        .send()
        .await
        .unwrap()
        .queue_url
        .expect("queue URL")
}

/// Receives and deletes every message until a receive comes back empty (a duplicate in a FIFO
/// group only becomes visible after its predecessor is deleted); the jobs per group.
async fn drain(sqs: &aws_sdk_sqs::Client, queue_url: &str) -> HashMap<String, Vec<Job>> {
    let mut received: HashMap<String, Vec<Job>> = HashMap::new();
    loop {
        let batch = sqs
            .receive_message()
            .queue_url(queue_url)
            .max_number_of_messages(10)
            .message_system_attribute_names(MessageSystemAttributeName::MessageGroupId)
            .send()
            .await
            .unwrap();
        let messages = batch.messages.unwrap_or_default();
        if messages.is_empty() {
            return received;
        }
        for message in messages {
            let group = message
                .attributes
                .as_ref()
                .and_then(|attributes| attributes.get(&MessageSystemAttributeName::MessageGroupId))
                .cloned()
                .expect("FIFO messages carry their group");
            let job = parse_job(message.body.as_deref().unwrap_or_default()).unwrap();
            received.entry(group).or_default().push(job);
            sqs.delete_message()
                .queue_url(queue_url)
                .receipt_handle(message.receipt_handle.unwrap_or_default())
                .send()
                .await
                .unwrap();
        }
    }
}

#[tokio::test]
async fn a_batch_of_jobs_reaches_the_queue_in_batches_each_once() {
    let deps = support::deps_with("unused").await;
    let sqs = &deps.clients.sqs;
    let queue_url = fifo_queue(sqs).await;
    let jobs = SqsJobs::new(sqs.clone(), &queue_url);

    // 23 tenants: three SendMessageBatch calls of 10, 10 and 3.
    let tenants: Vec<_> = (0..23).map(|_| support::tenant()).collect();
    let batch: Vec<BatchJob> = tenants
        .iter()
        .map(|tenant| BatchJob {
            job: job(tenant.as_str(), None),
            dedupe_key: format!("schedule:{tenant}:2026-11-23T10:00:00Z"),
        })
        .collect();
    let outcomes = jobs.enqueue_batch(&batch).await;
    assert_eq!(outcomes.len(), 23);
    assert!(outcomes.iter().all(Result::is_ok), "{outcomes:?}");
    // The same batch again, as a retried tick sends it: every job collapses into its first.
    let again = jobs.enqueue_batch(&batch[..12]).await;
    assert!(again.iter().all(Result::is_ok), "{again:?}");

    let received = drain(sqs, &queue_url).await;
    assert_eq!(received.len(), 23, "one group per tenant");
    for entry in &batch {
        assert_eq!(
            received[entry.job.tenant.as_str()],
            vec![entry.job.clone()],
            "tenant {}",
            entry.job.tenant
        );
    }
    assert!(jobs.enqueue_batch(&[]).await.is_empty());
}

#[tokio::test]
async fn a_batch_to_a_missing_queue_fails_every_job_with_what_to_check() {
    let deps = support::deps_with("unused").await;
    let jobs = SqsJobs::new(
        deps.clients.sqs.clone(),
        format!("{}/123456789012/no-such-queue.fifo", support::moto().url),
    );
    let batch: Vec<BatchJob> = (0..12)
        .map(|n| BatchJob {
            job: job("acme", None),
            dedupe_key: format!("k{n}"),
        })
        .collect();
    let outcomes = jobs.enqueue_batch(&batch).await;
    assert_eq!(outcomes.len(), 12);
    for outcome in outcomes {
        let err = outcome.expect_err("no queue");
        assert!(err.to_string().contains("check JOBS_QUEUE_URL"), "{err}");
    }
}

#[tokio::test]
async fn a_missing_queue_is_reported_with_what_to_check() {
    let deps = support::deps_with("unused").await;
    let jobs = SqsJobs::new(
        deps.clients.sqs.clone(),
        format!("{}/123456789012/no-such-queue.fifo", support::moto().url),
    );
    let err = jobs.enqueue(&job("acme", None), "k").await.unwrap_err();
    assert!(err.to_string().contains("could not queue the job"), "{err}");
}
