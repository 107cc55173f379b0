//! Run records and held runs. Their lists can outgrow DynamoDB's 400 KB item limit (a first sync
//! of 5,000 people has 5,000 changes), so each is a small header item plus chunk items holding
//! the JSON text of the big parts, tied together by a generation (see `keys`).
//!
//! - A run: header `RUN#<id>` with status, counts, the record without its lists and its first
//!   [`RUN_SUMMARY_ERRORS`] errors; the change list in `RUN#<id>#CHG#<gen>#<n>` chunks, the error
//!   list in `ERR#<id>#<gen>#<n>` chunks, the skips in `SKIP#<id>#<gen>#<n>` chunks (a run stored
//!   before skips were kept has none: its header counts no skip chunks).
//! - Held runs and run journals are whole JSON documents chunked the same way (`documents`).
//!
//! `Store::runs` reads headers only (a history page must not pull megabytes of change lists):
//! its records have an empty `changes` list and at most the first [`RUN_SUMMARY_ERRORS`]
//! `errors`; the `counts` are complete. `Store::run` returns the full record.

use super::batch;
use super::items::{self, Item, CHUNK_BYTES};
use super::keys;
use super::{is_text, DynamoStore, SortRange};
use aws_sdk_dynamodb::types::WriteRequest;
use serde::de::DeserializeOwned;
use sync_core::history::RunRecord;
use sync_core::ids::{RunId, TenantId};
use sync_core::ports::StoreError;

/// How many errors a run's header keeps, for history pages that list runs.
pub const RUN_SUMMARY_ERRORS: usize = 10;

/// Reads retried when a concurrent rewrite replaced the chunks between header and chunk reads.
pub(super) const READ_ATTEMPTS: usize = 3;

pub(super) const KIND: &str = "kind";
pub(super) const GENERATION: &str = "gen";
const RECORD: &str = "record";
const DATA: &str = "data";
const CHANGE_CHUNKS: &str = "change_chunks";
const ERROR_CHUNKS: &str = "error_chunks";
const SKIP_CHUNKS: &str = "skip_chunks";
pub(super) const PARTS: &str = "parts";
pub(super) const CLAIMED_BY: &str = "claimed_by";

/// A new generation, never equal to the one it replaces (deleting the old chunks would
/// otherwise delete the new ones).
pub(super) fn new_generation(old: Option<&str>) -> String {
    loop {
        let generation = format!("{:012x}", rand::random::<u64>() & 0xffff_ffff_ffff);
        if Some(generation.as_str()) != old {
            return generation;
        }
    }
}

/// Put requests of the chunks of `json` under `prefix` and `generation`, and their count.
pub(super) fn chunk_puts(
    pk: &str,
    prefix: &str,
    generation: &str,
    kind: &str,
    json: &str,
) -> (Vec<WriteRequest>, usize) {
    let generation_prefix = keys::generation_prefix(prefix, generation);
    let pieces = items::split_chunks(json, CHUNK_BYTES);
    let count = pieces.len();
    let requests = pieces
        .into_iter()
        .enumerate()
        .map(|(n, piece)| {
            let mut item = items::item(pk, &keys::chunk_sk(&generation_prefix, n));
            item.insert(KIND.into(), items::s(kind));
            item.insert(GENERATION.into(), items::s(generation));
            item.insert(DATA.into(), items::s(piece));
            batch::put(item)
        })
        .collect();
    (requests, count)
}

/// Delete requests of `count` chunks of one generation.
pub(super) fn chunk_deletes(
    pk: &str,
    prefix: &str,
    generation: &str,
    count: u64,
) -> Vec<WriteRequest> {
    let generation_prefix = keys::generation_prefix(prefix, generation);
    (0..count as usize)
        .map(|n| batch::delete(pk, &keys::chunk_sk(&generation_prefix, n)))
        .collect()
}

/// JSON text of a list, or nothing for an empty one (no chunk items at all).
fn list_json<T: serde::Serialize>(list: &[T], location: &str) -> Result<String, StoreError> {
    if list.is_empty() {
        Ok(String::new())
    } else {
        items::to_json(&list, location)
    }
}

fn parse_list<T: DeserializeOwned>(json: &str, location: &str) -> Result<Vec<T>, StoreError> {
    if json.is_empty() {
        Ok(Vec::new())
    } else {
        items::from_json(json, location)
    }
}

/// One rewrite of a chunked document.
pub(super) struct ChunkedWrite {
    /// The new header.
    pub(super) header: Item,
    /// Puts of the new generation's chunks.
    pub(super) chunks: Vec<WriteRequest>,
    /// The generation the header must still have; `None` for a new document.
    pub(super) previous_generation: Option<String>,
    /// Deletes of the previous generation's chunks, sent once the header points past them.
    pub(super) replaced_chunks: Vec<WriteRequest>,
    /// What raced, for a conflict.
    pub(super) what: String,
}

/// The generation and chunk counts of a header read back, if there was one.
pub(super) struct Previous {
    pub(super) generation: String,
    pub(super) counts: Vec<u64>,
}

