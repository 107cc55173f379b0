//! [`SqsJobs`]: the `Jobs` port on an SQS FIFO queue, and [`parse_job`] for the worker that
//! receives them.
//!
//! `MessageGroupId` is the tenant id, so a tenant's runs are serialised while tenants run in
//! parallel. `MessageDeduplicationId` is a SHA-256 of the caller's dedupe key: SQS allows at most
//! 128 characters of `a-z A-Z 0-9` and punctuation, and the key may hold anything (a webhook body
//! hash, a schedule slot). Identical keys within SQS's 5-minute window collapse into one job.
//!
//! Many jobs at once (a scheduler tick) go out with `SendMessageBatch`, ten a call, several calls
//! at once; SQS answers each entry on its own, so one refused job does not fail its neighbours.

use async_trait::async_trait;
use aws_sdk_sqs::error::ProvideErrorMetadata;
use aws_sdk_sqs::types::{
    BatchResultErrorEntry, SendMessageBatchRequestEntry, SendMessageBatchResultEntry,
};
use aws_sdk_sqs::Client;
use futures::stream::{self, StreamExt};
use sha2::{Digest, Sha256};
use std::fmt::Write as _;
use sync_core::ports::{BatchJob, Job, Jobs, JobsError};

/// Queues jobs on an SQS FIFO queue.
#[derive(Clone, Debug)]
pub struct SqsJobs {
    client: Client,
    queue_url: String,
}

impl SqsJobs {
    /// Jobs sent to the FIFO queue at `queue_url`.
    pub fn new(client: Client, queue_url: impl Into<String>) -> Self {
        Self {
            client,
            queue_url: queue_url.into(),
        }
    }

    /// The queue's URL.
    pub fn queue_url(&self) -> &str {
        &self.queue_url
    }

    /// The SDK client.
    pub fn client(&self) -> &Client {
        &self.client
    }
}

/// The deduplication id for `dedupe_key`: 64 lower-case hex characters.
pub fn deduplication_id(dedupe_key: &str) -> String {
    Sha256::digest(dedupe_key.as_bytes())
        .iter()
        .fold(String::with_capacity(64), |mut hex, byte| {
            let _ = write!(hex, "{byte:02x}");
            hex
        })
}

/// An SQS message body that is not a job.
#[derive(Debug, thiserror::Error)]
#[error("the queue message is not a personio-sync job ({detail}); it was sent by something else or by an incompatible version, and is dropped")]
pub struct JobParseError {
    /// What did not parse.
    pub detail: String,
}

/// Parses a job from the body of an SQS message, as [`SqsJobs`] sent it.
pub fn parse_job(body: &str) -> Result<Job, JobParseError> {
    // A job holds ids only (tenant, account, employee id), so serde's message is safe to show.
    serde_json::from_str(body).map_err(|err| JobParseError {
        detail: err.to_string(),
    })
}

/// Messages per `SendMessageBatch`: the most SQS takes in one call.
pub const SEND_BATCH: usize = 10;
/// `SendMessageBatch` calls in flight at once: a tick of 1,000 tenants is 100 calls, sent in
/// about 13 round trips rather than 100, without opening a connection per call.
const BATCHES_IN_FLIGHT: usize = 8;

/// The message body of `job`.
fn body_of(job: &Job) -> Result<String, JobsError> {
    serde_json::to_string(job).map_err(|err| JobsError {
        detail: format!("could not encode the job: {err}"),
    })
}

/// What to check when SQS answers with `code`.
fn hint(code: Option<&str>) -> &'static str {
    match code {
        Some("AWS.SimpleQueueService.NonExistentQueue" | "QueueDoesNotExist") => {
            "; the queue does not exist: check JOBS_QUEUE_URL"
        }
        Some("AccessDenied" | "AccessDeniedException") => {
            "; the function's role may not send to this queue"
        }
        Some("MissingParameter" | "InvalidParameterValue") => {
            "; the queue must be a FIFO queue (its name ends in .fifo)"
        }
        _ => "",
    }
}

/// A call SQS refused as a whole.
fn refused<E, R>(err: &aws_sdk_sqs::error::SdkError<E, R>) -> JobsError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    JobsError {
        detail: format!(
            "SQS refused the message ({}){}",
            aws_sdk_sqs::error::DisplayErrorContext(err),
            hint(err.code())
        ),
    }
}

