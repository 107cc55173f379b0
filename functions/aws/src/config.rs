//! [`AwsConfig`]: the environment of a Lambda (or a local stack) read once into one typed struct,
//! and the one [`SdkConfig`] every AWS client is built from.
//!
//! The SDK is compiled without its default HTTPS client (that would bring a second TLS stack and
//! aws-lc-sys with its C build), so [`AwsConfig::sdk_config`] passes an explicit
//! hyper + rustls + ring client. Retries of throttling (`ThrottlingException`,
//! `ProvisionedThroughputExceededException`, `RequestLimitExceeded`, …) and transient errors are
//! the SDK's standard retry mode, configured here once for every client. How long a call may take
//! is per function (`SDK_ATTEMPT_TIMEOUT_MS`, `SDK_OPERATION_TIMEOUT_MS`): the webhook must answer
//! within seconds, the worker may wait out a slow attempt.

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::Credentials;
use aws_smithy_http_client::tls::{self, rustls_provider::CryptoMode};
use std::time::Duration;

/// Attempts per AWS call (the first one included) before an error is returned.
const MAX_ATTEMPTS: u32 = 5;
/// First back-off of a retried call; the SDK doubles it per attempt, with jitter.
const INITIAL_BACKOFF: Duration = Duration::from_millis(100);
/// Longest back-off between two attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(5);
/// How long to wait for a TCP + TLS connection.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// How long one attempt may take unless `SDK_ATTEMPT_TIMEOUT_MS` says otherwise; a hung
/// connection is retried rather than eating the Lambda.
pub const DEFAULT_ATTEMPT_TIMEOUT: Duration = Duration::from_secs(30);
/// How long secrets stay cached in a warm Lambda unless `SECRETS_CACHE_SECONDS` says otherwise.
pub const DEFAULT_SECRETS_TTL: Duration = Duration::from_secs(300);

/// A required environment variable is missing or unusable. Fails the cold start with its name.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// Not set, or empty.
    #[error("the environment variable {name} is not set; {hint}")]
    Missing {
        /// The variable.
        name: &'static str,
        /// What it should hold.
        hint: &'static str,
    },
    /// Set to something that does not parse.
    #[error("the environment variable {name} is not valid: {detail}")]
    Invalid {
        /// The variable.
        name: &'static str,
        /// What is wrong.
        detail: String,
    },
}

/// Everything the AWS adapters need from the environment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AwsConfig {
    /// `AWS_REGION` (or `AWS_DEFAULT_REGION`).
    pub region: String,
    /// `AWS_ENDPOINT_URL`: one endpoint for every service, e.g. a moto server in tests. `None` in
    /// AWS, where each service has its own regional endpoint.
    pub endpoint_url: Option<String>,
    /// `TABLE_NAME`: the DynamoDB table.
    pub table_name: String,
    /// `JOBS_QUEUE_URL`: the SQS FIFO queue of jobs.
    pub jobs_queue_url: String,
    /// `SENDER`: the address summary emails come from (a verified SES identity).
    pub sender: String,
    /// `SECRETS_CACHE_SECONDS`: how long secrets stay cached (default 300).
    pub secrets_ttl: Duration,
    /// `SDK_ATTEMPT_TIMEOUT_MS`: how long one attempt of an AWS call may take (default 30 s).
    pub attempt_timeout: Duration,
    /// `SDK_OPERATION_TIMEOUT_MS`: how long one AWS call may take, its retries included. `None`
    /// (the default) leaves only the attempt timeout; a function with a short time limit (the
    /// webhook) sets it so that its calls end, and it can answer, before Lambda ends it.
    pub operation_timeout: Option<Duration>,
    /// `PICTURES_BUCKET`: the S3 bucket of hosted profile pictures. `None` (unset): the stack
    /// hosts no pictures, and runs send Personio's picture address as it is.
    pub pictures_bucket: Option<String>,
}

