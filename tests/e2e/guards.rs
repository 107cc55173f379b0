//! Guards hold runs before anything is written; approve applies, reject drops; dry runs write nothing.

use std::collections::BTreeSet;
use sync_core::history::RunStatus;
use sync_core::run::RunError;
use test_support::harness::*;
use test_support::personio::*;

fn active_ids(harness: &Harness) -> Vec<u64> {
    harness
        .fake
        .company()
        .employees
        .iter()
        .filter(|e| e.status == "active" && e.termination_date.is_none())
        .map(|e| e.id)
        .collect()
}

#[tokio::test]
async fn mass_deactivation_is_held_then_applied_on_approval() {
    let harness = Harness::new(120).await;
    harness.run().await;
    let leavers: Vec<u64> = active_ids(&harness).into_iter().take(30).collect();
    harness.fake.update(|company| {
        for id in &leavers {
            company.remove(*id);
        }
    });
    let writes = harness.directory.writes();
    let held = harness.run().await;
    assert_eq!(held.record.status, RunStatus::Held);
    assert!(
        held.record.held_because[0].contains("30 users would be deactivated"),
        "{:?}",
        held.record.held_because
    );
    assert_eq!(
        harness.directory.writes(),
        writes,
        "a held run writes nothing"
    );
    assert!(harness.user(leavers[0]).await.expect("user").active);
    assert!(harness
        .emails()
        .last()
        .expect("email")
        .contains("approval needed"));

    let blocked = harness
        .run_at(now())
        .await
        .expect_err("a held run blocks the next one");
    assert!(
        matches!(blocked, RunError::HeldRunPending { .. }),
        "{blocked}"
    );

    let applied = harness.approve(&held.record.id).await.expect("approve");
    assert_eq!(applied.record.counts.deactivated, 30);
    for id in &leavers {
        assert!(!harness.user(*id).await.expect("user").active);
    }
    let history = harness.store_runs().await;
    assert!(history
        .iter()
        .any(|run| run.id == held.record.id && run.status == RunStatus::Approved));
    let again = harness
        .approve(&held.record.id)
        .await
        .expect_err("only held runs can be approved");
    assert!(matches!(again, RunError::NotHeld { .. }), "{again}");
}

#[tokio::test]
async fn rejected_run_writes_nothing_and_the_next_run_holds_again() {
    let harness = Harness::new(60).await;
    harness.run().await;
    let before: Vec<(String, bool)> = harness
        .users()
        .await
        .into_iter()
        .map(|u| (u.id.to_string(), u.active))
        .collect();
    harness.fake.set_fault(fake_personio::Fault::EmptyList);
    let held = harness.run().await;
    assert_eq!(held.record.status, RunStatus::Held);
    assert!(
        held.record
            .held_because
            .iter()
            .any(|r| r.contains("no employees")),
        "{:?}",
        held.record.held_because
    );
    harness.reject(&held.record.id).await.expect("reject");
    let after: Vec<(String, bool)> = harness
        .users()
        .await
        .into_iter()
        .map(|u| (u.id.to_string(), u.active))
        .collect();
    assert_eq!(before, after, "a rejected run changes nobody");
    let again = harness.run().await;
    assert_eq!(
        again.record.status,
        RunStatus::Held,
        "the guard still trips while Personio is empty"
    );
}

#[tokio::test]
async fn vanished_attribute_holds_the_run_and_names_it() {
    let harness = Harness::new(60).await;
    harness.run().await;
    let everything: BTreeSet<String> = [
        "id",
        "first_name",
        "last_name",
        "email",
        "gender",
        "status",
        "position",
        "supervisor",
        "hire_date",
        "termination_date",
        "termination_type",
        "office",
        "cost_centers",
        "profile_picture",
        "employment_type",
        "dynamic_180883",
        "dynamic_33121",
    ]
    .map(String::from)
    .into();
    harness.fake.set_whitelist(Some(everything));
    let held = harness.run().await;
    assert_eq!(held.record.status, RunStatus::Held);
    assert!(
        held.record
            .held_because
            .iter()
            .any(|r| r.contains("`department`")),
        "{:?}",
        held.record.held_because
    );
}

