//! What the tenant simulation (`simulation.rs`) measured, and its report as Markdown: per tick,
//! per tenant-run and per tenant-size band.

use super::aws_proxy::{Key, Tally};
use super::markdown::{number, quantile, Markdown};
use super::worker_pool::Invocation;
use fake_personio::Stats;
use std::collections::BTreeMap;
use std::time::Duration;

/// Tenant sizes are reported in these bands (people at most).
pub const BANDS: [usize; 3] = [100, 500, 2_000];

/// The band label of a tenant of `people`.
pub fn band(people: usize) -> String {
    let upper = BANDS
        .iter()
        .find(|&&upper| people <= upper)
        .unwrap_or(&BANDS[BANDS.len() - 1]);
    format!("≤ {}", number(*upper as f64, 0))
}

/// The setting the figures were taken with.
pub struct Setup {
    /// Tenant id → people in its company.
    pub people: BTreeMap<String, usize>,
    /// Worker instances at once.
    pub concurrency: usize,
    /// Why that many.
    pub concurrency_why: String,
    /// The worker's and the scheduler's `MemorySize` (MB).
    pub worker_mb: u64,
    /// The scheduler's.
    pub scheduler_mb: u64,
}

/// One tick.
pub struct Tick {
    /// 1, 2, 3.
    pub number: usize,
    /// Each scheduler invocation's duration (a failed tick is retried with the same event).
    pub scheduler: Vec<Duration>,
    /// From the first scheduler invocation's start to the last job's completion.
    pub wall: Duration,
    /// Every worker invocation.
    pub invocations: Vec<Invocation>,
    /// The scheduler's AWS calls.
    pub scheduler_calls: BTreeMap<Key, Tally>,
    /// The workers' (and the event source mapping's) AWS calls.
    pub worker_calls: BTreeMap<Key, Tally>,
    /// Each tenant's fake Personio counters over the tick.
    pub personio: BTreeMap<String, Stats>,
    /// Runs that read only the changes.
    pub incremental: usize,
}

/// Every Personio request of a tenant-run.
pub fn personio_requests(stats: &Stats) -> u64 {
    stats.auth_requests
        + stats.token_requests
        + stats.list_requests
        + stats.single_requests
        + stats.attribute_requests
        + stats.picture_requests
        + stats.v2_person_requests
        + stats.v2_employment_requests
        + stats.v2_reference_requests
}

/// The difference of two counters.
pub fn stats_since(after: &Stats, before: &Stats) -> Stats {
    Stats {
        auth_requests: after.auth_requests - before.auth_requests,
        list_requests: after.list_requests - before.list_requests,
        single_requests: after.single_requests - before.single_requests,
        attribute_requests: after.attribute_requests - before.attribute_requests,
        picture_requests: after.picture_requests - before.picture_requests,
        too_many_requests: after.too_many_requests - before.too_many_requests,
        server_errors: after.server_errors - before.server_errors,
        unauthorized: after.unauthorized - before.unauthorized,
        token_requests: after.token_requests - before.token_requests,
        webhook_requests: after.webhook_requests - before.webhook_requests,
        write_requests: after.write_requests - before.write_requests,
        v2_person_requests: after.v2_person_requests - before.v2_person_requests,
        v2_employment_requests: after.v2_employment_requests - before.v2_employment_requests,
        v2_reference_requests: after.v2_reference_requests - before.v2_reference_requests,
    }
}

/// Sum of the tallies of `calls` whose operation starts with `prefix` and whose tenant passes.
fn sum(calls: &BTreeMap<Key, Tally>, prefix: &str, tenant: impl Fn(Option<&str>) -> bool) -> Tally {
    let mut total = Tally::default();
    for ((who, operation), tally) in calls {
        if operation.starts_with(prefix) && tenant(who.as_deref()) {
            total += *tally;
        }
    }
    total
}

