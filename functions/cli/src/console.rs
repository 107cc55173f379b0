//! `console`: the admins' console on 127.0.0.1 against the local state folder. The first line on
//! stdout is a signed link to the tenant's overview, valid for `--days`.

use crate::wiring::{self, Wired};
use crate::{Done, Place};
use anyhow::Context;
use chrono::Utc;
use std::sync::Arc;
use sync_console::{ActionError, Actions};
use sync_core::config::TenantConfig;
use sync_core::console_site::ConsoleSite;
use sync_core::history::Trigger;
use sync_core::ids::{PersonKey, RunId, TenantId};
use sync_core::links::{Access, Grant};
use sync_core::ports::Store;
use sync_core::preview::{preview_person, PreviewRow};
use sync_core::progress::{reporting, LiveProgress, ProgressLog};
use sync_core::run::{self, RunError, RunRequest, RunTarget};
use sync_local::FolderStore;

/// The console's key file in the state folder.
pub const KEY_FILE: &str = "console.key";

/// Serves the console until Ctrl-C.
pub async fn console(place: &Place, port: u16, days: u16) -> anyhow::Result<Done> {
    let loaded = wiring::load(place)?;
    let keys = sync_console::keyfile::load_or_create(&loaded.state.join(KEY_FILE))?;
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .with_context(|| format!("cannot listen on 127.0.0.1:{port}; pick another --port"))?;
    let address = listener.local_addr()?;
    let grant = Grant {
        tenant: loaded.config.tenant.clone(),
        // The local operator owns the state folder: the link may act.
        access: Access::Act,
        expires: Utc::now() + chrono::Duration::days(i64::from(days.max(1))),
    };
    out!("http://{address}/open?link={}", keys.link(&grant));
    eprintln!(
        "The console of {} is served on http://{address} (open the link above); Ctrl-C stops it.",
        loaded.config.tenant
    );
    eprintln!(
        "Summary emails link to it when {CONSOLE_URL_ENV}=http://{address} is set for the runs (keep the address with --port {}).",
        address.port()
    );
    let deps = sync_console::ConsoleDeps {
        store: Arc::new(FolderStore::new(&loaded.state)),
        progress: Arc::new(FolderStore::new(&loaded.state)),
        // Runs start at once here: none waits in a queue.
        queued: None,
        keys: Arc::new(keys),
        actions: Some(Arc::new(LocalActions {
            place: place.clone(),
            running: Arc::new(tokio::sync::Mutex::new(())),
        })),
        previews: Some(Arc::new(LocalPreviews {
            place: place.clone(),
        })),
        // Plain http on loopback: a Secure cookie would never be sent back.
        settings: sync_console::ConsoleSettings {
            secure_cookie: false,
            ..sync_console::ConsoleSettings::default()
        },
    };
    axum::serve(listener, sync_console::app(deps))
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
        .context("the console stopped")?;
    Ok(Done::Ok)
}

/// Approve and reject on this machine: the same engine calls as `approve` and `reject`.
struct LocalActions {
    place: Place,
    /// Held while a sync the console started runs: one at a time on a state folder.
    running: Arc<tokio::sync::Mutex<()>>,
}

/// How often a sync the console started writes its progress, at most.
const PROGRESS_EVERY: std::time::Duration = std::time::Duration::from_millis(500);

fn action_error(error: anyhow::Error) -> ActionError {
    match error.downcast_ref::<RunError>() {
        Some(RunError::NotHeld { .. } | RunError::UnknownRun { .. }) => {
            ActionError::Refused(error.to_string())
        }
        _ => ActionError::Failed(format!("{error:#}")),
    }
}

/// Runs `work` on a blocking thread of the runtime: the engine's apply future is not `Send`,
/// and the console's handlers must be.
async fn on_blocking_thread<T: Send + 'static>(
    work: impl FnOnce() -> anyhow::Result<T> + Send + 'static,
) -> Result<T, ActionError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|error| ActionError::Failed(error.to_string()))?
        .map_err(action_error)
}

