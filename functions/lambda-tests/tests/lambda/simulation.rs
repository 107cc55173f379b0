//! A day's first three hours of a 1,000-tenant stack, on the local stack: a private moto, one
//! in-process fake Personio per tenant and a JSON directory as each tenant's app. Three scheduler
//! ticks an hour apart (simulated time) with HR changes between them; each tick is the real
//! scheduler handler queueing real SQS messages, and the real worker handler run on the messages
//! received, by concurrent instances as Lambda's event source mapping runs them. It checks the
//! outcome (every tenant ran three times, nothing failed, the apps hold who they should) and
//! reports what each tenant-run cost: time, DynamoDB calls and units, bytes stored, Personio,
//! SQS, Secrets Manager and SES calls, Lambda GB-seconds (`support::sim_report`).
//!
//! Not a regular test: `cargo test --release -p lambda-tests --test lambda -- --ignored --nocapture
//! simulation` (a debug build works too, about three times slower). `SIM_TENANTS` (default 1000)
//! and `SIM_WORKERS` (default: the template's `WorkerConcurrency`) change the scale. The report
//! is printed and written to `target/simulation.md`.
//!
//! Time on the 2-core project machine (release build, 2026-12-04): 50 tenants 2.7 min; 400
//! tenants (162,197 people) 25 min, of which the first tick 14.7 min and the end (400 fakes and
//! 162,000 user files removed) about 4 min. 1,000 tenants (394,989 people) 56 min, of which the
//! first tick 34 min: the first sync writes about two DynamoDB items per person, one `PutItem`
//! each, and the one single-threaded moto serves them at about 200 people a second here. The
//! moto must be started with `infra/moto-fixes` (test support does): without it moto keeps every
//! item it ever wrote and reached 22.8 GB in the third tick. `SIM_TENANTS=400` fits in half an
//! hour. `SIM_TICK_MINUTES` (default 90) bounds each tick.

use crate::support::aws_proxy::AwsProxy;
use crate::support::churn::{churn, SplitMix};
use crate::support::sim_report::{self, band, stats_since, Setup, Tick, BANDS};
use crate::support::sim_tenants::{check_apps, check_runs, Simulated, TICKS};
use crate::support::split_schedule::SplitSchedule;
use crate::support::stack::Stack;
use crate::support::template::{self, FunctionSettings};
use crate::support::tenant::{Spec, Tenant};
use crate::support::tick_time;
use crate::support::worker_pool;
use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_sqs::types::QueueAttributeName;
use chrono::{DateTime, Duration, Utc};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Instant;
use sync_aws::{create_table, DynamoStore, StoreSettings};
use sync_core::ports::ConfigStore;
use test_support::moto::{unique, Moto};

/// Tenant sizes are drawn from this seed, so every run simulates the same tenants.
const SEED: u64 = 17;
/// The smallest and largest company.
const PEOPLE: (f64, f64) = (20.0, 2_000.0);
/// Onboardings in flight at once.
const ONBOARDING: usize = 4;
/// How long one tick may take before the simulation fails, unless `SIM_TICK_MINUTES` says: a
/// 1,000-tenant first sync did not finish in 30 minutes on the 2-core machine while other work
/// ran on it (547 of 1,000 tenants done).
const TICK_DEADLINE: std::time::Duration = std::time::Duration::from_secs(90 * 60);

/// `count` company sizes, log-uniform between `PEOPLE.0` and `PEOPLE.1`: as many tenants of
/// 20–200 people as of 200–2,000.
fn sizes(count: usize) -> Vec<usize> {
    let mut random = SplitMix::new(SEED);
    let (low, high) = (PEOPLE.0.ln(), PEOPLE.1.ln());
    (0..count)
        .map(|_| (low + random.unit() * (high - low)).exp().round() as usize)
        .collect()
}

fn env_number(name: &str) -> Option<usize> {
    std::env::var(name).ok().and_then(|text| text.parse().ok())
}