impl Previous {
    pub(super) fn of(
        item: Option<&Item>,
        count_attributes: &[&str],
        location: &str,
    ) -> Option<Self> {
        let item = item?;
        let generation = items::text(item, GENERATION, location).ok()?.to_owned();
        let counts = count_attributes
            .iter()
            .map(|name| items::number(item, name, 0, location).unwrap_or(0))
            .collect();
        Some(Self { generation, counts })
    }
}

impl DynamoStore {
    /// Joins the `count` chunks of one generation; `None` when some are gone (a rewrite replaced
    /// them after the header was read).
    pub(super) async fn read_chunks(
        &self,
        pk: &str,
        prefix: &str,
        generation: &str,
        count: u64,
    ) -> Result<Option<String>, StoreError> {
        if count == 0 {
            return Ok(Some(String::new()));
        }
        let generation_prefix = keys::generation_prefix(prefix, generation);
        let found = self.query_prefix(pk, &generation_prefix, &[DATA]).await?;
        if found.len() as u64 != count {
            return Ok(None);
        }
        let mut json = String::new();
        for (n, item) in found.iter().enumerate() {
            let sk = keys::chunk_sk(&generation_prefix, n);
            if items::sort_key(item) != Some(sk.as_str()) {
                return Ok(None);
            }
            json.push_str(items::text(item, DATA, &self.location(pk, &sk))?);
        }
        Ok(Some(json))
    }