impl LocalActions {
    /// Starts a full run (or dry run) and answers with its id once it has started: its page
    /// shows the progress, then the report. What stops it before it starts (a config or
    /// credential unusable, a held run for a run that writes) is the answer instead.
    async fn start(&self, tenant: &TenantId, dry_run: bool) -> Result<RunId, ActionError> {
        let running = self.running.clone().try_lock_owned().map_err(|_| {
            ActionError::Refused(
                "A sync started here is still running; its page shows how far it has come. Start another once it has ended."
                    .to_owned(),
            )
        })?;
        let place = self.place.clone();
        let store = FolderStore::new(wiring::load(&place).map_err(action_error)?.state);
        // A dry run writes nothing: a held run does not stop it.
        let held = match dry_run {
            true => Vec::new(),
            false => store
                .held_runs(tenant)
                .await
                .map_err(|error| ActionError::Failed(error.to_string()))?,
        };
        if let Some(held) = held.first() {
            return Err(ActionError::Refused(format!(
                "Run {held} is held and waits for a decision: approve or reject it first."
            )));
        }
        let run_id = RunId::new(Utc::now());
        let live = LiveProgress::new(run_id.clone());
        let (started, wired) = tokio::sync::oneshot::channel();
        tokio::task::spawn_blocking(move || {
            let _running = running;
            tokio::runtime::Handle::current().block_on(async move {
                let built = async {
                    let loaded = wiring::load_live(&place).await?;
                    let wired = Wired::reporting(&loaded, Some(live.clone())).await?;
                    anyhow::Ok((loaded, wired))
                };
                let (loaded, wired) = match built.await {
                    Ok(built) => built,
                    Err(error) => {
                        let _ = started.send(Err(action_error(error)));
                        return;
                    }
                };
                // Written before the answer, so that the run's page finds it at once.
                if let Some(first) = live.take_changed() {
                    let tenant = &loaded.config.tenant;
                    if let Err(error) = wired.store().save_progress(tenant, &first).await {
                        let _ = started.send(Err(ActionError::Failed(error.to_string())));
                        return;
                    }
                }
                let _ = started.send(Ok(()));
                let request = RunRequest {
                    target: RunTarget::Everyone,
                    dry_run,
                    trigger: Trigger::Manual,
                    now: Utc::now(),
                    deadline: None,
                    run_id: Some(live.run()),
                };
                let ports = wired.ports();
                let run = run::run(&ports, &loaded.config, request);
                let tenant = &loaded.config.tenant;
                let outcome = reporting(&live, wired.store(), tenant, PROGRESS_EVERY, run).await;
                // The first progress, written above, goes too (a quick run writes no other).
                if let Err(error) = wired.store().clear_progress(tenant, &live.run()).await {
                    eprintln!("Could not remove the progress of a sync that ended: {error}");
                }
                wired.bar().clear();
                if let Err(error) = outcome {
                    // The engine recorded and emailed what it could; the terminal says so too.
                    eprintln!("A sync started from the console failed: {error}");
                }
            });
        });
        wired
            .await
            .map_err(|_| ActionError::Failed("the sync stopped before it started".to_owned()))??;
        Ok(run_id)
    }
}

#[async_trait::async_trait]
impl Actions for LocalActions {
    async fn approve(&self, _tenant: &TenantId, run_id: &RunId) -> Result<RunId, ActionError> {
        let (place, run_id) = (self.place.clone(), run_id.clone());
        on_blocking_thread(move || {
            tokio::runtime::Handle::current().block_on(async move {
                let loaded = wiring::load(&place)?;
                // Applying a held plan reads nothing from Personio.
                let wired = Wired::with_sources(&loaded, Vec::new()).await?;
                let outcome =
                    run::approve(&wired.ports(), &loaded.config, &run_id, Utc::now()).await?;
                Ok(outcome.record.id)
            })
        })
        .await
    }

