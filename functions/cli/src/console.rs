//! `console`: the admins' console on 127.0.0.1 against the local state folder. The first line on
//! stdout is a signed link to the tenant's overview, valid for `--days`.

use crate::wiring;
use crate::{Done, Place};
use anyhow::Context;
use chrono::Utc;
use std::sync::Arc;
use sync_core::links::{Access, Grant};
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
        access: Access::View,
        expires: Utc::now() + chrono::Duration::days(i64::from(days.max(1))),
    };
    out!("http://{address}/open?link={}", keys.link(&grant));
    eprintln!(
        "The console of {} is served on http://{address} (open the link above); Ctrl-C stops it.",
        loaded.config.tenant
    );
    let deps = sync_console::ConsoleDeps {
        store: Arc::new(FolderStore::new(&loaded.state)),
        keys,
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
