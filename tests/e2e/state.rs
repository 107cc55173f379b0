//! A state store that stops accepting writes mid-run: the run stops writing to the app too, so
//! nothing is changed in the app that the state does not remember (`sync_core::apply`: a store
//! that cannot be written stops the run).

use async_trait::async_trait;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;
use sync_core::history::{RunRecord, Trigger};
use sync_core::ids::{PersonKey, RunId, TenantId};
use sync_core::ports::{HeldRun, Store, StoreError};
use sync_core::run::{self, RunError, RunRequest, RunTarget};
use sync_core::state::{GroupLink, Link, Snapshot, SourceStats};
use sync_local::{DirectoryDestination, FolderStore};
use test_support::harness::*;
use test_support::personio::*;

/// The harness's state folder, until `save_link` has succeeded `allowed` times; from then on every
/// link write fails, as when DynamoDB starts denying writes mid-run. It notes how many writes the
/// app had seen when the first link write failed.
struct LinksStopSaving<'a> {
    inner: &'a FolderStore,
    directory: &'a DirectoryDestination,
    allowed: usize,
    saved: AtomicUsize,
    writes_at_failure: OnceLock<u64>,
}

impl<'a> LinksStopSaving<'a> {
    fn after(allowed: usize, harness: &'a Harness) -> Self {
        Self {
            inner: &harness.store,
            directory: &harness.directory,
            allowed,
            saved: AtomicUsize::new(0),
            writes_at_failure: OnceLock::new(),
        }
    }

    /// App writes made after the first failed link write.
    fn writes_after_failure(&self) -> u64 {
        let at_failure = *self
            .writes_at_failure
            .get()
            .expect("a link write failed during the run");
        self.directory.writes() - at_failure
    }
}

#[async_trait]
impl Store for LinksStopSaving<'_> {
    async fn snapshot(&self, tenant: &TenantId) -> Result<Snapshot, StoreError> {
        self.inner.snapshot(tenant).await
    }

    async fn remove_link(&self, tenant: &TenantId, key: &PersonKey) -> Result<(), StoreError> {
        self.inner.remove_link(tenant, key).await
    }

    async fn save_link(&self, tenant: &TenantId, link: &Link) -> Result<(), StoreError> {
        if self.saved.fetch_add(1, Ordering::SeqCst) >= self.allowed {
            self.writes_at_failure
                .get_or_init(|| self.directory.writes());
            return Err(StoreError::Io {
                action: "write",
                location: "the test's failing store".to_owned(),
                detail: "write denied".to_owned(),
            });
        }
        self.inner.save_link(tenant, link).await
    }

    async fn save_group(&self, tenant: &TenantId, group: &GroupLink) -> Result<(), StoreError> {
        self.inner.save_group(tenant, group).await
    }

    async fn save_source_stats(
        &self,
        tenant: &TenantId,
        stats: &SourceStats,
    ) -> Result<(), StoreError> {
        self.inner.save_source_stats(tenant, stats).await
    }

    async fn save_run(&self, tenant: &TenantId, run: &RunRecord) -> Result<(), StoreError> {
        self.inner.save_run(tenant, run).await
    }

    async fn runs(&self, tenant: &TenantId, limit: usize) -> Result<Vec<RunRecord>, StoreError> {
        self.inner.runs(tenant, limit).await
    }

    async fn run(
        &self,
        tenant: &TenantId,
        run_id: &RunId,
    ) -> Result<Option<RunRecord>, StoreError> {
        self.inner.run(tenant, run_id).await
    }

    async fn save_held(&self, tenant: &TenantId, held: &HeldRun) -> Result<(), StoreError> {
        self.inner.save_held(tenant, held).await
    }

    async fn held(&self, tenant: &TenantId, run_id: &RunId) -> Result<Option<HeldRun>, StoreError> {
        self.inner.held(tenant, run_id).await
    }

    async fn claim_held(
        &self,
        tenant: &TenantId,
        run_id: &RunId,
        by: &str,
    ) -> Result<bool, StoreError> {
        self.inner.claim_held(tenant, run_id, by).await
    }

    async fn release_held(
        &self,
        tenant: &TenantId,
        run_id: &RunId,
        by: &str,
    ) -> Result<(), StoreError> {
        self.inner.release_held(tenant, run_id, by).await
    }

    async fn remove_held(&self, tenant: &TenantId, run_id: &RunId) -> Result<(), StoreError> {
        self.inner.remove_held(tenant, run_id).await
    }

    async fn save_journal(
        &self,
        tenant: &TenantId,
        journal: &sync_core::journal::RunJournal,
    ) -> Result<(), StoreError> {
        self.inner.save_journal(tenant, journal).await
    }

    async fn journal(
        &self,
        tenant: &TenantId,
        run_id: &RunId,
    ) -> Result<Option<sync_core::journal::RunJournal>, StoreError> {
        self.inner.journal(tenant, run_id).await
    }
    async fn held_runs(&self, tenant: &TenantId) -> Result<Vec<RunId>, StoreError> {
        self.inner.held_runs(tenant).await
    }
}

