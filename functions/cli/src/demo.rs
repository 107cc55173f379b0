//! `demo` and `fake-personio`: the sample company, served by the fake Personio, synced into a folder.

use crate::output;
use crate::wiring::{self, Wired};
use crate::{Done, Place};
use anyhow::Context;
use chrono::{NaiveDate, Utc};
use fake_personio::{generate_company, CompanySpec, FakeConfig, FakePersonio, RateLimit};
use secrecy::SecretString;
use std::path::Path;
use sync_core::history::{RunStatus, Trigger};
use sync_core::lifecycle::today_in;
use sync_core::personio::{PersonioClient, PersonioSettings};
use sync_core::record::{FieldValue, UserRecord, EMAIL, USER_NAME};
use sync_core::run::{self, RunRequest, RunTarget};

/// The tenant config the demo writes on its first run: a working example of every section.
const DEMO_CONFIG: &str = include_str!("../../../examples/demo.toml");

/// What the first demo run decided, so later runs see the same company.
#[derive(serde::Serialize, serde::Deserialize)]
struct Anchor {
    employees: usize,
    seed: u64,
    today: NaiveDate,
    /// The fake's port: Personio's profile-picture URLs name its host, so a stable port keeps
    /// them from changing between demo runs.
    #[serde(default)]
    port: u16,
}

fn anchor(dir: &Path, employees: usize, seed: u64) -> anyhow::Result<Anchor> {
    let path = dir.join("demo.json");
    if path.exists() {
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        return serde_json::from_str(&text).with_context(|| {
            format!(
                "{} is damaged; remove the demo folder to start over",
                path.display()
            )
        });
    }
    let anchor = Anchor {
        employees,
        seed,
        today: today_in(chrono_tz::Europe::Berlin, Utc::now()),
        port: 0,
    };
    save_anchor(dir, &anchor)?;
    Ok(anchor)
}

fn save_anchor(dir: &Path, anchor: &Anchor) -> anyhow::Result<()> {
    let path = dir.join("demo.json");
    std::fs::write(&path, serde_json::to_string_pretty(anchor)?)
        .with_context(|| format!("cannot write {}", path.display()))
}

/// Serves the anchor's company on 127.0.0.1: the port of the first run if it is still free, else
/// any (and the anchor remembers it).
async fn serve(dir: &Path, anchor: &mut Anchor) -> anyhow::Result<FakePersonio> {
    let company = generate_company(&CompanySpec {
        employees: anchor.employees,
        seed: anchor.seed,
        today: anchor.today,
    });
    let listener = match tokio::net::TcpListener::bind(("127.0.0.1", anchor.port)).await {
        Ok(listener) => listener,
        Err(_) => tokio::net::TcpListener::bind(("127.0.0.1", 0))
            .await
            .context("cannot listen on 127.0.0.1")?,
    };
    let fake = FakePersonio::serve(listener, company, FakeConfig::default())
        .await
        .context("cannot start the fake Personio on 127.0.0.1")?;
    if anchor.port != fake.addr().port() {
        anchor.port = fake.addr().port();
        save_anchor(dir, anchor)?;
    }
    Ok(fake)
}

/// The credentials file the demo's config names, with the fake's credentials, so that every
/// command given the demo's config can sign in.
fn write_credentials(dir: &Path, fake: &FakeConfig) -> anyhow::Result<()> {
    let path = dir.join("personio-credentials.json");
    let json = serde_json::json!({
        "client_id": fake.client_id,
        "client_secret": fake.client_secret,
    });
    std::fs::write(&path, json.to_string())
        .with_context(|| format!("cannot write {}", path.display()))
}

/// The demo's company, served again for a command given a demo folder's config, so that every
/// command (run, preview, check-config --online, the console's sync now) reaches the company the
/// demo synced. `None` when `dir` is not a demo folder.
pub async fn serve_demo_company(dir: &Path) -> anyhow::Result<Option<FakePersonio>> {
    if !dir.join("demo.json").exists() {
        return Ok(None);
    }
    let mut anchor = anchor(dir, 0, 0)?;
    let fake = serve(dir, &mut anchor).await?;
    write_credentials(dir, &FakeConfig::default())?;
    Ok(Some(fake))
}