/// The outcome of each entry of one `SendMessageBatch` (entry ids are the positions in `chunk`):
/// queued when SQS lists it as successful, refused with SQS's code when it lists it as failed,
/// and an error when it lists it as neither, since then it may not be queued.
fn batch_outcomes(
    chunk: &[BatchJob],
    successful: &[SendMessageBatchResultEntry],
    failed: &[BatchResultErrorEntry],
) -> Vec<Result<(), JobsError>> {
    chunk
        .iter()
        .enumerate()
        .map(|(n, entry)| {
            let id = n.to_string();
            if let Some(sent) = successful.iter().find(|sent| sent.id == id) {
                tracing::info!(
                    tenant_id = %entry.job.tenant,
                    message_id = %sent.message_id,
                    dry_run = entry.job.dry_run,
                    "job queued"
                );
                return Ok(());
            }
            let detail = match failed.iter().find(|failure| failure.id == id) {
                Some(failure) => format!(
                    "SQS refused the message ({}{}: {}){}",
                    failure.code,
                    if failure.sender_fault {
                        ", a fault of the request"
                    } else {
                        ", a fault on SQS's side: try again"
                    },
                    failure.message.as_deref().unwrap_or("no message"),
                    hint(Some(failure.code.as_str()))
                ),
                None => "SQS reported neither success nor failure for the message, so it may not \
                         be queued; send it again"
                    .to_owned(),
            };
            tracing::warn!(tenant_id = %entry.job.tenant, error = %detail, "job not queued");
            Err(JobsError { detail })
        })
        .collect()
}

impl SqsJobs {
    /// One `SendMessageBatch` of at most [`SEND_BATCH`] jobs.
    async fn send_batch(&self, chunk: &[BatchJob]) -> Vec<Result<(), JobsError>> {
        let mut unsent: Vec<Option<JobsError>> = Vec::with_capacity(chunk.len());
        let mut entries = Vec::with_capacity(chunk.len());
        for (n, entry) in chunk.iter().enumerate() {
            let built = body_of(&entry.job).and_then(|body| {
                SendMessageBatchRequestEntry::builder()
                    .id(n.to_string())
                    .message_body(body)
                    .message_group_id(entry.job.tenant.as_str())
                    .message_deduplication_id(deduplication_id(&entry.dedupe_key))
                    .build()
                    .map_err(|err| JobsError {
                        detail: format!("could not build the message: {err}"),
                    })
            });
            match built {
                Ok(message) => {
                    entries.push(message);
                    unsent.push(None);
                }
                Err(err) => unsent.push(Some(err)),
            }
        }
        let answer = if entries.is_empty() {
            Ok((Vec::new(), Vec::new()))
        } else {
            self.client
                .send_message_batch()
                .queue_url(&self.queue_url)
                .set_entries(Some(entries))
                .send()
                .await
                .map(|output| (output.successful, output.failed))
                .map_err(|err| refused(&err))
        };
        let outcomes = match &answer {
            Ok((successful, failed)) => batch_outcomes(chunk, successful, failed),
            Err(whole) => chunk
                .iter()
                .map(|_| {
                    Err(JobsError {
                        detail: whole.detail.clone(),
                    })
                })
                .collect(),
        };
        // A job that could not even be encoded keeps its own error.
        outcomes
            .into_iter()
            .zip(unsent)
            .map(|(outcome, unsent)| match unsent {
                Some(err) => Err(err),
                None => outcome,
            })
            .collect()
    }
}

#[async_trait]
impl Jobs for SqsJobs {
    async fn enqueue(&self, job: &Job, dedupe_key: &str) -> Result<(), JobsError> {
        let body = body_of(job)?;
        let sent = self
            .client
            .send_message()
            .queue_url(&self.queue_url)
            .message_body(body)
            .message_group_id(job.tenant.as_str())
            .message_deduplication_id(deduplication_id(dedupe_key))
            .send()
            .await;
        match sent {
            Ok(output) => {
                tracing::info!(
                    tenant_id = %job.tenant,
                    message_id = output.message_id.as_deref().unwrap_or("-"),
                    dry_run = job.dry_run,
                    "job queued"
                );
                Ok(())
            }
            Err(err) => Err(refused(&err)),
        }
    }

