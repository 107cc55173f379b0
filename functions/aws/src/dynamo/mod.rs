//! [`DynamoStore`]: the `Store` and `ConfigStore` ports on one DynamoDB table (pk `pk`, sk `sk`,
//! on-demand, TTL attribute `expires_at`); the key layout is in [`keys`].
//!
//! - `store`: snapshot, links, groups, source stats.
//! - `runs`: run records and held runs, whose lists are split into chunk items.
//! - `config_store`: tenant configs with optimistic versions, and the scan-free schedule index.
//! - `events`: webhook dedupe markers ([`DynamoStore::remember_event`]).
//! - `batch`: `BatchWriteItem` with retries of unprocessed items.
//! - `table`: [`create_table`] for tests and local stacks.
//! - `tenant_admin`: the `TenantAdmin` port (history pages, queued-run notes, tenant removal).
//! - `progress`: the `ProgressLog` port (a running run's live progress).
//!
//! Throttling errors of single calls (`ProvisionedThroughputExceededException`,
//! `ThrottlingException`, `RequestLimitExceeded`) are retried by the SDK's standard retry mode,
//! set up in [`crate::AwsConfig::sdk_config`]. Reads are strongly consistent: a rerun must see the
//! links the crashed run saved a moment ago.

mod batch;
mod config_store;
mod documents;
mod events;
mod items;
pub mod keys;
mod progress;
mod runs;
mod store;
mod table;
mod tenant_admin;

pub use batch::{BATCH_BACKOFF, BATCH_SIZE};
pub use items::CHUNK_BYTES;
pub use runs::RUN_SUMMARY_ERRORS;
pub use table::{create_table, TableError};

use aws_sdk_dynamodb::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_dynamodb::Client;
use items::Item;
use std::collections::HashMap;
use sync_core::ports::StoreError;
use sync_core::retry::Backoff;

/// Tuning of a [`DynamoStore`]; [`StoreSettings::new`] gives the defaults.
#[derive(Clone, Debug)]
pub struct StoreSettings {
    /// The table.
    pub table_name: String,
    /// Items per Query page; `None` lets DynamoDB fill 1 MB pages. Tests set it small to
    /// exercise paging.
    pub page_size: Option<u32>,
    /// Retries of unprocessed batch writes.
    pub backoff: Backoff,
}

impl StoreSettings {
    /// Defaults for `table_name`.
    pub fn new(table_name: impl Into<String>) -> Self {
        Self {
            table_name: table_name.into(),
            page_size: None,
            backoff: BATCH_BACKOFF,
        }
    }
}

/// Tenant state, run history, configs and the schedule in one DynamoDB table.
///
/// `Store::runs` returns summaries: `changes` empty, at most the first [`RUN_SUMMARY_ERRORS`]
/// `errors`, complete `counts`; `Store::run` returns the whole record.
///
/// Cheap to clone: the SDK client is a handle to shared connections.
#[derive(Clone, Debug)]
pub struct DynamoStore {
    client: Client,
    table: String,
    page_size: Option<i32>,
    backoff: Backoff,
}

impl DynamoStore {
    /// A store on `table_name` with default settings.
    pub fn new(client: Client, table_name: impl Into<String>) -> Self {
        Self::with_settings(client, StoreSettings::new(table_name))
    }

    /// A store with explicit settings.
    pub fn with_settings(client: Client, settings: StoreSettings) -> Self {
        Self {
            client,
            table: settings.table_name,
            page_size: settings
                .page_size
                .map(|size| i32::try_from(size.max(1)).unwrap_or(i32::MAX)),
            backoff: settings.backoff,
        }
    }

    /// The table's name.
    pub fn table_name(&self) -> &str {
        &self.table
    }

    /// The SDK client.
    pub fn client(&self) -> &Client {
        &self.client
    }

    fn location(&self, pk: &str, sk: &str) -> String {
        items::location(&self.table, pk, sk)
    }

    /// One item by key (strongly consistent), with only `attributes` when given.
    async fn get(&self, pk: &str, sk: &str) -> Result<Option<Item>, StoreError> {
        self.client
            .get_item()
            .table_name(&self.table)
            .key(keys::PK, items::s(pk))
            .key(keys::SK, items::s(sk))
            .consistent_read(true)
            .send()
            .await
            .map(|output| output.item)
            .map_err(|err| sdk_error("read", &self.location(pk, sk), err))
    }

