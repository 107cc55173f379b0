//! `preview` and `errors-csv`: the admin API's preview and errors.csv, locally. The preview is
//! `sync_core::preview` — the same computation `GET /tenants/{id}/preview` serves — on the
//! tenant's Personio with the CLI's credentials and the state folder's snapshot; `errors-csv`
//! writes a stored run's error list exactly as the summary email attaches it.

use crate::{commands, wiring, Done, Place};
use anyhow::Context;
use chrono::Utc;
use std::path::PathBuf;
use sync_core::ids::AccountId;
use sync_core::personio::PersonioClient;
use sync_core::ports::{Source, Store};
use sync_core::preview::{fetch_and_preview, Would};

/// Arguments of `preview`.
#[derive(clap::Args)]
pub struct PreviewArgs {
    #[command(flatten)]
    place: Place,
    /// Only people the next run would do this to: create, update, activate, deactivate, delete,
    /// nothing or skip.
    #[arg(long)]
    would: Option<String>,
    /// Print at most this many people (0: everyone).
    #[arg(long, default_value_t = 0)]
    limit: usize,
    /// One JSON object per person instead of a table (the admin API's row shape).
    #[arg(long)]
    json: bool,
}

/// Arguments of `errors-csv`.
#[derive(clap::Args)]
pub struct ErrorsCsvArgs {
    #[command(flatten)]
    place: Place,
    /// The run id, as `runs` lists it.
    run_id: String,
    /// Write the CSV to this file instead of standard output.
    #[arg(long)]
    output: Option<PathBuf>,
}

/// `preview`: who is in scope, why, and what the next run would do; writes nothing.
pub async fn preview(args: PreviewArgs) -> anyhow::Result<Done> {
    let loaded = wiring::load_live(&args.place).await?;
    let config = &loaded.config;
    let would = match args.would.as_deref() {
        Some(text) => Some(Would::parse(text).with_context(|| {
            format!("--would `{text}`: use create, update, activate, deactivate, nothing or skip")
        })?),
        None => None,
    };
    let clients: Vec<(AccountId, PersonioClient)> = loaded.personio_clients()?;
    let sources: Vec<(AccountId, &dyn Source)> = clients
        .iter()
        .map(|(account, client)| (account.clone(), client as &dyn Source))
        .collect();
    let store = sync_local::FolderStore::new(&loaded.state);
    let snapshot = store.snapshot(&config.tenant).await?;
    let preview = fetch_and_preview(&sources, config, &snapshot, Utc::now()).await?;
    let rows = preview
        .rows
        .iter()
        .filter(|row| would.is_none_or(|would| row.would == would))
        .take(if args.limit == 0 {
            usize::MAX
        } else {
            args.limit
        });
    for row in rows {
        if args.json {
            out!("{}", serde_json::to_string(row)?);
        } else {
            out!(
                "{:<10}  {:<6}  {:<14}  {:<28}  {}",
                row.would.as_str(),
                if row.in_scope { "in" } else { "out" },
                row.person.to_string(),
                row.name.as_deref().unwrap_or("-"),
                row.reason
            );
        }
    }
    let counts: Vec<String> = preview
        .counts()
        .into_iter()
        .map(|(would, count)| format!("{count} {}", would.as_str()))
        .collect();
    eprintln!(
        "{} fetched, {} in scope; the next run would: {}",
        preview.fetched,
        preview.in_scope(),
        counts.join(", ")
    );
    // Where each field would land (a SCIM app's published schemas are read for it); a
    // destination that cannot be reached does not spoil the preview of who is in scope.
    let placements = match loaded.destination().await {
        Ok(destination) => destination
            .field_placements(&config.field_targets())
            .await
            .map_err(anyhow::Error::from),
        Err(error) => Err(error),
    };
    match placements {
        Ok(placements) => {
            eprintln!("where each field goes in the app:");
            for placement in placements {
                let place = placement.place.as_deref().unwrap_or("(not sent)");
                eprintln!("  {:<18} -> {place}  ({})", placement.field, placement.why);
            }
        }
        Err(error) => eprintln!("where the fields go is unknown: {error:#}"),
    }
    Ok(Done::Ok)
}

/// `errors-csv`: a stored run's errors as CSV.
pub async fn errors_csv(args: ErrorsCsvArgs) -> anyhow::Result<Done> {
    let run = commands::stored_run(&args.place, &args.run_id).await?;
    let csv = sync_core::report::stored_run_errors_csv(&run);
    match &args.output {
        Some(path) => {
            std::fs::write(path, &csv)
                .with_context(|| format!("cannot write {}", path.display()))?;
            eprintln!(
                "{} error(s) of run {} written to {}",
                run.errors.len(),
                run.id,
                path.display()
            );
        }
        None => {
            use std::io::Write as _;
            // A closed stdout (`| head`) is not an error.
            let _ = std::io::stdout().write_all(&csv);
        }
    }
    Ok(Done::Ok)
}
