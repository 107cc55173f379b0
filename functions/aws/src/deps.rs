//! [`Clients`] and [`Deps`]: every AWS client and adapter, built once at a Lambda's cold start
//! from one [`SdkConfig`] (one connection pool, one credential cache) and reused by every
//! invocation on that instance.

use crate::config::{AwsConfig, ConfigError};
use crate::{DynamoStore, PictureBucket, SecretsManagerSecrets, SesMailer, SqsJobs};
use aws_config::SdkConfig;

/// The raw SDK clients, all from one `SdkConfig`.
#[derive(Clone, Debug)]
pub struct Clients {
    /// DynamoDB.
    pub dynamodb: aws_sdk_dynamodb::Client,
    /// Secrets Manager.
    pub secrets: aws_sdk_secretsmanager::Client,
    /// SES (v1: `SendRawEmail`).
    pub ses: aws_sdk_ses::Client,
    /// SQS.
    pub sqs: aws_sdk_sqs::Client,
    /// S3 (the hosted profile pictures).
    pub s3: aws_sdk_s3::Client,
}

impl Clients {
    /// Clients sharing `sdk_config`.
    ///
    /// S3 addresses buckets by path (`<endpoint>/<bucket>/<key>`) when the endpoint is overridden
    /// (a local stack such as moto serves every service on one host); in AWS it keeps S3's
    /// virtual-hosted addresses.
    pub fn new(sdk_config: &SdkConfig) -> Self {
        let s3 = aws_sdk_s3::config::Builder::from(sdk_config)
            .force_path_style(sdk_config.endpoint_url().is_some())
            .build();
        Self {
            s3: aws_sdk_s3::Client::from_conf(s3),
            dynamodb: aws_sdk_dynamodb::Client::new(sdk_config),
            secrets: aws_sdk_secretsmanager::Client::new(sdk_config),
            ses: aws_sdk_ses::Client::new(sdk_config),
            sqs: aws_sdk_sqs::Client::new(sdk_config),
        }
    }
}

/// Every adapter a Lambda hands its handler. `store` serves both `Store` and `ConfigStore`.
#[derive(Clone, Debug)]
pub struct Deps {
    /// What was read from the environment.
    pub config: AwsConfig,
    /// The raw clients, for what the ports do not cover.
    pub clients: Clients,
    /// Tenant state, history, configs and the schedule.
    pub store: DynamoStore,
    /// Per-tenant secrets, cached for `config.secrets_ttl`.
    pub secrets: SecretsManagerSecrets,
    /// Summary and welcome emails.
    pub mailer: SesMailer,
    /// The job queue.
    pub jobs: SqsJobs,
    /// The hosted profile pictures' bucket (`PICTURES_BUCKET`); `None` when the stack has none.
    pub pictures: Option<PictureBucket>,
}

impl Deps {
    /// Reads the environment and builds everything. A missing variable fails with its name.
    pub async fn from_env() -> Result<Self, ConfigError> {
        Ok(Self::new(AwsConfig::from_env()?).await)
    }

    /// Builds everything from `config`.
    pub async fn new(config: AwsConfig) -> Self {
        let sdk_config = config.sdk_config().await;
        let clients = Clients::new(&sdk_config);
        Self {
            store: DynamoStore::new(clients.dynamodb.clone(), config.table_name.clone()),
            secrets: SecretsManagerSecrets::new(clients.secrets.clone(), config.secrets_ttl),
            mailer: SesMailer::new(clients.ses.clone()).with_sender(config.sender.clone()),
            jobs: SqsJobs::new(clients.sqs.clone(), config.jobs_queue_url.clone()),
            pictures: config
                .pictures_bucket
                .as_ref()
                .map(|bucket| PictureBucket::new(clients.s3.clone(), bucket.clone())),
            clients,
            config,
        }
    }
}
