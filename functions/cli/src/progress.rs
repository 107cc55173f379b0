//! A progress bar on a terminal, nothing otherwise (plain log lines carry progress then).

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use sync_core::personio::FetchProgress;
use sync_core::progress::Progress;

/// The CLI's progress reporter: an indicatif bar when stderr is a terminal, hidden otherwise.
#[derive(Clone)]
pub struct Bar {
    bar: ProgressBar,
}

impl Bar {
    /// A bar that draws only on a terminal.
    pub fn new() -> Self {
        let bar = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::hidden());
        if std::io::stderr().is_terminal() {
            bar.set_draw_target(ProgressDrawTarget::stderr());
        }
        bar.set_style(
            ProgressStyle::with_template("{msg:>8} [{bar:40}] {pos}/{len} {elapsed}")
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
        );
        Self { bar }
    }

    /// A callback for the Personio client's page progress.
    pub fn fetch_callback(&self) -> impl Fn(FetchProgress) + Send + Sync + 'static {
        let bar = self.bar.clone();
        move |progress: FetchProgress| {
            bar.set_message("fetch");
            bar.set_length(progress.pages_total);
            bar.set_position(progress.pages_done);
        }
    }

    /// Clears the bar before printing a result.
    pub fn clear(&self) {
        self.bar.finish_and_clear();
    }
}

impl Progress for Bar {
    fn start(&self, stage: &str, total: usize) {
        self.bar.set_message(stage.to_owned());
        self.bar.set_length(total as u64);
        self.bar.set_position(0);
    }

    fn advance(&self, steps: usize) {
        self.bar.inc(steps as u64);
    }

    fn finish(&self) {
        self.bar.set_position(self.bar.length().unwrap_or(0));
    }
}
