//! The summary email: subject, headline, facts, changes and errors.

use super::*;
use crate::history::{ChangedField, Counts};
use crate::ids::{AccountId, PersonioId, RunId};

fn config() -> TenantConfig {
    TenantConfig::from_toml(
        "tenant = \"acme\"\n[[personio.accounts]]\n[destination]\nkind = \"directory\"\npath = \"d\"\n[email]\nto = [\"it@acme.example\"]\n",
    )
    .unwrap()
}

fn key(id: u64) -> PersonKey {
    PersonKey::new(AccountId::default(), PersonioId::new(id))
}

/// A run with 40 changes and 12 errors of two kinds, one of them about a person only an
/// error names.
fn busy_run() -> (RunRecord, BTreeMap<PersonKey, String>) {
    let now = chrono::Utc::now();
    let changes: Vec<ChangeItem> = (1..=40)
        .map(|id| ChangeItem {
            person: key(id),
            name: Some(format!("Person <{id}>")),
            action: "update".into(),
            reason: "title changed".into(),
            fields: vec![ChangedField {
                field: "title".into(),
                old: Some("Engineer".into()),
                new: Some("Lead".into()),
                sensitive: false,
            }],
        })
        .collect();
    let mut errors: Vec<RecordError> = (100..110)
        .map(|id| RecordError {
            name: None,
            person: Some(key(id)),
            action: "map".into(),
            message: "required field `email` is empty".into(),
            hint: "fill it in Personio".into(),
        })
        .collect();
    errors.extend((200..202).map(|id| RecordError {
        name: Some(format!("Named {id}")),
        person: Some(key(id)),
        action: "create".into(),
        message: "the app refused the user name".into(),
        hint: "pick another user name".into(),
    }));
    let names: BTreeMap<PersonKey, String> = (100..110)
        .map(|id| (key(id), format!("Error Only {id}")))
        .collect();
    let run = RunRecord {
        id: RunId::new(now),
        trigger: Trigger::Schedule,
        status: RunStatus::Completed,
        dry_run: false,
        started_at: now,
        finished_at: Some(now),
        fetched: 60,
        in_scope: 58,
        counts: Counts {
            updated: 40,
            errors: 12,
            ..Counts::default()
        },
        held_because: Vec::new(),
        failure: None,
        changes,
        errors,
        summary_pending: false,
        skips: Vec::new(),
        reading: crate::history::Reading::Everyone,
        config_fingerprint: None,
    };
    (run, names)
}

#[test]
fn the_email_groups_errors_names_everyone_and_lists_only_the_first_changes() {
    let (run, names) = busy_run();
    let email = render_summary(
        &config(),
        &run,
        "f@x",
        &names,
        Some("https://c.example/open?link=x&to=/r"),
    );
    for part in [&email.text, &email.html] {
        // Headline counts and the call to action.
        assert!(part.contains("40") && part.contains("updated"), "{part}");
        assert!(part.contains("Open the run report"));
        // The first 25 changes, not all 40.
        assert!(part.contains("Person &lt;25&gt;") || part.contains("Person <25>"));
        assert!(!part.contains("Person <26>") && !part.contains("Person &lt;26&gt;"));
        assert!(part.contains("and 15 more"), "{part}");
        // Errors by kind, the largest first, each with its fix and named people.
        let map = part.find("10 × map").expect("the map group");
        let create = part.find("2 × create").expect("the create group");
        assert!(map < create);
        assert!(part.contains("fill it in Personio"));
        assert!(part.contains("Error Only 100 (main:100)"), "{part}");
        assert!(part.contains("Named 200 (main:200)"));
        assert!(part.contains("and 5 more"), "five of ten named: {part}");
    }
    // The text part keeps the line the run's tests look for.
    assert!(email.text.contains(&format!("Run {} ", run.id)));
    // Email-safe HTML: a document with a language and a title, layout tables, dark mode.
    assert!(email.html.starts_with("<!doctype html><html lang=\"en\">"));
    assert!(email
        .html
        .contains("<title>[personio-sync] acme: 40 updated, 12 errors</title>"));
    assert!(email.html.contains("role=\"presentation\""));
    assert!(email.html.contains("prefers-color-scheme: dark"));
    assert!(email
        .html
        .contains("href=\"https://c.example/open?link=x&amp;to=/r\""));
    assert!(!email.html.contains("<26>") && email.html.contains("&lt;1&gt;"));
}

#[test]
fn the_stored_errors_csv_is_the_attachment_byte_for_byte() {
    let (mut run, names) = busy_run();
    // What recording the run does before it is saved.
    crate::report::name_errors(&mut run.errors, &names);
    let email = render_summary(&config(), &run, "f@x", &names, None);
    let stored = crate::report::stored_run_errors_csv(&run);
    assert_eq!(email.attachments[0].bytes, stored);
    let csv = String::from_utf8(stored).unwrap();
    assert!(csv.contains("main,100,Error Only 100,map,"), "{csv}");
    assert_eq!(csv.lines().count(), 13);
}

#[test]
fn a_held_run_says_why_and_asks_for_review() {
    let (mut run, names) = busy_run();
    run.status = RunStatus::Held;
    run.held_because = vec!["40 deactivations, more than 25".into()];
    let email = render_summary(&config(), &run, "f@x", &names, Some("https://c.example/l"));
    assert!(email.subject.contains("held"));
    for part in [&email.text, &email.html] {
        assert!(part.contains("40 deactivations, more than 25"));
        assert!(part.contains("Review and approve"));
        assert!(part.contains("Planned changes (40)"));
    }
}

#[test]
fn a_revocation_notice_says_so_and_not_that_a_run_failed() {
    let (mut run, names) = busy_run();
    run.trigger = Trigger::Revocation;
    run.status = RunStatus::Failed;
    run.failure = Some("Personio access was revoked through the admin API".into());
    let email = render_summary(&config(), &run, "f@x", &names, None);
    assert!(email
        .subject
        .ends_with("Personio access revoked, runs stopped"));
    for part in [&email.text, &email.html] {
        assert!(part.contains("Personio access was revoked through the admin API"));
        assert!(!part.contains("The run failed"), "{part}");
    }
}

#[test]
fn an_incremental_run_says_since_when_it_read_only_the_changes() {
    let (mut run, names) = busy_run();
    run.reading = crate::history::Reading::Changed {
        since: "2026-12-03T08:55:00Z".parse().expect("a moment"),
    };
    let email = render_summary(&config(), &run, "f@x", &names, None);
    for part in [&email.text, &email.html] {
        assert!(part.contains("scheduled, incremental"), "{part}");
        assert!(
            part.contains("60 people changed in Personio since 2026-12-03 08:55 UTC were read"),
            "{part}"
        );
    }
}
