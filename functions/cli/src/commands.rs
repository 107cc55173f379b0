//! The run, history and config commands.

use crate::output;
use crate::wiring::{self, Wired};
use crate::{Done, Place};
use anyhow::Context;
use chrono::{DateTime, Utc};
use std::collections::BTreeSet;
use sync_core::history::{RunRecord, RunStatus, Trigger};
use sync_core::ids::{AccountId, PersonKey, PersonioId, RunId};
use sync_core::ports::{Source, Store};
use sync_core::rehire::{self, RehireDecision};
use sync_core::run::{self, RunRequest, RunTarget};

fn parse_now(now: Option<&str>) -> anyhow::Result<DateTime<Utc>> {
    match now {
        None => Ok(Utc::now()),
        Some(text) => DateTime::parse_from_rfc3339(text)
            .map(|now| now.with_timezone(&Utc))
            .with_context(|| {
                format!("--now `{text}` is not an RFC 3339 time like 2026-11-23T08:00:00Z")
            }),
    }
}

/// `run`.
pub async fn run(
    place: &Place,
    dry_run: bool,
    scheduled: bool,
    person: Option<&str>,
    account: Option<&str>,
    now: Option<&str>,
) -> anyhow::Result<Done> {
    let loaded = wiring::load_live(place).await?;
    let now = parse_now(now)?;
    let target = match person {
        None => RunTarget::Everyone,
        Some(id) => {
            let account = match account {
                Some(name) => AccountId::parse(name)?,
                None => loaded.config.personio.accounts[0].name.clone(),
            };
            RunTarget::Person(PersonKey::new(account, PersonioId::parse(id)?))
        }
    };
    let wired = Wired::new(&loaded).await?;
    let request = RunRequest {
        target,
        dry_run,
        trigger: if scheduled {
            Trigger::Schedule
        } else {
            Trigger::Manual
        },
        now,
        deadline: None,
        run_id: None,
    };
    let outcome = run::run(&wired.ports(), &loaded.config, request).await;
    wired.bar().clear();
    let outcome = outcome?;
    output::print_run(&outcome.record, Some(&outcome.plan), dry_run);
    Ok(if outcome.record.status == RunStatus::Held {
        Done::Held
    } else {
        Done::Ok
    })
}

/// `runs`.
pub async fn runs(place: &Place, limit: usize) -> anyhow::Result<Done> {
    let loaded = wiring::load(place)?;
    let store = sync_local::FolderStore::new(&loaded.state);
    let runs = store.runs(&loaded.config.tenant, limit).await?;
    if runs.is_empty() {
        out!("no runs yet for tenant {}", loaded.config.tenant);
    }
    for run in runs {
        let kind = if run.dry_run {
            "dry run".to_owned()
        } else {
            format!("{:?}", run.trigger).to_lowercase()
        };
        out!(
            "{}  {:<9}  {:<18}  fetched {:>6}  {}",
            run.id,
            run.status.as_str(),
            kind.split_whitespace().next().unwrap_or(""),
            run.fetched,
            output::counts(&run)
        );
    }
    Ok(Done::Ok)
}

/// `show-run`.
pub async fn show_run(place: &Place, run_id: &str) -> anyhow::Result<Done> {
    let run = stored_run(place, run_id).await?;
    output::print_run(&run, None, true);
    Ok(Done::Ok)
}

/// Run `run_id` of the tenant configured at `place`, from its state folder; an error that says
/// how to list the runs when there is no such run.
pub(crate) async fn stored_run(place: &Place, run_id: &str) -> anyhow::Result<RunRecord> {
    let loaded = wiring::load(place)?;
    let run_id = RunId::parse(run_id)?;
    let store = sync_local::FolderStore::new(&loaded.state);
    store
        .run(&loaded.config.tenant, &run_id)
        .await?
        .with_context(|| {
            format!(
                "tenant {} has no run {run_id}; `personio-sync runs` lists them",
                loaded.config.tenant
            )
        })
}

/// `approve`.
pub async fn approve(place: &Place, run_id: &str, now: Option<&str>) -> anyhow::Result<Done> {
    let loaded = wiring::load(place)?;
    let run_id = RunId::parse(run_id)?;
    let wired = Wired::new(&loaded).await?;
    let outcome = run::approve(&wired.ports(), &loaded.config, &run_id, parse_now(now)?).await;
    wired.bar().clear();
    let outcome = outcome?;
    out!(
        "approved run {run_id}; applied it as run {}",
        outcome.record.id
    );
    output::print_run(&outcome.record, None, false);
    Ok(Done::Ok)
}

/// `undo`.
pub async fn undo(
    place: &Place,
    run_id: &str,
    dry_run: bool,
    only_unchanged: bool,
    now: Option<&str>,
) -> anyhow::Result<Done> {
    let loaded = wiring::load_live(place).await?;
    let undone = RunId::parse(run_id)?;
    let wired = Wired::new(&loaded).await?;
    let request = RunRequest {
        target: RunTarget::Everyone,
        dry_run,
        trigger: Trigger::Undo {
            run: undone.clone(),
            only_unchanged,
        },
        now: parse_now(now)?,
        deadline: None,
        run_id: None,
    };
    let outcome = run::undo(
        &wired.ports(),
        &loaded.config,
        &undone,
        only_unchanged,
        request,
    )
    .await;
    wired.bar().clear();
    let outcome = outcome?;
    output::print_run(&outcome.record, Some(&outcome.plan), dry_run);
    Ok(if outcome.record.status == RunStatus::Held {
        Done::Held
    } else {
        Done::Ok
    })
}

