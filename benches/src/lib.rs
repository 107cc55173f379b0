//! What the benchmarks share: the demo tenant's config, a realistic company read the way the
//! Personio client reads it, and timing summaries.
//!
//! # Layout
//! - `benches/plan.rs`: map + scope + plan of 10,000 and 100,000 people on one core.
//! - `benches/fetch.rs`: a full fetch from the rate-limited fake, read both ways Personio's limit
//!   can be enforced, against each floor and a sequential peer.
//! - `benches/incremental.rs`: incremental scheduled runs of a 10,000-person tenant: Personio
//!   requests and time with no change and with 20 changes.
//! - `benches/v2.rs`: a full read of 1,000 and 10,000 people through Personio v2 beside v1.
//! - `benches/rss.rs`: peak memory of a 100,000-person `personio-sync run --dry-run`.
//! - `benches/console.rs`: server time of the console's run report (10,000 changes) and overview
//!   (1,000 runs).
//!
//! Results and the commands that produce them are in `docs/benchmarks.md`.

use anyhow::Context;
// Every bench measures with the allocator the binaries ship with (docs/decisions/0021-jemalloc.md).
use chrono::NaiveDate;
use fake_personio::{employee_json, generate_company, CompanySpec};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::process::ExitCode;
use std::time::Duration;
use sync_allocator as _;
use sync_core::config::TenantConfig;
use sync_core::employee::{AttributeInfo, Employee};
use sync_core::ids::AccountId;
use sync_core::personio::labels;
use sync_core::personio::normalise_selected;

/// The demo tenant's configuration (`examples/demo.toml`): default mapping plus a custom field
/// and a value map, department groups, three statuses in scope — a typical tenant.
pub const DEMO_CONFIG: &str = include_str!("../../examples/demo.toml");

/// Seed of every generated company, so runs on different days compare.
pub const SEED: u64 = 42;

/// Headcounts given after `--` (`cargo bench -p benches --bench plan -- 10000`; `_` and `,` may
/// group digits), else `default`. Cargo's own `--bench` flag is ignored.
pub fn headcounts(default: &[usize]) -> Vec<usize> {
    let given: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|arg| arg.replace(['_', ','], "").parse().ok())
        .collect();
    if given.is_empty() {
        default.to_vec()
    } else {
        given
    }
}

/// Runs an async bench on a multi-threaded runtime. The exit code is 1 only when the bench could
/// not run: a missed target is a FAIL line, not a failure.
pub fn run_async(bench: impl std::future::Future<Output = anyhow::Result<()>>) -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: could not start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(bench) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

/// The demo tenant's configuration, parsed and validated.
pub fn demo_config() -> anyhow::Result<TenantConfig> {
    // The demo config carries the CLI's secret sources; the engine takes the rest.
    let (config, _) = sync_local::secrets::split(DEMO_CONFIG)
        .context("examples/demo.toml is not a usable configuration")?;
    Ok(config)
}

/// A generated company after normalisation, as the client's full fetch would hand it over.
pub struct Company {
    /// The readable employees.
    pub employees: Vec<Employee>,
    /// `universal_id` → attribute key, merged over everyone.
    pub universal_ids: BTreeMap<String, String>,
    /// People whose JSON `normalise` refused (the generator's deliberate oddities).
    pub unreadable: usize,
}