    /// Writes chunks, then the header (only if the header is still the one read before, so two
    /// writers never interleave), then deletes the replaced generation's chunks.
    pub(super) async fn write_chunked(
        &self,
        pk: &str,
        write: ChunkedWrite,
        location: &str,
    ) -> Result<(), StoreError> {
        let ChunkedWrite {
            header,
            chunks,
            previous_generation,
            replaced_chunks,
            what,
        } = write;
        let cleanup_on_conflict: Vec<WriteRequest> = chunks
            .iter()
            .filter_map(|request| request.put_request.as_ref())
            .filter_map(|put| items::sort_key(&put.item).map(|sk| batch::delete(pk, sk)))
            .collect();
        self.write_all(chunks, location).await?;
        let put = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(header));
        let put = match &previous_generation {
            Some(generation) => put
                .condition_expression("#gen = :gen")
                .expression_attribute_names("#gen", GENERATION)
                .expression_attribute_values(":gen", items::s(generation)),
            None => put
                .condition_expression("attribute_not_exists(#pk)")
                .expression_attribute_names("#pk", keys::PK),
        };
        if let Err(err) = put.send().await {
            let conflict = err
                .as_service_error()
                .is_some_and(|e| e.is_conditional_check_failed_exception());
            if conflict {
                // Best effort: our chunks belong to no header now.
                let _ = self.write_all(cleanup_on_conflict, location).await;
                return Err(StoreError::Conflict { what });
            }
            return Err(super::sdk_error("write", location, err));
        }
        self.write_all(replaced_chunks, location).await
    }

    pub(super) async fn write_run(
        &self,
        tenant: &TenantId,
        run: &RunRecord,
    ) -> Result<(), StoreError> {
        let pk = keys::tenant_pk(tenant);
        let sk = keys::run_sk(&run.id);
        let location = self.location(&pk, &sk);
        let old = self.get(&pk, &sk).await?;
        let previous = Previous::of(
            old.as_ref(),
            &[CHANGE_CHUNKS, ERROR_CHUNKS, SKIP_CHUNKS],
            &location,
        );
        let generation = new_generation(previous.as_ref().map(|p| p.generation.as_str()));

        let change_prefix = keys::run_changes_prefix(&run.id);
        let error_prefix = keys::run_errors_prefix(&run.id);
        let (mut requests, change_chunks) = chunk_puts(
            &pk,
            &change_prefix,
            &generation,
            "run_changes",
            &list_json(&run.changes, &location)?,
        );
        let (error_requests, error_chunks) = chunk_puts(
            &pk,
            &error_prefix,
            &generation,
            "run_errors",
            &list_json(&run.errors, &location)?,
        );
        requests.extend(error_requests);
        let skip_prefix = keys::run_skips_prefix(&run.id);
        let (skip_requests, skip_chunks) = chunk_puts(
            &pk,
            &skip_prefix,
            &generation,
            "run_skips",
            &list_json(&run.skips, &location)?,
        );
        requests.extend(skip_requests);

        let mut header = items::item(&pk, &sk);
        header.insert(KIND.into(), items::s("run"));
        header.insert(GENERATION.into(), items::s(&generation));
        header.insert("status".into(), items::s(run.status.as_str()));
        header.insert("started_at".into(), items::s(run.started_at.to_rfc3339()));
        header.insert("changes".into(), items::n(run.changes.len() as u64));
        header.insert("errors".into(), items::n(run.errors.len() as u64));
        header.insert(CHANGE_CHUNKS.into(), items::n(change_chunks as u64));
        header.insert(ERROR_CHUNKS.into(), items::n(error_chunks as u64));
        header.insert(SKIP_CHUNKS.into(), items::n(skip_chunks as u64));
        header.insert(
            RECORD.into(),
            items::s(items::to_json(&summary_of(run), &location)?),
        );

        let mut replaced_chunks = Vec::new();
        if let Some(previous) = &previous {
            let (changes, errors, skips) =
                (previous.counts[0], previous.counts[1], previous.counts[2]);
            replaced_chunks = chunk_deletes(&pk, &change_prefix, &previous.generation, changes);
            replaced_chunks.extend(chunk_deletes(
                &pk,
                &error_prefix,
                &previous.generation,
                errors,
            ));
            replaced_chunks.extend(chunk_deletes(
                &pk,
                &skip_prefix,
                &previous.generation,
                skips,
            ));
        }
        let write = ChunkedWrite {
            header,
            chunks: requests,
            previous_generation: previous.map(|p| p.generation),
            replaced_chunks,
            what: format!("run {} of tenant {tenant}", run.id),
        };
        self.write_chunked(&pk, write, &location).await
    }

    pub(super) async fn read_run(
        &self,
        tenant: &TenantId,
        run_id: &RunId,
    ) -> Result<Option<RunRecord>, StoreError> {
        let pk = keys::tenant_pk(tenant);
        let sk = keys::run_sk(run_id);
        let location = self.location(&pk, &sk);
        for _ in 0..READ_ATTEMPTS {
            let Some(header) = self.get(&pk, &sk).await? else {
                return Ok(None);
            };
            let generation = items::text(&header, GENERATION, &location)?;
            let mut record: RunRecord =
                items::from_json(items::text(&header, RECORD, &location)?, &location)?;
            let change_count = items::number(&header, CHANGE_CHUNKS, 0, &location)?;
            let error_count = items::number(&header, ERROR_CHUNKS, 0, &location)?;
            let skip_count = items::number(&header, SKIP_CHUNKS, 0, &location)?;
            let changes = self
                .read_chunks(
                    &pk,
                    &keys::run_changes_prefix(run_id),
                    generation,
                    change_count,
                )
                .await?;
            let errors = self
                .read_chunks(
                    &pk,
                    &keys::run_errors_prefix(run_id),
                    generation,
                    error_count,
                )
                .await?;
            let skips = self
                .read_chunks(&pk, &keys::run_skips_prefix(run_id), generation, skip_count)
                .await?;
            if let (Some(changes), Some(errors), Some(skips)) = (changes, errors, skips) {
                record.changes = parse_list(&changes, &location)?;
                record.errors = parse_list(&errors, &location)?;
                record.skips = parse_list(&skips, &location)?;
                return Ok(Some(record));
            }
        }
        Err(StoreError::Conflict {
            what: format!("run {run_id} of tenant {tenant}"),
        })
    }

    pub(super) async fn run_summaries(
        &self,
        tenant: &TenantId,
        limit: usize,
    ) -> Result<Vec<RunRecord>, StoreError> {
        let pk = keys::tenant_pk(tenant);
        let mut runs = Vec::new();
        let mut damaged = None;
        if limit == 0 {
            return Ok(runs);
        }
        // Newest first. Change chunks share the `RUN#` prefix; the projection leaves their data
        // behind and the `kind` check skips them.
        self.query(
            &pk,
            SortRange::Prefix(keys::RUN_PREFIX),
            &[KIND, RECORD],
            true,
            |page| {
                for item in page {
                    if !is_text(item.get(KIND), "run") {
                        continue;
                    }
                    let location = self.location(&pk, items::sort_key(&item).unwrap_or("?"));
                    match items::text(&item, RECORD, &location)
                        .and_then(|json| items::from_json::<RunRecord>(json, &location))
                    {
                        Ok(run) => runs.push(run),
                        Err(err) => {
                            damaged = Some(err);
                            return false;
                        }
                    }
                    if runs.len() >= limit {
                        return false;
                    }
                }
                true
            },
        )
        .await?;
        match damaged {
            Some(err) => Err(err),
            None => Ok(runs),
        }
    }
}

/// The record a run's header keeps: everything but the lists, and the first errors.
fn summary_of(run: &RunRecord) -> RunRecord {
    RunRecord {
        id: run.id.clone(),
        trigger: run.trigger.clone(),
        status: run.status,
        dry_run: run.dry_run,
        started_at: run.started_at,
        finished_at: run.finished_at,
        fetched: run.fetched,
        in_scope: run.in_scope,
        counts: run.counts,
        held_because: run.held_because.clone(),
        failure: run.failure.clone(),
        changes: Vec::new(),
        errors: run
            .errors
            .iter()
            .take(RUN_SUMMARY_ERRORS)
            .cloned()
            .collect(),
        // The next run reads headers to find the summaries a stopped run did not send.
        summary_pending: run.summary_pending,
        skips: Vec::new(),
        reading: run.reading,
        config_fingerprint: run.config_fingerprint.clone(),
    }
}
