//! The summary email of a run: a headline, the call to action (the console's link), the counts,
//! the first changes and the errors grouped by kind, in an HTML part and a text part that say
//! the same. Pure: a run record in, an [`Email`] out.
//!
//! The HTML is what mail clients render reliably: nested tables for layout (`role=
//! "presentation"`), inline styles, one column at most 640 px wide that shrinks on a phone, and a
//! `prefers-color-scheme: dark` block for the clients that honour it (the light colours stay
//! readable where they do not). Every person listed is named. The email lists what an admin reads
//! at a glance; the rest is in the console's report and in the attached `errors.csv`, which holds
//! every error.

use crate::config::TenantConfig;
use crate::email::{Attachment, Email};
use crate::history::{ChangeItem, Reading, RecordError, RunRecord, RunStatus, Trigger};
use crate::ids::PersonKey;
use crate::report::{counts_parts, describe_field, errors_csv, escape_html};
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// Changes the email lists; the rest are in the run's report.
pub const LISTED_CHANGES: usize = 25;
/// Error groups the email shows, the largest first.
pub const LISTED_GROUPS: usize = 5;
/// People named per error group; the rest are in `errors.csv`.
pub const PEOPLE_PER_GROUP: usize = 5;

const TEXT: &str = "#1a1a1a";
const MUTED: &str = "#555555";
const LINK: &str = "#0b57d0";
const WARN: &str = "#8f5500";
const FAIL: &str = "#b00020";
const LINE: &str = "#d0d0d0";

/// Dark-mode colours, for clients that apply `prefers-color-scheme` (the classes below).
const DARK_STYLE: &str = "@media (prefers-color-scheme: dark) { .ps-bg { background:#141414 !important; } .ps-card { background:#1f1f1f !important; color:#ececec !important; } .ps-muted { color:#b0b0b0 !important; } .ps-warn { color:#f0a030 !important; } .ps-fail { color:#ff8a80 !important; } .ps-link { color:#8ab4f8 !important; } .ps-button { background:#8ab4f8 !important; color:#141414 !important; } .ps-line { border-color:#3a3a3a !important; } }";

/// Errors of one kind: the same action and the same fix.
struct ErrorGroup<'a> {
    action: &'a str,
    hint: &'a str,
    example: &'a str,
    errors: Vec<&'a RecordError>,
}

/// The errors by kind, the largest group first (then by action, for a stable order).
fn error_groups(errors: &[RecordError]) -> Vec<ErrorGroup<'_>> {
    let mut groups: BTreeMap<(&str, &str), ErrorGroup<'_>> = BTreeMap::new();
    for error in errors {
        groups
            .entry((&error.action, &error.hint))
            .or_insert_with(|| ErrorGroup {
                action: &error.action,
                hint: &error.hint,
                example: &error.message,
                errors: Vec::new(),
            })
            .errors
            .push(error);
    }
    let mut groups: Vec<ErrorGroup<'_>> = groups.into_values().collect();
    groups.sort_by_key(|group| std::cmp::Reverse(group.errors.len()));
    groups
}

/// "Ada Lovelace (main:7)", or the key alone when the name is unknown.
fn person(key: &PersonKey, name: Option<&str>) -> String {
    match name {
        Some(name) => format!("{name} ({key})"),
        None => key.to_string(),
    }
}

fn error_person(error: &RecordError, names: &BTreeMap<PersonKey, String>) -> String {
    match &error.person {
        Some(key) => person(
            key,
            error
                .name
                .as_deref()
                .or_else(|| names.get(key).map(String::as_str)),
        ),
        None => "(the whole run)".to_owned(),
    }
}

fn trigger_name(run: &RunRecord) -> &'static str {
    match (&run.trigger, run.dry_run) {
        (_, true) => "dry run",
        (Trigger::Schedule, _) if matches!(run.reading, Reading::Changed { .. }) => {
            "scheduled, incremental"
        }
        (Trigger::Schedule, _) => "scheduled",
        (Trigger::Manual, _) => "manual",
        (Trigger::FirstSync, _) => "first sync",
        (Trigger::Revocation, _) => "revocation",
        (Trigger::Undo { .. }, _) => "undo",
        (Trigger::Webhook { .. }, _) => "webhook",
        (Trigger::Approval { .. }, _) => "approval",
    }
}

/// The subject: the tenant and what the run needs or did.
pub fn subject(config: &TenantConfig, run: &RunRecord) -> String {
    let tenant = &config.tenant;
    if run.trigger == Trigger::Revocation {
        return format!("[personio-sync] {tenant}: Personio access revoked, runs stopped");
    }
    match run.status {
        RunStatus::Held => format!("[personio-sync] {tenant}: run held, approval needed"),
        RunStatus::Failed => format!("[personio-sync] {tenant}: run failed"),
        _ => format!(
            "[personio-sync] {tenant}: {}",
            crate::report::counts_line(&run.counts)
        ),
    }
}

