//! What the CLI prints: run summaries, history tables, one-line errors.

use sync_core::history::{Reading, RunRecord, RunStatus};
use sync_core::plan::Plan;

/// An error and its causes on one line, without repeating a cause its parent already quotes.
pub fn one_line(error: &anyhow::Error) -> String {
    let mut line = String::new();
    for cause in error.chain() {
        let text = cause.to_string();
        if line.contains(&text) {
            continue;
        }
        if !line.is_empty() {
            line.push_str(": ");
        }
        line.push_str(&text);
    }
    line
}

/// The counts of a run in one line.
pub fn counts(run: &RunRecord) -> String {
    let c = &run.counts;
    format!(
        "{} created, {} adopted, {} updated, {} deactivated, {} deleted, {} reactivated, {} activated, {} manager links, {} group changes, {} invited, {} skipped, {} errors",
        c.created, c.adopted, c.updated, c.deactivated, c.deleted, c.reactivated, c.activated, c.managers, c.groups, c.invited, c.skipped, c.errors
    )
}

/// Prints what a run did (or would do).
pub fn print_run(run: &RunRecord, plan: Option<&Plan>, verbose: bool) {
    let verb = match run.status {
        RunStatus::DryRun => "dry run, nothing written",
        RunStatus::Held => "HELD, nothing written",
        status => status.as_str(),
    };
    let fetched = match run.reading {
        Reading::Changed { since } => format!(
            "incremental, {} changed since {} UTC fetched",
            run.fetched,
            since.format("%Y-%m-%d %H:%M:%S")
        ),
        Reading::Everyone | Reading::Person => format!("{} fetched", run.fetched),
    };
    out!(
        "run {} ({verb}): {fetched}, {} in scope",
        run.id,
        run.in_scope
    );
    if run.status == RunStatus::Completed
        && !run.counts.changed_anything()
        && run.counts.invited == 0
    {
        out!("no changes: the destination already matches Personio");
    }
    out!("{}", counts(run));
    for reason in &run.held_because {
        out!("  held because: {reason}");
    }
    if run.status == RunStatus::Held {
        out!(
            "review it with `personio-sync show-run {}`, then `approve {}` or `reject {}`",
            run.id,
            run.id,
            run.id
        );
    }
    if let Some(failure) = &run.failure {
        out!("  failed: {failure}");
    }
    let limit = if verbose { usize::MAX } else { 20 };
    for change in run.changes.iter().take(limit) {
        let fields: Vec<&str> = change
            .fields
            .iter()
            .map(|field| field.field.as_str())
            .collect();
        let name = change.name.as_deref().unwrap_or("");
        let fields = if fields.is_empty() {
            String::new()
        } else {
            format!(" [{}]", fields.join(", "))
        };
        out!(
            "  {:<10} {} {name}: {}{fields}",
            change.action,
            change.person,
            change.reason
        );
    }
    if run.changes.len() > limit {
        out!(
            "  … {} more (personio-sync show-run {})",
            run.changes.len() - limit,
            run.id
        );
    }
    for error in run.errors.iter().take(limit) {
        let who = error
            .person
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_else(|| "-".into());
        out!(
            "  error {who} [{}] {} (fix: {})",
            error.action,
            error.message,
            error.hint
        );
    }
    if run.errors.len() > limit {
        out!(
            "  … {} more errors (personio-sync show-run {})",
            run.errors.len() - limit,
            run.id
        );
    }
    for skip in run
        .skips
        .iter()
        .filter(|skip| sync_core::rehire::is_held(&skip.reason))
    {
        out!("  rehire? {}: {}", skip.person, skip.reason);
    }
    if let Some(plan) = plan.filter(|_| verbose) {
        for skip in &plan.skips {
            out!("  skip       {}: {}", skip.key, skip.reason);
        }
    }
}