    /// Writes one item unconditionally.
    async fn put(&self, item: Item, location: &str) -> Result<(), StoreError> {
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .send()
            .await
            .map(|_| ())
            .map_err(|err| sdk_error("write", location, err))
    }

    /// Deletes one item by key; deleting a missing item succeeds.
    async fn delete(&self, pk: &str, sk: &str) -> Result<(), StoreError> {
        self.client
            .delete_item()
            .table_name(&self.table)
            .key(keys::PK, items::s(pk))
            .key(keys::SK, items::s(sk))
            .send()
            .await
            .map(drop)
            .map_err(|err| sdk_error("write", &self.location(pk, sk), err))
    }

    /// Every item of partition `pk` whose sort key satisfies `range`, in key order (or reverse),
    /// page after page, with its keys and the `projection` attributes only. `keep` sees each page
    /// and returns `false` to stop reading further pages.
    async fn query(
        &self,
        pk: &str,
        range: SortRange<'_>,
        projection: &[&str],
        newest_first: bool,
        mut keep: impl FnMut(Vec<Item>) -> bool,
    ) -> Result<(), StoreError> {
        let mut names = HashMap::from([
            ("#pk".to_owned(), keys::PK.to_owned()),
            ("#sk".to_owned(), keys::SK.to_owned()),
        ]);
        let (condition, bound) = match range {
            SortRange::Prefix(prefix) => ("#pk = :pk AND begins_with(#sk, :sk)", prefix),
            SortRange::AtMost(upper) => ("#pk = :pk AND #sk <= :sk", upper),
        };
        // Every projected name goes through a placeholder: `hash`, `status` and others are
        // DynamoDB reserved words.
        let mut projected = Vec::new();
        for (n, attribute) in projection.iter().enumerate() {
            let placeholder = format!("#p{n}");
            names.insert(placeholder.clone(), (*attribute).to_owned());
            projected.push(placeholder);
        }
        let location = self.location(pk, bound);
        let mut start: Option<Item> = None;
        loop {
            let output = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression(condition)
                .set_expression_attribute_names(Some(names.clone()))
                .expression_attribute_values(":pk", items::s(pk))
                .expression_attribute_values(":sk", items::s(bound))
                .projection_expression(
                    ["#pk", "#sk"]
                        .into_iter()
                        .chain(projected.iter().map(String::as_str))
                        .collect::<Vec<_>>()
                        .join(", "),
                )
                .scan_index_forward(!newest_first)
                .consistent_read(true)
                .set_limit(self.page_size)
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(|err| sdk_error("read", &location, err))?;
            let more = keep(output.items.unwrap_or_default());
            match output.last_evaluated_key {
                Some(last) if more && !last.is_empty() => start = Some(last),
                _ => return Ok(()),
            }
        }
    }

    /// Every item of `pk` whose sort key starts with `prefix`, in key order.
    async fn query_prefix(
        &self,
        pk: &str,
        prefix: &str,
        projection: &[&str],
    ) -> Result<Vec<Item>, StoreError> {
        let mut all = Vec::new();
        self.query(pk, SortRange::Prefix(prefix), projection, false, |page| {
            all.extend(page);
            true
        })
        .await?;
        Ok(all)
    }
}

/// Which sort keys a query reads.
#[derive(Clone, Copy, Debug)]
enum SortRange<'a> {
    /// Those starting with this text.
    Prefix(&'a str),
    /// Those at or before this text.
    AtMost(&'a str),
}

/// An SDK error as a `StoreError`, with the service's code and message (they name tables and
/// keys, not item contents) and a hint when the table itself is missing.
fn sdk_error<E, R>(action: &'static str, location: &str, err: SdkError<E, R>) -> StoreError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    let hint = match err.code() {
        Some("ResourceNotFoundException") => {
            "; the table does not exist: deploy the stack or check TABLE_NAME"
        }
        Some("AccessDeniedException") => "; the function's role may not use this table",
        _ => "",
    };
    StoreError::Io {
        action,
        location: location.to_owned(),
        detail: format!("{}{hint}", DisplayErrorContext(&err)),
    }
}

/// Whether an attribute value is a string equal to `expected`.
fn is_text(value: Option<&AttributeValue>, expected: &str) -> bool {
    matches!(value, Some(AttributeValue::S(text)) if text == expected)
}
