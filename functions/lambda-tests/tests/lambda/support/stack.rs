//! [`Stack`]: what `template.yaml` deploys, on moto, for one test: its own DynamoDB table, SQS
//! FIFO jobs queue and verified SES sender, and every adapter built the way the Lambdas build them
//! (`sync_aws::Deps` from an `AwsConfig` read through `AwsConfig::from_lookup`).
//!
//! It also plays the part of Lambda's SQS event source mapping: receive messages, hand them to
//! `worker::handle` as the `SqsEvent` Lambda would build, then delete the ones that succeeded and
//! release the batch item failures.

use super::template::FunctionSettings;
use aws_lambda_events::sqs::{SqsBatchResponse, SqsEvent};
use aws_sdk_sqs::types::{Message, MessageSystemAttributeName, QueueAttributeName};
use chrono::{DateTime, Utc};
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::{Duration, Instant};
use sync_aws::{create_table, AwsConfig, Deps};
use sync_core::ids::TenantId;
use sync_core::ports::{ConfigStore, Job};
use test_support::mail::{self, SentMail};
use test_support::moto::{self, Moto};
use worker::WorkerDeps;

/// The region every stack lives in.
pub const REGION: &str = "eu-central-1";
/// moto's default account.
const ACCOUNT: &str = "123456789012";

/// One test's AWS resources on moto, and the adapters on them.
pub struct Stack {
    /// The moto it lives on.
    pub moto_url: String,
    /// Every adapter, as `Deps::from_env` builds them in a Lambda.
    pub deps: Deps,
    /// The FIFO queue's name (`….fifo`).
    pub queue_name: String,
    /// A verified SES identity tenants send their summaries from.
    pub sender: String,
    /// The webhook receiver's remembered misses, as one warm Lambda keeps them.
    pub misses: webhook::Misses,
}

impl Stack {
    /// A stack on the shared moto.
    pub async fn new() -> Self {
        Self::on(moto::shared()).await
    }

    /// A stack on `moto`: table, FIFO queue and sender of its own.
    pub async fn on(moto: &Moto) -> Self {
        let table = moto::unique("table");
        let queue_name = format!("{}.fifo", moto::unique("jobs"));
        let sender = format!("{}@vendor.example", moto::unique("sync"));
        // The queue URL is only known once the queue exists: a first set of clients creates it.
        let bootstrap = Deps::new(aws_config(&moto.url, &table, "unset", &sender)).await;
        let queue_url = bootstrap
            .clients
            .sqs
            .create_queue()
            .queue_name(&queue_name)
            .attributes(QueueAttributeName::FifoQueue, "true")
            .send()
            .await
            .expect("create the FIFO queue")
            .queue_url
            .expect("a queue URL");
        let deps = Deps::new(aws_config(&moto.url, &table, &queue_url, &sender)).await;
        create_table(&deps.clients.dynamodb, &table)
            .await
            .expect("create the table");
        // moto refuses mail from an unverified sender, as SES does.
        deps.clients
            .ses
            .verify_email_identity()
            .email_address(&sender)
            .send()
            .await
            .expect("verify the sender");
        Self {
            moto_url: moto.url.clone(),
            deps,
            queue_name,
            sender,
            misses: webhook::Misses::default(),
        }
    }

