//! The suite's knobs, read once from the environment:
//!
//! | variable | default | meaning |
//! | --- | --- | --- |
//! | `RELIABILITY_SEED` | `0x8a11_2026` | the suite's seed (decimal or `0x` hex) |
//! | `RELIABILITY_SCENARIOS` | 300 (2,000 with `RELIABILITY_SOAK=1`) | how many scenarios |
//! | `RELIABILITY_SOAK` | off | `1`: the long variant |
//! | `RELIABILITY_SOAK_MINUTES` | none | run scenarios until this many minutes have passed |
//! | `RELIABILITY_ONLY` | none | run only the scenario with this index (a replay) |
//! | `RELIABILITY_CONCURRENCY` | 6 | scenarios in flight at once |
//! | `RELIABILITY_AWS_SHARE` | 0.25 | share of scenarios on the AWS side (worker on moto) |

use std::time::{Duration, Instant};

/// The fixed seed of CI runs: any failure it finds reproduces with the same command.
pub const DEFAULT_SEED: u64 = 0x8a11_2026;
/// Scenarios per CI run.
pub const DEFAULT_SCENARIOS: usize = 300;
/// Scenarios of a soak run.
pub const SOAK_SCENARIOS: usize = 2_000;

/// What to run.
#[derive(Debug)]
pub struct Settings {
    /// The suite's seed.
    pub seed: u64,
    /// Scenarios to run (an upper bound when a duration is set).
    pub scenarios: usize,
    /// Only this scenario.
    pub only: Option<usize>,
    /// Stop starting scenarios after this long.
    pub duration: Option<Duration>,
    /// Scenarios in flight.
    pub concurrency: usize,
    /// Share of AWS scenarios.
    pub aws_share: f64,
}

fn var(name: &str) -> Option<String> {
    std::env::var(name)
        .ok()
        .map(|value| value.trim().to_owned())
        .filter(|value| !value.is_empty())
}

fn number(name: &str) -> Option<u64> {
    let text = var(name)?;
    let parsed = match text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
        Some(hex) => u64::from_str_radix(&hex.replace('_', ""), 16),
        None => text.replace('_', "").parse(),
    };
    Some(parsed.unwrap_or_else(|_| panic!("{name}={text} is not a number")))
}

impl Settings {
    /// Reads the environment.
    pub fn from_env() -> Self {
        let soak = var("RELIABILITY_SOAK").is_some_and(|v| v != "0");
        let duration = number("RELIABILITY_SOAK_MINUTES").map(|m| Duration::from_secs(m * 60));
        let default = if soak || duration.is_some() {
            SOAK_SCENARIOS
        } else {
            DEFAULT_SCENARIOS
        };
        let scenarios = number("RELIABILITY_SCENARIOS").map_or(default, |n| n as usize);
        Self {
            seed: number("RELIABILITY_SEED").unwrap_or(DEFAULT_SEED),
            scenarios: if duration.is_some() && number("RELIABILITY_SCENARIOS").is_none() {
                usize::MAX
            } else {
                scenarios
            },
            only: number("RELIABILITY_ONLY").map(|n| n as usize),
            duration,
            concurrency: number("RELIABILITY_CONCURRENCY").map_or(6, |n| n.max(1) as usize),
            aws_share: var("RELIABILITY_AWS_SHARE")
                .map(|v| {
                    v.parse()
                        .expect("RELIABILITY_AWS_SHARE is a number from 0 to 1")
                })
                .unwrap_or(0.25),
        }
    }

    /// The scenario indexes to run.
    pub fn indexes(&self) -> Box<dyn Iterator<Item = usize> + Send> {
        match self.only {
            Some(index) => Box::new(std::iter::once(index)),
            None => Box::new(0..self.scenarios),
        }
    }

    /// Whether another scenario may start.
    pub fn within_time(&self, started: Instant) -> bool {
        self.duration.is_none_or(|limit| started.elapsed() < limit)
    }

    /// What will run, in words.
    pub fn describe(&self) -> String {
        match (self.only, self.duration) {
            (Some(index), _) => format!("scenario {index} only"),
            (None, Some(limit)) => format!("scenarios for {} minutes", limit.as_secs() / 60),
            (None, None) => format!(
                "{} scenarios, {} at a time",
                self.scenarios, self.concurrency
            ),
        }
    }
}
