//! A queued or running run's page: its phase and steps as last written, reloading itself until
//! the run's report is there.

use crate::support::console;
use sync_core::history::RunStatus;
use sync_core::ids::RunId;
use sync_core::ports::Store;
use sync_core::progress::{Phase, ProgressLog, RunProgress};

#[tokio::test]
async fn a_running_runs_page_shows_its_progress_until_the_report_is_there() {
    let console = console().await;
    let cookie = console.session().await;
    let store = &console.harness.store;
    let tenant = &console.tenant;
    // A run that started and has not ended, as the engine keeps it: a `running` record, and the
    // progress its reporter wrote.
    let first = store.runs(tenant, 1).await.expect("runs").remove(0);
    let mut running = first.clone();
    running.id = RunId::new(chrono::Utc::now());
    running.status = RunStatus::Running;
    running.finished_at = None;
    store.save_run(tenant, &running).await.expect("save");
    let path = format!("/tenants/{tenant}/runs/{}", running.id);

    // Started, nothing reported yet: the first phase.
    let (status, page) = console.get(&path, Some(&cookie)).await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("Step 1 of 4: Reading Personio"), "{page}");
    assert!(page.contains(r#"id="run-progress""#) && page.contains("/assets/progress.js"));
    // Its script's question: the same numbers.
    let (status, json) = console
        .get(&format!("{path}/progress.json"), Some(&cookie))
        .await;
    assert_eq!(status, 200);
    let view: serde_json::Value = serde_json::from_str(&json).expect("JSON");
    assert_eq!(view["ended"], false);
    assert_eq!(view["heading"], "Step 1 of 4: Reading Personio");

    let progress = RunProgress {
        run: running.id.clone(),
        phase: Phase::Apply,
        done: 3,
        total: 10,
        updated_at: chrono::Utc::now(),
    };
    store.save_progress(tenant, &progress).await.expect("save");
    let (status, page) = console.get(&path, Some(&cookie)).await;
    assert_eq!(status, 200);
    assert!(page.contains("Step 3 of 4: Writing to the app"), "{page}");
    assert!(
        page.contains(r#"<progress id="steps" max="10" value="3""#),
        "{page}"
    );
    assert!(page.contains("3 of 10 changes (30 %)"), "{page}");
    let (_, json) = console
        .get(&format!("{path}/progress.json"), Some(&cookie))
        .await;
    let view: serde_json::Value = serde_json::from_str(&json).expect("JSON");
    assert_eq!(
        (
            view["done"].as_u64(),
            view["total"].as_u64(),
            view["percent"].as_u64()
        ),
        (Some(3), Some(10), Some(30))
    );

    // It ends: the report, no reloading.
    running.status = RunStatus::Completed;
    running.finished_at = Some(chrono::Utc::now());
    store.save_run(tenant, &running).await.expect("save");
    store
        .clear_progress(tenant, &running.id)
        .await
        .expect("clear");
    let (status, page) = console.get(&path, Some(&cookie)).await;
    assert_eq!(status, 200);
    assert!(page.contains("Counts"), "{page}");
    assert!(!page.contains("run-progress"));
    let (_, json) = console
        .get(&format!("{path}/progress.json"), Some(&cookie))
        .await;
    assert!(json.contains(r#""ended":true"#), "{json}");

    // A run that neither runs nor waits in a queue is not found.
    let never = RunId::new(chrono::Utc::now());
    let (status, _) = console
        .get(&format!("/tenants/{tenant}/runs/{never}"), Some(&cookie))
        .await;
    assert_eq!(status, 404);
}