    /// The worker's adapters, wired as `functions/worker/src/main.rs` wires them.
    pub fn worker(&self) -> WorkerDeps<'_> {
        WorkerDeps {
            configs: &self.deps.store,
            store: &self.deps.store,
            secrets: &self.deps.secrets,
            mailer: &self.deps.mailer,
            jobs: &self.deps.jobs,
            events: &self.deps.store,
            // Unlike main.rs: tests about state rather than SCIM keep the app's users in a folder.
            local: Some(&sync_local::Directories),
            progress: &self.deps.store,
            console: None,
            // No picture bucket, as a stack without `PICTURES_BUCKET` (the `pictures` test sets one).
            pictures: None,
        }
    }

    /// The adapters `function` builds at its cold start: this stack's resources with the
    /// function's own environment from `template.yaml`, every client sent to `endpoint` (moto,
    /// or a stand-in for a failing service).
    pub async fn deps_of(&self, function: &FunctionSettings, endpoint: &str) -> Deps {
        Deps::new(function_config(
            &function.environment,
            endpoint,
            &self.deps.config.table_name,
            self.queue_url(),
            &self.sender,
        ))
        .await
    }

    /// This stack's queue and sender with `function`'s adapters on another table, every client
    /// sent to `endpoint`: the simulation keeps each tenant in a table of its own, since moto's
    /// Query reads every item of the table (see `simulation.rs`).
    pub async fn with_table(
        &self,
        table: &str,
        function: &FunctionSettings,
        endpoint: &str,
    ) -> Self {
        let config = function_config(
            &function.environment,
            endpoint,
            table,
            self.queue_url(),
            &self.sender,
        );
        Self {
            moto_url: self.moto_url.clone(),
            deps: Deps::new(config).await,
            queue_name: self.queue_name.clone(),
            sender: self.sender.clone(),
            misses: webhook::Misses::default(),
        }
    }

    /// The queue's URL.
    pub fn queue_url(&self) -> &str {
        &self.deps.config.jobs_queue_url
    }

    fn sqs(&self) -> &aws_sdk_sqs::Client {
        &self.deps.clients.sqs
    }

    /// One `ReceiveMessage` of up to `max` messages, long-polling up to `wait_seconds` for the
    /// first one, with every system attribute (the group id among them).
    pub async fn receive(&self, max: i32, wait_seconds: i32) -> Vec<Message> {
        self.sqs()
            .receive_message()
            .queue_url(self.queue_url())
            .max_number_of_messages(max)
            .wait_time_seconds(wait_seconds)
            .message_system_attribute_names(MessageSystemAttributeName::All)
            .send()
            .await
            .expect("receive from the jobs queue")
            .messages
            .unwrap_or_default()
    }

    /// Receives until `count` messages arrived (each stays in flight), failing after 20 s.
    pub async fn receive_exactly(&self, count: usize) -> Vec<Message> {
        let deadline = Instant::now() + Duration::from_secs(20);
        let mut received: Vec<Message> = Vec::new();
        while received.len() < count {
            assert!(
                Instant::now() < deadline,
                "received {} of {count} messages",
                received.len()
            );
            let max = i32::try_from((count - received.len()).min(10)).unwrap_or(10);
            received.extend(self.receive(max, 1).await);
        }
        assert_eq!(received.len(), count, "more messages than expected");
        received
    }

    /// Sends a message that no personio-sync component wrote.
    pub async fn send_raw(&self, body: &str, group: &str) {
        self.sqs()
            .send_message()
            .queue_url(self.queue_url())
            .message_body(body)
            .message_group_id(group)
            .message_deduplication_id(moto::unique("raw"))
            .send()
            .await
            .expect("send a raw message");
    }

    /// The event Lambda hands the worker for `messages`, as the JSON it sends: real message ids,
    /// receipt handles, bodies and system attributes.
    pub fn sqs_event(&self, messages: &[&Message]) -> SqsEvent {
        let arn = format!("arn:aws:sqs:{REGION}:{ACCOUNT}:{}", self.queue_name);
        let records: Vec<Value> = messages
            .iter()
            .map(|message| {
                let attributes: Map<String, Value> = message
                    .attributes
                    .iter()
                    .flatten()
                    .map(|(name, value)| (name.as_str().to_owned(), Value::from(value.as_str())))
                    .collect();
                json!({
                    "messageId": message.message_id,
                    "receiptHandle": message.receipt_handle,
                    "body": message.body,
                    "attributes": attributes,
                    "messageAttributes": {},
                    "md5OfBody": message.md5_of_body,
                    "eventSource": "aws:sqs",
                    "eventSourceARN": arn,
                    "awsRegion": REGION,
                })
            })
            .collect();
        serde_json::from_value(json!({ "Records": records })).expect("an SqsEvent")
    }

    /// Runs `worker::handle` on `messages` as one batch, then settles them as Lambda's event
    /// source mapping does: successes are deleted, batch item failures become visible again.
    pub async fn deliver(
        &self,
        messages: &[&Message],
        deadline: Option<Instant>,
    ) -> SqsBatchResponse {
        let response = worker::handle(&self.worker(), self.sqs_event(messages), deadline).await;
        self.settle(messages, &response).await;
        response
    }

    /// Deletes the messages that did not fail and releases the ones that did.
    pub async fn settle(&self, messages: &[&Message], response: &SqsBatchResponse) {
        let failed: BTreeSet<&str> = response
            .batch_item_failures
            .iter()
            .map(|failure| failure.item_identifier.as_str())
            .collect();
        for message in messages {
            let handle = message.receipt_handle.clone().unwrap_or_default();
            if failed.contains(message.message_id.as_deref().unwrap_or_default()) {
                self.sqs()
                    .change_message_visibility()
                    .queue_url(self.queue_url())
                    .receipt_handle(handle)
                    .visibility_timeout(0)
                    .send()
                    .await
                    .expect("release a failed message");
            } else {
                self.sqs()
                    .delete_message()
                    .queue_url(self.queue_url())
                    .receipt_handle(handle)
                    .send()
                    .await
                    .expect("delete a processed message");
            }
        }
    }

    /// Every message SES sent with a recipient among `recipients`.
    pub async fn mail_to(&self, recipients: &[String]) -> Vec<SentMail> {
        mail::sent_to(&moto::data_at(&self.moto_url).await, recipients)
    }

    /// The tenants the schedule index says are due at `now`.
    pub async fn due(&self, now: DateTime<Utc>) -> Vec<TenantId> {
        let due = self.deps.store.due(now).await.expect("due tenants");
        due.into_iter().map(|entry| entry.tenant).collect()
    }
}

/// The environment a Lambda of this stack would read, pointed at moto.
fn aws_config(endpoint: &str, table: &str, queue_url: &str, sender: &str) -> AwsConfig {
    function_config(&BTreeMap::new(), endpoint, table, queue_url, sender)
}

/// The same, with a function's own variables from `template.yaml` under the stack's.
fn function_config(
    own: &BTreeMap<String, String>,
    endpoint: &str,
    table: &str,
    queue_url: &str,
    sender: &str,
) -> AwsConfig {
    let stack = HashMap::from([
        ("AWS_REGION", REGION),
        ("AWS_ENDPOINT_URL", endpoint),
        ("TABLE_NAME", table),
        ("JOBS_QUEUE_URL", queue_url),
        ("SENDER", sender),
    ]);
    AwsConfig::from_lookup(|name| {
        stack
            .get(name)
            .map(|value| (*value).to_owned())
            .or_else(|| own.get(name).cloned())
    })
    .expect("a complete Lambda environment")
}

/// The message's group id (the tenant, for jobs).
pub fn group_of(message: &Message) -> String {
    message
        .attributes
        .as_ref()
        .and_then(|attributes| attributes.get(&MessageSystemAttributeName::MessageGroupId))
        .cloned()
        .expect("FIFO messages carry their group id")
}

/// The job a message carries.
pub fn job_of(message: &Message) -> Job {
    sync_aws::parse_job(message.body.as_deref().unwrap_or_default()).expect("a job body")
}

/// The message's id.
pub fn id_of(message: &Message) -> String {
    message.message_id.clone().expect("a message id")
}
