//! One scheduler tick at scale, on moto through the real adapters: hundreds of due tenants over
//! several schedule-index pages and several `SendMessageBatch` calls, a tick retried after it
//! queued, and tenants that fail beside others that must still be queued. Every outcome is read
//! back from the queue and the schedule index.

use crate::support::stack::{job_of, Stack};
use crate::support::tick_time;
use async_trait::async_trait;
use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, Duration, Utc};
use std::collections::{BTreeMap, BTreeSet};
use std::time::Instant;
use sync_aws::{DynamoStore, SqsJobs, StoreSettings};
use sync_core::config::TenantConfig;
use sync_core::history::Trigger;
use sync_core::ids::TenantId;
use sync_core::ports::{
    BatchJob, ConfigStore, DueTenant, Job, JobTarget, Jobs, JobsError, StoreError, VersionedConfig,
};
use test_support::moto::{unique, Moto};

/// Seeding writes in flight at once: moto answers heavy concurrent `TransactWriteItems` with 500.
const SEEDING: usize = 4;
/// Attempts of each seeding write.
const SEED_ATTEMPTS: usize = 5;

/// A store on the stack's table that reads the schedule index `page_size` items a page.
fn paged_store(stack: &Stack, page_size: u32) -> DynamoStore {
    DynamoStore::with_settings(
        stack.deps.clients.dynamodb.clone(),
        StoreSettings {
            page_size: Some(page_size),
            ..StoreSettings::new(stack.deps.store.table_name())
        },
    )
}

/// `count` tenants with an hourly schedule, each due at `due` (a second apart after it, so the
/// index holds distinct times), stored as the admin API stores them.
async fn seed_due_tenants(stack: &Stack, count: usize, due: DateTime<Utc>) -> Vec<TenantId> {
    let tenants: Vec<TenantId> = (0..count)
        .map(|_| TenantId::parse(&unique("tick")).expect("a tenant id"))
        .collect();
    let mut running = tokio::task::JoinSet::new();
    for (n, tenant) in tenants.iter().enumerate() {
        if running.len() >= SEEDING {
            running.join_next().await.expect("a task").expect("seeded");
        }
        let store = stack.deps.store.clone();
        let tenant = tenant.clone();
        let due = due + Duration::seconds(i64::try_from(n % 60).unwrap_or(0));
        running.spawn(async move {
            let config = TenantConfig::from_toml(&format!(
                "tenant = \"{tenant}\"\n[[personio.accounts]]\n[destination]\nkind = \"directory\"\npath = \"unused\"\n[schedule]\nevery_minutes = 60\n"
            ))
            .expect("a valid config");
            // moto fails a write that races a transaction's copy of the table (HTTP 500, past
            // the SDK's retries): try again, as the admin would.
            for attempt in 1..=SEED_ATTEMPTS {
                match store.put_config(&config, None).await {
                    Ok(_) | Err(StoreError::Conflict { .. }) => break,
                    Err(error) if attempt == SEED_ATTEMPTS => panic!("store the config: {error}"),
                    Err(_) => {}
                }
            }
            for attempt in 1..=SEED_ATTEMPTS {
                match store.set_next_due(&tenant, due).await {
                    Ok(()) => break,
                    Err(error) if attempt == SEED_ATTEMPTS => panic!("schedule the tenant: {error}"),
                    Err(_) => {}
                }
            }
        });
    }
    while let Some(done) = running.join_next().await {
        done.expect("seeded");
    }
    tenants
}

/// Receives and deletes every message of the queue until a receive comes back empty (a FIFO
/// group's next message shows only once the one before is deleted, so a duplicate cannot hide);
/// the jobs per tenant.
async fn drain(stack: &Stack) -> BTreeMap<TenantId, Vec<Job>> {
    let deadline = Instant::now() + std::time::Duration::from_secs(60);
    let mut jobs: BTreeMap<TenantId, Vec<Job>> = BTreeMap::new();
    loop {
        assert!(Instant::now() < deadline, "the queue did not drain in 60 s");
        let messages = stack.receive(10, 0).await;
        if messages.is_empty() {
            return jobs;
        }
        for message in &messages {
            let job = job_of(message);
            jobs.entry(job.tenant.clone()).or_default().push(job);
            stack
                .deps
                .clients
                .sqs
                .delete_message()
                .queue_url(stack.queue_url())
                .receipt_handle(message.receipt_handle.clone().unwrap_or_default())
                .send()
                .await
                .expect("delete a received message");
        }
    }
}

/// The scheduled full run of `tenant`, as the scheduler queues it.
fn scheduled(tenant: &TenantId) -> Job {
    Job {
        tenant: tenant.clone(),
        target: JobTarget::Everyone,
        trigger: Trigger::Schedule,
        dry_run: false,
        run_id: None,
    }
}

/// The due tenants at `now`, as a set.
async fn due_at(stack: &Stack, now: DateTime<Utc>) -> BTreeSet<TenantId> {
    stack.due(now).await.into_iter().collect()
}

