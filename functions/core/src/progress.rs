//! Progress of a long run, for the CLI's progress bar. Lambdas use [`NoProgress`].

/// Receives progress; every method has a do-nothing default.
pub trait Progress: Send + Sync {
    /// A stage begins (`fetch`, `apply`) with this many steps.
    fn start(&self, _stage: &str, _total: usize) {}
    /// `steps` more steps are done.
    fn advance(&self, _steps: usize) {}
    /// The stage is over.
    fn finish(&self) {}
}

/// Reports nothing.
pub struct NoProgress;

impl Progress for NoProgress {}
