//! [`SqsJobs`]: the `Jobs` port on an SQS FIFO queue, and [`parse_job`] for the worker that
//! receives them.
//!
//! `MessageGroupId` is the tenant id, so a tenant's runs are serialised while tenants run in
//! parallel. `MessageDeduplicationId` is a SHA-256 of the caller's dedupe key: SQS allows at most
//! 128 characters of `a-z A-Z 0-9` and punctuation, and the key may hold anything (a webhook body
//! hash, a schedule slot). Identical keys within SQS's 5-minute window collapse into one job.

use async_trait::async_trait;
use aws_sdk_sqs::error::ProvideErrorMetadata;
use aws_sdk_sqs::Client;
use sha2::{Digest, Sha256};
use std::fmt::Write as _;
use sync_core::ports::{Job, Jobs, JobsError};

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

#[async_trait]
impl Jobs for SqsJobs {
    async fn enqueue(&self, job: &Job, dedupe_key: &str) -> Result<(), JobsError> {
        let body = serde_json::to_string(job).map_err(|err| JobsError {
            detail: format!("could not encode the job: {err}"),
        })?;
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
            Err(err) => {
                let hint = match err.code() {
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
                };
                Err(JobsError {
                    detail: format!(
                        "SQS refused the message ({}){hint}",
                        aws_sdk_sqs::error::DisplayErrorContext(&err)
                    ),
                })
            }
        }
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

    #[test]
    fn a_foreign_message_is_refused_with_what_is_wrong() {
        let err = parse_job(r#"{"hello":"world"}"#).unwrap_err();
        assert!(err.to_string().contains("missing field"), "{err}");
        let err = parse_job("not json").unwrap_err();
        assert!(err.to_string().contains("not a personio-sync job"), "{err}");
    }
}
