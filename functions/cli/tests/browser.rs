//! The admins' console in a real browser: headless Chromium (Debian's `chromium`) driven by
//! `tests/browser/console.mjs` (puppeteer-core, axe-core), against `personio-sync console` on a
//! demo folder whose last run was held. Installed by `bash infra/browser.sh` (the test command
//! runs it).
//!
//! The admin's whole path: the held run's `.eml` carries the link; it opens the run's report,
//! which says why the run was held; approving after the confirmation applies the plan (the
//! people who left scope are now inactive in the app's directory); sync now and a dry run lead
//! to their progress and their report; tampered, expired and other-tenant links and forms
//! without the session's token are refused. axe-core finds no serious or critical violation on
//! any page. Screenshots go to `PERSONIO_SYNC_SCREENSHOTS` (docs/screenshots when refreshing
//! them), else to the test's temporary folder.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use sync_core::console_site::ConsoleSite;
use sync_core::ids::TenantId;
use sync_core::links::Access;
use test_support::mail::Part;

fn workspace() -> PathBuf {
    test_support::workspace_root()
}

fn personio_sync(args: &[&str], envs: &[(&str, &str)]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_personio-sync"))
        .args(args)
        .envs(envs.iter().copied())
        .output()
        .expect("run personio-sync")
}

/// The browser and the script's packages, or a message that says how to install them.
fn prerequisites() -> (String, PathBuf) {
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".to_owned());
    let script = workspace().join("tests/browser/console.mjs");
    let modules = workspace().join("tests/browser/node_modules/puppeteer-core");
    assert!(
        Path::new(&chromium).exists() && modules.exists(),
        "the browser test needs Chromium ({chromium}) and tests/browser/node_modules: run `bash infra/browser.sh` (the test command does)"
    );
    (chromium, script)
}

/// The newest `.eml` of the outbox.
fn newest_email(outbox: &Path) -> String {
    let mut files: Vec<PathBuf> = std::fs::read_dir(outbox)
        .expect("the outbox")
        .filter_map(|entry| entry.ok().map(|entry| entry.path()))
        .filter(|path| path.extension().is_some_and(|ext| ext == "eml"))
        .collect();
    files.sort();
    std::fs::read_to_string(files.last().expect("an email")).expect("read the email")
}

/// The decoded HTML part of `email`.
fn html_part(email: &Part) -> String {
    email
        .leaves()
        .into_iter()
        .find(|part| {
            part.header("content-type")
                .is_some_and(|t| t.starts_with("text/html"))
        })
        .map(|part| String::from_utf8_lossy(&part.decoded()).into_owned())
        .expect("an HTML part")
}

/// The console link in `text` (starting at `base`).
fn link_in(text: &str, base: &str) -> String {
    let start = text
        .find(&format!("{base}/open?link="))
        .unwrap_or_else(|| panic!("no console link in the email: {text}"));
    text[start..]
        .split(|c: char| c.is_whitespace() || c == '"' || c == '<' || c == '>')
        .next()
        .expect("a link")
        .replace("&amp;", "&")
}

/// Users of the demo's directory that may not sign in.
fn inactive_users(demo: &Path) -> usize {
    std::fs::read_dir(demo.join("directory/users"))
        .expect("the directory")
        .filter_map(|entry| entry.ok())
        .filter_map(|entry| std::fs::read_to_string(entry.path()).ok())
        .filter_map(|text| serde_json::from_str::<Value>(&text).ok())
        .filter(|user| user["active"] == Value::Bool(false))
        .count()
}

