//! The summary email after each run and the `errors.csv` attached to it. Pure: a run record in,
//! an [`Email`] out. Sensitive values never get here (the change list only carries their names).

use crate::config::{SendWhen, TenantConfig};

use crate::history::{ChangeItem, ChangedField, Counts, RecordError, RunRecord, RunStatus};
use crate::ids::PersonKey;
use crate::record::{FieldChange, FieldValue};
use std::collections::{BTreeMap, BTreeSet};

/// One change-list line, with sensitive values left out.
pub fn change_item(
    key: &PersonKey,
    name: Option<&String>,
    action: &str,
    reason: &str,
    changes: &[FieldChange],
    sensitive: &BTreeSet<String>,
) -> ChangeItem {
    let fields = changes
        .iter()
        .map(|change| {
            let hidden = sensitive.contains(&change.field);
            let text = |value: &Option<FieldValue>| {
                value.as_ref().filter(|_| !hidden).map(FieldValue::to_text)
            };
            ChangedField {
                field: change.field.clone(),
                old: text(&change.old),
                new: text(&change.new),
                sensitive: hidden,
            }
        })
        .collect();
    ChangeItem {
        person: key.clone(),
        name: name.cloned(),
        action: action.to_owned(),
        reason: reason.to_owned(),
        fields,
    }
}

/// Escapes text for HTML.
pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// The `errors.csv` of a stored run, as its email attached it: the email named people from the
/// whole fetch, a stored run keeps the names of the people it changed.
pub fn stored_run_errors_csv(run: &crate::history::RunRecord) -> Vec<u8> {
    errors_csv(&run.errors, &stored_names(run))
}

/// The names a stored run keeps: those of the people it changed.
pub fn stored_names(run: &crate::history::RunRecord) -> BTreeMap<PersonKey, String> {
    run.changes
        .iter()
        .filter_map(|change| Some((change.person.clone(), change.name.clone()?)))
        .collect()
}

/// Names each error's person from `names` (the people the run read), unless it has a name.
pub fn name_errors(errors: &mut [RecordError], names: &BTreeMap<PersonKey, String>) {
    for error in errors.iter_mut().filter(|error| error.name.is_none()) {
        error.name = error
            .person
            .as_ref()
            .and_then(|key| names.get(key))
            .cloned();
    }
}

/// `errors.csv`: one row per record error, with the person's name when known.
pub fn errors_csv(errors: &[RecordError], names: &BTreeMap<PersonKey, String>) -> Vec<u8> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    let header = [
        "personio_account",
        "personio_id",
        "name",
        "action",
        "error",
        "how_to_fix",
    ];
    // Writing into a Vec only fails on a bug in the csv crate; an empty attachment is the fallback.
    let _ = writer.write_record(header);
    for error in errors {
        let (account, id, name) = match &error.person {
            Some(key) => (
                key.account.to_string(),
                key.id.to_string(),
                error
                    .name
                    .clone()
                    .or_else(|| names.get(key).cloned())
                    .unwrap_or_default(),
            ),
            None => (String::new(), String::new(), String::new()),
        };
        let _ = writer.write_record(
            [
                &account,
                &id,
                &name,
                &error.action,
                &error.message,
                &error.hint,
            ]
            .map(|cell| spreadsheet_safe(cell).into_owned()),
        );
    }
    writer.into_inner().unwrap_or_default()
}

/// `warnings.csv`: one row per person the run left alone on purpose, and why.
pub fn warnings_csv(skips: &[crate::history::SkipItem]) -> Vec<u8> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    // Writing into a Vec only fails on a bug in the csv crate; an empty file is the fallback.
    let _ = writer.write_record(["personio_account", "personio_id", "name", "reason"]);
    for skip in skips {
        let _ = writer.write_record(
            [
                skip.person.account.to_string().as_str(),
                skip.person.id.to_string().as_str(),
                skip.name.as_deref().unwrap_or_default(),
                skip.reason.as_str(),
            ]
            .map(|cell| spreadsheet_safe(cell).into_owned()),
        );
    }
    writer.into_inner().unwrap_or_default()
}