/// The headline of the body.
fn headline(run: &RunRecord) -> String {
    if run.trigger == Trigger::Revocation {
        return "Personio access was revoked".to_owned();
    }
    if let (Trigger::Undo { run: undone, .. }, RunStatus::Completed | RunStatus::Partial) =
        (&run.trigger, run.status)
    {
        return format!("Run {undone} was undone");
    }
    match run.status {
        RunStatus::Held => "A run was held and waits for your approval".to_owned(),
        RunStatus::Failed => "The run failed".to_owned(),
        _ if !run.counts.changed_anything() && run.errors.is_empty() => {
            "Everything was already in step".to_owned()
        }
        _ => format!(
            "{} with Personio",
            if run.errors.is_empty() {
                "Synced"
            } else {
                "Synced, with errors"
            }
        ),
    }
}

/// Both parts of the email, written side by side so that they say the same.
struct Body {
    text: String,
    html: String,
}

impl Body {
    fn paragraph(&mut self, text: &str, style: &str, class: &str) {
        let _ = writeln!(self.text, "{text}\n");
        let _ = write!(
            self.html,
            "<p class=\"{class}\" style=\"margin:0 0 14px;{style}\">{}</p>",
            escape_html(text)
        );
    }

    fn heading(&mut self, text: &str) {
        let _ = writeln!(self.text, "{text}\n{}", "-".repeat(text.chars().count()));
        let _ = write!(
            self.html,
            "<h2 style=\"font-size:17px;margin:22px 0 8px\">{}</h2>",
            escape_html(text)
        );
    }
}