impl AwsConfig {
    /// Reads the process environment. A missing variable fails with its name.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads variables through `lookup` (the environment, or a map in tests).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |name: &str| {
            lookup(name)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let required = |name: &'static str, hint: &'static str| {
            get(name).ok_or(ConfigError::Missing { name, hint })
        };
        let region = get("AWS_REGION")
            .or_else(|| get("AWS_DEFAULT_REGION"))
            .ok_or(ConfigError::Missing {
                name: "AWS_REGION",
                hint: "set it to the region of the stack, e.g. eu-central-1",
            })?;
        let endpoint_url = get("AWS_ENDPOINT_URL");
        if let Some(url) = &endpoint_url {
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                return Err(ConfigError::Invalid {
                    name: "AWS_ENDPOINT_URL",
                    detail: "it must start with http:// or https://".to_owned(),
                });
            }
        }
        let secrets_ttl = match get("SECRETS_CACHE_SECONDS") {
            None => DEFAULT_SECRETS_TTL,
            Some(text) => {
                Duration::from_secs(text.parse::<u64>().map_err(|_| ConfigError::Invalid {
                    name: "SECRETS_CACHE_SECONDS",
                    detail: "it must be a whole number of seconds".to_owned(),
                })?)
            }
        };
        let milliseconds = |name: &'static str| -> Result<Option<Duration>, ConfigError> {
            get(name)
                .map(|text| match text.parse::<u64>() {
                    Ok(ms) if ms > 0 => Ok(Duration::from_millis(ms)),
                    _ => Err(ConfigError::Invalid {
                        name,
                        detail: "it must be a whole number of milliseconds above 0".to_owned(),
                    }),
                })
                .transpose()
        };
        let attempt_timeout =
            milliseconds("SDK_ATTEMPT_TIMEOUT_MS")?.unwrap_or(DEFAULT_ATTEMPT_TIMEOUT);
        let operation_timeout = milliseconds("SDK_OPERATION_TIMEOUT_MS")?;
        Ok(Self {
            region,
            endpoint_url,
            table_name: required("TABLE_NAME", "set it to the DynamoDB table of the stack")?,
            jobs_queue_url: required(
                "JOBS_QUEUE_URL",
                "set it to the URL of the SQS FIFO jobs queue",
            )?,
            sender: required(
                "SENDER",
                "set it to the verified SES address summaries come from",
            )?,
            secrets_ttl,
            attempt_timeout,
            operation_timeout,
            pictures_bucket: get("PICTURES_BUCKET"),
        })
    }

    /// The one SDK configuration all clients share: explicit rustls + ring HTTP client, standard
    /// retries with back-off, timeouts, and the endpoint override when there is one.
    ///
    /// Credentials come from the default chain (the Lambda's role). Against a local stack on a
    /// loopback endpoint (moto) with no `AWS_ACCESS_KEY_ID`, static test credentials are used,
    /// since the stack checks none; any other endpoint keeps the default chain.
    pub async fn sdk_config(&self) -> SdkConfig {
        let http_client = aws_smithy_http_client::Builder::new()
            .tls_provider(tls::Provider::Rustls(CryptoMode::Ring))
            .build_https();
        let retry = RetryConfig::standard()
            .with_max_attempts(MAX_ATTEMPTS)
            .with_initial_backoff(INITIAL_BACKOFF)
            .with_max_backoff(MAX_BACKOFF);
        let mut timeouts = TimeoutConfig::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .operation_attempt_timeout(self.attempt_timeout);
        if let Some(operation_timeout) = self.operation_timeout {
            timeouts = timeouts.operation_timeout(operation_timeout);
        }
        let timeouts = timeouts.build();
        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            .http_client(http_client)
            .region(Region::new(self.region.clone()))
            .retry_config(retry)
            .timeout_config(timeouts);
        if let Some(endpoint) = &self.endpoint_url {
            loader = loader.endpoint_url(endpoint);
            if is_loopback(endpoint) && std::env::var_os("AWS_ACCESS_KEY_ID").is_none() {
                loader = loader.credentials_provider(Credentials::new(
                    "testing",
                    "testing",
                    None,
                    None,
                    "local-stack",
                ));
            }
        }
        loader.load().await
    }
}

