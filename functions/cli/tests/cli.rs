//! The CLI as a user runs it: the real binary, against the fake Personio on 127.0.0.1.

use chrono::NaiveDate;
use fake_personio::{generate_company, CompanySpec, FakeConfig, FakePersonio, RateLimit};
use std::path::Path;
use std::process::{Command, Output};

fn cli(args: &[&str], envs: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_personio-sync"));
    command
        .args(args)
        .env_remove("PERSONIO_CLIENT_ID")
        .env_remove("PERSONIO_CLIENT_SECRET")
        .env_remove("RUST_LOG");
    for (key, value) in envs {
        command.env(key, value);
    }
    command.output().expect("run personio-sync")
}

async fn cli_async(args: Vec<String>, envs: Vec<(String, String)>) -> Output {
    tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let envs: Vec<(&str, &str)> = envs.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        cli(&args, &envs)
    })
    .await
    .expect("join")
}

/// `personio-sync <args> -c <config>`, on a blocking thread (the arguments are copied at once,
/// so the future borrows nothing).
fn run_in(config: &str, args: &[&str]) -> impl std::future::Future<Output = Output> + 'static {
    let mut all: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    all.extend(["-c".to_owned(), config.to_owned()]);
    cli_async(all, vec![])
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn write_config(dir: &Path, base_url: &str, extra: &str) -> String {
    let config = format!(
        r#"tenant = "cli-test"
[[personio.accounts]]
base_url = "{base_url}"
credentials_file = "creds.json"
rate_limit_per_minute = 60000
rate_limit_burst = 100
[destination]
kind = "directory"
path = "directory"
[email]
to = ["it@tenant.example"]
{extra}
"#
    );
    let path = dir.join("personio-sync.toml");
    std::fs::write(&path, config).expect("write config");
    path.display().to_string()
}

fn write_credentials(dir: &Path, secret: &str) {
    let json = format!(r#"{{"client_id": "fake-client-id", "client_secret": "{secret}"}}"#);
    std::fs::write(dir.join("creds.json"), json).expect("write credentials");
}

async fn fake(employees: usize) -> FakePersonio {
    let company = generate_company(&CompanySpec {
        employees,
        seed: 3,
        today: NaiveDate::from_ymd_opt(2026, 11, 23).expect("date"),
    });
    let config = FakeConfig {
        rate_limit: Some(RateLimit {
            per_minute: 60_000,
            burst: 100,
        }),
        ..FakeConfig::default()
    };
    FakePersonio::start(company, config).await.expect("fake")
}

#[test]
fn demo_syncs_the_sample_company_and_a_second_demo_only_hosts_more_pictures() {
    let dir = tempfile::tempdir().expect("temp dir");
    let demo = dir.path().join("demo");
    let demo = demo.to_str().expect("utf-8 path");
    let first = cli(&["demo", "--dir", demo], &[]);
    assert!(first.status.success(), "{}", stderr(&first));
    assert!(stdout(&first).contains("500 fetched"), "{}", stdout(&first));
    let users = std::fs::read_dir(dir.path().join("demo/directory/users"))
        .expect("users")
        .count();
    assert!(users > 400, "{users} users");
    // The next run changes nothing but the next profile pictures it hosts (the demo
    // config reads 20 per run: one update each).
    let second = cli(&["demo", "--dir", demo], &[]);
    assert!(second.status.success(), "{}", stderr(&second));
    let report = stdout(&second);
    assert!(
        report.contains("0 created, 0 adopted, ") && report.contains(" updated, 0 deactivated"),
        "{report}"
    );
    let updates: Vec<&str> = report
        .lines()
        .filter(|line| line.trim_start().starts_with("update"))
        .collect();
    // At most 20: a picture read for someone the plan skips (hired later) changes no user yet.
    assert!((1..=20).contains(&updates.len()), "{report}");
    assert!(
        updates.iter().all(|line| line.ends_with("[photo_url]")),
        "{report}"
    );
    let emails = std::fs::read_dir(dir.path().join("demo/outbox"))
        .expect("outbox")
        .count();
    assert_eq!(emails, 2, "one summary email per run");
}

#[test]
fn bad_config_is_one_clear_line_and_a_failure() {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = write_config(
        dir.path(),
        "http://127.0.0.1:9",
        "[guard]\nmax_deactivation = 3\n",
    );
    let output = cli(&["run", "-c", &config], &[]);
    assert_eq!(output.status.code(), Some(1));
    let err = stderr(&output);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with("error: ") && err.contains("max_deactivation"),
        "{err}"
    );
}