#[tokio::test]
async fn a_tick_of_250_due_tenants_queues_each_once_across_index_pages_and_batches() {
    // A moto of its own: moto copies the whole table for every transaction, so 250 tenants'
    // seeding on the shared one slowed every other test using it (a webhook test took 73 s).
    let moto = Moto::private();
    let stack = Stack::on(&moto).await;
    let now = tick_time();
    let tenants = seed_due_tenants(&stack, 250, now - Duration::minutes(5)).await;
    // 40 entries a page: the index is read in 7 pages; 250 jobs need 25 batches.
    let store = paged_store(&stack, 40);

    let queued = scheduler::handle(&store, &stack.deps.jobs, now)
        .await
        .expect("every tenant queued");

    let expected: BTreeSet<TenantId> = tenants.iter().cloned().collect();
    assert_eq!(queued.iter().cloned().collect::<BTreeSet<_>>(), expected);
    assert_eq!(queued.len(), 250, "each tenant reported once");
    let jobs = drain(&stack).await;
    assert_eq!(jobs.keys().cloned().collect::<BTreeSet<_>>(), expected);
    for (tenant, jobs) in &jobs {
        assert_eq!(jobs, &vec![scheduled(tenant)], "tenant {tenant}");
    }
    // Every tenant moved on by its hour, and nobody is due at the tick any more.
    assert!(due_at(&stack, now).await.is_empty());
    assert_eq!(due_at(&stack, now + Duration::minutes(60)).await, expected);
}

/// The table's store, except that moving a tenant's next due time fails: DynamoDB failing after
/// the jobs went out.
struct MovesFail<'a>(&'a DynamoStore);

#[async_trait]
impl ConfigStore for MovesFail<'_> {
    async fn config(&self, tenant: &TenantId) -> Result<Option<VersionedConfig>, StoreError> {
        self.0.config(tenant).await
    }

    async fn put_config(
        &self,
        config: &TenantConfig,
        expected: Option<u64>,
    ) -> Result<u64, StoreError> {
        self.0.put_config(config, expected).await
    }

    async fn due(&self, now: DateTime<Utc>) -> Result<Vec<DueTenant>, StoreError> {
        self.0.due(now).await
    }

    async fn set_next_due(
        &self,
        tenant: &TenantId,
        _next: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        Err(StoreError::Io {
            action: "write",
            location: format!("the schedule entry of {tenant}"),
            detail: "DynamoDB is unavailable".to_owned(),
        })
    }
}

/// A tick that queued its tenants but could not move them on fails, and EventBridge retries it
/// (or the next tick comes) a minute later: the tenants are still due for the same time and are
/// queued again, which must collapse into the jobs already queued.
#[tokio::test]
async fn a_tick_retried_after_it_queued_queues_each_tenant_once() {
    let stack = Stack::new().await;
    let now = tick_time();
    let due = now - Duration::minutes(1);
    let tenants = seed_due_tenants(&stack, 23, due).await;
    let expected: BTreeSet<TenantId> = tenants.iter().cloned().collect();

    let failed = scheduler::handle(&MovesFail(&stack.deps.store), &stack.deps.jobs, now)
        .await
        .expect_err("no tenant could be moved on");
    assert_eq!((failed.due, failed.failed), (23, 23), "{failed}");
    assert!(failed.first.contains("DynamoDB is unavailable"), "{failed}");
    // Never moved before being queued: the failure leaves every tenant due.
    assert_eq!(due_at(&stack, now).await, expected);

    let retried = now + Duration::minutes(1) + Duration::seconds(7);
    let queued = scheduler::handle(&stack.deps.store, &stack.deps.jobs, retried)
        .await
        .expect("the retry queues and moves every tenant");
    assert_eq!(queued.into_iter().collect::<BTreeSet<_>>(), expected);
    // The same tick once more, as an overlapping invocation would see it: nobody is due now.
    let again = scheduler::handle(&stack.deps.store, &stack.deps.jobs, retried)
        .await
        .expect("a tick with nobody due");
    assert!(again.is_empty(), "{again:?}");

    let jobs = drain(&stack).await;
    assert_eq!(jobs.keys().cloned().collect::<BTreeSet<_>>(), expected);
    for (tenant, jobs) in &jobs {
        assert_eq!(
            jobs.len(),
            1,
            "tenant {tenant} was queued {} times",
            jobs.len()
        );
    }
    assert!(due_at(&stack, retried).await.is_empty());
}

/// The real queue, except that it refuses the job of one tenant, as SQS does with a `Failed`
/// entry of a batch (moto never fails a single entry of ours).
struct RefusesOne<'a> {
    jobs: &'a SqsJobs,
    refused: TenantId,
}

impl RefusesOne<'_> {
    fn refusal(&self) -> JobsError {
        JobsError {
            detail: format!(
                "SQS refused the message of {} (InternalError)",
                self.refused
            ),
        }
    }
}