/// Whether `url` points at this machine (a local stack), where test credentials are harmless.
fn is_loopback(url: &str) -> bool {
    let rest = url
        .trim_start_matches("http://")
        .trim_start_matches("https://");
    ["127.", "localhost", "[::1]"]
        .iter()
        .any(|host| rest.starts_with(host))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn lookup(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let vars: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        move |name| vars.get(name).cloned()
    }

    const FULL: &[(&str, &str)] = &[
        ("AWS_REGION", "eu-central-1"),
        ("TABLE_NAME", "personio-sync"),
        (
            "JOBS_QUEUE_URL",
            "https://sqs.eu-central-1.amazonaws.com/1/jobs.fifo",
        ),
        ("SENDER", "sync@vendor.example"),
    ];

    #[test]
    fn a_complete_environment_parses_with_defaults() {
        let config = AwsConfig::from_lookup(lookup(FULL)).unwrap();
        assert_eq!(config.region, "eu-central-1");
        assert_eq!(config.endpoint_url, None);
        assert_eq!(config.table_name, "personio-sync");
        assert_eq!(config.secrets_ttl, DEFAULT_SECRETS_TTL);
        assert_eq!(config.attempt_timeout, DEFAULT_ATTEMPT_TIMEOUT);
        assert_eq!(config.operation_timeout, None);
        assert_eq!(
            config.pictures_bucket, None,
            "no bucket: no hosted pictures"
        );
    }

    #[test]
    fn the_pictures_bucket_is_read_when_set() {
        let mut vars = FULL.to_vec();
        vars.push(("PICTURES_BUCKET", " stack-picturesbucket-1 "));
        let config = AwsConfig::from_lookup(lookup(&vars)).unwrap();
        assert_eq!(
            config.pictures_bucket.as_deref(),
            Some("stack-picturesbucket-1")
        );
        let mut vars = FULL.to_vec();
        vars.push(("PICTURES_BUCKET", ""));
        let config = AwsConfig::from_lookup(lookup(&vars)).unwrap();
        assert_eq!(config.pictures_bucket, None);
    }

    #[test]
    fn call_timeouts_are_read_in_milliseconds() {
        let mut vars = FULL.to_vec();
        vars.push(("SDK_ATTEMPT_TIMEOUT_MS", "800"));
        vars.push(("SDK_OPERATION_TIMEOUT_MS", "1500"));
        let config = AwsConfig::from_lookup(lookup(&vars)).unwrap();
        assert_eq!(config.attempt_timeout, Duration::from_millis(800));
        assert_eq!(config.operation_timeout, Some(Duration::from_millis(1500)));
        for bad in ["0", "1.5s", "-1"] {
            let mut vars = FULL.to_vec();
            vars.push(("SDK_OPERATION_TIMEOUT_MS", bad));
            let err = AwsConfig::from_lookup(lookup(&vars)).unwrap_err();
            assert!(
                err.to_string().contains("SDK_OPERATION_TIMEOUT_MS"),
                "{err}"
            );
        }
    }

    #[test]
    fn a_missing_variable_is_named() {
        for missing in ["TABLE_NAME", "JOBS_QUEUE_URL", "SENDER", "AWS_REGION"] {
            let vars: Vec<_> = FULL
                .iter()
                .copied()
                .filter(|(k, _)| *k != missing)
                .collect();
            let err = AwsConfig::from_lookup(lookup(&vars)).unwrap_err();
            assert!(err.to_string().contains(missing), "{err}");
        }
    }

    #[test]
    fn default_region_and_cache_seconds_are_read() {
        let mut vars: Vec<_> = FULL
            .iter()
            .copied()
            .filter(|(k, _)| *k != "AWS_REGION")
            .collect();
        vars.push(("AWS_DEFAULT_REGION", "us-east-1"));
        vars.push(("SECRETS_CACHE_SECONDS", "30"));
        vars.push(("AWS_ENDPOINT_URL", "http://127.0.0.1:5000"));
        let config = AwsConfig::from_lookup(lookup(&vars)).unwrap();
        assert_eq!(config.region, "us-east-1");
        assert_eq!(config.secrets_ttl, Duration::from_secs(30));
        assert_eq!(
            config.endpoint_url.as_deref(),
            Some("http://127.0.0.1:5000")
        );
    }

    #[test]
    fn unusable_values_are_refused_by_name() {
        let mut vars = FULL.to_vec();
        vars.push(("SECRETS_CACHE_SECONDS", "five minutes"));
        let err = AwsConfig::from_lookup(lookup(&vars)).unwrap_err();
        assert!(err.to_string().contains("SECRETS_CACHE_SECONDS"));
        let mut vars = FULL.to_vec();
        vars.push(("AWS_ENDPOINT_URL", "127.0.0.1:5000"));
        let err = AwsConfig::from_lookup(lookup(&vars)).unwrap_err();
        assert!(err.to_string().contains("AWS_ENDPOINT_URL"));
    }

    #[test]
    fn only_loopback_endpoints_count_as_local() {
        assert!(is_loopback("http://127.0.0.1:5000"));
        assert!(is_loopback("http://localhost:4566"));
        assert!(!is_loopback(
            "https://vpce-1.dynamodb.eu-central-1.vpce.amazonaws.com"
        ));
    }
}