#[test]
fn missing_credentials_name_the_variables() {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = write_config(dir.path(), "http://127.0.0.1:9", "");
    let text = std::fs::read_to_string(&config)
        .expect("read")
        .replace("credentials_file = \"creds.json\"\n", "");
    std::fs::write(&config, text).expect("write");
    let output = cli(&["run", "-c", &config], &[]);
    assert_eq!(output.status.code(), Some(1));
    let err = stderr(&output);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("PERSONIO_CLIENT_ID") && err.contains("PERSONIO_CLIENT_SECRET"),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_credentials_are_one_clear_line_and_a_failure() {
    let fake = fake(20).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let config = write_config(dir.path(), &fake.url(), "");
    write_credentials(dir.path(), "wrong-secret");
    let output = cli_async(vec!["run".into(), "-c".into(), config], vec![]).await;
    assert_eq!(output.status.code(), Some(1));
    let err = stderr(&output);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("rejected the credentials"), "{err}");
    assert!(
        !err.contains("wrong-secret"),
        "secrets never reach the output"
    );
}

#[tokio::test]
async fn the_console_prints_a_link_that_opens_the_demos_history() {
    let dir = tempfile::tempdir().expect("temp dir");
    let demo = dir.path().join("demo");
    let first = cli(&["demo", "--dir", demo.to_str().expect("utf-8")], &[]);
    assert!(first.status.success(), "{}", stderr(&first));
    let config = demo.join("personio-sync.toml");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_personio-sync"))
        .args([
            "console",
            "-c",
            config.to_str().expect("utf-8"),
            "--port",
            "0",
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("start the console");
    let stdout = child.stdout.take().expect("stdout");
    let line = tokio::task::spawn_blocking(move || {
        use std::io::BufRead;
        let mut line = String::new();
        std::io::BufReader::new(stdout)
            .read_line(&mut line)
            .map(|_| line)
    })
    .await
    .expect("join")
    .expect("the link");
    let link = line.trim().to_owned();
    assert!(link.starts_with("http://127.0.0.1:"), "{link}");
    let http = sync_core::http::builder(std::time::Duration::from_secs(10))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let opened = http.get(&link).send().await.expect("open the link");
    assert_eq!(opened.status(), 303);
    let cookie = opened.headers()["set-cookie"]
        .to_str()
        .expect("text")
        .split(';')
        .next()
        .expect("name=value")
        .to_owned();
    let location = opened.headers()["location"]
        .to_str()
        .expect("text")
        .to_owned();
    let base = link.split("/open").next().expect("the console's address");
    let overview = http
        .get(format!("{base}{location}"))
        .header("cookie", &cookie)
        .send()
        .await
        .expect("the overview");
    assert_eq!(overview.status(), 200);
    let page = overview.text().await.expect("html");
    assert!(page.contains("Recent runs"), "{page}");

    // Sync now: the run's page shows its progress, then its report.
    let start = page.find(r#"name="csrf" value=""#).expect("a form") + 19;
    let csrf = page[start..].split('"').next().expect("a token").to_owned();
    let tenant_path = location.trim_end_matches('/');
    let started = http
        .post(format!("{base}{tenant_path}/sync"))
        .header("cookie", &cookie)
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .expect("sync now");
    assert_eq!(started.status(), 303);
    let run_page = started.headers()["location"]
        .to_str()
        .expect("text")
        .to_owned();
    assert!(
        run_page.starts_with(&format!("{tenant_path}/runs/")),
        "{run_page}"
    );
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let mut seen = Vec::new();
    let report = loop {
        let answer = http
            .get(format!("{base}{run_page}"))
            .header("cookie", &cookie)
            .send()
            .await
            .expect("the run's page");
        assert_eq!(answer.status(), 200, "{seen:?}");
        let page = answer.text().await.expect("html");
        if !page.contains("id=\"run-progress\"") {
            break page;
        }
        assert!(page.contains("of 4: "), "{page}");
        seen.push(page.len());
        assert!(std::time::Instant::now() < deadline, "the run never ended");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    let _ = child.kill();
    let _ = child.wait();
    assert!(report.contains("status-completed"), "{report}");
}

#[test]
fn every_command_given_the_demos_config_reaches_the_demos_company() {
    let dir = tempfile::tempdir().expect("temp dir");
    let demo = dir.path().join("demo");
    let first = cli(&["demo", "--dir", demo.to_str().expect("utf-8")], &[]);
    assert!(first.status.success(), "{}", stderr(&first));
    let config = demo.join("personio-sync.toml");
    let config = config.to_str().expect("utf-8");

    let preview = cli(&["preview", "-c", config], &[]);
    assert!(preview.status.success(), "{}", stderr(&preview));
    assert!(!stdout(&preview).is_empty());
    assert!(
        stderr(&preview).contains("title              -> fields.title"),
        "{}",
        stderr(&preview)
    );
    let check = cli(&["check-config", "-c", config, "--online"], &[]);
    assert!(check.status.success(), "{}", stderr(&check));
    let out = stdout(&check);
    assert!(
        out.contains("shirt_size         -> fields.shirt_size  (kept as it is in the user's file)"),
        "{out}"
    );
    assert!(
        out.contains("account main: label:Shirt size is attribute dynamic_40001"),
        "{out}"
    );
    let run = cli(&["run", "-c", config, "--dry-run"], &[]);
    assert!(run.status.success(), "{}", stderr(&run));
    // The company the demo synced, read again: nothing to change.
    let out = stdout(&run);
    assert!(out.contains("500 fetched"), "{out}");
    assert!(
        out.contains("0 created, 0 adopted, 0 updated, 0 deactivated"),
        "{out}"
    );
}

#[test]
fn summary_emails_link_to_the_console_when_its_address_is_set() {
    let dir = tempfile::tempdir().expect("temp dir");
    let demo = dir.path().join("demo");
    let first = cli(
        &["demo", "--dir", demo.to_str().expect("utf-8")],
        &[("PERSONIO_SYNC_CONSOLE_URL", "http://127.0.0.1:8787/")],
    );
    assert!(first.status.success(), "{}", stderr(&first));
    let email = std::fs::read_dir(demo.join("outbox"))
        .expect("outbox")
        .map(|entry| std::fs::read_to_string(entry.expect("entry").path()).expect("eml"))
        .next()
        .expect("a summary");
    // The text part carries the link whole (the HTML part escapes `&`).
    let text: String = test_support::mail::Part::parse(&email)
        .leaves()
        .into_iter()
        .filter(|part| {
            part.header("content-type")
                .is_some_and(|kind| kind.starts_with("text/plain"))
        })
        .map(|part| String::from_utf8_lossy(&part.decoded()).into_owned())
        .collect();
    let start = text
        .find("http://127.0.0.1:8787/open?link=")
        .expect("a console link");
    let link: String = text[start..]
        .chars()
        .take_while(|c| !c.is_whitespace())
        .collect();
    assert!(link.contains("&to=/tenants/"), "{link}");
    let token = link
        .split("link=")
        .nth(1)
        .and_then(|rest| rest.split('&').next())
        .expect("the token");
    let keys = sync_console::keyfile::load_or_create(&demo.join("state").join("console.key"))
        .expect("the console key");
    let grant = keys
        .open_link(token, chrono::Utc::now())
        .expect("the link opens with the state folder's key");
    assert_eq!(grant.tenant.as_str(), "demo-company");
}

#[path = "cli/decisions.rs"]
mod decisions;
