//! The `Store` port: the snapshot (links, groups, source stats) as one item per link and group,
//! so saving one after each successful action is one small `PutItem`.
//!
//! Run records and held runs are in `runs`; this file only routes the port's calls there.

use super::batch;
use super::items::{self, Item};
use super::keys;
use super::DynamoStore;
use async_trait::async_trait;
use std::time::Instant;
use sync_core::history::RunRecord;
use sync_core::ids::{PersonKey, RunId, TenantId};
use sync_core::ports::{HeldRun, Store, StoreError};
use sync_core::state::{GroupLink, Link, Snapshot, SourceStats};

/// Attribute holding a link's JSON.
const LINK: &str = "link";
/// Attribute holding a group link's JSON.
const GROUP: &str = "group";
/// Attribute holding the source stats' JSON.
const STATS: &str = "stats";

impl DynamoStore {
    fn link_item(&self, tenant: &TenantId, link: &Link) -> Result<(Item, String), StoreError> {
        let pk = keys::tenant_pk(tenant);
        let sk = keys::link_sk(&link.key);
        let location = self.location(&pk, &sk);
        let json = items::to_json(link, &location)?;
        let mut item = items::item(&pk, &sk);
        // The hash of what we last wrote lets a reader compare two snapshots without parsing;
        // destination id and state are copied out so the table reads well in the console.
        item.insert(
            "hash".into(),
            items::s(keys::hex_digest(json.as_bytes(), 32)),
        );
        item.insert(
            "destination_id".into(),
            items::s(link.destination_id.as_str()),
        );
        item.insert("state".into(), items::s(link_state(link)));
        item.insert(LINK.into(), items::s(json));
        Ok((item, location))
    }

    /// Saves many links in batches of 25 (a first sync that adopts thousands of users, a
    /// migration from the local store). Same items as [`Store::save_link`].
    pub async fn save_links(&self, tenant: &TenantId, links: &[Link]) -> Result<(), StoreError> {
        let mut requests = Vec::with_capacity(links.len());
        for link in links {
            requests.push(batch::put(self.link_item(tenant, link)?.0));
        }
        let location = self.location(&keys::tenant_pk(tenant), keys::LINK_PREFIX);
        self.write_all(requests, &location).await
    }

    async fn load_links(&self, pk: &str) -> Result<Vec<Link>, StoreError> {
        let found = self.query_prefix(pk, keys::LINK_PREFIX, &[LINK]).await?;
        found
            .iter()
            .map(|item| self.parse_attribute(pk, item, LINK))
            .collect()
    }

    async fn load_groups(&self, pk: &str) -> Result<Vec<GroupLink>, StoreError> {
        let found = self.query_prefix(pk, keys::GROUP_PREFIX, &[GROUP]).await?;
        found
            .iter()
            .map(|item| self.parse_attribute(pk, item, GROUP))
            .collect()
    }

    async fn load_stats(&self, pk: &str) -> Result<Option<SourceStats>, StoreError> {
        match self.get(pk, keys::STATS).await? {
            Some(item) => self.parse_attribute(pk, &item, STATS).map(Some),
            None => Ok(None),
        }
    }

    /// The JSON document in `attribute` of `item`.
    fn parse_attribute<T: serde::de::DeserializeOwned>(
        &self,
        pk: &str,
        item: &Item,
        attribute: &str,
    ) -> Result<T, StoreError> {
        let location = self.location(pk, items::sort_key(item).unwrap_or("?"));
        items::from_json(items::text(item, attribute, &location)?, &location)
    }
}

fn link_state(link: &Link) -> &'static str {
    match link.state {
        sync_core::state::LinkState::Active => "active",
        sync_core::state::LinkState::PreHire => "pre_hire",
        sync_core::state::LinkState::Inactive => "inactive",
    }
}

