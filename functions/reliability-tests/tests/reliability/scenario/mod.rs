//! Randomised scenarios. Scenario `i` of a suite with seed `S` draws everything — family (engine
//! or AWS), company size and seed, first sync or not, Personio changes, run kind, faults and
//! their parameters — from its own generator seeded with [`scenario_seed`]`(S, i)`, so any one
//! of them can be replayed alone (`RELIABILITY_SEED=S RELIABILITY_ONLY=i`). Which request a fault
//! hits among concurrent ones can still vary between replays; the faults and their budgets do not.

pub mod approvals;
pub mod aws;
mod aws_faults;
pub mod credentials;
pub mod engine;
pub mod faults;
pub mod personio;
pub mod webhooks;

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
    /// Faults drawn (each a fault kind with its parameters).
    pub drawn: u32,
    /// Drawn faults that struck at least once.
    pub struck: u32,
    /// Earlier draws of this scenario whose faults did not all strike (not counted).
    pub redrawn: u32,
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
            drawn: 0,
            struck: 0,
            redrawn: 0,
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

    /// Notes, for each drawn fault, whether it struck.
    pub fn note_strikes(&mut self, struck: impl IntoIterator<Item = bool>) {
        for hit in struck {
            self.drawn += 1;
            self.struck += u32::from(hit);
        }
    }

    /// Whether every drawn fault struck (or none was drawn: a control).
    pub fn all_struck(&self) -> bool {
        self.struck == self.drawn
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

/// Draws of one scenario before it counts as it is: a draw whose faults did not all strike proves
/// nothing about them and is drawn again (from the next seed of its own sequence).
pub const MAX_DRAWS: u32 = 4;

/// Runs scenario `index` of the suite seeded `suite`, redrawing it while a drawn fault did not
/// strike (a draw with a violation counts as it is: the violation is the finding).
pub async fn run(suite: u64, index: usize, logs: &Mutex<LogScan>, aws_share: f64) -> Outcome {
    let first = scenario_seed(suite, index);
    let mut family = StdRng::seed_from_u64(first ^ 0xfa11);
    let aws = family.gen_bool(aws_share);
    let mut draw = 0;
    loop {
        let seed = if draw == 0 {
            first
        } else {
            scenario_seed(first, draw as usize)
        };
        let mut outcome = if aws {
            aws::run(index, seed, logs).await
        } else {
            engine::run(index, seed, logs).await
        };
        outcome.redrawn = draw;
        draw += 1;
        if outcome.all_struck() || !outcome.violations.is_empty() || draw == MAX_DRAWS {
            return outcome;
        }
    }
}
