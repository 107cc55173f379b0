//! [`create_table`]: the table as `template.yaml` declares it, for tests and local stacks
//! (moto). In AWS the stack creates the table; nothing calls this there.
//!
//! Local stack, by hand:
//!
//! ```text
//! eval "$(bash infra/moto-server.sh)"
//! # then, from Rust: create_table(&dynamodb_client, "personio-sync").await?
//! ```

use super::keys;
use aws_sdk_dynamodb::error::{DisplayErrorContext, ProvideErrorMetadata};
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType,
    SseSpecification, TableStatus, TimeToLiveSpecification, TimeToLiveStatus,
};
use aws_sdk_dynamodb::Client;
use std::time::{Duration, Instant};

/// How long a new table may take to become active.
const ACTIVE_DEADLINE: Duration = Duration::from_secs(120);
/// Pause between two status checks.
const POLL_INTERVAL: Duration = Duration::from_millis(250);

/// Creating the table failed.
#[derive(Debug, thiserror::Error)]
pub enum TableError {
    /// A DynamoDB call failed.
    #[error("could not {step} table {table}: {detail}")]
    Call {
        /// What was being done.
        step: &'static str,
        /// The table.
        table: String,
        /// The service's error.
        detail: String,
    },
    /// A request could not be built (a bug, not an input problem).
    #[error("could not build the request for table {table}: {detail}")]
    Request {
        /// The table.
        table: String,
        /// The builder's error.
        detail: String,
    },
    /// The table did not become active in time.
    #[error("table {table} did not become active within {seconds} s")]
    NotActive {
        /// The table.
        table: String,
        /// The deadline.
        seconds: u64,
    },
}

/// Creates the table (`pk`/`sk` strings, on-demand, encrypted, TTL on `expires_at`), waits until
/// it is active and makes sure TTL is on. A table of that name that already exists is kept as it
/// is (only TTL is switched on if it is off), so calling this twice is harmless.
pub async fn create_table(client: &Client, name: &str) -> Result<(), TableError> {
    let request = |detail: String| TableError::Request {
        table: name.to_owned(),
        detail,
    };
    let call = |step: &'static str, detail: String| TableError::Call {
        step,
        table: name.to_owned(),
        detail,
    };
    let attribute = |attribute: &str| {
        AttributeDefinition::builder()
            .attribute_name(attribute)
            .attribute_type(ScalarAttributeType::S)
            .build()
            .map_err(|err| request(err.to_string()))
    };
    let key = |attribute: &str, key_type: KeyType| {
        KeySchemaElement::builder()
            .attribute_name(attribute)
            .key_type(key_type)
            .build()
            .map_err(|err| request(err.to_string()))
    };
    let created = client
        .create_table()
        .table_name(name)
        .attribute_definitions(attribute(keys::PK)?)
        .attribute_definitions(attribute(keys::SK)?)
        .key_schema(key(keys::PK, KeyType::Hash)?)
        .key_schema(key(keys::SK, KeyType::Range)?)
        .billing_mode(BillingMode::PayPerRequest)
        .sse_specification(SseSpecification::builder().enabled(true).build())
        .send()
        .await;
    match created {
        Ok(_) => tracing::info!(table = name, "table created"),
        Err(err) if err.code() == Some("ResourceInUseException") => {
            tracing::info!(table = name, "table exists already");
        }
        Err(err) => return Err(call("create", DisplayErrorContext(&err).to_string())),
    }

    let started = Instant::now();
    loop {
        let described = client
            .describe_table()
            .table_name(name)
            .send()
            .await
            .map_err(|err| call("describe", DisplayErrorContext(&err).to_string()))?;
        let status = described.table.and_then(|table| table.table_status);
        if status == Some(TableStatus::Active) {
            break;
        }
        if started.elapsed() >= ACTIVE_DEADLINE {
            return Err(TableError::NotActive {
                table: name.to_owned(),
                seconds: ACTIVE_DEADLINE.as_secs(),
            });
        }
        tokio::time::sleep(POLL_INTERVAL).await;
    }

    let ttl = client
        .describe_time_to_live()
        .table_name(name)
        .send()
        .await
        .map_err(|err| {
            call(
                "read the TTL setting of",
                DisplayErrorContext(&err).to_string(),
            )
        })?;
    let enabled = ttl
        .time_to_live_description
        .and_then(|description| description.time_to_live_status)
        .is_some_and(|status| {
            matches!(
                status,
                TimeToLiveStatus::Enabled | TimeToLiveStatus::Enabling
            )
        });
    if !enabled {
        let specification = TimeToLiveSpecification::builder()
            .attribute_name(keys::EXPIRES_AT)
            .enabled(true)
            .build()
            .map_err(|err| request(err.to_string()))?;
        client
            .update_time_to_live()
            .table_name(name)
            .time_to_live_specification(specification)
            .send()
            .await
            .map_err(|err| call("switch on TTL of", DisplayErrorContext(&err).to_string()))?;
    }
    Ok(())
}