/// A full run of `harness` whose link writes fail after `allowed` successes.
async fn run_until_links_fail(harness: &Harness, allowed: usize) -> (RunError, u64) {
    let store = LinksStopSaving::after(allowed, harness);
    let mut ports = harness.ports();
    ports.store = &store;
    let request = RunRequest {
        target: RunTarget::Everyone,
        dry_run: false,
        trigger: Trigger::Schedule,
        now: now(),
        deadline: None,
        run_id: None,
    };
    let error = run::run(&ports, &harness.config, request)
        .await
        .expect_err("the store stopped saving links");
    (error, store.writes_after_failure())
}

/// Writes that may still land after the failure: the others already in flight at that moment.
fn in_flight(harness: &Harness) -> u64 {
    harness.config.apply.concurrency as u64 - 1
}

#[tokio::test]
async fn a_link_that_cannot_be_saved_stops_new_creates() {
    let harness = Harness::new(60).await;
    assert!(
        harness.config.apply.concurrency > 1,
        "the test needs writes in parallel"
    );

    let (error, writes_after) = run_until_links_fail(&harness, 5).await;

    assert!(matches!(error, RunError::Store(_)), "{error:?}");
    assert!(
        writes_after <= in_flight(&harness),
        "{writes_after} app writes after the store failed; at most {} were in flight",
        in_flight(&harness)
    );
}

#[tokio::test]
async fn a_manager_link_that_cannot_be_saved_stops_new_manager_writes() {
    let harness = Harness::new(60).await;
    let plan = harness.dry_run(now()).await.plan;
    assert!(
        plan.managers.len() > 10,
        "the company needs managers to set"
    );

    // Every person's link is saved; the third manager link fails.
    let (error, writes_after) = run_until_links_fail(&harness, plan.actions.len() + 2).await;

    assert!(matches!(error, RunError::Store(_)), "{error:?}");
    assert!(
        writes_after <= in_flight(&harness),
        "{writes_after} app writes after the store failed; at most {} were in flight",
        in_flight(&harness)
    );
}

#[tokio::test]
async fn a_run_stopped_by_the_store_records_and_emails_every_user_it_created() {
    let harness = Harness::new(60).await;

    let (error, _) = run_until_links_fail(&harness, 5).await;
    assert!(matches!(error, RunError::Store(_)), "{error:?}");

    // Every user in the app was created by the stopped run: its history lists each of them,
    // those whose link could not be saved included, and so does its email.
    let runs = harness.store_runs().await;
    let record = runs.first().expect("the stopped run is in the history");
    assert_eq!(record.status, sync_core::history::RunStatus::Failed);
    let users = harness.users().await;
    assert!(users.len() > 5, "the run created users before it stopped");
    let listed: std::collections::BTreeSet<String> = record
        .changes
        .iter()
        .filter(|change| change.action == "create")
        .map(|change| change.person.external_id())
        .collect();
    for user in &users {
        let external = user.external_id.clone().expect("an externalId");
        assert!(
            listed.contains(&external),
            "{external} was created in the app and is not in the failed run's changes"
        );
    }
    assert_eq!(record.counts.created, users.len());
    let email = harness.emails().pop().expect("the failed run's summary");
    assert!(
        email.contains(&format!("{} created", users.len())),
        "the email says what was created"
    );
}
