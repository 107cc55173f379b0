//! [`AwsStack`]: what `template.yaml` deploys, on moto, with a [`FaultProxy`] between every AWS
//! client and moto (`AWS_ENDPOINT_URL` points at the proxy), and one onboarded tenant whose app
//! is a scim2-server tenant behind a second proxy. The worker runs in-process through
//! `worker::handle` with the SQS events Lambda would build from messages received from the real
//! FIFO queue, so redelivering a message is handing the same event over again.
//!
//! moto comes from `test_support::moto` (`MOTO_URL`, else started once from `.venv`); the stack
//! and tenant set-up follow lambda-tests' `Stack` and `Tenant`, cut down to what a scenario needs
//! and built on the proxy's endpoint.

use super::fault_proxy::{Canned, FaultProxy};
use super::mailbox::Mailbox;
use aws_lambda_events::sqs::{SqsBatchResponse, SqsEvent};
use aws_sdk_sqs::types::{Message, MessageSystemAttributeName, QueueAttributeName};
use fake_personio::{FakeConfig, FakePersonio};
use secrecy::SecretString;
use serde_json::{json, Map, Value};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use sync_aws::{create_table, AwsConfig, Deps};
use sync_core::config::TenantConfig;
use sync_core::history::RunRecord;
use sync_core::ids::{AccountId, TenantId};
use sync_core::ports::{ConfigStore, DestinationToken, Job, Jobs, PersonioCredentials, Store};
use test_support::moto;
use test_support::scim::{scim_server, tenant_url, ScimReader};
use worker::WorkerDeps;

/// The region every stack lives in.
const REGION: &str = "eu-central-1";
/// moto's default account.
const ACCOUNT: &str = "123456789012";

/// DynamoDB's throttling answer (HTTP 400, awsJson1_0 error shape).
pub fn dynamodb_throttling() -> Canned {
    Canned {
        status: 400,
        headers: vec![("Content-Type", "application/x-amz-json-1.0".to_owned())],
        body: json!({
            "__type": "com.amazonaws.dynamodb.v20120810#ThrottlingException",
            "message": "Rate of requests exceeds the allowed throughput."
        })
        .to_string(),
    }
}

/// A `BatchWriteItem` that processed nothing: HTTP 200 with every item handed back as
/// `UnprocessedItems`, as DynamoDB answers a throttled batch.
pub fn dynamodb_unprocessed(request: &[u8]) -> Canned {
    let request: Value = serde_json::from_slice(request).unwrap_or(Value::Null);
    Canned {
        status: 200,
        headers: vec![("Content-Type", "application/x-amz-json-1.0".to_owned())],
        body: json!({ "UnprocessedItems": request["RequestItems"] }).to_string(),
    }
}

/// Secrets Manager failing on its side (HTTP 500, awsJson1_1 error shape), as during an
/// outage: retried by the SDK, and past its attempts an error the worker retries later.
pub fn secrets_unavailable() -> Canned {
    Canned {
        status: 500,
        headers: vec![("Content-Type", "application/x-amz-json-1.1".to_owned())],
        body: json!({
            "__type": "InternalServiceError",
            "message": "An error occurred on the server side."
        })
        .to_string(),
    }
}

/// SQS failing on its side (HTTP 500, awsJson1_0 error shape).
pub fn sqs_unavailable() -> Canned {
    Canned {
        status: 500,
        headers: vec![("Content-Type", "application/x-amz-json-1.0".to_owned())],
        body: json!({
            "__type": "com.amazonaws.sqs#InternalError",
            "message": "We encountered an internal error. Please try again."
        })
        .to_string(),
    }
}

/// An SES error answer (HTTP 400, awsQuery XML error shape).
fn ses_error(code: &str, message: &str) -> Canned {
    Canned {
        status: 400,
        headers: vec![("Content-Type", "text/xml".to_owned())],
        body: format!(
            "<ErrorResponse xmlns=\"http://ses.amazonaws.com/doc/2010-12-01/\"><Error>\
             <Type>Sender</Type><Code>{code}</Code><Message>{message}</Message></Error>\
             <RequestId>00000000-0000-0000-0000-000000000000</RequestId></ErrorResponse>"
        ),
    }
}

/// SES's throttling answer (`Throttling`, as for the sending rate and the daily quota).
pub fn ses_throttling() -> Canned {
    ses_error("Throttling", "Maximum sending rate exceeded.")
}

/// SES rejecting a recipient; like SES, the message quotes the address.
pub fn ses_rejection(recipient: &str) -> Canned {
    ses_error(
        "MessageRejected",
        &format!("Email address is not verified. The following identities failed the check in region EU-CENTRAL-1: {recipient}"),
    )
}