#[async_trait]
impl Jobs for RefusesOne<'_> {
    async fn enqueue(&self, job: &Job, dedupe_key: &str) -> Result<(), JobsError> {
        if job.tenant == self.refused {
            return Err(self.refusal());
        }
        self.jobs.enqueue(job, dedupe_key).await
    }

    /// The other jobs go through the real adapter's batches; the outcomes stay in order.
    async fn enqueue_batch(&self, jobs: &[BatchJob]) -> Vec<Result<(), JobsError>> {
        let others: Vec<BatchJob> = jobs
            .iter()
            .filter(|entry| entry.job.tenant != self.refused)
            .cloned()
            .collect();
        let mut sent = self.jobs.enqueue_batch(&others).await.into_iter();
        jobs.iter()
            .map(|entry| {
                if entry.job.tenant == self.refused {
                    Err(self.refusal())
                } else {
                    sent.next().unwrap_or_else(|| Err(self.refusal()))
                }
            })
            .collect()
    }
}

#[tokio::test]
async fn a_tenant_whose_config_is_damaged_or_whose_job_is_refused_does_not_hold_up_the_others() {
    let stack = Stack::new().await;
    let now = tick_time();
    let due = now - Duration::minutes(2);
    let tenants = seed_due_tenants(&stack, 30, due).await;
    let damaged = tenants[4].clone();
    let refused = tenants[17].clone();
    // A config item that no longer parses (a hand edit, a bad migration).
    stack
        .deps
        .clients
        .dynamodb
        .put_item()
        .table_name(stack.deps.store.table_name())
        .item("pk", AttributeValue::S(format!("TENANT#{damaged}")))
        .item("sk", AttributeValue::S("CONFIG".to_owned()))
        .item("config", AttributeValue::S("{\"tenant\": 7".to_owned()))
        .item("version", AttributeValue::N("2".to_owned()))
        .send()
        .await
        .expect("damage the config");

    let jobs = RefusesOne {
        jobs: &stack.deps.jobs,
        refused: refused.clone(),
    };
    let error = scheduler::handle(&stack.deps.store, &jobs, now)
        .await
        .expect_err("two tenants failed");
    assert_eq!((error.due, error.failed), (30, 2), "{error}");
    assert!(
        error
            .to_string()
            .starts_with("2 of 30 due tenants could not be queued: tenant "),
        "{error}"
    );

    let others: BTreeSet<TenantId> = tenants
        .iter()
        .filter(|tenant| **tenant != damaged && **tenant != refused)
        .cloned()
        .collect();
    let queued = drain(&stack).await;
    assert_eq!(queued.keys().cloned().collect::<BTreeSet<_>>(), others);
    assert!(queued.values().all(|jobs| jobs.len() == 1), "{queued:?}");
    // The two stay due, to be tried again by the next tick; the others moved on.
    assert_eq!(
        due_at(&stack, now).await,
        BTreeSet::from([damaged.clone(), refused.clone()])
    );
    assert_eq!(due_at(&stack, now + Duration::minutes(60)).await.len(), 30);
}

/// The measurement behind docs/benchmarks.md's scheduler tick: one tick of 1,000 due tenants on
/// moto through the real adapters. Not a regular test (seeding alone takes a while):
/// `cargo test -p lambda-tests --test lambda -- --ignored --nocapture tick::a_tick_of_1000`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a measurement; run it with --ignored"]
async fn a_tick_of_1000_due_tenants() {
    // A moto of its own: 3,000 items would slow every later reader of the shared moto's state.
    let moto = Moto::private();
    let stack = Stack::on(&moto).await;
    let now = tick_time();
    let seeding = Instant::now();
    let tenants = seed_due_tenants(&stack, 1000, now - Duration::minutes(5)).await;
    let seeded = seeding.elapsed();

    // The tick's own log line has the time of each round (read, queue, move).
    test_support::logs::capture("scheduler=info");
    let started = Instant::now();
    let outcome = scheduler::handle(&stack.deps.store, &stack.deps.jobs, now).await;
    let tick = started.elapsed();
    println!(
        "scheduler tick of {} due tenants on moto: {:.2} s (seeding took {:.1} s)",
        tenants.len(),
        tick.as_secs_f64(),
        seeded.as_secs_f64()
    );
    for line in test_support::logs::text().lines() {
        if line.contains("schedule tick") {
            println!("{line}");
        }
    }
    // moto's TransactWriteItems copies the whole table and answers HTTP 500 when another write
    // changes it meanwhile; a move that fails past the SDK's retries leaves its tenant due, for
    // the next tick, which this one then is.
    if let Err(error) = outcome {
        println!("{error}");
        let retry = scheduler::handle(&stack.deps.store, &stack.deps.jobs, now)
            .await
            .expect("the next tick queues the rest");
        assert_eq!(retry.len(), error.failed);
    }
    assert_eq!(drain(&stack).await.len(), 1000, "each tenant queued once");
    assert!(due_at(&stack, now).await.is_empty());
}