/// The summary email of a run. `names` are the people the run read; `console` the signed link to
/// the run's report, when the deployment has a console.
pub fn render_summary(
    config: &TenantConfig,
    run: &RunRecord,
    from: &str,
    names: &BTreeMap<PersonKey, String>,
    console: Option<&str>,
) -> Email {
    let subject = subject(config, run);
    let mut body = Body {
        text: String::new(),
        html: String::new(),
    };
    let title = headline(run);
    let _ = writeln!(
        body.text,
        "{title}\n{}\n",
        "=".repeat(title.chars().count())
    );
    let _ = write!(
        body.html,
        "<h1 style=\"font-size:22px;line-height:1.3;margin:0 0 6px\">{}</h1>",
        escape_html(&title)
    );
    let read = match run.reading {
        Reading::Changed { since } => format!(
            "incremental: {} people changed in Personio since {} UTC were read, the others left as they were",
            run.fetched,
            since.format("%Y-%m-%d %H:%M")
        ),
        Reading::Everyone | Reading::Person => {
            format!("{} people read from Personio", run.fetched)
        }
    };
    let facts = format!(
        "Run {} ({}) of {}, status {}; {read}, {} in scope.",
        run.id,
        trigger_name(run),
        config.tenant,
        run.status.as_str(),
        run.in_scope
    );
    body.paragraph(&facts, &format!("color:{MUTED};font-size:14px"), "ps-muted");

    if let Some(failure) = &run.failure {
        let text = if run.trigger == Trigger::Revocation {
            // Not a failure: the notice says what happened itself.
            failure.clone()
        } else {
            format!("The run failed and changed nothing further: {failure}")
        };
        body.paragraph(&text, &format!("color:{FAIL};font-weight:bold"), "ps-fail");
    }
    if run.status == RunStatus::Held {
        body.paragraph(
            "Nothing was written. The run was held because:",
            &format!("color:{WARN};font-weight:bold"),
            "ps-warn",
        );
        body.html
            .push_str("<ul style=\"margin:0 0 14px;padding-left:22px\">");
        for reason in &run.held_because {
            let _ = writeln!(body.text, "  - {reason}");
            let _ = write!(body.html, "<li>{}</li>", escape_html(reason));
        }
        body.html.push_str("</ul>");
        let decide = format!(
            "Review the planned changes, then approve or reject run {} (in the console, with the admin API, or personio-sync approve {} / reject {}).",
            run.id, run.id, run.id
        );
        body.text.push('\n');
        body.paragraph(&decide, "", "");
    }

    // The call to action.
    if let Some(link) = console {
        let label = if run.status == RunStatus::Held {
            "Review and approve"
        } else {
            "Open the run report"
        };
        let _ = writeln!(body.text, "{label}: {link}\n");
        let _ = write!(
            body.html,
            "<table role=\"presentation\" cellpadding=\"0\" cellspacing=\"0\" style=\"margin:4px 0 18px\"><tr><td class=\"ps-button\" style=\"background:{LINK};border-radius:6px\"><a class=\"ps-button\" href=\"{}\" style=\"display:inline-block;padding:12px 22px;color:#ffffff;font-weight:bold;text-decoration:none;font-size:16px\">{label}</a></td></tr></table>",
            escape_html(link)
        );
    }

    let rehires: Vec<&crate::history::SkipItem> = run
        .skips
        .iter()
        .filter(|skip| crate::rehire::is_held(&skip.reason))
        .collect();
    if !rehires.is_empty() {
        body.paragraph(
            &format!(
                "{} new Personio profile(s) wait for your decision: each has the user name of a departed profile's user, so no second user was created.",
                rehires.len()
            ),
            &format!("color:{WARN};font-weight:bold"),
            "ps-warn",
        );
        body.html
            .push_str("<ul style=\"margin:0 0 14px;padding-left:22px\">");
        for skip in rehires {
            let line = format!(
                "{}: {}",
                person(&skip.person, skip.name.as_deref()),
                skip.reason
            );
            let _ = writeln!(body.text, "  - {line}");
            let _ = write!(body.html, "<li>{}</li>", escape_html(&line));
        }
        body.html.push_str("</ul>");
        body.text.push('\n');
    }

    // The counts, as large numbers.
    let counts = counts_parts(&run.counts);
    if counts.is_empty() {
        body.paragraph("No changes.", "", "");
    } else {
        let line: Vec<String> = counts
            .iter()
            .map(|(what, n)| format!("{n} {what}"))
            .collect();
        let _ = writeln!(body.text, "Result: {}\n", line.join(", "));
        body.html.push_str("<table role=\"presentation\" cellpadding=\"0\" cellspacing=\"0\" style=\"margin:0 0 8px\"><tr>");
        for (what, n) in &counts {
            let color = if *what == "errors" { FAIL } else { TEXT };
            let class = if *what == "errors" { "ps-fail" } else { "" };
            let _ = write!(
                body.html,
                "<td style=\"padding:0 18px 10px 0;vertical-align:top\"><div class=\"{class}\" style=\"font-size:24px;font-weight:bold;color:{color}\">{n}</div><div class=\"ps-muted\" style=\"font-size:13px;color:{MUTED}\">{what}</div></td>"
            );
        }
        body.html.push_str("</tr></table>");
    }

    changes_section(&mut body, run, console.is_some());
    errors_section(&mut body, run, names);

    let footer = format!(
        "You get this email as an admin of {}'s sync with Personio.{}",
        config.tenant,
        if run.errors.is_empty() {
            String::new()
        } else {
            " Every error is in the attached errors.csv.".to_owned()
        }
    );
    let _ = write!(
        body.html,
        "<p class=\"ps-muted\" style=\"margin:22px 0 0;font-size:13px;color:{MUTED};border-top:1px solid {LINE};padding-top:12px\">{}</p>",
        escape_html(&footer)
    );
    let _ = writeln!(body.text, "\n--\n{footer}");

    Email {
        from: from.to_owned(),
        to: config.email.to.clone(),
        html: document(&subject, &body.html),
        subject,
        text: body.text,
        attachments: vec![Attachment {
            filename: "errors.csv".to_owned(),
            content_type: "text/csv".to_owned(),
            bytes: errors_csv(&run.errors, names),
        }],
    }
}

/// The first changes, with their reason and fields.
fn changes_section(body: &mut Body, run: &RunRecord, has_console: bool) {
    if run.changes.is_empty() {
        return;
    }
    let heading = if run.status == RunStatus::Held {
        format!("Planned changes ({})", run.changes.len())
    } else {
        format!("Changes ({})", run.changes.len())
    };
    body.heading(&heading);
    let _ = write!(
        body.html,
        "<table cellpadding=\"0\" cellspacing=\"0\" width=\"100%\" style=\"border-collapse:collapse;font-size:14px\"><tr><th scope=\"col\" align=\"left\" class=\"ps-line\" style=\"padding:6px 8px 6px 0;border-bottom:1px solid {LINE}\">Person</th><th scope=\"col\" align=\"left\" class=\"ps-line\" style=\"padding:6px 8px 6px 0;border-bottom:1px solid {LINE}\">Change</th></tr>"
    );
    for change in run.changes.iter().take(LISTED_CHANGES) {
        change_row(body, change);
    }
    body.html.push_str("</table>");
    if run.changes.len() > LISTED_CHANGES {
        let more = run.changes.len() - LISTED_CHANGES;
        let rest = if has_console {
            "the run report (button above)"
        } else {
            "the run history (personio-sync runs, or the admin API)"
        };
        body.text.push('\n');
        let _ = write!(body.html, "<div style=\"height:10px\"></div>");
        body.paragraph(
            &format!("… and {more} more in {rest}."),
            &format!("color:{MUTED}"),
            "ps-muted",
        );
    } else {
        body.text.push('\n');
    }
}

