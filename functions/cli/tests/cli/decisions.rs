//! Commands that act on a run or a person: approving a held run, re-linking a rehire, adding a
//! person to Personio, undoing a run.

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn held_run_exits_3_and_approve_applies_it() {
    let fake = fake(100).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let config = write_config(dir.path(), &fake.url(), "[guard]\nmax_deactivations = 5\n");
    write_credentials(dir.path(), "fake-client-secret");
    let run = |args: &[&str]| run_in(&config, args);
    let dry = run(&["run", "--dry-run"]).await;
    assert!(dry.status.success(), "{}", stderr(&dry));
    assert!(stdout(&dry).contains("dry run, nothing written"));
    assert!(
        !dir.path().join("directory/users").exists()
            || std::fs::read_dir(dir.path().join("directory/users"))
                .expect("dir")
                .count()
                == 0
    );

    let first = run(&["run"]).await;
    assert!(first.status.success(), "{}", stderr(&first));
    fake.update(|company| {
        let ids: Vec<u64> = company
            .employees
            .iter()
            .filter(|e| e.status == "active")
            .take(10)
            .map(|e| e.id)
            .collect();
        for id in ids {
            company.remove(id);
        }
    });
    let held = run(&["run"]).await;
    assert_eq!(
        held.status.code(),
        Some(3),
        "{}{}",
        stdout(&held),
        stderr(&held)
    );
    assert!(stdout(&held).contains("HELD"));
    let runs = run(&["runs"]).await;
    let held_id = stdout(&runs)
        .lines()
        .find(|line| line.contains(" held "))
        .and_then(|line| line.split_whitespace().next())
        .expect("runs lists the held run")
        .to_owned();
    let approved = run(&["approve", &held_id]).await;
    assert!(approved.status.success(), "{}", stderr(&approved));
    assert!(
        stdout(&approved).contains("10 deactivated"),
        "{}",
        stdout(&approved)
    );
    let again = run(&["reject", &held_id]).await;
    assert_eq!(again.status.code(), Some(1));
    assert!(stderr(&again).contains("not held"), "{}", stderr(&again));
}

#[tokio::test]
async fn a_held_rehire_is_named_by_the_run_and_rehire_relinks_it() {
    let fake = fake(30).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let config = write_config(dir.path(), &fake.url(), "");
    write_credentials(dir.path(), "fake-client-secret");
    let run = |args: &[&str]| run_in(&config, args);
    assert!(run(&["run"]).await.status.success());
    let old = fake
        .company()
        .employees
        .iter()
        .find(|e| e.status == "active" && e.termination_date.is_none())
        .expect("an active person")
        .clone();
    fake.update(|company| {
        company.remove(old.id);
    });
    assert!(run(&["run"]).await.status.success());
    let new = fake.company().next_id();
    fake.update(|company| {
        let mut again = old.clone();
        again.id = new;
        company.add_employee(again);
    });
    let held = run(&["run"]).await;
    assert!(held.status.success(), "{}", stderr(&held));
    let command = format!("--person main:{new} --previous main:{}", old.id);
    // The run names the held person and the command that decides.
    assert!(stdout(&held).contains(&command), "{}", stdout(&held));

    // A typo gets one clear line.
    let typo = run(&[
        "rehire",
        "--person",
        "2001",
        "--previous",
        "main:1",
        "--relink",
    ])
    .await;
    assert_eq!(typo.status.code(), Some(1));
    assert!(stderr(&typo).contains("account:id"), "{}", stderr(&typo));

    let person = format!("main:{new}");
    let previous = format!("main:{}", old.id);
    let decided = run(&[
        "rehire",
        "--person",
        &person,
        "--previous",
        &previous,
        "--relink",
    ])
    .await;
    assert!(decided.status.success(), "{}", stderr(&decided));
    assert!(
        stdout(&decided).contains("takes over user"),
        "{}",
        stdout(&decided)
    );
    let relinked = run(&["run"]).await;
    assert!(relinked.status.success(), "{}", stderr(&relinked));
    assert!(
        stdout(&relinked).contains("1 adopted"),
        "{}",
        stdout(&relinked)
    );
}

