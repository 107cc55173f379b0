//! Randomised scenarios. Scenario `i` of a suite with seed `S` draws everything — family (engine
//! or AWS), company size and seed, first sync or not, Personio changes, run kind, faults and
//! their parameters — from its own generator seeded with [`scenario_seed`]`(S, i)`, so any one
//! of them can be replayed alone (`RELIABILITY_SEED=S RELIABILITY_ONLY=i`). Which request a fault
//! hits among concurrent ones can still vary between replays; the faults and their budgets do not.

pub mod aws;
pub mod engine;
pub mod faults;
pub mod personio;

use faults::AnyFault;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::collections::BTreeSet;
use std::sync::Mutex;
use std::time::Duration;
use sync_core::history::RunStatus;

use crate::support::logs::LogScan;

/// The seed of scenario `index` of a suite seeded with `suite`.
pub fn scenario_seed(suite: u64, index: usize) -> u64 {
    // SplitMix64 of the pair: neighbouring indexes get unrelated generators.
    let mut z = suite ^ (index as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// What one scenario did and found.
#[derive(Debug)]
pub struct Outcome {
    /// Its index in the suite.
    pub index: usize,
    /// Its seed.
    pub seed: u64,
    /// `engine` or `aws`.
    pub family: &'static str,
    /// The kinds of faults injected (labels).
    pub kinds: BTreeSet<&'static str>,
    /// Runs of the faulty tenant (faulty runs, follow-ups, approvals, redeliveries).
    pub runs: u32,
    /// Faults that actually struck.
    pub injected: u64,
    /// Statuses of the faulty runs.
    pub statuses: Vec<RunStatus>,
    /// Invariant violations.
    pub violations: Vec<String>,
    /// What the scenario did, for a failure report.
    pub steps: Vec<String>,
    /// Wall time.
    pub elapsed: Duration,
}

impl Outcome {
    /// An empty outcome.
    pub fn new(index: usize, seed: u64, family: &'static str) -> Self {
        Self {
            index,
            seed,
            family,
            kinds: BTreeSet::new(),
            runs: 0,
            injected: 0,
            statuses: Vec::new(),
            violations: Vec::new(),
            steps: Vec::new(),
            elapsed: Duration::ZERO,
        }
    }

    /// Adds a step to the description.
    pub fn describe(&mut self, step: String) {
        self.steps.push(step);
    }

    /// Notes the faults of a round.
    pub fn faults_of(&mut self, faults: &[AnyFault]) {
        self.kinds.extend(faults.iter().map(AnyFault::label));
    }

    /// Notes a kind of fault by label.
    pub fn kind(&mut self, label: &'static str) {
        self.kinds.insert(label);
    }

    /// Notes the status of a faulty run.
    pub fn note_status(&mut self, status: RunStatus) {
        self.statuses.push(status);
    }

    /// The scenario kind for the summary: its one fault kind, `mixed`, or a clean control.
    pub fn kind_label(&self) -> String {
        match self.kinds.len() {
            0 => format!("{}: no fault (control)", self.family),
            1 => format!(
                "{}: {}",
                self.family,
                self.kinds.iter().next().expect("one kind")
            ),
            _ => format!("{}: mixed", self.family),
        }
    }
}

/// Runs scenario `index` of the suite seeded `suite`.
pub async fn run(suite: u64, index: usize, logs: &Mutex<LogScan>, aws_share: f64) -> Outcome {
    let seed = scenario_seed(suite, index);
    let mut family = StdRng::seed_from_u64(seed ^ 0xfa11);
    if family.gen_bool(aws_share) {
        aws::run(index, seed, logs).await
    } else {
        engine::run(index, seed, logs).await
    }
}
