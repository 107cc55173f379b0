//! `personio add`: adds a person to Personio (Josys's "add a user account") with the account's
//! credentials, after checking what was entered against the tenant's `[add_person]`; the next
//! run links them as usual.

use crate::{wiring, Done, Place};
use anyhow::Context;
use std::collections::BTreeMap;
use sync_core::personio::add::NewEmployee;
use sync_core::ports::Source;

/// Writes to Personio.
#[derive(clap::Subcommand)]
pub enum PersonioCommand {
    /// Add a person to Personio; the next run links them.
    Add(AddArgs),
}

/// Arguments of `personio add`.
#[derive(clap::Args)]
pub struct AddArgs {
    #[command(flatten)]
    place: Place,
    /// Their work email (required by Personio; it cannot be changed later).
    #[arg(long)]
    email: String,
    /// First name.
    #[arg(long)]
    first_name: String,
    /// Last name.
    #[arg(long)]
    last_name: String,
    /// A further attribute the tenant allows (`[add_person] attributes`), as key=value:
    /// `--set position=Designer --set hire_date=2026-12-01 --set dynamic_40010=L`.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    set: Vec<String>,
    /// The Personio account (default: the first).
    #[arg(long)]
    account: Option<String>,
}

/// Runs a `personio` command.
pub async fn dispatch(command: PersonioCommand) -> anyhow::Result<Done> {
    match command {
        PersonioCommand::Add(args) => add(args).await,
    }
}

async fn add(args: AddArgs) -> anyhow::Result<Done> {
    let loaded = wiring::load(&args.place)?;
    let config = &loaded.config;
    let mut attributes = BTreeMap::new();
    for pair in &args.set {
        let (key, value) = pair
            .split_once('=')
            .with_context(|| format!("--set {pair}: give it as key=value"))?;
        attributes.insert(key.trim().to_owned(), value.to_owned());
    }
    let employee = NewEmployee {
        email: args.email,
        first_name: args.first_name,
        last_name: args.last_name,
        attributes,
    };
    let problems = employee.problems(&config.add_person);
    if !problems.is_empty() {
        anyhow::bail!("nothing was sent to Personio: {}", problems.join("; "));
    }
    let account = match &args.account {
        Some(name) => config
            .personio
            .accounts
            .iter()
            .find(|account| account.name.as_str() == name)
            .with_context(|| {
                format!("--account {name}: the config has no such Personio account")
            })?,
        None => config
            .personio
            .accounts
            .first()
            .context("the config has no Personio account")?,
    };
    let client = loaded.personio_client(account)?;
    let id = client.add_employee(&employee).await?;
    out!(
        "added {} to Personio account {} as employee {id}; the next run links them",
        employee.email.trim(),
        account.name
    );
    Ok(Done::Ok)
}