/// `(operation, tally)` of calls starting with `prefix`, over every tenant.
fn by_operation(calls: &BTreeMap<Key, Tally>, prefix: &str) -> BTreeMap<String, Tally> {
    let mut operations: BTreeMap<String, Tally> = BTreeMap::new();
    for ((_, operation), tally) in calls {
        if let Some(name) = operation.strip_prefix(prefix) {
            *operations.entry(name.to_owned()).or_default() += *tally;
        }
    }
    operations
}

/// One figure of a tally.
type Measure = fn(&Tally) -> f64;

fn seconds(duration: Duration) -> f64 {
    duration.as_secs_f64()
}

fn per(value: f64, runs: usize) -> f64 {
    value / runs.max(1) as f64
}

/// The report of `ticks` (and the storage after them: tenant → (bytes, items), and the schedule
/// index's bytes) as Markdown.
pub fn report(
    setup: &Setup,
    ticks: &[Tick],
    stored: &BTreeMap<String, (u64, u64)>,
    schedule_bytes: u64,
) -> Markdown {
    let mut md = Markdown::default();
    let worker_gb = setup.worker_mb as f64 / 1024.0;
    let scheduler_gb = setup.scheduler_mb as f64 / 1024.0;

    md.heading("Ticks: time and Lambda GB-seconds");
    md.paragraph(&format!(
        "Worker concurrency {} ({}). GB-s = each invocation's wall duration × MemorySize from \
         template.yaml (worker {} MB, scheduler {} MB): durations of a {} build on this 2-core \
         machine (shared with other work) against one single-threaded moto and in-process fakes, \
         not AWS. The {} instances share 2 cores, so a run's wall time includes waiting for CPU \
         and for moto: GB-s here overstate what Lambda, with a vCPU share per instance, bills.",
        setup.concurrency,
        setup.concurrency_why,
        setup.worker_mb,
        setup.scheduler_mb,
        if cfg!(debug_assertions) {
            "debug"
        } else {
            "release"
        },
        setup.concurrency
    ));
    let rows: Vec<Vec<String>> = ticks
        .iter()
        .map(|tick| {
            let runs = tick.invocations.len();
            let durations: Vec<f64> = tick
                .invocations
                .iter()
                .map(|i| seconds(i.duration))
                .collect();
            let total: f64 = durations.iter().sum();
            let scheduler: f64 = tick.scheduler.iter().map(|d| seconds(*d)).sum();
            vec![
                format!("tick {}", tick.number),
                format!(
                    "{} full, {} incremental",
                    runs - tick.incremental.min(runs),
                    tick.incremental
                ),
                format!("{} ({}×)", number(scheduler, 1), tick.scheduler.len()),
                number(seconds(tick.wall), 1),
                number(quantile(&durations, 0.5), 2),
                number(quantile(&durations, 0.99), 2),
                number(quantile(&durations, 1.0), 2),
                number(per(total * worker_gb, runs), 3),
                number(total * worker_gb, 0),
                number(scheduler * scheduler_gb, 1),
            ]
        })
        .collect();
    md.table(
        &[
            "tick",
            "runs",
            "scheduler s (invocations)",
            "tick → last tenant done s",
            "run p50 s",
            "run p99 s",
            "run max s",
            "worker GB-s / run",
            "worker GB-s, all runs",
            "scheduler GB-s",
        ],
        &rows,
    );

    md.heading("DynamoDB per tenant-run (worker)");
    md.paragraph(
        "Calls (items) per run, summed over the tick and divided by its runs. RRU: one per started \
         4 KB of a GetItem's item or a Query page, half when eventually consistent; WRU: one per \
         started KB of each item written, two in a transaction. Deletes are priced at 1 WRU and \
         updates at their key and new values (DynamoDB charges the item's size), so WRU is a \
         lower bound.",
    );
    let mut operations: Vec<String> = Vec::new();
    for tick in ticks {
        for name in by_operation(&tick.worker_calls, "dynamodb:").keys() {
            if !operations.contains(name) {
                operations.push(name.clone());
            }
        }
    }
    let mut rows = Vec::new();
    for name in &operations {
        let mut row = vec![name.clone()];
        for tick in ticks {
            let runs = tick.invocations.len();
            let tally = by_operation(&tick.worker_calls, "dynamodb:")
                .get(name)
                .copied()
                .unwrap_or_default();
            row.push(format!(
                "{} ({})",
                number(per(tally.calls as f64, runs), 1),
                number(per(tally.items as f64, runs), 1)
            ));
        }
        rows.push(row);
    }
    let unit_rows: [(&str, Measure); 4] = [
        ("RRU", |t| t.read_units),
        ("of it eventually consistent", |t| t.eventual_read_units),
        ("WRU", |t| t.write_units),
        ("KB written or read", |t| t.bytes as f64 / 1024.0),
    ];
    for (label, value) in unit_rows {
        let mut row = vec![format!("**{label}**")];
        for tick in ticks {
            let total = sum(&tick.worker_calls, "dynamodb:", |_| true);
            row.push(number(per(value(&total), tick.invocations.len()), 1));
        }
        rows.push(row);
    }
    let header: Vec<String> = std::iter::once("operation: calls (items) / run".to_owned())
        .chain(ticks.iter().map(|t| format!("tick {}", t.number)))
        .collect();
    md.table(
        &header.iter().map(String::as_str).collect::<Vec<_>>(),
        &rows,
    );

    md.heading("Scheduler per tick");
    let rows: Vec<Vec<String>> = ticks
        .iter()
        .map(|tick| {
            let dynamo = by_operation(&tick.scheduler_calls, "dynamodb:");
            let calls: Vec<String> = dynamo
                .iter()
                .map(|(name, t)| format!("{name} {}", number(t.calls as f64, 0)))
                .collect();
            let total = sum(&tick.scheduler_calls, "dynamodb:", |_| true);
            let sqs = by_operation(&tick.scheduler_calls, "sqs:");
            let sqs: Vec<String> = sqs
                .iter()
                .map(|(name, t)| format!("{name} {} ({} entries)", t.calls, t.items))
                .collect();
            vec![
                format!("tick {}", tick.number),
                calls.join(", "),
                number(total.read_units, 0),
                number(total.write_units, 0),
                sqs.join(", "),
            ]
        })
        .collect();
    md.table(
        &["tick", "DynamoDB calls", "RRU", "WRU", "SQS calls"],
        &rows,
    );

    md.heading("Personio, SQS, Secrets Manager, SES per tenant-run");
    let rows: Vec<Vec<String>> = ticks
        .iter()
        .map(|tick| {
            let runs = tick.invocations.len();
            let stats: Vec<&Stats> = tick.personio.values().collect();
            let field = |f: fn(&Stats) -> u64| per(stats.iter().map(|s| f(s) as f64).sum(), runs);
            let worker =
                |operation: &str| sum(&tick.worker_calls, operation, |_| true).calls as f64;
            vec![
                format!("tick {}", tick.number),
                number(field(personio_requests), 2),
                number(field(|s| s.auth_requests + s.token_requests), 2),
                number(field(|s| s.list_requests), 2),
                number(
                    field(|s| s.single_requests + s.attribute_requests + s.picture_requests),
                    2,
                ),
                number(worker("sqs:ReceiveMessage"), 0),
                number(worker("sqs:DeleteMessage"), 0),
                number(
                    worker("sqs:SendMessage") + worker("sqs:ChangeMessageVisibility"),
                    0,
                ),
                number(per(worker("secretsmanager:GetSecretValue"), runs), 2),
                number(per(worker("ses:"), runs), 2),
            ]
        })
        .collect();
    md.table(
        &[
            "tick",
            "Personio requests / run",
            "of them token",
            "lists",
            "single, attributes, pictures",
            "SQS ReceiveMessage (tick; idle long polls included)",
            "SQS DeleteMessage (tick)",
            "SQS SendMessage + ChangeMessageVisibility (tick)",
            "GetSecretValue / run",
            "SES emails / run",
        ],
        &rows,
    );

    md.heading("Per tenant-size band");
    md.paragraph("Means per tenant-run of the band.");
    let mut rows = Vec::new();
    for upper in BANDS {
        let label = band(upper);
        let members: Vec<&String> = setup
            .people
            .iter()
            .filter(|(_, people)| band(**people) == label)
            .map(|(id, _)| id)
            .collect();
        let people: f64 = members.iter().map(|id| setup.people[*id] as f64).sum();
        for tick in ticks {
            let runs: Vec<&Invocation> = tick
                .invocations
                .iter()
                .filter(|i| members.contains(&&i.tenant))
                .collect();
            let n = runs.len();
            let dynamo = sum(&tick.worker_calls, "dynamodb:", |who| {
                who.is_some_and(|who| members.iter().any(|m| m.as_str() == who))
            });
            let personio: f64 = members
                .iter()
                .filter_map(|id| tick.personio.get(*id))
                .map(|s| personio_requests(s) as f64)
                .sum();
            let seconds: f64 = runs.iter().map(|i| i.duration.as_secs_f64()).sum();
            rows.push(vec![
                format!("{label}, tick {}", tick.number),
                number(members.len() as f64, 0),
                number(per(people, members.len()), 0),
                number(per(dynamo.calls as f64, n), 1),
                number(per(dynamo.read_units, n), 1),
                number(per(dynamo.write_units, n), 1),
                number(per(personio, n), 1),
                number(per(seconds, n), 2),
                number(per(seconds * worker_gb, n), 3),
            ]);
        }
    }
    md.table(
        &[
            "band, tick",
            "tenants",
            "people / tenant",
            "DynamoDB calls / run",
            "RRU / run",
            "WRU / run",
            "Personio requests / run",
            "run s",
            "GB-s / run",
        ],
        &rows,
    );

    md.heading("Bytes stored in DynamoDB after the three ticks");
    md.paragraph(&format!(
        "Each tenant's partition (`TENANT#<id>`), item sizes by DynamoDB's rules (names + values); \
         DynamoDB bills 100 bytes more per item for storage. The schedule index adds {} bytes \
         a tenant.",
        number(per(schedule_bytes as f64, stored.len()), 0)
    ));
    let mut rows = Vec::new();
    let all: Vec<&String> = stored.keys().collect();
    let mut groups: Vec<(String, Vec<&String>)> = vec![("all tenants".to_owned(), all)];
    for upper in BANDS {
        let label = band(upper);
        let members = stored
            .keys()
            .filter(|id| setup.people.get(*id).is_some_and(|p| band(*p) == label))
            .collect();
        groups.push((label, members));
    }
    for (label, members) in groups {
        let bytes: Vec<f64> = members.iter().map(|id| stored[*id].0 as f64).collect();
        let items: Vec<f64> = members.iter().map(|id| stored[*id].1 as f64).collect();
        let per_person: Vec<f64> = members
            .iter()
            .map(|id| {
                stored[*id].0 as f64 / setup.people.get(*id).copied().unwrap_or(1).max(1) as f64
            })
            .collect();
        let kb = |q: f64| number(quantile(&bytes, q) / 1024.0, 1);
        rows.push(vec![
            label,
            number(members.len() as f64, 0),
            kb(0.0),
            kb(0.5),
            kb(1.0),
            number(bytes.iter().sum::<f64>() / 1_048_576.0, 1),
            number(quantile(&items, 0.5), 0),
            format!(
                "{} / {} / {}",
                number(quantile(&per_person, 0.0), 0),
                number(quantile(&per_person, 0.5), 0),
                number(quantile(&per_person, 1.0), 0)
            ),
        ]);
    }
    md.table(
        &[
            "tenants",
            "count",
            "KB min",
            "KB median",
            "KB max",
            "MB total",
            "items median",
            "bytes / person min / median / max",
        ],
        &rows,
    );
    md
}
