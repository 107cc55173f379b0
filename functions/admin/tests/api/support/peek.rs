//! What a test reads past the API: the jobs queue (run through the real worker), the table, the
//! schedule index and Secrets Manager, with plain SDK calls.

use super::Harness;
use chrono::Utc;
use sync_core::ports::{ConfigStore, Store};

impl Harness {
    /// Runs every job waiting in the queue through the worker, as its Lambda would; returns how
    /// many ran.
    pub async fn run_queued_jobs(&self) -> usize {
        let worker = worker::WorkerDeps {
            configs: &self.aws.store,
            store: &self.aws.store,
            secrets: &self.aws.secrets,
            mailer: &self.aws.mailer,
            jobs: &self.aws.jobs,
            events: &self.aws.store,
            // These tenants keep the app's users in a folder.
            local: Some(&sync_local::Directories),
            progress: &self.aws.store,
            console: None,
            pictures: None,
        };
        let mut ran = 0;
        loop {
            let received = self
                .aws
                .clients
                .sqs
                .receive_message()
                .queue_url(&self.aws.config.jobs_queue_url)
                .max_number_of_messages(10)
                .wait_time_seconds(1)
                .send()
                .await
                .expect("receive jobs")
                .messages
                .unwrap_or_default();
            if received.is_empty() {
                return ran;
            }
            for message in received {
                let job = sync_aws::parse_job(message.body().unwrap_or_default()).expect("a job");
                worker::run_job(&worker, &job, Utc::now(), None)
                    .await
                    .expect("the job runs");
                self.aws
                    .clients
                    .sqs
                    .delete_message()
                    .queue_url(&self.aws.config.jobs_queue_url)
                    .receipt_handle(message.receipt_handle().unwrap_or_default())
                    .send()
                    .await
                    .expect("delete the job");
                ran += 1;
            }
        }
    }

    /// The sort keys of every item of `tenant`'s partition, read past the store.
    pub async fn items(&self, tenant: &str) -> Vec<String> {
        let output = self
            .aws
            .clients
            .dynamodb
            .query()
            .table_name(self.aws.store.table_name())
            .key_condition_expression("pk = :pk")
            .expression_attribute_values(
                ":pk",
                aws_sdk_dynamodb::types::AttributeValue::S(format!("TENANT#{tenant}")),
            )
            .send()
            .await
            .expect("query the table");
        output
            .items()
            .iter()
            .filter_map(|item| item.get("sk")?.as_s().ok().cloned())
            .collect()
    }

    /// The schedule index entries naming `tenant`.
    pub async fn schedule_entries(&self, tenant: &str) -> Vec<String> {
        let output = self
            .aws
            .clients
            .dynamodb
            .query()
            .table_name(self.aws.store.table_name())
            .key_condition_expression("pk = :pk")
            .expression_attribute_values(
                ":pk",
                aws_sdk_dynamodb::types::AttributeValue::S("SCHEDULE".to_owned()),
            )
            .send()
            .await
            .expect("query the schedule");
        output
            .items()
            .iter()
            .filter_map(|item| item.get("sk")?.as_s().ok().cloned())
            .filter(|sk| sk.ends_with(&format!("#{tenant}")))
            .collect()
    }

    /// The names of the secrets under `personio-sync/<tenant>/`.
    pub async fn secret_names(&self, tenant: &str) -> Vec<String> {
        use aws_sdk_secretsmanager::types::{Filter, FilterNameStringType};
        let prefix = format!("personio-sync/{tenant}/");
        let mut names = Vec::new();
        let mut token = None;
        loop {
            let output = self
                .aws
                .clients
                .secrets
                .list_secrets()
                .filters(
                    Filter::builder()
                        .key(FilterNameStringType::Name)
                        .values(&prefix)
                        .build(),
                )
                .set_next_token(token.take())
                .send()
                .await
                .expect("list secrets");
            names.extend(
                output
                    .secret_list()
                    .iter()
                    .filter_map(|secret| secret.name().map(str::to_owned))
                    .filter(|name| name.starts_with(&prefix)),
            );
            match output.next_token {
                Some(next) if !next.is_empty() => token = Some(next),
                _ => return names,
            }
        }
    }

    /// The raw text of secret `name`.
    pub async fn secret_value(&self, name: &str) -> Option<String> {
        self.aws
            .clients
            .secrets
            .get_secret_value()
            .secret_id(name)
            .send()
            .await
            .ok()?
            .secret_string
    }

    /// The stored config version of `tenant`.
    pub async fn stored_version(&self, tenant: &str) -> Option<u64> {
        let id = sync_core::ids::TenantId::parse(tenant).expect("a tenant id");
        self.aws
            .store
            .config(&id)
            .await
            .expect("read the config")
            .map(|versioned| versioned.version)
    }

    /// The stored runs of `tenant`, newest first.
    pub async fn stored_runs(&self, tenant: &str) -> Vec<sync_core::history::RunRecord> {
        let id = sync_core::ids::TenantId::parse(tenant).expect("a tenant id");
        self.aws.store.runs(&id, 100).await.expect("runs")
    }
}
