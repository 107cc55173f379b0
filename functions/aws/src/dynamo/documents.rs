//! Held runs and run journals: JSON documents that can outgrow DynamoDB's 400 KB item limit,
//! kept as a header item and chunks like a run's lists (see `runs`).
//!
//! - A held run: header `HELD#<id>`; the whole `HeldRun` JSON in `HELD#<id>#PART#<gen>#<n>`
//!   chunks, and its claim by an approval or rejection (`claimed_by`).
//! - A run's journal (for undo): header `JOURNAL#<id>`, chunks `JOURNAL#<id>#PART#<gen>#<n>`.

use super::batch;
use super::items;
use super::keys;
use super::runs::{
    chunk_deletes, chunk_puts, new_generation, ChunkedWrite, Previous, CLAIMED_BY, GENERATION,
    KIND, PARTS, READ_ATTEMPTS,
};
use super::DynamoStore;
use serde::de::DeserializeOwned;
use sync_core::ids::{RunId, TenantId};
use sync_core::journal::RunJournal;
use sync_core::ports::{HeldRun, StoreError};

/// A JSON document kept as a header item and chunks: a held run, a run's journal.
struct Document<'a> {
    /// The header's sort key.
    sk: &'a str,
    /// The chunks' key prefix.
    prefix: &'a str,
    /// The header's `kind` (chunks are `<kind>_part`).
    kind: &'static str,
    /// One number the header shows for people reading the table.
    extra: (&'static str, u64),
    /// What raced, for a conflict.
    what: String,
}

impl DynamoStore {
    pub(super) async fn write_held(
        &self,
        tenant: &TenantId,
        held: &HeldRun,
    ) -> Result<(), StoreError> {
        let pk = keys::tenant_pk(tenant);
        let sk = keys::held_sk(&held.run_id);
        let location = self.location(&pk, &sk);
        let document = Document {
            sk: &sk,
            prefix: &keys::held_parts_prefix(&held.run_id),
            kind: "held",
            extra: ("actions", held.plan.actions.len() as u64),
            what: format!("held run {} of tenant {tenant}", held.run_id),
        };
        let json = items::to_json(held, &location)?;
        self.write_document(&pk, document, &json).await
    }

    /// A run's journal, chunked like a held run: `JOURNAL#<id>` and its parts.
    pub(super) async fn write_journal(
        &self,
        tenant: &TenantId,
        journal: &RunJournal,
    ) -> Result<(), StoreError> {
        let pk = keys::tenant_pk(tenant);
        let sk = keys::journal_sk(&journal.run);
        let location = self.location(&pk, &sk);
        let document = Document {
            sk: &sk,
            prefix: &keys::journal_parts_prefix(&journal.run),
            kind: "journal",
            extra: ("people", journal.people.len() as u64),
            what: format!("journal of run {} of tenant {tenant}", journal.run),
        };
        let json = items::to_json(journal, &location)?;
        self.write_document(&pk, document, &json).await
    }

    /// The journal of `run_id`, if kept.
    pub(super) async fn read_journal(
        &self,
        tenant: &TenantId,
        run_id: &RunId,
    ) -> Result<Option<RunJournal>, StoreError> {
        let pk = keys::tenant_pk(tenant);
        self.read_document(
            &pk,
            &keys::journal_sk(run_id),
            &keys::journal_parts_prefix(run_id),
            &format!("journal of run {run_id} of tenant {tenant}"),
        )
        .await
    }

    /// Writes `json` as a header item at `document.sk` and chunks under its prefix, replacing an
    /// earlier version whole (see [`Self::write_chunked`]).
    async fn write_document(
        &self,
        pk: &str,
        document: Document<'_>,
        json: &str,
    ) -> Result<(), StoreError> {
        let location = self.location(pk, document.sk);
        let old = self.get(pk, document.sk).await?;
        let previous = Previous::of(old.as_ref(), &[PARTS], &location);
        let generation = new_generation(previous.as_ref().map(|p| p.generation.as_str()));
        let part_kind = format!("{}_part", document.kind);
        let (requests, parts) = chunk_puts(pk, document.prefix, &generation, &part_kind, json);
        let mut header = items::item(pk, document.sk);
        header.insert(KIND.into(), items::s(document.kind));
        header.insert(GENERATION.into(), items::s(&generation));
        header.insert(document.extra.0.into(), items::n(document.extra.1));
        header.insert(PARTS.into(), items::n(parts as u64));
        let replaced_chunks = previous
            .as_ref()
            .map(|p| chunk_deletes(pk, document.prefix, &p.generation, p.counts[0]))
            .unwrap_or_default();
        let write = ChunkedWrite {
            header,
            chunks: requests,
            previous_generation: previous.map(|p| p.generation),
            replaced_chunks,
            what: document.what,
        };
        self.write_chunked(pk, write, &location).await
    }