#[tokio::test]
async fn dry_run_plans_but_writes_nothing() {
    let harness = Harness::new(40).await;
    let outcome = harness.dry_run(now()).await;
    assert_eq!(outcome.record.status, RunStatus::DryRun);
    assert!(outcome.record.counts.created > 20);
    assert!(harness.users().await.is_empty());
    assert_eq!(harness.directory.writes(), 0);
    assert!(harness.emails().is_empty(), "dry runs send no email");
    assert_eq!(
        harness.store_runs().await[0].status,
        RunStatus::DryRun,
        "dry runs are in the history"
    );
}

/// What the preview says for a planned action.
fn would(kind: &sync_core::plan::ActionKind) -> sync_core::preview::Would {
    use sync_core::plan::ActionKind;
    use sync_core::preview::Would;
    match kind {
        ActionKind::Create { .. } | ActionKind::Adopt { .. } => Would::Create,
        ActionKind::Update { .. } => Would::Update,
        ActionKind::Activate { .. } => Would::Activate,
        ActionKind::Deactivate { .. } => Would::Deactivate,
        ActionKind::Delete { .. } => Would::Delete,
    }
}

/// Preview and dry run share the guards and the plan: for the same Personio answer and state they
/// agree on "held" (and why) and on every person's action.
#[tokio::test]
async fn preview_and_dry_run_agree_on_held_and_on_every_action() {
    use std::collections::BTreeMap;
    use sync_core::ports::Store;
    use sync_core::preview::{fetch_and_preview, Would};

    let harness = Harness::new(120).await;
    harness.run().await;
    let leavers: Vec<u64> = active_ids(&harness).into_iter().take(30).collect();
    let mover = active_ids(&harness)[40];
    type Change = Box<dyn Fn(&Harness)>;
    let cases: [(&str, Change); 3] = [
        (
            "a mover: applies",
            Box::new(move |h: &Harness| {
                h.fake.update(|company| {
                    company.employee_mut(mover).expect("mover").position = "Chief Tester".into()
                })
            }),
        ),
        (
            "mass deactivation: held",
            Box::new(move |h: &Harness| {
                h.fake.update(|company| {
                    for id in &leavers {
                        company.remove(*id);
                    }
                })
            }),
        ),
        (
            "Personio empty: held",
            Box::new(|h: &Harness| h.fake.set_fault(fake_personio::Fault::EmptyList)),
        ),
    ];
    for (case, change) in cases {
        change(&harness);
        let dry = harness.dry_run(now()).await;
        let ports = harness.ports();
        let snapshot = harness
            .store
            .snapshot(&harness.config.tenant)
            .await
            .expect("snapshot");
        let preview = fetch_and_preview(&ports.sources, &harness.config, &snapshot, now())
            .await
            .expect("preview");
        assert_eq!(
            dry.record.held_because, preview.held_because,
            "{case}: held alike"
        );
        let planned: BTreeMap<_, _> = dry
            .plan
            .actions
            .iter()
            .map(|action| (action.key.clone(), would(&action.kind)))
            .collect();
        let previewed: BTreeMap<_, _> = preview
            .rows
            .iter()
            .filter(|row| !matches!(row.would, Would::Nothing | Would::Skip))
            .map(|row| (row.person.clone(), row.would))
            .collect();
        assert!(!planned.is_empty(), "{case}: something to do");
        assert_eq!(planned, previewed, "{case}: the same actions");
    }
}

/// A held run keeps every later run from applying however many dry runs come after it: the check
/// reads the held runs themselves, not the newest run records.
#[tokio::test]
async fn a_held_run_blocks_the_next_run_after_more_than_a_hundred_dry_runs() {
    let harness = Harness::new(60).await;
    harness.run().await;
    let leavers: Vec<u64> = active_ids(&harness).into_iter().take(30).collect();
    harness.fake.update(|company| {
        for id in &leavers {
            company.remove(*id);
        }
    });
    let held = harness.run().await;
    assert_eq!(held.record.status, RunStatus::Held);
    // Later than the held run, as dry runs an admin starts while deciding would be.
    let later = |minutes: i64| now() + chrono::Duration::minutes(minutes);
    for minute in 1..=101 {
        harness.dry_run(later(minute)).await;
    }
    let blocked = harness
        .run_at(later(102))
        .await
        .expect_err("the held run still blocks");
    assert!(
        matches!(&blocked, RunError::HeldRunPending { run_id } if *run_id == held.record.id),
        "{blocked}"
    );
}