#[test]
fn an_admin_approves_a_held_run_from_the_email_and_every_page_passes_axe() {
    let (chromium, script) = prerequisites();
    let dir = tempfile::tempdir().expect("temp dir");
    let demo = dir.path().join("demo");
    let config = demo.join("personio-sync.toml");
    let config_arg = config.to_str().expect("utf-8");
    let first = personio_sync(&["demo", "--dir", demo.to_str().expect("utf-8")], &[]);
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );

    // Someone narrows the scope to one office: most people would be deactivated, so the run is
    // held, and its summary links to the console.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port")
        .port();
    let base = format!("http://127.0.0.1:{port}");
    let mut text = std::fs::read_to_string(&config).expect("the config");
    text.push_str("\n[[scope.rules]]\nattribute = \"office\"\nallowed = [\"London\"]\n");
    std::fs::write(&config, text).expect("write the config");
    let held = personio_sync(
        &["run", "-c", config_arg],
        &[("PERSONIO_SYNC_CONSOLE_URL", &base)],
    );
    let stdout = String::from_utf8_lossy(&held.stdout);
    assert!(stdout.contains("held"), "{stdout}");
    let inactive_before = inactive_users(&demo);

    let email = Part::parse(&newest_email(&demo.join("outbox")));
    let html = html_part(&email);
    let link = link_in(&html, &base);
    let email_html = dir.path().join("email.html");
    std::fs::write(&email_html, &html).expect("write the email's HTML");

    // Links the test mints with the console's own key: expired, tampered, another tenant's.
    let keys = sync_console::keyfile::load_or_create(&demo.join("state/console.key"))
        .expect("the console's key");
    let site = ConsoleSite {
        url: base.clone(),
        keys,
    };
    let tenant = TenantId::parse("demo-company").expect("the demo's tenant");
    let expired = site.link(
        &tenant,
        Access::Act,
        chrono::Utc::now() - chrono::Duration::minutes(1),
        None,
    );
    let other = TenantId::parse("another-company").expect("a tenant id");
    let other_link = site.link(
        &other,
        Access::Act,
        chrono::Utc::now() + chrono::Duration::hours(1),
        None,
    );
    let mut tampered = link.clone();
    let flip = tampered.find("&to=").unwrap_or(tampered.len()) - 1;
    let last = tampered.as_bytes()[flip];
    tampered.replace_range(flip..=flip, if last == b'A' { "B" } else { "A" });

    let mut console = Command::new(env!("CARGO_BIN_EXE_personio-sync"))
        .args(["console", "-c", config_arg, "--port", &port.to_string()])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start the console");
    {
        use std::io::BufRead;
        let mut line = String::new();
        std::io::BufReader::new(console.stdout.as_mut().expect("stdout"))
            .read_line(&mut line)
            .expect("the console's first line");
        assert!(line.starts_with(&base), "{line}");
    }
    let screenshots = std::env::var("PERSONIO_SYNC_SCREENSHOTS")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("screenshots"));
    let input = serde_json::json!({
        "chromium": chromium,
        "base": base,
        "tenant": tenant.as_str(),
        "link": link,
        "expired_link": expired,
        "tampered_link": tampered,
        "other_tenant_link": other_link,
        "email_html": email_html,
        "screenshots": screenshots,
    });
    let input_path = dir.path().join("browser-input.json");
    std::fs::write(&input_path, input.to_string()).expect("write the input");
    let browser = Command::new("node")
        .arg(&script)
        .arg(&input_path)
        .output()
        .expect("run node");
    let _ = console.kill();
    let _ = console.wait();
    assert!(
        browser.status.success(),
        "the browser script failed: {}",
        String::from_utf8_lossy(&browser.stderr)
    );
    let result: Value = serde_json::from_slice(&browser.stdout).expect("the script's JSON");
    let steps = &result["steps"];

    // The emailed link opened the held run's report, which said why.
    assert_eq!(steps["held_report"]["status"], 200, "{steps:#}");
    assert_eq!(steps["held_report"]["held"], true, "{steps:#}");
    assert_eq!(steps["confirm"]["says"], true, "{steps:#}");
    // Approved: the run that applied the plan completed, and the people who left scope may no
    // longer sign in.
    assert_eq!(steps["approved"]["status"], "completed", "{steps:#}");
    assert!(
        inactive_users(&demo) > inactive_before + 25,
        "{} inactive before, {} after",
        inactive_before,
        inactive_users(&demo)
    );
    assert_eq!(steps["synced"]["status"], "completed", "{steps:#}");
    assert_eq!(steps["dry_run"]["plan"], true, "{steps:#}");
    assert_eq!(steps["person_link"], true, "{steps:#}");
    // Refused: forms without the token, tampered and expired links, another tenant's session.
    assert_eq!(steps["post_without_csrf"], serde_json::json!([403, 403]));
    assert_eq!(steps["tampered"], 401);
    assert_eq!(steps["expired"], 401);
    assert_eq!(steps["other_tenant"]["status"], 403, "{steps:#}");

    // axe-core: no serious or critical violation on any page.
    let pages = result["pages"].as_array().expect("pages");
    assert!(pages.len() >= 14, "{pages:#?}");
    let serious: Vec<&Value> = pages
        .iter()
        .flat_map(|page| {
            page["violations"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|v| matches!(v["impact"].as_str(), Some("serious" | "critical")))
        })
        .collect();
    assert!(serious.is_empty(), "{:#}", result["pages"]);
}