/// A cell a spreadsheet shows as text: one starting with `=`, `+`, `-`, `@`, a tab or a carriage
/// return would run as a formula (OWASP "CSV injection"), and names and messages carry what anyone
/// may type into Personio. A leading `'` makes spreadsheets show the text as it is.
fn spreadsheet_safe(cell: &str) -> std::borrow::Cow<'_, str> {
    match cell.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{cell}").into(),
        _ => cell.into(),
    }
}

/// Whether the tenant wants an email for this run.
pub fn should_send(config: &TenantConfig, run: &RunRecord) -> bool {
    if config.email.to.is_empty() || run.status == RunStatus::DryRun {
        return false;
    }
    let alarming =
        !run.errors.is_empty() || matches!(run.status, RunStatus::Held | RunStatus::Failed);
    match config.email.send {
        SendWhen::Always => true,
        SendWhen::ChangesOrErrors => alarming || run.counts.changed_anything(),
        SendWhen::Errors => alarming,
    }
}

/// The counts that are not zero, labelled, in a fixed order: the summary's and the console's.
pub fn counts_parts(counts: &Counts) -> Vec<(&'static str, usize)> {
    [
        ("created", counts.created),
        ("adopted", counts.adopted),
        ("updated", counts.updated),
        ("deactivated", counts.deactivated),
        ("deleted", counts.deleted),
        ("reactivated", counts.reactivated),
        ("activated on hire date", counts.activated),
        ("manager links", counts.managers),
        ("group changes", counts.groups),
        ("invited", counts.invited),
        ("written back to Personio", counts.written_back),
        ("skipped", counts.skipped),
        ("errors", counts.errors),
    ]
    .into_iter()
    .filter(|(_, n)| *n > 0)
    .collect()
}

/// "3 created, 1 errors", or "no changes" (the subject's words: skipped people are no news).
pub fn counts_line(counts: &Counts) -> String {
    let listed: Vec<String> = counts_parts(counts)
        .iter()
        .filter(|(what, _)| *what != "skipped")
        .map(|(what, n)| format!("{n} {what}"))
        .collect();
    if listed.is_empty() {
        "no changes".to_owned()
    } else {
        listed.join(", ")
    }
}

/// "title: Engineer → Lead", or "birthday changed" for a sensitive field.
pub fn describe_field(field: &ChangedField) -> String {
    if field.sensitive {
        return format!("{} changed", field.field);
    }
    let show = |value: &Option<String>| value.clone().unwrap_or_else(|| "(empty)".to_owned());
    format!(
        "{}: {} → {}",
        field.field,
        show(&field.old),
        show(&field.new)
    )
}