/// A worker or scheduler instance of the stack: clients of its own, sent through `endpoint`.
async fn instance(stack: &Stack, function: &FunctionSettings, endpoint: &str) -> Stack {
    Stack {
        moto_url: stack.moto_url.clone(),
        deps: stack.deps_of(function, endpoint).await,
        queue_name: stack.queue_name.clone(),
        sender: stack.sender.clone(),
        misses: webhook::Misses::default(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "a measurement of 20 minutes to an hour; run it with --ignored"]
async fn simulation_of_1000_tenants_over_three_ticks() {
    let began = Instant::now();
    let count = env_number("SIM_TENANTS").unwrap_or(1_000);
    let worker_settings = template::function("WorkerFunction");
    let scheduler_settings = template::function("SchedulerFunction");
    let default_concurrency: usize = template::parameter_default("WorkerConcurrency")
        .parse()
        .expect("a number");
    let concurrency = env_number("SIM_WORKERS").unwrap_or(default_concurrency);

    // A moto of its own: the simulation's state would slow every other user of a shared one.
    let moto = Moto::private();
    let stack = Arc::new(Stack::on(&moto).await);
    // The deployed queue's visibility timeout (moto's default is 30 s): a long first sync must
    // not become visible to a second instance while it runs.
    let visibility = template::resource_number("JobsQueue", "VisibilityTimeout");
    stack
        .deps
        .clients
        .sqs
        .set_queue_attributes()
        .queue_url(stack.queue_url())
        .attributes(
            QueueAttributeName::VisibilityTimeout,
            visibility.to_string(),
        )
        .send()
        .await
        .expect("set the visibility timeout");
    let schedule_table = unique("schedule");
    create_table(&stack.deps.clients.dynamodb, &schedule_table)
        .await
        .expect("create the schedule table");
    let schedule_on = |client: &aws_sdk_dynamodb::Client| {
        DynamoStore::with_settings(client.clone(), StoreSettings::new(schedule_table.as_str()))
    };
    let scheduler_proxy = AwsProxy::start(&moto.url).await;
    let worker_proxy = AwsProxy::start(&moto.url).await;

    // Onboarding, as the admin API does it, straight to moto (not counted).
    let sizes = sizes(count);
    let mut onboarding = tokio::task::JoinSet::new();
    let mut onboarded: BTreeMap<usize, Simulated> = BTreeMap::new();
    for (n, people) in sizes.iter().copied().enumerate() {
        if onboarding.len() >= ONBOARDING {
            let (n, tenant) = onboarding
                .join_next()
                .await
                .expect("a task")
                .expect("onboarded");
            onboarded.insert(n, tenant);
        }
        let stack = Arc::clone(&stack);
        let seed = SEED.wrapping_mul(1_000_003).wrapping_add(n as u64);
        let worker_settings = worker_settings.clone();
        onboarding.spawn(async move {
            let table = unique("sim");
            create_table(&stack.deps.clients.dynamodb, &table)
                .await
                .expect("create the tenant's table");
            let view = stack
                .with_table(&table, &worker_settings, &stack.moto_url)
                .await;
            let spec = Spec {
                extra: "[schedule]\nevery_minutes = 60\n".to_owned(),
                ..Spec::directory(people, seed)
            };
            let tenant = Tenant::onboard(&view, spec).await;
            let people = tenant.fake.company().employees.len();
            let changes = Vec::new();
            (
                n,
                Simulated {
                    tenant,
                    table,
                    view,
                    people,
                    seed,
                    changes,
                },
            )
        });
    }
    while let Some(done) = onboarding.join_next().await {
        let (n, tenant) = done.expect("onboarded");
        onboarded.insert(n, tenant);
    }
    let mut tenants: Vec<Simulated> = onboarded.into_values().collect();
    let onboarded_in = began.elapsed();

    // Every tenant due just before the first tick, one at a time: moto copies the table for
    // each item of each move, and fails a move that races another.
    let first_tick = tick_time();
    let seeding = Instant::now();
    let schedule = schedule_on(&stack.deps.clients.dynamodb);
    for simulated in &tenants {
        schedule
            .set_next_due(&simulated.tenant.id, first_tick - Duration::minutes(5))
            .await
            .expect("schedule the tenant");
    }
    let seeded_in = seeding.elapsed();
    let people: BTreeMap<String, usize> = tenants
        .iter()
        .map(|s| (s.tenant.id.to_string(), s.people))
        .collect();
    print_sizes(&people, onboarded_in, seeded_in);

    let mut ticks = Vec::new();
    let mut now = first_tick;
    for number in 1..=TICKS {
        if number > 1 {
            for simulated in &mut tenants {
                let round = simulated.changes.len() as u64 + 1;
                let changes = churn(&simulated.tenant.fake, round, simulated.seed);
                simulated.changes.push(changes);
            }
        }
        let tick = run_tick(
            &stack,
            &tenants,
            number,
            now,
            (&scheduler_proxy, &worker_proxy),
            (&scheduler_settings, &worker_settings),
            concurrency,
            &schedule_table,
        )
        .await;
        let mut durations: Vec<f64> = tick
            .tick
            .invocations
            .iter()
            .map(|i| i.duration.as_secs_f64())
            .collect();
        durations.sort_by(f64::total_cmp);
        println!(
            "tick {number}: {:.1} s to the last tenant done; scheduler {:?}; runs p50 {:.2} s, max {:.2} s",
            tick.tick.wall.as_secs_f64(),
            tick.tick.scheduler,
            durations.get(durations.len() / 2).copied().unwrap_or_default(),
            durations.last().copied().unwrap_or_default(),
        );
        now = tick.last_event + Duration::minutes(60);
        ticks.push(tick.tick);
    }

    let checking = Instant::now();
    let (incremental, mut problems) = check_runs(&tenants).await;
    for (tick, incremental) in ticks.iter_mut().zip(incremental) {
        tick.incremental = incremental;
    }
    problems.extend(check_apps(&tenants).await);
    let checked_in = checking.elapsed();

    let (stored, schedule_bytes) = stored_bytes(
        &stack,
        &worker_settings,
        &worker_proxy,
        &tenants,
        &schedule_table,
    )
    .await;
    let setup = Setup {
        people,
        concurrency,
        concurrency_why: format!(
            "the template's WorkerConcurrency default, the SQS event source's MaximumConcurrency \
             (SIM_WORKERS={concurrency} to change it)"
        ),
        worker_mb: worker_settings.memory_mb,
        scheduler_mb: scheduler_settings.memory_mb,
    };
    let mut md = sim_report::report(&setup, &ticks, &stored, schedule_bytes);
    md.heading("The command");
    let total: usize = setup.people.values().sum();
    let bands: Vec<String> = BANDS
        .iter()
        .map(|upper| {
            let label = band(*upper);
            let members: Vec<usize> = setup
                .people
                .values()
                .copied()
                .filter(|p| band(*p) == label)
                .collect();
            format!(
                "{label} people: {} tenants, {} people",
                members.len(),
                members.iter().sum::<usize>()
            )
        })
        .collect();
    md.paragraph(&format!(
        "Tenants of 20–2,000 people, log-uniform from seed {SEED}: {total} people ({}). Each \
         tenant has its own table and the schedule index one more (moto's Query reads the whole \
         table and its TransactWriteItems copies it; see support/split_schedule.rs): the calls, \
         items and bytes are those of one table.",
        bands.join("; ")
    ));
    md.paragraph(&format!(
        "{count} tenants, {TICKS} ticks. Onboarding {:.0} s, scheduling them {:.0} s, checking \
         runs and apps {:.0} s; the whole test {:.1} min.",
        onboarded_in.as_secs_f64(),
        seeded_in.as_secs_f64(),
        checked_in.as_secs_f64(),
        began.elapsed().as_secs_f64() / 60.0
    ));
    println!("{}", md.text());
    let path = test_support::workspace_root().join("target/simulation.md");
    std::fs::create_dir_all(path.parent().expect("a folder")).expect("create target/");
    std::fs::write(&path, md.text()).expect("write the report");
    println!("report written to {}", path.display());
    // The figures are written first: a failed check is easier to read beside them.
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// The size distribution, printed before the ticks.
fn print_sizes(
    people: &BTreeMap<String, usize>,
    onboarded_in: std::time::Duration,
    seeded_in: std::time::Duration,
) {
    let sizes: Vec<f64> = people.values().map(|p| *p as f64).collect();
    let total: usize = people.values().sum();
    println!(
        "{} tenants, {total} people: min {}, median {}, max {} (onboarded in {:.0} s, scheduled in {:.0} s)",
        people.len(),
        crate::support::markdown::quantile(&sizes, 0.0),
        crate::support::markdown::quantile(&sizes, 0.5),
        crate::support::markdown::quantile(&sizes, 1.0),
        onboarded_in.as_secs_f64(),
        seeded_in.as_secs_f64()
    );
    for upper in BANDS {
        let label = band(upper);
        let members: Vec<usize> = people
            .values()
            .copied()
            .filter(|p| band(*p) == label)
            .collect();
        println!(
            "  {label} people: {} tenants, {} people",
            members.len(),
            members.iter().sum::<usize>()
        );
    }
}

/// A tick and the simulated time of its last scheduler invocation.
struct TickRun {
    tick: Tick,
    last_event: DateTime<Utc>,
}

/// One tick at `now`: the scheduler and `concurrency` worker instances start together, as in
/// AWS; it ends when every tenant's job completed. Checks that every tenant was queued and run
/// exactly once, and that the queue is empty afterwards.
#[allow(clippy::too_many_arguments)]
async fn run_tick(
    stack: &Stack,
    tenants: &[Simulated],
    number: usize,
    now: DateTime<Utc>,
    (scheduler_proxy, worker_proxy): (&AwsProxy, &AwsProxy),
    (scheduler_settings, worker_settings): (&FunctionSettings, &FunctionSettings),
    concurrency: usize,
    schedule_table: &str,
) -> TickRun {
    let before: Vec<_> = tenants.iter().map(|s| s.tenant.fake.stats()).collect();
    // Fresh instances each tick: an hour apart, secret caches (5 minutes) have expired.
    let mut instances = Vec::new();
    for _ in 0..concurrency {
        instances.push(instance(stack, worker_settings, &worker_proxy.url).await);
    }
    let scheduler = instance(stack, scheduler_settings, &scheduler_proxy.url).await;
    let configs = tenants
        .iter()
        .map(|s| {
            let store = DynamoStore::with_settings(
                scheduler.deps.clients.dynamodb.clone(),
                StoreSettings::new(s.table.as_str()),
            );
            (s.tenant.id.clone(), store)
        })
        .collect();
    let tables = tenants
        .iter()
        .map(|s| (s.tenant.id.to_string(), s.table.clone()))
        .collect();
    let store = SplitSchedule {
        configs,
        schedule: DynamoStore::with_settings(
            scheduler.deps.clients.dynamodb.clone(),
            StoreSettings::new(schedule_table),
        ),
    };
    let _ = scheduler_proxy.take();
    let _ = worker_proxy.take();

    let started = Instant::now();
    let (set_expected, expected) = tokio::sync::watch::channel(None);
    let pool = tokio::spawn(worker_pool::drain(
        instances,
        Arc::new(tables),
        worker_settings.clone(),
        worker_proxy.url.clone(),
        expected,
        started
            + env_number("SIM_TICK_MINUTES").map_or(TICK_DEADLINE, |minutes| {
                std::time::Duration::from_secs(minutes as u64 * 60)
            }),
    ));
    // A tick that fails (moto answers a move that raced another with HTTP 500) is retried by
    // Lambda with the same event; the tenants it could not move are queued again, which the
    // queue's deduplication collapses.
    let mut scheduler_runs = Vec::new();
    let mut queued: Vec<String> = Vec::new();
    loop {
        let invocation = Instant::now();
        let outcome = scheduler::handle(&store, &scheduler.deps.jobs, now).await;
        scheduler_runs.push(invocation.elapsed());
        match outcome {
            Ok(tenants) => {
                queued.extend(tenants.iter().map(ToString::to_string));
                break;
            }
            Err(error) => {
                println!("tick {number}: {error}; retried");
                assert!(
                    scheduler_runs.len() < 3,
                    "the tick failed three times: {error}"
                );
            }
        }
    }
    // Every tenant is due at every tick: that many jobs.
    let _ = set_expected.send(Some(tenants.len()));
    let invocations = pool.await.expect("the workers");
    let last = invocations
        .iter()
        .map(|i| i.finished)
        .max()
        .unwrap_or(started);
    let wall = last - started;

    let ids: BTreeSet<String> = tenants.iter().map(|s| s.tenant.id.to_string()).collect();
    let mut completed: BTreeMap<&str, usize> = BTreeMap::new();
    for invocation in invocations.iter().filter(|i| i.completed) {
        *completed.entry(invocation.tenant.as_str()).or_default() += 1;
    }
    assert_eq!(
        completed
            .keys()
            .map(|id| (*id).to_owned())
            .collect::<BTreeSet<_>>(),
        ids,
        "tick {number}: every tenant's job completed"
    );
    assert!(
        completed.values().all(|runs| *runs == 1),
        "tick {number}: a tenant ran twice for one due time: {:?}",
        completed
            .iter()
            .filter(|(_, runs)| **runs > 1)
            .collect::<Vec<_>>()
    );
    assert!(
        stack.receive(10, 0).await.is_empty(),
        "tick {number}: the queue is empty afterwards"
    );
    let personio = tenants
        .iter()
        .zip(&before)
        .map(|(s, before)| {
            (
                s.tenant.id.to_string(),
                stats_since(&s.tenant.fake.stats(), before),
            )
        })
        .collect();
    let tick = Tick {
        number,
        scheduler: scheduler_runs,
        wall,
        invocations,
        scheduler_calls: scheduler_proxy.take(),
        worker_calls: worker_proxy.take(),
        personio,
        incremental: 0,
    };
    TickRun {
        tick,
        last_event: now,
    }
}

/// Each tenant's bytes and items in the table, read through `proxy` (which sizes what it reads),
/// and the schedule index's bytes.
async fn stored_bytes(
    stack: &Stack,
    worker_settings: &FunctionSettings,
    proxy: &AwsProxy,
    tenants: &[Simulated],
    schedule_table: &str,
) -> (BTreeMap<String, (u64, u64)>, u64) {
    let reader = instance(stack, worker_settings, &proxy.url).await;
    let client = &reader.deps.clients.dynamodb;
    let _ = proxy.take();
    for simulated in tenants {
        let pk = format!("TENANT#{}", simulated.tenant.id);
        read_partition(client, &simulated.table, &pk).await;
        // The tenant's `NEXTDUE` pointer, kept beside the index (`SplitSchedule`).
        read_partition(client, schedule_table, &pk).await;
    }
    read_partition(client, schedule_table, "SCHEDULE").await;
    let mut stored: BTreeMap<String, (u64, u64)> = BTreeMap::new();
    let mut schedule = 0;
    for ((tenant, _), tally) in proxy.take() {
        match tenant {
            Some(tenant) => {
                let entry = stored.entry(tenant).or_default();
                entry.0 += tally.bytes;
                entry.1 += tally.items;
            }
            None => schedule += tally.bytes,
        }
    }
    (stored, schedule)
}

/// Reads every item of partition `pk`, page by page.
async fn read_partition(client: &aws_sdk_dynamodb::Client, table: &str, pk: &str) {
    let mut start = None;
    loop {
        let page = client
            .query()
            .table_name(table)
            .key_condition_expression("pk = :pk")
            .expression_attribute_values(":pk", AttributeValue::S(pk.to_owned()))
            .set_exclusive_start_key(start)
            .send()
            .await
            .expect("read a partition");
        start = page.last_evaluated_key;
        if start.is_none() {
            return;
        }
    }
}