#[async_trait]
impl Store for DynamoStore {
    async fn snapshot(&self, tenant: &TenantId) -> Result<Snapshot, StoreError> {
        let pk = keys::tenant_pk(tenant);
        let started = Instant::now();
        // Three reads side by side: links and groups page through their own prefixes, so run
        // history and held plans in the same partition are never read here.
        let (links, groups, source_stats) = futures::try_join!(
            self.load_links(&pk),
            self.load_groups(&pk),
            self.load_stats(&pk)
        )?;
        let snapshot = Snapshot {
            links: links
                .into_iter()
                .map(|link| (link.key.clone(), link))
                .collect(),
            groups: groups
                .into_iter()
                .map(|group| (group.key.clone(), group))
                .collect(),
            source_stats,
        };
        snapshot.log_loaded(tenant, started);
        Ok(snapshot)
    }

    async fn save_link(&self, tenant: &TenantId, link: &Link) -> Result<(), StoreError> {
        let (item, location) = self.link_item(tenant, link)?;
        self.put(item, &location).await
    }

    async fn remove_link(&self, tenant: &TenantId, key: &PersonKey) -> Result<(), StoreError> {
        self.delete(&keys::tenant_pk(tenant), &keys::link_sk(key))
            .await
    }

    async fn save_group(&self, tenant: &TenantId, group: &GroupLink) -> Result<(), StoreError> {
        let pk = keys::tenant_pk(tenant);
        let sk = keys::group_sk(&group.key);
        let location = self.location(&pk, &sk);
        let mut item = items::item(&pk, &sk);
        item.insert(
            "destination_id".into(),
            items::s(group.destination_id.as_str()),
        );
        item.insert(GROUP.into(), items::s(items::to_json(group, &location)?));
        self.put(item, &location).await
    }

    async fn save_source_stats(
        &self,
        tenant: &TenantId,
        stats: &SourceStats,
    ) -> Result<(), StoreError> {
        let pk = keys::tenant_pk(tenant);
        let location = self.location(&pk, keys::STATS);
        let mut item = items::item(&pk, keys::STATS);
        item.insert(STATS.into(), items::s(items::to_json(stats, &location)?));
        self.put(item, &location).await
    }

    async fn save_run(&self, tenant: &TenantId, run: &RunRecord) -> Result<(), StoreError> {
        self.write_run(tenant, run).await
    }

    async fn runs(&self, tenant: &TenantId, limit: usize) -> Result<Vec<RunRecord>, StoreError> {
        self.run_summaries(tenant, limit).await
    }

    async fn run(
        &self,
        tenant: &TenantId,
        run_id: &RunId,
    ) -> Result<Option<RunRecord>, StoreError> {
        self.read_run(tenant, run_id).await
    }

    async fn save_held(&self, tenant: &TenantId, held: &HeldRun) -> Result<(), StoreError> {
        self.write_held(tenant, held).await
    }

    async fn held(&self, tenant: &TenantId, run_id: &RunId) -> Result<Option<HeldRun>, StoreError> {
        self.read_held(tenant, run_id).await
    }

    async fn save_journal(
        &self,
        tenant: &TenantId,
        journal: &sync_core::journal::RunJournal,
    ) -> Result<(), StoreError> {
        self.write_journal(tenant, journal).await
    }

    async fn journal(
        &self,
        tenant: &TenantId,
        run_id: &RunId,
    ) -> Result<Option<sync_core::journal::RunJournal>, StoreError> {
        self.read_journal(tenant, run_id).await
    }

    async fn claim_held(
        &self,
        tenant: &TenantId,
        run_id: &RunId,
        by: &str,
    ) -> Result<bool, StoreError> {
        self.claim_held_header(tenant, run_id, by).await
    }

    async fn release_held(
        &self,
        tenant: &TenantId,
        run_id: &RunId,
        by: &str,
    ) -> Result<(), StoreError> {
        self.release_held_header(tenant, run_id, by).await
    }

    async fn remove_held(&self, tenant: &TenantId, run_id: &RunId) -> Result<(), StoreError> {
        self.delete_held(tenant, run_id).await
    }

    async fn held_runs(&self, tenant: &TenantId) -> Result<Vec<RunId>, StoreError> {
        self.held_run_ids(tenant).await
    }
}