pub use crate::summary::render_summary;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::{AccountId, PersonioId};

    fn run(status: RunStatus) -> RunRecord {
        let now = chrono::Utc::now();
        RunRecord {
            id: crate::ids::RunId::new(now),
            trigger: crate::history::Trigger::Schedule,
            status,
            dry_run: false,
            started_at: now,
            finished_at: Some(now),
            fetched: 3,
            in_scope: 3,
            counts: Counts::default(),
            held_because: vec!["5 deactivations, more than 1".into()],
            failure: None,
            changes: Vec::new(),
            errors: Vec::new(),
            summary_pending: false,
            skips: Vec::new(),
            reading: crate::history::Reading::Everyone,
            config_fingerprint: None,
        }
    }

    #[test]
    fn the_summary_links_to_the_console_and_a_held_run_asks_for_review() {
        let config = TenantConfig::from_toml(
            "tenant = \"acme\"\n[[personio.accounts]]\n[destination]\nkind = \"directory\"\npath = \"d\"\n",
        )
        .unwrap();
        let link = "http://127.0.0.1:8080/open?link=l1.k.acme.view.1.sig&to=/tenants/acme/runs/r";
        let names = BTreeMap::new();
        let done = render_summary(
            &config,
            &run(RunStatus::Completed),
            "f@x",
            &names,
            Some(link),
        );
        assert!(done.text.contains(&format!("Open the run report: {link}")));
        assert!(done.html.contains(
            "href=\"http://127.0.0.1:8080/open?link=l1.k.acme.view.1.sig&amp;to=/tenants/acme/runs/r\""
        ));
        let held = render_summary(&config, &run(RunStatus::Held), "f@x", &names, Some(link));
        assert!(held.text.contains(&format!("Review and approve: {link}")));
        assert!(held.html.contains(">Review and approve</a>"));
        let without = render_summary(&config, &run(RunStatus::Held), "f@x", &names, None);
        assert!(!without.text.contains("Review and approve:"));
        assert!(!without.html.contains("<a href"));
    }

    #[test]
    fn csv_quotes_commas_and_names_people() {
        let key = PersonKey::new(AccountId::default(), PersonioId::new(7));
        let errors = vec![RecordError {
            name: None,
            person: Some(key.clone()),
            action: "map".into(),
            message: "required field `email` is empty, sorry".into(),
            hint: "fill it".into(),
        }];
        let names = BTreeMap::from([(key, "Ada Lovelace".to_owned())]);
        let csv = String::from_utf8(errors_csv(&errors, &names)).unwrap();
        assert_eq!(
            csv,
            "personio_account,personio_id,name,action,error,how_to_fix\nmain,7,Ada Lovelace,map,\"required field `email` is empty, sorry\",fill it\n"
        );
    }

    #[test]
    fn csv_cells_that_a_spreadsheet_would_run_as_a_formula_are_escaped() {
        // A name or a Personio value is written by whoever edits Personio; the admin opens the
        // attachment in a spreadsheet, which runs a cell starting with = + - @ as a formula.
        let key = PersonKey::new(AccountId::default(), PersonioId::new(7));
        let errors = vec![RecordError {
            name: None,
            person: Some(key.clone()),
            action: "map".into(),
            message: "=HYPERLINK(\"http://evil.example\",\"click\")".into(),
            hint: "+1".into(),
        }];
        let names = BTreeMap::from([(key, "@SUM(A1)".to_owned())]);
        let csv = String::from_utf8(errors_csv(&errors, &names)).unwrap();
        let row = csv.lines().nth(1).unwrap();
        assert_eq!(
            row,
            "main,7,'@SUM(A1),map,\"'=HYPERLINK(\"\"http://evil.example\"\",\"\"click\"\")\",'+1"
        );
        let harmless = String::from_utf8(errors_csv(
            &[RecordError {
                name: None,
                person: None,
                action: "fetch".into(),
                message: "- a dash inside is fine".into(),
                hint: "a-b".into(),
            }],
            &BTreeMap::new(),
        ))
        .unwrap();
        assert!(
            harmless.contains(",'- a dash inside is fine,a-b"),
            "{harmless}"
        );
    }

    #[test]
    fn sensitive_values_never_reach_the_change_list() {
        let key = PersonKey::new(AccountId::default(), PersonioId::new(7));
        let change = FieldChange {
            field: "birthday".into(),
            old: Some(FieldValue::Text("1990-01-01".into())),
            new: Some(FieldValue::Text("1991-01-01".into())),
        };
        let sensitive = BTreeSet::from(["birthday".to_owned()]);
        let item = change_item(
            &key,
            None,
            "update",
            "birthday changed",
            &[change],
            &sensitive,
        );
        assert_eq!(item.fields[0].old, None);
        assert!(item.fields[0].sensitive);
        assert_eq!(describe_field(&item.fields[0]), "birthday changed");
    }

    #[test]
    fn html_is_escaped() {
        assert_eq!(escape_html("<b>&\"'"), "&lt;b&gt;&amp;&quot;&#39;");
    }
}