#[tokio::test]
async fn personio_add_checks_first_shows_personios_refusal_and_the_next_run_links_the_person() {
    let fake = fake(20).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let config = write_config(dir.path(), &fake.url(), "");
    write_credentials(dir.path(), "fake-client-secret");
    let run = |args: &[&str]| run_in(&config, args);
    let add = |email: &str, extra: &[&str]| {
        let mut args = vec![
            "personio",
            "add",
            "--email",
            email,
            "--first-name",
            "Ada",
            "--last-name",
            "Lovelace",
        ];
        args.extend_from_slice(extra);
        run_in(&config, &args)
    };

    // Checked before anything is sent: a bad email and an attribute the tenant does not allow.
    let refused = add("ada", &["--set", "salary=1"]).await;
    assert_eq!(refused.status.code(), Some(1));
    let err = stderr(&refused);
    assert!(
        err.contains("nothing was sent") && err.contains("email:") && err.contains("salary:"),
        "{err}"
    );
    assert_eq!(fake.stats().write_requests, 0);

    let added = add(
        "ada.lovelace@nordlicht.example",
        &["--set", "position=Analyst"],
    )
    .await;
    assert!(added.status.success(), "{}", stderr(&added));
    assert!(stdout(&added).contains("as employee"), "{}", stdout(&added));
    let person = fake
        .company()
        .employees
        .iter()
        .find(|e| e.email == "ada.lovelace@nordlicht.example")
        .expect("added to Personio")
        .clone();
    assert_eq!(person.position, "Analyst");

    // Personio's own message when it refuses.
    let twice = add("ada.lovelace@nordlicht.example", &[]).await;
    assert_eq!(twice.status.code(), Some(1));
    assert!(
        stderr(&twice).contains("already been taken"),
        "{}",
        stderr(&twice)
    );

    // The next run links them as usual.
    assert!(run(&["run"]).await.status.success());
    let users = std::fs::read_dir(dir.path().join("directory/users")).expect("users");
    let linked = users.filter_map(Result::ok).any(|entry| {
        std::fs::read_to_string(entry.path())
            .is_ok_and(|text| text.contains(&format!("\"main:{}\"", person.id)))
    });
    assert!(linked, "the new person has a user");
}

#[tokio::test]
async fn undo_shows_a_dry_run_then_puts_the_run_back() {
    let fake = fake(20).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let config = write_config(dir.path(), &fake.url(), "");
    write_credentials(dir.path(), "fake-client-secret");
    let run = |args: &[&str]| run_in(&config, args);
    assert!(run(&["run"]).await.status.success());
    fake.update(|company| {
        company.new_hire(
            "Nora",
            "Neumann",
            NaiveDate::from_ymd_opt(2026, 11, 2).expect("date"),
        );
    });
    assert!(run(&["run"]).await.status.success());
    let runs = stdout(&run(&["runs"]).await);
    let latest = runs
        .lines()
        .next()
        .and_then(|line| line.split_whitespace().next())
        .expect("the latest run")
        .to_owned();

    let dry = run(&["undo", &latest, "--dry-run"]).await;
    assert!(dry.status.success(), "{}", stderr(&dry));
    assert!(
        stdout(&dry).contains("dry run, nothing written"),
        "{}",
        stdout(&dry)
    );
    assert!(stdout(&dry).contains("1 deactivated"), "{}", stdout(&dry));

    let undone = run(&["undo", &latest]).await;
    assert!(undone.status.success(), "{}", stderr(&undone));
    assert!(
        stdout(&undone).contains("1 deactivated"),
        "{}",
        stdout(&undone)
    );

    // A made-up run is one clear line.
    let unknown = run(&["undo", "20200101T000000Z-000000"]).await;
    assert_eq!(unknown.status.code(), Some(1));
    assert!(
        stderr(&unknown).contains("has no run"),
        "{}",
        stderr(&unknown)
    );
}