/// One test's AWS resources on moto, reached through a fault proxy, and one tenant.
pub struct AwsStack {
    /// The proxy every AWS client talks to.
    pub proxy: FaultProxy,
    /// The adapters, built as the Lambdas build them, on the proxy's endpoint.
    pub deps: Deps,
    /// The same resources straight on moto, for the scenario's own reads: a fault armed for the
    /// worker never strikes the checks.
    observer: Deps,
    /// Summaries, handed on to SES (through the proxy).
    pub mailbox: Mailbox,
    /// The tenant.
    pub tenant: TenantId,
    /// Its admins (personal data: never logged).
    pub admins: Vec<String>,
    /// The proxy in front of the tenant's scim2-server tenant.
    pub scim: FaultProxy,
    /// The proxy in front of the fake Personio: the tenant's Personio base URL.
    pub personio: FaultProxy,
    /// Reads the tenant's app back.
    pub reader: ScimReader,
    queue_name: String,
}

fn aws_config(endpoint: &str, table: &str, queue_url: &str, sender: &str) -> AwsConfig {
    let variables = HashMap::from([
        ("AWS_REGION", REGION),
        ("AWS_ENDPOINT_URL", endpoint),
        ("TABLE_NAME", table),
        ("JOBS_QUEUE_URL", queue_url),
        ("SENDER", sender),
    ]);
    AwsConfig::from_lookup(|name| variables.get(name).map(|value| (*value).to_owned()))
        .expect("a complete Lambda environment")
}

impl AwsStack {
    /// Creates table, FIFO queue and verified sender on moto (through the proxy, unarmed), and
    /// onboards a tenant syncing `fake` into a fresh scim2-server tenant.
    pub async fn start(fake: &FakePersonio, seed: u64) -> Self {
        let proxy = FaultProxy::start(&moto::shared().url, Duration::from_secs(1), seed).await;
        let table = moto::unique("table");
        let queue_name = format!("{}.fifo", moto::unique("jobs"));
        let sender = format!("{}@vendor.example", moto::unique("sync"));
        let bootstrap = Deps::new(aws_config(&proxy.url, &table, "unset", &sender)).await;
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
        let deps = Deps::new(aws_config(&proxy.url, &table, &queue_url, &sender)).await;
        let observer =
            Deps::new(aws_config(&moto::shared().url, &table, &queue_url, &sender)).await;
        create_table(&deps.clients.dynamodb, &table)
            .await
            .expect("create the table");
        deps.clients
            .ses
            .verify_email_identity()
            .email_address(&sender)
            .send()
            .await
            .expect("verify the sender");
        let tenant = TenantId::parse(&moto::unique("t")).expect("tenant id");
        let admins = vec![format!("admin-{}@{tenant}.example", moto::unique("a"))];
        let scim = FaultProxy::start(&scim_server().url, Duration::from_secs(1), seed ^ 1).await;
        let personio = FaultProxy::start(&fake.url(), Duration::from_secs(1), seed ^ 2).await;
        let direct = tenant_url("relaws");
        let path = direct
            .strip_prefix(&scim_server().url)
            .expect("a tenant URL of the server");
        let text = format!(
            r#"
tenant = "{tenant}"
timezone = "Europe/Berlin"

[[personio.accounts]]
name = "main"
base_url = "{personio}"
rate_limit_per_minute = 60000
rate_limit_burst = 100

[destination]
kind = "scim"
base_url = "{scim}{path}"

[email]
to = ["{admin}"]
from = "{sender}"
"#,
            personio = personio.url,
            scim = scim.url,
            admin = admins[0],
        );
        let config = TenantConfig::from_toml(&text).expect("a valid tenant config");
        deps.store
            .put_config(&config, None)
            .await
            .expect("store the config");
        let credentials = FakeConfig::default();
        deps.secrets
            .put_personio(
                &tenant,
                &AccountId::default(),
                &PersonioCredentials {
                    client_id: credentials.client_id,
                    client_secret: SecretString::from(credentials.client_secret),
                    origin: None,
                },
            )
            .await
            .expect("store the Personio credentials");
        deps.secrets
            .put_destination_token(
                &tenant,
                &DestinationToken {
                    token: SecretString::from(scim_server().token.clone()),
                    origin: None,
                },
            )
            .await
            .expect("store the SCIM token");
        Self {
            mailbox: Mailbox::sending_through(Arc::new(deps.mailer.clone())),
            reader: ScimReader::new(&direct),
            proxy,
            deps,
            observer,
            tenant,
            admins,
            scim,
            personio,
            queue_name,
        }
    }