    async fn sync_now(&self, tenant: &TenantId) -> Result<RunId, ActionError> {
        self.start(tenant, false).await
    }

    async fn dry_run(&self, tenant: &TenantId) -> Result<RunId, ActionError> {
        self.start(tenant, true).await
    }

    async fn undo(
        &self,
        _tenant: &TenantId,
        undone: &RunId,
        dry_run: bool,
    ) -> Result<RunId, ActionError> {
        let (place, undone) = (self.place.clone(), undone.clone());
        on_blocking_thread(move || {
            tokio::runtime::Handle::current().block_on(async move {
                let loaded = wiring::load_live(&place).await?;
                let wired = Wired::new(&loaded).await?;
                let request = RunRequest {
                    target: RunTarget::Everyone,
                    dry_run,
                    trigger: Trigger::Undo {
                        run: undone.clone(),
                        only_unchanged: false,
                    },
                    now: Utc::now(),
                    deadline: None,
                    run_id: None,
                };
                let outcome =
                    run::undo(&wired.ports(), &loaded.config, &undone, false, request).await?;
                Ok(outcome.record.id)
            })
        })
        .await
    }

    async fn config(&self, _tenant: &TenantId) -> Result<Option<TenantConfig>, ActionError> {
        // Read each time: the operator may switch actions off while the console runs.
        let loaded = wiring::load(&self.place).map_err(action_error)?;
        Ok(Some(loaded.config))
    }

    async fn reject(&self, _tenant: &TenantId, run_id: &RunId) -> Result<(), ActionError> {
        let (place, run_id) = (self.place.clone(), run_id.clone());
        on_blocking_thread(move || {
            tokio::runtime::Handle::current().block_on(async move {
                let loaded = wiring::load(&place)?;
                let store = FolderStore::new(&loaded.state);
                run::reject(&store, &loaded.config.tenant, &run_id).await?;
                Ok(())
            })
        })
        .await
    }
}

/// The environment variable naming where `personio-sync console` is served: summary emails then
/// link to their run's report there.
pub const CONSOLE_URL_ENV: &str = "PERSONIO_SYNC_CONSOLE_URL";

/// One person's next run on this machine: read with the config's credentials, planned against
/// the state folder's snapshot.
struct LocalPreviews {
    place: Place,
}

#[async_trait::async_trait]
impl sync_console::Previews for LocalPreviews {
    async fn next_run(
        &self,
        _tenant: &TenantId,
        person: &PersonKey,
    ) -> Result<Option<PreviewRow>, ActionError> {
        let (place, person) = (self.place.clone(), person.clone());
        on_blocking_thread(move || {
            tokio::runtime::Handle::current().block_on(async move {
                let loaded = wiring::load_live(&place).await?;
                let clients = loaded.personio_clients()?;
                let snapshot = FolderStore::new(&loaded.state)
                    .snapshot(&loaded.config.tenant)
                    .await?;
                let row = preview_person(
                    &sync_adapters::as_sources(&clients),
                    &loaded.config,
                    &snapshot,
                    &person,
                    Utc::now(),
                )
                .await?;
                Ok(row)
            })
        })
        .await
    }
}

/// Where summary emails link to when [`CONSOLE_URL_ENV`] is set: that address, with the state
/// folder's console key (7-day links; a held run's may act, others view).
pub fn site_from_env(state: &std::path::Path) -> anyhow::Result<Option<ConsoleSite>> {
    let Ok(url) = std::env::var(CONSOLE_URL_ENV) else {
        return Ok(None);
    };
    let url = url.trim().trim_end_matches('/').to_owned();
    if url.is_empty() {
        return Ok(None);
    }
    sync_core::http::credential_url(&url)
        .map_err(|problem| anyhow::anyhow!("{CONSOLE_URL_ENV} `{url}` is not usable: {problem}"))?;
    let keys = sync_console::keyfile::load_or_create(&state.join(KEY_FILE))?;
    Ok(Some(ConsoleSite { url, keys }))
}