/// Generates `count` people with the fake's generator, renders each as the v1 JSON the list
/// endpoint sends, and normalises it keeping the attributes `keep` selects (all for `None`): the
/// same path a real fetch takes, minus HTTP. The CLI keeps `TenantConfig::used_attributes`.
pub fn company(
    count: usize,
    today: NaiveDate,
    keep: Option<&BTreeSet<String>>,
) -> anyhow::Result<Company> {
    let generated = generate_company(&CompanySpec {
        employees: count,
        seed: SEED,
        today,
    });
    let account = AccountId::default();
    let mut company = Company {
        employees: Vec::with_capacity(count),
        universal_ids: BTreeMap::new(),
        unreadable: 0,
    };
    // Attributes named by label (`label:Shirt size`) resolve to keys as the client resolves
    // them, from the labels Personio sends with every attribute.
    let wanted = labels::wanted(keep);
    let mut keep = keep.cloned();
    if !wanted.is_empty() {
        let first = generated
            .employees
            .first()
            .map(|person| employee_json(&generated, person, "http://127.0.0.1:1"))
            .context("an empty company has no attribute labels")?;
        let attributes: Vec<AttributeInfo> = first["attributes"]
            .as_object()
            .into_iter()
            .flatten()
            .map(|(key, wrapper)| AttributeInfo {
                key: key.clone(),
                label: wrapper["label"].as_str().unwrap_or_default().to_owned(),
                kind: String::new(),
                universal_id: None,
                options: Vec::new(),
            })
            .collect();
        let keys = labels::resolve(account.as_str(), &wanted, &attributes)?;
        if let Some(keep) = &mut keep {
            keep.extend(keys.values().cloned());
        }
        company.universal_ids.extend(keys);
    }
    let keep = keep.as_ref();
    for person in &generated.employees {
        let json = employee_json(&generated, person, "http://127.0.0.1:1");
        let attributes = json
            .get("attributes")
            .and_then(Value::as_object)
            .context("the fake rendered an employee without an `attributes` object")?;
        match normalise_selected(&account, attributes, keep) {
            Ok(read) => {
                company.universal_ids.extend(read.universal_ids);
                company.employees.push(read.employee);
            }
            Err(_) => company.unreadable += 1,
        }
    }
    Ok(company)
}

/// Median, minimum and maximum of a set of timings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Summary {
    /// The middle sample (the lower of the two middle ones for an even count).
    pub median: Duration,
    /// The fastest sample.
    pub min: Duration,
    /// The slowest sample.
    pub max: Duration,
    /// How many samples.
    pub samples: usize,
}

impl Summary {
    /// Summarises `samples`; `None` when there are none.
    pub fn of(samples: &[Duration]) -> Option<Self> {
        let mut sorted = samples.to_vec();
        sorted.sort_unstable();
        Some(Self {
            median: *sorted.get((sorted.len().checked_sub(1)?) / 2)?,
            min: *sorted.first()?,
            max: *sorted.last()?,
            samples: sorted.len(),
        })
    }
}

/// A duration in milliseconds, for printing.
pub fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

/// `PASS` or `FAIL`, for the result lines.
pub fn verdict(pass: bool) -> &'static str {
    if pass {
        "PASS"
    } else {
        "FAIL"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_summary_of_an_odd_count_takes_the_middle_sample() {
        let samples = [30, 10, 20].map(Duration::from_millis);
        let summary = Summary::of(&samples).unwrap();
        assert_eq!(summary.median, Duration::from_millis(20));
        assert_eq!(summary.min, Duration::from_millis(10));
        assert_eq!(summary.max, Duration::from_millis(30));
        assert_eq!(summary.samples, 3);
    }

    #[test]
    fn the_summary_of_nothing_is_none() {
        assert_eq!(Summary::of(&[]), None);
    }

    #[test]
    fn the_demo_config_parses() {
        demo_config().unwrap();
    }

    #[test]
    fn a_generated_company_normalises_with_universal_ids() {
        let today = NaiveDate::from_ymd_opt(2026, 3, 2).unwrap();
        let keep = demo_config().unwrap().attributes().fetch_filter();
        let all = company(50, today, None).unwrap();
        let kept = company(50, today, Some(&keep)).unwrap();
        assert_eq!(all.employees.len() + all.unreadable, 50);
        assert!(!all.universal_ids.is_empty());
        assert!(
            kept.employees[0].attributes.len() < all.employees[0].attributes.len(),
            "keeping the used attributes drops the others"
        );
    }
}