    /// The worker's adapters, as `functions/worker/src/main.rs` wires them (mail through the
    /// recording mailbox).
    pub fn worker(&self) -> WorkerDeps<'_> {
        WorkerDeps {
            configs: &self.deps.store,
            store: &self.deps.store,
            secrets: &self.deps.secrets,
            mailer: &self.mailbox,
            jobs: &self.deps.jobs,
            events: &self.deps.store,
            local: None,
            progress: &self.deps.store,
            console: None,
            pictures: None,
        }
    }

    /// Queues `job` as the admin API or the webhook does, and receives its message.
    pub async fn enqueue(&self, job: &Job) -> Message {
        self.observer
            .jobs
            .enqueue(job, &moto::unique("job"))
            .await
            .expect("queue the job");
        self.receive()
            .await
            .expect("the job's message is delivered")
    }

    /// Receives the next message (waiting up to 2 s for it).
    pub async fn receive(&self) -> Option<Message> {
        self.observer
            .clients
            .sqs
            .receive_message()
            .queue_url(&self.deps.config.jobs_queue_url)
            .max_number_of_messages(1)
            .wait_time_seconds(2)
            .message_system_attribute_names(MessageSystemAttributeName::All)
            .send()
            .await
            .expect("receive from the jobs queue")
            .messages
            .unwrap_or_default()
            .into_iter()
            .next()
    }

    /// Receives the next message if one is waiting now.
    pub async fn receive_now(&self) -> Option<Message> {
        self.observer
            .clients
            .sqs
            .receive_message()
            .queue_url(&self.deps.config.jobs_queue_url)
            .max_number_of_messages(1)
            .wait_time_seconds(0)
            .message_system_attribute_names(MessageSystemAttributeName::All)
            .send()
            .await
            .expect("receive from the jobs queue")
            .messages
            .unwrap_or_default()
            .into_iter()
            .next()
    }

    /// Stores the tenant's webhook secret as the admin API does.
    pub async fn put_webhook_token(&self, secret: &SecretString) {
        self.observer
            .secrets
            .put_webhook_token(&self.tenant, secret)
            .await
            .expect("store the webhook secret");
    }

    /// Deletes a processed message.
    pub async fn delete(&self, message: &Message) {
        self.observer
            .clients
            .sqs
            .delete_message()
            .queue_url(&self.deps.config.jobs_queue_url)
            .receipt_handle(message.receipt_handle.clone().unwrap_or_default())
            .send()
            .await
            .expect("delete a processed message");
    }

    /// The event Lambda hands the worker for `message`.
    pub fn event(&self, message: &Message) -> SqsEvent {
        let arn = format!("arn:aws:sqs:{REGION}:{ACCOUNT}:{}", self.queue_name);
        let attributes: Map<String, Value> = message
            .attributes
            .iter()
            .flatten()
            .map(|(name, value)| (name.as_str().to_owned(), Value::from(value.as_str())))
            .collect();
        let record = json!({
            "messageId": message.message_id,
            "receiptHandle": message.receipt_handle,
            "body": message.body,
            "attributes": attributes,
            "messageAttributes": {},
            "md5OfBody": message.md5_of_body,
            "eventSource": "aws:sqs",
            "eventSourceARN": arn,
            "awsRegion": REGION,
        });
        serde_json::from_value(json!({ "Records": [record] })).expect("an SqsEvent")
    }

    /// Hands `message` to the worker; `None` when `kill_after` passed first and the worker was
    /// stopped where it stood (its future dropped, as when a Lambda instance dies).
    pub async fn deliver(
        &self,
        message: &Message,
        deadline: Option<Instant>,
        kill_after: Option<Duration>,
    ) -> Option<SqsBatchResponse> {
        let deps = self.worker();
        let handled = worker::handle(&deps, self.event(message), deadline);
        match kill_after {
            Some(limit) => tokio::time::timeout(limit, handled).await.ok(),
            None => Some(handled.await),
        }
    }

    /// The tenant's config as stored.
    pub async fn config(&self) -> sync_core::ports::VersionedConfig {
        self.observer
            .store
            .config(&self.tenant)
            .await
            .expect("read the config")
            .expect("a config")
    }

    /// Stores `config` as the admin API does (another Lambda: the worker's caches stay warm).
    pub async fn put_config(&self, config: &TenantConfig, version: u64) {
        self.observer
            .store
            .put_config(config, Some(version))
            .await
            .expect("store the config");
    }

    /// Stores Personio credentials as the admin API does (another Lambda: the worker's secrets
    /// cache keeps what it read).
    pub async fn put_personio(&self, credentials: &PersonioCredentials) {
        self.observer
            .secrets
            .put_personio(&self.tenant, &AccountId::default(), credentials)
            .await
            .expect("store the Personio credentials");
    }

    /// Stores the destination token as the admin API does.
    pub async fn put_destination_token(&self, token: &DestinationToken) {
        self.observer
            .secrets
            .put_destination_token(&self.tenant, token)
            .await
            .expect("store the SCIM token");
    }

    /// Every run record of the tenant, whole, oldest first.
    pub async fn runs(&self) -> Vec<RunRecord> {
        let summaries = self
            .observer
            .store
            .runs(&self.tenant, 100)
            .await
            .expect("run history");
        let mut runs = Vec::new();
        for summary in summaries {
            if let Some(run) = self
                .observer
                .store
                .run(&self.tenant, &summary.id)
                .await
                .expect("a run record")
            {
                runs.push(run);
            }
        }
        runs.sort_by_key(|run| run.started_at);
        runs
    }
}