/// `demo`: sync the sample company into `dir`; a repeated demo syncs again (a full run, as sync
/// now does).
pub async fn demo(dir: &Path, employees: usize, seed: u64) -> anyhow::Result<Done> {
    std::fs::create_dir_all(dir)
        .with_context(|| format!("cannot create the demo folder {}", dir.display()))?;
    let config_path = dir.join("personio-sync.toml");
    let first_run = !config_path.exists();
    if first_run {
        std::fs::write(&config_path, DEMO_CONFIG)
            .with_context(|| format!("cannot write {}", config_path.display()))?;
    }
    let mut anchor = anchor(dir, employees, seed)?;
    let fake = serve(dir, &mut anchor).await?;
    let company = fake.company();
    let defaults = FakeConfig::default();
    write_credentials(dir, &defaults)?;

    let place = Place {
        config: config_path,
        state: None,
        outbox: None,
    };
    let mut loaded = wiring::load(&place)?;
    let account = loaded.config.personio.accounts[0].name.clone();
    loaded.config.personio.accounts[0].base_url = fake.url();
    let mut settings = PersonioSettings::new(
        account.clone(),
        fake.url(),
        defaults.client_id.clone(),
        SecretString::from(defaults.client_secret.clone()),
    );
    settings.keep_attributes = Some(loaded.config.attributes().fetch_filter());
    let wired =
        Wired::with_sources(&loaded, vec![(account, PersonioClient::new(settings)?)]).await?;
    if first_run {
        seed_existing_users(&loaded, &company).await?;
    }
    let request = RunRequest {
        target: RunTarget::Everyone,
        dry_run: false,
        // A full read every time, so that each demo hosts the next pictures: an incremental
        // scheduled run would read only the people changed since.
        trigger: Trigger::Manual,
        now: Utc::now(),
        deadline: None,
        run_id: None,
    };
    let outcome = run::run(&wired.ports(), &loaded.config, request).await?;
    output::print_run(&outcome.record, None, false);
    out!();
    out!("demo folder {}:", dir.display());
    out!("  directory/users, directory/groups  the app's user store (one JSON file each)");
    out!(
        "  outbox/                            the summary emails ({} so far)",
        wired.mailer().messages()?.len()
    );
    out!(
        "  state/                             snapshot and run history (personio-sync runs -c {})",
        place.config.display()
    );
    out!(
        "the history in a browser: personio-sync console -c {} (prints a link to open)",
        place.config.display()
    );
    Ok(if outcome.record.status == RunStatus::Held {
        Done::Held
    } else {
        Done::Ok
    })
}

/// Puts two users in the app before the first sync, as a real app would have: one with the email
/// of a Personio employee (adopted, not duplicated) and a service account (never touched).
async fn seed_existing_users(
    loaded: &wiring::Loaded,
    company: &fake_personio::Company,
) -> anyhow::Result<()> {
    let path = match &loaded.config.destination {
        sync_core::config::DestinationConfig::Directory { path } => path.as_str(),
        sync_core::config::DestinationConfig::Scim { .. } => "directory",
    };
    let directory = sync_local::DirectoryDestination::open(loaded.base.join(path))?;
    let existing = company
        .employees
        .iter()
        .find(|employee| employee.status == "active");
    let mut users = vec![("ci-bot@demo.example".to_owned(), "CI", "Bot")];
    if let Some(employee) = existing {
        users.push((employee.email.to_uppercase(), "Pre-existing", "Account"));
    }
    for (email, given, family) in users {
        let mut record = UserRecord::new();
        record.set(USER_NAME, FieldValue::Text(email.clone()));
        record.set(EMAIL, FieldValue::Text(email));
        record.set("given_name", FieldValue::Text(given.into()));
        record.set("family_name", FieldValue::Text(family.into()));
        directory.seed_user(&record, true).await?;
    }
    Ok(())
}

/// `fake-personio`: serve a generated company until Ctrl-C.
pub async fn fake_personio(
    port: u16,
    employees: usize,
    seed: u64,
    rate_limit: u32,
    burst: u32,
) -> anyhow::Result<Done> {
    let company = generate_company(&CompanySpec {
        employees,
        seed,
        today: today_in(chrono_tz::Europe::Berlin, Utc::now()),
    });
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .with_context(|| format!("cannot listen on 127.0.0.1:{port}"))?;
    let config = FakeConfig {
        rate_limit: (rate_limit > 0).then_some(RateLimit {
            per_minute: rate_limit,
            burst: burst.max(1),
        }),
        ..FakeConfig::default()
    };
    let fake = FakePersonio::serve(listener, company, config.clone()).await?;
    out!(
        "fake Personio serving {employees} employees at {}",
        fake.url()
    );
    out!(
        "client id: {}  client secret: {}",
        config.client_id,
        config.client_secret
    );
    out!("press Ctrl-C to stop");
    tokio::signal::ctrl_c()
        .await
        .context("cannot wait for Ctrl-C")?;
    Ok(Done::Ok)
}