fn change_row(body: &mut Body, change: &ChangeItem) {
    let who = person(&change.person, change.name.as_deref());
    let fields: Vec<String> = change.fields.iter().map(describe_field).collect();
    let _ = writeln!(
        body.text,
        "  - {who}: {} ({}){}",
        change.action,
        change.reason,
        if fields.is_empty() {
            String::new()
        } else {
            format!(" [{}]", fields.join("; "))
        }
    );
    let _ = write!(
        body.html,
        "<tr><td class=\"ps-line\" style=\"padding:6px 8px 6px 0;border-bottom:1px solid {LINE};vertical-align:top\">{}</td><td class=\"ps-line\" style=\"padding:6px 0;border-bottom:1px solid {LINE};vertical-align:top\"><b>{}</b> <span class=\"ps-muted\" style=\"color:{MUTED}\">{}</span>{}</td></tr>",
        escape_html(&who),
        escape_html(&change.action),
        escape_html(&change.reason),
        if fields.is_empty() {
            String::new()
        } else {
            format!("<br>{}", escape_html(&fields.join("; ")))
        }
    );
}

/// The errors by kind: the largest groups with their count, the fix and the first people.
fn errors_section(body: &mut Body, run: &RunRecord, names: &BTreeMap<PersonKey, String>) {
    if run.errors.is_empty() {
        return;
    }
    body.heading(&format!(
        "Errors ({}; every one is in the attached errors.csv)",
        run.errors.len()
    ));
    let groups = error_groups(&run.errors);
    for group in groups.iter().take(LISTED_GROUPS) {
        let count = group.errors.len();
        let _ = writeln!(
            body.text,
            "{count} × {}: {}\n  What to do: {}",
            group.action, group.example, group.hint
        );
        let _ = write!(
            body.html,
            "<table role=\"presentation\" cellpadding=\"0\" cellspacing=\"0\" width=\"100%\" style=\"margin:0 0 12px\"><tr><td class=\"ps-fail\" style=\"border-left:4px solid {FAIL};padding:2px 0 2px 12px;font-size:14px\"><div style=\"font-weight:bold;font-size:15px\">{count} × {}</div><div>{}</div><div><b>What to do:</b> {}</div>",
            escape_html(group.action),
            escape_html(group.example),
            escape_html(group.hint)
        );
        let people: Vec<String> = group
            .errors
            .iter()
            .take(PEOPLE_PER_GROUP)
            .map(|error| error_person(error, names))
            .collect();
        let more = count.saturating_sub(PEOPLE_PER_GROUP);
        let listed = format!(
            "{}{}",
            people.join(", "),
            if more > 0 {
                format!(" and {more} more")
            } else {
                String::new()
            }
        );
        let _ = writeln!(body.text, "  Who: {listed}\n");
        let _ = write!(
            body.html,
            "<div class=\"ps-muted\" style=\"color:{MUTED}\">Who: {}</div></td></tr></table>",
            escape_html(&listed)
        );
    }
    if groups.len() > LISTED_GROUPS {
        let rest: usize = groups[LISTED_GROUPS..].iter().map(|g| g.errors.len()).sum();
        body.paragraph(
            &format!(
                "… and {rest} more errors of {} other kinds in errors.csv.",
                groups.len() - LISTED_GROUPS
            ),
            &format!("color:{MUTED}"),
            "ps-muted",
        );
    }
}

/// The whole HTML document around `content`.
fn document(subject: &str, content: &str) -> String {
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><meta name=\"color-scheme\" content=\"light dark\"><meta name=\"supported-color-schemes\" content=\"light dark\"><title>{}</title><style>{DARK_STYLE}</style></head><body class=\"ps-bg\" style=\"margin:0;padding:0;background:#f4f4f4\"><table role=\"presentation\" class=\"ps-bg\" width=\"100%\" cellpadding=\"0\" cellspacing=\"0\" style=\"background:#f4f4f4\"><tr><td align=\"center\" style=\"padding:16px 8px\"><table role=\"presentation\" class=\"ps-card\" width=\"100%\" cellpadding=\"0\" cellspacing=\"0\" style=\"max-width:640px;background:#ffffff;color:{TEXT};font-family:Arial,Helvetica,sans-serif;font-size:15px;line-height:1.5;border-radius:8px\"><tr><td style=\"padding:22px 24px\"><main>{content}</main></td></tr></table></td></tr></table></body></html>",
        escape_html(subject)
    )
}

#[cfg(test)]
#[path = "summary_tests.rs"]
mod tests;