    /// `SendMessageBatch`, [`SEND_BATCH`] jobs a call, [`BATCHES_IN_FLIGHT`] calls at once. A
    /// call that fails as a whole fails its jobs only; an entry SQS lists as failed fails alone.
    async fn enqueue_batch(&self, jobs: &[BatchJob]) -> Vec<Result<(), JobsError>> {
        // `buffered`, not `buffer_unordered`: the outcomes come back in the order of the jobs.
        // The calls are made up front (nothing runs until polled) so that the stream holds plain
        // futures: a closure over the borrowed chunks would not be `Send` for every lifetime.
        let calls: Vec<_> = jobs
            .chunks(SEND_BATCH)
            .map(|chunk| self.send_batch(chunk))
            .collect();
        let batches: Vec<Vec<Result<(), JobsError>>> = stream::iter(calls)
            .buffered(BATCHES_IN_FLIGHT)
            .collect()
            .await;
        batches.into_iter().flatten().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sync_core::history::Trigger;
    use sync_core::ids::TenantId;
    use sync_core::ports::JobTarget;

    #[test]
    fn deduplication_ids_are_short_hex_and_stable() {
        let long_key = "webhook:".repeat(100);
        let id = deduplication_id(&long_key);
        assert_eq!(id.len(), 64);
        assert!(id.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_eq!(id, deduplication_id(&long_key));
        assert_ne!(id, deduplication_id("schedule:acme:2026-11-23T10:00"));
    }

    #[test]
    fn a_job_round_trips_through_its_message_body() {
        let job = Job {
            tenant: TenantId::parse("acme").unwrap(),
            target: JobTarget::Everyone,
            trigger: Trigger::Schedule,
            dry_run: false,
            run_id: None,
        };
        let body = serde_json::to_string(&job).unwrap();
        assert_eq!(parse_job(&body).unwrap(), job);
    }

    fn batch_job(tenant: &str) -> BatchJob {
        BatchJob {
            job: Job {
                tenant: TenantId::parse(tenant).unwrap(),
                target: JobTarget::Everyone,
                trigger: Trigger::Schedule,
                dry_run: false,
                run_id: None,
            },
            dedupe_key: format!("schedule:{tenant}:2026-11-23T10:00:00Z"),
        }
    }

    #[test]
    fn each_entry_of_a_batch_gets_its_own_outcome() {
        let chunk = [batch_job("acme"), batch_job("globex"), batch_job("initech")];
        let sent = SendMessageBatchResultEntry::builder()
            .id("0")
            .message_id("m-0")
            .md5_of_message_body("d41d8cd98f00b204e9800998ecf8427e")
            .build()
            .unwrap();
        let throttled = BatchResultErrorEntry::builder()
            .id("1")
            .sender_fault(false)
            .code("InternalError")
            .message("try later")
            .build()
            .unwrap();
        // Entry 2 is in neither list.
        let outcomes = batch_outcomes(&chunk, &[sent], &[throttled]);
        assert_eq!(outcomes.len(), 3);
        assert!(outcomes[0].is_ok());
        let refused = outcomes[1].as_ref().unwrap_err().to_string();
        assert!(refused.contains("InternalError"), "{refused}");
        assert!(refused.contains("try again"), "{refused}");
        let unknown = outcomes[2].as_ref().unwrap_err().to_string();
        assert!(unknown.contains("neither success nor failure"), "{unknown}");
    }

    #[test]
    fn a_refused_entry_keeps_the_hint_of_its_code() {
        let chunk = [batch_job("acme")];
        let failed = BatchResultErrorEntry::builder()
            .id("0")
            .sender_fault(true)
            .code("InvalidParameterValue")
            .build()
            .unwrap();
        let outcome = batch_outcomes(&chunk, &[], &[failed]);
        let error = outcome[0].as_ref().unwrap_err().to_string();
        assert!(error.contains("must be a FIFO queue"), "{error}");
    }

    #[test]
    fn a_foreign_message_is_refused_with_what_is_wrong() {
        let err = parse_job(r#"{"hello":"world"}"#).unwrap_err();
        assert!(err.to_string().contains("missing field"), "{err}");
        let err = parse_job("not json").unwrap_err();
        assert!(err.to_string().contains("not a personio-sync job"), "{err}");
    }
}
