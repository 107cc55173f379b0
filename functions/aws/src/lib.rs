//! AWS adapters of personio-sync: the engine's ports on DynamoDB, Secrets Manager, SES, SQS and
//! S3.
//!
//! # Layout
//! - [`config`]: [`AwsConfig`], the environment read once, and the one `SdkConfig` (explicit
//!   rustls + ring HTTP client, standard retries) every client is built from.
//! - [`deps`]: [`Clients`] and [`Deps`], everything a Lambda builds at cold start.
//! - [`lambda`]: [`cold_start`], logging and [`Deps`] for every Lambda main, and
//!   [`init_tracing`].
//! - [`dynamo`]: [`DynamoStore`], the `Store` and `ConfigStore` ports on one table, and
//!   [`create_table`] for tests and local stacks.
//! - [`secrets`]: [`SecretsManagerSecrets`], the `Secrets` port with a warm-Lambda cache, and
//!   the writers the admin API stores secrets with; [`secrets_admin`]: the `SecretsAdmin` port on it.
//! - [`mail`]: [`SesMailer`], the `Mailer` port on SES `SendRawEmail`.
//! - [`jobs`]: [`SqsJobs`], the `Jobs` port on SQS FIFO, and [`parse_job`] for the worker.
//! - [`console`]: the admins' console's link keys in a secret, and its address.
//! - [`pictures`]: [`PictureBucket`], the hosted profile pictures in S3, and [`S3Pictures`], the
//!   `PictureStore` port on it, whose URLs the console serves.
//!
//! Nothing here decides anything: the engine in `sync-core` does, through the ports.

pub mod config;
pub mod console;
pub mod deps;
pub mod dynamo;
pub mod jobs;
pub mod lambda;
pub mod mail;
pub mod pictures;
pub mod secrets;
pub mod secrets_admin;

pub use config::{AwsConfig, ConfigError};
pub use deps::{Clients, Deps};
pub use dynamo::{create_table, DynamoStore, StoreSettings, TableError};
pub use jobs::{parse_job, JobParseError, SqsJobs};
pub use lambda::{cold_start, init_tracing};
pub use mail::SesMailer;
pub use pictures::{PictureBucket, S3Pictures};
pub use secrets::{SecretWriteError, SecretsManagerSecrets};
