use super::*;
use crate::history::Counts;
use crate::ids::RunId;

fn config() -> TenantConfig {
    TenantConfig::from_toml(
        r#"
tenant = "acme"
timezone = "Europe/Berlin"
[[personio.accounts]]
[destination]
kind = "directory"
path = "directory"
[schedule]
every_minutes = 10
"#,
    )
    .expect("a valid config")
}

fn at(text: &str) -> DateTime<Utc> {
    text.parse().expect("a moment")
}

fn run(started: &str, reading: Reading, errors: usize, config: &TenantConfig) -> RunRecord {
    let started = at(started);
    RunRecord {
        id: RunId::new(started),
        trigger: Trigger::Schedule,
        status: RunStatus::Completed,
        dry_run: false,
        started_at: started,
        finished_at: Some(started),
        fetched: 0,
        in_scope: 0,
        counts: Counts {
            errors,
            ..Counts::default()
        },
        held_because: Vec::new(),
        failure: None,
        changes: Vec::new(),
        errors: Vec::new(),
        summary_pending: false,
        skips: Vec::new(),
        reading,
        config_fingerprint: Some(config.fingerprint()),
    }
}

fn changed(since: &str) -> Reading {
    Reading::Changed { since: at(since) }
}

#[test]
fn without_a_full_run_a_scheduled_run_reads_everyone() {
    let config = config();
    let history = [run(
        "2026-12-01T08:00:00Z",
        changed("2026-12-01T07:00:00Z"),
        0,
        &config,
    )];
    assert!(matches!(
        decide(&config, &history, at("2026-12-01T09:00:00Z")),
        Decision::Full { .. }
    ));
    assert!(matches!(
        decide(&config, &[], at("2026-12-01T09:00:00Z")),
        Decision::Full { .. }
    ));
}

#[test]
fn the_changes_are_read_from_the_last_clean_run_less_the_overlap() {
    let config = config();
    let history = [
        run(
            "2026-12-01T10:00:00Z",
            changed("2026-12-01T08:55:00Z"),
            2,
            &config,
        ),
        run(
            "2026-12-01T09:00:00Z",
            changed("2026-12-01T07:55:00Z"),
            0,
            &config,
        ),
        run("2026-12-01T08:00:00Z", Reading::Everyone, 0, &config),
    ];
    // The 10:00 run failed for two people: they are read again from 09:00 on.
    assert_eq!(
        decide(&config, &history, at("2026-12-01T11:00:00Z")),
        Decision::Changed {
            since: at("2026-12-01T08:55:00Z")
        }
    );
}

#[test]
fn a_full_run_is_due_each_new_day_after_full_every_hours_or_a_config_change() {
    let mut config = config();
    let history = [run("2026-12-01T08:00:00Z", Reading::Everyone, 3, &config)];
    // With errors and nothing after it, the full run itself is the mark.
    assert_eq!(
        decide(&config, &history, at("2026-12-01T22:59:00Z")),
        Decision::Changed {
            since: at("2026-12-01T07:55:00Z")
        }
    );
    // Midnight in Berlin: hire and termination dates turn.
    assert_eq!(
        decide(&config, &history, at("2026-12-01T23:00:00Z")),
        Decision::Full {
            why: "a new day began in the tenant's time zone"
        }
    );
    config.schedule.full_every_hours = 6;
    assert!(matches!(
        decide(&config, &history, at("2026-12-01T13:59:00Z")),
        Decision::Changed { .. }
    ));
    assert_eq!(
        decide(&config, &history, at("2026-12-01T14:00:00Z")),
        Decision::Full {
            why: "the last full run is due again"
        }
    );
    // When runs happen and who gets the email change nothing a run writes.
    config.schedule.every_minutes = Some(15);
    config.schedule.daily_at = None;
    config.email.to = vec!["it@acme.example".to_owned()];
    assert!(matches!(
        decide(&config, &history, at("2026-12-01T09:00:00Z")),
        Decision::Changed { .. }
    ));
    config.scope.statuses = [crate::employee::EmploymentStatus::Active].into();
    assert_eq!(
        decide(&config, &history, at("2026-12-01T09:00:00Z")),
        Decision::Full {
            why: "the config changed since the last full run"
        }
    );
    config.schedule.incremental = false;
    assert!(matches!(
        decide(&config, &history, at("2026-12-01T09:00:00Z")),
        Decision::Full { .. }
    ));
}

#[test]
fn daily_and_weekly_schedules_read_everyone() {
    let mut config = config();
    let history = [run("2026-12-01T08:00:00Z", Reading::Everyone, 0, &config)];
    config.schedule.every_minutes = None;
    assert!(matches!(
        decide(&config, &history, at("2026-12-01T09:00:00Z")),
        Decision::Full { .. }
    ));
}

#[test]
fn dry_runs_held_runs_person_runs_and_approvals_are_no_mark() {
    let config = config();
    let full = run("2026-12-01T08:00:00Z", Reading::Everyone, 0, &config);
    let mut dry = run("2026-12-01T09:00:00Z", Reading::Everyone, 0, &config);
    dry.dry_run = true;
    let mut held = run("2026-12-01T09:10:00Z", Reading::Everyone, 0, &config);
    held.status = RunStatus::Held;
    let person = run("2026-12-01T09:20:00Z", Reading::Person, 0, &config);
    let mut approval = run("2026-12-01T09:30:00Z", Reading::Everyone, 0, &config);
    approval.trigger = Trigger::Approval {
        held_run: held.id.clone(),
    };
    let mut partial = run(
        "2026-12-01T09:40:00Z",
        changed("2026-12-01T07:55:00Z"),
        0,
        &config,
    );
    partial.status = RunStatus::Partial;
    let history = [partial, approval, person, held, dry, full];
    assert_eq!(
        decide(&config, &history, at("2026-12-01T10:00:00Z")),
        Decision::Changed {
            since: at("2026-12-01T07:55:00Z")
        }
    );
}