    /// Reads a document [`Self::write_document`] wrote; `None` when there is none.
    async fn read_document<T: DeserializeOwned>(
        &self,
        pk: &str,
        sk: &str,
        prefix: &str,
        what: &str,
    ) -> Result<Option<T>, StoreError> {
        let location = self.location(pk, sk);
        for _ in 0..READ_ATTEMPTS {
            let Some(header) = self.get(pk, sk).await? else {
                return Ok(None);
            };
            let generation = items::text(&header, GENERATION, &location)?;
            let parts = items::number(&header, PARTS, 0, &location)?;
            if let Some(json) = self.read_chunks(pk, prefix, generation, parts).await? {
                return items::from_json(&json, &location).map(Some);
            }
        }
        Err(StoreError::Conflict {
            what: what.to_owned(),
        })
    }

    /// The held runs' ids, oldest first: their header items, `HELD#<run id>` without `#PART#`.
    pub(super) async fn held_run_ids(&self, tenant: &TenantId) -> Result<Vec<RunId>, StoreError> {
        let pk = keys::tenant_pk(tenant);
        let items = self.query_prefix(&pk, "HELD#", &[]).await?;
        Ok(items
            .iter()
            .filter_map(items::sort_key)
            .filter_map(|sk| sk.strip_prefix("HELD#"))
            .filter(|rest| !rest.contains('#'))
            .filter_map(|id| RunId::parse(id).ok())
            .collect())
    }

    pub(super) async fn read_held(
        &self,
        tenant: &TenantId,
        run_id: &RunId,
    ) -> Result<Option<HeldRun>, StoreError> {
        let pk = keys::tenant_pk(tenant);
        self.read_document(
            &pk,
            &keys::held_sk(run_id),
            &keys::held_parts_prefix(run_id),
            &format!("held run {run_id} of tenant {tenant}"),
        )
        .await
    }

    /// Sets `claimed_by` on the held run's header, on condition that the header exists and has
    /// none: DynamoDB decides between concurrent claims.
    pub(super) async fn claim_held_header(
        &self,
        tenant: &TenantId,
        run_id: &RunId,
        by: &str,
    ) -> Result<bool, StoreError> {
        let pk = keys::tenant_pk(tenant);
        let sk = keys::held_sk(run_id);
        let claimed = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(keys::PK, items::s(&pk))
            .key(keys::SK, items::s(&sk))
            .update_expression("SET #claimed = :by")
            .condition_expression(
                "attribute_exists(#pk) AND (attribute_not_exists(#claimed) OR #claimed = :by)",
            )
            .expression_attribute_names("#pk", keys::PK)
            .expression_attribute_names("#claimed", CLAIMED_BY)
            .expression_attribute_values(":by", items::s(by))
            .send()
            .await;
        match claimed {
            Ok(_) => {}
            Err(err)
                if err
                    .as_service_error()
                    .is_some_and(|e| e.is_conditional_check_failed_exception()) =>
            {
                return Ok(false)
            }
            Err(err) => return Err(super::sdk_error("write", &self.location(&pk, &sk), err)),
        }
        // Read back (consistently) who holds it. DynamoDB decides a conditional update
        // atomically, so this confirms the claim; a store that evaluates conditions without
        // isolation (moto, under concurrent requests) lets two writers through, and then only the
        // one whose value stands goes on.
        let holder = self.get(&pk, &sk).await?;
        Ok(holder
            .as_ref()
            .and_then(|item| item.get(CLAIMED_BY))
            .and_then(|value| value.as_s().ok())
            .is_some_and(|holder| holder == by))
    }

    /// Removes `claimed_by` from the held run's header if `by` holds it.
    pub(super) async fn release_held_header(
        &self,
        tenant: &TenantId,
        run_id: &RunId,
        by: &str,
    ) -> Result<(), StoreError> {
        let pk = keys::tenant_pk(tenant);
        let sk = keys::held_sk(run_id);
        let released = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(keys::PK, items::s(&pk))
            .key(keys::SK, items::s(&sk))
            .update_expression("REMOVE #claimed")
            .condition_expression("#claimed = :by")
            .expression_attribute_names("#claimed", CLAIMED_BY)
            .expression_attribute_values(":by", items::s(by))
            .send()
            .await;
        match released {
            Ok(_) => Ok(()),
            Err(err)
                if err
                    .as_service_error()
                    .is_some_and(|e| e.is_conditional_check_failed_exception()) =>
            {
                Ok(())
            }
            Err(err) => Err(super::sdk_error("write", &self.location(&pk, &sk), err)),
        }
    }

    pub(super) async fn delete_held(
        &self,
        tenant: &TenantId,
        run_id: &RunId,
    ) -> Result<(), StoreError> {
        let pk = keys::tenant_pk(tenant);
        let sk = keys::held_sk(run_id);
        // The header first: once it is gone the run is no longer held, whatever happens next.
        // Deleting a missing item succeeds, so approving or rejecting twice is not an error.
        self.delete(&pk, &sk).await?;
        // Then every chunk under the run's prefix, including any a crashed write left behind.
        let parts = self
            .query_prefix(&pk, &keys::held_parts_prefix(run_id), &[])
            .await?;
        let deletes = parts
            .iter()
            .filter_map(items::sort_key)
            .map(|part| batch::delete(&pk, part))
            .collect();
        self.write_all(deletes, &self.location(&pk, &sk)).await
    }
}