/// `reject`.
pub async fn reject(place: &Place, run_id: &str) -> anyhow::Result<Done> {
    let loaded = wiring::load(place)?;
    let run_id = RunId::parse(run_id)?;
    let wired = Wired::new(&loaded).await?;
    let record = run::reject(wired.ports().store, &loaded.config.tenant, &run_id).await?;
    out!("rejected run {}; nothing was written", record.id);
    Ok(Done::Ok)
}

/// `rehire`.
pub async fn rehire(
    place: &Place,
    person: &str,
    previous: &str,
    relink: bool,
) -> anyhow::Result<Done> {
    let loaded = wiring::load(place)?;
    let key = |text: &str, flag: &str| {
        PersonKey::from_external_id(text).ok_or_else(|| {
            anyhow::anyhow!(
                "{flag} `{text}`: give the Personio profile as account:id, like main:2001"
            )
        })
    };
    let (person, previous) = (key(person, "--person")?, key(previous, "--previous")?);
    let decision = if relink {
        RehireDecision::Relink
    } else {
        RehireDecision::CreateNew
    };
    let wired = Wired::new(&loaded).await?;
    let user = rehire::decide(
        wired.ports().store,
        &loaded.config.tenant,
        &person,
        &previous,
        decision,
    )
    .await?;
    match decision {
        RehireDecision::Relink => out!(
            "{person} takes over user {user} of departed profile {previous}; the next run writes it"
        ),
        RehireDecision::CreateNew => out!(
            "{person} gets a user of its own (user {user} stays with {previous}); the next run creates it"
        ),
    }
    Ok(Done::Ok)
}

/// `check-config`.
pub async fn check_config(place: &Place, online: bool) -> anyhow::Result<Done> {
    let loaded = wiring::load_live(place).await?;
    let config = &loaded.config;
    out!(
        "{}: tenant {} is valid",
        place.config.display(),
        config.tenant
    );
    let fields = config.mapping.effective_fields();
    for rule in &fields {
        let source = rule
            .source
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_else(|| "(constant)".into());
        let flags: Vec<&str> = [
            (rule.required, "required"),
            (rule.create_only, "create-only"),
            (rule.sensitive, "sensitive"),
        ]
        .into_iter()
        .filter_map(|(on, name)| on.then_some(name))
        .collect();
        out!("  {:<18} <- {source} {}", rule.target, flags.join(" "));
    }
    if let sync_core::config::DestinationConfig::Scim {
        attribute_paths, ..
    } = &config.destination
    {
        let targets = fields.iter().map(|rule| rule.target.as_str());
        let homeless = sync_scim::fields_without_scim_home(targets, attribute_paths)?;
        if !homeless.is_empty() && !online {
            out!("  no standard SCIM attribute (sent where the app publishes a matching attribute; --online shows where): {}", homeless.join(", "));
        }
    }
    if !online {
        return Ok(Done::Ok);
    }
    for account in &config.personio.accounts {
        let client = loaded.personio_client(account)?;
        client.verify_credentials().await?;
        let attributes = client.attributes().await?;
        let readable: BTreeSet<String> = attributes.iter().map(|a| a.key.clone()).collect();
        let labels: Vec<String> = fields
            .iter()
            .filter_map(|rule| rule.source.as_ref())
            .chain(config.scope.rules.iter().map(|rule| &rule.attribute))
            .filter(|source| matches!(source, sync_core::mapping::SourceRef::Label(_)))
            .map(ToString::to_string)
            .collect::<BTreeSet<String>>()
            .into_iter()
            .collect();
        let wanted: Vec<&str> = labels.iter().map(String::as_str).collect();
        let resolved =
            sync_core::personio::labels::resolve(account.name.as_str(), &wanted, &attributes)?;
        for (label, key) in &resolved {
            out!("  account {}: {label} is attribute {key}", account.name);
        }
        let mut missing = Vec::new();
        for rule in &fields {
            if let Some(sync_core::mapping::SourceRef::Key(key)) = &rule.source {
                if key != "id" && !readable.contains(key) {
                    missing.push(key.clone());
                }
            }
        }
        if config.write_back.attribute.is_some() {
            let answer = if client.may_write().await? {
                "yes"
            } else {
                "NO: allow 'Write' for Employees on the API credential in Personio"
            };
            out!(
                "  account {}: write access for write-back and `personio add`: {answer}",
                account.name
            );
        }
        if missing.is_empty() {
            out!(
                "  account {}: credentials work; every mapped attribute is readable",
                account.name
            );
        } else {
            anyhow::bail!(
                "account {}: Personio does not return {} for this credential; whitelist them under the API credential's readable attributes",
                account.name,
                missing.join(", ")
            );
        }
    }
    print_placements(&loaded).await?;
    Ok(Done::Ok)
}

/// Where each field lands in the app, and why (after reading what a SCIM app publishes).
async fn print_placements(loaded: &wiring::Loaded) -> anyhow::Result<()> {
    let destination = loaded.destination().await?;
    out!("  where each field goes in the app:");
    let targets = loaded.config.field_targets();
    for placement in destination.field_placements(&targets).await? {
        let place = placement.place.as_deref().unwrap_or("(not sent)");
        out!(
            "    {:<18} -> {place}  ({})",
            placement.field,
            placement.why
        );
    }
    Ok(())
}
